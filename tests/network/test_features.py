"""Feature views of the user's network: layers, `:pre` twins, the redirected ReLU.

One hand-built network, every value by hand: a 1x1 conv with a built-in
ReLU (channel 0 = x, channel 1 = 1 - x), a linear 1x1 conv mixing them
(c0 - c1 + 0.5), then a ReLU layer capped at 6.
"""

import keras
import numpy as np
import pytest

from kerasdream.errors import DreamError
from kerasdream.network import features
from kerasdream.network.features import (
    RedirectedReLU, feature_model, redirect_gradient, sync_twins)

from conftest import gradient_of

X = np.array([[[-2.0], [1.0]], [[3.0], [0.5]]], "float32")[None]  # (1, 2, 2, 1)


def gated(name="gated"):
    inputs = keras.Input((2, 2, 1))
    x = keras.layers.Conv2D(2, 1, activation="relu", name="conv")(inputs)
    x = keras.layers.Conv2D(1, 1, name="mix")(x)
    outputs = keras.layers.ReLU(max_value=6.0, name="gate")(x)
    model = keras.Model(inputs, outputs, name=name)
    model.get_layer("conv").set_weights([np.array([[[[1.0, -1.0]]]], "float32"),
                                         np.array([0.0, 1.0], "float32")])
    model.get_layer("mix").set_weights([np.array([[[[1.0], [-1.0]]]], "float32"),
                                        np.array([0.5], "float32")])
    return model


def by_hand(x):
    """Every feature of `gated` on images `x` (N, 2, 2, 1), from the weights above."""
    conv_pre = np.concatenate([x, 1.0 - x], axis=-1)
    conv = np.maximum(conv_pre, 0.0)
    mix = conv[..., :1] - conv[..., 1:] + 0.5
    return {"conv:pre": conv_pre, "conv": conv, "mix": mix, "gate:pre": mix,
            "gate": np.clip(mix, 0.0, 6.0)}


def numpy(values):
    return {key: keras.ops.convert_to_numpy(value) for key, value in values.items()}


def state_of(model):
    return ([layer.name for layer in model.layers], [layer.trainable for layer in model.layers],
            [keras.ops.convert_to_numpy(w).copy() for w in model.weights])


@pytest.mark.backends
@pytest.mark.parametrize("redirect", [False, True])
def test_layers_and_their_pre_activations_are_the_values_by_hand(redirect):
    base = gated()
    keys = ["conv", "conv:pre", "mix", "gate", "gate:pre"]
    values = numpy(feature_model(base, keys, (2, 2, 1), redirect_relu=redirect)(X))
    expected = by_hand(X)
    assert sorted(values) == sorted(keys)
    for key in keys:
        np.testing.assert_allclose(values[key], expected[key], atol=1e-6, err_msg=key)


def test_a_feature_view_leaves_the_network_as_it_was():
    base = gated()
    base.get_layer("mix").trainable = False  # the user's flags, whatever they are
    names, flags, weights = state_of(base)
    output = keras.ops.convert_to_numpy(base(X))
    view = feature_model(base, ["conv:pre", "gate"], (2, 2, 1), redirect_relu=True)
    keras.ops.convert_to_numpy(view(X)["gate"])

    after_names, after_flags, after_weights = state_of(base)
    assert (after_names, after_flags) == (names, flags)
    for old, new in zip(weights, after_weights):
        np.testing.assert_array_equal(old, new)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(base(X)), output)
    # The view shares the network's weights and adds only its twin's copy.
    assert {id(w) for w in base.weights} <= {id(w) for w in view.weights}
    assert any(isinstance(layer, RedirectedReLU) for layer in view.layers)
    assert not any(isinstance(layer, RedirectedReLU) for layer in base.layers)


def test_a_twin_takes_a_name_the_network_does_not_use_and_follows_it_after_sync():
    inputs = keras.Input((2, 2, 1))
    x = keras.layers.Conv2D(2, 1, activation="relu", name="conv")(inputs)
    x = keras.layers.Identity(name="conv_pre_activation")(x)  # the twin's first choice
    base = keras.Model(inputs, x)
    base.get_layer("conv").set_weights([np.array([[[[1.0, -1.0]]]], "float32"),
                                        np.array([0.0, 1.0], "float32")])
    view = feature_model(base, ["conv:pre"], (2, 2, 1))
    assert "conv_pre_activation_1" in [layer.name for layer in view.layers]
    np.testing.assert_allclose(numpy(view(X))["conv:pre"], by_hand(X)["conv:pre"], atol=1e-6)

    # The twin holds a copy: the network trains on, the twin follows after a sync.
    base.get_layer("conv").set_weights([np.array([[[[2.0, 0.0]]]], "float32"),
                                        np.array([1.0, 0.0], "float32")])
    assert sync_twins(view) == 1
    expected = np.concatenate([2.0 * X + 1.0, np.zeros_like(X)], axis=-1)
    np.testing.assert_allclose(numpy(view(X))["conv:pre"], expected, atol=1e-6)


