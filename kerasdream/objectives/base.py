"""Objectives and terms: what a dream maximizes, composed with `+`, `-`, `*`.

Every objective gives one value per dream (per kernel row) to *maximize*.
Targets such as a channel index are either one number shared by all dreams
or a list with one entry per dream, so one model trains many filters at once.
Sums, differences and scalar multiples are `Objective`s too. A `Term` reads
one feature; per-dream targets become tables (`Objective.target_tables`) that
a `DreamModel` keeps in non-trainable variables, and `local_rows` picks the
rows a replica holds.

A layer name ending in `":pre"` (`PRE`) reads the layer before its activation.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from kerasdream.errors import DreamError
from kerasdream.network.activations import PRE  # noqa: F401  (public: kerasdream.objectives.PRE)

IMAGE = "image"  # feature key of the dream image itself (0..255), for priors


class Objective:
    """A weighted sum of terms; `value(features)` gives one number per dream.

    Objectives compose with `+`, `-`, `*` and `/` by a number; every term
    (`Channel`, `Rivals`, `AlphaNorm`, ...) is an `Objective` of one term.

    Args:
        terms: `(weight, term)` pairs.

    Raises:
        DreamError: when a weight is not a finite number.

    Example:
        ```python
        layer = "conv_pw_7_relu:pre"
        objective = kd.Channel(layer, 3) - 2 * kd.Rivals(layer, 3) - 0.1 * kd.TotalVariation()
        objective.keys  # the features it reads: ['conv_pw_7_relu:pre', 'image']
        ```
    """

    def __init__(self, terms: Sequence[tuple[float, Term]]):
        self.terms = [(float(weight), term) for weight, term in terms]

    # -- algebra ----------------------------------------------------------
    def __add__(self, other: Objective) -> Objective:
        if not isinstance(other, Objective):
            return NotImplemented
        return Objective(self.terms + other.terms)

    def __sub__(self, other: Objective) -> Objective:
        if not isinstance(other, Objective):
            return NotImplemented
        return self + (-1.0) * other

    def __mul__(self, scalar: float) -> Objective:
        if not isinstance(scalar, numbers.Real):
            return NotImplemented
        if not np.isfinite(scalar):
            raise DreamError(f"An objective's weight must be a finite number. "
                             f"Received: weight={scalar!r}")
        return Objective([(weight * scalar, term) for weight, term in self.terms])

    __rmul__ = __mul__

    def __truediv__(self, scalar: float) -> Objective:
        return self * (1.0 / scalar)

    def __neg__(self) -> Objective:
        return (-1.0) * self

    def __repr__(self) -> str:
        parts = []
        for index, (weight, term) in enumerate(self.terms):
            sign = "-" if weight < 0 else "+"
            text = repr(term) if abs(weight) == 1 else f"{abs(weight):g} * {term!r}"
            if index == 0:
                parts.append(text if weight >= 0 else f"-{text}")
            else:
                parts.append(f"{sign} {text}")
        return " ".join(parts)

    # -- structure --------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        """The features this objective reads, in first-use order."""
        return list(dict.fromkeys(key for _, term in self.terms for key in term.reads()))

    @property
    def num_rows(self) -> int:
        """How many dreams the per-dream targets ask for (1 when all are shared)."""
        counts = {term.num_rows for _, term in self.terms} - {1}
        if len(counts) > 1:
            raise DreamError(
                f"Objective terms ask for different numbers of dreams: {sorted(counts)}. "
                f"Give every per-dream list the same length. Received: {self!r}"
            )
        return counts.pop() if counts else 1

    def select(self, rows: Sequence[int]) -> Objective:
        """The objective of a subset of dreams (per-dream targets sliced)."""
        return Objective([(w, t.select(rows)) for w, t in self.terms])

    def check(self, shapes: dict) -> None:
        """Raise a clear `DreamError` if a target does not fit the feature `shapes`."""
        for _, term in self.terms:
            term.check(shapes)

    def target_tables(self, features_of: Callable[[np.ndarray], dict], shapes: dict,
                      num_dreams: int) -> list[np.ndarray | None]:
        """Each term's per-dream target table, `(num_dreams, ...)`, or None.

        The dream model keeps these in non-trainable variables, so a new set
        of filters is an `assign`, not a new model.
        """
        self.check(shapes)
        tables = []
        for _, term in self.terms:
            table = term.target_table(features_of, shapes)
            if table is not None:
                table = np.broadcast_to(table, (num_dreams, *table.shape[1:])).astype("float32")
            tables.append(table)
        return tables

    def signature(self) -> list:
        """What the traced maths depends on: weights, term kinds and their
        settings, but not their targets. Objectives with equal signatures can
        share one dream model."""
        return [(weight, type(term).__name__, term.settings()) for weight, term in self.terms]

    def initial_images(self) -> np.ndarray | None:
        """Images the dreams should start from (a caricature's photo), if any."""
        for _, term in self.terms:
            images = term.initial_images()
            if images is not None:
                return images
        return None

    # -- maths --------------------------------------------------------------
    def value(self, features: dict, targets: Sequence | None = None) -> Any:
        """One value per dream, shape (N,): the weighted sum of the terms.

        `targets` holds one tensor (or None) per term, as `target_tables` made them.
        """
        targets = targets if targets is not None else [None] * len(self.terms)
        total = 0.0
        for (weight, term), target in zip(self.terms, targets):
            total = total + weight * term.evaluate(features, target)
        return total

    # -- serialization ----------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {
            "terms": [
                [weight, keras.saving.serialize_keras_object(term)]
                for weight, term in self.terms
            ]
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Objective:
        terms = [
            (weight, keras.saving.deserialize_keras_object(term))
            for weight, term in config["terms"]
        ]
        return cls(terms)


keras.saving.register_keras_serializable(package="kerasdream")(Objective)


class Term(Objective):
    """One objective on one feature; subclasses define `__call__(x, target) -> (N,)`."""

    target_fields: tuple[str, ...] = ()  # config fields that are per-dream targets

    def __init__(self, layer: str | None):
        super().__init__([(1.0, self)])
        self.layer = layer

    @property
    def key(self) -> str:
        return self.layer

    @property
    def num_rows(self) -> int:
        return 1

    def select(self, rows: Sequence[int]) -> Term:
        return self

    def check(self, shapes) -> None:
        pass

    def target_table(self, features_of, shapes) -> np.ndarray | None:
        """This term's targets as an array `(1 or N, ...)`, or None if it has none."""
        return None

    def settings(self) -> dict[str, Any]:
        """The config without the per-dream targets."""
        return {k: v for k, v in self.get_config().items() if k not in self.target_fields}

    def initial_images(self):
        return None

    def reads(self) -> list[str]:
        """The feature keys `evaluate` needs; a term that reads several layers
        overrides this and `evaluate`."""
        return [self.key]

    def evaluate(self, features: dict, target=None):
        """The term's value from the dream model's features (a dict by key)."""
        return self(features[self.key], target)

    def __call__(self, x, target=None):
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {"layer": self.layer}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(repr(v) for v in self.get_config().values())
        return f"{type(self).__name__}({args})"


def local_rows(table, x):
    """The rows of a per-dream `table` (N, ...) that the batch `x` holds.

    On one device `x` holds all N dreams. Under a `tf.distribute` strategy
    each replica holds an equal, consecutive slice of the one-hot batch, so
    replica r's rows start at `r * local_batch`.
    """
    if table.shape[0] == 1:
        return table
    local = ops.shape(x)[0]
    offset = _replica_id() * local
    start = [offset] + [0] * (len(table.shape) - 1)
    return ops.slice(table, start, [local, *table.shape[1:]])


def _replica_id():
    if keras.backend.backend() != "tensorflow":
        return 0
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return 0
    return context.replica_id_in_sync_group


def needs_channels(term: Term, shapes, rank: int = 4) -> None:
    shape = shapes[term.key]
    if len(shape) != rank:
        raise DreamError(
            f"{type(term).__name__} needs a layer with (batch, height, width, channels) "
            f"output, but layer {term.layer!r} gives {tuple(shape)}. "
            f"Received: layer_name={term.layer!r}"
        )
