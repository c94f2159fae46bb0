"""Channel means through the exact network, and the one memo kept per network.

A feature key is named as in training (`network.activations`): a layer path,
or a path + `":pre"` for the value before its activation, resolved by
`network.features.feature_model`. What is built or computed for a network
(feature extractors, compiled means models, natural-photo means) is kept in
`memo(base)`, keyed on the model object itself: it goes when the model does,
and a new model never meets a freed one's entries.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from kerasdream.network.activations import pre_activation_key
from kerasdream.network.bases import Preprocess, resolve_layer
from kerasdream.network.features import feature_model  # the one place extractors come from

BATCH = 32
# Channel means run in batches of at most this many pixels (images x H x W),
# and of at least BATCH images: all 8 views of 16 dreams at 128 px in one
# batch, while the activations of a wide network at a large size stay bounded.
BATCH_PIXELS = 128 * 128 * 128
# Batches of fewer pixels run eagerly rather than through a traced graph
# (16 images at 128 px and more are compiled).
EAGER_PIXELS = 16 * 128 * 128

_MEMOS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def memo(base: keras.Model) -> dict[tuple, Any]:
    """The values kept for `base` (extractors, means models, natural means),
    keyed by what they are of; they go when `base` is garbage collected."""
    kept = _MEMOS.get(base)
    if kept is None:
        kept = _MEMOS[base] = {}
    return kept


def feature_key(base: keras.Model, layer: str, pre_activation: bool = False) -> str:
    """The feature key of `layer`'s output, or with `pre_activation` of its
    value before the activation (`"conv_pw_3_relu:pre"`, as training names it)."""
    return pre_activation_key(base, layer) if pre_activation else resolve_layer(base, layer)


def _extractor(base: keras.Model, key: str, image_shape: tuple[int, ...]) -> keras.Model:
    """A kept eager feature model from images to the feature `key`."""
    kept = memo(base)
    name = ("extractor", key, tuple(image_shape))
    if name not in kept:
        kept[name] = feature_model(base, [key], tuple(image_shape))
    return kept[name]


def features(base: keras.Model, key: str, images: np.ndarray, preprocess: str) -> np.ndarray:
    """The feature `key` of `images` (pixel values 0..255), in batches."""
    images = np.asarray(images, "float32")
    model = _extractor(base, key, images.shape[1:])
    prep = Preprocess(preprocess)
    parts = [
        ops.convert_to_numpy(model(prep(images[i:i + BATCH]), training=False)[key])
        for i in range(0, len(images), BATCH)
    ]
    return np.concatenate(parts)


def _means_model(base: keras.Model, keys: tuple[str, ...], image_shape: tuple[int, ...],
                 preprocess: str) -> Callable:
    """A kept callable from a float32 batch of pixels (0..255) to each key's
    channel means, {key: (n, C) numpy}.

    Preprocessing, the network and the spatial means run in one graph, so
    the large early-layer maps never leave it (`_compiled`: on TensorFlow a
    `tf.function` traced once for any batch size, elsewhere Keras'
    `predict_on_batch`; small batches eagerly). A 4-D feature is averaged over height and width; any
    other is returned as it is, as `channel_means` does.
    """
    kept = memo(base)
    name = ("means", keys, tuple(image_shape), preprocess)
    if name not in kept:
        extractor = feature_model(base, list(keys), tuple(image_shape))
        inputs = keras.Input(tuple(image_shape))
        values = extractor(Preprocess(preprocess)(inputs))
        outputs = {key: ops.mean(ops.cast(values[key], "float32"), axis=(1, 2))
                   if len(values[key].shape) == 4 else values[key] for key in keys}
        model = keras.Model(inputs, outputs, name=f"{base.name}_channel_means")
        kept[name] = _compiled(model, tuple(image_shape))
    return kept[name]


def _compiled(model: keras.Model, image_shape: tuple[int, ...]) -> Callable:
    """`model` on a numpy batch, returning numpy: compiled for batches of at
    least `EAGER_PIXELS` pixels, eager below (tracing costs 0.3-0.4 s, more
    than the eager pass over a few small images)."""
    def eager(batch: np.ndarray) -> dict[str, np.ndarray]:
        return {key: ops.convert_to_numpy(value)
                for key, value in model(batch, training=False).items()}

    if keras.backend.backend() != "tensorflow":
        compiled = model.predict_on_batch
    else:
        import tensorflow as tf

        def call(batch):
            return model(batch, training=False)

        # One trace for every batch size (predict_on_batch would trace twice).
        graph = tf.function(call, autograph=False, input_signature=[
            tf.TensorSpec((None, *image_shape), tf.float32)])

        def compiled(batch: np.ndarray) -> dict[str, np.ndarray]:
            return {key: value.numpy() for key, value in graph(batch).items()}

    def run(batch: np.ndarray) -> dict[str, np.ndarray]:
        small = batch.shape[0] * batch.shape[1] * batch.shape[2] < EAGER_PIXELS
        return eager(batch) if small else compiled(batch)

    return run


def _batches(count: int, height: int, width: int) -> list[slice]:
    """Even slices of `count` images, each at most max(BATCH, BATCH_PIXELS / (H x W))."""
    limit = max(BATCH, BATCH_PIXELS // max(1, height * width))
    parts = -(-count // limit)
    step = -(-count // max(1, parts))
    return [slice(i, i + step) for i in range(0, count, step)]


def key_means(base: keras.Model, keys: Sequence[str], images: np.ndarray,
              preprocess: str) -> dict[str, np.ndarray]:
    """Each image's channel means of every feature key at once: {key: (N, C)}.

    One network pass serves all keys (e.g. a layer's output and its
    pre-activation), batch by batch (`BATCH_PIXELS`).
    """
    images = np.asarray(images, "float32")
    keys = tuple(dict.fromkeys(keys))
    model = _means_model(base, keys, images.shape[1:], preprocess)
    parts = [model(images[part])
             for part in _batches(len(images), *images.shape[1:3])]
    return {key: np.concatenate([np.asarray(p[key]) for p in parts]) for key in keys}


def scoring_keys(base: keras.Model, layer: str) -> list[str]:
    """The feature keys `score_dreams` reads together: `layer`'s output and
    its pre-activation (`constant_channels` reads it for every layer)."""
    return [feature_key(base, layer, False), feature_key(base, layer, True)]


def layer_means(base: keras.Model, layer: str, images: np.ndarray,
                preprocess: str) -> np.ndarray:
    """`channel_means` of `layer`'s output through the model `score_dreams`
    uses, so that scoring the same images' shape later builds and traces nothing."""
    keys = scoring_keys(base, layer)
    return key_means(base, keys, images, preprocess)[keys[0]]


def channel_means(base: keras.Model, layer: str, images: np.ndarray, preprocess: str,
                  pre_activation: bool = False) -> np.ndarray:
    """Each image's mean activation of every channel of `layer`, shape (N, C)."""
    key = feature_key(base, layer, pre_activation)
    return key_means(base, [key], images, preprocess)[key]
