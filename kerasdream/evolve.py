"""`evolve`: the same filters dreamed on every checkpoint of a training run.

    kerasdream evolve --model 'ckpt/epoch_*.keras' --layer conv2d_1 --filters 0-7 --out evolve

The checkpoints must be saves of one network (same layers, same weight
shapes), in the order of a natural sort of their names (`epoch_2` before
`epoch_10`). The first one is loaded and one `DreamModel` built on it; every
later checkpoint's weights are copied into that same network, so the dream
model is traced once. Each checkpoint's dreams start from the same seeded
images (`DreamModel.restart`): the pictures differ only because the
network did. Writes, into `out_dir` (see `kerasdream.series`):
`filter_<k>.png` (a strip, one column per checkpoint), `filter_<k>.gif`,
`grid.gif` and `checkpoint_<i>.png` (all filters of checkpoint i).

Each checkpoint's dreams are kept as soon as they are made, under
`out_dir/.evolve/`, named by what decides them (the checkpoint's network by
content, `network.identity`; the layer, filters and settings): a checkpoint
that cannot be read, or whose weights hold NaN, is left out and named, the
others are still dreamed and written, and a rerun dreams only what is
missing. The same network saved as `.keras` and as `.h5` is one network.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Sequence

import keras
import numpy as np

from kerasdream.network.bases import BaseSpec, _load_file, display_name, layer_channels, resolve_layer
from kerasdream.errors import DreamError
from kerasdream.runs.settings import DreamSettings, parse_filters
from kerasdream.generator import one_hot
from kerasdream.io import check_writable, remove_stale_temporaries
from kerasdream.model import DreamModel
from kerasdream.optimizers import default_optimizer
from kerasdream.series import DreamSeries

FRAMES_FOLDER = ".evolve"  # each checkpoint's finished dreams, by what decides them
FRAME_FORMAT = 1  # bump when what a frame holds changes


def natural_key(path: str) -> list:
    """Sort key: digit runs compare as numbers, so `epoch_2` comes before `epoch_10`."""
    return [int(part) if part.isdigit() else part.lower()
            for part in re.split(r"(\d+)", os.path.basename(path))]


def checkpoint_paths(pattern: str | Sequence[str]) -> list[str]:
    """The files a glob pattern (or a list of patterns and paths) names, naturally sorted."""
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    paths = []
    for item in patterns:
        matches = sorted(glob.glob(os.path.expanduser(item)), key=natural_key)
        if not matches:
            raise DreamError(f"No checkpoint file matches this pattern (quote it, so the "
                             f"shell passes it on: --model 'ckpt/epoch_*.keras'). "
                             f"Received: model={item!r}")
        paths += [path for path in matches if path not in paths]
    files = [path for path in paths if os.path.isfile(path)]
    if not files:
        raise DreamError(f"The pattern matches only folders, no model files. "
                         f"Received: model={patterns[0] if len(patterns) == 1 else patterns!r}")
    return files


def saved_config(path: str) -> dict | None:
    """The architecture stored in a `.keras` or `.h5` file, without loading
    its weights, in a form that does not depend on the file format (a
    network saved both ways gives the same); None when there is none to read."""
    import json
    import zipfile

    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                config = json.loads(archive.read("config.json"))
        else:
            import h5py

            with h5py.File(path, "r") as file:
                config = json.loads(file.attrs["model_config"])
    except Exception:  # not a model file we can read this way: loading will tell
        return None
    return _architecture(config)


# What a format writes into a model config besides the network itself: the
# `.keras` format names modules and registrations, and both record the build
# and the optimizer (which may differ between checkpoints; the network may not).
_FORMAT_KEYS = ("module", "registered_name", "build_config", "compile_config",
                "shared_object_id")


def _architecture(config):
    if isinstance(config, dict):
        return {k: _architecture(v) for k, v in config.items() if k not in _FORMAT_KEYS}
    if isinstance(config, list):
        return [_architecture(v) for v in config]
    return config


def check_series(paths: Sequence[str]) -> None:
    """Before any dreaming: every checkpoint must store the first one's network."""
    configs = [(path, saved_config(path)) for path in paths]
    configs = [(path, config) for path, config in configs if config is not None]
    if not configs:
        return
    first_path, first = configs[0]
    for path, config in configs[1:]:
        if config != first:
            raise DreamError(f"The checkpoints are not saves of one network: {path!r} stores "
                             f"another model config than {first_path!r}. Received: {path!r}")


