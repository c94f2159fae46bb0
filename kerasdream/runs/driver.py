"""The one gallery driver: `run(plan, executor)`, whatever trains the chunks.

The driver holds the output folder's run lock, surveys each layer's folder
once, moves stale and corrupt files aside, says what a rerun found, hands
the chunks to an executor (`kerasdream.runs.executors`: in this process, or
a Dask cluster), and, as each chunk comes back, writes its layer's
`metrics.json` from the records it keeps in memory. A layer's last chunk
writes its grid from the images in memory; the end writes `gallery.png`
and one summary line per layer. Both executors give the same files and the
same report. No Keras at import.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kerasdream.runs import layout, records, signals
from kerasdream.runs.plan import ChunkTask, LayerRun, Plan, Survey, survey, tasks
from kerasdream.runs.results import FilterResult, summarize
from kerasdream.runs.runlock import RunLock, remove_dead_temporaries

Log = Callable[[str], None]


class Executor(Protocol):
    """Trains a plan's chunks; `kerasdream.runs.executors` has the two there are."""

    def prepare(self, plan: Plan) -> None:
        """Checks before the run lock is taken (e.g. this machine's memory)."""

    def run(self, tasks: Sequence[ChunkTask], progress: Any, log: Log,
            on_done: Callable[[ChunkTask, Any], None]) -> None:
        """Train every task, calling `on_done(task, ChunkOutcome)` as each finishes."""


@dataclass
class _Layer:
    run: LayerRun
    records: dict[int, dict]
    left: int
    images: dict[int, Any] = field(default_factory=dict)
    grid: Any = None


def run(plan: Plan, executor: Executor, *, quiet: bool = False, index: bool = False,
        log: Log = print) -> dict[str, list[FilterResult]]:
    """Run `plan` with `executor`; every layer's results, in the order of `plan.runs`.

    Args:
        plan: From `kerasdream.runs.plan.make_plan`.
        executor: An `InProcess` or `Dask` executor.
        quiet: No progress bar.
        index: Rewrite the atlas' `index.html` as each layer finishes.
        log: Where the report lines go.

    Raises:
        FolderInUse: another run holds the output folder.
        DreamError: `resume` cannot continue a dream made with other settings.
        RunFailed: a full or read-only disk.
        Interrupted: a signal stopped the run (its `saved` says how many dreams it saved).
    """
    from kerasdream import io

    executor.prepare(plan)
    lock = RunLock(plan.out_dir) if plan.writes else contextlib.nullcontext()
    saved = [0]
    try:
        with lock:
            stale = lock.stale_message() if isinstance(lock, RunLock) else None
            if stale:
                log(stale)
            for folder in (plan.out_dir, plan.models_dir):
                remove_dead_temporaries(folder)
            results = _run(plan, executor, quiet, index, log, saved)
            for folder in (plan.out_dir, plan.models_dir):
                remove_dead_temporaries(folder)  # a killed worker's, if any
            return results
    except signals.Interrupted as stop:
        stop.saved = saved[0]
        raise
    except OSError as error:  # moving a file aside, taking the lock: on a full or read-only disk
        failed = io.storage_error(error, plan.out_dir)
        if failed is None:
            raise
        raise failed from None


