"""`activation_atlas(...)`: sample, lay out, grid, dream, render; resumable.

Everything goes under `<out>/activation_atlas/<layer>/`:

- `vectors.npz` + `vectors.json`: the sampled vectors and the settings and
  folder fingerprint they were sampled with (reused when those match);
- `layout.npz` + `layout.json`: the 2-D layout of those vectors (likewise);
- `cells/cell_<row>_<column>.png` and `.json`: each kept cell's dream, then
  its record (the dream's settings and the direction's hash), written
  atomically, the record last: a rerun with the same settings skips every
  cell whose record and PNG match, so a killed run loses at most a chunk;
- `atlas.png`: the whole atlas; `manifest.json`: the cells, their point
  counts, top filters, photos with positions and (for a classifier) classes.

Photos that fell into a cell are written once, as the network saw them, to
`<out>/activation_atlas/photos/`; `<out>/activation_atlas.html` browses every
layer's atlas in the folder. The output folder's run lock is held throughout.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from kerasdream import io
from kerasdream.activation_atlas import dreams as dreams_lib
from kerasdream.activation_atlas import layout as layout_lib
from kerasdream.activation_atlas.render import compose
from kerasdream.activation_atlas.vectors import PER_IMAGE, Samples, sample_vectors
from kerasdream.errors import DreamError
from kerasdream.examples import _dataset, example_shape
from kerasdream.photo_folder import fingerprint, find_images
from kerasdream.network.bases import (
    as_spec,
    image_shape_for,
    layer_channels,
    load_base,
    resolve_layer,
)
from kerasdream.network.classes import imagenet_names
from kerasdream.runs.runlock import RunLock, remove_dead_temporaries

FORMAT = 1
FOLDER = "activation_atlas"
PHOTOS = "photos"
PHOTOS_PER_CELL = 8
GRID = 20
MIN_COUNT = 3


def _folder_name(layer: str) -> str:
    from kerasdream.runs.layout import layer_folder

    return layer_folder(layer)


def _digest(data: Any) -> str:
    return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _save_npz(path: str, **arrays) -> None:
    with io.atomic_path(path) as temporary:
        with open(temporary, "wb") as file:
            np.savez(file, **arrays)


def _load_npz(path: str) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError):
        return None


def _check_int(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise DreamError(f"{name} must be an integer >= {low}. Received: {name}={value!r}")
    return int(value)


def activation_atlas(
    model: Any,
    layer: str,
    examples: str,
    out: str = "activation_atlas",
    *,
    grid: int | tuple[int, int] = GRID,
    min_count: int = MIN_COUNT,
    per_image: int = PER_IMAGE,
    method: str = "umap",
    size: int | None = None,
    steps: int = 128,
    batch: int = 32,
    seed: int = 0,
    cossim_pow: float = dreams_lib.COSSIM_POW,
    parameterization: str = "fourier",
    transforms: str = "light",
    learning_rate: float | None = None,
    precision: str = "auto",
    class_names: Sequence[str] | None = None,
    quiet: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The activation atlas of `layer` of `model` over the photos in `examples`,
    written under `out` (see the module docstring); returns the manifest.

    Args:
        model: a network name, `BaseSpec` or `.keras`/`.h5` path (None: the
            shipped MobileNet).
        layer: a layer with (batch, height, width, channels) output.
        examples: a folder of JPEG / PNG photos (nested folders too).
        out: the output folder.
        grid: rows (= columns) or (rows, columns) of the layout's grid.
        min_count: the fewest points a cell needs to be dreamed.
        per_image: activation vectors sampled per photo.
        method: "umap" (umap-learn) or "tsne" (scikit-learn).
        size: the dreams' side in pixels (None: the network's fixed input
            size, else 64).
        steps, batch, seed, parameterization, transforms,
            learning_rate, precision: the dreams' (see `DreamModel`).
        cossim_pow: the `Direction` objective's cosine power.
        class_names: names of a classifier's classes (default: ImageNet's
            for 1000 classes where Keras' `imagenet_class_index.json` is
            cached, else the indices).

    Raises:
        DreamError: a bad argument, layer or folder.
        FolderInUse: another run writes to `out`.
    """
    spec = as_spec(model)
    base = load_base(spec)
    path = resolve_layer(base, layer)
    layer_channels(base, path)
    if size is None:
        size = image_shape_for(base, None, default=64)[0]
    grid = (grid, grid) if isinstance(grid, (int, np.integer)) else tuple(grid)
    if len(grid) != 2:
        raise DreamError(f"grid must be an integer or (rows, columns). Received: grid={grid!r}")
    grid = (_check_int("grid", grid[0]), _check_int("grid", grid[1]))
    for name, value in (("min_count", min_count), ("per_image", per_image), ("size", size),
                        ("steps", steps), ("batch", batch)):
        _check_int(name, value)
    if method not in layout_lib.METHODS:
        raise DreamError(f"Unknown layout method. Expected one of {list(layout_lib.METHODS)}. "
                         f"Received: method={method!r}")
    names = find_images(examples)
    io.check_writable(out)
    with RunLock(out) as lock:
        if lock.stale_message() and not quiet:
            log(lock.stale_message())
        remove_dead_temporaries(out)
        manifest = _build(spec, base, path, examples, names, out, grid, min_count, per_image,
                          method, size, steps, batch, seed, cossim_pow, parameterization,
                          transforms, learning_rate, precision, class_names, quiet, log)
        from kerasdream.activation_atlas.page import write_page

        page = write_page(out)
        if os.path.isfile(os.path.join(out, "atlas.json")):  # the filter atlas' site links it
            from kerasdream.site.build import write_site

            write_site(out, spec)
        if not quiet:
            log(f"Wrote {page}")
    return manifest


