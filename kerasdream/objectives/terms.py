"""What a dream maximizes: small objects that compose like Lucid's.

    Channel("conv_pw_8_relu", [0, 1, 2, 3]) - 0.5 * DeepDream("conv_pw_8_relu")

Every objective gives one value per dream (per kernel row) to *maximize*.
Targets such as a channel index are either one number shared by all dreams
or a list with one entry per dream, so one model trains many filters at once.
Sums, differences and scalar multiples are `Objective`s too; penalties (the
priors in `kerasdream.objectives.priors`) are subtracted.

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
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from kerasdream.errors import DreamError
from kerasdream.network.activations import PRE  # noqa: F401  (public here: kerasdream.objectives.PRE)

IMAGE = "image"  # feature key of the dream image itself (0..255), for priors


class Objective:
    """A weighted sum of terms; `value(features)` gives one number per dream."""

    def __init__(self, terms: Sequence[tuple[float, Term]]):
        self.terms = [(float(weight), term) for weight, term in terms]

    # -- algebra ----------------------------------------------------------
    def __add__(self, other: Objective) -> Objective:
        if not isinstance(other, Objective):
            return NotImplemented
        return Objective(self.terms + other.terms)

    def __sub__(self, other: Objective) -> Objective:
        if not isinstance(other, Objective):
            return NotImplemented
        return self + (-1.0) * other

    def __mul__(self, scalar: float) -> Objective:
        if not isinstance(scalar, numbers.Real):
            return NotImplemented
        if not np.isfinite(scalar):
            raise DreamError(f"An objective's weight must be a finite number. "
                             f"Received: weight={scalar!r}")
        return Objective([(weight * scalar, term) for weight, term in self.terms])

    __rmul__ = __mul__

    def __truediv__(self, scalar: float) -> Objective:
        return self * (1.0 / scalar)

    def __neg__(self) -> Objective:
        return (-1.0) * self

    def __repr__(self) -> str:
        parts = []
        for index, (weight, term) in enumerate(self.terms):
            sign = "-" if weight < 0 else "+"
            text = repr(term) if abs(weight) == 1 else f"{abs(weight):g} * {term!r}"
            if index == 0:
                parts.append(text if weight >= 0 else f"-{text}")
            else:
                parts.append(f"{sign} {text}")
        return " ".join(parts)

    # -- structure --------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        """The features this objective reads, in first-use order."""
        return list(dict.fromkeys(key for _, term in self.terms for key in term.reads()))

    @property
    def num_rows(self) -> int:
        """How many dreams the per-dream targets ask for (1 when all are shared)."""
        counts = {term.num_rows for _, term in self.terms} - {1}
        if len(counts) > 1:
            raise DreamError(
                f"Objective terms ask for different numbers of dreams: {sorted(counts)}. "
                f"Give every per-dream list the same length. Received: {self!r}"
            )
        return counts.pop() if counts else 1

    def select(self, rows: Sequence[int]) -> Objective:
        """The objective of a subset of dreams (per-dream targets sliced)."""
        return Objective([(w, t.select(rows)) for w, t in self.terms])

    def check(self, shapes: dict) -> None:
        """Raise a clear `DreamError` if a target does not fit the feature `shapes`."""
        for _, term in self.terms:
            term.check(shapes)

    def target_tables(self, features_of: Callable[[np.ndarray], dict], shapes: dict,
                      num_dreams: int) -> list[np.ndarray | None]:
        """Each term's per-dream target table, `(num_dreams, ...)`, or None.

        The dream model keeps these in non-trainable variables, so a new set
        of filters is an `assign`, not a new model.
        """
        self.check(shapes)
        tables = []
        for _, term in self.terms:
            table = term.target_table(features_of, shapes)
            if table is not None:
                table = np.broadcast_to(table, (num_dreams, *table.shape[1:])).astype("float32")
            tables.append(table)
        return tables

    def signature(self) -> list:
        """What the traced maths depends on: weights, term kinds and their
        settings, but not their targets. Objectives with equal signatures can
        share one dream model."""
        return [(weight, type(term).__name__, term.settings()) for weight, term in self.terms]

    def initial_images(self) -> np.ndarray | None:
        """Images the dreams should start from (a caricature's photo), if any."""
        for _, term in self.terms:
            images = term.initial_images()
            if images is not None:
                return images
        return None

    # -- maths --------------------------------------------------------------
    def value(self, features: dict, targets: Sequence | None = None) -> Any:
        """One value per dream, shape (N,): the weighted sum of the terms.

        `targets` holds one tensor (or None) per term, as `target_tables` made them.
        """
        targets = targets if targets is not None else [None] * len(self.terms)
        total = 0.0
        for (weight, term), target in zip(self.terms, targets):
            total = total + weight * term.evaluate(features, target)
        return total

    # -- serialization ----------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {
            "terms": [
                [weight, keras.saving.serialize_keras_object(term)]
                for weight, term in self.terms
            ]
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Objective:
        terms = [
            (weight, keras.saving.deserialize_keras_object(term))
            for weight, term in config["terms"]
        ]
        return cls(terms)


keras.saving.register_keras_serializable(package="kerasdream")(Objective)


class Term(Objective):
    """One objective on one feature; subclasses define `__call__(x, target) -> (N,)`."""

    target_fields: tuple[str, ...] = ()  # config fields that are per-dream targets

    def __init__(self, layer: str | None):
        super().__init__([(1.0, self)])
        self.layer = layer

    @property
    def key(self) -> str:
        return self.layer

    @property
    def num_rows(self) -> int:
        return 1

    def select(self, rows: Sequence[int]) -> Term:
        return self

    def check(self, shapes) -> None:
        pass

    def target_table(self, features_of, shapes) -> np.ndarray | None:
        """This term's targets as an array `(1 or N, ...)`, or None if it has none."""
        return None

    def settings(self) -> dict[str, Any]:
        """The config without the per-dream targets."""
        return {k: v for k, v in self.get_config().items() if k not in self.target_fields}

    def initial_images(self):
        return None

    def reads(self) -> list[str]:
        """The feature keys `evaluate` needs; a term that reads several layers
        overrides this and `evaluate`."""
        return [self.key]

    def evaluate(self, features: dict, target=None):
        """The term's value from the dream model's features (a dict by key)."""
        return self(features[self.key], target)

    def __call__(self, x, target=None):
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {"layer": self.layer}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(repr(v) for v in self.get_config().values())
        return f"{type(self).__name__}({args})"


def local_rows(table, x):
    """The rows of a per-dream `table` (N, ...) that the batch `x` holds.

    On one device `x` holds all N dreams. Under a `tf.distribute` strategy
    each replica holds an equal, consecutive slice of the one-hot batch, so
    replica r's rows start at `r * local_batch`.
    """
    if table.shape[0] == 1:
        return table
    local = ops.shape(x)[0]
    offset = _replica_id() * local
    start = [offset] + [0] * (len(table.shape) - 1)
    return ops.slice(table, start, [local, *table.shape[1:]])


def _replica_id():
    if keras.backend.backend() != "tensorflow":
        return 0
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return 0
    return context.replica_id_in_sync_group


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


def _needs_channels(term: Term, shapes, rank: int = 4) -> None:
    shape = shapes[term.key]
    if len(shape) != rank:
        raise DreamError(
            f"{type(term).__name__} needs a layer with (batch, height, width, channels) "
            f"output, but layer {term.layer!r} gives {tuple(shape)}. "
            f"Received: layer_name={term.layer!r}"
        )


@keras.saving.register_keras_serializable(package="kerasdream")
class Channel(_IndexedTerm):
    """Mean activation of channel (filter) `index` of `layer`, over all positions."""

    def __init__(self, layer: str, index: int | Sequence[int]):
        super().__init__(layer, index)

    def check(self, shapes):
        _needs_channels(self, shapes)
        super().check(shapes)

    def __call__(self, x, target=None):
        return ops.sum(ops.mean(x, axis=(1, 2)) * self._mask(x, target), axis=-1)


@keras.saving.register_keras_serializable(package="kerasdream")
class Neuron(_IndexedTerm):
    """Activation of channel `index` at one cell `(x, y)`, the centre by default."""

    def __init__(self, layer: str, index, x: int | None = None, y: int | None = None):
        super().__init__(layer, index)
        self.x, self.y = x, y

    def check(self, shapes):
        _needs_channels(self, shapes)
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
    """

    def __init__(self, layer: str, index: int | Sequence[int], temperature: float = 3.0):
        super().__init__(layer, index)
        if not float(temperature) > 0:
            raise DreamError(f"Temperature must be positive. Received: temperature={temperature!r}")
        self.temperature = float(temperature)

    def check(self, shapes):
        _needs_channels(self, shapes)
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
    """

    def __init__(self, layer: str):
        super().__init__(layer)

    def __call__(self, x, target=None):
        axes = tuple(range(1, len(x.shape)))
        return ops.mean(ops.square(x), axis=axes)


class _PhotoTerm(Term):
    """A term whose target is computed from a photo's features."""

    target_fields = ("image",)

    def __init__(self, layer: str, image):
        super().__init__(layer)
        image = np.asarray(image, dtype="float32")
        if image.ndim == 3:
            image = image[None]
        if image.ndim != 4:
            raise DreamError(
                f"{type(self).__name__} needs an image (H, W, C) or images (N, H, W, C). "
                f"Received: image of shape {image.shape}"
            )
        self.image = image

    @property
    def num_rows(self):
        return len(self.image)

    def select(self, rows):
        if len(self.image) == 1:
            return self
        return type(self)(self.layer, self.image[list(rows)])

    def check(self, shapes):
        image_shape = tuple(shapes[IMAGE][1:])
        if tuple(self.image.shape[1:]) != image_shape:
            raise DreamError(
                f"{type(self).__name__}'s photo must have the dream's shape {image_shape}"
                f" (resize it, or pass size=). Received: image of shape "
                f"{tuple(self.image.shape[1:])}"
            )

    def target_table(self, features_of, shapes):
        return self.make_target(np.asarray(features_of(self.image)[self.key]))

    def _target(self, x, target):
        if target is None:
            raise DreamError(f"{type(self).__name__} reads the photo's features: use it "
                             f"inside a DreamModel, which computes them.")
        return local_rows(ops.cast(ops.convert_to_tensor(target), x.dtype), x)

    def get_config(self):
        return {"layer": self.layer, "image": np.round(self.image).astype(int).tolist()}


@keras.saving.register_keras_serializable(package="kerasdream")
class Inversion(_PhotoTerm):
    """Match a photo's features: value `-||Phi(x) - Phi0||^2 / ||Phi0||^2`.

    `relative_error = sqrt(-value)` is the paper's reconstruction quality.
    """

    def make_target(self, features):
        return features

    def __call__(self, x, target=None):
        target = self._target(x, target)
        axes = tuple(range(1, len(x.shape)))
        error = ops.sum(ops.square(x - target), axis=axes)
        return -error / ops.maximum(ops.sum(ops.square(target), axis=axes), 1e-12)


@keras.saving.register_keras_serializable(package="kerasdream")
class Caricature(_PhotoTerm):
    """Exaggerate what `layer` sees in a photo: value `<Phi(x), Phi0>`,
    `Phi0 = max(Phi(x0), 0) / ||max(Phi(x0), 0)||^2`. Dreams start from the photo.
    """

    def make_target(self, features):
        positive = np.maximum(features, 0.0)
        norms = np.sum(positive**2, axis=tuple(range(1, positive.ndim)), keepdims=True)
        return positive / np.maximum(norms, 1e-12)

    def initial_images(self):
        return self.image

    def __call__(self, x, target=None):
        axes = tuple(range(1, len(x.shape)))
        return ops.sum(x * self._target(x, target), axis=axes)


@keras.saving.register_keras_serializable(package="kerasdream")
class Diversity(Term):
    """Minus the mean cosine similarity of each dream's Gram matrix with the
    others' in the batch (Lucid's diversity), so *adding* it makes several
    dreams of one filter differ: `Channel(L, 7) + 0.1 * Diversity(L)`."""

    def __init__(self, layer: str):
        super().__init__(layer)

    def check(self, shapes):
        _needs_channels(self, shapes)

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


def get(identifier) -> Objective:
    """An objective from an instance or a serialized config."""
    if isinstance(identifier, Objective):
        return identifier
    if isinstance(identifier, dict):
        objective = keras.saving.deserialize_keras_object(identifier)
        if isinstance(objective, Objective):
            return objective
    raise DreamError(
        "Expected an objective such as Channel('conv_pw_8_relu', 7). "
        f"Received: objective={identifier!r}"
    )