def _run(plan: Plan, executor: Executor, quiet: bool, index: bool, log: Log,
         saved: list[int]) -> dict[str, list[FilterResult]]:
    from kerasdream import io
    from kerasdream.callbacks import progress_bar

    # A refusal (resume with other settings) comes before anything is moved.
    surveys = [survey(run, plan.resume, plan.overwrite) for run in plan.runs]
    for run, found in zip(plan.runs, surveys):
        _move_aside(run, found, log)
    if plan.writes:
        _check_damaged_metrics(plan.runs, surveys, log)
    todo = tasks(plan, surveys)
    for run in {task.run.layer: task.run for task in todo}.values():
        if run.writes:  # before training, not after: a read-only folder must not cost the work
            io.check_writable(run.folder)
            io.check_writable(os.path.dirname(run.model_path(0)))
    total = sum(task.dream_steps for task in todo)
    if total == 0:
        log("Every dream is already done; nothing to train.")
    progress = None if quiet or total == 0 else progress_bar(total, unit_name="dream-step")
    layers = {run.layer: _Layer(run, found.records, sum(t.run.layer == run.layer for t in todo))
              for run, found in zip(plan.runs, surveys)}

    def finish(layer: _Layer) -> None:
        layer.grid = _write_grid(layer)
        if index and layer.run.writes:
            write_index(plan.out_dir, plan.spec, [run.layer for run in plan.runs])

    def on_done(task: ChunkTask, outcome) -> None:
        layer = layers[task.run.layer]
        saved[0] += outcome.saved
        layer.records.update(outcome.records)
        layer.images.update(outcome.images)
        if layer.run.writes:
            _write_metrics(layer)
        layer.left -= 1
        if layer.left == 0:
            finish(layer)

    for layer in layers.values():
        if layer.left == 0:
            finish(layer)
    if todo:
        executor.run(todo, progress, log, on_done)
    results = {name: [FilterResult.from_record(layer.records[k])
                      for k in layer.run.filters if k in layer.records]
               for name, layer in layers.items()}
    grids = [layer.grid for layer in layers.values() if layer.grid is not None]
    if len(plan.runs) > 1 and plan.runs[0].writes and grids:
        io.save_png(os.path.join(plan.out_dir, layout.GALLERY_FILE), io.stack(grids))
    for name, layer_results in results.items():
        log(summarize(name, layer_results, layers[name].run.settings.objective))
    signals.check()  # a signal swallowed after the last step still ends the run as stopped
    return results


def _move_aside(run: LayerRun, found: Survey, log: Log) -> None:
    """Move the survey's stale and corrupt files aside; log what moved and the rerun report."""
    lines = found.moved_lines()
    if run.writes:
        for move in found.moves:
            for path in move.paths:
                records.move_aside(path, move.suffix)
    for line in lines:
        log(line)
    report = found.report()
    if report:
        log(report)


def _write_metrics(layer: _Layer) -> None:
    """The layer's summary, from the records in memory (every filter's, so runs
    of other filters keep their entries)."""
    from kerasdream import io

    run = layer.run
    io.write_json(os.path.join(run.folder, layout.METRICS_FILE), {
        "layer": run.layer,
        "network": run.spec.get_config(),
        "channels": run.channels,
        **({"names": {str(k): run.names[k] for k in sorted(layer.records)
                      if k < len(run.names)}} if run.names else {}),
        "filters": {str(k): record for k, record in layer.records.items()},
    })


def _check_damaged_metrics(runs: Sequence[LayerRun], surveys: Sequence[Survey],
                           log: Log) -> None:
    """A `metrics.json` that is not a summary is moved aside and rebuilt from the records."""
    from kerasdream import io

    for run, found in zip(runs, surveys):
        path = os.path.join(run.folder, layout.METRICS_FILE)
        if not os.path.exists(path):
            continue
        data = io.read_json(path)
        if not (isinstance(data, dict) and isinstance(data.get("filters"), dict)):
            records.move_aside(path, ".corrupt")
            log(f"{run.layer}: moved aside {layout.METRICS_FILE}.corrupt: it was damaged "
                f"(not a summary of dreams); rebuilt from the dreams' records.")
            _write_metrics(_Layer(run, found.records, 0))


def _write_grid(layer: _Layer):
    """The layer's `grid.png` of its committed dreams (this run's from memory);
    the picture, or None when there is none."""
    from kerasdream import io

    run = layer.run
    if not run.writes:
        return None
    images, labels = [], []
    for k in run.filters:
        if k not in layer.records:
            continue
        image = layer.images.get(k)
        if image is None and os.path.isfile(run.png_path(k)):  # an earlier run's dream
            image = io.load_image(run.png_path(k), channels=_png_channels(run.png_path(k)))
        if image is not None:
            images.append(image)
            labels.append(run.label(k))
    if not images:
        return None
    picture = io.grid(images, labels=labels, title=run.layer)
    io.save_png(os.path.join(run.folder, layout.GRID_FILE), picture)
    return picture


def _png_channels(path: str) -> int:
    from PIL import Image

    try:
        with Image.open(path) as image:
            return 1 if image.mode == "L" else 3
    except (OSError, SyntaxError):
        return 3  # load_image names the damaged file


def write_index(out_dir: str, spec, layers: Sequence[str]) -> str:
    """The browsable site of `out_dir` (see `kerasdream.site.build`); its index.html."""
    from kerasdream.site.build import write_site

    return write_site(out_dir, spec, layers)
