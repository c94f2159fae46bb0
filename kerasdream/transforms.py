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

Jitter, scale and rotation only move pixels (`GeometricTransform`): inside a
`DreamModel`, `apply_transforms` multiplies the sampling matrices of
consecutive ones and resamples the batch once (`warp`).

Presets: `light_transforms` (the default) and `lucid_transforms`.
"""

from __future__ import annotations

import itertools
import math

import keras
import numpy as np
from keras import ops

from kerasdream.defaults import DEFAULT_SIZE
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


def _reflect(points, sizes: np.ndarray):
    """Points folded into [0, size - 1] along each axis by reflection about the
    edge pixels' centres (NumPy's "reflect", as `ops.pad`: -1 -> 1), so an
    integer shift resamples exactly what `Jitter`'s pad-and-slice gives.
    `points` is (P, 2) of (x, y), `sizes` the (width, height)."""
    last = np.maximum(sizes - 1, 0).astype("float32")
    period = ops.convert_to_tensor(np.maximum(2.0 * last, 1.0).astype("float32"))
    points = ops.mod(points, period)
    keep = ops.convert_to_tensor((last > 0).astype("float32"))  # a 1-pixel side: all 0
    return ops.minimum(points, period - points) * keep


def warp(images, matrix):
    """Resample `images` (N, H, W, C) so output pixel (x, y) is input point
    `matrix @ (x, y, 1)`: bilinear, reflected border, one 3x3 `matrix` for
    the whole batch.

    One gather of the four corners from an (H * W, N * C) view of the batch.
    Its gradient is the exact adjoint (a scatter-add), and it compiles under
    XLA. On this 2-core CPU the light transforms through it cost about 0.4
    of two `ops.image.affine_transform` calls (TensorFlow's
    ImageProjectiveTransformV3, whose gradient is only the inverse warp):
    `benchmarks/transform_cost.py`.
    """
    height, width, channels = images.shape[1], images.shape[2], images.shape[3]
    grid_y, grid_x = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    grid = np.stack([grid_x.ravel(), grid_y.ravel(), np.ones(height * width)], axis=1)
    sizes = np.array([width, height])
    # Source points (x, y) of every output pixel, then the corner below-left of each.
    points = ops.matmul(ops.convert_to_tensor(grid.astype("float32")),
                        ops.transpose(ops.cast(matrix, "float32"))[:, :2])
    points = _reflect(points, sizes)
    low = ops.floor(points)
    fraction = points - low
    low = ops.cast(low, "int32")
    high = ops.minimum(low + 1, ops.convert_to_tensor((sizes - 1).astype("int32")))
    x_low, y_low = low[:, 0], low[:, 1]
    x_high, y_high = high[:, 0], high[:, 1]
    fx, fy = fraction[:, 0], fraction[:, 1]
    index = ops.concatenate([y_low * width + x_low, y_low * width + x_high,
                             y_high * width + x_low, y_high * width + x_high], axis=0)
    weight = ops.concatenate([(1.0 - fx) * (1.0 - fy), fx * (1.0 - fy),
                              (1.0 - fx) * fy, fx * fy], axis=0)
    batch = ops.shape(images)[0]
    pixels = ops.reshape(ops.transpose(images, (1, 2, 0, 3)), (height * width, -1))
    corners = ops.take(pixels, index, axis=0) * ops.cast(weight, images.dtype)[:, None]
    out = ops.sum(ops.reshape(corners, (4, height * width, -1)), axis=0)
    out = ops.reshape(out, (height, width, batch, channels))
    return ops.transpose(out, (2, 0, 1, 3))


def translation_matrix(offset_x, offset_y):
    """The sampling matrix of a shift: output (x, y) samples input
    (x + offset_x, y + offset_y)."""
    along_x = np.zeros((3, 3), "float32")
    along_x[0, 2] = 1.0
    along_y = np.zeros((3, 3), "float32")
    along_y[1, 2] = 1.0
    return (ops.convert_to_tensor(np.eye(3, dtype="float32"))
            + ops.cast(offset_x, "float32") * ops.convert_to_tensor(along_x)
            + ops.cast(offset_y, "float32") * ops.convert_to_tensor(along_y))


def similarity_matrix(angle, scale, height: int, width: int):
    """The sampling matrix that rotates by `angle` (radians) and zooms by
    `scale` about the image centre: output (x, y) samples input
    (a0 x + a1 y + a2, b0 x + b1 y + b2), with a0 = b1 = cos / scale,
    b0 = -a1 = sin / scale and the centre fixed. Built as
    cos / scale * A + sin / scale * B + C from constant matrices (few ops
    to trace)."""
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
    cosine_part = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 0]], "float32")
    sine_part = np.array([[0, -1, cy], [1, 0, -cx], [0, 0, 0]], "float32")
    centre = np.array([[0, 0, cx], [0, 0, cy], [0, 0, 1]], "float32")
    return (ops.cos(angle) / scale * ops.convert_to_tensor(cosine_part)
            + ops.sin(angle) / scale * ops.convert_to_tensor(sine_part)
            + ops.convert_to_tensor(centre))


def _affine(images, angle, scale):
    """Rotate by `angle` (radians) and zoom by `scale` about the image centre."""
    return warp(images, similarity_matrix(angle, scale, images.shape[1], images.shape[2]))


class GeometricTransform(_RandomTransform):
    """A random transform that only moves pixels: each step it draws one 3x3
    sampling matrix (`sampling_matrix`). `apply_transforms` multiplies the
    matrices of consecutive geometric transforms and resamples once, so
    jitter, scale and rotate cost one bilinear pass, not one each, and the
    image is blurred by one interpolation, not three."""

    def sampling_matrix(self, height: int, width: int):
        raise NotImplementedError

    def transform(self, images):
        return warp(images, self.sampling_matrix(images.shape[1], images.shape[2]))


@keras.saving.register_keras_serializable(package="kerasdream")
class Jitter(GeometricTransform):
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

    def _shift(self):
        return ops.unstack(
            keras.random.randint((2,), 0, 2 * self.max_shift + 1, seed=self.seed_generator), 2
        )

    def sampling_matrix(self, height, width):
        """Output (x, y) samples input (x + dx - s, y + dy - s): the shift
        `transform` makes, as a matrix to compose with other transforms."""
        if self.max_shift == 0:
            return ops.eye(3)
        dy, dx = self._shift()
        return translation_matrix(dx - self.max_shift, dy - self.max_shift)

    def transform(self, images):
        s = self.max_shift
        if s == 0:
            return images
        padded = ops.pad(images, [[0, 0], [s, s], [s, s], [0, 0]], mode="reflect")
        dy, dx = self._shift()
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


@keras.saving.register_keras_serializable(package="kerasdream")
class Scale(GeometricTransform):
    """Zoom by a random factor in `[1 - max_change, 1 + max_change]`."""

    def __init__(self, max_change: float = 0.05, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        if not 0.0 <= float(max_change) < 1.0:
            raise DreamError(f"Scale change must be in [0, 1). Received: max_change={max_change}")
        self.max_change = float(max_change)

    def sampling_matrix(self, height, width):
        scale = keras.random.uniform(
            (), 1.0 - self.max_change, 1.0 + self.max_change, seed=self.seed_generator
        )
        return similarity_matrix(ops.zeros_like(scale), scale, height, width)

    def get_config(self):
        return {**super().get_config(), "max_change": self.max_change}


@keras.saving.register_keras_serializable(package="kerasdream")
class Rotate(GeometricTransform):
    """Rotate by a random angle in `[-max_degrees, max_degrees]`."""

    def __init__(self, max_degrees: float = 5.0, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        self.max_degrees = float(max_degrees)

    def sampling_matrix(self, height, width):
        limit = math.radians(self.max_degrees)
        angle = keras.random.uniform((), -limit, limit, seed=self.seed_generator)
        return similarity_matrix(angle, ops.ones_like(angle), height, width)

    def get_config(self):
        return {**super().get_config(), "max_degrees": self.max_degrees}


def apply_transforms(layers, images, training=None):
    """`images` through `layers` in order, each run of consecutive geometric
    transforms (`GeometricTransform`) resampled once with the product of
    their matrices. A run of `Jitter`s alone keeps their pad-and-slice (exact
    and cheaper than a gather). Every layer draws what it would draw alone,
    so the same seed gives the same views either way; only the borders and
    the interpolation differ from resampling layer by layer."""
    if not training:
        return images
    for geometric, run in itertools.groupby(
            layers, key=lambda layer: isinstance(layer, GeometricTransform)):
        run = list(run)
        if not geometric or all(isinstance(layer, Jitter) for layer in run):
            for layer in run:
                images = layer(images, training=True)
            continue
        height, width = images.shape[1], images.shape[2]
        matrix = None
        for layer in run:
            if not layer.built:
                layer.build(images.shape)
            step = layer.sampling_matrix(height, width)
            matrix = step if matrix is None else ops.matmul(matrix, step)
        images = warp(images, matrix)
    return images


def paper_jitter(stride: int) -> int:
    """The pre-images paper's jitter for a layer of total `stride`: max(round(stride/4), 1)."""
    return max(int(round(stride / 4)), 1)