def test_a_layer_inside_a_sub_model_is_read_through_its_path():
    inner = gated(name="inner")
    inputs = keras.Input((2, 2, 1))
    outer = keras.Model(inputs, keras.layers.Identity(name="after")(inner(inputs)))
    values = numpy(feature_model(outer, ["inner/mix", "inner/gate:pre"], (2, 2, 1))(X))
    np.testing.assert_allclose(values["inner/mix"], by_hand(X)["mix"], atol=1e-6)
    np.testing.assert_allclose(values["inner/gate:pre"], by_hand(X)["mix"], atol=1e-6)


def test_the_input_and_too_small_images_are_refused_naming_the_value():
    base = gated()
    with pytest.raises(DreamError, match=r"network's input.*Received: layer="):
        feature_model(base, [base.layers[0].name], (2, 2, 1))
    with pytest.raises(DreamError, match=r"height must be 2.*Received: image_shape=\(3, 2, 1\)"):
        feature_model(base, ["gate"], (3, 2, 1))
    pooled = keras.Sequential([keras.Input((None, None, 1)),
                               keras.layers.MaxPooling2D(4, name="pool")])
    with pytest.raises(DreamError, match=r"too small.*Received: image_shape=\(2, 2, 1\)"):
        feature_model(pooled, ["pool"], (2, 2, 1))




# Two dreams (rows) of four units; `upstream` is dLoss/dOutput of the minimized
# loss, so a positive value pushes a unit down, a negative one up.
UPSTREAM = np.array([[1.0, -1.0, 2.0, -2.0]] * 2, "float32")
ROWS = np.array([[1.0, -2.0, 3.0, -0.5],      # open on units 0 and 2: a live dream
                 [-1.0, -2.0, -3.0, -0.5]],   # closed everywhere: a dead dream
                "float32")


@pytest.mark.backends
def test_redirect_gradient_by_hand():
    got = keras.ops.convert_to_numpy(redirect_gradient(ROWS, UPSTREAM, None))
    # Live row: the true ReLU gradient (upstream where open, 0 where closed).
    np.testing.assert_array_equal(got[0], [1.0, 0.0, 2.0, 0.0])
    # Dead row: upstream passes only where it pushes the unit up (negative).
    np.testing.assert_array_equal(got[1], [0.0, -1.0, 0.0, -2.0])

    # Capped at 6, closed everywhere (above the cap or at/below 0): a push down
    # passes above the cap, a push up passes below 0, nothing pushes past them.
    capped = np.array([[7.0, -1.0, 8.0, -2.0]], "float32")
    upstream = np.array([[1.0, -1.0, -1.0, 1.0]], "float32")
    got = keras.ops.convert_to_numpy(redirect_gradient(capped, upstream, 6.0))
    np.testing.assert_array_equal(got, [[1.0, -1.0, 0.0, 0.0]])


@pytest.mark.backends
def test_redirected_relu_is_relu_forward_and_redirects_only_upward_backward():
    layer = RedirectedReLU()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(ROWS)), np.maximum(ROWS, 0))
    capped = RedirectedReLU(max_value=6.0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(capped(ROWS * 3)),
                                  np.clip(ROWS * 3, 0, 6))
    # d sum(upstream * relu(x)) / dx: upstream arrives as the output's gradient.
    gradient = gradient_of(lambda x: keras.ops.multiply(layer(x), UPSTREAM), ROWS)
    np.testing.assert_array_equal(gradient, [[1.0, 0.0, 2.0, 0.0], [0.0, -1.0, 0.0, -2.0]])
    config = capped.get_config()
    assert config["max_value"] == 6.0
    assert RedirectedReLU.from_config(config).max_value == 6.0


@pytest.mark.backends
def test_a_closed_gate_in_a_feature_view_opens_only_to_grow_the_feature():
    # Every pixel <= 0: mix = x - 0.5 < 0, the gate is closed everywhere, and
    # d mix / dx = 1 (through channel 1, 1 - x > 0). Maximizing the gate
    # (minimizing -gate) passes the gradient -1; minimizing it passes nothing.
    closed = np.array([[[-2.0], [-1.0]], [[-3.0], [-0.5]]], "float32")[None]
    base = gated()
    plain = feature_model(base, ["gate"], (2, 2, 1))
    redirected = feature_model(base, ["gate"], (2, 2, 1), redirect_relu=True)

    def loss(view, sign):
        return lambda x: keras.ops.multiply(sign, view(x)["gate"])

    np.testing.assert_array_equal(gradient_of(loss(plain, -1.0), closed), np.zeros_like(closed))
    np.testing.assert_allclose(gradient_of(loss(redirected, -1.0), closed), -np.ones_like(closed))
    np.testing.assert_array_equal(gradient_of(loss(redirected, 1.0), closed),
                                  np.zeros_like(closed))


