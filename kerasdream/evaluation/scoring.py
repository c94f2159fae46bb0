"""Judging finished pictures: the quality yardstick of DESIGN.md.

Every function works on FINAL uint8 images `(N, H, W, C)` (what a user sees
and saves) and a frozen Keras base network, through the exact network (no
redirected ReLU, `training=False`):

- rank: 1 + the channels whose mean activation beats the target's by more
  than a tolerance, so a tie at a ReLU6 cap counts as rank 1;
- robust rank: the same rank on channel means averaged over fixed random
  views of each image (shift, scale, rotation, reflected border); a dream
  that only works at its exact pixel position fails it;
- natural ratio: the target's mean activation divided by the channel's
  largest mean activation over crops of the reference photos
  (`photo_folder.Reference`: the `skimage.data` photos, or the user's own);
- column selectivity, flatness, clipping, high-frequency noise, and the
  pre-images paper's inversion error;
- constant channels: filters that ignore their input (zero weights), whose
  dreams are flat whatever the recipe, so a flat count can leave them out.

The work is split: `means` (channel means through the network, the memo kept
per network), `views` (the robust views), `natural` (photos, crops and their
means); this module turns them into one record per dream.

Pre- versus post-activation: ranks (`rank`, `robust_rank`) are always taken
on the layer's own output, as the network computes it. A capped ReLU
(MobileNet's `ReLU(max_value=6)`) squashes every strong unit to the same 6,
so a dream cannot beat a photo there by more than `6 / photo max`, however
strongly it drives the unit. For capped ReLUs `score_dreams` therefore also
reads the pre-activation (the ReLU's input, Lucid's `_pre_relu` convention,
keyed `layer + ":pre"` as in training) and takes the NATURAL RATIOS from it;
`pre_*` keys hold those values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

# channel_means and robust_channel_means are imported for readers of this
# module (the notebooks); `kerasdream.evaluation` exports every public name.
from kerasdream.evaluation.means import (  # noqa: F401
    channel_means,
    features,
    key_means,
    layer_means,
    scoring_keys,
)
from kerasdream.evaluation.natural import (
    constant_channels,
    keep_natural_means,
    natural_crops,
    natural_crops_for,
    natural_maxima,
    size_pair,
    uncached_natural_keys,
)
from kerasdream.evaluation.path import judge_natural_paths, path_keys, unchecked_path
from kerasdream.evaluation.views import robust_channel_means, robust_views  # noqa: F401
from kerasdream.network.activations import relu_cap
from kerasdream.network.bases import resolve_layer
from kerasdream.photo_folder import SKIMAGE, Reference

FLAT_STD = 2.0


# ------------------------------------------------------------------ rank


def rank_of(activations_row: np.ndarray, channel: int, tolerance: float = 1e-3) -> int:
    """1 + the channels that beat `channel` by more than `tolerance`.

    Ties count in the target's favour: at a ReLU6 cap a dream that drives its
    own channel and others to 6 is rank 1.
    """
    row = np.asarray(activations_row, "float64")
    return 1 + int(np.sum(row > row[channel] + tolerance))


def natural_ratio(activation: float, natural_max: float) -> float | None:
    """`activation / natural_max`, or None when the photos never drive the channel above 0."""
    return float(activation / natural_max) if natural_max > 1e-6 else None


# ------------------------------------------------------------------ naturalness


def pixel_std(images: np.ndarray) -> np.ndarray:
    """Each image's spatial standard deviation (root mean of the per-channel
    variances), shape (N,): 0 for one flat colour of any hue."""
    images = np.asarray(images, "float64")
    return np.sqrt(np.mean(np.var(images, axis=(1, 2)), axis=-1))


def is_flat(images: np.ndarray, threshold: float = FLAT_STD) -> np.ndarray:
    """Whether each image is (almost) one flat colour: `pixel_std < threshold`."""
    return pixel_std(images) < threshold


def clipped_fraction(images: np.ndarray) -> np.ndarray:
    """The fraction of each image's values (pixels x channels) at 0 or 255."""
    images = np.asarray(images)
    clipped = (images <= 0) | (images >= 255)
    return clipped.reshape(len(images), -1).mean(axis=1)


