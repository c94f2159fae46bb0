"""Layer facts about activations, in one place: which layers are ReLUs, their
cap and threshold, and how the value before an activation is named.

A feature key is a layer path, optionally ending in `PRE` (`":pre"`) for the
layer's value before its activation: a ReLU / Activation layer's input, or a
layer's output before its built-in activation. Training (objectives),
scoring (`kerasdream.evaluation`) and examples all name that tensor the same
way, `"conv_pw_3_relu:pre"`, and `network.features` resolves it.

The kinds of ReLU, as Keras computes them (`keras.layers.ReLU`):

| layer | `relu_of` | gates | cap |
|---|---|---|---|
| `ReLU()`, `Activation("relu")`, `Conv2D(activation="relu")` | slope 0, threshold 0 | yes | None |
| `ReLU(max_value=6)`, `Activation("relu6")` (MobileNet) | slope 0, threshold 0 | yes | 6 |
| `ReLU(threshold=t)` | slope 0, threshold t | yes, at or below t | max_value |
| `LeakyReLU`, `ReLU(negative_slope=a)`, `Activation("leaky_relu")` | slope a | no | max_value (None for the first and last) |

A *gating* ReLU outputs 0 with zero gradient at or below its threshold: a
dream can sit in a closed gate and never move, so training redirects its
gradient (`features.RedirectedReLU`) and galleries read it before the gate.
A leaky ReLU lets a gradient through everywhere below its cap: it is read as
it is. The *cap* is the `max_value` any ReLU clips at: strong units all tie
there, so scoring takes natural ratios before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from kerasdream.network.bases import get_layer, resolve_layer

PRE = ":pre"  # suffix of a feature key: the layer's value before its activation


@dataclass(frozen=True)
class Relu:
    """The ReLU a layer applies: `x` above `threshold` (else `negative_slope *
    (x - threshold)`), clipped at `cap` (None: no cap), as `keras.layers.ReLU`."""

    negative_slope: float = 0.0
    threshold: float = 0.0
    cap: float | None = None

    @property
    def gates(self) -> bool:
        """Whether it closes (0 out, 0 gradient) at or below its threshold: not leaky."""
        return self.negative_slope == 0.0


def _layer(layer, path: str | None) -> keras.layers.Layer:
    return layer if path is None else get_layer(layer, path)


def relu_of(layer: keras.layers.Layer | keras.Model, path: str | None = None) -> Relu | None:
    """The ReLU that `layer` applies, or None if its activation is not a ReLU.

    Args:
        layer: a Keras layer, or a model with `path` naming one of its layers.
        path: a layer path inside the model `layer` (`"backbone/conv2"`), or None.

    Returns:
        A `Relu` for a `ReLU` / `LeakyReLU` layer, an `Activation` layer or a
        layer with a built-in activation of `relu`, `relu6` or `leaky_relu`;
        else None.
    """
    target = _layer(layer, path)
    if isinstance(target, keras.layers.ReLU):
        cap = None if target.max_value is None else float(target.max_value)
        return Relu(float(target.negative_slope), float(target.threshold), cap)
    if isinstance(target, keras.layers.LeakyReLU):
        return Relu(float(target.negative_slope))
    activation = getattr(target, "activation", None)
    if isinstance(activation, (keras.layers.ReLU, keras.layers.LeakyReLU)):
        return relu_of(activation)  # a layer given as another layer's activation
    name = getattr(activation, "__name__", None)
    if name == "relu":
        return Relu()
    if name == "relu6":
        return Relu(cap=6.0)
    if name == "leaky_relu":
        return Relu(negative_slope=0.2)  # keras.activations.leaky_relu's default
    return None


def relu_cap(layer: keras.layers.Layer | keras.Model, path: str | None = None) -> float | None:
    """The value a ReLU layer clips at (6.0 for ReLU6), else None (no cap, or not a ReLU).

    Args:
        layer: a Keras layer, or a model with `path` naming one of its layers.
        path: a layer path inside the model `layer`, or None.
    """
    relu = relu_of(layer, path)
    return None if relu is None else relu.cap


def is_gating_relu(layer: keras.layers.Layer | keras.Model, path: str | None = None) -> bool:
    """Whether the layer is a ReLU that closes at or below its threshold (not a leaky one).

    Args:
        layer: a Keras layer, or a model with `path` naming one of its layers.
        path: a layer path inside the model `layer`, or None.
    """
    relu = relu_of(layer, path)
    return relu is not None and relu.gates


def split_pre(key: str) -> tuple[str, bool]:
    """`(layer path, whether the key reads before the activation)` of a feature key."""
    return (key[: -len(PRE)], True) if key.endswith(PRE) else (key, False)


def pre_activation_key(base: keras.Model, layer: str) -> str:
    """The feature key of `layer`'s value before its activation: its resolved path + `PRE`.

    Training and scoring both read that key (`conv_pw_3_relu:pre` is the
    input of MobileNet's `conv_pw_3_relu`, the output of `conv_pw_3_bn`).
    """
    return resolve_layer(base, split_pre(layer)[0]) + PRE
