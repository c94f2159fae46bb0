"""Filter galleries: many filters' dreams, per-filter models, metrics, resuming.

For each layer, the filters train in chunks of `batch` dreams, one `fit` per
chunk, on ONE `DreamModel` per chunk size: each chunk restarts it with its
filters (new kernel rows and targets), so a layer is built and traced once.
After every chunk each dream's PNG, per-filter model and commit record
(`kerasdream.runs.records`, written last) are written atomically, then the
layer's `metrics.json` summary. An interrupted run loses at most the chunk
that was training. Running the same command again checks every record
against its files and settings: it skips the dreams that match, moves aside
and redoes those that do not, keeps a longer dream rather than downgrade it
(unless `overwrite`), and says how many of each. One run at a time writes
to an output folder (`kerasdream.runs.runlock`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from kerasdream import io, profiling
from kerasdream.network import distribute
from kerasdream import evaluation
from kerasdream.runs import records
from kerasdream.runs import signals
from kerasdream.network.bases import (
    BaseSpec,
    get_layer,
    image_shape_for,
    layer_channels,
    list_layers,
    load_base,
    resolve_layer,
)
from kerasdream.callbacks import DreamProgress, NonFiniteError, progress_bar
from kerasdream.errors import DreamError
from kerasdream.runs.runlock import RunLock
from kerasdream.network.activations import PRE, is_gating_relu
from kerasdream.network.features import feature_model
from kerasdream.defaults import (
    DEFAULT_PARAMETERIZATION,
    DEFAULT_SIZE,
    DEFAULT_STEPS,
    DEFAULT_TRANSFORMS,
)
from kerasdream.model import DreamModel
from kerasdream.optimizers import default_optimizer
from kerasdream.validation import check_memory
from kerasdream.objectives.terms import Channel, Neuron, Rivals
from kerasdream import saving
from kerasdream.network.precision import DEFAULT_PRECISION

from kerasdream.defaults import (  # noqa: E402
    ACTIVATIONS,
    DEFAULT_ACTIVATION,
    DEFAULT_BATCH,
    DEFAULT_FILTERS,
    DEFAULT_SELECTIVITY,
    SELECTIVE_STRIDE,
)

METRICS_FILE = "metrics.json"
OBJECTIVES = {"channel": Channel, "neuron": Neuron}


@dataclass(frozen=True)
class DreamSettings:
    """Everything that decides what a filter's dream looks like.

    Two runs with equal settings (ignoring `steps` when resuming) give the
    same image for the same filter, whatever the batch size.
    """

    size: int | list[int] = DEFAULT_SIZE
    steps: int = DEFAULT_STEPS
    learning_rate: float | None = None
    seed: int = 0
    parameterization: str = DEFAULT_PARAMETERIZATION
    transforms: str = DEFAULT_TRANSFORMS
    objective: str = "channel"
    activation: str = DEFAULT_ACTIVATION
    selectivity: float = DEFAULT_SELECTIVITY
    precision: str = DEFAULT_PRECISION
    spectrum: str | None = None  # MACO: a folder of photos whose spectrum to use

    @property
    def image_size(self) -> int | tuple[int, int]:
        """`size` as `DreamModel` takes it (JSON gives a [height, width] list back)."""
        return tuple(self.size) if isinstance(self.size, list) else self.size

    def parameterization_for(self, base: keras.Model):
        """The parameterization name, or a MACO layer with the `spectrum` folder's."""
        if self.spectrum is None:
            return self.parameterization
        if self.parameterization != "maco":
            raise DreamError(f"A spectrum folder is for the 'maco' parameterization. "
                             f"Received: parameterization={self.parameterization!r}")
        from kerasdream.param.maco import Maco, folder_spectrum

        shape = image_shape_for(base, self.image_size)
        return Maco(shape, magnitude=folder_spectrum(self.spectrum, shape[:2], shape[2]))

    def objective_for(self, layer: str, filters: list[int], base: keras.Model):
        """The objective for `filters` of `layer`: a ReLU layer is read before
        its gate with `activation="pre"`, so a dream is not pushed to the cap."""
        if self.objective not in OBJECTIVES:
            raise DreamError(f"Unknown objective. Expected one of {sorted(OBJECTIVES)}. "
                             f"Received: objective={self.objective!r}")
        if self.activation not in ACTIVATIONS:
            raise DreamError(f"Unknown activation. Expected one of {list(ACTIVATIONS)}. "
                             f"Received: activation={self.activation!r}")
        if self.activation == "pre" and is_gating_relu(base, layer):
            layer = layer + PRE
        objective = OBJECTIVES[self.objective](layer, filters)
        if (self.objective == "channel" and self.selectivity
                and layer_stride(base, layer) >= SELECTIVE_STRIDE):
            objective = objective - self.selectivity * Rivals(layer, filters)
        return objective

    def matches(self, recorded: dict, ignore_steps: bool = False) -> bool:
        return not self.differences(recorded, ignore_steps)

    def differences(self, recorded: dict, ignore_steps: bool = False,
                    resuming: bool = False) -> list[str]:
        """'seed: 1 -> 0' for each setting `recorded` has otherwise than these;
        a resumed dream may go on at another learning rate."""
        mine = dataclasses.asdict(self)
        # Recorded before `precision` existed: those dreams were float32,
        # which is what `auto` is wherever they could have been made.
        recorded = {"precision": DEFAULT_PRECISION, **recorded}
        if ignore_steps:
            mine.pop("steps")
        if resuming:
            mine.pop("learning_rate")
        return [f"{k}: {recorded.get(k)!r} -> {v!r}" for k, v in mine.items()
                if recorded.get(k) != v]


