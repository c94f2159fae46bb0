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
from kerasdream.network.features import sync_twins
from kerasdream.runs.settings import DreamSettings, parse_filters
from kerasdream.generator import one_hot
from kerasdream.io import check_writable, remove_stale_temporaries
from kerasdream.model import DreamModel
from kerasdream.optimizers import default_optimizer
from kerasdream.series import DreamSeries


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
    """The model config stored in a `.keras` or `.h5` file, without loading
    its weights; None when the file has none to read."""
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
    config = dict(config)
    config.pop("compile_config", None)  # the optimizer may differ; the network may not
    config.pop("build_config", None)
    return config


def check_series(paths: Sequence[str]) -> None:
    """Before any dreaming: every checkpoint must store the first one's network."""
    first = saved_config(paths[0])
    if first is None:
        return
    for path in paths[1:]:
        config = saved_config(path)
        if config is not None and config != first:
            raise DreamError(f"The checkpoints are not saves of one network: {path!r} stores "
                             f"another model config than {paths[0]!r}. Received: {path!r}")


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


def evolve(
    pattern: str | Sequence[str],
    layer: str,
    filters: str | Sequence[int] = "0-7",
    out_dir: str = "evolve",
    settings: DreamSettings | None = None,
    *,
    log: Callable[[str], None] | None = print,
) -> DreamSeries:
    """Dream `filters` of `layer` on every checkpoint `pattern` matches; write
    strips, GIFs and a grid per checkpoint into `out_dir`; return the series."""
    settings = settings or DreamSettings()
    paths = checkpoint_paths(pattern)
    check_series(paths)
    check_writable(out_dir)
    remove_stale_temporaries(out_dir)
    reference = load_checkpoint(paths[0])
    path_of_layer = layer_in(reference, paths[0], layer)
    if isinstance(filters, str):
        filters = parse_filters(filters, layer_channels(reference, path_of_layer))
    filters = [int(k) for k in filters]
    objective = settings.objective_for(path_of_layer, filters, reference)
    dream = DreamModel(objective, reference, size=settings.image_size,
                       parameterization=settings.parameterization_for(reference),
                       transforms=settings.transforms, seed=settings.seed, row_keys=filters)
    dream.compile(default_optimizer(settings.learning_rate_for(path_of_layer, reference)))
    series = DreamSeries([f"filter {k}" for k in filters],
                         title=f"{display_name(reference)} {path_of_layer}")
    for index, path in enumerate(paths):
        if index:
            checkpoint = load_checkpoint(path)
            check_same_network(reference, checkpoint, paths[0], path, path_of_layer)
            reference.set_weights(checkpoint.get_weights())
            del checkpoint
            if dream.features is not None:
                sync_twins(dream.features)
        dream.restart(row_keys=filters)
        dream.fit(settings.steps)
        caption = os.path.splitext(os.path.basename(path))[0]
        series.add(caption, dream.render())
        series.write_grid(os.path.join(out_dir, f"checkpoint_{index:03d}.png"))
        if log:
            values = keras.ops.convert_to_numpy(dream(one_hot(len(filters)), training=False))
            log(f"{caption}: objective {np.mean(values):.3f} (mean of {len(filters)} filters)")
    series.write(out_dir)
    return series
