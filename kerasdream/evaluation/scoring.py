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
  largest mean activation over crops of the `skimage.data` photos;
- column selectivity, flatness, clipping, high-frequency noise, and the
  pre-images paper's inversion error;
- constant channels: filters that ignore their input (zero weights), whose
  dreams are flat whatever the recipe, so a flat count can leave them out.

Pre- versus post-activation: ranks (`rank`, `robust_rank`) are always taken
on the layer's own output, as the network computes it. A capped ReLU
(MobileNet's `ReLU(max_value=6)`) squashes every strong unit to the same 6,
so a dream cannot beat a photo there by more than `6 / photo max`, however
strongly it drives the unit. For capped ReLUs `score_dreams` therefore also
reads the pre-activation (the ReLU's input, Lucid's `_pre_relu` convention)
and takes the NATURAL RATIOS from it; `pre_*` keys hold those values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from kerasdream.network.bases import Preprocess, get_layer, resolve_layer
from kerasdream.network.features import feature_model  # the one place extractors come from

# skimage.data photos (not synthetic images), greyscale ones used as RGB.
NATURAL_PHOTOS = (
    "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
    "immunohistochemistry", "camera", "coins", "moon", "grass", "gravel", "brick",
)
# (zoom, fy, fx): the photo's short side is `zoom` x the crop size and the
# crop sits at fraction (fy, fx) of the free range. Six crops per photo.
NATURAL_CROPS = (
    (1.0, 0.5, 0.5), (1.5, 0.2, 0.3), (1.5, 0.8, 0.7),
    (2.5, 0.3, 0.7), (2.5, 0.7, 0.3), (2.5, 0.5, 0.5),
)
FLAT_STD = 2.0
BATCH = 32
# Channel means run in batches of at most this many pixels (images x H x W),
# and of at least BATCH images: all 8 views of 16 dreams at 128 px in one
# batch, while the activations of a wide network at a large size stay bounded.
BATCH_PIXELS = 128 * 128 * 128
# Batches of fewer pixels run eagerly rather than through a traced graph
# (16 images at 128 px and more are compiled).
EAGER_PIXELS = 16 * 128 * 128

_EXTRACTORS: dict[tuple, tuple[keras.Model, keras.Model]] = {}
_MEANS_MODELS: dict[tuple, tuple[keras.Model, Callable]] = {}
_NATURAL_MEANS: dict[tuple, tuple[keras.Model, np.ndarray]] = {}


# ------------------------------------------------------------------ features


def relu_cap(base: keras.Model, layer: str) -> float | None:
    """The cap of a capped ReLU layer (6.0 for ReLU6), else None."""
    target = get_layer(base, layer)
    if isinstance(target, keras.layers.ReLU):
        return None if target.max_value is None else float(target.max_value)
    activation = getattr(target, "activation", None)
    return 6.0 if getattr(activation, "__name__", None) == "relu6" else None


def pre_activation_key(base: keras.Model, layer: str) -> str:
    """The feature key of `layer`'s value before its activation.

    For a ReLU / Activation *layer* that is its input: the path of the layer
    that feeds it (e.g. MobileNet's `conv_pw_3_relu` -> `conv_pw_3_bn`).
    For a layer with a built-in activation it is `layer + ":pre"`.
    """
    path = resolve_layer(base, layer)
    target = get_layer(base, path)
    if isinstance(target, (keras.layers.ReLU, keras.layers.Activation)):
        parent = relu_input_layer(target)
        if parent is not None:
            prefix = path.rpartition("/")[0]
            return f"{prefix}/{parent.name}" if prefix else parent.name
    return path + ":pre"


def relu_input_layer(layer: keras.layers.Layer) -> keras.layers.Layer | None:
    """The layer whose output is `layer`'s input tensor (None for a model input)."""
    history = getattr(layer.input, "_keras_history", None)
    parent = history[0] if history else None
    if parent is None or isinstance(parent, keras.layers.InputLayer):
        return None
    return parent


def _extractor(base: keras.Model, key: str, image_shape: tuple[int, ...]) -> keras.Model:
    """A cached eager feature model from images to the feature `key`."""
    cache_key = (id(base), key, tuple(image_shape))
    cached = _EXTRACTORS.get(cache_key)
    if cached is None or cached[0] is not base:  # the id of a freed base may be reused
        cached = (base, feature_model(base, [key], tuple(image_shape)))
        _EXTRACTORS[cache_key] = cached
    return cached[1]


def features(base: keras.Model, key: str, images: np.ndarray, preprocess: str) -> np.ndarray:
    """The feature `key` of `images` (pixel values 0..255), in batches."""
    images = np.asarray(images, "float32")
    model = _extractor(base, key, images.shape[1:])
    prep = Preprocess(preprocess)
    parts = [
        ops.convert_to_numpy(model(prep(images[i:i + BATCH]), training=False)[key])
        for i in range(0, len(images), BATCH)
    ]
    return np.concatenate(parts)


def _key(base: keras.Model, layer: str, pre_activation: bool) -> str:
    return pre_activation_key(base, layer) if pre_activation else resolve_layer(base, layer)


def _means_model(base: keras.Model, keys: tuple[str, ...], image_shape: tuple[int, ...],
                 preprocess: str) -> Callable:
    """A cached callable from a float32 batch of pixels (0..255) to each key's
    channel means, {key: (n, C) numpy}.

    Preprocessing, the network and the spatial means run in one graph, so
    the large early-layer maps never leave it (`_compiled`: on TensorFlow a
    `tf.function` traced once for any batch size, elsewhere Keras'
    `predict_on_batch`; small batches eagerly). A 4-D feature is averaged over height and width; any
    other is returned as it is, as `channel_means` does.
    """
    cache_key = (id(base), keys, tuple(image_shape), preprocess)
    cached = _MEANS_MODELS.get(cache_key)
    if cached is None or cached[0] is not base:  # the id of a freed base may be reused
        extractor = feature_model(base, list(keys), tuple(image_shape))
        inputs = keras.Input(tuple(image_shape))
        values = extractor(Preprocess(preprocess)(inputs))
        outputs = {key: ops.mean(ops.cast(values[key], "float32"), axis=(1, 2))
                   if len(values[key].shape) == 4 else values[key] for key in keys}
        model = keras.Model(inputs, outputs, name=f"{base.name}_channel_means")
        cached = (base, _compiled(model, tuple(image_shape)))
        _MEANS_MODELS[cache_key] = cached
    return cached[1]


def _compiled(model: keras.Model, image_shape: tuple[int, ...]) -> Callable:
    """`model` on a numpy batch, returning numpy: compiled for batches of at
    least `EAGER_PIXELS` pixels, eager below (tracing costs 0.3-0.4 s, more
    than the eager pass over a few small images)."""
    def eager(batch: np.ndarray) -> dict[str, np.ndarray]:
        return {key: ops.convert_to_numpy(value)
                for key, value in model(batch, training=False).items()}

    if keras.backend.backend() != "tensorflow":
        compiled = model.predict_on_batch
    else:
        import tensorflow as tf

        def call(batch):
            return model(batch, training=False)

        # One trace for every batch size (predict_on_batch would trace twice).
        graph = tf.function(call, autograph=False, input_signature=[
            tf.TensorSpec((None, *image_shape), tf.float32)])

        def compiled(batch: np.ndarray) -> dict[str, np.ndarray]:
            return {key: value.numpy() for key, value in graph(batch).items()}

    def run(batch: np.ndarray) -> dict[str, np.ndarray]:
        small = batch.shape[0] * batch.shape[1] * batch.shape[2] < EAGER_PIXELS
        return eager(batch) if small else compiled(batch)

    return run


def _batches(count: int, height: int, width: int) -> list[slice]:
    """Even slices of `count` images, each at most max(BATCH, BATCH_PIXELS / (H x W))."""
    limit = max(BATCH, BATCH_PIXELS // max(1, height * width))
    parts = -(-count // limit)
    step = -(-count // max(1, parts))
    return [slice(i, i + step) for i in range(0, count, step)]


def key_means(base: keras.Model, keys: Sequence[str], images: np.ndarray,
              preprocess: str) -> dict[str, np.ndarray]:
    """Each image's channel means of every feature key at once: {key: (N, C)}.

    One network pass serves all keys (e.g. a layer's output and its
    pre-activation), batch by batch (`BATCH_PIXELS`).
    """
    images = np.asarray(images, "float32")
    keys = tuple(dict.fromkeys(keys))
    model = _means_model(base, keys, images.shape[1:], preprocess)
    parts = [model(images[part])
             for part in _batches(len(images), *images.shape[1:3])]
    return {key: np.concatenate([np.asarray(p[key]) for p in parts]) for key in keys}


def scoring_keys(base: keras.Model, layer: str) -> list[str]:
    """The feature keys `score_dreams` reads together: `layer`'s output and
    its pre-activation (`constant_channels` reads it for every layer)."""
    return [_key(base, layer, False), _key(base, layer, True)]


def layer_means(base: keras.Model, layer: str, images: np.ndarray,
                preprocess: str) -> np.ndarray:
    """`channel_means` of `layer`'s output through the model `score_dreams`
    uses, so that scoring the same images' shape later builds and traces nothing."""
    keys = scoring_keys(base, layer)
    return key_means(base, keys, images, preprocess)[keys[0]]


def channel_means(base: keras.Model, layer: str, images: np.ndarray, preprocess: str,
                  pre_activation: bool = False) -> np.ndarray:
    """Each image's mean activation of every channel of `layer`, shape (N, C)."""
    key = _key(base, layer, pre_activation)
    return key_means(base, [key], images, preprocess)[key]


def rank_of(activations_row: np.ndarray, channel: int, tolerance: float = 1e-3) -> int:
    """1 + the channels that beat `channel` by more than `tolerance`.

    Ties count in the target's favour: at a ReLU6 cap a dream that drives its
    own channel and others to 6 is rank 1.
    """
    row = np.asarray(activations_row, "float64")
    return 1 + int(np.sum(row > row[channel] + tolerance))


# ------------------------------------------------------------------ views


def view_parameters(views: int = 8, seed: int = 0, max_shift: int = 6,
                    scale: tuple[float, float] = (0.9, 1.1),
                    max_degrees: float = 8.0) -> np.ndarray:
    """(views, 4) rows of (dy, dx, zoom, degrees), the same for the same seed."""
    rng = np.random.default_rng(seed)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(views, 2))
    zooms = rng.uniform(scale[0], scale[1], size=views)
    angles = rng.uniform(-max_degrees, max_degrees, size=views)
    return np.column_stack([shifts, zooms, angles]).astype("float64")


def _view_transform(dy: float, dx: float, zoom: float, degrees: float,
                    height: int, width: int) -> np.ndarray:
    """The 8-vector mapping output (x, y) to input coordinates: rotate and zoom
    about the centre, then shift by (dx, dy)."""
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
    angle = np.radians(degrees)
    cos, sin = np.cos(angle) / zoom, np.sin(angle) / zoom
    return np.array([
        cos, -sin, cx - cos * cx + sin * cy - dx,
        sin, cos, cy - sin * cx - cos * cy - dy,
        0.0, 0.0,
    ], "float32")


def robust_views(images: np.ndarray, views: int = 8, seed: int = 0, max_shift: int = 6,
                 scale: tuple[float, float] = (0.9, 1.1),
                 max_degrees: float = 8.0) -> np.ndarray:
    """Fixed random views of `images`, shape (views, N, H, W, C), float32 in [0, 255].

    View v applies one shift, zoom and rotation (drawn from `seed`) to every
    image, with a reflected border and bilinear sampling.
    """
    images = np.asarray(images, "float32")
    n, height, width = images.shape[:3]
    out = []
    for dy, dx, zoom, degrees in view_parameters(views, seed, max_shift, scale, max_degrees):
        transform = np.tile(_view_transform(dy, dx, zoom, degrees, height, width), (n, 1))
        view = ops.image.affine_transform(images, transform, interpolation="bilinear",
                                          fill_mode="reflect")
        out.append(np.clip(ops.convert_to_numpy(view), 0.0, 255.0))
    return np.stack(out)


def robust_channel_means(base: keras.Model, layer: str, images: np.ndarray, preprocess: str,
                         pre_activation: bool = False, views: int = 8,
                         seed: int = 0) -> np.ndarray:
    """Channel means (N, C) averaged over `robust_views` of each image."""
    key = _key(base, layer, pre_activation)
    return robust_key_means(base, [key], images, preprocess, views, seed)[key]


def robust_key_means(base: keras.Model, keys: Sequence[str], images: np.ndarray,
                     preprocess: str, views: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """`robust_channel_means` of every key, from one pass over all the views."""
    stack = robust_views(images, views=views, seed=seed)
    flat = stack.reshape(-1, *stack.shape[2:])
    means = key_means(base, keys, flat, preprocess)
    return {key: value.reshape(views, len(images), -1).mean(axis=0)
            for key, value in means.items()}


# ------------------------------------------------------------------ natural photos


@functools.lru_cache(maxsize=1)
def natural_photos() -> tuple[np.ndarray, ...]:
    """The `NATURAL_PHOTOS` of `skimage.data` as RGB uint8 arrays."""
    import skimage.data

    photos = []
    for name in NATURAL_PHOTOS:
        photo = np.asarray(getattr(skimage.data, name)())
        if photo.ndim == 2:
            photo = np.repeat(photo[..., None], 3, axis=-1)
        photos.append(photo[..., :3].astype("uint8"))
    return tuple(photos)


def _size_pair(size: int | Sequence[int]) -> tuple[int, int]:
    return (int(size), int(size)) if np.isscalar(size) else (int(size[0]), int(size[1]))


@functools.lru_cache(maxsize=8)
def natural_crops(size: int | tuple[int, int], channels: int = 3) -> np.ndarray:
    """Six deterministic crops of each natural photo at `size`, uint8 (M, H, W, channels)."""
    from PIL import Image

    height, width = _size_pair(size)
    crops = []
    for photo in natural_photos():
        for zoom, fy, fx in NATURAL_CROPS:
            factor = zoom * max(height, width) / min(photo.shape[:2])
            new_h = max(height, int(round(photo.shape[0] * factor)))
            new_w = max(width, int(round(photo.shape[1] * factor)))
            resized = np.asarray(Image.fromarray(photo).resize((new_w, new_h), Image.BILINEAR))
            top = int(round(fy * (new_h - height)))
            left = int(round(fx * (new_w - width)))
            crops.append(resized[top:top + height, left:left + width])
    crops = np.stack(crops)
    if channels == 1:
        crops = np.round(crops @ np.array([0.299, 0.587, 0.114])).astype("uint8")[..., None]
    return crops


def natural_means(base: keras.Model, layer: str, preprocess: str,
                  size: int | tuple[int, int], pre_activation: bool = False) -> np.ndarray:
    """Every natural crop's channel means at `size`, shape (M, C).

    Computed once per (base, layer, preprocessing, size) and kept in memory.
    """
    key = _key(base, layer, pre_activation)
    return natural_key_means(base, [key], preprocess, size)[key]


def natural_key_means(base: keras.Model, keys: Sequence[str], preprocess: str,
                      size: int | tuple[int, int]) -> dict[str, np.ndarray]:
    """`natural_means` of every feature key; the keys not yet cached run in one pass."""
    size = _size_pair(size)
    missing = _uncached_natural_keys(base, keys, preprocess, size)
    if missing:
        means = key_means(base, missing, _natural_crops_for(base, size), preprocess)
        for key in missing:
            _NATURAL_MEANS[(id(base), key, preprocess, size)] = (base, means[key])
    return {key: _NATURAL_MEANS[(id(base), key, preprocess, size)][1] for key in keys}


def _uncached_natural_keys(base: keras.Model, keys: Sequence[str], preprocess: str,
                           size: tuple[int, int]) -> list[str]:
    """The keys whose natural means for `base` are not in `_NATURAL_MEANS` yet
    (an entry of a freed base whose id was reused does not count)."""
    return [key for key in keys
            if (_NATURAL_MEANS.get((id(base), key, preprocess, size)) or (None,))[0] is not base]


def _natural_crops_for(base: keras.Model, size: tuple[int, int]) -> np.ndarray:
    """The natural crops at `size` with `base`'s number of input channels, float32."""
    channels = int(base.inputs[0].shape[-1] or 3)
    return natural_crops(size, channels).astype("float32")


def natural_maxima(base: keras.Model, layer: str, preprocess: str,
                   size: int | tuple[int, int], pre_activation: bool = False) -> np.ndarray:
    """Each channel's largest mean activation over the natural crops, shape (C,)."""
    return natural_means(base, layer, preprocess, size, pre_activation).max(axis=0)


def constant_channels(base: keras.Model, layer: str, preprocess: str,
                      size: int | tuple[int, int], tolerance: float = 1e-4) -> np.ndarray:
    """Channels whose pre-activation mean is the same on every natural crop, (C,) bool.

    Such a channel ignores its input (zero weights): no picture can drive it,
    so its dream stays at the starting image, which is flat.
    """
    means = natural_means(base, layer, preprocess, size, pre_activation=True)
    return np.ptp(means, axis=0) <= tolerance * (1.0 + np.abs(means).max(axis=0))


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
    return float(np.mean(high_frequency(natural_crops(_size_pair(size)))))


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
                          preprocess: str, views: int, seed: int):
    """`key_means` and `robust_key_means` of `images`, and the natural crops'
    means when not cached yet, from ONE `key_means` pass over all of them
    (one model, one compiled graph, evenly split batches)."""
    size = _size_pair(images.shape[1:3])
    missing = _uncached_natural_keys(base, keys, preprocess, size)
    stack = robust_views(images, views=views, seed=seed)
    parts = [np.asarray(images, "float32"), stack.reshape(-1, *stack.shape[2:])]
    if missing:
        parts.append(_natural_crops_for(base, size))
    means = key_means(base, keys, np.concatenate(parts), preprocess)
    n, n_views = len(images), len(parts[1])
    dreams = {key: value[:n] for key, value in means.items()}
    robust = {key: value[n:n + n_views].reshape(views, n, -1).mean(axis=0)
              for key, value in means.items()}
    for key in missing:
        _NATURAL_MEANS[(id(base), key, preprocess, size)] = (base, means[key][n + n_views:])
    return dreams, robust


def score_dreams(base: keras.Model, layer: str, images: np.ndarray, targets: Sequence[int],
                 preprocess: str, pre_activation: bool | None = None, views: int = 8,
                 seed: int = 0) -> list[dict[str, Any]]:
    """One JSON-ready record per dream of `images` (uint8, N x H x W x C).

    `activation`, `rank`, `robust_activation`, `robust_rank` read the layer's
    output. `pre_activation`: None (default) also reads the pre-activation
    exactly when the layer is a capped ReLU; True / False force it on / off.
    When it is read, `pre_activation`, `pre_rank`, `pre_robust_activation`,
    `pre_robust_rank`, `pre_natural_ratio`, `pre_robust_natural_ratio` are
    added and `natural_ratio` / `robust_natural_ratio` are the pre-activation
    ones (`natural_ratio_from` says which was used). `constant_channel` marks
    a filter that ignores its input (`constant_channels`): its dream is flat
    whatever the recipe.
    """
    images = np.asarray(images)
    targets = [int(t) for t in targets]
    size = images.shape[1:3]
    cap = relu_cap(base, layer)
    use_pre = cap is not None if pre_activation is None else bool(pre_activation)

    post_key, pre_key = scoring_keys(base, layer)
    dream_means, robust_means = _dream_and_view_means(base, [post_key, pre_key], images,
                                                      preprocess, views, seed)

    def measures(key: str, pre: bool):
        maxima = natural_maxima(base, layer, preprocess, size, pre)
        return dream_means[key], robust_means[key], maxima

    acts, robust, maxima = measures(post_key, False)
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
            "cap": cap,
            "pixel_std": float(stds[i]),
            "flat": bool(stds[i] < FLAT_STD),
            "constant_channel": bool(constant[k]),
            "clipped_fraction": float(clipped[i]),
            "high_frequency": float(noise[i]),
            "column_selective": bool(selective[i]),
        }
        if pre is not None:
            record.update(_activation_record(*pre, i, k, prefix="pre_"))
            record["natural_ratio"] = record["pre_natural_ratio"]
            record["robust_natural_ratio"] = record["pre_robust_natural_ratio"]
            record["natural_ratio_from"] = "pre-activation"
        records.append(record)
    return records
