"""Activation vectors of one layer at random positions over a folder of photos.

The folder is streamed through `tf.data` exactly as dataset examples are
(`kerasdream.examples`: decoded, centre-cropped to the network's aspect
ratio, resized, preprocessed), in batches. From each image's (h, w, C) map
of `layer`, `per_image` distinct positions are drawn (seeded by the image's
index, so the draw does not depend on the batch) and only those C-vectors
are kept: memory is `images * per_image * C * 4` bytes (16 per image of
`conv_pw_11_relu`, 128 channels: 8 KiB an image), never a feature map per
image.

For a classifier (a network whose output is (batch, classes)) each kept
vector also gets the paper's attribution to the image's `top` most likely
classes: `<a, d logit_c / d a>` at its position (the logits read before a
softmax), one gradient per class and batch. (A layer inside a nested model
is read on a copy of its branch, which the logits do not depend on: its
vectors get no attribution.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np

from kerasdream.errors import DreamError
from kerasdream.examples import BATCH, _dataset
from kerasdream.photo_folder import find_images
from kerasdream.network.bases import Preprocess, layer_channels, resolve_layer
from kerasdream.network.features import feature_model

PER_IMAGE = 16
ATTRIBUTION_TOP = 5


@dataclass
class Samples:
    """Vectors sampled over a folder: row m is `vectors[m]`, taken from image
    `image[m]` (an index into `names`) at cell `position[m]` = (row, column)
    of the layer's `grid` = (h, w). `classes` / `attributions` (M, top) are
    None for a network without a class output."""

    vectors: np.ndarray
    image: np.ndarray
    position: np.ndarray
    grid: tuple[int, int]
    names: list[str]
    read: int = 0
    classes: np.ndarray | None = None
    attributions: np.ndarray | None = None
    unreadable: list[str] = field(default_factory=list)


def class_output(base: keras.Model) -> str | None:
    """The feature key of a classifier's logits (before a softmax), or None
    when the network's output is not (batch, classes)."""
    shape = tuple(base.outputs[0].shape) if len(base.outputs) == 1 else ()
    if len(shape) != 2 or not shape[-1] or shape[-1] < 2:
        return None
    last = base.outputs[0]._keras_history[0]
    activation = getattr(getattr(last, "activation", None), "__name__", "linear")
    return last.name + (":pre" if activation != "linear" else "")


def positions_for(index: int, seed: int, grid: tuple[int, int], count: int) -> np.ndarray:
    """`count` distinct (row, column) cells of a `grid` for image `index`, the
    same whatever batch the image is read in (all cells if there are fewer)."""
    cells = grid[0] * grid[1]
    rng = np.random.default_rng([int(seed), int(index)])
    flat = np.sort(rng.choice(cells, size=min(count, cells), replace=False))
    return np.stack(np.divmod(flat, grid[1]), axis=1).astype("int32")


def sample_vectors(
    base: keras.Model,
    layer: str,
    folder: str,
    shape: tuple[int, int, int],
    preprocess: str,
    *,
    per_image: int = PER_IMAGE,
    seed: int = 0,
    batch: int = BATCH,
    top: int = ATTRIBUTION_TOP,
    progress: Callable[[int], None] | None = None,
) -> Samples:
    """`per_image` activation vectors of `layer` per photo of `folder` (see the
    module docstring); photos are shown to the network at `shape`.

    Raises:
        DreamError: the folder has no images, none could be read, or `layer`
            has no (height, width, channels) output.
    """
    if isinstance(per_image, bool) or not isinstance(per_image, (int, np.integer)) \
            or per_image < 1:
        raise DreamError(f"per_image must be a positive integer. Received: "
                         f"per_image={per_image!r}")
    names = find_images(folder)
    path = resolve_layer(base, layer)
    channels = layer_channels(base, path)
    logits_key = class_output(base)
    keys = [path] + ([logits_key] if logits_key else [])
    model = feature_model(base, keys, shape)
    grid = tuple(int(d) for d in model.compute_output_spec(
        keras.KerasTensor((1, *shape)))[path].shape[1:3])
    prep = Preprocess(preprocess)
    vectors, images, positions, classes, attributions = [], [], [], [], []
    read = np.zeros(len(names), bool)
    for indices, batch_images in _dataset(folder, names, shape, batch).as_numpy_iterator():
        acts, found = _forward(model, prep(batch_images), path, logits_key, top)
        for row, index in enumerate(indices):
            where = positions_for(int(index), seed, grid, per_image)
            vectors.append(acts[row, where[:, 0], where[:, 1]])
            images.append(np.full(len(where), index, "int32"))
            positions.append(where)
            if found is not None:
                top_classes, attribution = found
                classes.append(np.repeat(top_classes[row][None], len(where), 0))
                attributions.append(attribution[row][:, where[:, 0], where[:, 1]].T)
        read[indices] = True
        if progress is not None:
            progress(int(read.sum()))
    if not read.any():
        raise DreamError(f"None of the {len(names)} image files in the examples folder could "
                         f"be read. Expected JPEG or PNG files. Received: examples={folder!r}")
    return Samples(
        vectors=np.concatenate(vectors).astype("float32").reshape(-1, channels),
        image=np.concatenate(images), position=np.concatenate(positions), grid=grid,
        names=names, read=int(read.sum()),
        classes=np.concatenate(classes) if classes else None,
        attributions=np.concatenate(attributions).astype("float32") if attributions else None,
        unreadable=[names[i] for i in np.flatnonzero(~read)])


def _forward(model, images, path, logits_key, top):
    """The layer's activations (B, h, w, C) and, for a classifier, each image's
    top classes (B, k) with the attribution maps (B, k, h, w) to them."""
    if logits_key is None:
        return keras.ops.convert_to_numpy(model(images, training=False)[path]), None
    import tensorflow as tf

    with tf.GradientTape(persistent=True) as tape:
        outputs = model(images, training=False)
        acts, logits = outputs[path], outputs[logits_key]
        k = min(top, int(logits.shape[-1]))
        top_classes = tf.math.top_k(logits, k=k).indices
        chosen = tf.gather(logits, top_classes, batch_dims=1)  # (B, k)
        columns = [chosen[:, j] for j in range(k)]  # sliced under the tape
    maps = []
    for column in columns:
        gradient = tape.gradient(column, acts)
        if gradient is None:  # a layer inside a nested model: read on a branch of its own
            del tape
            return acts.numpy(), None
        maps.append(tf.reduce_sum(acts * gradient, axis=-1))
    del tape
    attribution = tf.stack(maps, axis=1)
    return acts.numpy(), (top_classes.numpy(), attribution.numpy())
