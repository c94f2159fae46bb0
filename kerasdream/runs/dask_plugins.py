"""Dask worker plugins, in their own module so that `kerasdream.runs.cluster`
imports Dask only when a `--cluster` run starts."""

from __future__ import annotations

import os

from distributed import WorkerPlugin


class QuietImport(WorkerPlugin):
    """A local worker imports TensorFlow and Keras before its first task with
    their C++ start-up lines kept off the run's stderr, as the driver does."""

    idempotent = True

    def setup(self, worker):
        from kerasdream.cli import _import_quietly

        _import_quietly()


class PinDevice(WorkerPlugin):
    """Worker i of a local cluster sees GPU i only (set before TensorFlow starts)."""

    idempotent = True

    def __init__(self, gpus: int):
        self.gpus = gpus

    def setup(self, worker):
        os.environ["CUDA_VISIBLE_DEVICES"] = str(int(worker.name) % self.gpus)
