"""Where a command's seconds go: start-up, loading, building, tracing, training, writing.

`stage(name)` adds the wall time of its block to `name`; the gallery marks
its stages, and `kerasdream filters|gallery|atlas --profile` prints them.
Keeping the clock always on costs a few microseconds a chunk.

`trace` is the first `fit` call of a freshly built model minus what one
call of its steps costs afterwards (`FitClock`): TensorFlow traces and
optimizes the training function inside that first call.
"""

from __future__ import annotations

import contextlib
import os
import time

import numpy as np

STAGES = ("start-up", "load", "build", "trace", "train", "score", "write")
_seconds: dict[str, float] = {}


def reset() -> None:
    _seconds.clear()


def add(name: str, seconds: float) -> None:
    _seconds[name] = _seconds.get(name, 0.0) + max(0.0, float(seconds))


@contextlib.contextmanager
def stage(name: str):
    """Add the block's wall time to stage `name`."""
    began = time.perf_counter()
    try:
        yield
    finally:
        add(name, time.perf_counter() - began)


def seconds() -> dict[str, float]:
    return dict(_seconds)


def process_age() -> float | None:
    """Seconds since this process started (Linux), or None."""
    try:
        with open("/proc/self/stat", encoding="ascii") as file:
            start_ticks = int(file.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as file:
            uptime = float(file.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def mark_start_up() -> None:
    """Record the start-up stage: the interpreter and the imports, up to now."""
    age = process_age()
    if age is not None and "start-up" not in _seconds:
        add("start-up", age)


def report(total: float | None = None) -> str:
    """One line: each stage's seconds, the rest, and the total."""
    parts = [f"{name} {_seconds[name]:.1f} s" for name in STAGES if name in _seconds]
    parts += [f"{name} {value:.1f} s" for name, value in _seconds.items() if name not in STAGES]
    if total is not None:
        rest = total - sum(_seconds.values())
        parts += [f"other {max(0.0, rest):.1f} s", f"total {total:.1f} s"]
    return "profile: " + ", ".join(parts)


class FitClock:
    """A Keras callback's worth of timestamps: when `fit` began and each call ended."""

    def __init__(self):
        self.began = None
        self.ends: list[float] = []
        self.steps: list[int] = []

    def make_callback(self):
        import keras

        clock = self

        class _Clock(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                clock.began, clock.ends, clock.steps = time.perf_counter(), [], []

            def on_train_batch_end(self, batch, logs=None):
                clock.ends.append(time.perf_counter())
                clock.steps.append(batch + 1)

        return _Clock()

    def split(self, total: float, traced: bool) -> tuple[float, float]:
        """`(trace, train)` seconds of a `fit` that took `total`: when it traced,
        the first call minus the median of the later calls (scaled per step)."""
        if not traced or self.began is None or not self.ends:
            return 0.0, total
        first = self.ends[0] - self.began
        if len(self.ends) < 2:
            return 0.0, total  # nothing to compare with: count it all as training
        durations = np.diff(self.ends) / np.maximum(1, np.diff(self.steps))
        trace = max(0.0, first - float(np.median(durations)) * self.steps[0])
        return min(trace, total), max(0.0, total - trace)