def unreadable_reason(path: str, error: BaseException) -> str:
    """What is wrong with a checkpoint file that exists but did not load, in words."""
    import zipfile

    if path.endswith(".keras") and not zipfile.is_zipfile(path):
        return ("damaged: not a complete .keras file (a .keras file is a zip archive; "
                "this one is cut short or overwritten)")
    if path.endswith((".h5", ".hdf5")):
        try:
            import h5py

            with h5py.File(path, "r"):
                pass
        except Exception:
            return "damaged: not a readable HDF5 file (cut short or overwritten)"
    return f"unreadable: {error}"


def non_finite_weights(model: keras.Model) -> str | None:
    """The first weight of `model` holding NaN or infinity, by path; None if all are finite."""
    for weight in model.weights:
        if not np.all(np.isfinite(keras.ops.convert_to_numpy(weight))):
            return weight.path
    return None


def load_checkpoint(path: str) -> keras.Model:
    """One checkpoint, loaded afresh (never the shared base cache: evolve
    overwrites the first checkpoint's weights in memory)."""
    return _load_file(BaseSpec(path))


def _weight_shapes(model: keras.Model) -> list[tuple]:
    return [tuple(w.shape) for w in model.weights]


def layer_in(model: keras.Model, path: str, layer: str) -> str:
    """`layer`'s full path in the checkpoint at `path`, or an error naming the file."""
    try:
        return resolve_layer(model, layer)
    except DreamError as error:
        raise DreamError(f"Checkpoint {path!r}: {error}") from None


def check_same_network(reference: keras.Model, other: keras.Model, first: str,
                       path: str, layer: str) -> None:
    """A clear error unless `other` is a save of `reference`'s network and has `layer`."""
    layer_in(other, path, layer)
    mine, theirs = _weight_shapes(reference), _weight_shapes(other)
    if mine != theirs:
        where = next((i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b),
                     min(len(mine), len(theirs)))
        detail = (f"weight {where} is {theirs[where]} there, {mine[where]} in {first!r}"
                  if where < min(len(mine), len(theirs))
                  else f"{len(theirs)} weights there, {len(mine)} in {first!r}")
        raise DreamError(f"The checkpoints are not saves of one network: {detail}. "
                         f"Received: {path!r}")


