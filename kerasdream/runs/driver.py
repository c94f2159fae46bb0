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
    locks = _locks(plan)
    saved = [0]
    before: dict[str, dict[int, str]] = {}  # each layer's committed dreams at the start
    try:
        with contextlib.ExitStack() as held:
            for lock in locks:  # the models folder too: runs of other --out may share it
                held.enter_context(lock)
                stale = lock.stale_message()
                if stale:
                    log(stale)
            for folder in (plan.out_dir, plan.models_dir):
                remove_dead_temporaries(folder)
            results = _run(plan, executor, quiet, index, log, saved, before)
            for folder in (plan.out_dir, plan.models_dir):
                remove_dead_temporaries(folder)  # a killed worker's, if any
            return results
    except signals.Interrupted as stop:
        # Workers may have committed dreams whose answers never reached this driver.
        stop.saved = max(saved[0], _committed_since(plan, before)) if before else saved[0]
        raise
    except OSError as error:  # moving a file aside, taking the lock: on a full or read-only disk
        failed = io.storage_error(error, plan.out_dir)
        if failed is None:
            raise
        raise failed from None


def _relative_to(path: str, start: str) -> str:
    """`path` relative to `start` (so a folder copied or moved with its models
    inside still names itself), or absolute where no relative path exists."""
    try:
        return os.path.relpath(os.path.abspath(path), os.path.abspath(start))
    except ValueError:  # another drive
        return os.path.abspath(path)


def _locks(plan: Plan) -> list[RunLock]:
    """The run locks a writing run holds: its output folder's and its models folder's."""
    if not plan.writes:
        return []
    locks = [RunLock(plan.out_dir)]
    if os.path.realpath(plan.models_dir) != os.path.realpath(plan.out_dir):
        locks.append(RunLock(plan.models_dir, command=locks[0].command, option="models_dir"))
    return locks


def _committed_since(plan: Plan, before: dict[str, dict[int, str]]) -> int:
    """How many of the plan's dreams have a commit record now that they did not
    have (or had otherwise) when the run began: the dreams this run saved."""
    count = 0
    for run in plan.runs:
        had = before.get(run.layer, {})
        now = records.folder_records(run.folder)
        count += sum(isinstance(now.get(k), dict) and now[k]["png_sha256"] != had.get(k)
                     for k in run.filters)
    return count


def _run(plan: Plan, executor: Executor, quiet: bool, index: bool, log: Log,
         saved: list[int], before: dict[str, dict[int, str]]) -> dict[str, list[FilterResult]]:
    from kerasdream import io
    from kerasdream.callbacks import progress_bar

    # A refusal (resume with other settings) comes before anything is moved.
    surveys = [survey(run, plan.resume, plan.overwrite) for run in plan.runs]
    before.update({run.layer: {k: r["png_sha256"] for k, r in found.records.items()}
                   for run, found in zip(plan.runs, surveys)})
    todo = tasks(plan, surveys)
    training = [run for run in {task.run.layer: task.run for task in todo}.values()
                if run.writes]
    for run in training:  # before anything is moved or trained: a read-only folder costs nothing
        io.check_writable(run.folder)
        io.check_writable(run.models_folder)
    for run, found in zip(plan.runs, surveys):
        _move_aside(run, found, log)
    if plan.writes:
        _check_damaged_metrics(plan.runs, surveys, log)
    for run in training:
        io.write_json(run.owner_path, {"out": _relative_to(run.out_dir, run.models_folder)})
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
        run = layers[name].run
        log(summarize(name, layer_results, objective=run.settings.objective, cap=run.cap,
                      grayscale=run.input_channels == 1, photos=_own_photos(run)))
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
    report = found.report(run.reference.describe())
    if report:
        log(report)


def _own_photos(run: LayerRun) -> str | None:
    """How the summary names the user's own reference photos; None for skimage's."""
    return run.reference.describe() if run.reference.is_own else None


def _metrics(run: LayerRun, layer_records: dict[int, dict]) -> dict:
    """The layer's summary as `metrics.json` holds it."""
    return {
        "layer": run.layer,
        "network": run.spec.get_config(),
        "channels": run.channels,
        "reference": run.reference.as_json(),
        **({"names": {str(k): run.names[k] for k in sorted(layer_records)
                      if k < len(run.names)}} if run.names else {}),
        "filters": {str(k): record for k, record in sorted(layer_records.items())},
    }


def _write_metrics(layer: _Layer) -> None:
    """The layer's summary, from the records in memory (every filter's, so runs
    of other filters keep their entries)."""
    from kerasdream import io

    io.write_json(os.path.join(layer.run.folder, layout.METRICS_FILE),
                  _metrics(layer.run, layer.records))


def _check_damaged_metrics(runs: Sequence[LayerRun], surveys: Sequence[Survey],
                           log: Log) -> None:
    """Each layer's `metrics.json` made to agree with its records, even when nothing
    trains: a damaged one is moved aside, a missing or differing entry rebuilt."""
    from kerasdream import io

    for run, found in zip(runs, surveys):
        path = os.path.join(run.folder, layout.METRICS_FILE)
        expected = _metrics(run, found.records)
        if not os.path.exists(path):
            if found.records:
                log(f"{run.layer}: {layout.METRICS_FILE} was missing; rebuilt from the "
                    f"dreams' records.")
                io.write_json(path, expected)
            continue
        data = io.read_json(path)
        if not (isinstance(data, dict) and isinstance(data.get("filters"), dict)):
            records.move_aside(path, ".corrupt")
            log(f"{run.layer}: moved aside {layout.METRICS_FILE}.corrupt: it was damaged "
                f"(not a summary of dreams); rebuilt from the dreams' records.")
            io.write_json(path, expected)
            continue
        if data == expected:
            continue
        entries = data["filters"]
        wrong = sorted(k for k, record in found.records.items()
                       if entries.get(str(k)) != record)
        if wrong:
            log(f"{run.layer}: rebuilt {layout.METRICS_FILE} from the dreams' records (it "
                f"lacked or misstated filter{'s' * (len(wrong) > 1)} "
                f"{', '.join(map(str, wrong))}).")
        io.write_json(path, expected)


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
