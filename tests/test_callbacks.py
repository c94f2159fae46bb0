"""The progress report: Keras' bar on a terminal, plain lines in a log or a pipe."""

import io
import sys

import keras

from kerasdream.callbacks import PlainProgress, progress_bar


def test_plain_progress_writes_plain_lines_with_the_loss():
    stream = io.StringIO()
    bar = PlainProgress(40, unit_name="dream-step", interval=0.0, stream=stream)
    bar.add(16, values=[("loss per dream", -1.5)])
    bar.add(24, values=[("loss per dream", -2.25)])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("16/40 dream-steps (40%), ") and lines[0].endswith(
        ", loss per dream -1.5")
    assert lines[1].startswith("40/40 dream-steps (100%), ")
    assert "\x1b" not in stream.getvalue() and "\b" not in stream.getvalue()
    assert "\r" not in stream.getvalue()


def test_plain_progress_waits_its_interval_but_always_reports_the_end():
    stream = io.StringIO()
    bar = PlainProgress(30, interval=3600.0, stream=stream)
    for _ in range(3):
        bar.add(10)
    assert stream.getvalue().splitlines() == [stream.getvalue().splitlines()[-1]]
    assert stream.getvalue().startswith("30/30 steps (100%)")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_is_plain_off_a_terminal_and_keras_on_one(monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert isinstance(progress_bar(10), PlainProgress)
    monkeypatch.setattr(sys, "stdout", _Terminal())
    assert isinstance(progress_bar(10), keras.utils.Progbar)


# ---- NonFiniteGuard and DreamProgress, driven step by step by hand

import numpy as np  # noqa: E402

from kerasdream.callbacks import DreamProgress, NonFiniteError, NonFiniteGuard  # noqa: E402
from kerasdream.errors import DreamError  # noqa: E402
from kerasdream.generator import DreamGenerator  # noqa: E402


class _Dreams:
    """What the guard reads of a DreamModel: its generator (a real one) and stop flag."""

    def __init__(self):
        self.generator = DreamGenerator(2, (1, 1, 3), "pixels")
        self.stop_training = False


def _set_kernel(dreams, value):
    dreams.generator.kernel.assign(np.asarray(value, "float32"))


def _kernel(dreams):
    return keras.ops.convert_to_numpy(dreams.generator.kernel)


def test_guard_restores_only_the_rows_gone_non_finite_from_the_last_checked_copy():
    dreams, guard = _Dreams(), NonFiniteGuard(every=2)
    guard.set_model(dreams)
    kernels = [np.full((2, 3), float(step)) for step in range(4)]
    kernels[3][1, 0] = np.nan  # step 3 sends row 1 to NaN
    _set_kernel(dreams, kernels[0])
    guard.on_train_begin()
    for batch in range(3):  # steps 0-2 finite; a copy is taken before step 2 (every 2)
        guard.on_train_batch_begin(batch)
        _set_kernel(dreams, kernels[batch + 1])
        guard.on_train_batch_end(batch, {"loss": -1.0})
    guard.on_train_batch_begin(3)
    guard.on_train_batch_end(3, {"loss": float("nan")})

    assert dreams.stop_training
    kernel = _kernel(dreams)
    np.testing.assert_array_equal(kernel[0], kernels[3][0])  # a finite row keeps its step
    np.testing.assert_array_equal(kernel[1], kernels[2][1])  # the copy from before step 2
    assert isinstance(guard.failure, NonFiniteError)
    assert (guard.failure.step, guard.failure.rows, guard.failure.first_step) == (4, [1], 4)
    assert "at step 4" in str(guard.failure) and "[1]" in str(guard.failure)


def test_guard_restores_every_row_when_only_the_loss_is_non_finite():
    dreams, guard = _Dreams(), NonFiniteGuard(every=10)
    guard.set_model(dreams)
    _set_kernel(dreams, np.zeros((2, 3)))
    guard.on_train_begin()
    guard.on_train_batch_begin(0)
    _set_kernel(dreams, np.ones((2, 3)))
    guard.on_train_batch_end(0, {"loss": float("inf")})
    np.testing.assert_array_equal(_kernel(dreams), np.zeros((2, 3)))
    assert guard.failure.rows == [0, 1]


def test_non_finite_error_names_the_steps_it_lies_between():
    error = NonFiniteError(25, [0, 2], first_step=21)
    assert "between step 21 and step 25" in str(error) and "[0, 2]" in str(error)
    assert isinstance(error, DreamError)


def test_dream_progress_adds_dreams_times_the_steps_of_each_call():
    stream = io.StringIO()
    bar = PlainProgress(3 * 10, unit_name="dream-step", interval=0.0, stream=stream)
    progress = DreamProgress(bar, dreams=3)
    progress.on_train_begin()
    progress.on_train_batch_end(4, {"loss": -2.0})  # a call of steps 0-4
    progress.on_train_batch_end(9, {"loss": -3.5})  # a call of steps 5-9
    assert bar.seen == 30 and progress.steps_done == 10
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("15/30 dream-steps (50%)") and lines[0].endswith("-2")
    assert lines[1].startswith("30/30 dream-steps (100%)") and lines[1].endswith("-3.5")
    progress.on_train_begin()  # a new fit counts its steps from 0 again
    assert progress.steps_done == 0
    DreamProgress(None, dreams=3).on_train_batch_end(0)  # no bar: nothing to add
