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