@dataclass
class FilterResult:
    """What one filter's dream achieved, as recorded in `metrics.json`.

    `rank` reads the final 8-bit image; `robust_rank` the mean over fixed
    random views of it (shifted, scaled, rotated a little); `natural_ratio`
    is the activation over the filter's largest on crops of real photos
    (for a capped ReLU, of the pre-activation). See `kerasdream.evaluation.scoring`.
    """

    filter: int
    start_activation: float
    final_activation: float
    rank: int
    steps: int
    wall_seconds: float
    status: str = "ok"
    robust_rank: int | None = None
    natural_ratio: float | None = None
    robust_natural_ratio: float | None = None
    resumed_at: list[int] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@functools.lru_cache(maxsize=64)
def layer_stride(base: keras.Model, layer: str) -> int:
    """Pixels of the input between neighbouring units of `layer` (its total stride).

    Cached: every chunk of a layer asks again, and the answer needs a model built.
    """
    path = layer[: -len(PRE)] if layer.endswith(PRE) else layer
    size = tuple(d or 128 for d in base.inputs[0].shape[1:3])
    probe = feature_model(base, [path], (*size, base.inputs[0].shape[-1]))
    shape = probe.compute_output_spec(keras.KerasTensor((1, *size, base.inputs[0].shape[-1])))
    spatial = tuple(shape[path].shape)
    return max(1, size[0] // spatial[1]) if len(spatial) == 4 and spatial[1] else 1


def parse_filters(text: str, channels: int | None = None) -> list[int]:
    """`"0-15"`, `"3,5,9"`, `"0-3,8"` or `"all"` -> sorted filter indices."""
    if text.strip().startswith("-"):
        raise DreamError(f"Filters must be 0 or more. Received: filters={text!r}")
    if text.strip() == "all":
        if channels is None:
            raise DreamError("Filters 'all' needs a layer with a known channel count.")
        return list(range(channels))
    filters: list[int] = []
    for part in text.split(","):
        part = part.strip()
        low, dash, high = part.partition("-")
        try:
            if dash:
                first, last = int(low), int(high)
                if first > last:
                    raise ValueError
                filters.extend(range(first, last + 1))
            else:
                filters.append(int(part))
        except ValueError:
            raise DreamError(
                "Malformed filter list. Expected indices and ranges such as '0-15', "
                f"'3,5,9' or 'all'. Received: filters={text!r}"
            ) from None
    if any(k < 0 for k in filters):
        raise DreamError(f"Filters must be 0 or more. Received: filters={text!r}")
    if channels is not None and max(filters) >= channels:
        raise DreamError(
            f"Filter out of range: the layer has {channels} channels (0-{channels - 1}). "
            f"Received: filters={text!r}"
        )
    return sorted(dict.fromkeys(filters))


def atlas_layers(base: keras.Model) -> list[str]:
    """The layers worth dreaming, in order: those with 4-D outputs that apply
    a non-linearity (ReLU / activation layers, or convs with a built-in
    activation), or every 4-D layer of a network with none of those."""
    infos = [info for info in list_layers(base) if info.dreamable]
    activations = [i.path for i in infos if _is_activation(base, i.path)]
    candidates = activations or [i.path for i in infos]
    if not candidates:
        raise DreamError(f"{base.name} has no layer with (batch, height, width, channels) "
                         f"output to dream.")
    return candidates


def _after_depthwise(base: keras.Model, path: str) -> bool:
    """Whether `path` is the activation of a depthwise conv (through any BN).

    Each of its channels sees one input channel, so its dreams are flat
    colours: not what a gallery should show of a layer's depth.
    """
    layer = get_layer(base, path)
    for _ in range(3):
        nodes = [n for n in layer._inbound_nodes if n.parent_nodes]
        if len(nodes) != 1 or len(nodes[0].parent_nodes) != 1:
            return False
        layer = nodes[0].parent_nodes[0].operation
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            return True
        if not isinstance(layer, (keras.layers.BatchNormalization, keras.layers.ReLU,
                                  keras.layers.Activation)):
            return False
    return False


def default_layers(base: keras.Model) -> list[str]:
    """A shallow, a middle and a deep layer worth dreaming, for any network:
    the `atlas_layers` (but activations of depthwise convs) at about 20 %,
    55 % and 90 % of the network's depth."""
    candidates = atlas_layers(base)
    candidates = [p for p in candidates if not _after_depthwise(base, p)] or candidates
    picks = [candidates[min(int(f * len(candidates)), len(candidates) - 1)]
             for f in (0.2, 0.55, 0.9)]
    return list(dict.fromkeys(picks))


def _is_activation(base, path) -> bool:
    layer = get_layer(base, path)
    if isinstance(layer, (keras.layers.ReLU, keras.layers.Activation)):
        return True
    activation = getattr(layer, "activation", None)
    return activation is not None and getattr(activation, "__name__", "") != "linear"


def network_name(spec: BaseSpec) -> str:
    """A folder name for the network: 'mobilenet-0.25', 'vgg16', 'my_model'."""
    if spec.is_file:
        return os.path.splitext(os.path.basename(spec.model))[0]
    if spec.model.lower() in ("mobilenet", "mobilenetv2"):
        return f"{spec.model.lower()}-{spec.resolved_alpha():g}"
    return spec.model.lower()


def layer_folder(layer: str) -> str:
    return layer.replace("/", "__")


def channel_activations(
    base: keras.Model, layer: str, images: np.ndarray, preprocess: str
) -> np.ndarray:
    """Each image's mean activation of every channel of `layer`, shape (N, C)."""
    return evaluation.layer_means(base, layer, images, preprocess)  # score_dreams' model


rank_of = evaluation.rank_of


@dataclass
class Survey:
    """What a rerun found for one layer's filters (`LayerRun.survey`).

    `pending` maps each filter still to train to the steps it already has
    (nonzero only when resuming); `kept` are longer dreams kept rather than
    downgraded; `moved` names each file moved aside and why.
    """

    pending: dict[int, int] = dataclasses.field(default_factory=dict)
    skipped: list[int] = dataclasses.field(default_factory=list)
    repaired: list[int] = dataclasses.field(default_factory=list)
    redone: list[int] = dataclasses.field(default_factory=list)
    kept: dict[int, int] = dataclasses.field(default_factory=dict)
    resumed_at: dict[int, list[int]] = dataclasses.field(default_factory=dict)
    moved: list[str] = dataclasses.field(default_factory=list)

    def report(self, layer: str) -> str | None:
        """'relu2: skipped 4 finished dreams, repaired 1, redid 2.' on a rerun."""
        if not (self.skipped or self.repaired or self.redone or self.kept):
            return None
        text = (f"{layer}: skipped {len(self.skipped)} finished "
                f"dream{'s' * (len(self.skipped) != 1)}, repaired {len(self.repaired)}, "
                f"redid {len(self.redone)}")
        if self.kept:
            longest = ", ".join(f"{k} ({s} steps)" for k, s in sorted(self.kept.items()))
            text += (f"; kept {len(self.kept)} longer dream{'s' * (len(self.kept) != 1)} "
                     f"rather than retrain at fewer steps: filter {longest} "
                     f"(--overwrite retrains them)")
        return text + "."


@dataclass
class LayerRun:
    """One layer of a gallery run: where its files go and what is done."""

    spec: BaseSpec
    layer: str
    filters: list[int]
    settings: DreamSettings
    out_dir: str
    models_dir: str
    model_format: str = "keras"
    strategy: Any = None
    saved: int = 0  # dreams this run committed

    @property
    def writes(self) -> bool:
        return distribute.is_chief(self.strategy)

    @property
    def folder(self) -> str:
        return os.path.join(self.out_dir, layer_folder(self.layer))

    def png_path(self, k: int) -> str:
        return os.path.join(self.folder, f"filter_{k}.png")

    def model_path(self, k: int) -> str:
        return os.path.join(self.models_dir, network_name(self.spec), layer_folder(self.layer),
                            f"filter_{k}.{self.model_format}")

    def record_path(self, k: int) -> str:
        return os.path.join(self.folder, records.record_name(k))

    def load_metrics(self) -> dict:
        """The layer's committed dreams: {"filters": {"k": record}} from the records."""
        return {"filters": {str(k): r for k, r in records.folder_records(self.folder).items()}}

    def survey(self, resume: bool = False, overwrite: bool = False,
               move: bool = True) -> Survey:
        """Check each filter's record against its files and these settings.

        Damaged or unmatched files are moved aside (`*.corrupt`, `*.stale`)
        when `move`; raises `DreamError` when `resume` cannot continue a
        dream made with other settings.
        """
        found = Survey()
        settings = self.settings
        for k in self.filters:
            paths = (self.png_path(k), self.model_path(k), self.record_path(k))
            record = records.read_record(paths[2])
            if record is None:
                left = [p for p in paths[:2] if os.path.lexists(p)]
                if left:
                    self._aside(found, left, ".stale", "left by an interrupted or another "
                                "run (no commit record)", move)
                    found.redone.append(k)
                found.pending[k] = 0
                continue
            problem = (f"its record is {record}" if isinstance(record, str)
                       else records.check_files(record, *paths[:2]))
            if problem is None and record["filter"] != k:
                problem = f"its record is filter {record['filter']}'s"
            if problem:
                self._aside(found, paths, ".corrupt", problem, move)
                found.repaired.append(k)
                found.pending[k] = 0
                continue
            steps, history = record["steps"], record["resumed_at"]
            finished = record["status"] in records.FINISHED
            differences = settings.differences(record["settings"], ignore_steps=True,
                                               resuming=resume)
            if (finished and not differences and steps == settings.steps
                    and (resume or not history)):
                found.skipped.append(k)
                continue
            if differences and resume and not overwrite:
                raise DreamError(
                    f"Cannot resume filter {k} of {self.layer}: its saved dream was made with "
                    f"other settings ({'; '.join(differences)}). Use the same settings, or "
                    f"--overwrite to start it again. Received: {self.record_path(k)!r}")
            if not differences and finished and steps > settings.steps and not overwrite:
                found.kept[k] = steps
                continue
            if not differences and resume and steps < settings.steps:
                found.pending[k] = steps  # continue it
                found.resumed_at[k] = history
                continue
            if finished and not overwrite:
                why = ("made with other settings: " + "; ".join(differences) if differences
                       else f"trained {steps} steps" + (f" resumed at {history}" if history
                                                        else "")
                       + f", not a fresh {settings.steps}-step dream")
                self._aside(found, paths, ".stale", why, move)
            found.redone.append(k)
            found.pending[k] = 0
        return found

    def _aside(self, found: Survey, paths, suffix: str, why: str, move: bool) -> None:
        names = []
        for path in paths:
            if move and self.writes:
                path = records.move_aside(path, suffix) or ""
            elif os.path.lexists(path):
                path += suffix
            else:
                path = ""
            if path:
                names.append(os.path.basename(path))
        if names:
            found.moved.append(f"{self.layer}: moved aside {', '.join(names)}: {why}.")

    def pending(self, resume: bool = False) -> dict[int, int]:
        """Filters still to train, each with the steps it already has (resume);
        looks only, moves nothing."""
        return self.survey(resume, move=False).pending


def run_layer(
    run: LayerRun,
    *,
    batch: int = DEFAULT_BATCH,
    resume: bool = False,
    overwrite: bool = False,
    survey: Survey | None = None,
    progress: keras.utils.Progbar | None = None,
    log: Callable[[str], None] = print,
) -> list[FilterResult]:
    """Dream every filter of `run.layer` not already done; return all results.

    Takes no lock: the caller (`run_gallery`, or a cluster's driver) holds it.
    """
    base = load_base(run.spec)
    if survey is None:
        survey = run.survey(resume, overwrite)
    if run.writes and survey.pending:
        # Before training, not after: a read-only folder must not cost the work.
        io.check_writable(run.folder)
        io.check_writable(os.path.dirname(run.model_path(0)))
    models: dict[int, DreamModel] = {}  # one built, traced model per chunk size
    for group, done_steps in chunks(survey.pending, batch):
        history = {k: survey.resumed_at.get(k, []) + ([done_steps] if done_steps else [])
                   for k in group}
        _train_chunk(run, base, models, group, done_steps, progress, log, history)
        if run.writes:
            with profiling.stage("write"):
                _write_metrics(run)
    if run.writes:
        with profiling.stage("write"):
            _write_grid(run)
    return layer_results(run, run.load_metrics())


def chunks(pending: dict[int, int], batch: int) -> list[tuple[list[int], int]]:
    """The (filters, steps already done) groups a layer trains, one `fit` each.

    Each is independent of the others (row keys), so a cluster runs each as a task.
    """
    todo = list(pending)
    groups = []
    for start in range(0, len(todo), batch):
        chunk = todo[start:start + batch]
        # Dreams resumed from the same step count train together.
        for done_steps in sorted({pending[k] for k in chunk}):
            groups.append(([k for k in chunk if pending[k] == done_steps], done_steps))
    return groups


def record(run: LayerRun, metrics: dict, results: Sequence[FilterResult]) -> None:
    """Enter a chunk's results, with the settings that made them, into `metrics`
    (in memory: on disk each dream's commit record is the truth)."""
    for result in results:
        metrics["filters"][str(result.filter)] = {
            **result.as_dict(),
            "settings": dataclasses.asdict(run.settings),
        }


def layer_results(run: LayerRun, metrics: dict) -> list[FilterResult]:
    """The recorded results of `run.filters`, in their order."""
    fields = FilterResult.__dataclass_fields__
    return [FilterResult(**{k: v for k, v in metrics["filters"][str(f)].items() if k in fields})
            for f in run.filters if str(f) in metrics["filters"]]


def _model_for(run: LayerRun, filters: list[int], models: dict) -> DreamModel:
    """The layer's dream model for a chunk of this size, restarted on `filters`."""
    settings = run.settings
    objective = settings.objective_for(run.layer, filters, load_base(run.spec))
    model = models.get(len(filters))
    if model is None:
        with distribute.scope(run.strategy), profiling.stage("build"):
            model = DreamModel(
                objective, run.spec,
                size=settings.image_size,
                parameterization=settings.parameterization_for(load_base(run.spec)),
                transforms=settings.transforms,
                seed=settings.seed,
                row_keys=filters,
                precision=settings.precision,
            )
            model.compile(default_optimizer(settings.learning_rate))
        models[len(filters)] = model
    else:
        model.restart(objective, row_keys=filters)
    return model


def _train_chunk(run, base, models, filters, done_steps, progress, log,
                 history=None) -> list[FilterResult]:
    """Train one chunk and commit each dream: PNG, model, then its record.

    Callable without the run lock (a cluster's workers write this way).
    """
    settings = run.settings
    # Every replica takes an equal slice of the batch: pad with copies of the
    # last filter (same row key, so the same dream) and drop them afterwards.
    padded = filters + filters[-1:] * (-len(filters) % distribute.replicas(run.strategy))
    fresh = len(padded) not in models  # its first fit traces
    model = _model_for(run, padded, models)
    generator = model.generator
    if done_steps:
        _resume(model, [saving.load_dream(run.model_path(k)) for k in padded], done_steps)
    preprocess = model.preprocess.mode
    with profiling.stage("score"):
        start_acts = channel_activations(base, run.layer, generator.render(), preprocess)
    start_kernel = keras.ops.convert_to_numpy(generator.kernel)

    began = time.perf_counter()
    error = None
    clock = profiling.FitClock()
    try:
        with distribute.scope(run.strategy):
            model.fit(settings.steps - done_steps,
                      callbacks=[DreamProgress(progress, len(filters)), clock.make_callback()])
    except NonFiniteError as fault:
        error = fault
        resumed = f" (steps counted from the resume at step {done_steps})" if done_steps else ""
        log(f"{run.layer}: {error}{resumed}")
    signals.check()  # a signal TensorFlow swallowed during the last step
    seconds = time.perf_counter() - began
    for name, value in zip(("trace", "train"), clock.split(seconds, fresh)):
        profiling.add(name, value)
    trained, status = chunk_outcome(len(filters), settings.steps, done_steps, error)

    images = generator.render()
    transparency = model.transparency()
    moved = np.any(keras.ops.convert_to_numpy(generator.kernel) != start_kernel, axis=1)
    state = model.training_state()
    with profiling.stage("score"):
        scores = evaluation.score_dreams(base, run.layer, images[:len(filters)], filters,
                                         preprocess)
    results = []
    for row, (k, score) in enumerate(zip(filters, scores)):
        start, final = float(start_acts[row, k]), score["activation"]
        if status[row] == "ok" and not moved[row]:
            status[row] = DEAD  # not one step changed it: no gradient reached it
        saturated = float(np.mean((images[row] == 0) | (images[row] == 255)))
        if status[row] == "ok" and saturated >= SATURATED:
            status[row] = (f"saturated: {saturated:.0%} of its pixel values are 0 or 255 "
                           f"(the learning rate is too large)")
        result = FilterResult(
            filter=k,
            start_activation=start,
            final_activation=final,
            rank=score["rank"],
            steps=trained[row],
            wall_seconds=round(seconds / len(filters), 4),
            status=status[row],
            robust_rank=score["robust_rank"],
            natural_ratio=score["natural_ratio"],
            robust_natural_ratio=score["robust_natural_ratio"],
            resumed_at=(history or {}).get(k, [done_steps] if done_steps else []),
        )
        if run.writes:
            with signals.deferred(), profiling.stage("write"):  # whole or not at all
                _commit(run, k, images[row], generator.row(row, state), result,
                        None if transparency is None else transparency[row])
        results.append(result)
    return results


# The status of a dream no training step changed: its filter never fired,
# so no gradient reached it (a dead ReLU, a zero filter).
DEAD = "dead"
# The share of 0 and 255 values from which a dream is pure noise or flat
# colour: a learning rate far too large (healthy dreams here: under 2 %).
SATURATED = 0.9


def _commit(run: LayerRun, k: int, image: np.ndarray, dream, result: FilterResult,
            transparency: np.ndarray | None = None) -> None:
    """PNG (and MACO's maps), model, then the record naming both by hash: the
    record is the commit."""
    record_path = run.record_path(k)
    if os.path.lexists(record_path):
        os.remove(record_path)  # uncommit the old dream before replacing its files
    png, model = run.png_path(k), run.model_path(k)
    io.save_png(png, image)
    if transparency is not None:  # MACO: the map and the dream shown through it
        _save_transparency(png, image, transparency)
    saving.save_dream(dream, model)
    io.write_json(record_path, {
        **result.as_dict(),
        "settings": dataclasses.asdict(run.settings),
        "png_sha256": records.sha256_of(png),
        "model_sha256": records.sha256_of(model),
    })
    run.saved += 1


def _save_transparency(png_path: str, image: np.ndarray, transparency: np.ndarray) -> None:
    """`filter_k_transparency.png` (the map) and `filter_k_overlay.png` (RGBA) beside the dream."""
    from kerasdream.param import maco

    stem = os.path.splitext(png_path)[0]
    io.save_png(f"{stem}_transparency.png", maco.transparency_image(transparency))
    io.save_png(f"{stem}_overlay.png", maco.overlay(image, transparency))


def _resume(model: DreamModel, saved: list, done_steps: int) -> None:
    """Start `model`'s rows from saved dreams: their kernels, and their
    optimizer slots where all were saved with the same optimizer, so that
    100 + 100 steps train like 200."""
    kernels = [keras.ops.convert_to_numpy(g.kernel) for g in saved]
    model.generator.kernel.assign(np.concatenate(kernels))
    states = [g.training_state() for g in saved]
    if all(s is not None for s in states):
        slots = np.concatenate([s[0] for s in states], axis=1)
        model.set_training_state(slots, done_steps)


def chunk_outcome(dreams: int, steps: int, done_steps: int,
                  error: NonFiniteError | None) -> tuple[list[int], list[str]]:
    """Steps each dream of a chunk really has, and its status.

    A fault stops the whole chunk: the dreams it names were restored to
    their last finite images; the others are healthy but short of `steps`,
    so they are recorded as stopped (a rerun finishes them; `--resume`
    continues them), never as done.
    """
    if error is None:
        return [steps] * dreams, ["ok"] * dreams
    trained, status = [], []
    for row in range(dreams):
        if row in error.rows:
            trained.append(done_steps + error.first_step - 1)
            status.append(f"non-finite by step {done_steps + error.step}")
        else:
            trained.append(done_steps + error.step)
            status.append(f"stopped at step {done_steps + error.step} (another dream of its "
                          f"chunk went non-finite)")
    return trained, status


def _write_metrics(run: LayerRun, metrics: dict | None = None) -> None:
    """The layer's summary, rebuilt from every record in its folder, so runs of
    other filters (and a cluster's workers) keep their entries. `metrics`, the
    caller's in-memory copy, is not needed: the records are the truth."""
    metrics = {
        "layer": run.layer,
        "network": run.spec.get_config(),
        "channels": layer_channels(load_base(run.spec), run.layer),
        **run.load_metrics(),
    }
    io.write_json(os.path.join(run.folder, METRICS_FILE), metrics)


def _write_grid(run: LayerRun) -> np.ndarray | None:
    committed = run.load_metrics()["filters"]
    done = [k for k in run.filters if str(k) in committed and os.path.isfile(run.png_path(k))]
    if not done:
        return None
    images = [io.load_image(run.png_path(k), channels=_png_channels(run.png_path(k)))
              for k in done]
    picture = io.grid(np.stack(images), labels=[str(k) for k in done], title=run.layer)
    io.save_png(os.path.join(run.folder, "grid.png"), picture)
    return picture


def _png_channels(path: str) -> int:
    from PIL import Image

    try:
        with Image.open(path) as image:
            return 1 if image.mode == "L" else 3
    except (OSError, SyntaxError):
        return 3  # load_image names the damaged file


def summarize(layer: str, results: Sequence[FilterResult]) -> str:
    """One sentence per layer: how many dreams excite their own filter most."""
    count = len(results)
    rank1 = sum(r.rank == 1 for r in results)
    robust = sum(r.robust_rank == 1 for r in results)
    ratios = [r.robust_natural_ratio for r in results if r.robust_natural_ratio is not None]
    text = (f"{layer}: {rank1} of {count} dreams excite their own filter more than any "
            f"other channel of the layer ({robust} of {count} still do when shifted, scaled "
            f"or rotated a little; a tie at a ReLU6 cap counts)")
    if ratios:
        text += (f"; median {np.median(ratios):.2f}x the filter's strongest response to "
                 f"real photos")
    dead = sum(r.status == DEAD for r in results)
    saturated = sum(r.status.startswith("saturated") for r in results)
    failed = sum(r.status not in ("ok", DEAD) for r in results) - saturated
    text += (f"; {saturated} saturated to 0 and 255 (try a smaller learning rate)"
             if saturated else "")
    text += (f"; {dead} dead (the filter never fired: no gradient reached its dream)"
             if dead else "")
    return text + (f"; {failed} stopped early on non-finite values" if failed else "") + "."


def run_gallery(
    spec: BaseSpec,
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
    quiet: bool = False,
    strategy: Any = None,
    log: Callable[[str], None] = print,
) -> dict[str, list[FilterResult]]:
    """Dreams for `filters` of each layer (default: a shallow, middle and deep
    layer, 16 filters each), one grid per layer and `gallery.png` for several.

    Holds `out_dir`'s run lock throughout (`FolderInUse` if another run does).
    """
    runs = gallery_runs(spec, layers, filters, settings, out_dir=out_dir, models_dir=models_dir,
                        model_format=model_format, strategy=strategy)
    base = load_base(spec)
    image_shape = image_shape_for(base, settings.image_size)
    check_memory(min(batch, max(len(run.filters) for run in runs)), image_shape)
    lock = RunLock(out_dir) if distribute.is_chief(strategy) else contextlib.nullcontext()
    try:
        with lock:
            stale = lock.stale_message() if isinstance(lock, RunLock) else None
            if stale:
                log(stale)
            for folder in (out_dir, models_dir):
                io.remove_stale_temporaries(folder)
            return _run_layers(runs, base, out_dir, batch, resume, overwrite, quiet, strategy,
                               log)
    except signals.Interrupted as stop:
        stop.saved = sum(run.saved for run in runs)
        raise
    except OSError as error:  # moving a file aside, taking the lock: on a full or read-only disk
        failed = io.storage_error(error, out_dir)
        if failed is None:
            raise
        raise failed from None


def _run_layers(runs, base, out_dir, batch, resume, overwrite, quiet, strategy, log):
    for run in runs:  # a refusal (resume with other settings) before anything is moved
        run.survey(resume, overwrite, move=False)
    surveys = [run.survey(resume, overwrite) for run in runs]
    for run, survey in zip(runs, surveys):
        for line in survey.moved:
            log(line)
        report = survey.report(run.layer)
        if report:
            log(report)
    if any(run.writes for run in runs):
        _check_damaged_metrics(runs, log)
    steps = runs[0].settings.steps
    total = sum(len(s.pending) * steps - sum(s.pending.values()) for s in surveys)
    if total == 0:
        log("Every dream is already done; nothing to train.")
    progress = None if quiet or total == 0 else progress_bar(total, unit_name="dream-step")
    results = {}
    for run, survey in zip(runs, surveys):
        results[run.layer] = run_layer(run, batch=batch, resume=resume, overwrite=overwrite,
                                       survey=survey, progress=progress, log=log)
    finish_gallery(runs, results, log)
    signals.check()  # a signal swallowed after the last step still ends the run as stopped
    return results


def gallery_runs(
    spec: BaseSpec,
    layers: Sequence[str] | None,
    filters: str | None,
    settings: DreamSettings,
    *,
    out_dir: str,
    models_dir: str,
    model_format: str = "keras",
    strategy: Any = None,
) -> list[LayerRun]:
    """Check a gallery's options and plan one `LayerRun` per layer (before any training)."""
    with profiling.stage("load"):
        base = load_base(spec)
    layers = [resolve_layer(base, name) for name in layers] if layers else default_layers(base)
    image_shape_for(base, settings.image_size)  # validates the size early
    settings.objective_for(layers[0], [0], base)  # validates the objective name early
    for folder in (out_dir, models_dir):
        io.check_writable(folder)
    runs = []
    for layer in layers:
        channels = layer_channels(base, layer)
        chosen = (parse_filters(filters, channels) if filters is not None
                  else list(range(min(DEFAULT_FILTERS, channels))))
        runs.append(LayerRun(spec, layer, chosen, settings, out_dir, models_dir, model_format,
                             strategy))
    return runs


def finish_gallery(runs: Sequence[LayerRun], results: dict[str, list[FilterResult]],
                   log: Callable[[str], None] = print) -> None:
    """`gallery.png` over several layers' grids, and one summary line per layer."""
    if len(runs) > 1 and runs[0].writes:
        pictures = [io.load_image(os.path.join(r.folder, "grid.png")) for r in runs
                    if os.path.isfile(os.path.join(r.folder, "grid.png"))]
        if pictures:
            io.save_png(os.path.join(runs[0].out_dir, "gallery.png"), io.stack(pictures))
    for layer, layer_results in results.items():
        log(summarize(layer, layer_results))


def _check_damaged_metrics(runs, log) -> None:
    """A `metrics.json` that is not a summary is moved aside; it is rebuilt from the records."""
    for run in runs:
        path = os.path.join(run.folder, METRICS_FILE)
        if not os.path.exists(path):
            continue
        data = io.read_json(path)
        if not (isinstance(data, dict) and isinstance(data.get("filters"), dict)):
            records.move_aside(path, ".corrupt")
            log(f"{run.layer}: moved aside {METRICS_FILE}.corrupt: it was damaged "
                f"(not a summary of dreams); rebuilt from the dreams' records.")
            _write_metrics(run)


def all_failed(results: dict[str, list[FilterResult]]) -> bool:
    """True when the run dreamed something and not one dream finished."""
    statuses = [r.status for rs in results.values() for r in rs]
    return bool(statuses) and not any(s in records.FINISHED for s in statuses)


def write_index(out_dir: str, spec: BaseSpec, layers: Sequence[str]) -> str:
    """The browsable site of `out_dir` (see `kerasdream.site.build`); its index.html."""
    from kerasdream.site.build import write_site

    return write_site(out_dir, spec, layers)
