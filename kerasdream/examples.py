"""Dataset examples: the photos of a folder that excite each filter most.

Natural exemplars help people predict what a unit does more than dreams do
(Borowski et al., ICLR 2021), so an atlas shows both. `layer_examples`
streams any folder of JPEG / PNG images (nested folders too) through
`tf.data` with bounded memory: each image is decoded, centre-cropped to the
network's aspect ratio, resized to its input size and preprocessed as the
network expects (`Preprocess`). ONE pass over the folder serves every filter
of every layer asked for: a single feature model gives all layers at once.

A filter's score on an image is its strongest cell (a filter fires somewhere
in a photo, so a mean over the image would dilute it); for a capped ReLU it
is read before the cap, as the natural-photo ratio is, so the top images do
not tie at 6. The pass keeps only each filter's top `TOP` scores and image
indices; a second pass over just those images computes their activation
maps. It writes:

- `examples/<hash>_<H>x<W>.jpg` beside the layer folders: the image as the
  network saw it, shared by every filter and layer that picked it;
- `<layer>/examples/filter_<k>_<i>.png`: the heat map of where filter k
  fired on its i-th image, at the layer's resolution: a black mask, clear
  where the filter fired most on that image and dark where it fired least
  (the viewer scales it over the photo);
- `<layer>/examples.json`: the ranking, the folder's fingerprint (the
  photos' names and contents) and the settings (the network by content,
  `network.identity`), so a rerun over the same photos and network does no
  work, and a replaced photo or a retrained model is noticed.

Files that cannot be decoded are skipped and counted; dangling symlinks,
symlink loops, named pipes and other files that are not regular, and images
too large to decode safely are skipped and named; an output folder inside
the photo folder is not searched; an empty folder is an error. The pass
runs under the output folder's run lock.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from kerasdream import io
from kerasdream import evaluation
from kerasdream.network.bases import (
    BaseSpec,
    Preprocess,
    image_shape_for,
    input_size,
    load_base,
    resolve_layer,
)
from kerasdream.errors import DreamError
from kerasdream.network.features import feature_model
from kerasdream.photo_folder import _named, _no_images, content_digests, fingerprint, scan_images
from kerasdream.runs.layout import layer_folder

TOP = 9
BATCH = 16
EXAMPLES_FILE = "examples.json"
IMAGES_FOLDER = "examples"  # shared photos, at the site's top level
# The input size of the keras.applications networks not trained at 224.
NATIVE_SIZES = {"inceptionv3": 299, "xception": 299}
# Bump when the ranking or the files change, so old caches are redone.
FORMAT = 2
SHADE = 215  # the heat map's darkest alpha, where the filter did not fire


def example_shape(spec: BaseSpec, base: keras.Model,
                  size: int | tuple[int, int] | None) -> tuple[int, int, int]:
    """The size photos are shown to the network at: its fixed input size if it
    has one, else the size a `keras.applications` network was trained at
    (224, or 299 for Inception / Xception), else `size` (the dreams')."""
    if None not in input_size(base):
        return image_shape_for(base, None)
    if not spec.is_file:
        native = NATIVE_SIZES.get(spec.model.lower(), 224)
        return image_shape_for(base, native)
    return image_shape_for(base, size)


def _dataset(folder: str, names: Sequence[str], shape: tuple[int, int, int], batch: int):
    """(index, image 0..255 float32) batches; undecodable files are dropped
    (their indices are missing, which is how they are counted)."""
    import tensorflow as tf

    height, width, channels = shape

    def load(index, path):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        image = tf.cast(image, tf.float32)
        # Centre crop to the network's aspect ratio, then resize.
        h, w = tf.cast(tf.shape(image)[0], tf.float32), tf.cast(tf.shape(image)[1], tf.float32)
        scale = tf.minimum(h / height, w / width)
        ch = tf.cast(tf.round(scale * height), tf.int32)
        cw = tf.cast(tf.round(scale * width), tf.int32)
        top = (tf.shape(image)[0] - ch) // 2
        left = (tf.shape(image)[1] - cw) // 2
        image = image[top:top + ch, left:left + cw]
        image = tf.image.resize(image, (height, width), antialias=True)
        if channels == 1:
            image = tf.image.rgb_to_grayscale(image)
        return index, tf.clip_by_value(image, 0.0, 255.0)

    paths = [os.path.join(folder, name) for name in names]
    data = tf.data.Dataset.from_tensor_slices((np.arange(len(paths), dtype="int64"), paths))
    data = data.map(load, num_parallel_calls=2).ignore_errors()
    return data.batch(batch).prefetch(1)


class _TopK:
    """The `k` largest scores per filter seen so far and their images'
    indices: memory bounded by k, not by the folder. (Activation maps are
    recomputed afterwards for the chosen images only.)"""

    def __init__(self, filters: Sequence[int], k: int):
        self.filters = np.asarray(filters, "int64")
        self.k = k
        self.scores = np.full((0, len(filters)), -np.inf, "float32")
        self.indices = np.zeros((0, len(filters)), "int64")

    def add(self, indices: np.ndarray, features: np.ndarray) -> None:
        """`features` (B, h, w, C) of the images `indices`: a filter's score
        on an image is its strongest cell."""
        scores = features.max(axis=(1, 2))[:, self.filters]
        all_scores = np.concatenate([self.scores, scores])
        all_indices = np.concatenate([self.indices, np.repeat(indices[:, None],
                                                              len(self.filters), 1)])
        # Highest first; ties keep the earlier image (stable sort on -score).
        order = np.argsort(-all_scores, axis=0, kind="stable")[:self.k]
        columns = np.arange(len(self.filters))[None, :]
        self.scores = all_scores[order, columns]
        self.indices = all_indices[order, columns]


def _score_key(base: keras.Model, layer: str) -> str:
    """What a filter's score reads: the layer's output, or for a capped ReLU
    its value before the cap (so strong responses do not all tie at 6)."""
    pre = evaluation.relu_cap(base, layer) is not None
    return evaluation.pre_activation_key(base, layer) if pre else resolve_layer(base, layer)


def _cache_settings(network: str, layer: str, shape, preprocess: str, top: int) -> dict:
    """What decides a layer's examples besides the photos: the network by
    content (`network_identity`: a retrained file is another network), the
    layer, the image shape, the preprocessing and `top`."""
    return {"format": FORMAT, "network": network, "layer": layer,
            "image_shape": list(shape), "preprocess": preprocess, "top": top}


def layer_examples(
    spec: BaseSpec,
    layers: dict[str, Sequence[int]],
    folder: str,
    out_dir: str,
    *,
    size: int | tuple[int, int] | None = None,
    top: int = TOP,
    batch: int = BATCH,
    quiet: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, dict[str, Any]]:
    """The top `top` images of `folder` for each filter of each layer in
    `layers` (layer -> filters), written under `out_dir` (see the module
    docstring); returns each layer's `examples.json` content.

    `size` is the image size for a model file without a fixed input size
    (see `example_shape`). Layers whose cache matches the
    folder, network and settings and holds every filter are not recomputed;
    the others share one pass over the folder.
    """
    from kerasdream.runs.runlock import RunLock

    # Under the output folder's run lock (a gallery's command already holds it).
    with RunLock(out_dir):
        return _layer_examples(spec, layers, folder, out_dir, size=size, top=top,
                               batch=batch, quiet=quiet, log=log)


def _layer_examples(spec, layers, folder, out_dir, *, size, top, batch, quiet, log):
    from kerasdream.callbacks import progress_bar
    from kerasdream.network.identity import network_identity

    base = load_base(spec)
    shape = example_shape(spec, base, size)
    preprocess = spec.preprocess_mode
    names, not_photos = scan_images(folder, exclude=[out_dir])
    if not names:
        raise _no_images(folder, not_photos)
    if not_photos:
        log(f"Dataset examples: skipped {len(not_photos)} file{'s' * (len(not_photos) != 1)} "
            f"of {os.path.abspath(folder)}: {_named(not_photos)}")
    digests = content_digests(folder, names)
    stamp = fingerprint(folder, names, digests)
    network = network_identity(base, preprocess)
    source = os.path.abspath(folder)

    results, todo, kept = {}, {}, {}
    for layer, filters in layers.items():
        layer = resolve_layer(base, layer)
        settings = _cache_settings(network, layer, shape, preprocess, top)
        cached = io.read_json(os.path.join(out_dir, layer_folder(layer), EXAMPLES_FILE)) or {}
        have = cached.get("filters", {}) if (cached.get("settings") == settings
                                             and cached.get("fingerprint") == stamp) else {}
        if all(str(k) in have and _files_exist(out_dir, have[str(k)]) for k in filters):
            results[layer] = cached
        else:
            todo[layer] = list(filters)
            kept[layer] = {k: v for k, v in have.items() if _files_exist(out_dir, v)}
    if not todo:
        log(f"Dataset examples of {', '.join(results)} are up to date; nothing to redo.")
        return results

    keys = {layer: _score_key(base, layer) for layer in todo}
    model = feature_model(base, sorted(set(keys.values())), shape)
    prep = Preprocess(preprocess)
    tops = {layer: _TopK(filters, top) for layer, filters in todo.items()}
    # Keras' live bar on a terminal, plain lines in a log or a pipe.
    progress = None if quiet else progress_bar(len(names), unit_name="image")
    read = np.zeros(len(names), bool)
    for indices, images in _dataset(folder, names, shape, batch).as_numpy_iterator():
        outputs = model(prep(images), training=False)
        for layer, key in keys.items():
            tops[layer].add(indices, keras.ops.convert_to_numpy(outputs[key]))
        read[indices] = True
        if progress is not None:
            progress.add(len(indices))
    seen = int(read.sum())
    skipped = len(names) - seen
    unreadable = [names[i] for i in np.flatnonzero(~read)]
    if progress is not None and seen < len(names):
        progress.add(len(names) - seen)  # the unreadable files count as done
    if seen == 0:
        raise DreamError(f"None of the {len(names)} image files in the examples folder could "
                         f"be read. Expected JPEG or PNG files. Received: examples={folder!r}")
    log(f"Dataset examples: {seen} images of {source}" + (
        f"; {skipped} unreadable file{'s' * (skipped != 1)} skipped: "
        + ", ".join(unreadable[:3]) + (", ..." if skipped > 3 else "") if skipped else ""))

    chosen = [int(i) for best in tops.values() for i in best.indices.ravel()]
    photos = _photo_paths(names, digests, shape, chosen)
    heat = _write_pictures(folder, names, shape, out_dir, photos, model, prep, keys, tops,
                           batch)
    for layer, best in tops.items():
        settings = _cache_settings(network, layer, shape, preprocess, top)
        entries = {str(int(k)): [{"image": photos[int(best.indices[row, column])],
                                  "heat": heat[layer, row, column],
                                  "source": names[int(best.indices[row, column])],
                                  "activation": round(float(best.scores[row, column]), 6)}
                                 for row in range(len(best.scores))
                                 if (layer, row, column) in heat]  # unless unreadable now
                   for column, k in enumerate(best.filters)}
        data = {"layer": layer, "settings": settings, "fingerprint": stamp, "folder": source,
                "images": seen, "skipped": skipped, "unreadable": unreadable,
                # Filters cached by an earlier run over the same folder stay.
                "filters": {**kept[layer], **entries}}
        io.write_json(os.path.join(out_dir, layer_folder(layer), EXAMPLES_FILE), data)
        results[layer] = data
    return results


def _files_exist(out_dir: str, entries: list[dict]) -> bool:
    return all(os.path.isfile(os.path.join(out_dir, e["image"]))
               and os.path.isfile(os.path.join(out_dir, e["heat"])) for e in entries)


def _photo_paths(names, digests, shape, indices) -> dict[int, str]:
    """Where each chosen image goes, as the network saw it: one file for
    all the filters and layers that chose it, named by the file's path and
    content (a replaced photo gets a new picture)."""
    paths = {}
    for index in sorted(set(indices)):
        key = f"{names[index]}\0{digests[index]}".encode()
        paths[index] = (f"{IMAGES_FOLDER}/{hashlib.sha1(key).hexdigest()[:16]}"
                        f"_{shape[0]}x{shape[1]}.jpg")
    return paths


def _write_pictures(folder, names, shape, out_dir, photos, model, prep, keys, tops,
                    batch) -> dict:
    """A second pass over the chosen images only: each one's picture and,
    from its activation maps, the heat map of every filter that chose it.
    Returns the heat maps' paths by (layer, row, column)."""
    chosen = sorted(photos)
    wanted: dict[int, list] = {}
    for layer, best in tops.items():
        for (row, column), index in np.ndenumerate(best.indices):
            wanted.setdefault(int(index), []).append((layer, row, column))
    paths = {}
    for positions, images in _dataset(folder, [names[i] for i in chosen], shape,
                                      batch).as_numpy_iterator():
        outputs = model(prep(images), training=False)
        maps = {key: keras.ops.convert_to_numpy(value) for key, value in outputs.items()}
        for row_in_batch, (position, image) in enumerate(zip(positions, images)):
            index = chosen[position]
            photo = os.path.join(out_dir, photos[index])
            if not os.path.isfile(photo):
                with io.atomic_path(photo) as temporary:
                    # 4:4:4 chroma: small pictures keep their colours where they are.
                    io._to_pil(np.round(image)).save(temporary, format="JPEG", quality=90,
                                                     subsampling=0)
            for layer, row, column in wanted[index]:
                best = tops[layer]
                k = int(best.filters[column])
                path = f"{layer_folder(layer)}/examples/filter_{k}_{row}.png"
                values = maps[keys[layer]][row_in_batch, ..., k]
                io.save_png(os.path.join(out_dir, path), heat_map(values))
                paths[layer, row, column] = path
    return paths


def heat_map(values: np.ndarray) -> np.ndarray:
    """An (h, w, 4) uint8 spotlight over a photo: black, transparent at the
    filter's strongest cell on this photo and shaded up to alpha `SHADE`
    at its weakest (the map's own minimum, or 0 if it goes lower; a flat
    map shades nothing), so the photo shows through where the filter looks."""
    values = np.asarray(values, "float32")
    low, high = max(float(values.min()), 0.0), float(values.max())
    level = (np.clip((values - low) / (high - low), 0.0, 1.0) if high > low
             else np.ones_like(values))
    rgba = np.zeros((*level.shape, 4), "uint8")
    rgba[..., 3] = np.round(SHADE * (1.0 - level))
    return rgba
