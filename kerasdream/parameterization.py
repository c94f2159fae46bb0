"""How a Dense kernel row becomes an image with pixel values in [0, 255].

Each parameterization is a Keras layer placed after `Dense -> Reshape(raw_shape)`:
- `Pixels`: one value a pixel, squashed by a sigmoid (the seed's method);
- `Fourier`: a 2-D spectrum with 1/f scaling and decorrelated colour, turned
  into pixels by the real part of an inverse DFT (as in Lucid), which favours
  natural, low-frequency images and helps networks whose ReLUs block a grey
  start. Up to `MATMUL_DFT_MAX_SIDE` pixels a side the DFT is two small
  matrix products (`inverse_dft_matrices`), which run on the network's fast
  matmul kernels where TensorFlow's CPU FFT is slow (2x at 128 px, 1.25x at
  64 px, measured here); larger images take the FFT, whose cost grows more
  slowly (at 224 px it was 1.16x faster than the matrices);
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
MATMUL_DFT_MAX_SIDE = 160


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


def inverse_dft_matrices(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """`(left, right)` with `real(ifft2(A + iB)) = einsum(left, einsum([A, B], right))`.

    With Z = (A + iB) F_x (the inverse DFT along the width, F_x = C_x + i S_x),
    `right[k, v, j, x]` maps the stacked (A, B) to the stacked (Re Z, Im Z):
    Re Z = A C_x - B S_x and Im Z = A S_x + B C_x. `left[y, j, u]` then takes
    the real part of the inverse DFT along the height, C_y Re Z - S_y Im Z.
    The 1 / (height * width) of the inverse transform is in the matrices.
    Computed in float64, stored as float32.
    """
    def cos_sin(n):
        angle = 2.0 * np.pi * np.outer(np.arange(n), np.arange(n)) / n
        return np.cos(angle) / n, np.sin(angle) / n

    cos_x, sin_x = cos_sin(width)
    cos_y, sin_y = cos_sin(height)
    right = np.stack([np.stack([cos_x, sin_x], axis=1),
                      np.stack([-sin_x, cos_x], axis=1)])  # (2, W, 2, W): k, v, j, x
    left = np.stack([cos_y, -sin_y], axis=1)  # (H, 2, H): y, j, u
    return left.astype("float32"), right.astype("float32")


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
        self._matmul = max(height, width) <= MATMUL_DFT_MAX_SIDE
        self._left, self._right = (inverse_dft_matrices(height, width) if self._matmul
                                   else (None, None))

    @property
    def raw_shape(self):
        height, width, channels = self.image_shape
        return (2, channels, height, width)

    def call(self, raw):
        spectrum = raw * ops.convert_to_tensor(self.spectrum_scale)  # (N, 2, C, H, W)
        if self._matmul:
            rows = ops.einsum("nkcuv,kvjx->ncujx", spectrum, ops.convert_to_tensor(self._right))
            logits = ops.einsum("yju,ncujx->nyxc", ops.convert_to_tensor(self._left), rows)
        else:
            real, _ = ops.ifft2((spectrum[:, 0], spectrum[:, 1]))  # (N, C, H, W)
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