def _build(spec, base, path, examples, names, out, grid, min_count, per_image, method, size,
           steps, batch, seed, cossim_pow, parameterization, transforms, learning_rate,
           precision, class_names, quiet, log) -> dict[str, Any]:
    folder = os.path.join(out, FOLDER, _folder_name(path))
    shape = example_shape(spec, base, size)
    preprocess = spec.preprocess_mode
    sampling = {"format": FORMAT, "network": spec.get_config(), "layer": path,
                "image_shape": list(shape), "preprocess": preprocess, "per_image": per_image,
                "seed": seed, "fingerprint": fingerprint(examples, names)}
    samples = _samples(base, path, examples, shape, preprocess, per_image, seed, sampling,
                       folder, quiet, log)
    placing = {"vectors": _digest(sampling), "method": method, "seed": seed}
    xy = _layout(samples, method, seed, placing, folder, log, quiet)
    cells = layout_lib.grid_cells(xy, grid, min_count)
    if not cells:
        raise DreamError(f"No grid cell holds {min_count} points ({len(xy)} points on a "
                         f"{grid[0]}x{grid[1]} grid): lower min_count, use a smaller grid or "
                         f"more photos. Received: min_count={min_count}")
    means = layout_lib.cell_means(samples.vectors, cells)
    dreaming = {"network": spec.get_config(), "layer": path, "size": size, "steps": steps,
                "seed": seed, "cossim_pow": float(cossim_pow),
                "parameterization": parameterization, "transforms": transforms,
                "learning_rate": learning_rate, "precision": precision}
    _dream(spec, path, cells, means, grid, dreaming, batch, folder, quiet, log)

    photos = _photos(examples, samples, cells, shape, out)
    classes = dreams_lib.cell_classes(cells, samples.classes, samples.attributions)
    if class_names is None and samples.classes is not None:
        class_names = imagenet_names(int(base.outputs[0].shape[-1]))
    relative = lambda p: os.path.relpath(p, out).replace(os.sep, "/")  # noqa: E731
    entries, tiles, labels = [], [], []
    for cell, mean, found in zip(cells, means, classes):
        png = _cell_path(folder, cell, ".png")
        for entry in found or []:
            index = entry["class"]
            entry["name"] = (str(class_names[index]) if class_names is not None
                             and index < len(class_names) else str(index))
        entries.append({
            "row": cell.row, "column": cell.column, "count": cell.count,
            "dream": relative(png), "top_filters": dreams_lib.top_filters(mean),
            "direction": dreams_lib.direction_hash(mean),
            "photos": photos[cell.row, cell.column],
            "classes": found,
        })
        tiles.append(io.load_image(png))
        labels.append(found[0]["name"] if found else None)
    picture = compose(tiles, cells, grid, size, labels if samples.classes is not None else None)
    atlas_png = os.path.join(folder, "atlas.png")
    io.save_png(atlas_png, picture)
    manifest = {
        "format": FORMAT, "network": {**spec.get_config(), "describe": spec.describe()},
        "layer": path, "folder": _folder_name(path), "grid": list(grid),
        "min_count": min_count, "method": method, "per_image": per_image,
        "images": samples.read, "unreadable": samples.unreadable,
        "points": int(len(samples.vectors)), "layer_grid": list(samples.grid),
        "channels": int(samples.vectors.shape[1]), "tile": size, "atlas": relative(atlas_png),
        "classifier": samples.classes is not None, "dream_settings": dreaming,
        "cells": entries,
    }
    io.write_json(os.path.join(folder, "manifest.json"), manifest)
    if not quiet:
        log(f"Activation atlas of {path}: {len(cells)} cells of {grid[0]}x{grid[1]} from "
            f"{len(samples.vectors)} vectors of {samples.read} images; wrote {atlas_png}")
    return manifest


