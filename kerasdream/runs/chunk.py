"""Train one chunk of a layer's filters and commit each dream: the only module
of `kerasdream.runs` that imports Keras at the top.

A chunk is one `fit` of one `DreamModel` over up to `batch` filters. Each
dream is committed whole: PNG (and MACO's maps), per-filter model, then the
commit record naming both by hash (`kerasdream.runs.records`). The PNG is
hashed from the bytes written, not read back. `rescore_chunk` scores
finished dreams against other reference photos and rewrites only their
records.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass

import keras
import numpy as np

from kerasdream import io, profiling, saving
from kerasdream.callbacks import DreamProgress, NonFiniteError
from kerasdream import evaluation as scoring
from kerasdream.model import DreamModel
from kerasdream.optimizers import default_optimizer
from kerasdream.network import distribute
from kerasdream.network.bases import load_base
from kerasdream.runs import layout, records, signals
from kerasdream.runs.plan import LayerRun
from kerasdream.runs.results import FilterResult

# The share of 0 and 255 values from which a dream is pure noise or flat
# colour: a learning rate far too large (healthy dreams here: under 2 %).
SATURATED = 0.9


@dataclass
class ChunkOutcome:
    """What one chunk made: each filter's record (with its files' hashes where
    this process wrote them) and its 8-bit image, for the grid."""

    records: dict[int, dict]
    images: dict[int, np.ndarray]
    saved: int = 0


def train_chunk(run: LayerRun, models: dict[int, DreamModel], filters: list[int],
                done_steps: int = 0, history: dict[int, list[int]] | None = None,
                progress=None, log=print) -> ChunkOutcome:
    """Train `filters` of `run.layer` together and commit each dream.

    Args:
        run: The layer's run.
        models: This layer's traced models by chunk size (filled and reused).
        filters: The chunk's filters.
        done_steps: Steps the chunk's dreams already have (resuming), else 0.
        history: Each filter's step counts it was resumed at.
        progress: A `keras.utils.Progbar` over the run's dream-steps, or None.
        log: Where a non-finite fault is reported.

    Returns:
        The chunk's `ChunkOutcome`.
    """
    settings = run.settings
    base = load_base(run.spec)
    # Every replica takes an equal slice of the batch: pad with copies of the
    # last filter (same row key, so the same dream) and drop them afterwards.
    padded = filters + filters[-1:] * (-len(filters) % distribute.replicas(run.strategy))
    fresh = len(padded) not in models  # its first fit traces
    model = model_for(run, padded, models)
    generator = model.generator
    if done_steps:
        resume_from(model, [saving.load_dream(run.model_path(k),
                                              network=generator.spec.get("network"))
                            for k in padded], done_steps)
    preprocess = model.preprocess.mode
    with profiling.stage("score"):
        start_acts = scoring.layer_means(base, run.layer, generator.render(), preprocess)
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
        scores = scoring.score_dreams(base, run.layer, images[:len(filters)], filters,
                                      preprocess, reference=run.reference)
    outcome = ChunkOutcome({}, {})
    for row, (k, score) in enumerate(zip(filters, scores)):
        if status[row] == layout.OK and not moved[row]:
            status[row] = layout.DEAD  # not one step changed it: no gradient reached it
        if status[row] in (layout.OK, layout.DEAD) and score["constant_channel"]:
            # The same output for every photo: no picture drives it, whatever moved
            # the dream (a prior, rival filters); it shows nothing of the filter.
            status[row] = layout.CONSTANT
        saturated = float(np.mean((images[row] == 0) | (images[row] == 255)))
        if status[row] == layout.OK and saturated >= SATURATED:
            status[row] = layout.saturated_status(saturated)
        result = FilterResult(
            filter=k,
            start_activation=float(start_acts[row, k]),
            final_activation=score["activation"],
            rank=score["rank"],
            steps=trained[row],
            wall_seconds=round(seconds / len(filters), 4),
            status=status[row],
            robust_rank=score["robust_rank"],
            natural_ratio=score["natural_ratio"],
            robust_natural_ratio=score["robust_natural_ratio"],
            path_similarity=score["path_similarity"],
            path_floor=score["path_floor"],
            path_layer=score["path_layer"],
            off_path=score["off_path"],
            reference=score["reference"],
            resumed_at=(history or {}).get(k, [done_steps] if done_steps else []),
        )
        record = {**result.as_dict(), "settings": dataclasses.asdict(settings)}
        if run.writes:
            with signals.deferred(), profiling.stage("write"):  # whole or not at all
                record = commit(run, k, images[row], generator.row(row, state), record,
                                None if transparency is None else transparency[row])
            outcome.saved += 1
        outcome.records[k] = record
        outcome.images[k] = images[row]
    return outcome


# The record fields that depend on the reference photos, rewritten by a rescore.
RESCORED = ("natural_ratio", "robust_natural_ratio", "path_similarity", "path_floor",
            "path_layer", "off_path", "reference")


def rescore_chunk(run: LayerRun, filters: list[int]) -> ChunkOutcome:
    """Score finished dreams of `filters` against `run`'s reference photos and
    rewrite their records' photo measures (`RESCORED`); their PNGs and models
    stay as they are, and so do the hashes that name them.

    Returns:
        The `ChunkOutcome` with the new records and the dreams' images.
    """
    from kerasdream.network.bases import as_spec

    base = load_base(run.spec)
    found = {k: records.read_record(run.record_path(k)) for k in filters}  # not the whole folder
    channels = run.input_channels or 3
    images = np.stack([np.round(io.load_image(run.png_path(k), channels=channels))
                       .astype("uint8") for k in filters])
    with profiling.stage("score"):
        scores = scoring.score_dreams(base, run.layer, images, filters,
                                      as_spec(run.spec).preprocess_mode,
                                      reference=run.reference)
    outcome = ChunkOutcome({}, {})
    for k, image, score in zip(filters, images, scores):
        record = {**found[k], **{field: score[field] for field in RESCORED}}
        if run.writes:
            with signals.deferred(), profiling.stage("write"):
                io.write_json(run.record_path(k), record)
        outcome.records[k] = record
        outcome.images[k] = image
    return outcome


def commit(run: LayerRun, k: int, image: np.ndarray, dream, record: dict,
           transparency: np.ndarray | None = None) -> dict:
    """PNG (and MACO's maps), model, then the record naming both by hash: the
    record is the commit. Returns the record written."""
    record_path = run.record_path(k)
    if os.path.lexists(record_path):
        os.remove(record_path)  # uncommit the old dream before replacing its files
    png, model = run.png_path(k), run.model_path(k)
    png_sha256 = io.save_png(png, image)
    if transparency is not None:  # MACO: the map and the dream shown through it
        save_transparency(png, image, transparency)
    saving.save_dream(dream, model)
    record = {**record, "png_sha256": png_sha256, "model_sha256": records.sha256_of(model)}
    io.write_json(record_path, record)
    return record


def save_transparency(png_path: str, image: np.ndarray, transparency: np.ndarray) -> None:
    """`filter_k_transparency.png` (the map) and `filter_k_overlay.png` (RGBA) beside the dream."""
    from kerasdream.param import maco

    map_path, overlay_path = layout.transparency_names(png_path)
    io.save_png(map_path, maco.transparency_image(transparency))
    io.save_png(overlay_path, maco.overlay(image, transparency))


def model_for(run: LayerRun, filters: list[int], models: dict[int, DreamModel]) -> DreamModel:
    """The layer's dream model for a chunk of this size, restarted on `filters`."""
    settings = run.settings
    base = load_base(run.spec)
    objective = settings.objective_for(run.layer, filters, base)
    model = models.get(len(filters))
    if model is None:
        with distribute.scope(run.strategy), profiling.stage("build"):
            model = DreamModel(
                objective, run.spec,
                size=settings.image_size,
                parameterization=settings.parameterization_for(base),
                transforms=settings.transforms,
                seed=settings.seed,
                row_keys=filters,
                precision=settings.precision,
            )
            model.compile(default_optimizer(settings.learning_rate_for(run.layer, base)))
        models[len(filters)] = model
    else:
        model.restart(objective, row_keys=filters)
    return model


def resume_from(model: DreamModel, saved: list, done_steps: int) -> None:
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
        return [steps] * dreams, [layout.OK] * dreams
    trained, status = [], []
    for row in range(dreams):
        if row in error.rows:
            trained.append(done_steps + error.first_step - 1)
            status.append(layout.non_finite_status(done_steps + error.step))
        else:
            trained.append(done_steps + error.step)
            status.append(layout.stopped_status(done_steps + error.step))
    return trained, status
