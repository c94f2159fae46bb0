"""The two ways the driver's chunks train: in this process, or as Dask tasks.

Each executor only trains chunks and hands back what they made
(`ChunkOutcome`); reruns, `--overwrite`, `--resume`, the move-aside of
stale files, the report and the summaries are the driver's, so both
executors give the same folder and the same report.
"""

from __future__ import annotations

import collections
import dataclasses
import os
from collections.abc import Sequence
from typing import Any

from kerasdream.runs import cluster
from kerasdream.runs.plan import ChunkTask, Plan


class InProcess:
    """Trains the chunks one after another in this process, with one traced
    model per chunk size for the layer being trained."""

    def __init__(self):
        self._layer: str | None = None
        self._models: dict = {}

    def prepare(self, plan: Plan) -> None:
        """Fails early when this machine's memory cannot hold a chunk."""
        from kerasdream.validation import check_memory
        from kerasdream.network.bases import image_shape_for, load_base

        settings = plan.runs[0].settings
        image_shape = image_shape_for(load_base(plan.spec), settings.image_size)
        check_memory(min(plan.batch, max(len(run.filters) for run in plan.runs)), image_shape)

    def run(self, tasks: Sequence[ChunkTask], progress, log, on_done) -> None:
        from kerasdream.runs.chunk import rescore_chunk, train_chunk

        for task in tasks:
            if task.rescore:
                on_done(task, rescore_chunk(task.run, list(task.filters)))
                continue
            if task.run.layer != self._layer:  # let the last layer's models go
                self._layer, self._models = task.run.layer, {}
            on_done(task, train_chunk(task.run, self._models, list(task.filters),
                                      task.done_steps, task.resumed_at(), progress, log))
        self._layer, self._models = None, {}


class Dask:
    """Submits each chunk as one task to a Dask cluster (`local:N` or a scheduler
    address); every worker must reach the output folders and the model."""

    def __init__(self, address: str, *, strategy: str = "default",
                 retries: int = cluster.DEFAULT_RETRIES, timeout: float | None = None):
        cluster.parse_cluster(address)
        cluster.require_dask()
        cluster.driver_off_gpus()
        self.address, self.strategy, self.retries = address, strategy, retries
        self.timeout = timeout

    def prepare(self, plan: Plan) -> None:
        """Nothing: the workers' memory is theirs."""

    def run(self, tasks: Sequence[ChunkTask], progress, log, on_done) -> None:
        runs = {}
        for task in tasks:  # absolute paths and no strategy object: workers' cwd differ
            if task.run.layer not in runs:
                run = task.run
                runs[run.layer] = dataclasses.replace(
                    run, spec=cluster.absolute(run.spec), out_dir=os.path.abspath(run.out_dir),
                    models_dir=os.path.abspath(run.models_dir), strategy=None)
        remote = [dataclasses.replace(task, run=runs[task.run.layer]) for task in tasks]
        first = remote[0].run
        with cluster.connect(self.address, timeout=self.timeout, log=log) as client:
            cluster.check_workers(client, [first.out_dir, first.models_dir],
                                  cluster.files(first.spec) + first.reference.paths())

            def done(index: int, answer: tuple[Any, list[str]]) -> None:
                outcome, lines = answer
                for line in lines:
                    log(line)
                _check_written(tasks[index], outcome)
                on_done(tasks[index], outcome)
                if progress is not None:
                    progress.add(tasks[index].dream_steps)

            cluster.run_tasks(client, run_chunk, [(task, self.strategy) for task in remote],
                              [_key(task) for task in remote], [_where(task) for task in tasks],
                              self.retries, done)


def _check_written(task: ChunkTask, outcome) -> None:
    """A `DreamError` when a worker says it saved dreams that are not where this
    driver reads them (a worker whose --out is another folder of the same path)."""
    from kerasdream.errors import DreamError

    for k in outcome.records:
        for path in (task.run.record_path(k), task.run.png_path(k)):
            if not os.path.isfile(path):
                raise DreamError(
                    f"A worker reported filter {k} of {task.run.layer} saved, but this driver "
                    f"finds no {path!r}: the workers write to another folder of the same "
                    f"path. Give them a shared --out and --models-dir.")


def _key(task: ChunkTask) -> str:
    """A readable Dask key: layer, first and last filter (a random tail is added)."""
    return f"kerasdream-{task.run.layer}-{task.filters[0]}-{task.filters[-1]}"


def _where(task: ChunkTask) -> str:
    return f"layer {task.run.layer!r}, filters {list(task.filters)}"


# Per worker process: the traced models of the layers it trained last.
_worker_models: collections.OrderedDict = collections.OrderedDict()
WORKER_LAYERS_KEPT = 4
_strategies: dict[str, Any] = {}


def run_chunk(task: ChunkTask, strategy: str = "default"):
    """On a worker: train `task`'s chunk and commit its dreams; its `ChunkOutcome`
    and the lines it logged."""
    from kerasdream.network import distribute
    from kerasdream.runs.chunk import rescore_chunk, train_chunk

    if task.rescore:
        return rescore_chunk(task.run, list(task.filters)), []
    if strategy not in _strategies:
        _strategies[strategy] = distribute.get_strategy(strategy)
    run = dataclasses.replace(task.run, strategy=_strategies[strategy])
    key = repr((run.spec, run.layer, run.settings, strategy))  # settings hold lists
    models = _worker_models.setdefault(key, {})  # {chunk size: traced DreamModel}
    _worker_models.move_to_end(key)
    while len(_worker_models) > WORKER_LAYERS_KEPT:
        _worker_models.popitem(last=False)
    lines: list[str] = []
    outcome = train_chunk(run, models, list(task.filters), task.done_steps, task.resumed_at(),
                          None, lines.append)
    return outcome, lines