def _samples(base, path, examples, shape, preprocess, per_image, seed, settings, folder,
             quiet, log) -> Samples:
    record = io.read_json(os.path.join(folder, "vectors.json"))
    cached = _load_npz(os.path.join(folder, "vectors.npz")) if record == settings else None
    if cached is not None:
        if not quiet:
            log(f"Reusing the {len(cached['vectors'])} sampled vectors in {folder}.")
        return Samples(vectors=cached["vectors"], image=cached["image"],
                       position=cached["position"], grid=tuple(int(d) for d in cached["grid"]),
                       names=[str(n) for n in cached["names"]], read=int(cached["read"]),
                       classes=cached["classes"] if cached["classes"].size else None,
                       attributions=(cached["attributions"] if cached["attributions"].size
                                     else None),
                       unreadable=[str(n) for n in cached["unreadable"]])
    names = find_images(examples)
    bar = None if quiet else keras.utils.Progbar(len(names), unit_name="image")
    samples = sample_vectors(base, path, examples, shape, preprocess, per_image=per_image,
                             seed=seed, progress=bar.update if bar else None)
    empty = np.zeros((0,), "float32")
    _save_npz(os.path.join(folder, "vectors.npz"), vectors=samples.vectors,
              image=samples.image, position=samples.position, grid=np.asarray(samples.grid),
              names=np.asarray(samples.names), read=np.asarray(samples.read),
              classes=empty if samples.classes is None else samples.classes,
              attributions=empty if samples.attributions is None else samples.attributions,
              unreadable=np.asarray(samples.unreadable, dtype=str))
    io.write_json(os.path.join(folder, "vectors.json"), settings)
    return samples


def _layout(samples, method, seed, settings, folder, log, quiet) -> np.ndarray:
    record = io.read_json(os.path.join(folder, "layout.json"))
    cached = _load_npz(os.path.join(folder, "layout.npz")) if record == settings else None
    if cached is not None and len(cached["xy"]) == len(samples.vectors):
        return cached["xy"]
    if not quiet:
        log(f"Laying out {len(samples.vectors)} vectors with {method} ...")
    xy = layout_lib.layout_2d(samples.vectors, method, seed)
    _save_npz(os.path.join(folder, "layout.npz"), xy=xy)
    io.write_json(os.path.join(folder, "layout.json"), settings)
    return xy


def _cell_path(folder: str, cell, extension: str) -> str:
    return os.path.join(folder, "cells", f"cell_{cell.row}_{cell.column}{extension}")


