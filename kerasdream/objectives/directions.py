"""Direction objectives: maximize a direction in a layer's channel space.

    Direction("conv_pw_10_relu", v)           # mean over positions of <x, v>
    Direction("conv_pw_10_relu", v, cossim_pow=2)   # Xplique's default
    NeuronDirection("conv_pw_10_relu", v)     # the same at one cell

As in Lucid, the value at each position is `<x, v> * max(cos(x, v), 0.1) **
cossim_pow`: a power above 0 favours activations that point along `v`, not
only ones that are long. With a one-hot `v` and power 0, `Direction` is
`Channel`. A vector per dream (N, C) trains N directions in one batch.

`mean_direction(base, layer, photos)` is the mean activation of photos, so
"what this photo excites at this layer", or the difference of two classes'
means, can be dreamed.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from kerasdream.errors import DreamError
from kerasdream.objectives.base import Term, local_rows, needs_channels

COSSIM_FLOOR = 0.1  # Lucid's: a direction opposite to v still has a gradient
_EPS = 1e-4


def _as_vectors(vector) -> np.ndarray:
    try:
        vectors = np.asarray(vector, dtype="float32")
    except (TypeError, ValueError):
        vectors = np.zeros((0,), "float32")
    if vectors.ndim == 1:
        vectors = vectors[None]
    if vectors.ndim != 2 or vectors.size == 0 or not np.all(np.isfinite(vectors)):
        raise DreamError("A direction must be a vector of finite numbers (channels,) or one "
                         f"per dream (dreams, channels). Received: vector={vector!r}"[:300])
    return vectors


class _DirectionTerm(Term):
    target_fields = ("vector",)

    def __init__(self, layer: str, vector, cossim_pow: float = 0.0):
        super().__init__(layer)
        self.vectors = _as_vectors(vector)
        if not np.isfinite(cossim_pow) or float(cossim_pow) < 0:
            raise DreamError(f"cossim_pow must be a finite number >= 0. "
                             f"Received: cossim_pow={cossim_pow!r}")
        self.cossim_pow = float(cossim_pow)

    @property
    def num_rows(self):
        return len(self.vectors)

    def select(self, rows):
        if len(self.vectors) == 1:
            return self
        return type(self).from_config({**self.get_config(), "vector": self.vectors[list(rows)]})

    def check(self, shapes):
        needs_channels(self, shapes)
        channels = shapes[self.key][-1]
        if self.vectors.shape[1] != channels:
            raise DreamError(f"The direction needs one entry per channel: layer {self.layer!r} "
                             f"has {channels}. Received: vector of length {self.vectors.shape[1]}")

    def target_table(self, features_of, shapes):
        return self.vectors

    def _score(self, x, target):
        """`<x, v> * max(cos, floor) ** p` at each position of `x` (N, ..., C)."""
        if target is None:
            target = self.vectors
        v = local_rows(ops.cast(ops.convert_to_tensor(target), x.dtype), x)
        v = ops.reshape(v, (ops.shape(v)[0],) + (1,) * (len(x.shape) - 2) + (x.shape[-1],))
        dot = ops.sum(x * v, axis=-1)
        if not self.cossim_pow:
            return dot
        cos = dot / (_EPS + ops.norm(x, axis=-1)) / (_EPS + ops.norm(v, axis=-1))
        return dot * ops.maximum(cos, COSSIM_FLOOR) ** self.cossim_pow

    def get_config(self):
        vector = self.vectors[0] if len(self.vectors) == 1 else self.vectors
        return {"layer": self.layer, "vector": np.asarray(vector).tolist(),
                "cossim_pow": self.cossim_pow}


@keras.saving.register_keras_serializable(package="kerasdream")
class Direction(_DirectionTerm):
    """Mean over the positions of `layer` of `<x, v> * max(cos(x, v), 0.1) ** cossim_pow`.

    A dream of a direction in channel space rather than one filter: a mix of
    filters, a class's mean activation (`mean_direction`), an atlas cell.

    Args:
        layer: the layer's name.
        vector: the direction (C,), or one direction per dream (N, C).
        cossim_pow: how much the angle to `vector` counts beside the
            projection; 0 is the plain dot product.

    Raises:
        DreamError: when `vector` is not (C,) or (N, C) of finite numbers,
            `cossim_pow` is negative, or (on building the dream model) the
            vector does not have the layer's channel count.

    Example:
        ```python
        vector = np.zeros(128); vector[[3, 7]] = 1.0  # filters 3 and 7 together
        dreams = kd.visualize(kd.Direction("conv_pw_7_relu", vector), "mobilenet")
        ```
    """

    def __init__(self, layer: str, vector, cossim_pow: float = 0.0):
        super().__init__(layer, vector, cossim_pow)

    def __call__(self, x, target=None):
        return ops.mean(self._score(x, target), axis=(1, 2))


@keras.saving.register_keras_serializable(package="kerasdream")
class NeuronDirection(_DirectionTerm):
    """`Direction` at one cell `(x, y)` of `layer`, the centre by default.

    Args:
        layer: the layer's name.
        vector: the direction (C,), or one direction per dream (N, C).
        x: the cell's column in the layer's output; None for the centre.
        y: the cell's row in the layer's output; None for the centre.
        cossim_pow: how much the angle to `vector` counts beside the projection.

    Raises:
        DreamError: when `vector` is not a usable direction or the cell is
            outside the layer.

    Example:
        ```python
        dreams = kd.visualize(kd.NeuronDirection("conv_pw_7_relu", vector), "mobilenet")
        ```
    """

    def __init__(self, layer: str, vector, x: int | None = None, y: int | None = None,
                 cossim_pow: float = 0.0):
        super().__init__(layer, vector, cossim_pow)
        self.x, self.y = x, y

    def check(self, shapes):
        super().check(shapes)
        height, width = shapes[self.key][1:3]
        x, y = self._cell(height, width)
        if not (0 <= x < width and 0 <= y < height):
            raise DreamError(f"Neuron cell out of range: layer {self.layer!r} is "
                             f"{height}x{width} (y 0-{height - 1}, x 0-{width - 1}). "
                             f"Received: x={x}, y={y}")

    def _cell(self, height, width):
        return (width // 2 if self.x is None else self.x,
                height // 2 if self.y is None else self.y)

    def __call__(self, x, target=None):
        cx, cy = self._cell(x.shape[1], x.shape[2])
        return self._score(x[:, cy, cx, :], target)

    def get_config(self):
        return {**super().get_config(), "x": self.x, "y": self.y}


def mean_direction(base, layer: str, photos: np.ndarray | Sequence[np.ndarray],
                   preprocess: str | None = None) -> np.ndarray:
    """The mean activation (C,) of `layer` over `photos` (N, H, W, C in [0, 255])
    and their positions: the direction "what these photos excite".

    `base` is a network name, `BaseSpec`, path or `keras.Model`, as for `DreamModel`.
    """
    from kerasdream import evaluation
    from kerasdream.network.bases import as_spec, load_base, preprocess_for_model

    if isinstance(base, keras.Model):
        model, mode = base, preprocess_for_model(base, preprocess)
    else:
        spec = as_spec(base)
        model = load_base(spec)
        mode = preprocess or spec.preprocess_mode
    photos = np.asarray(photos, "float32")
    if photos.ndim == 3:
        photos = photos[None]
    features = np.asarray(evaluation.features(model, layer, photos, mode))
    if features.ndim != 4:
        raise DreamError(f"mean_direction needs a layer with (batch, height, width, "
                         f"channels) output. Received: layer={layer!r}")
    return features.mean(axis=(0, 1, 2)).astype("float32")
