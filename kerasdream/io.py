"""Files: atomic writes, PNGs and labelled grids (saving dreams: `kerasdream.saving`).

Every file is written to a temporary name in its folder and renamed into
place, so an interrupted run never leaves a partial PNG, JSON or model.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io as _bytes_io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kerasdream.errors import DreamError, RunFailed
from kerasdream.runs.runlock import remove_dead_temporaries, temporary_prefix

FRAME_COLOUR = (160, 160, 160)


# What a full or read-only disk raises, in any writer (PIL, h5py, zipfile, json).
_STORAGE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES,
                   errno.EPERM}


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def storage_error(error: BaseException, path: str) -> RunFailed | None:
    """One line for a write that failed for lack of space or permission, else None.

    Keras and h5py wrap the OSError in their own exceptions: the chain is searched.
    """
    seen = error
    while seen is not None and not (isinstance(seen, OSError) and seen.errno in _STORAGE_ERRORS):
        seen = seen.__cause__ or seen.__context__
    if seen is None:
        if "No space left on device" not in str(error) and "Errno 28" not in str(error):
            return None
        reason = "No space left on device"
    else:
        reason = os.strerror(seen.errno)
        path = seen.filename if isinstance(seen.filename, str) else path
    folder = os.path.dirname(os.path.abspath(path))
    try:
        free = f"{_amount(shutil.disk_usage(folder).free)} free there"
    except OSError:
        free = "free space unknown"
    return RunFailed(f"Could not write {path} ({reason}; {free}). Finished files are intact: "
                     f"free space or fix the permissions, then run the same command again.")


def _amount(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """A temporary path beside `path`; renamed onto `path` if the block succeeds.

    The file gets the mode the umask gives new files (mkstemp's is 0600), and a
    full or read-only disk is one `RunFailed` line naming the path.
    """
    folder = os.path.dirname(os.path.abspath(path))
    temporary = None
    try:
        os.makedirs(folder, exist_ok=True)
        suffix = os.path.splitext(path)[1]
        handle, temporary = tempfile.mkstemp(prefix=temporary_prefix(), suffix=suffix,
                                             dir=folder)
        os.close(handle)
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except Exception as error:
        failed = storage_error(error, path)
        if failed is None:
            raise
        raise failed from None
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.remove(temporary)


def check_writable(folder: str) -> None:
    """Create `folder` if needed and make sure files can be written in it."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise DreamError(f"Cannot write to this folder ({error.strerror}). "
                         f"Received: {folder!r}") from None
    if not os.access(folder, os.W_OK):  # root passes TemporaryFile, not a read-only mount
        raise DreamError(f"Cannot write to this folder (read-only). Received: {folder!r}")


def remove_stale_temporaries(folder: str) -> None:
    """Delete temporary files killed runs left in `folder` (recursively), not a live run's."""
    remove_dead_temporaries(folder)


def write_json(path: str, data: Any) -> None:
    with atomic_path(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=2, sort_keys=True)
            file.write("\n")


def read_json(path: str) -> Any:
    """The JSON at `path`, or None if it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError):
        return None


def _to_pil(image: np.ndarray) -> Image.Image:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(np.round(image), 0, 255).astype("uint8")
    channels = image.shape[-1]
    if channels == 1:
        return Image.fromarray(image[..., 0], mode="L")
    if channels == 3:
        return Image.fromarray(image, mode="RGB")
    if channels == 4:
        return Image.fromarray(image, mode="RGBA")
    # Other channel counts: show the first three (or the first, as grey).
    return _to_pil(image[..., :3] if channels > 3 else image[..., :1])


def write_bytes(path: str, data: bytes) -> str:
    """Write `data` to `path` atomically; return its SHA-256 (hex), hashed from
    the bytes in hand, not read back."""
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as file:
            file.write(data)
    return hashlib.sha256(data).hexdigest()


def png_bytes(image: np.ndarray) -> bytes:
    """One (H, W, C) image encoded as a PNG file's bytes. Same pixels, same bytes."""
    buffer = _bytes_io.BytesIO()
    _to_pil(image).save(buffer, format="PNG")
    return buffer.getvalue()