def _dream(spec, path, cells, means, grid, settings, batch, folder, quiet, log) -> None:
    pending = []
    for i, (cell, mean) in enumerate(zip(cells, means)):
        record = io.read_json(_cell_path(folder, cell, ".json"))
        wanted = {**settings, "direction": dreams_lib.direction_hash(mean)}
        if record != wanted or not os.path.isfile(_cell_path(folder, cell, ".png")):
            pending.append(i)
    if not quiet:
        log(f"{len(cells) - len(pending)} of {len(cells)} cells already dreamed; "
            f"{len(pending)} to dream." if pending else
            f"All {len(cells)} cells already dreamed; nothing to dream.")
    if not pending:
        return

    written = [0]

    def done(positions, images):
        for position, image in zip(positions, images):
            i = pending[position]
            cell = cells[i]
            io.save_png(_cell_path(folder, cell, ".png"), image)
            io.write_json(_cell_path(folder, cell, ".json"),
                          {**settings, "direction": dreams_lib.direction_hash(means[i])})
        written[0] += len(positions)
        if not quiet:
            log(f"  dreamed {written[0]} of {len(pending)} cells")

    from kerasdream.runs import signals

    try:
        dreams_lib.dream_cells(
            spec, path, means[pending], [cells[i].row * grid[1] + cells[i].column for i in pending],
            size=settings["size"], steps=settings["steps"], batch=batch, seed=settings["seed"],
            cossim_pow=settings["cossim_pow"], parameterization=settings["parameterization"],
            transforms=settings["transforms"], learning_rate=settings["learning_rate"],
            precision=settings["precision"], done=done)
    except signals.Interrupted as stop:
        stop.saved = written[0]  # "the N dreams finished in this run are saved"
        raise


def _photos(examples, samples, cells, shape, out) -> dict[tuple[int, int], list[dict]]:
    """Up to `PHOTOS_PER_CELL` points of each cell (one per photo, the first
    photos in the folder's order) with their photo, written once as the
    network saw it, and their position as fractions of the photo."""
    h, w = samples.grid
    chosen: dict[tuple[int, int], list[int]] = {}
    for cell in cells:
        picks, seen = [], set()
        for m in cell.indices:
            if int(samples.image[m]) not in seen:
                seen.add(int(samples.image[m]))
                picks.append(m)
            if len(picks) == PHOTOS_PER_CELL:
                break
        chosen[cell.row, cell.column] = picks
    indices = sorted({int(samples.image[m]) for picks in chosen.values() for m in picks})
    paths = {}
    for index in indices:
        key = f"{samples.names[index]}\0{shape[0]}x{shape[1]}"
        stat_path = os.path.join(examples, samples.names[index])
        if os.path.isfile(stat_path):
            stat = os.stat(stat_path)
            key += f"\0{stat.st_size}\0{stat.st_mtime_ns}"
        paths[index] = (f"{FOLDER}/{PHOTOS}/{hashlib.sha1(key.encode()).hexdigest()[:16]}"
                        f"_{shape[0]}x{shape[1]}.jpg")
    missing = [i for i in indices if not os.path.isfile(os.path.join(out, paths[i]))]
    if missing:
        for positions, images in _dataset(examples, [samples.names[i] for i in missing], shape,
                                          16).as_numpy_iterator():
            for position, image in zip(positions, images):
                with io.atomic_path(os.path.join(out, paths[missing[position]])) as temporary:
                    io._to_pil(np.round(image)).save(temporary, format="JPEG", quality=88,
                                                     subsampling=0)
    return {key: [{"photo": paths[int(samples.image[m])],
                   "source": samples.names[int(samples.image[m])],
                   "box": [round(float(samples.position[m][0]) / h, 5),
                           round(float(samples.position[m][1]) / w, 5),
                           round(1.0 / h, 5), round(1.0 / w, 5)]}
                  for m in picks if os.path.isfile(os.path.join(out, paths[int(samples.image[m])]))]
            for key, picks in chosen.items()}