# ------------------------------------------------- the shapes of trained models

EPS = 1e-3  # BatchNormalization's default epsilon


def xception_block(names: bool):
    """mini-XCEPTION's shapes, 2x2 grey, every weight set so each value follows by hand:

    conv (1x1, no bias: [x, -x]) -> BN (mean 0, variance 1: / sqrt(1 + eps))
    -> Activation("relu") = a;  SeparableConv2D(relu) on a (depthwise 1,
    pointwise [1, -1]) = s;  residual: Add(s, BN(conv 1x1 of x: [2x, 2x])) ->
    Activation("relu").  With `names`, explicit names; else Keras' defaults
    (`conv2d`, `batch_normalization`, `activation`, ...), as a model saved
    by its trainer has them.
    """
    name = (lambda n: n) if names else (lambda n: None)
    inputs = keras.Input((2, 2, 1))
    conv = keras.layers.Conv2D(2, 1, use_bias=False, name=name("conv"))
    bn = keras.layers.BatchNormalization(name=name("bn"))
    act = keras.layers.Activation("relu", name=name("act"))
    sep = keras.layers.SeparableConv2D(2, 1, activation="relu", use_bias=False,
                                       name=name("sep"))
    short = keras.layers.Conv2D(2, 1, use_bias=False, name=name("short"))
    add = keras.layers.Add(name=name("add"))
    out = keras.layers.Activation("relu", name=name("out"))
    a = act(bn(conv(inputs)))
    s = sep(a)
    y = out(add([s, short(inputs)]))
    model = keras.Model(inputs, y, name="mini_xception")
    conv.set_weights([np.array([[[[1.0, -1.0]]]], "float32")])
    bn.set_weights([np.ones(2, "float32"), np.zeros(2, "float32"),
                    np.zeros(2, "float32"), np.ones(2, "float32")])
    sep.set_weights([np.ones((1, 1, 2, 1), "float32"),
                     np.array([[[[1.0, -1.0], [0.0, 0.0]]]], "float32")])
    short.set_weights([np.array([[[[2.0, 2.0]]]], "float32")])
    return model, [layer.name for layer in (conv, bn, act, sep, short, add, out)]


def xception_by_hand(x):
    bn = np.concatenate([x, -x], axis=-1) / np.sqrt(1.0 + EPS)
    a = np.maximum(bn, 0.0)
    sep_pre = np.concatenate([a[..., :1], -a[..., :1]], axis=-1)  # pointwise [1, -1] of a0
    s = np.maximum(sep_pre, 0.0)
    add = s + 2.0 * x
    return {"bn": bn, "act:pre": bn, "act": a, "sep:pre": sep_pre, "sep": s,
            "add": add, "out:pre": add, "out": np.maximum(add, 0.0)}


@pytest.mark.parametrize("names", [True, False], ids=["own names", "keras default names"])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_batchnorm_activation_separable_and_residual_layers_read_before_the_gate(
        names, suffix, tmp_path):
    """BN between conv and a separate Activation, SeparableConv2D with a
    built-in ReLU and a residual Add, saved and loaded as a trainer leaves
    them: every `:pre` is the value before the gate, by hand."""
    from kerasdream.network.activations import is_gating_relu
    from kerasdream.network.bases import load_base

    keras.utils.clear_session()  # Keras' default names start from 0 again
    model, (conv, bn, act, sep, short, add, out) = xception_block(names)
    if not names:
        assert (act, sep, add) == ("activation", "separable_conv2d", "add")
    path = str(tmp_path / f"mini{suffix}")
    model.save(path)
    base = load_base(path)
    rename = {"bn": bn, "act": act, "sep": sep, "add": add, "out": out}
    keys = {key: rename[key.split(":")[0]] + key[len(key.split(":")[0]):]
            for key in xception_by_hand(X)}
    values = numpy(feature_model(base, list(keys.values()), (2, 2, 1), redirect_relu=True)(X))
    expected = xception_by_hand(X)
    for mine, theirs in keys.items():
        np.testing.assert_allclose(values[theirs], expected[mine], atol=1e-5, err_msg=theirs)
    assert is_gating_relu(base, act) and is_gating_relu(base, sep) and is_gating_relu(base, out)
    assert not is_gating_relu(base, add) and not is_gating_relu(base, bn)
