"""Pixels as raw values: squashed by a sigmoid (the seed's method) or bounded.

- `Pixels`: one value a pixel, `255 * sigmoid(raw)`;
- `BoundedPixels`: the pre-images paper's bounded range: pixels around a
  centre whose RGB norm is clamped at `bound` (B+ = 160 by default).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasdream.param.base import EPSILON, Parameterization


@keras.saving.register_keras_serializable(package="kerasdream")
class Pixels(Parameterization):
    """`255 * sigmoid(raw)`: every pixel a free value, bounded by the squash."""

    def call(self, raw):
        return 255.0 * ops.sigmoid(raw)

    def inverse(self, images):
        p = np.clip(np.asarray(images, "float64") / 255.0, EPSILON, 1 - EPSILON)
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
