"""What a network is, for a record: the content that decides its pictures.

Two networks make the same dreams when they have the same architecture, the
same weights and the same preprocessing, whatever their file's path or name.
`network_identity` names a network by exactly that, so a rerun can tell its
old dreams from another network's: ImageNet weights against `--weights none`,
another `--preprocess`, a model file retrained in place, another file of the
same name elsewhere. `array_identity` does the same for an array such as a
MACO spectrum.

Hashing reads every weight once; the result is cached per model object (a
base from `network.bases.load_base` is never changed in place: a rewritten
file loads as a new object), so a run pays for it once.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from typing import Any

import keras
import numpy as np

# The identities of model objects already hashed, by object (dropped with it).
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# Keys a layer's config has that do not decide its pictures.
_VOLATILE_KEYS = ("trainable",)


def network_identity(model: keras.Model, preprocess: str | None, *, cache: bool = True) -> str:
    """A hex SHA-256 of `model`'s architecture, weights and preprocessing.

    The architecture is the model's config with layer and model names
    replaced by their position (a rebuilt model's `conv2d_3` is the same
    layer as `conv2d`) and trainable flags left out; the weights are hashed
    by content, dtype and shape, in the model's order.

    Args:
        model: The network (a base as `load_base` returns it).
        preprocess: Its preprocessing mode; None: the model's own default
            (`network.bases.preprocess_for_model`), so None and that mode
            name the same network.
        cache: Reuse the hash of this object's architecture and weights from
            an earlier call. Pass False for a model changed in place since.

    Returns:
        64 hex digits.

    Raises:
        DreamError: an unknown preprocessing mode.
    """
    from kerasdream.network.bases import preprocess_for_model

    mode = preprocess_for_model(model, preprocess)
    content = _CACHE.get(model) if cache else None
    if content is None:
        content = _content_hash(model)
        try:
            _CACHE[model] = content
        except TypeError:  # not weak-referenceable: hash again next time
            pass
    return hashlib.sha256(f"{content}|preprocess={mode}".encode()).hexdigest()


def array_identity(array: Any) -> str:
    """A hex SHA-256 of an array's values, dtype and shape (a MACO spectrum, a photo).

    Args:
        array: Anything `numpy.asarray` or `keras.ops.convert_to_numpy` takes.

    Returns:
        64 hex digits.
    """
    try:
        values = np.asarray(array)
    except Exception:  # a backend tensor numpy cannot read directly
        values = keras.ops.convert_to_numpy(array)
    values = np.ascontiguousarray(values)
    digest = hashlib.sha256(f"{values.dtype.str}|{values.shape}|".encode())
    digest.update(values.tobytes())
    return digest.hexdigest()


def _content_hash(model: keras.Model) -> str:
    digest = hashlib.sha256()
    digest.update(_architecture(model).encode())
    for variable in model.weights:
        values = np.ascontiguousarray(keras.ops.convert_to_numpy(variable))
        digest.update(f"|{values.dtype.str}|{values.shape}|".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def _architecture(model: keras.Model) -> str:
    """The model's config as canonical JSON, names replaced by positions."""
    names = [model.name] + [layer.name for layer in _layers(model)]
    positions = {name: f"#{i}" for i, name in reversed(list(enumerate(names)))}
    try:
        config: Any = model.get_config()
    except Exception:  # a subclassed model without get_config: its layers' own
        config = [type(model).__name__] + [
            [type(layer).__name__, _safe_config(layer)] for layer in _layers(model)]
    return json.dumps(_canonical(config, positions), sort_keys=True, default=repr)


def _layers(model: keras.Model):
    for layer in getattr(model, "layers", []):
        yield layer
        if isinstance(layer, keras.Model):
            yield from _layers(layer)


def _safe_config(layer) -> Any:
    try:
        return layer.get_config()
    except Exception:
        return None


def _canonical(value: Any, positions: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v, positions) for k, v in value.items()
                if k not in _VOLATILE_KEYS}
    if isinstance(value, (list, tuple)):
        return [_canonical(v, positions) for v in value]
    if isinstance(value, str):
        return positions.get(value, value)
    return value
