"""What a dream maximizes: small objects that compose like Lucid's.

    Channel("conv_pw_8_relu", [0, 1, 2, 3]) - 0.5 * DeepDream("conv_pw_8_relu")

Every objective gives one value per dream (per kernel row) to *maximize*.
Targets such as a channel index are either one number shared by all dreams
or a list with one entry per dream, so one model trains many filters at once.
Sums, differences and scalar multiples are `Objective`s too (`kerasdream.objectives.base`);
penalties (the priors in `kerasdream.objectives.priors`) are subtracted.

A `DreamModel` reads every feature an objective needs in one forward pass
and sums the objective over its dreams itself (the seed's "custom activity
regularizer on the chosen layer", without Keras' per-batch scaling). Per-dream
targets (a channel index, a photo's features) live in non-trainable variables
of the dream model, so one traced model can be pointed at new filters.

A layer name ending in `":pre"` reads the layer before its activation:
`Channel("conv_pw_3_relu:pre", 7)` is Lucid's `_pre_relu` convention, the
honest measure of a ReLU6 unit that a dream would otherwise push to its cap.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from kerasdream.defaults import (
    ACTIVATIONS,
    DEFAULT_ACTIVATION,
    DEFAULT_SELECTIVITY,
    OBJECTIVE_CLASSES,
)
from kerasdream.errors import DreamError
from kerasdream.objectives.base import PRE, Objective, Term, local_rows, needs_channels


def _as_targets(value, what: str) -> list[int]:
    if isinstance(value, numbers.Integral):
        values = [value]
    else:
        try:
            values = list(value)
        except TypeError:  # a float, None, ...: not a target either
            values = []
    if not values or not all(isinstance(v, numbers.Integral) for v in values):
        raise DreamError(f"{what} must be an integer or a list of integers. "
                         f"Received: {what}={value!r}")
    return [int(v) for v in values]


class _IndexedTerm(Term):
    """A term with an integer target per dream (`index`): a channel or class.

    Its target table is a one-hot mask over the feature's channels, `(N, C)`.
    """

    index_name = "filter"
    target_fields = ("index",)

    def __init__(self, layer, index):
        super().__init__(layer)
        self.index = _as_targets(index, self.index_name)

    @property
    def num_rows(self):
        return len(self.index)

    def select(self, rows):
        if len(self.index) == 1:
            return self
        return type(self).from_config({**self.get_config(), "index": [self.index[r] for r in rows]})

    def check(self, shapes):
        count = shapes[self.key][-1]
        bad = [k for k in self.index if not 0 <= k < count]
        if bad:
            raise DreamError(
                f"{self.index_name.replace('_', ' ').capitalize()} out of range: layer "
                f"{self.layer or 'output'!r} has {count} channels (0-{count - 1}). "
                f"Received: {self.index_name}={bad[0]}"
            )

    def target_table(self, features_of, shapes):
        return np.eye(shapes[self.key][-1], dtype="float32")[self.index]

    def _mask(self, x, target):
        if target is None:  # called on its own, outside a dream model
            target = np.eye(x.shape[-1], dtype="float32")[self.index]
        return local_rows(ops.cast(ops.convert_to_tensor(target), x.dtype), x)

    def get_config(self):
        return {"layer": self.layer, "index": self.index if len(self.index) > 1 else self.index[0]}


@keras.saving.register_keras_serializable(package="kerasdream")
class Channel(_IndexedTerm):
    """Mean activation of channel (filter) `index` of `layer`, over all positions.

    The objective of a feature-visualization gallery: one dream per entry of
    `index`, each maximizing its own filter.

    Args:
        layer: the layer's name; append `":pre"` to read it before its
            activation (Lucid's `_pre_relu`).
        index: one filter for every dream, or a list with one filter per dream.

    Raises:
        DreamError: when `index` is not an integer or a list of integers, or
            (on building the dream model) is out of the layer's range.

    Example:
        ```python
        objective = kd.Channel("conv_pw_7_relu:pre", [0, 1, 2, 3])
        dreams = kd.visualize(objective, "mobilenet", steps=100)  # 4 images
        ```
    """

    def __init__(self, layer: str, index: int | Sequence[int]):
        super().__init__(layer, index)

    def check(self, shapes):
        needs_channels(self, shapes)
        super().check(shapes)

    def __call__(self, x, target=None):
        return ops.sum(ops.mean(x, axis=(1, 2)) * self._mask(x, target), axis=-1)


@keras.saving.register_keras_serializable(package="kerasdream")
class Neuron(_IndexedTerm):
    """Activation of channel `index` at one cell `(x, y)`, the centre by default.

    A single unit's dream: only the pixels in that cell's receptive field
    matter, as in the pre-images paper's neuron visualizations.

    Args:
        layer: the layer's name (`":pre"` reads it before its activation).
        index: one filter for every dream, or one per dream.
        x: the cell's column in the layer's output; None for the centre.
        y: the cell's row in the layer's output; None for the centre.

    Raises:
        DreamError: when `index` is not an integer or a list of integers, or
            the filter or the cell is outside the layer.

    Example:
        ```python
        dreams = kd.visualize(kd.Neuron("conv_pw_5_relu", 12), "mobilenet")
        ```
    """

    def __init__(self, layer: str, index, x: int | None = None, y: int | None = None):
        super().__init__(layer, index)
        self.x, self.y = x, y

    def check(self, shapes):
        needs_channels(self, shapes)
        super().check(shapes)
        height, width = shapes[self.key][1:3]
        x, y = self._cell(height, width)
        if not (0 <= x < width and 0 <= y < height):
            raise DreamError(
                f"Neuron cell out of range: layer {self.layer!r} is {height}x{width} "
                f"(y 0-{height - 1}, x 0-{width - 1}). Received: x={x}, y={y}"
            )

    def _cell(self, height, width):
        x = width // 2 if self.x is None else self.x
        y = height // 2 if self.y is None else self.y
        return x, y

    def __call__(self, x, target=None):
        cx, cy = self._cell(x.shape[1], x.shape[2])
        return ops.sum(x[:, cy, cx, :] * self._mask(x, target), axis=-1)

    def get_config(self):
        return {**super().get_config(), "x": self.x, "y": self.y}


@keras.saving.register_keras_serializable(package="kerasdream")
class ClassLogit(_IndexedTerm):
    """A class score before the softmax, read from `layer`'s pre-activation.

    `layer` defaults to the network's last layer; a softmax (or any built-in
    activation) on that layer is skipped, so the gradient is the logit's.

    Args:
        index: one class for every dream, or one class per dream.
        layer: the layer holding the class scores; None for the last layer.

    Raises:
        DreamError: when `index` is not an integer or a list of integers, or
            is not one of the layer's classes.

    Example:
        ```python
        model = keras.applications.MobileNet(alpha=0.25, weights="imagenet")
        dreams = kd.visualize(kd.ClassLogit([1, 281]), model)  # goldfish, tabby
        ```
    """

    index_name = "class_index"

    def __init__(self, index: int | Sequence[int], layer: str | None = None):
        super().__init__(layer, index)

    @property
    def key(self):
        return f"{self.layer or ''}{PRE}"

    def __call__(self, x, target=None):
        scores = ops.mean(x, axis=(1, 2)) if len(x.shape) == 4 else x
        return ops.sum(scores * self._mask(scores, target), axis=-1)

    def get_config(self):
        config = super().get_config()
        return {"index": config["index"], "layer": self.layer}


@keras.saving.register_keras_serializable(package="kerasdream")
class Rivals(_IndexedTerm):
    """The soft maximum of the other channels' means: `logsumexp(t * m_j) / t`
    over every channel j but `index`, with temperature `t`.

    Subtracted from a `Channel`, it makes the dream excite its own filter
    more than any other channel of the layer, rather than a texture that
    drives many:

        Channel("conv_pw_7_relu:pre", k) - 2 * Rivals("conv_pw_7_relu:pre", k)

    (the galleries' objective; `benchmarks/quality.py` measured the weight).

    Args:
        layer: the layer's name, usually with `":pre"`.
        index: each dream's own filter, left out of the soft maximum.
        temperature: how closely the soft maximum follows the largest
            other channel; higher is closer to a hard maximum.

    Raises:
        DreamError: when `index` is not an integer or a list of integers,
            or `temperature` is not positive.

    Example:
        ```python
        layer = "conv_pw_4_relu:pre"
        objective = kd.Channel(layer, [0, 1]) - 2 * kd.Rivals(layer, [0, 1])
        ```
    """

    def __init__(self, layer: str, index: int | Sequence[int], temperature: float = 3.0):
        super().__init__(layer, index)
        if not float(temperature) > 0:
            raise DreamError(f"Temperature must be positive. Received: temperature={temperature!r}")
        self.temperature = float(temperature)

    def check(self, shapes):
        needs_channels(self, shapes)
        super().check(shapes)

    def __call__(self, x, target=None):
        mask = self._mask(x, target)
        means = ops.mean(x, axis=(1, 2)) * self.temperature
        others = means - 1e9 * mask  # the own channel drops out of the soft maximum
        return ops.logsumexp(others, axis=-1) / self.temperature

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}


@keras.saving.register_keras_serializable(package="kerasdream")
class DeepDream(Term):
    """The layer's mean squared activation: amplify whatever it already sees.

    Subtracted from a `Channel` it is "the layer's energy": a dream that
    excites every channel pays for it, so its own filter stands out.

    Args:
        layer: the layer's name.

    Example:
        ```python
        objective = kd.Channel("conv_pw_8_relu", 3) - 0.5 * kd.DeepDream("conv_pw_8_relu")
        ```
    """

    def __init__(self, layer: str):
        super().__init__(layer)

    def __call__(self, x, target=None):
        axes = tuple(range(1, len(x.shape)))
        return ops.mean(ops.square(x), axis=axes)


@keras.saving.register_keras_serializable(package="kerasdream")
class Diversity(Term):
    """Minus the mean cosine similarity of each dream's Gram matrix with the
    others' in the batch (Lucid's diversity), so *adding* it makes several
    dreams of one filter differ: `Channel(L, 7) + 0.1 * Diversity(L)`.

    Args:
        layer: the layer whose Gram matrices are compared.

    Example:
        ```python
        layer = "conv_pw_8_relu"
        objective = kd.Channel(layer, [7] * 4) + 0.1 * kd.Diversity(layer)
        ```
    """

    def __init__(self, layer: str):
        super().__init__(layer)

    def check(self, shapes):
        needs_channels(self, shapes)

    def __call__(self, x, target=None):
        batch = ops.shape(x)[0]
        flat = ops.reshape(x, (batch, -1, x.shape[-1]))
        grams = ops.matmul(ops.transpose(flat, (0, 2, 1)), flat)
        grams = ops.reshape(grams, (batch, -1))
        grams = grams / ops.maximum(ops.norm(grams, axis=-1, keepdims=True), 1e-12)
        similarity = ops.matmul(grams, ops.transpose(grams))
        others = ops.sum(similarity, axis=-1) - ops.diagonal(similarity)
        count = ops.maximum(ops.cast(batch, x.dtype) - 1.0, 1.0)
        return -others / count


def gallery_objective(layer: str, filters: int | Sequence[int], base: keras.Model | None = None,
                      *, objective: str = "channel", activation: str = DEFAULT_ACTIVATION,
                      selectivity: float = DEFAULT_SELECTIVITY) -> Objective:
    """The objective `kerasdream filters` dreams `filters` of `layer` with.

    A gating ReLU layer is read before its gate with `activation="pre"` (so
    a dream is not pushed to the cap and a closed gate still has a
    gradient); a channel objective subtracts `Rivals` at `selectivity` times
    the layer's depth share (`network.layers.layer_defaults`), so the dream
    excites its own filter more than the layer's other channels.

    Args:
        layer: The layer's name or path.
        filters: One filter index or several.
        base: The network (default: the shipped MobileNet).
        objective: `"channel"` (the filter's mean) or `"neuron"` (its centre cell).
        activation: `"pre"` or `"post"` (`defaults.ACTIVATIONS`).
        selectivity: The Rivals weight on the deepest layers; 0 for the plain term.

    Returns:
        The objective.

    Raises:
        DreamError: an unknown objective or activation, or a bad layer.

    Example:
        ```python
        images = kd.visualize(kd.gallery_objective("conv_pw_7_relu", range(16)))
        ```
    """
    from kerasdream.network.activations import is_gating_relu
    from kerasdream.network.bases import load_base
    from kerasdream.network.layers import layer_defaults

    if objective not in OBJECTIVE_CLASSES:
        raise DreamError(f"Unknown objective. Expected one of {sorted(OBJECTIVE_CLASSES)}. "
                         f"Received: objective={objective!r}")
    if activation not in ACTIVATIONS:
        raise DreamError(f"Unknown activation. Expected one of {list(ACTIVATIONS)}. "
                         f"Received: activation={activation!r}")
    base = load_base(None) if base is None else base
    filters = int(filters) if isinstance(filters, (int, np.integer)) else [int(k) for k in filters]
    if activation == "pre" and is_gating_relu(base, layer):
        layer = layer + PRE
    result = globals()[OBJECTIVE_CLASSES[objective]](layer, filters)
    weight = selectivity * layer_defaults(base, layer)[0]
    if objective == "channel" and weight:
        result = result - weight * Rivals(layer, filters)
    return result
