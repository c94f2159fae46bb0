"""A gallery run's plan: one `LayerRun` per layer, and the survey of its folder.

The survey reads a layer's folder once per run: each dream's commit record
checked against its files and the run's settings decides whether the dream
is skipped, kept, resumed or redone, and which files go aside (`*.corrupt`,
`*.stale`). It only decides; the driver moves the files. No Keras at import.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kerasdream.defaults import DEFAULT_BATCH, DEFAULT_FILTERS, DEFAULT_SIZE
from kerasdream.errors import DreamError
from kerasdream.photo_folder import SKIMAGE, Reference
from kerasdream.runs import layout, records
from kerasdream.runs.settings import DreamSettings, parse_filters


@dataclass
class LayerRun:
    """One layer of a gallery run: where its files go."""

    spec: Any  # a network.bases.BaseSpec
    layer: str
    filters: list[int]
    settings: DreamSettings
    out_dir: str
    models_dir: str
    model_format: str = "keras"
    strategy: Any = None
    channels: int | None = None
    cap: float | None = None  # the layer's ReLU cap (6.0 for ReLU6), None without one
    input_channels: int | None = None  # the network's: 1 for a grayscale network
    names: list[str] | None = None  # class names, for a class layer's dreams
    # The photos dreams are scored against. Not a setting: other photos rescore a
    # dream, never retrain it.
    reference: Reference = SKIMAGE

    def label(self, k: int) -> str:
        """Dream k's label in grids: its class name if it has one, else its number."""
        return self.names[k] if self.names and k < len(self.names) else str(k)

    @property
    def writes(self) -> bool:
        """Whether this process writes files (every process but non-chief workers)."""
        if self.strategy is None:
            return True
        from kerasdream.network import distribute

        return distribute.is_chief(self.strategy)

    @property
    def folder(self) -> str:
        return os.path.join(self.out_dir, layout.layer_folder(self.layer))

    def png_path(self, k: int) -> str:
        return os.path.join(self.folder, layout.png_name(k))

    @property
    def models_folder(self) -> str:
        """Where this layer's per-filter models go."""
        return os.path.join(self.models_dir, layout.network_name(self.spec),
                            layout.layer_folder(self.layer))

    def model_path(self, k: int) -> str:
        return os.path.join(self.models_folder, layout.model_name(k, self.model_format))

    @property
    def owner_path(self) -> str:
        """The models folder's note of the output folder its models belong to."""
        return os.path.join(self.models_folder, layout.MODELS_OWNER_FILE)

    def record_path(self, k: int) -> str:
        return os.path.join(self.folder, layout.record_name(k))


@dataclass
class Plan:
    """What a gallery run will do: its layers, and how it treats earlier dreams."""

    runs: list[LayerRun]
    out_dir: str
    models_dir: str
    batch: int = DEFAULT_BATCH
    resume: bool = False
    overwrite: bool = False

    @property
    def writes(self) -> bool:
        return any(run.writes for run in self.runs)

    @property
    def spec(self):
        return self.runs[0].spec


@dataclass
class Move:
    """Files of one dream to move aside with `suffix`, and why."""

    paths: tuple[str, ...]
    suffix: str
    why: str