def frame_key(identity: str, layer: str, filters: Sequence[int],
              settings: DreamSettings) -> str:
    """What decides one checkpoint's dreams: its network (by content), the
    layer, the filters and the settings. Equal keys, equal pictures."""
    import dataclasses
    import hashlib
    import json

    text = json.dumps({"format": FRAME_FORMAT, "network": identity, "layer": layer,
                       "filters": [int(k) for k in filters],
                       "settings": dataclasses.asdict(settings)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _read_frame(path: str) -> tuple[np.ndarray, np.ndarray] | None:
    """A finished checkpoint's (images, objective values), or None if missing or damaged."""
    try:
        with np.load(path) as data:
            return data["images"], data["values"]
    except Exception:  # missing, cut short: dream it again
        return None


def _write_frame(path: str, images: np.ndarray, values: np.ndarray) -> None:
    from kerasdream.io import atomic_path

    with atomic_path(path) as temporary:
        with open(temporary, "wb") as file:
            np.savez(file, images=images, values=values)


def evolve(
    pattern: str | Sequence[str],
    layer: str,
    filters: str | Sequence[int] = "0-7",
    out_dir: str = "evolve",
    settings: DreamSettings | None = None,
    *,
    log: Callable[[str], None] | None = print,
) -> DreamSeries:
    """Dream `filters` of `layer` on every checkpoint `pattern` matches.

    Writes strips, GIFs and a grid per checkpoint into `out_dir`. Each
    checkpoint's dreams are kept (under `out_dir/.evolve/`, keyed on the
    checkpoint's content, the layer, the filters and the settings) as soon
    as they are made, so a rerun dreams only what is missing: a checkpoint
    that could not be read, a new one, or one that changed.

    Args:
        pattern: A glob (or a list of globs and paths) of checkpoint files.
        layer: The layer to dream.
        filters: A filter list ('0-7', '3,5', 'all') or indices.
        out_dir: Where the pictures go.
        settings: The dreams' settings (size, steps, precision, ...).
        log: Where the line per checkpoint goes (None: silent).

    Returns:
        The series of the checkpoints that could be dreamed.

    Raises:
        DreamError: no checkpoint matches, the checkpoints are not saves of
            one network, or none of them could be read.
        RunFailed: some checkpoints could not be read, hold NaN weights, or
            their loss went non-finite; the others were dreamed and written,
            and the error names the rest.
        FolderInUse: another run writes to `out_dir`.
    """
    from kerasdream.callbacks import NonFiniteError
    from kerasdream.errors import RunFailed
    from kerasdream.network.identity import network_identity
    from kerasdream.runs.runlock import RunLock

    settings = settings or DreamSettings()
    paths = checkpoint_paths(pattern)
    check_series(paths)
    check_writable(out_dir)
    say = log or (lambda line: None)
    with RunLock(out_dir) as lock:
        stale = lock.stale_message()
        if stale:
            say(stale)
        remove_stale_temporaries(out_dir)
        reference = dream = series = path_of_layer = None
        first = None
        left_out: dict[str, str] = {}
        for path in paths:
            try:
                checkpoint = load_checkpoint(path)
            except DreamError as error:
                left_out[path] = unreadable_reason(path, error)
                say(f"{os.path.basename(path)}: skipped, {left_out[path]}")
                continue
            if reference is None:
                reference, first = checkpoint, path
                path_of_layer = layer_in(reference, path, layer)
                if isinstance(filters, str):
                    filters = parse_filters(filters, layer_channels(reference, path_of_layer))
                filters = [int(k) for k in filters]
                series = DreamSeries([f"filter {k}" for k in filters],
                                     title=f"{display_name(reference)} {path_of_layer}")
            else:
                check_same_network(reference, checkpoint, first, path, path_of_layer)
            bad_weight = non_finite_weights(checkpoint)
            if bad_weight:
                left_out[path] = (f"unusable: its weights hold NaN or infinity "
                                  f"({bad_weight}); the training run had diverged by then")
                say(f"{os.path.basename(path)}: skipped, {left_out[path]}")
                continue
            identity = network_identity(checkpoint, None, cache=False)
            frame = os.path.join(out_dir, FRAMES_FOLDER,
                                 frame_key(identity, path_of_layer, filters, settings)[:32]
                                 + ".npz")
            caption = os.path.splitext(os.path.basename(path))[0]
            found = _read_frame(frame)
            if found is None:
                if dream is None:
                    dream = _dream_model(reference, path_of_layer, filters, settings)
                if checkpoint is not reference:
                    reference.set_weights(checkpoint.get_weights())
                    dream.sync_network()
                dream.restart(row_keys=filters)
                try:
                    dream.fit(settings.steps)
                except NonFiniteError as error:  # its weights are finite
                    left_out[path] = (
                        "unusable: its responses overflow float32 from the first step (its "
                        "weights are too large)" if error.first_step <= 1 else
                        f"unusable: the loss became NaN or infinite by step {error.step} "
                        f"(try a smaller --lr)")
                    say(f"{os.path.basename(path)}: skipped, {left_out[path]}")
                    continue
                images = dream.render()
                values = np.asarray(keras.ops.convert_to_numpy(
                    dream(one_hot(len(filters)), training=False)), "float64")
                _write_frame(frame, images, values)
                note = ""
            else:
                images, values = found
                note = " (dreamed by an earlier run)"
            del checkpoint
            index = len(series)
            series.add(caption, images)
            series.write_grid(os.path.join(out_dir, f"checkpoint_{index:03d}.png"))
            say(f"{caption}: objective {np.mean(values):.3f} (mean of {len(filters)} "
                f"filters){note}")
        if series is None or not len(series):
            reasons = "; ".join(f"{p!r} is {why}" for p, why in left_out.items())
            raise DreamError(f"No checkpoint could be dreamed: {reasons}. Received: "
                             f"model={pattern if isinstance(pattern, str) else list(pattern)!r}")
        series.write(out_dir)
    if left_out:
        reasons = "; ".join(f"{p!r} is {why}" for p, why in left_out.items())
        raise RunFailed(
            f"{len(left_out)} of {len(paths)} checkpoints left out: {reasons}. The other "
            f"{len(series)} are dreamed and written to {out_dir!r}; replace or remove "
            f"{'it' if len(left_out) == 1 else 'them'} and run the same command again "
            f"(finished checkpoints are not dreamed again).")
    return series


def _dream_model(reference: keras.Model, layer: str, filters: list[int],
                 settings: DreamSettings) -> DreamModel:
    """The one dream model of a series, built on the first checkpoint read."""
    objective = settings.objective_for(layer, filters, reference)
    dream = DreamModel(objective, reference, size=settings.image_size,
                       parameterization=settings.parameterization_for(reference),
                       transforms=settings.transforms, seed=settings.seed, row_keys=filters,
                       precision=settings.precision)
    dream.compile(default_optimizer(settings.learning_rate_for(layer, reference)))
    return dream
