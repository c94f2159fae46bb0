"""Fixed random views of finished pictures, for the robust rank.

Each view shifts, zooms and rotates every image a little (reflected border,
bilinear), through the one resampler the training transforms use
(`kerasdream.transforms.warp`). A dream that only works at its exact pixel
position loses its rank on these views.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from kerasdream.evaluation.means import feature_key, key_means
from kerasdream.transforms import similarity_matrix, translation_matrix, warp


def view_parameters(views: int = 8, seed: int = 0, max_shift: int = 6,
                    scale: tuple[float, float] = (0.9, 1.1),
                    max_degrees: float = 8.0) -> np.ndarray:
    """(views, 4) rows of (dy, dx, zoom, degrees), the same for the same seed."""
    rng = np.random.default_rng(seed)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(views, 2))
    zooms = rng.uniform(scale[0], scale[1], size=views)
    angles = rng.uniform(-max_degrees, max_degrees, size=views)
    return np.column_stack([shifts, zooms, angles]).astype("float64")


def view_matrix(dy: float, dx: float, zoom: float, degrees: float, height: int, width: int):
    """The 3x3 sampling matrix of one view (`transforms.warp`): output pixel
    (x, y) reads the input at the point rotated by `degrees` and zoomed by
    `zoom` about the centre, then moved by (-dx, -dy); so the picture itself
    moves by (dx, dy)."""
    rotate_zoom = similarity_matrix(np.float32(np.radians(degrees)), np.float32(zoom),
                                    height, width)
    return ops.matmul(translation_matrix(-dx, -dy), rotate_zoom)


def robust_views(images: np.ndarray, views: int = 8, seed: int = 0, max_shift: int = 6,
                 scale: tuple[float, float] = (0.9, 1.1),
                 max_degrees: float = 8.0) -> np.ndarray:
    """Fixed random views of `images`, shape (views, N, H, W, C), float32 in [0, 255].

    View v applies one shift, zoom and rotation (drawn from `seed`) to every
    image, with a reflected border and bilinear sampling (`transforms.warp`).
    """
    images = np.asarray(images, "float32")
    height, width = images.shape[1:3]
    batch = ops.convert_to_tensor(images)
    out = []
    for dy, dx, zoom, degrees in view_parameters(views, seed, max_shift, scale, max_degrees):
        view = warp(batch, view_matrix(dy, dx, zoom, degrees, height, width))
        out.append(np.clip(ops.convert_to_numpy(view), 0.0, 255.0))
    return np.stack(out)


def robust_channel_means(base: keras.Model, layer: str, images: np.ndarray, preprocess: str,
                         pre_activation: bool = False, views: int = 8,
                         seed: int = 0) -> np.ndarray:
    """Channel means (N, C) averaged over `robust_views` of each image."""
    key = feature_key(base, layer, pre_activation)
    return robust_key_means(base, [key], images, preprocess, views, seed)[key]


def robust_key_means(base: keras.Model, keys: Sequence[str], images: np.ndarray,
                     preprocess: str, views: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """`robust_channel_means` of every key, from one pass over all the views."""
    stack = robust_views(images, views=views, seed=seed)
    flat = stack.reshape(-1, *stack.shape[2:])
    means = key_means(base, keys, flat, preprocess)
    return {key: value.reshape(views, len(images), -1).mean(axis=0)
            for key, value in means.items()}
