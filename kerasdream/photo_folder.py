"""A folder of the user's photos: which files in it are photos, its
fingerprint, and the natural reference made of some of them.

Shared by the dataset examples (`kerasdream.examples`), the activation atlas
and the dreams' scoring. The natural ratio and the path check compare a
dream with crops of real photos (`evaluation.natural`): by default the
`skimage.data` photos (`SKIMAGE`). A user who dreams their own network has
photos of what it was trained on (digits, faces, X-rays), and those say far
more about it than skimage's astronaut: `folder_reference` makes a
`Reference` of up to `REFERENCE_PHOTOS` photos of a folder (the gallery
commands' `--examples`). A `Reference` is small and picklable (a folder,
file names and their contents' SHA-256), so a cluster worker reads the same
photos from the shared folder; its `key` names it in every dream's record,
so a rerun with other photos rescores the dreams instead of retraining them.
No Keras: a driver reads a folder before any network loads.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

from kerasdream import io
from kerasdream.defaults import SKIMAGE_REFERENCE as SKIMAGE_KEY
from kerasdream.errors import DreamError

EXTENSIONS = (".jpg", ".jpeg", ".png")


def scan_images(folder: str, exclude: Sequence[str] = ()) -> tuple[list[str], dict[str, str]]:
    """The photos under `folder` and the files skipped, with why.

    Every JPEG / PNG file under `folder`, nested folders included, as paths
    relative to it in a stable (sorted) order. Skipped and named: a dangling
    symlink, a symlink loop, what is not a regular file (a named pipe would
    block a reader forever), and an image whose header claims more pixels
    than is safe to decode (`io.check_image_size`, as the photo commands
    refuse it). Folders in `exclude` (an output folder inside this one: the
    tool's own pictures are no examples) are not searched.

    Returns:
        (names, {name: reason skipped}).

    Raises:
        DreamError: `folder` is not a folder.
    """
    if not os.path.isdir(folder):
        raise DreamError(f"The examples folder does not exist or is not a folder. Expected "
                         f"a folder of JPEG or PNG images. Received: examples={folder!r}")
    excluded = {os.path.realpath(path) for path in exclude if path}
    found, skipped = [], {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs
                         if os.path.realpath(os.path.join(root, d)) not in excluded)
        for name in files:
            if not name.lower().endswith(EXTENSIONS) or name.startswith("."):
                continue
            path = os.path.join(root, name)
            relative = os.path.relpath(path, folder)
            reason = _not_a_photo(path)
            if reason:
                skipped[relative] = reason
            else:
                found.append(relative)
    return sorted(found), dict(sorted(skipped.items()))


def _not_a_photo(path: str) -> str | None:
    """Why `path` cannot be read as a photo without harm, or None."""
    import errno
    import stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "a dangling symlink"
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a symlink loop"
        return f"unreadable ({error.strerror})"
    if not stat.S_ISREG(mode):
        return "not a regular file (a named pipe, socket or device)"
    try:
        io.check_image_size(path)
    except DreamError:
        return "too large to open safely (decodes to more pixels than PIL.Image.MAX_IMAGE_PIXELS)"
    return None


def find_images(folder: str, exclude: Sequence[str] = ()) -> list[str]:
    """Every photo under `folder` (see `scan_images`); a clear error if none."""
    found, skipped = scan_images(folder, exclude)
    if not found:
        raise _no_images(folder, skipped)
    return found


def _no_images(folder: str, skipped: dict[str, str]) -> DreamError:
    also = (f" ({len(skipped)} skipped: " + _named(skipped) + ")") if skipped else ""
    return DreamError(f"The examples folder has no images{also}. Expected .jpg, .jpeg or "
                      f".png files (nested folders are searched). Received: "
                      f"examples={folder!r}")


def _named(skipped: dict[str, str], most: int = 3) -> str:
    """'a.jpg (a dangling symlink), b.png (a symlink loop), ...'."""
    items = [f"{name} ({why})" for name, why in list(skipped.items())[:most]]
    return ", ".join(items) + (", ..." if len(skipped) > most else "")


def content_digests(folder: str, names: Sequence[str]) -> list[str]:
    """The SHA-256 of each file's bytes: what a photo is, whatever its time stamp."""
    digests = []
    for name in names:
        digest = hashlib.sha256()
        with open(os.path.join(folder, name), "rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        digests.append(digest.hexdigest())
    return digests


def fingerprint(folder: str, names: Sequence[str],
                digests: Sequence[str] | None = None) -> str:
    """A hash of the files' names and contents: it changes when a file is
    added, removed or replaced, even by one of the same size and time."""
    digests = content_digests(folder, names) if digests is None else digests
    digest = hashlib.sha1()
    for name, content in zip(names, digests):
        digest.update(f"{name}\0{content}\n".encode())
    return digest.hexdigest()


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
    names (`scan_images`); files that do not decode are left out.

    Args:
        folder: A folder of JPEG / PNG photos (nested folders too).
        exclude: Folders inside it that are not searched (an output folder).
        count: How many photos at most.

    Returns:
        The `Reference`.

    Raises:
        DreamError: `folder` is missing or holds no photo that decodes.
    """
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
