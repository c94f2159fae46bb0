"""The `kerasdream` command line: layers, filters, gallery, atlas, classes, invert, caricature,
accentuate, evolve.

`main(argv)` parses (`kerasdream.cli.parser`, no Keras: `--help` is instant),
imports TensorFlow and Keras with their C++ start-up lines kept off stderr,
and runs the command's handler (`kerasdream.cli.commands`).

Exit status: a bad option exits with 2 and one line naming the bad value and
what would be valid; a run that could not finish (disk full, every dream
failed) exits with 1 and one line; Ctrl-C or SIGTERM exits with 130 or 143,
and the run can be finished by running the same command again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import threading
from collections.abc import Sequence

from kerasdream.cli.parser import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, build_parser
from kerasdream.errors import DreamError, RunFailed
from kerasdream.runs import signals

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a reader that left

__all__ = ["main", "build_parser", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERRUPTED"]


def _without_native_logs(text: str) -> str:
    """`text` minus TensorFlow's and absl's C++ start-up log lines."""
    native = re.compile(r"^([IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\]|"
                        r"WARNING: All log messages before absl::InitializeLog)")
    return "".join(line for line in text.splitlines(keepends=True) if not native.match(line))


# Packages that TensorFlow and Keras import at start-up only if they are
# installed (each import is inside `try: ... except ImportError`), for code
# no command runs: TF's legacy Keras (scipy), TF Lite (jax), Keras' plotting
# (matplotlib), its notebook check (IPython) and its scikit-learn wrappers.
# Together about 40% of `import keras` on this project's CPU machine
# (docs/performance.md). A command that needs one later imports it then.
SKIPPED_AT_START_UP = ("scipy", "jax", "matplotlib", "IPython", "sklearn")


def _keras_backend() -> str:
    """The backend `import keras` will pick: KERAS_BACKEND, else keras.json, else TF."""
    import json

    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json")) as file:
            return str(json.load(file).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


@contextlib.contextmanager
def _skipping(names: Sequence[str]):
    """Within the block, `import name` raises ImportError for each of `names`
    not yet imported (a `None` in `sys.modules`); after it they import as usual."""
    blocked = [name for name in names if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None
    try:
        yield
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def _import_quietly(skip_optional: bool = False) -> None:
    """Import TensorFlow and Keras with their C++ start-up lines kept off stderr;
    with `skip_optional`, without the optional packages they would load for
    nothing (`SKIPPED_AT_START_UP`, on the TensorFlow backend only: JAX needs
    scipy). Only the command's own process skips them: Keras remembers a
    package it could not import (its plotting, its notebook check), which a
    Python session that called `main` would feel afterwards.

    The native libraries write to file descriptor 2 directly, before any
    setting of theirs can silence them, so fd 2 goes to a file meanwhile;
    whatever else was written there is passed on.
    """
    if "keras" in sys.modules:
        return
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        skipped = (SKIPPED_AT_START_UP if skip_optional and _keras_backend() == "tensorflow"
                   else ())
        try:
            with _skipping(skipped):
                try:
                    import tensorflow as tf
                except ImportError:
                    pass
                else:
                    tf.config.list_physical_devices()  # CUDA's probe logs too
                import keras  # noqa: F401
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            rest = _without_native_logs(capture.read().decode("utf-8", "replace"))
            if rest:
                sys.stderr.write(rest)


class _NoRetracingWarning(logging.Filter):
    """Drops TensorFlow's "N out of the last M calls to <function ...>
    triggered tf.function retracing" warning.

    A gallery or atlas traces one training function and one scoring
    function per layer, by design (each layer is another network). TensorFlow
    counts those traces across layers, because it keys them on the Python
    code object, so from the fifth layer on it warned about retracing that
    is not happening.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def _quiet_retracing_warnings() -> None:
    """Install `_NoRetracingWarning` on TensorFlow's logger, once."""
    if "tensorflow" not in sys.modules:
        return
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _NoRetracingWarning) for f in logger.filters):
        logger.addFilter(_NoRetracingWarning())


def _interrupted_line(stop: signals.Interrupted) -> str:
    name = signal_name(stop.signum)
    if stop.saved:
        return (f"Interrupted by {name}: the {stop.saved} dream{'s' * (stop.saved != 1)} "
                f"finished in this run {'are' if stop.saved != 1 else 'is'} saved; run the "
                f"same command again to finish the rest.")
    if stop.saved == 0:
        return (f"Interrupted by {name} before this run finished a dream; nothing of it was "
                f"saved. Run the same command again to start it.")
    return (f"Interrupted by {name} before anything was written; run the same command "
            f"again.")


def _stdout_closed() -> int:
    """The reader of stdout left (`kerasdream layers | head`): stop quietly, as `cat` does.

    Later writes, and the flush at exit, go to /dev/null instead of raising.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def signal_name(signum: int) -> str:
    """'SIGTERM' for 15, and so on."""
    import signal

    return signal.Signals(signum).name


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `kerasdream` command.

    Args:
        argv: the arguments after `kerasdream` (default: `sys.argv[1:]`).

    Returns:
        The exit status: 0 done, 1 the run failed, 2 bad input, 128 + the
        signal's number if stopped by SIGINT or SIGTERM. A bad option or
        `--help` exits from argparse (`SystemExit` with 2 or 0).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        signals.install()
    try:
        args = build_parser().parse_args(argv)
        from kerasdream.cli.commands import COMMANDS

        try:
            _import_quietly(skip_optional=argv is None)  # the `kerasdream` command itself
            _quiet_retracing_warnings()
            status = COMMANDS[args.command](args)
        except RunFailed as error:
            print(f"kerasdream {args.command}: error: {error}", file=sys.stderr)
            return EXIT_FAILED
        except DreamError as error:
            print(f"kerasdream {args.command}: error: {error}", file=sys.stderr)
            return EXIT_USAGE
        except BrokenPipeError:
            return _stdout_closed()
        return status or 0
    except signals.Interrupted as stop:
        print(f"\n{_interrupted_line(stop)}", file=sys.stderr)
        return stop.exit_status
    except KeyboardInterrupt:
        print("\nInterrupted; run the same command again to finish.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if in_main_thread:
            signals.restore()
