"""Random jitter, scale and rotation, applied while training only.

Robustness to small transforms keeps dreams from exploiting pixel-exact
patterns (the pre-images paper jitters; Lucid pads, jitters, scales and
rotates). Each step draws ONE transform for the whole batch from the layer's
seed, so row i of an N-dream run sees exactly what a one-dream run sees:
batching stays equivalent to training the dreams one at a time.

Like Keras' own random layers, a transform's `seed` defaults to None. A
`DreamModel` then gives it one derived from the run's seed and the
transform's position (`derived_seed`), so `[Jitter(), Scale(), Rotate()]`
draw independent values and the same run seed gives the same pictures.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from kerasdream.errors import DreamError


def derived_seed(run_seed: int, position: int) -> int:
    """The seed of the transform at `position` in a run seeded `run_seed`."""
    return int(np.random.default_rng([int(run_seed), int(position), 0x7A]).integers(2**31 - 1))


class _RandomTransform(keras.layers.Layer):
    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._initial_state = keras.ops.convert_to_numpy(self.seed_generator.state.value)

    def reset_seed(self) -> None:
        """Start the random stream again, as if freshly built with its seed."""
        self.seed_generator.state.assign(self._initial_state)

    def advance_seed(self, steps: int) -> None:
        """The random stream as after `steps` training steps (one draw each)."""
        self.seed_generator.state.assign(self._initial_state + np.array([0, int(steps)]))

    def call(self, images, training=None):
        if not training:
            return images
        return self.transform(images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="kerasdream")
class Jitter(_RandomTransform):
    """Shift the image by up to `max_shift` pixels each way (reflected border)."""

    def __init__(self, max_shift: int = 1, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        if int(max_shift) < 0:
            raise DreamError(f"Jitter must be 0 or more pixels. Received: max_shift={max_shift}")
        self.max_shift = int(max_shift)

    def build(self, input_shape):
        # A reflected border needs more pixels than the shift (else TF fails in fit).
        sides = [d for d in input_shape[1:3] if d is not None]
        if self.max_shift and sides and min(sides) <= self.max_shift:
            raise DreamError(
                f"Jitter of {self.max_shift} pixels needs images larger than that; "
                f"use a smaller max_shift or a larger size. Received: image of shape "
                f"{tuple(input_shape[1:])}"
            )
        super().build(input_shape)

    def transform(self, images):
        s = self.max_shift
        if s == 0:
            return images
        padded = ops.pad(images, [[0, 0], [s, s], [s, s], [0, 0]], mode="reflect")
        dy, dx = ops.unstack(
            keras.random.randint((2,), 0, 2 * s + 1, seed=self.seed_generator), 2
        )
        shape = ops.shape(images)
        return ops.slice(padded, [0, dy, dx, 0], shape)

    def get_config(self):
        return {**super().get_config(), "max_shift": self.max_shift}


@keras.saving.register_keras_serializable(package="kerasdream")
class Pad(keras.layers.Layer):
    """Pad the image by `pixels` on every side with a constant `value` (Lucid's
    first transform: the borders stop being special once jitter moves them)."""

    def __init__(self, pixels: int = 12, value: float = 127.5, **kwargs):
        super().__init__(**kwargs)
        if int(pixels) < 0:
            raise DreamError(f"Padding must be 0 or more pixels. Received: pixels={pixels}")
        self.pixels, self.value = int(pixels), float(value)

    def call(self, images, training=None):
        if not training or not self.pixels:
            return images
        p = self.pixels
        return ops.pad(images, [[0, 0], [p, p], [p, p], [0, 0]], constant_values=self.value)

    def compute_output_shape(self, input_shape):
        grow = lambda d: None if d is None else d + 2 * self.pixels  # noqa: E731
        return (input_shape[0], grow(input_shape[1]), grow(input_shape[2]), input_shape[3])

    def get_config(self):
        return {**super().get_config(), "pixels": self.pixels, "value": self.value}


def _affine(images, angle, scale):
    """Rotate by `angle` (radians) and zoom by `scale` about the image centre."""
    height, width = images.shape[1], images.shape[2]
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
    cos, sin = ops.cos(angle) / scale, ops.sin(angle) / scale
    # Output pixel (x, y) samples input (a0 x + a1 y + a2, b0 x + b1 y + b2).
    transform = ops.stack([
        cos, -sin, cx - cos * cx + sin * cy,
        sin, cos, cy - sin * cx - cos * cy,
        ops.zeros_like(cos), ops.zeros_like(cos),
    ])
    # One (N, 8) row per image: TensorFlow broadcasts a single (8,) transform,
    # the JAX and PyTorch backends reshape it to the batch size and fail. A
    # copy (tile), not a view: PyTorch's affine_transform writes into it.
    transform = ops.tile(transform[None, :], [ops.shape(images)[0], 1])
    return ops.image.affine_transform(
        images, transform, interpolation="bilinear", fill_mode="reflect"
    )


class _AffineTransform(_RandomTransform):
    """A transform through `ops.image.affine_transform`.

    TensorFlow's op for it (ImageProjectiveTransformV3) has no XLA kernel,
    so on that backend the layer says it cannot be compiled, as Keras' own
    RandomRotation does: `jit_compile="auto"` then leaves XLA off on a GPU
    instead of failing there. JAX's version is plain jnp code and compiles.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        if keras.backend.backend() == "tensorflow":
            self.supports_jit = False


@keras.saving.register_keras_serializable(package="kerasdream")
class Scale(_AffineTransform):
    """Zoom by a random factor in `[1 - max_change, 1 + max_change]`."""

    def __init__(self, max_change: float = 0.05, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        if not 0.0 <= float(max_change) < 1.0:
            raise DreamError(f"Scale change must be in [0, 1). Received: max_change={max_change}")
        self.max_change = float(max_change)

    def transform(self, images):
        scale = keras.random.uniform(
            (), 1.0 - self.max_change, 1.0 + self.max_change, seed=self.seed_generator
        )
        return _affine(images, ops.zeros_like(scale), scale)

    def get_config(self):
        return {**super().get_config(), "max_change": self.max_change}


@keras.saving.register_keras_serializable(package="kerasdream")
class Rotate(_AffineTransform):
    """Rotate by a random angle in `[-max_degrees, max_degrees]`."""

    def __init__(self, max_degrees: float = 5.0, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        self.max_degrees = float(max_degrees)

    def transform(self, images):
        limit = math.radians(self.max_degrees)
        angle = keras.random.uniform((), -limit, limit, seed=self.seed_generator)
        return _affine(images, angle, ops.ones_like(angle))

    def get_config(self):
        return {**super().get_config(), "max_degrees": self.max_degrees}


def paper_jitter(stride: int) -> int:
    """The pre-images paper's jitter for a layer of total `stride`: max(round(stride/4), 1)."""
    return max(int(round(stride / 4)), 1)