@dataclass
class Survey:
    """What a run found in one layer's folder.

    `pending` maps each filter still to train to the steps it already has
    (nonzero only when resuming); `kept` are longer dreams kept rather than
    downgraded; `rescore` are finished dreams (skipped or kept) scored
    against other photos than this run's reference; `moves` are the files
    to move aside; `records` the commit records that stay (every filter's,
    not only this run's).
    """

    layer: str
    pending: dict[int, int] = dataclasses.field(default_factory=dict)
    skipped: list[int] = dataclasses.field(default_factory=list)
    repaired: list[int] = dataclasses.field(default_factory=list)
    redone: list[int] = dataclasses.field(default_factory=list)
    kept: dict[int, int] = dataclasses.field(default_factory=dict)
    resumed_at: dict[int, list[int]] = dataclasses.field(default_factory=dict)
    rescore: list[int] = dataclasses.field(default_factory=list)
    moves: list[Move] = dataclasses.field(default_factory=list)
    records: dict[int, dict] = dataclasses.field(default_factory=dict)

    def moved_lines(self) -> list[str]:
        """'relu2: moved aside filter_1.png.stale: why.' for each dream with files to move."""
        lines = []
        for move in self.moves:
            names = [os.path.basename(p) + move.suffix for p in move.paths if os.path.lexists(p)]
            if names:
                lines.append(f"{self.layer}: moved aside {', '.join(names)}: {move.why}.")
        return lines

    def report(self, photos: str = SKIMAGE.describe()) -> str | None:
        """'relu2: skipped 4 finished dreams, repaired 1, redid 2.' on a rerun
        (and how many are rescored against `photos`)."""
        if not (self.skipped or self.repaired or self.redone or self.kept):
            return None
        text = (f"{self.layer}: skipped {len(self.skipped)} finished "
                f"dream{'s' * (len(self.skipped) != 1)}, repaired {len(self.repaired)}, "
                f"redid {len(self.redone)}")
        if self.kept:
            longest = ", ".join(f"{k} ({s} steps)" for k, s in sorted(self.kept.items()))
            text += (f"; kept {len(self.kept)} longer dream{'s' * (len(self.kept) != 1)} "
                     f"rather than retrain at fewer steps: filter {longest} "
                     f"(--overwrite retrains them)")
        if self.rescore:
            text += (f"; rescoring {len(self.rescore)} of them against {photos} (their "
                     f"pictures stay)")
        return text + "."


def survey(run: LayerRun, resume: bool = False, overwrite: bool = False) -> Survey:
    """Check each filter's record against its files and the run's settings; move nothing.

    Raises:
        DreamError: when `resume` cannot continue a dream made with other settings.
    """
    found = Survey(run.layer)
    on_disk = records.folder_records(run.folder)
    other = models_owner(run, on_disk)
    if other is not None:
        raise DreamError(
            f"The models folder holds the per-filter models of {run.layer}'s dreams in "
            f"another output folder ({other}); this run would replace them. Use another "
            f"--models-dir for this output folder, or that run's --out. "
            f"Received: models_dir={run.models_dir!r}")
    found.records = {k: r for k, r in on_disk.items() if isinstance(r, dict)}
    settings = run.settings

    def aside(k: int, paths: tuple[str, ...], suffix: str, why: str) -> None:
        found.moves.append(Move(paths, suffix, why))
        if run.record_path(k) in paths:
            found.records.pop(k, None)

    for k in run.filters:
        paths = (run.png_path(k), run.model_path(k), run.record_path(k))
        record = on_disk.get(k)
        if record is None:
            left = tuple(p for p in paths[:2] if os.path.lexists(p))
            if left:
                aside(k, left, ".stale", "left by an interrupted or another run (no commit "
                      "record)")
                found.redone.append(k)
            found.pending[k] = 0
            continue
        other = _other_format(run, k, record)
        if other is not None:  # a whole dream, its model saved in another --format
            if resume and not overwrite:
                raise DreamError(
                    f"Cannot resume filter {k} of {run.layer}: its saved dream model is "
                    f"{os.path.basename(other)}, not in --format {run.model_format}. Use "
                    f"--format {other.rsplit('.', 1)[-1]}, or --overwrite to start it again. "
                    f"Received: format={run.model_format!r}")
            aside(k, (paths[0], other, paths[2]), ".stale",
                  f"its model was saved as {os.path.basename(other)}, not in --format "
                  f"{run.model_format}")
            found.redone.append(k)
            found.pending[k] = 0
            continue
        problem = (f"its record is {record}" if isinstance(record, str)
                   else records.check_files(record, *paths[:2]))
        if problem is None and record["filter"] != k:
            problem = f"its record is filter {record['filter']}'s"
        if problem:
            aside(k, paths, ".corrupt", problem)
            found.repaired.append(k)
            found.pending[k] = 0
            continue
        steps, history = record["steps"], record["resumed_at"]
        finished = record["status"] in layout.FINISHED
        differences = settings.differences(record["settings"], ignore_steps=True,
                                           resuming=resume)
        rescore = run.reference.key != records.reference_key(record)
        if finished and not differences and steps == settings.steps and (resume or not history):
            found.skipped.append(k)
            if rescore:
                found.rescore.append(k)
            continue
        if differences and resume and not overwrite:
            raise DreamError(
                f"Cannot resume filter {k} of {run.layer}: its saved dream was made with "
                f"other settings ({'; '.join(differences)}). Use the same settings, or "
                f"--overwrite to start it again. Received: {run.record_path(k)!r}")
        if not differences and finished and steps > settings.steps and not overwrite:
            found.kept[k] = steps
            if rescore:
                found.rescore.append(k)
            continue
        if not differences and resume and steps < settings.steps:
            found.pending[k] = steps  # continue it
            found.resumed_at[k] = history
            continue
        if finished and not overwrite:
            why = ("made with other settings: " + "; ".join(differences) if differences
                   else f"trained {steps} steps" + (f" resumed at {history}" if history else "")
                   + f", not a fresh {settings.steps}-step dream")
            aside(k, paths, ".stale", why)
        found.redone.append(k)
        found.pending[k] = 0
    return found


