"""Callbacks a dream's `fit` uses: a non-finite guard and a progress bar."""

from __future__ import annotations

import math
import sys
import time

import keras
import numpy as np

from kerasdream.runs import signals
from kerasdream.errors import DreamError


class NonFiniteError(DreamError):
    """Training hit a NaN or infinite loss; the last finite kernel was restored.

    `step` is the last step run. Keras runs several steps per call
    (`steps_per_execution`), so the first bad step lies between `first_step`
    and `step`; the restored images are from before `first_step`.

    Args:
        step: the last step run.
        rows: the dreams (kernel rows) whose loss was not finite.
        first_step: the first step of the call that failed; None for `step`.
        prefix: where it happened, said before the message (`"conv_pw_3: "`).
        advice: the likely cause and its cure, said after it.

    Example:
        ```python
        try:
            model.fit(200)
        except kd.NonFiniteError as error:
            images = model.render()  # the last finite images, kept
            print(error.first_step, error.rows)
        ```
    """

    def __init__(self, step: int, rows: list[int], first_step: int | None = None, *,
                 prefix: str = "", advice: str = "Try a smaller learning rate."):
        self.step, self.rows = step, rows
        self.first_step = step if first_step is None else first_step
        where = (f"at step {step}" if self.first_step == step
                 else f"between step {self.first_step} and step {step}")
        super().__init__(
            f"{prefix}Loss became NaN or infinite {where}; stopped. Dreams affected: "
            f"{rows}. Their last finite images were kept. {advice}"
        )

    def explained(self, prefix: str = "", advice: str | None = None) -> "NonFiniteError":
        """The same failure, said with `prefix` (where) and `advice` (the likely cause)."""
        kwargs = {} if advice is None else {"advice": advice}
        return NonFiniteError(self.step, self.rows, self.first_step, prefix=prefix, **kwargs)


# A weight or strength above this makes a loss that float32 cannot hold on any
# network (the paper's weights are 1-300, accentuation's strength is about 1).
LARGE_WEIGHT = 1e6


def blame_large_weights(error: NonFiniteError, **weights: float | None) -> NonFiniteError:
    """`error`, blamed on the largest of `weights` (name=value) above `LARGE_WEIGHT`:
    such a weight, not the learning rate, is what overflowed the loss. `error`
    itself when none is that large."""
    large = {name: float(value) for name, value in weights.items()
             if value is not None and abs(float(value)) > LARGE_WEIGHT}
    if not large:
        return error
    name = max(large, key=lambda key: abs(large[key]))
    return error.explained(advice=f"{name}={large[name]:g} is too large: the loss overflows "
                                  f"float32. Try {name} <= {LARGE_WEIGHT:g}.")


class NonFiniteGuard(keras.callbacks.Callback):
    """Stops `fit` at the first non-finite loss and restores the last finite kernel.

    At most every `every` steps it copies the kernel before the step (cheap:
    one row per dream); once the loss after it proves finite, the copy becomes
    the restore point. The dreams affected are the rows whose kernel went
    non-finite, or all rows when the kernel is finite but the loss is not.
    With `steps_per_execution` > 1 Keras calls back once per execution, so a
    fault is located to the steps of one execution.
    """

    def __init__(self, every: int = 10):
        super().__init__()
        self.every = every
        self.failure: NonFiniteError | None = None
        self._last_finite = self._candidate = None
        self._candidate_step = self._first_unchecked = 0

    def _kernel(self) -> np.ndarray:
        return keras.ops.convert_to_numpy(self.model.generator.kernel)

    def on_train_begin(self, logs=None):
        self.failure, self._candidate = None, None
        self._last_finite = self._kernel()
        self._candidate_step = self._first_unchecked = 0

    def on_train_batch_begin(self, batch, logs=None):
        self._first_unchecked = batch
        if self._candidate is None and batch - self._candidate_step >= self.every:
            self._candidate, self._candidate_step = self._kernel(), batch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and math.isfinite(float(loss)):
            if self._candidate is not None:
                self._last_finite, self._candidate = self._candidate, None
            return
        self._restore(batch + 1, self._first_unchecked + 1)
        self.model.stop_training = True

    def on_train_end(self, logs=None):
        # A finite loss does not prove a finite kernel (a row can overflow in
        # a step whose loss was already computed): check the kernel itself.
        if self.failure is None and not np.all(np.isfinite(self._kernel())):
            step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
            self._restore(step, self._first_unchecked + 1)

    def _restore(self, step: int, first_step: int) -> None:
        kernel = self._kernel()
        bad = ~np.all(np.isfinite(kernel), axis=1)
        rows = np.flatnonzero(bad).tolist() or list(range(len(kernel)))
        kernel[rows] = self._last_finite[rows]
        self.model.generator.kernel.assign(kernel)
        self.failure = NonFiniteError(step, rows, first_step=first_step)


