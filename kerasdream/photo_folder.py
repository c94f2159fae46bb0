"""A folder of the user's photos: which files in it are photos, and its fingerprint.

Shared by the dataset examples (`kerasdream.examples`), the activation atlas
and the natural reference (`kerasdream.evaluation.reference`). No Keras: a
driver reads a folder before any network loads.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from kerasdream import io
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
