"""The base class of parameterizations: raw kernel values -> images in [0, 255]."""

from __future__ import annotations

import keras
import numpy as np

# Pixel fractions are clipped to [EPSILON, 1 - EPSILON] before a logit, so an
# image's black and white pixels map back to finite raw values.
EPSILON = 1e-4


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
