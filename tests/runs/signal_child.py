"""A `kerasdream` run that stops at a named phase, says so, and waits: for signal tests.

    python signal_child.py PHASE kerasdream-arguments...

PHASE `import`: waits as TensorFlow's import begins (after the command line
installed its signal handlers). PHASE `train`: waits after the first step of
the second chunk (the first chunk's dreams are committed). It prints
`ready PHASE` and reads a line from stdin, so a test sends its signal while
the run is exactly there, and needs no sleep. The run itself is the real one.
"""

import importlib.abc
import importlib.util
import sys

phase, argv = sys.argv[1], sys.argv[2:]


def wait() -> None:
    print(f"ready {phase}", flush=True)
    sys.stdin.readline()


def patch_progress(module) -> None:
    """Wait once, after the first step of the second `fit`."""
    cls, fits = module.DreamProgress, []
    begin, end = cls.on_train_begin, cls.on_train_batch_end

    def on_train_begin(self, logs=None):
        fits.append(1)
        begin(self, logs)

    def on_train_batch_end(self, batch, logs=None):
        end(self, batch, logs)
        if len(fits) == 2:
            fits.append(1)  # once
            wait()

    cls.on_train_begin, cls.on_train_batch_end = on_train_begin, on_train_batch_end


class Hook(importlib.abc.MetaPathFinder):
    """Runs `phase`'s wait as `tensorflow` is imported, or patches the progress
    callback as `kerasdream.callbacks` is."""

    def find_spec(self, name, path, target=None):
        if phase == "import" and name == "tensorflow":
            sys.meta_path.remove(self)
            wait()
            return None
        if phase == "train" and name == "kerasdream.callbacks":
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            loader = spec.loader

            class Patching(importlib.abc.Loader):
                def create_module(self, spec):
                    return loader.create_module(spec)

                def exec_module(self, module):
                    loader.exec_module(module)
                    patch_progress(module)

            spec.loader = Patching()
            return spec
        return None


sys.meta_path.insert(0, Hook())
from kerasdream.cli.commands import main  # noqa: E402

sys.exit(main(argv))
