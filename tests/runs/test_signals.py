"""SIGINT and SIGTERM: one handler, remembered when swallowed, deferred while writing.

In-process: the test sends the signal to itself with `os.kill`, which runs
the handler before the next bytecode. The end-to-end runs (a child stopped
in its TensorFlow import or in training) are in test_reliability.py.
"""

import os
import signal

import pytest

from kerasdream.runs import signals
from kerasdream.callbacks import DreamProgress


@pytest.fixture
def handlers():
    signals.install()
    yield
    signals.restore()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_both_signals_raise_interrupted_with_their_exit_status(sig, handlers):
    with pytest.raises(signals.Interrupted) as stop:
        os.kill(os.getpid(), sig)
    assert stop.value.signum == sig and stop.value.exit_status == 128 + sig
    assert isinstance(stop.value, KeyboardInterrupt)


def test_a_swallowed_signal_is_raised_again_by_the_next_check(handlers):
    try:  # what TensorFlow's gc callback does: "Exception ignored in ..."
        os.kill(os.getpid(), signal.SIGINT)
    except KeyboardInterrupt:
        pass
    with pytest.raises(signals.Interrupted):
        DreamProgress(None, dreams=1).on_train_batch_end(0)  # every training step checks


def test_a_signal_while_writing_waits_for_the_end_of_the_block(handlers):
    written = []
    with pytest.raises(signals.Interrupted):
        with signals.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            written.append("png")
            written.append("record")
    assert written == ["png", "record"]


def test_restore_puts_the_old_handlers_back_and_forgets():
    # Whatever was there before: Python's default_int_handler, or SIG_IGN when
    # the test run itself was started in the background by a shell.
    before = {sig: signal.getsignal(sig) for sig in signals.HANDLED}
    signals.install()
    try:
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            pass
    finally:
        signals.restore()
    assert {sig: signal.getsignal(sig) for sig in signals.HANDLED} == before
    assert before[signal.SIGINT] is not signals._handle
    signals.check()  # nothing pending any more