def _scaled(amount: int, size: int) -> int:
    """A pixel count meant for 128-px images, for images of `size` (at least 1)."""
    return max(1, round(amount * size / 128))


def light_transforms(size: int = DEFAULT_SIZE) -> list[keras.layers.Layer]:
    """The default: small shifts, scales and rotations, the views a robust
    dream must survive (`benchmarks/quality.py` chose them over Lucid's).

    Args:
        size: the image side the shifts are scaled to (4 and 2 px at 128).

    Returns:
        `[Jitter, Scale(0.1), Rotate(8), Jitter]`, unseeded.
    """
    return [Jitter(_scaled(4, size)), Scale(0.1), Rotate(8.0), Jitter(_scaled(2, size))]


def lucid_transforms(size: int = DEFAULT_SIZE, pad: bool = True) -> list[keras.layers.Layer]:
    """Lucid's standard transforms: pad 12, jitter 8, scale 0.9-1.1, rotate up to
    10 degrees, jitter 4. Its pixel counts are for 128-px images, so they scale
    with `size`; no padding for a network that takes one fixed size only.

    Args:
        size: the image side the pixel counts are scaled to.
        pad: whether to start with `Pad` (not for a fixed-size network).

    Returns:
        The transform layers, unseeded.
    """
    layers = [Pad(_scaled(12, size))] if pad else []
    return layers + [Jitter(_scaled(8, size)), Scale(0.1), Rotate(10.0), Jitter(_scaled(4, size))]