def save_png(path: str, image: np.ndarray) -> str:
    """Write one (H, W, C) image as a PNG, atomically.

    Returns:
        The SHA-256 (hex) of the file's bytes.
    """
    return write_bytes(path, png_bytes(image))


def load_image(path: str, size: tuple[int, int] | None = None, channels: int = 3) -> np.ndarray:
    """A photo as float32 (H, W, channels) in [0, 255], resized to `size` (h, w)."""
    try:
        with Image.open(path) as image:
            image.load()
            image = _eight_bit(image).convert("L" if channels == 1 else "RGB")
    except FileNotFoundError:
        raise DreamError(f"Image file not found. Received: image={path!r}") from None
    except Image.DecompressionBombError as error:
        raise too_large(error, path) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise DreamError(f"Could not read the image ({error}). Expected a PNG or JPEG "
                         f"file. Received: image={path!r}") from None
    if size is not None and image.size != (size[1], size[0]):
        image = image.resize((size[1], size[0]), Image.BILINEAR)
    array = np.asarray(image, dtype="float32")
    return array[..., None] if array.ndim == 2 else array


def too_large(error: Exception, path: str) -> DreamError:
    """The one-line refusal of an image whose header claims more pixels than
    PIL opens safely (`PIL.Image.MAX_IMAGE_PIXELS`: a small file can decode
    to gigabytes)."""
    return DreamError(f"The image is too large to open safely ({error}). Resize it "
                      f"first. Received: image={path!r}")


def check_image_size(path: str) -> None:
    """Refuse `path` as `load_image` would if it decodes to too many pixels.

    Reads the header only. A file that is not an image passes: whoever
    decodes it says so.

    Raises:
        DreamError: the image is too large to open safely.
    """
    try:
        with Image.open(path):
            pass
    except Image.DecompressionBombError as error:
        raise too_large(error, path) from None
    except (OSError, SyntaxError, ValueError):
        pass


def _eight_bit(image: Image.Image) -> Image.Image:
    """16- and 32-bit grey images scaled to 8 bits (PIL's convert would clip them)."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        array = np.asarray(image).astype("float64")
        top = 65535.0 if image.mode.startswith("I;16") or array.max() <= 65535 else 2**32 - 1
        return Image.fromarray(np.round(array * (255.0 / top)).astype("uint8"), mode="L")
    if image.mode == "F":
        array = np.asarray(image, dtype="float64")
        top = 1.0 if array.max() <= 1.0 else 255.0
        return Image.fromarray(np.clip(np.round(array * 255.0 / top), 0, 255).astype("uint8"),
                               mode="L")
    return image


def grid(images: np.ndarray, labels: Sequence[str] | None = None, columns: int | None = None,
         title: str | None = None) -> np.ndarray:
    """Images side by side in a grid, each labelled underneath; RGB uint8.

    Each tile has a thin grey frame, so a white or flat dream still shows
    where it is on the white page.
    """
    images = [np.asarray(_to_pil(im).convert("RGB")) for im in images]
    count = len(images)
    columns = columns or min(count, 8)
    rows = -(-count // columns)
    height, width = images[0].shape[:2]
    pad, label_height = 4, 14 if labels else 0
    top = 18 if title else 0
    canvas = Image.new(
        "RGB",
        (columns * (width + pad) + pad, top + rows * (height + label_height + pad) + pad),
        "white",
    )
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    if title:
        draw.text((pad, 3), title, fill="black", font=font)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        x = pad + column * (width + pad)
        y = top + pad + row * (height + label_height + pad)
        canvas.paste(Image.fromarray(image), (x, y))
        draw.rectangle((x - 1, y - 1, x + width, y + height), outline=FRAME_COLOUR)
        if labels:
            draw.text((x, y + height + 1), str(labels[index]), fill="black", font=font)
    return np.asarray(canvas)


def stack(pictures: Sequence[np.ndarray]) -> np.ndarray:
    """Pictures one under another on a white background (a gallery overview)."""
    width = max(p.shape[1] for p in pictures)
    padded = [
        np.pad(p, ((0, 0), (0, width - p.shape[1]), (0, 0)), constant_values=255)
        for p in pictures
    ]
    return np.concatenate(padded, axis=0)
