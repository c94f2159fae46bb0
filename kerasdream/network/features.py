"""Reading a network's layers: truncation, pre-activation twins, redirected ReLU.

`feature_model(base, keys, image_shape)` is a frozen view of the user's
network from images to a dict of the features an objective reads. It shares
the user's layers and weights but never changes them: no trainable flag is
set, and the dream model differentiates only its own kernel.

A key is a layer path (`"conv_pw_3_relu"`, `"backbone/conv_pw_3_relu"`),
optionally with the suffix `":pre"` for the value before the layer's
activation: a ReLU layer's input, or a conv's output before its built-in
activation (class logits before a softmax).
"""

from __future__ import annotations

import weakref

import keras
from keras import ops

from kerasdream.errors import DreamError
from kerasdream.network.activations import PRE, relu_of, split_pre
from kerasdream.network.bases import (
    check_fixed_size,
    first_line,
    get_layer,
    image_input,
    resolve_layer,
)


def redirect_gradient(x, upstream, max_value: float | None, threshold: float = 0.0):
    """Lucid's redirected ReLU gradient, per dream (batch row).

    Where a dream's true ReLU gradient is non-zero, it is used unchanged.
    Where it is zero everywhere (the unit is closed on the whole image), the
    gradient passes the gate instead, except where it would push a unit
    further below the gate (`threshold`, 0 for a plain ReLU) or above the
    cap. `upstream` is dLoss/dOutput of the minimized loss, so a positive
    value pushes the unit down.
    """
    open_gate = x > threshold if max_value is None else ops.logical_and(x > threshold,
                                                                        x < max_value)
    zeros = ops.zeros_like(upstream)
    true_gradient = ops.where(open_gate, upstream, zeros)
    blocked = ops.logical_and(x <= threshold, upstream > 0.0)
    if max_value is not None:
        blocked = ops.logical_or(blocked, ops.logical_and(x >= max_value, upstream < 0.0))
    redirected = ops.where(blocked, zeros, upstream)
    axes = tuple(range(1, len(x.shape)))
    alive = ops.sum(ops.abs(true_gradient), axis=axes, keepdims=True) > 0.0
    return ops.where(alive, true_gradient, redirected)


def _gate(inputs, max_value: float | None, threshold: float):
    """The ReLU's value: `inputs` above `threshold`, else 0; clipped at `max_value`."""
    if threshold == 0.0:
        return ops.relu(inputs) if max_value is None else ops.clip(inputs, 0.0, max_value)
    gated = inputs * ops.cast(inputs > threshold, inputs.dtype)  # as keras.layers.ReLU
    return gated if max_value is None else ops.clip(gated, 0.0, max_value)


def _redirected_relu(x, max_value: float | None, threshold: float = 0.0):
    @ops.custom_gradient
    def relu(inputs):
        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return redirect_gradient(inputs, upstream, max_value, threshold)

        return _gate(inputs, max_value, threshold), grad

    return relu(x)


@keras.saving.register_keras_serializable(package="kerasdream")
class RedirectedReLU(keras.layers.Layer):
    """ReLU (closed at or below `threshold`, capped at `max_value`) forward;
    Lucid's redirected gradient backward.

    A filter whose ReLU is closed everywhere on the starting image has zero
    gradient and would never move (a dead channel). For such a dream only,
    the gradient passes the gate, but never pushes a unit below the gate or
    above the cap (see `redirect_gradient`). A live dream's gradient is the
    true one, and the value the objective sees is always the true ReLU.
    """

    def __init__(self, max_value: float | None = None, threshold: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else float(max_value)
        self.threshold = float(threshold)

    def call(self, x):
        return _redirected_relu(x, self.max_value, self.threshold)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "threshold": self.threshold}


def _unique_name(taken: set[str], wanted: str) -> str:
    """`wanted`, or `wanted_1`, `wanted_2`, ...: a name not in `taken` (then added)."""
    name, count = wanted, 1
    while name in taken:
        name, count = f"{wanted}_{count}", count + 1
    taken.add(name)
    return name


def layer_names(model: keras.Model) -> set[str]:
    """Every layer name in `model`, nested sub-models included."""
    return {layer.name for layer in model._flatten_layers(include_self=False)}


def pre_activation_output(layer: keras.layers.Layer, taken: set[str]):
    """The layer's value before its activation (logits, pre-ReLU).

    For a ReLU or Activation layer it is the layer's input. For a layer with
    a built-in activation, a linear twin with copies of its weights is called
    on the same input; the twin gets a name not in `taken` (the network's
    names and earlier twins'), so a model saved with Keras' default names
    (`conv2d`, `conv2d_1`, ...) still works.
    """
    if isinstance(layer, (keras.layers.ReLU, keras.layers.Activation)):
        return layer.input
    activation = getattr(layer, "activation", None)
    if activation is None or activation is keras.activations.linear:
        return layer.output
    config = {**layer.get_config(), "activation": "linear"}
    config["name"] = _unique_name(taken, f"{layer.name}_pre_activation")
    twin = type(layer).from_config(config)
    output = twin(layer.input)
    twin.set_weights(layer.get_weights())
    twin.trainable = False
    twin._kerasdream_source = weakref.ref(layer)  # a weak reference: Keras does not track it
    return output