def high_frequency(images: np.ndarray) -> np.ndarray:
    """Mean |dx| + mean |dy| of each image, over pixels and channels, in 0..255 units."""
    images = np.asarray(images, "float64")
    dx = np.abs(np.diff(images, axis=2)).mean(axis=(1, 2, 3))
    dy = np.abs(np.diff(images, axis=1)).mean(axis=(1, 2, 3))
    return dx + dy


def natural_high_frequency(size: int | tuple[int, int]) -> float:
    """`high_frequency` averaged over the natural crops at `size`."""
    return float(np.mean(high_frequency(natural_crops(size_pair(size)))))


# ------------------------------------------------------------------ batch measures


def column_selective(acts: np.ndarray, targets: Sequence[int],
                     tolerance: float = 1e-3) -> np.ndarray:
    """Per dream i: does it drive filter `targets[i]` at least as hard (within
    `tolerance`) as every other dream of the batch does? `acts` is (N, C)."""
    acts = np.asarray(acts, "float64")
    targets = np.asarray(targets, int)
    column = acts[:, targets]  # column[j, i]: dream j on dream i's filter
    own = np.diag(column)
    return own + tolerance >= column.max(axis=0)


def relative_error(base: keras.Model, layer: str, images: np.ndarray, photo: np.ndarray,
                   preprocess: str) -> np.ndarray:
    """`||Phi(x) - Phi0|| / ||Phi0||` per image, Phi0 the photo's features, shape (N,)."""
    key = resolve_layer(base, layer)
    got = features(base, key, images, preprocess).astype("float64")
    target = features(base, key, np.asarray(photo)[None], preprocess).astype("float64")
    axes = tuple(range(1, got.ndim))
    return np.sqrt(np.sum((got - target) ** 2, axis=axes) / np.sum(target**2))


# ------------------------------------------------------------------ one record a dream


def _activation_record(acts: np.ndarray, robust: np.ndarray, maxima: np.ndarray, i: int,
                       k: int, prefix: str = "") -> dict[str, Any]:
    """Dream i's activation, rank and natural ratio of filter k, plain and robust."""
    return {
        f"{prefix}activation": float(acts[i, k]),
        f"{prefix}rank": rank_of(acts[i], k),
        f"{prefix}robust_activation": float(robust[i, k]),
        f"{prefix}robust_rank": rank_of(robust[i], k),
        f"{prefix}natural_max": float(maxima[k]),
        f"{prefix}natural_ratio": natural_ratio(acts[i, k], maxima[k]),
        f"{prefix}robust_natural_ratio": natural_ratio(robust[i, k], maxima[k]),
    }


def _dream_and_view_means(base: keras.Model, keys: list[str], images: np.ndarray,
                          preprocess: str, views: int, seed: int, reference: Reference):
    """`key_means` and `robust_key_means` of `images`, and the reference crops'
    means when not kept yet, from ONE `key_means` pass over all of them
    (one model, one compiled graph, evenly split batches). The path check's
    keys ride along in `keys`: their robust means are not used."""
    size = size_pair(images.shape[1:3])
    missing = uncached_natural_keys(base, keys, preprocess, size, reference)
    stack = robust_views(images, views=views, seed=seed)
    parts = [np.asarray(images, "float32"), stack.reshape(-1, *stack.shape[2:])]
    if missing:
        parts.append(natural_crops_for(base, size, reference))
    means = key_means(base, keys, np.concatenate(parts), preprocess)
    n, n_views = len(images), len(parts[1])
    dreams = {key: value[:n] for key, value in means.items()}
    robust = {key: value[n:n + n_views].reshape(views, n, -1).mean(axis=0)
              for key, value in means.items()}
    keep_natural_means(base, preprocess, size, {key: means[key][n + n_views:] for key in missing},
                       reference)
    return dreams, robust


