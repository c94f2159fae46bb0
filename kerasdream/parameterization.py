"""How a Dense kernel row becomes an image with pixel values in [0, 255].

Each parameterization is a Keras layer placed after `Dense -> Reshape(raw_shape)`:
- `Pixels`: one value a pixel, squashed by a sigmoid (the seed's method);
- `Fourier`: a 2-D spectrum with 1/f scaling and decorrelated colour, turned
  into pixels by an inverse FFT (as in Lucid), which favours natural,
  low-frequency images and helps networks whose ReLUs block a grey start;
- `BoundedPixels`: the pre-images paper's bounded range: pixels around a
  centre whose RGB norm is clamped at `bound` (B+ = 160 by default).

`inverse` maps images back to raw values, so a dream can start from a photo.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasdream.errors import DreamError

# Lucid's square root of the ImageNet colour correlation matrix.
COLOR_CORRELATION_SVD_SQRT = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype="float32"
)
COLOR_MIX = COLOR_CORRELATION_SVD_SQRT / np.max(
    np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0)
)
_EPS = 1e-4


class Parameterization(keras.layers.Layer):
    """Base class: raw kernel values of `raw_shape` -> images in [0, 255]."""

    init_stddev = 0.01

    def __init__(self, image_shape, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)

    @property
    def raw_shape(self) -> tuple[int, ...]:
        return self.image_shape

    @property
    def raw_size(self) -> int:
        return int(np.prod(self.raw_shape))

    def inverse(self, images: np.ndarray) -> np.ndarray:
        """Raw values (N, raw_size) whose image is `images` (N, H, W, C)."""
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.image_shape)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape)}


@keras.saving.register_keras_serializable(package="kerasdream")
class Pixels(Parameterization):
    """`255 * sigmoid(raw)`: every pixel a free value, bounded by the squash."""

    def call(self, raw):
        return 255.0 * ops.sigmoid(raw)

    def inverse(self, images):
        p = np.clip(np.asarray(images, "float64") / 255.0, _EPS, 1 - _EPS)
        return np.log(p / (1 - p)).reshape(len(images), -1).astype("float32")


@keras.saving.register_keras_serializable(package="kerasdream")
class BoundedPixels(Parameterization):
    """Pixels `centre + bound_scale * raw`, each pixel's RGB norm clamped at `bound`.

    The pre-images paper works on a mean-subtracted image and keeps every
    pixel's colour vector inside a ball of radius B+ = 160.
    """

    init_stddev = 80.0 / np.sqrt(3.0) / 1.645 / 80.0  # paper: 95th pct = B/sqrt(3)

    def __init__(self, image_shape, bound=160.0, center=127.5, scale=80.0, **kwargs):
        super().__init__(image_shape, **kwargs)
        self.bound, self.center, self.scale = float(bound), float(center), float(scale)

    def call(self, raw):
        offset = self.scale * raw
        norm = ops.sqrt(ops.sum(ops.square(offset), axis=-1, keepdims=True) + 1e-12)
        clamped = offset * ops.minimum(1.0, self.bound / norm)
        return ops.clip(self.center + clamped, 0.0, 255.0)

    def inverse(self, images):
        offset = np.asarray(images, "float32") - self.center
        return (offset / self.scale).reshape(len(images), -1)

    def get_config(self):
        return {**super().get_config(), "bound": self.bound, "center": self.center,
                "scale": self.scale}


@keras.saving.register_keras_serializable(package="kerasdream")
class Fourier(Parameterization):
    """A spectrum (real, imaginary) per channel, 1/f^decay scaled, decorrelated colour.

    Raw shape `(2, C, H, W)`. The spectrum scale is normalized so that raw
    values of unit variance give pre-sigmoid pixels of unit variance.
    """

    def __init__(self, image_shape, decay=1.0, decorrelate=True, **kwargs):
        super().__init__(image_shape, **kwargs)
        self.decay = float(decay)
        self.decorrelate = bool(decorrelate) and self.image_shape[-1] == 3
        height, width, _ = self.image_shape
        fy = np.fft.fftfreq(height)[:, None]
        fx = np.fft.fftfreq(width)[None, :]
        freqs = np.sqrt(fx * fx + fy * fy)
        scale = 1.0 / np.maximum(freqs, 1.0 / max(height, width)) ** self.decay
        scale *= height * width / np.sqrt(np.sum(scale**2))
        self.spectrum_scale = scale.astype("float32")

    @property
    def raw_shape(self):
        height, width, channels = self.image_shape
        return (2, channels, height, width)

    def call(self, raw):
        scale = ops.convert_to_tensor(self.spectrum_scale)
        real, _ = ops.ifft2((raw[:, 0] * scale, raw[:, 1] * scale))  # (N, C, H, W)
        logits = ops.transpose(real, (0, 2, 3, 1))
        if self.decorrelate:
            logits = ops.matmul(logits, ops.convert_to_tensor(COLOR_MIX.T))
        return 255.0 * ops.sigmoid(logits)

    def inverse(self, images):
        p = np.clip(np.asarray(images, "float64") / 255.0, _EPS, 1 - _EPS)
        logits = np.log(p / (1 - p))
        if self.decorrelate:
            logits = logits @ np.linalg.inv(COLOR_MIX.T.astype("float64"))
        spectrum = np.fft.fft2(np.transpose(logits, (0, 3, 1, 2))) / self.spectrum_scale
        raw = np.stack([spectrum.real, spectrum.imag], axis=1)
        return raw.reshape(len(images), -1).astype("float32")

    def get_config(self):
        return {**super().get_config(), "decay": self.decay, "decorrelate": self.decorrelate}


PARAMETERIZATIONS = {"pixels": Pixels, "fourier": Fourier, "bounded": BoundedPixels}


def get(identifier, image_shape) -> Parameterization:
    """A parameterization layer from a name, a config dict or an instance."""
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


import kerasdream.maco  # noqa: E402,F401  (registers "maco": MACO lives in its own module)