def sync_twins(*models: keras.Model) -> int:
    """Copy each twin's weights again from the layer it copies, in each of `models`.

    A twin holds a copy, taken when it was built: a pre-activation twin of
    the feature model, or a layer of a reduced-precision copy
    (`network.precision.reduced_copy`). A network that trains on
    (`DreamCallback`, `evolve`) must refresh them before each dream: pass the
    feature model first, then its reduced copy. Returns how many twins were
    refreshed.
    """
    count = 0
    for model in models:
        for layer in model._flatten_layers(include_self=False):
            source = getattr(layer, "_kerasdream_source", None)
            source = source() if source is not None else None
            if source is not None:
                for mine, theirs in zip(layer.weights, source.weights):
                    mine.assign(keras.ops.convert_to_numpy(theirs))  # a copy, not a shared buffer
                count += 1
    return count


def symbolic_output(model: keras.Model, path: str, pre_activation: bool,
                    redirect_relu: bool, taken: set[str]):
    """`path`'s output as a tensor of `model`'s own graph (nested layers too).

    New layers (twins, redirected ReLUs) get names not in `taken`.
    """
    head, _, rest = path.partition("/")
    layer = model.get_layer(head)
    if rest:
        inner_output = symbolic_output(layer, rest, pre_activation, redirect_relu, taken)
        inner_inputs = layer.inputs[0] if len(layer.inputs) == 1 else layer.inputs
        inner = keras.Model(inner_inputs, inner_output)
        nodes = [n for n in layer._inbound_nodes if n.input_tensors]
        if len(nodes) != 1:
            raise DreamError(
                f"Sub-model {head!r} is called {len(nodes)} times in {model.name}; "
                f"kerasdream needs it called once. Received: layer_name={path!r}"
            )
        call_inputs = nodes[0].input_tensors
        return inner(call_inputs[0] if len(call_inputs) == 1 else call_inputs)
    if pre_activation:
        return pre_activation_output(layer, taken)
    relu = relu_of(layer) if redirect_relu else None
    if relu is not None and relu.gates:
        name = _unique_name(taken, layer.name + "_redirected")
        gate = RedirectedReLU(max_value=relu.cap, threshold=relu.threshold, name=name)
        return gate(pre_activation_output(layer, taken))
    return layer.output


def split_key(base: keras.Model, key: str) -> tuple[str, bool]:
    """`(resolved layer path, pre_activation)` of a feature key."""
    path, pre = split_pre(key)
    if not path:  # ClassLogit with no layer: the network's class scores
        from kerasdream.network.classes import class_layer

        path = class_layer(base, any_output=True)
    return resolve_layer(base, path), pre


def feature_model(
    base: keras.Model,
    keys: list[str],
    image_shape: tuple[int, int, int],
    redirect_relu: bool = False,
    display_name: str | None = None,
) -> keras.Model:
    """A model from images to a dict of features, one per key, over `base`'s layers.

    With `redirect_relu`, a ReLU layer's gradient is Lucid's redirected one
    (see `RedirectedReLU`); values are the same either way. The model is
    checked at `image_shape`, so a too-small image fails here with a clear
    message, not deep inside the backend. `display_name` names the network
    in those messages (default: `base.name`).
    """
    outputs, taken = {}, layer_names(base)
    for key in keys:
        path, pre = split_key(base, key)
        if isinstance(get_layer(base, path), keras.layers.InputLayer):
            raise DreamError(
                f"{path!r} is the network's input, not a layer that computes features: "
                f"choose a layer after it (`kerasdream layers` lists them). "
                f"Received: layer={path!r}")
        outputs[key] = symbolic_output(base, path, pre, redirect_relu and not pre, taken)
    inputs = image_input(base)
    try:
        model = keras.Model(inputs, outputs, name=f"{base.name}_features")
    except ValueError as error:  # a layer that needs another input than the image's
        raise DreamError(
            f"These layers of {base.name} need more than its image input "
            f"{tuple(inputs.shape[1:])} ({first_line(error)}); kerasdream dreams through "
            f"the image input only: choose a layer before the other inputs join. "
            f"Received: layers={list(keys)}") from None
    _check_image_shape(base, model, image_shape, display_name or base.name)
    return model


def _check_image_shape(base, model, image_shape, name) -> None:
    check_fixed_size(base, image_shape, name)
    try:
        specs = model.compute_output_spec(keras.KerasTensor((1, *image_shape)))
    except Exception as error:
        raise DreamError(
            f"Image size is too small for {name} up to this layer "
            f"({type(error).__name__}: {first_line(error)}). Try a larger size. "
            f"Received: image_shape={tuple(image_shape)}"
        ) from None
    for key, spec in specs.items():
        if any(d is not None and d <= 0 for d in spec.shape):
            raise DreamError(
                f"Image size is too small for layer {key!r}: its output would be "
                f"{tuple(spec.shape)}. Try a larger size. "
                f"Received: image_shape={tuple(image_shape)}"
            )
