"""A Dask worker plugin for tests/test_cluster.py, in a module of its own so a
worker that unpickles it imports only this (not the test module's TensorFlow)."""

import os

from distributed import WorkerPlugin


class TaskMarkers(WorkerPlugin):
    """Writes `<folder>/<key>@<worker pid>` when a task starts executing on a worker."""

    def __init__(self, folder):
        self.folder = folder

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and str(key).startswith("kerasdream-"):
            path = os.path.join(self.folder, f"{key}@{os.getpid()}")
            with open(path, "w"):
                pass
