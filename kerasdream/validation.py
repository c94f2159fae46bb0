"""One vocabulary for bad values: the API and the command line say the same words.

Every check raises `DreamError` with one Keras-style line that names the
value (`... Received: steps=-3`). `DreamModel`, `train` and the other entry
points call these functions; so do the command line's argument types
(`argument_type`), which hand them the value as typed when it is not even a
number, so `--steps -3` and `kd.train(model, steps=-3)` fail with one text.

No Keras, TensorFlow or numpy import at module level: `kerasdream --help` and
argument errors load this module.
"""

from __future__ import annotations

import argparse
import math
import numbers
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from kerasdream.defaults import FLOAT32_MAX, MAX_SEED
from kerasdream.errors import DreamError

T = TypeVar("T")

# The least a dream step holds per image pixel and channel, in float32 copies:
# the image, its parameterization, the transformed and preprocessed views,
# and the gradients of each. The network's activations come on top.
COPIES_PER_PIXEL = 8


def _is_integer(value: Any) -> bool:
    """An int or numpy integer, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    """An int, float or numpy scalar number, not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_schedule(value: Any) -> bool:
    """Whether `value` is a Keras learning-rate schedule (only possible once Keras is loaded)."""
    if "keras" not in sys.modules:
        return False
    import keras

    return isinstance(value, keras.optimizers.schedules.LearningRateSchedule)


def check_positive_int(name: str, value: Any, limit: int | None = None) -> None:
    """Refuse anything but a positive integer (up to `limit`).

    Args:
        name: the argument's name, as the caller wrote it.
        value: the value to check.
        limit: the largest value allowed, or None for no limit.

    Raises:
        DreamError: naming `name` and the value received.
    """
    if not _is_integer(value) or value < 1:
        raise DreamError(f"{name} must be a positive integer. Received: {name}={value!r}")
    if limit is not None and value > limit:
        raise DreamError(f"{name} must be a positive integer up to {limit}. "
                         f"Received: {name}={value!r}")


def check_seed(seed: Any) -> int:
    """A seed numpy and the transforms accept: an integer from 0 to 2**32 - 1.

    Args:
        seed: the value to check.

    Returns:
        The seed as a Python int.

    Raises:
        DreamError: for any other value.
    """
    if not _is_integer(seed) or not 0 <= seed <= MAX_SEED:
        raise DreamError(f"seed must be an integer from 0 to {MAX_SEED} (2**32 - 1). "
                         f"Received: seed={seed!r}")
    return int(seed)


def _positive_finite(value: Any) -> bool:
    return _is_real(value) and math.isfinite(value) and 0 < value <= FLOAT32_MAX


def check_learning_rate(learning_rate: Any) -> None:
    """A positive number float32 can hold (numpy scalars too), or a Keras schedule.

    Raises:
        DreamError: for any other value.
    """
    if _is_schedule(learning_rate):
        return
    if not _positive_finite(learning_rate):
        raise DreamError(f"Learning rate must be a positive finite number (at most "
                         f"float32's {FLOAT32_MAX:.4g}). Received: learning_rate={learning_rate!r}")


def check_positive_number(name: str, value: Any) -> None:
    """A positive finite number float32 can hold (a weight, a scale).

    Raises:
        DreamError: naming `name` and the value received.
    """
    if not _positive_finite(value):
        raise DreamError(f"{name} must be a positive finite number (at most float32's "
                         f"{FLOAT32_MAX:.4g}). Received: {name}={value!r}")


def check_non_negative(name: str, value: Any, what: str | None = None) -> None:
    """A finite number >= 0 (a strength, a selectivity, a tolerance).

    Args:
        name: the argument's name, shown after `Received:`.
        value: the value to check.
        what: how the sentence names it (default: `name` capitalized).

    Raises:
        DreamError: naming the value received.
    """
    if not _is_real(value) or not math.isfinite(value) or value < 0:
        what = what or name[:1].upper() + name[1:]
        raise DreamError(f"{what} must be a finite number >= 0. Received: {name}={value!r}")


def check_size(size: Any) -> tuple[int, int]:
    """An image size: a positive integer or a (height, width) pair of them.

    Returns:
        `(height, width)` as Python ints.

    Raises:
        DreamError: for any other value.
    """
    pair = (size, size) if _is_integer(size) else size
    if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2 \
            or not all(_is_integer(s) for s in pair):
        raise DreamError(f"Image size must be an integer or a (height, width) pair of "
                         f"integers (on the command line: 128 or 96x128). Received: size={size!r}")
    if min(pair) < 1:
        raise DreamError(f"Image size must be positive. Received: size={pair!r}")
    return int(pair[0]), int(pair[1])


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux), or the machine's total."""
    try:
        with open("/proc/meminfo", encoding="ascii") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(dreams: int, image_shape: Sequence[int]) -> None:
    """Refuse sizes whose images alone would not fit in memory (not a many-GiB allocation).

    Args:
        dreams: how many dreams are trained together.
        image_shape: `(height, width, channels)` of one dream.

    Raises:
        DreamError: when `dreams` images would need more than the memory available.
    """
    pixels = 1.0
    for side in image_shape:
        pixels *= float(side)
    need = int(dreams) * pixels * 4 * COPIES_PER_PIXEL
    have = available_memory()
    if have is not None and need > have:
        raise DreamError(
            f"{dreams} dream{'s' * (dreams != 1)} of {image_shape[0]}x{image_shape[1]} pixels "
            f"would need at least {need / 2**30:.1f} GiB of memory, more than the "
            f"{have / 2**30:.1f} GiB available. Use a smaller size or fewer dreams per batch. "
            f"Received: size={tuple(image_shape[:2])}")


# ------------------------------------------------------ the command line's side


def to_int(text: str) -> int | str:
    """`text` as an int, or the text itself for the check to name."""
    try:
        return int(text)
    except ValueError:
        return text


def to_float(text: str) -> float | str:
    """`text` as a float, or the text itself for the check to name."""
    try:
        return float(text)
    except ValueError:
        return text


def to_size(text: str) -> int | tuple[int | str, ...] | str:
    """'128' -> 128, '96x128' -> (96, 128); anything else as typed, for the check to name."""
    parts = text.lower().split("x")
    values = tuple(to_int(p) for p in parts)
    if len(values) == 1:
        return values[0]
    return values if len(values) == 2 and all(isinstance(v, int) for v in values) else text


def argument_type(convert: Callable[[str], Any], check: Callable[[Any], T | None],
                  name: str) -> Callable[[str], Any]:
    """An argparse `type`: `convert` the text, then `check` it with the API's own check.

    A `DreamError` from `check` becomes argparse's one-line usage error with
    the same words. The result is `check`'s return value where it returns
    one (a normalized value), else the converted value.

    Args:
        convert: text -> value (returning the text itself when it is no value).
        check: one of this module's checks, bound to its argument's name.
        name: what argparse calls the type in its own messages.
    """
    def parse(text: str) -> Any:
        value = convert(text)
        try:
            checked = check(value)
        except DreamError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return value if checked is None else checked

    parse.__name__ = name
    return parse