class PlainProgress:
    """A progress report of plain lines, for logs and pipes: no ANSI codes,
    no backspaces. Same `add(n, values)` as `keras.utils.Progbar`; one line at
    most every `interval` seconds, and one when the target is reached."""

    def __init__(self, target: int, unit_name: str = "step", interval: float = 10.0,
                 stream=None):
        self.target, self.unit_name, self.interval = int(target), unit_name, float(interval)
        self.stream = stream
        self.seen = 0
        self._start = self._last = time.perf_counter()

    def add(self, n: int, values=None) -> None:
        self.seen += int(n)
        now = time.perf_counter()
        if now - self._last < self.interval and self.seen < self.target:
            return
        self._last = now
        elapsed = now - self._start
        text = (f"{self.seen}/{self.target} {self.unit_name}s "
                f"({100 * self.seen // max(1, self.target)}%), {elapsed:.1f} s")
        for name, value in values or []:
            text += f", {name} {float(value):.4g}"
        print(text, file=self.stream or sys.stdout, flush=True)


def progress_bar(target: int, unit_name: str = "step"):
    """Keras' live bar on a terminal; `PlainProgress` lines when stdout is a
    file or a pipe (Keras' bar would write its escape codes into the log)."""
    isatty = getattr(sys.stdout, "isatty", None)
    if isatty is not None and isatty():
        return keras.utils.Progbar(target, unit_name=unit_name, interval=0.5)
    return PlainProgress(target, unit_name=unit_name)


class DreamProgress(keras.callbacks.Callback):
    """Advances a progress bar over dreams x steps, with the mean loss per dream.

    One bar can span several `fit` runs (a gallery's chunks and layers):
    each call of the training step adds `dreams` for every step it ran.

    Args:
        bar: the bar to advance (`progress_bar(...)` picks a live bar or plain
            lines); None to only check for Ctrl-C and SIGTERM.
        dreams: how many dreams each step trains.

    Example:
        ```python
        from kerasdream.callbacks import progress_bar
        bar = progress_bar(16 * 200, unit_name="dream-step")
        model.fit(200, callbacks=[kd.DreamProgress(bar, dreams=16)])
        ```
    """

    def __init__(self, bar: keras.utils.Progbar | PlainProgress | None, dreams: int):
        super().__init__()
        self.bar, self.dreams = bar, dreams
        self.steps_done = 0

    def on_train_begin(self, logs=None):
        self.steps_done = 0

    def on_train_batch_end(self, batch, logs=None):
        signals.check()  # a Ctrl-C or SIGTERM that TensorFlow swallowed stops here
        # `batch` is the last step of the call: fit may run several steps per call.
        steps, self.steps_done = batch + 1 - self.steps_done, batch + 1
        if self.bar is not None:
            loss = float((logs or {}).get("loss", np.nan))
            self.bar.add(self.dreams * steps, values=[("loss per dream", loss)])
