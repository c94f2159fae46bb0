"""One path for SIGINT and SIGTERM: stop at a safe point, say so in one line.

`install()` (the command line calls it before importing TensorFlow) makes
both signals raise `Interrupted`, a `KeyboardInterrupt` that knows its signal
(exit status 128 + signal: 130 for Ctrl-C, 143 for a scheduler's SIGTERM).
The signal is also remembered, because TensorFlow can swallow an exception
raised inside one of its callbacks ("Exception ignored in ... _xla_gc_callback"):
`check()`, called after every training step, raises it again. Inside
`deferred()` (writing a dream's files) a signal only is remembered, and is
raised when the block ends, so a dream is written whole or not at all.

Light on purpose: no keras, no TensorFlow.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

HANDLED = (signal.SIGINT, signal.SIGTERM)
_received: int | None = None
_deferring = 0
_previous: dict = {}  # signal -> the handler `install` replaced


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; `saved` counts the dreams this run finished."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.saved: int | None = None

    @property
    def exit_status(self) -> int:
        return 128 + int(self.signum)


def _handle(signum, frame) -> None:
    global _received
    _received = signum
    if not _deferring:
        raise Interrupted(signum)


def install() -> None:
    """Route SIGINT and SIGTERM to `Interrupted` (main thread only)."""
    global _received
    _received = None
    for signum in HANDLED:
        previous = signal.signal(signum, _handle)
        _previous.setdefault(signum, previous)


def restore() -> None:
    """Put back the handlers `install` replaced, and forget any signal received."""
    global _received
    _received = None
    while _previous:
        signum, handler = _previous.popitem()
        signal.signal(signum, handler)


def received() -> int | None:
    return _received


def check() -> None:
    """Raise `Interrupted` if a signal arrived and was swallowed or deferred."""
    if _received is not None and not _deferring:
        raise Interrupted(_received)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A block a signal does not cut short: it is raised when the block ends."""
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
    check()