def _other_format(run: LayerRun, k: int, record: Any) -> str | None:
    """The path of dream k's model saved in another format, when its record names
    that file and this run's format has none; else None."""
    from kerasdream.defaults import MODEL_FORMATS

    if not isinstance(record, dict) or os.path.lexists(run.model_path(k)):
        return None
    for model_format in MODEL_FORMATS:
        if model_format == run.model_format:
            continue
        path = dataclasses.replace(run, model_format=model_format).model_path(k)
        if os.path.isfile(path) and records.check_files(record, run.png_path(k), path) is None:
            return path
    return None


def models_owner(run: LayerRun, on_disk: dict[int, Any]) -> str | None:
    """The other output folder whose committed dreams the models this run would
    replace belong to (two runs of other --out sharing one --models-dir), else None."""
    import json

    try:
        with open(run.owner_path, encoding="utf-8") as file:
            other = json.load(file).get("out")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(other, str):
        return None
    other = os.path.normpath(os.path.join(os.path.abspath(run.models_folder), other))
    if os.path.realpath(other) == os.path.realpath(run.out_dir):
        return None
    theirs = dataclasses.replace(run, out_dir=other)
    their_records = records.folder_records(theirs.folder)
    for k in run.filters:
        record, mine = their_records.get(k), on_disk.get(k)
        model = run.model_path(k)
        if not (isinstance(record, dict) and os.path.isfile(model)):
            continue
        if isinstance(mine, dict) and records.check_files(mine, run.png_path(k), model) is None:
            continue  # the same file is this run's dream too (same network and settings)
        if records.check_files(record, theirs.png_path(k), model) is None:
            return other
    return None


def chunks(pending: dict[int, int], batch: int) -> list[tuple[list[int], int]]:
    """The (filters, steps already done) groups a layer trains, one `fit` each.

    Each is independent of the others (row keys), so an executor may run them
    in any order or place.
    """
    todo = list(pending)
    groups = []
    for start in range(0, len(todo), batch):
        chunk = todo[start:start + batch]
        # Dreams resumed from the same step count train together.
        for done_steps in sorted({pending[k] for k in chunk}):
            groups.append(([k for k in chunk if pending[k] == done_steps], done_steps))
    return groups


