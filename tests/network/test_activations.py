"""Layer facts about activations: every kind of ReLU on a one-layer model,
with values and gradients derived by hand from Keras' ReLU definition
(`x` above the threshold, else `slope * (x - threshold)`, clipped at the cap)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasdream.objectives as objectives
from kerasdream.network import activations
from kerasdream.network.activations import (
    PRE,
    Relu,
    is_gating_relu,
    pre_activation_key,
    relu_cap,
    relu_of,
    split_pre,
)
from kerasdream.network.features import feature_model

X = np.array([-2.0, -0.5, 0.5, 1.0, 1.5, 3.0, 7.0], "float32")  # one row of 7 units


def one_layer(layer):
    """Input (1, 7, 1) -> `layer` named "act"."""
    inputs = keras.Input((1, 7, 1))
    return keras.Model(inputs, layer(inputs), name="one_layer")


# (layer, what relu_of says, the layer's values at X by hand)
KINDS = {
    "relu": (lambda: keras.layers.ReLU(name="act"), Relu(),
             [0, 0, 0.5, 1, 1.5, 3, 7]),
    "relu6": (lambda: keras.layers.ReLU(max_value=6.0, name="act"), Relu(cap=6.0),
              [0, 0, 0.5, 1, 1.5, 3, 6]),
    "activation_relu": (lambda: keras.layers.Activation("relu", name="act"), Relu(),
                        [0, 0, 0.5, 1, 1.5, 3, 7]),
    "activation_relu6": (lambda: keras.layers.Activation("relu6", name="act"), Relu(cap=6.0),
                         [0, 0, 0.5, 1, 1.5, 3, 6]),
    # Closed at or below 1: 1.0 gives 0, 1.5 gives 1.5 (no shift by the threshold).
    "thresholded": (lambda: keras.layers.ReLU(threshold=1.0, name="act"), Relu(threshold=1.0),
                    [0, 0, 0, 0, 1.5, 3, 7]),
    "thresholded6": (lambda: keras.layers.ReLU(threshold=1.0, max_value=6.0, name="act"),
                     Relu(threshold=1.0, cap=6.0), [0, 0, 0, 0, 1.5, 3, 6]),
    "leaky": (lambda: keras.layers.LeakyReLU(negative_slope=0.25, name="act"),
              Relu(negative_slope=0.25), [-0.5, -0.125, 0.5, 1, 1.5, 3, 7]),
    "relu_leaky6": (lambda: keras.layers.ReLU(negative_slope=0.25, max_value=6.0, name="act"),
                    Relu(negative_slope=0.25, cap=6.0), [-0.5, -0.125, 0.5, 1, 1.5, 3, 6]),
    "activation_leaky": (lambda: keras.layers.Activation("leaky_relu", name="act"),
                         Relu(negative_slope=0.2), [-0.4, -0.1, 0.5, 1, 1.5, 3, 7]),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_of_relu_is_named_and_computes_what_keras_computes(kind):
    make, expected, values = KINDS[kind]
    base = one_layer(make())
    assert relu_of(base, "act") == expected
    assert relu_cap(base, "act") == expected.cap
    assert is_gating_relu(base, "act") is (expected.negative_slope == 0)
    got = base(X.reshape(1, 1, 7, 1))
    np.testing.assert_allclose(np.asarray(got).ravel(), values, rtol=1e-6)


@pytest.mark.parametrize("layer", [
    keras.layers.Activation("sigmoid", name="act"), keras.layers.Dense(1, name="act"),
    keras.layers.Conv2D(1, 1, activation="tanh", name="act"), keras.layers.Identity(name="act")])
def test_layers_that_are_not_relus(layer):
    base = one_layer(layer)
    assert relu_of(base, "act") is None and relu_cap(base, "act") is None
    assert not is_gating_relu(base, "act")


def test_built_in_activations_and_nested_paths():
    inputs = keras.Input((4, 4, 3))
    x = keras.layers.Conv2D(2, 1, activation="relu6", name="c6")(inputs)
    x = keras.layers.Conv2D(2, 1, activation="relu", name="c")(x)
    x = keras.layers.Conv2D(2, 1, activation=keras.layers.ReLU(max_value=4.0), name="cl")(x)
    backbone = keras.Model(inputs, x, name="backbone")
    outer_in = keras.Input((4, 4, 3))
    base = keras.Model(outer_in, backbone(outer_in), name="outer")
    assert relu_cap(base, "backbone/c6") == 6.0 and relu_cap(base, "c6") == 6.0
    assert relu_of(base, "c") == Relu() and is_gating_relu(base, "c")
    assert relu_of(base, "cl") == Relu(cap=4.0)
    assert relu_cap(base.get_layer("backbone").get_layer("c6")) == 6.0  # a layer alone
    assert pre_activation_key(base, "c6") == "backbone/c6:pre"


def test_pre_is_one_constant_and_split_pre_reads_it():
    assert PRE == ":pre" and objectives.PRE is activations.PRE
    assert split_pre("a/b:pre") == ("a/b", True) and split_pre("a/b") == ("a/b", False)
    assert split_pre(":pre") == ("", True)


def gradient_of_sum(kind, rows, redirect):
    """Values and d(-sum of the outputs)/dx of `kind` on `rows` (N, 7), through
    the feature model a dream trains with."""
    base = one_layer(KINDS[kind][0]())
    model = feature_model(base, ["act"], (1, 7, 1), redirect_relu=redirect)
    x = tf.constant(np.asarray(rows, "float32").reshape(-1, 1, 7, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = model(x)["act"]
        loss = -tf.reduce_sum(out)  # a dream pushes every unit up
    return out.numpy().reshape(-1, 7), tape.gradient(loss, x).numpy().reshape(-1, 7)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_redirection_keeps_every_kinds_values(kind):
    plain, _ = gradient_of_sum(kind, X[None], redirect=False)
    redirected, _ = gradient_of_sum(kind, X[None], redirect=True)
    np.testing.assert_array_equal(redirected, plain)
    np.testing.assert_allclose(plain[0], KINDS[kind][2], rtol=1e-6)


def test_a_thresholded_relu_gates_below_its_threshold_and_a_closed_row_is_redirected():
    # Row 0 is live (1.5 and 3 are above the threshold 1): the true gradient,
    # -1 where 1 < x < 6, 0 elsewhere. Row 1 is closed everywhere (<= 1 or
    # >= 6): redirected, -1 (pushing up) passes except at 7, already past the cap.
    rows = [X, [-2.0, -0.5, 0.5, 1.0, 0.0, 0.9, 7.0]]
    _, gradient = gradient_of_sum("thresholded6", rows, redirect=True)
    np.testing.assert_array_equal(gradient[0], [0, 0, 0, 0, -1, -1, 0])
    np.testing.assert_array_equal(gradient[1], [-1, -1, -1, -1, -1, -1, 0])
    _, plain = gradient_of_sum("thresholded6", rows, redirect=False)
    np.testing.assert_array_equal(plain[1], np.zeros(7))  # what redirection saves


@pytest.mark.parametrize("kind", ["leaky", "relu_leaky6", "activation_leaky"])
def test_a_leaky_relu_is_not_redirected_its_gradient_already_flows(kind):
    # d(-sum)/dx = -slope below 0, -1 above, 0 past a cap: the same with and without.
    slope = KINDS[kind][1].negative_slope
    top = 0.0 if KINDS[kind][1].cap else -1.0
    expected = [-slope, -slope, -1, -1, -1, -1, top]
    for redirect in (False, True):
        _, gradient = gradient_of_sum(kind, X[None], redirect)
        np.testing.assert_allclose(gradient[0], expected, rtol=1e-6)
