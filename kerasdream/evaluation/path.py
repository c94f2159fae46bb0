"""The path check: does a dream reach its filter the way real photos do?

A dream can excite its filter and look right while the network gets there
through units that photos never use: Geirhos et al. ("Don't trust your eyes:
on the (un)reliability of feature visualizations", ICML 2024) planted such
shortcuts and proposed comparing the path a picture's activations take
through the layers below the target with the paths natural images take.

Here, at a few layers below the target (`network.layers.path_layers`), a
picture's channel means are put in units of the natural crops' spread
(`evaluation.natural`: each channel minus its mean over the crops, over
their standard deviation) and compared with every crop's, likewise, by
correlation: which channels a picture drives above and below what photos
usually give, and by how much relative to one another. Its *path
similarity* at a layer is the correlation with the nearest crop. The
*floor* at that layer is what photos give each other: for each crop, the
correlation with the nearest crop of ANOTHER photo; the floor is the lowest
of those. A dream below the floor at any checked layer is *off the natural
path*: there its activations are less like any photo's than every crop's are
like another photo's, so its picture may show a route to the filter that
real images do not take.

Raw channel means would not do: every picture ranks the always-on channels
first, so all correlations come near 1 and the crops of a held-out photo
(skimage's retina) fell below the floor. In units of the crops' spread, at
MobileNet's conv_pw_7_relu those crops pass at every layer, a checkerboard
and random coloured blocks fail, while uniform noise and flat grey pass: the
check catches pictures that drive units photos leave alone, not every
unnatural picture.

Everything is channel means, read in the same network pass as the scores
(`score_dreams` adds the path layers' keys to it), so the check costs a few
extra means per image and, once per network and size, the crops' means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from kerasdream.evaluation.means import feature_key, key_means
from kerasdream.evaluation.natural import NATURAL_CROPS, natural_key_means, size_pair
from kerasdream.photo_folder import SKIMAGE, Reference

# The floor is this quantile of the natural crops' own nearest-other-photo
# similarities: 0, the lowest, so a dream below it is less like any photo
# than every crop is like another photo's. (At 0.05, 11 of 16 default
# dreams of conv_pw_7_relu fell below it: a flag on most dreams tells the
# user little about one.)
FLOOR_QUANTILE = 0.0


def standardize(means: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`means` (N, C) in units of the reference pictures' spread, per channel:
    `(means - reference mean) / (reference std + 1e-3 x its mean std)`.

    Every channel counts alike, and a channel the references leave constant
    (a planted shortcut that photos never open) turns a dream that drives
    it into a huge deviation.
    """
    reference = np.asarray(reference, "float64")
    std = reference.std(axis=0)
    spread = std + 1e-3 * (float(std.mean()) + 1e-9)
    return (np.asarray(means, "float64") - reference.mean(axis=0)) / spread


def correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson's correlation of every row of `a` (N, C) with every row of `b` (M, C).

    Returns:
        (N, M) values in [-1, 1]; 0 where a row is constant.
    """
    a, b = np.atleast_2d(np.asarray(a, "float64")), np.atleast_2d(np.asarray(b, "float64"))
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    scale = np.outer(np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1))
    return np.where(scale > 0, (a @ b.T) / np.where(scale > 0, scale, 1.0), 0.0)


def nearest_other_group(similarity: np.ndarray, groups: Sequence[int]) -> np.ndarray:
    """For each reference i, its largest `similarity[i, j]` over j of another group, (M,).

    A crop's nearest crop of the same photo says little about how alike
    photos' paths are, so a reference is compared only with other groups'.
    """
    groups = np.asarray(groups)
    other = groups[:, None] != groups[None, :]
    masked = np.where(other, similarity, -np.inf)
    return masked.max(axis=1)


def path_floor(reference: np.ndarray, groups: Sequence[int],
               quantile: float = FLOOR_QUANTILE) -> float:
    """The similarity that real pictures reach with one another at one layer.

    Args:
        reference: the reference pictures' channel means (M, C), as read.
        groups: which photo each row comes from (rows of one group are
            never compared with each other).
        quantile: which low quantile of the nearest-other-group similarities.

    Returns:
        The floor, in [-1, 1].
    """
    return _floor(standardize(reference, reference), groups, quantile)


def _floor(standardized: np.ndarray, groups: Sequence[int], quantile: float) -> float:
    """`path_floor` of references already in units of their own spread."""
    nearest = nearest_other_group(correlation(standardized, standardized), groups)
    return float(np.quantile(nearest[np.isfinite(nearest)], quantile))


def natural_groups(count: int) -> np.ndarray:
    """Which photo each of `count` natural crops comes from (`NATURAL_CROPS` per photo)."""
    return np.arange(count) // len(NATURAL_CROPS)


def judge_paths(dream_means: Mapping[str, np.ndarray],
                reference_means: Mapping[str, np.ndarray],
                groups: Sequence[int], quantile: float = FLOOR_QUANTILE,
                names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """One path record per dream from channel means at the checked layers.

    Args:
        dream_means: {key: (N, C)} the dreams' channel means at each checked layer.
        reference_means: {key: (M, C)} the reference pictures' (natural crops').
        groups: the photo each reference row comes from.
        quantile: the floor's quantile (`path_floor`).
        names: how to name each key in the records (default: the key).

    Returns:
        Per dream: `path_similarity` and `path_floor` at its worst layer (the
        one where the similarity is lowest against that layer's floor),
        `path_layer` (that layer), `off_path` (below the floor at some
        layer) and `path` ({layer: [similarity, floor]} for every layer).
        No layers to check: no records (see `unchecked_path`).
    """
    names = dict(names or {})
    keys = list(dream_means)
    if not keys:
        return []
    count = len(dream_means[keys[0]])
    per_key = {}
    for key in keys:
        reference = np.asarray(reference_means[key], "float64")
        standard = standardize(reference, reference)
        similarity = correlation(standardize(dream_means[key], reference), standard).max(axis=1)
        per_key[key] = (similarity, _floor(standard, groups, quantile))
    records = []
    for i in range(count):
        path = {names.get(k, k): [round(float(per_key[k][0][i]), 4), round(per_key[k][1], 4)]
                for k in keys}
        worst = min(keys, key=lambda k: per_key[k][0][i] - per_key[k][1])
        similarity, floor = float(per_key[worst][0][i]), per_key[worst][1]
        records.append({"path_similarity": similarity, "path_floor": floor,
                        "path_layer": names.get(worst, worst),
                        "off_path": bool(similarity < floor), "path": path})
    return records


def judge_natural_paths(base: keras.Model, keys: Mapping[str, str],
                        dream_means: Mapping[str, np.ndarray], preprocess: str,
                        size: int | Sequence[int],
                        reference: Reference = SKIMAGE) -> list[dict[str, Any]]:
    """`judge_paths` against the reference crops at `size` (their means kept per
    network), for the feature `keys` ({key: layer name}) of `dream_means`.
    With the crops of one photo only there is no floor (photos' likeness to
    one another): every dream's path is unchecked."""
    natural = natural_key_means(base, list(keys), preprocess, size_pair(size), reference)
    groups = natural_groups(len(next(iter(natural.values()))))
    if len(set(groups.tolist())) < 2:
        return [unchecked_path() for _ in next(iter(dream_means.values()))]
    return judge_paths({key: dream_means[key] for key in keys}, natural, groups, names=keys)


def unchecked_path() -> dict[str, Any]:
    """The path record of a dream with no layer below its target to check."""
    return {"path_similarity": None, "path_floor": None, "path_layer": None,
            "off_path": None, "path": {}}


def path_keys(base: keras.Model, layer: str, count: int | None = None) -> dict[str, str]:
    """{feature key: layer path} of the layers the path check reads below `layer`."""
    from kerasdream.network.layers import PATH_LAYERS, path_layers

    paths = path_layers(base, layer, PATH_LAYERS if count is None else count)
    return {feature_key(base, path, False): path for path in paths}


def check_paths(base: keras.Model, layer: str, images: np.ndarray, preprocess: str,
                reference: np.ndarray | None = None, groups: Sequence[int] | None = None,
                count: int | None = None) -> list[dict[str, Any]]:
    """The path check of pictures that target `layer`: one record per image.

    Args:
        base: the network.
        layer: the layer the pictures were made for; the check reads the
            layers below it (`network.layers.path_layers`).
        images: the pictures, (N, H, W, C) values 0..255.
        preprocess: the network's preprocessing mode.
        reference: pictures that show the natural path (M, H, W, C); default
            the natural crops at the images' size (kept per network).
        groups: which source each reference picture comes from (default:
            the natural crops' photos; each its own with a `reference`).
        count: how many layers below to read (default `PATH_LAYERS`).

    Returns:
        `judge_paths`' records.
    """
    images = np.asarray(images, "float32")
    keys = path_keys(base, layer, count)
    if not keys:
        return [unchecked_path() for _ in images]
    dreams = key_means(base, list(keys), images, preprocess)
    if reference is None:
        return judge_natural_paths(base, keys, dreams, preprocess, images.shape[1:3])
    ref = key_means(base, list(keys), np.asarray(reference, "float32"), preprocess)
    groups = np.arange(len(reference)) if groups is None else groups
    return judge_paths(dreams, ref, groups, names=keys)