def make_plan(
    spec,
    layers: Sequence[str] | None,
    filters: str | None,
    settings: DreamSettings,
    *,
    out_dir: str,
    models_dir: str,
    model_format: str = "keras",
    batch: int = DEFAULT_BATCH,
    resume: bool = False,
    overwrite: bool = False,
    strategy: Any = None,
    names: list[str] | None = None,
    reference: Reference | None = None,
) -> Plan:
    """Check a gallery's options and plan one `LayerRun` per layer (before any training).

    Args:
        spec: The network (`BaseSpec`).
        layers: Layer names; None: `default_layers` of the network.
        filters: A filter list such as '0-15' or 'all'; None: the first 16.
        settings: The dreams' settings; a size of None is the network's
            own fixed input size (else `DEFAULT_SIZE`), written down as such.
        names: Class names (a class layer's dreams), shown in grids and metrics.
        reference: The photos dreams are scored against
            (`photo_folder.folder_reference`); None: skimage's.

    Raises:
        DreamError: a bad layer, size, objective, filter list or unwritable folder.
    """
    from kerasdream import io, profiling
    from kerasdream.network.activations import relu_cap
    from kerasdream.network.bases import (
        as_spec,
        check_fixed_size,
        check_min_size,
        display_name,
        image_shape_for,
        input_size,
        layer_channels,
        load_base,
        resolve_layer,
    )
    from kerasdream.network.classes import class_count
    from kerasdream.network.layers import default_layers

    with profiling.stage("load"):
        base = load_base(spec)
    layers = [resolve_layer(base, name) for name in layers] if layers else default_layers(base)
    shape = image_shape_for(base, settings.image_size)  # validates the size early
    name = display_name(base, as_spec(spec))
    check_min_size(as_spec(spec), shape, name)  # both before any folder is made
    check_fixed_size(base, shape, name)
    if settings.size is None:  # the records say the size the dreams have (as before: 128)
        fixed = input_size(base) != (None, None)
        settings = dataclasses.replace(settings, size=list(shape[:2]) if fixed else DEFAULT_SIZE)
    settings.objective_for(layers[0], [0], base)  # validates the objective name early
    with profiling.stage("load"):  # once per run: hashed per loaded network object
        settings = settings.identified(base, as_spec(spec).preprocess_mode)
    runs = []
    for layer in layers:
        channels = (class_count(base, layer) if settings.objective == "class"
                    else layer_channels(base, layer))
        chosen = (parse_filters(filters, channels) if filters is not None
                  else list(range(min(DEFAULT_FILTERS, channels))))
        runs.append(LayerRun(spec, layer, chosen, settings, out_dir, models_dir, model_format,
                             strategy, channels, cap=relu_cap(base, layer),
                             input_channels=shape[2], names=names,
                             reference=SKIMAGE if reference is None else reference))
    for folder in (out_dir, models_dir):  # after the checks above: a refusal writes nothing
        io.check_writable(folder)
    return Plan(runs, out_dir, models_dir, batch, resume, overwrite)


@dataclass(frozen=True)
class ChunkTask:
    """One chunk of one layer: what an executor trains and commits in one go."""

    run: LayerRun
    filters: tuple[int, ...]
    done_steps: int = 0
    history: tuple[tuple[int, tuple[int, ...]], ...] = ()  # (filter, resumed at) pairs
    rescore: bool = False  # score finished dreams against the run's reference; train none

    @property
    def dream_steps(self) -> int:
        if self.rescore:
            return 0
        return len(self.filters) * (self.run.settings.steps - self.done_steps)

    def resumed_at(self) -> dict[int, list[int]]:
        return {k: list(steps) for k, steps in self.history}


def tasks(plan: Plan, surveys: Sequence[Survey]) -> list[ChunkTask]:
    """Every chunk the plan trains or rescores, layer by layer, given each layer's survey."""
    found = []
    for run, layer_survey in zip(plan.runs, surveys):
        for start in range(0, len(layer_survey.rescore), plan.batch):
            group = layer_survey.rescore[start:start + plan.batch]
            found.append(ChunkTask(run, tuple(group), rescore=True))
        for group, done_steps in chunks(layer_survey.pending, plan.batch):
            history = tuple((k, tuple(layer_survey.resumed_at.get(k, [])
                                      + ([done_steps] if done_steps else [])))
                            for k in group)
            found.append(ChunkTask(run, tuple(group), done_steps, history))
    return found