def _paths(base: keras.Model, below: dict[str, str], dream_means: dict[str, np.ndarray],
           preprocess: str, size, reference: Reference) -> list[dict[str, Any]]:
    """The path check's records (`evaluation.path`) from the means already read."""
    if not below:
        return []
    return judge_natural_paths(base, below, dream_means, preprocess, size, reference)


def score_dreams(base: keras.Model, layer: str, images: np.ndarray, targets: Sequence[int],
                 preprocess: str, pre_activation: bool | None = None, views: int = 8,
                 seed: int = 0, reference: Reference = SKIMAGE) -> list[dict[str, Any]]:
    """One JSON-ready record per dream of `images` (uint8, N x H x W x C).

    `activation`, `rank`, `robust_activation`, `robust_rank` read the layer's
    output. `pre_activation`: None (default) also reads the pre-activation
    exactly when the layer is a capped ReLU; True / False force it on / off.
    When it is read, `pre_activation`, `pre_rank`, `pre_robust_activation`,
    `pre_robust_rank`, `pre_natural_ratio`, `pre_robust_natural_ratio` are
    added and `natural_ratio` / `robust_natural_ratio` are the pre-activation
    ones (`natural_ratio_from` says which was used). `constant_channel` marks
    a filter that ignores its input (`constant_channels`): its dream is flat
    whatever the recipe. `path_similarity`, `path_floor`, `path_layer`,
    `off_path` and `path` are the path check (`evaluation.path.judge_paths`):
    whether the dream's activations below the layer are like a real photo's.
    The ratios and the path check read `reference`'s photos
    (`photo_folder.Reference`: skimage's by default, or the user's own), and
    the record's `reference` names them by its key; `constant_channel` is
    always read on skimage's.
    """
    images = np.asarray(images)
    targets = [int(t) for t in targets]
    size = images.shape[1:3]
    cap = relu_cap(base, layer)  # the pre-activation is read for a capped ReLU
    use_pre = cap is not None if pre_activation is None else bool(pre_activation)

    post_key, pre_key = scoring_keys(base, layer)
    below = path_keys(base, layer)
    dream_means, robust_means = _dream_and_view_means(base, [post_key, pre_key, *below],
                                                      images, preprocess, views, seed,
                                                      reference)
    paths = _paths(base, below, dream_means, preprocess, size, reference) or [
        unchecked_path() for _ in targets]

    def measures(key: str, pre: bool):
        maxima = natural_maxima(base, layer, preprocess, size, pre, reference)
        return dream_means[key], robust_means[key], maxima

    acts, robust, maxima = measures(post_key, False)
    # Whether a filter ignores its input is the network's, not the photos': always
    # read on skimage's varied crops (a folder of digits leaves border units still).
    constant = constant_channels(base, layer, preprocess, size)
    pre = measures(pre_key, True) if use_pre else None
    selective = column_selective(acts, targets)
    stds, clipped, noise = pixel_std(images), clipped_fraction(images), high_frequency(images)

    records = []
    for i, k in enumerate(targets):
        record = {
            "filter": k,
            **_activation_record(acts, robust, maxima, i, k),
            "natural_ratio_from": "post-activation",
            "reference": reference.key,
            "cap": cap,
            "pixel_std": float(stds[i]),
            "flat": bool(stds[i] < FLAT_STD),
            "constant_channel": bool(constant[k]),
            "clipped_fraction": float(clipped[i]),
            "high_frequency": float(noise[i]),
            "column_selective": bool(selective[i]),
            **paths[i],
        }
        if pre is not None:
            record.update(_activation_record(*pre, i, k, prefix="pre_"))
            record["natural_ratio"] = record["pre_natural_ratio"]
            record["robust_natural_ratio"] = record["pre_robust_natural_ratio"]
            record["natural_ratio_from"] = "pre-activation"
        records.append(record)
    return records
