"""How a kernel row becomes an image: pixels, Fourier with decorrelated colour, bounded, MACO.

The registry of parameterizations by name lives here and is filled from the
modules that define them, which never import this package back.
"""

from __future__ import annotations

import keras

from kerasdream.errors import DreamError
from kerasdream.param.base import Parameterization
from kerasdream.param.fourier import Fourier
from kerasdream.param.maco import Maco
from kerasdream.param.pixels import BoundedPixels, Pixels

PARAMETERIZATIONS: dict[str, type[Parameterization]] = {
    "pixels": Pixels, "fourier": Fourier, "bounded": BoundedPixels, "maco": Maco,
}


def get(identifier, image_shape) -> Parameterization:
    """A parameterization layer from a name, a config dict or an instance.

    Args:
        identifier: a name from `PARAMETERIZATIONS`, a serialized layer
            (`keras.saving.serialize_keras_object`) or a `Parameterization`.
        image_shape: (height, width, channels) of the images, for a name.

    Returns:
        The parameterization layer (an instance is returned as it is).

    Raises:
        DreamError: for an unknown name.
    """
    if isinstance(identifier, Parameterization):
        return identifier
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    if identifier not in PARAMETERIZATIONS:
        raise DreamError(
            f"Unknown parameterization. Expected one of {sorted(PARAMETERIZATIONS)}. "
            f"Received: parameterization={identifier!r}"
        )
    return PARAMETERIZATIONS[identifier](image_shape)


__all__ = ["BoundedPixels", "Fourier", "Maco", "PARAMETERIZATIONS", "Parameterization", "Pixels",
           "get"]
