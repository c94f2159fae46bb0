"""What a dream maximizes: terms that compose with `+`, `-`, `*`, photo terms, directions, priors.

Modules: `base` (Objective, Term, composition, target tables), `terms`
(channel, neuron, class, rivals, deep dream, diversity), `photo` (inversion,
caricature, distance), `directions`, `priors`. Each class registers itself with
`keras.saving` where it is defined; importing this package imports them all.
"""

from __future__ import annotations

import keras

from kerasdream.errors import DreamError
from kerasdream.objectives.base import IMAGE, PRE, Objective, Term
from kerasdream.objectives.directions import Direction, NeuronDirection, mean_direction
from kerasdream.objectives.photo import Caricature, Distance, Inversion
from kerasdream.objectives.priors import AlphaNorm, TotalVariation
from kerasdream.objectives.terms import (  # noqa: F401
    Channel,
    ClassLogit,
    DeepDream,
    Diversity,
    Neuron,
    Rivals,
    gallery_objective,
)


def get(identifier) -> Objective:
    """An objective from an instance or a serialized config.

    Args:
        identifier: an `Objective`, or one serialized with
            `keras.saving.serialize_keras_object`.

    Returns:
        The objective (an instance is returned as it is).

    Raises:
        DreamError: if `identifier` is neither.
    """
    if isinstance(identifier, Objective):
        return identifier
    if isinstance(identifier, dict):
        objective = keras.saving.deserialize_keras_object(identifier)
        if isinstance(objective, Objective):
            return objective
    raise DreamError(
        "Expected an objective such as Channel('conv_pw_8_relu', 7). "
        f"Received: objective={identifier!r}"
    )


__all__ = [
    "IMAGE", "PRE", "AlphaNorm", "Caricature", "Channel", "ClassLogit", "DeepDream", "Direction",
    "Distance", "Diversity", "Inversion", "Neuron", "NeuronDirection", "Objective", "Rivals",
    "Term", "TotalVariation", "get", "mean_direction",
]
