"""Natural photos: the reference photos, their crops, and a network's
channel means and maxima on them (the natural ratio's yardstick).

The photos are a `Reference` (`photo_folder`): the `skimage.data` photos
by default, or some of the user's own (`reference_photos` reads them). `photo_crops` is the one way
a photo becomes crops at a size: the reference crops here and MACO's
spectrum from a folder of photos (`param.maco`) both use it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import keras
import numpy as np

from kerasdream.evaluation.means import feature_key, key_means, memo
from kerasdream.errors import DreamError
from kerasdream.network.bases import image_input
from kerasdream.photo_folder import SKIMAGE, Reference, content_digests

# skimage.data photos (not synthetic images), greyscale ones used as RGB.
NATURAL_PHOTOS = (
    "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
    "immunohistochemistry", "camera", "coins", "moon", "grass", "gravel", "brick",
)
# (zoom, fy, fx): the photo is resized so that it is `zoom` x the crop along
# its tighter side (1: the largest crop of the crop's shape), and the crop
# sits at fraction (fy, fx) of the free range. Six crops per photo.
NATURAL_CROPS = (
    (1.0, 0.5, 0.5), (1.5, 0.2, 0.3), (1.5, 0.8, 0.7),
    (2.5, 0.3, 0.7), (2.5, 0.7, 0.3), (2.5, 0.5, 0.5),
)


def size_pair(size: int | Sequence[int]) -> tuple[int, int]:
    """`(height, width)` of an int or a pair."""
    return (int(size), int(size)) if np.isscalar(size) else (int(size[0]), int(size[1]))


def crop_boxes(photo_shape: Sequence[int], size: int | Sequence[int],
               crops: Sequence[tuple[float, float, float]] = NATURAL_CROPS
               ) -> list[tuple[int, int, int, int]]:
    """Where each crop of a photo of `photo_shape` (H, W, ...) comes from.

    For each (zoom, fy, fx) of `crops` the photo is resized by
    `max(zoom * height / H, zoom * width / W)` (each side rounded, never below the
    crop's), and the crop's top-left corner is at `round(fy * free rows)`,
    `round(fx * free columns)`.

    Returns:
        One `(resized H, resized W, top, left)` per crop.
    """
    height, width = size_pair(size)
    photo_h, photo_w = int(photo_shape[0]), int(photo_shape[1])
    boxes = []
    for zoom, fy, fx in crops:
        factor = max(zoom * height / photo_h, zoom * width / photo_w)
        new_h = max(height, int(round(photo_h * factor)))
        new_w = max(width, int(round(photo_w * factor)))
        boxes.append((new_h, new_w, int(round(fy * (new_h - height))),
                      int(round(fx * (new_w - width)))))
    return boxes


def photo_crops(photo: np.ndarray, size: int | Sequence[int],
                crops: Sequence[tuple[float, float, float]] = NATURAL_CROPS) -> np.ndarray:
    """Deterministic crops of one photo at `size` (`crop_boxes`), bilinear resizing.

    Args:
        photo: (H, W), (H, W, 1) or (H, W, 3) values 0..255 (cast to uint8).
        size: the crops' side, or (height, width).
        crops: (zoom, fy, fx) of each crop.

    Returns:
        uint8 array (len(crops), height, width, channels).
    """
    from PIL import Image

    height, width = size_pair(size)
    photo = np.asarray(photo)
    channels = photo.shape[-1] if photo.ndim == 3 else 1
    plane = photo[..., 0] if photo.ndim == 3 and channels == 1 else photo
    image = Image.fromarray(plane.astype("uint8"))
    out = []
    for new_h, new_w, top, left in crop_boxes(photo.shape, (height, width), crops):
        resized = np.asarray(image.resize((new_w, new_h), Image.BILINEAR))
        out.append(resized.reshape(new_h, new_w, channels)[top:top + height, left:left + width])
    return np.stack(out)


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


@functools.lru_cache(maxsize=4)
def reference_photos(reference: Reference, side: int) -> tuple[np.ndarray, ...]:
    """The reference's photos as RGB uint8 arrays, no smaller than needed for
    crops of `side` pixels (a large JPEG is decoded at a reduced scale).

    Raises:
        DreamError: a photo changed since the reference was made, or cannot be read.
    """
    from PIL import Image

    from kerasdream import io

    photos = []
    for name, digest, path in zip(reference.names, reference.digests, reference.paths()):
        if content_digests(reference.folder, [name])[0] != digest:
            raise DreamError(f"A reference photo changed during the run; run again to use "
                             f"the new one. Received: photo={path!r}")
        try:
            with Image.open(path) as image:
                image.draft(image.mode, (side, side))  # JPEG: the smallest scale >= side
                image.load()
                photo = io._eight_bit(image).convert("RGB")
        except Image.DecompressionBombError as error:
            raise io.too_large(error, path) from None
        except (OSError, SyntaxError, ValueError) as error:
            raise DreamError(f"Could not read a reference photo ({error}). Expected a PNG or "
                             f"JPEG file. Received: photo={path!r}") from None
        shrink = side / min(photo.size)
        if shrink < 0.8:  # larger than the crops need: keep memory bounded
            photo = photo.resize((max(side, round(photo.width * shrink)),
                                  max(side, round(photo.height * shrink))), Image.BILINEAR)
        photos.append(np.asarray(photo, "uint8"))
    return tuple(photos)


@functools.lru_cache(maxsize=8)
def natural_crops(size: int | tuple[int, int], channels: int = 3) -> np.ndarray:
    """Six deterministic crops of each `skimage.data` photo at `size`, uint8 (M, H, W, channels)."""
    crops = np.concatenate([photo_crops(photo, size) for photo in natural_photos()])
    return _in_channels(crops, channels)


@functools.lru_cache(maxsize=8)
def reference_crops(reference: Reference, size: int | tuple[int, int],
                    channels: int = 3) -> np.ndarray:
    """Six deterministic crops of each of `reference`'s photos at `size`, uint8
    (M, H, W, channels): `natural_crops` for the skimage reference."""
    if not reference.is_own:
        return natural_crops(size, channels)
    size = size_pair(size)
    photos = reference_photos(reference, reference_side(size))
    return _in_channels(np.concatenate([photo_crops(photo, size) for photo in photos]), channels)


def reference_side(size: Sequence[int]) -> int:
    """The smallest photo side the crops at `size` need: the largest zoom's."""
    return int(math.ceil(max(zoom for zoom, _, _ in NATURAL_CROPS) * max(size)))


def _in_channels(crops: np.ndarray, channels: int) -> np.ndarray:
    """RGB crops as they are, or in grey (ITU-R 601 luma) for a one-channel network."""
    if channels == 1:
        return np.round(crops @ np.array([0.299, 0.587, 0.114])).astype("uint8")[..., None]
    return crops


def natural_means(base: keras.Model, layer: str, preprocess: str,
                  size: int | tuple[int, int], pre_activation: bool = False,
                  reference: Reference = SKIMAGE) -> np.ndarray:
    """Every reference crop's channel means at `size`, shape (M, C).

    Computed once per (base, reference, layer, preprocessing, size) and kept
    with the base (`means.memo`).
    """
    key = feature_key(base, layer, pre_activation)
    return natural_key_means(base, [key], preprocess, size, reference)[key]


def natural_key_means(base: keras.Model, keys: Sequence[str], preprocess: str,
                      size: int | tuple[int, int],
                      reference: Reference = SKIMAGE) -> dict[str, np.ndarray]:
    """`natural_means` of every feature key; the keys not yet kept run in one pass."""
    size = size_pair(size)
    missing = uncached_natural_keys(base, keys, preprocess, size, reference)
    if missing:
        means = key_means(base, missing, natural_crops_for(base, size, reference), preprocess)
        keep_natural_means(base, preprocess, size, means, reference)
    kept = memo(base)
    return {key: kept[_memo_key(reference, key, preprocess, size)] for key in keys}


def _memo_key(reference: Reference, key: str, preprocess: str, size: tuple[int, int]) -> tuple:
    return ("natural", reference.key, key, preprocess, size)


def uncached_natural_keys(base: keras.Model, keys: Sequence[str], preprocess: str,
                          size: tuple[int, int], reference: Reference = SKIMAGE) -> list[str]:
    """The keys whose reference means for `base` are not kept yet."""
    kept = memo(base)
    return [key for key in keys if _memo_key(reference, key, preprocess, size) not in kept]


def keep_natural_means(base: keras.Model, preprocess: str, size: tuple[int, int],
                       means: dict[str, np.ndarray], reference: Reference = SKIMAGE) -> None:
    """Keep the reference crops' means {key: (M, C)} of `base` at `size`."""
    kept = memo(base)
    for key, value in means.items():
        kept[_memo_key(reference, key, preprocess, size)] = value


def natural_crops_for(base: keras.Model, size: tuple[int, int],
                      reference: Reference = SKIMAGE) -> np.ndarray:
    """The reference crops at `size` with `base`'s number of input channels, float32."""
    channels = int(image_input(base).shape[-1] or 3)
    return reference_crops(reference, size, channels).astype("float32")


def natural_maxima(base: keras.Model, layer: str, preprocess: str,
                   size: int | tuple[int, int], pre_activation: bool = False,
                   reference: Reference = SKIMAGE) -> np.ndarray:
    """Each channel's largest mean activation over the reference crops, shape (C,)."""
    return natural_means(base, layer, preprocess, size, pre_activation, reference).max(axis=0)


def constant_channels(base: keras.Model, layer: str, preprocess: str,
                      size: int | tuple[int, int], tolerance: float = 1e-4) -> np.ndarray:
    """Channels whose pre-activation mean is the same on every skimage crop, (C,) bool.

    Such a channel ignores its input (zero weights): no picture can drive it,
    so its dream stays at the starting image, which is flat. Read on skimage's
    varied photos whatever the reference: a user's folder may leave a unit
    still (the border of digits) that other pictures drive.
    """
    means = natural_means(base, layer, preprocess, size, pre_activation=True)
    return np.ptp(means, axis=0) <= tolerance * (1.0 + np.abs(means).max(axis=0))
