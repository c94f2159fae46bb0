"""Where a gallery's files go and what its status words are: one place for both.

A gallery folder holds, per layer, `<layer folder>/filter_<k>.png` (the
dream), `filter_<k>.json` (its commit record), `metrics.json` (the layer's
summary) and `grid.png`; the per-filter models go under
`<models>/<network>/<layer folder>/filter_<k>.<format>`. No Keras here: the
site, the examples and a cluster's driver read these names too.
"""

from __future__ import annotations

import re

METRICS_FILE = "metrics.json"
GRID_FILE = "grid.png"
GALLERY_FILE = "gallery.png"
# In a models folder's layer folder: the output folder whose dreams its models are.
MODELS_OWNER_FILE = ".kerasdream-out.json"
RECORD_PATTERN = re.compile(r"^filter_(\d+)\.json$")

# A dream's status in its record and in metrics.json.
OK = "ok"
# Not one training step changed it: its filter never fired, so no gradient reached it.
DEAD = "dead"
# Its filter ignores its input: the same output for the noise it started from and
# for the dream, so the dream shows nothing of the filter (a flat tile, at best).
CONSTANT = "constant"
# Statuses of finished dreams (a rerun skips them); every other status is a dream to redo.
FINISHED = (OK, DEAD, CONSTANT)
SATURATED_PREFIX = "saturated"


def saturated_status(share: float) -> str:
    """The status of a dream whose pixel values are `share` 0 or 255."""
    return (f"{SATURATED_PREFIX}: {share:.0%} of its pixel values are 0 or 255 "
            f"(the learning rate is too large)")


def non_finite_status(step: int) -> str:
    """The status of a dream restored to its last finite image before `step`."""
    return f"non-finite by step {step}"


def stopped_status(step: int) -> str:
    """The status of a healthy dream stopped with its chunk at `step`."""
    return f"stopped at step {step} (another dream of its chunk went non-finite)"


# Characters a name keeps in a file name; every other one is written `~XX` (its
# UTF-8 bytes in hex), which is safe in a path and in a URL alike.
_KEPT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
# Longest name kept whole (file systems allow 255 bytes; room for suffixes).
_LONGEST = 160


def path_name(name: str, what: str = "layer_name") -> str:
    """`name` (a layer's, a model's) as one file or folder name, never a path.

    The one escaping of names that reach the file system: a nested layer's
    `/` becomes `__` ('block/relu' -> 'block__relu'), every character but
    letters, digits, `_`, `.` and `-` becomes `~XX` (its bytes in hex), a
    leading `.` too (so `..` is `~2E.` and no name is hidden or climbs out),
    and a very long name is cut and ends in a hash of the whole.

    Args:
        name: The name.
        what: The argument it came from, for the error.

    Returns:
        A name with no separator, never `.` or `..`.

    Raises:
        DreamError: an empty name, or one that is not text.
    """
    from kerasdream.errors import DreamError

    if not isinstance(name, str) or not name or "\0" in name:
        raise DreamError(f"A name cannot be used as a file or folder name: it must be "
                         f"non-empty text without NUL characters. Received: {what}={name!r}")
    text = "".join(c if c in _KEPT else "".join(f"~{b:02X}" for b in c.encode("utf-8"))
                   for c in name.replace("/", "__"))
    if text.startswith("."):
        text = "~2E" + text[1:]
    if len(text) > _LONGEST:
        import hashlib

        text = text[:_LONGEST - 17] + "-" + hashlib.sha256(name.encode()).hexdigest()[:16]
    return text


def layer_folder(layer: str) -> str:
    """The folder name of `layer` ('block/relu' -> 'block__relu'; see `path_name`)."""
    return path_name(layer)


def png_name(k: int) -> str:
    return f"filter_{k}.png"


def record_name(k: int) -> str:
    return f"filter_{k}.json"


def model_name(k: int, model_format: str) -> str:
    return f"filter_{k}.{model_format}"


def transparency_names(png: str) -> tuple[str, str]:
    """MACO's `filter_k_transparency.png` and `filter_k_overlay.png` beside `png`."""
    stem = png[: -len(".png")] if png.endswith(".png") else png
    return f"{stem}_transparency.png", f"{stem}_overlay.png"


def network_name(spec) -> str:
    """A folder name for the network of `spec` (a `BaseSpec`): 'mobilenet-0.25',
    'vgg16', 'my_model'."""
    import os

    if spec.is_file:
        return path_name(os.path.splitext(os.path.basename(spec.model))[0], "model")
    if spec.model.lower() in ("mobilenet", "mobilenetv2"):
        return f"{spec.model.lower()}-{spec.resolved_alpha():g}"
    return path_name(spec.model.lower(), "model")
