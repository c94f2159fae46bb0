"""Checks of the values a user gives, one wording for the API and the command line.

No Keras, TensorFlow or numpy import at module level: the command line's
argument types call these too, before anything heavy is loaded. numpy
scalars pass as numbers (numpy registers them with `numbers`).
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from collections.abc import Sequence

from kerasdream.defaults import FLOAT32_MAX, MAX_SEED
from kerasdream.errors import DreamError

# The least a dream step holds per image pixel and channel, in float32 copies:
# the image, its parameterization, the transformed and preprocessed views,
# and the gradients of each. The network's activations come on top.
COPIES_PER_PIXEL = 8


def _is_schedule(value) -> bool:
    """Whether `value` is a Keras learning-rate schedule (Keras only if it is loaded)."""
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.optimizers.schedules.LearningRateSchedule)


def check_learning_rate(learning_rate) -> None:
    """Accept a positive number float32 can hold (numpy scalars too), or a schedule.

    Args:
        learning_rate: the value to check.

    Raises:
        DreamError: for anything else, naming the value.
    """
    if _is_schedule(learning_rate):
        return
    if not isinstance(learning_rate, numbers.Real) or isinstance(learning_rate, bool) \
            or not math.isfinite(learning_rate) or not 0 < learning_rate <= FLOAT32_MAX:
        raise DreamError(f"Learning rate must be a positive finite number (at most "
                         f"float32's {FLOAT32_MAX:.4g}). Received: learning_rate={learning_rate!r}")


def check_seed(seed) -> int:
    """A seed from 0 to `MAX_SEED` as an int.

    Args:
        seed: the value to check (an integer, numpy integers too).

    Returns:
        `int(seed)`.

    Raises:
        DreamError: for a non-integer or one out of range.
    """
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) \
            or not 0 <= seed <= MAX_SEED:
        raise DreamError(f"seed must be an integer from 0 to {MAX_SEED} (2**32 - 1). "
                         f"Received: seed={seed!r}")
    return int(seed)


def check_positive_int(name: str, value, limit: int | None = None) -> None:
    """Accept a positive integer (numpy integers too), at most `limit` if given.

    Args:
        name: the argument's name, for the message.
        value: the value to check.
        limit: the largest value allowed, or None.

    Raises:
        DreamError: naming `name` and the value.
    """
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise DreamError(f"{name} must be a positive integer. Received: {name}={value!r}")
    if limit is not None and value > limit:
        raise DreamError(f"{name} must be a positive integer up to {limit}. "
                         f"Received: {name}={value!r}")


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
        dreams: how many dreams train together.
        image_shape: (height, width, channels) of each.

    Raises:
        DreamError: when `COPIES_PER_PIXEL` float32 copies of the images
            exceed `available_memory()`.
    """
    need = int(dreams) * int(math.prod(float(d) for d in image_shape)) * 4 * COPIES_PER_PIXEL
    have = available_memory()
    if have is not None and need > have:
        raise DreamError(
            f"{dreams} dream{'s' * (dreams != 1)} of {image_shape[0]}x{image_shape[1]} pixels "
            f"would need at least {need / 2**30:.1f} GiB of memory, more than the "
            f"{have / 2**30:.1f} GiB available. Use a smaller size or fewer dreams per batch. "
            f"Received: size={tuple(image_shape[:2])}")
