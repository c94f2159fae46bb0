"""User-facing errors: each names the bad value and what would be valid."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class DreamError(ValueError):
    """A problem with what the user asked for, explained in one line.

    The command line turns it into exit status 2 and one readable line; the
    Python API raises it like any `ValueError`.

    Example:
        ```python
        try:
            kd.DreamModel(kd.Channel("conv9", 0), "mobilenet")
        except kd.DreamError as error:
            print(error)  # No such layer in mobilenet_0.25. Did you mean: ... Received: layer_name='conv9'
        ```
    """


class RunFailed(DreamError):
    """The run could not finish (disk full, a folder turned read-only, every
    dream failed): one line naming the cause; the command line exits with 1."""


def closest(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The `n` choices that look most like `name`, best first."""
    choices = list(choices)
    found = difflib.get_close_matches(name, choices, n=n, cutoff=0.4)
    if not found:
        found = [c for c in choices if name.lower() in c.lower()][:n]
    return found


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """' Did you mean: 'a', 'b'?' or '' when nothing is close."""
    found = closest(name, choices)
    if not found:
        return ""
    return " Did you mean: " + ", ".join(repr(c) for c in found) + "?"
