"""The natural reference: the photos a dream is judged against.

The natural ratio and the path check compare a dream with crops of real
photos (`evaluation.natural`). By default those are the `skimage.data`
photos (the constant-filter check always reads them: whether a filter
ignores its input is the network's property, not the photos'). A user who dreams their own network has
photos of what it was trained on (digits, faces, X-rays), and those say far
more about it than skimage's astronaut: `folder_reference` makes a
reference of up to `REFERENCE_PHOTOS` photos of a folder (chosen evenly
over its sorted file names), cropped and sized exactly as skimage's
(`natural.photo_crops`, six crops a photo) and in the network's own number
of channels. The gallery commands use the `--examples` folder.

A `Reference` is small and picklable (a folder, file names and their
contents' SHA-256), so a cluster worker reads the same photos from the
shared folder; `key` names it in every dream's record, so a rerun with
other photos rescores the dreams instead of retraining them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kerasdream.defaults import SKIMAGE_REFERENCE as SKIMAGE_KEY
from kerasdream.errors import DreamError

# How many of a folder's photos the reference crops (six crops each): twice
# skimage's twelve, and few enough to read in a fraction of a second.
REFERENCE_PHOTOS = 24


@dataclass(frozen=True)
class Reference:
    """The photos dreams are compared with: `skimage.data`'s (the default,
    `folder=None`) or some of a folder's (`folder_reference`).

    Attributes:
        folder: The photos' folder (absolute), or None for skimage's.
        names: The photos used, relative to `folder`.
        digests: The SHA-256 of each photo's bytes, as when the reference was made.
    """

    folder: str | None = None
    names: tuple[str, ...] = ()
    digests: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """What names the reference in records and memo keys: 'skimage', or the
        folder and a hash of its photos' names and contents."""
        if self.folder is None:
            return SKIMAGE_KEY
        from kerasdream.photo_folder import fingerprint

        return f"{self.folder}#{fingerprint(self.folder, self.names, self.digests)[:16]}"

    @property
    def is_own(self) -> bool:
        """Whether these are the user's own photos (not skimage's)."""
        return self.folder is not None

    def describe(self) -> str:
        """How summaries name it: 'real photos', or 'your N photos of DIR'."""
        if self.folder is None:
            return "real photos"
        count = len(self.names)
        return f"your {count} photo{'s' * (count != 1)} of {self.folder}"

    def paths(self) -> list[str]:
        """The photos' paths (empty for skimage's)."""
        return [os.path.join(self.folder, name) for name in self.names] if self.folder else []

    def as_json(self) -> dict:
        """What `metrics.json` says of it."""
        if self.folder is None:
            return {"photos": "skimage.data", "key": SKIMAGE_KEY}
        return {"photos": self.folder, "count": len(self.names), "key": self.key}


SKIMAGE = Reference()


def folder_reference(folder: str, exclude: Sequence[str] = (),
                     count: int = REFERENCE_PHOTOS) -> Reference:
    """Up to `count` photos of `folder`, evenly spaced over its sorted file
    names (`photo_folder.scan_images`); files that do not decode are left out.

    Args:
        folder: A folder of JPEG / PNG photos (nested folders too).
        exclude: Folders inside it that are not searched (an output folder).
        count: How many photos at most.

    Returns:
        The `Reference`.

    Raises:
        DreamError: `folder` is missing or holds no photo that decodes.
    """
    from kerasdream.photo_folder import content_digests, find_images
    from kerasdream.validation import check_positive_int

    check_positive_int("count", count)
    names = find_images(folder, exclude)
    chosen = [names[i] for i in _evenly(len(names), count)]
    readable = [name for name in chosen if _decodes(os.path.join(folder, name))]
    if not readable:
        raise DreamError(f"None of the {len(chosen)} photos tried in the examples folder "
                         f"could be decoded. Expected JPEG or PNG files. Received: "
                         f"examples={folder!r}")
    folder = os.path.abspath(folder)
    return Reference(folder, tuple(readable), tuple(content_digests(folder, readable)))


def _decodes(path: str) -> bool:
    """Whether `path` decodes as an image (a JPEG at its smallest scale: fast)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.draft(image.mode, (64, 64))
            image.load()
        return True
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


def _evenly(total: int, count: int) -> list[int]:
    """`count` indices spread evenly over range(total), first and last included."""
    if total <= count:
        return list(range(total))
    if count == 1:
        return [0]
    return sorted({round(i * (total - 1) / (count - 1)) for i in range(count)})


@functools.lru_cache(maxsize=4)
def reference_photos(reference: Reference, side: int) -> tuple[np.ndarray, ...]:
    """The reference's photos as RGB uint8 arrays, no smaller than needed for
    crops of `side` pixels (a large JPEG is decoded at a reduced scale).

    Raises:
        DreamError: a photo changed since the reference was made, or cannot be read.
    """
    from PIL import Image

    from kerasdream import io
    from kerasdream.photo_folder import content_digests

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

