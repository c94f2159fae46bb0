"""Circuits from the weights alone, against weights set by hand."""

import keras
import numpy as np
import pytest

from kerasdream.circuits import connection, layer_circuits
from kerasdream.errors import DreamError

from conftest import tiny_cnn


def _net():
    """relu_a (2 ch) -> 1x1 conv -> relu_b (3 ch) -> 3x3 conv -> BN -> relu_c (2 ch)
    -> depthwise 3x3 (multiplier 2) -> relu_d (4 ch)."""
    inputs = keras.Input((8, 8, 2))
    a = keras.layers.ReLU(name="relu_a")(inputs)
    x = keras.layers.Conv2D(3, 1, use_bias=False, name="pw")(a)
    b = keras.layers.ReLU(name="relu_b")(x)
    x = keras.layers.Conv2D(2, 3, padding="same", use_bias=False, name="conv")(b)
    x = keras.layers.BatchNormalization(epsilon=0.0, name="bn")(x)
    c = keras.layers.ReLU(name="relu_c")(x)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", use_bias=False,
                                     name="dw")(c)
    d = keras.layers.ReLU(name="relu_d")(x)
    model = keras.Model(inputs, d)

    pw = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -0.25]], "float32").reshape(1, 1, 2, 3)
    model.get_layer("pw").set_weights([pw])
    conv = np.zeros((3, 3, 3, 2), "float32")
    conv[0, 0, 0, 0], conv[2, 2, 0, 0] = 3.0, 4.0        # norm 5, sum > 0: +5
    conv[1, 1, 1, 0] = -2.0                               # -2
    conv[0, 1, 2, 1], conv[1, 0, 2, 1] = -6.0, 8.0        # norm 10, sum > 0: +10
    conv[2, 0, 0, 1] = -1.0                               # -1
    model.get_layer("conv").set_weights([conv])
    # BN scales gamma / sqrt(var): 2 / sqrt(4) = 1 and 3 / sqrt(1) = 3.
    model.get_layer("bn").set_weights([np.array([2.0, 3.0]), np.array([7.0, -7.0]),
                                       np.zeros(2), np.array([4.0, 1.0])])
    dw = np.zeros((3, 3, 2, 2), "float32")
    dw[1, 1, 0, 0] = 2.0                                  # ch 0 -> out 0: +2
    dw[0, 0, 0, 1], dw[1, 1, 0, 1] = -3.0, -4.0           # ch 0 -> out 1: -5
    dw[2, 1, 1, 0] = 0.5                                  # ch 1 -> out 2: +0.5
    dw[0, 2, 1, 1] = -1.5                                 # ch 1 -> out 3: -1.5
    model.get_layer("dw").set_weights([dw])
    return model


def test_one_by_one_convolution_is_the_kernel_entry():
    found = connection(_net(), "relu_b")
    assert (found.source, found.convolution, found.kind) == ("relu_a", "pw", "1x1")
    np.testing.assert_allclose(found.weights, [[1.0, -2.0, 0.5], [3.0, 0.0, -0.25]])


def test_larger_window_is_its_signed_norm_times_the_batchnorm_scale():
    found = connection(_net(), "relu_c")
    assert (found.source, found.kind) == ("relu_b", "window")
    # Column 0 times BN scale 1, column 1 times 3.
    np.testing.assert_allclose(found.weights, [[5.0, -3.0], [-2.0, 0.0], [0.0, 30.0]])


def test_depthwise_filters_have_one_input_each():
    found = connection(_net(), "relu_d")
    assert (found.source, found.kind) == ("relu_c", "depthwise")
    np.testing.assert_allclose(found.weights, [[2.0, -5.0, 0.0, 0.0],
                                               [0.0, 0.0, 0.5, -1.5]])


def test_strongest_inputs_and_outputs_by_absolute_weight():
    circuits = layer_circuits(_net(), top=2)
    assert list(circuits) == ["relu_a", "relu_b", "relu_c", "relu_d"]
    assert circuits["relu_a"][0]["inputs"] == []  # fed by the image
    # relu_a channel 1 feeds pw: 3.0, 0.0, -0.25 -> the top two, no zeros.
    assert circuits["relu_a"][1]["outputs"] == [
        {"layer": "relu_b", "filter": 0, "weight": 3.0},
        {"layer": "relu_b", "filter": 2, "weight": -0.25}]
    assert circuits["relu_c"][1]["inputs"] == [
        {"layer": "relu_b", "filter": 2, "weight": 30.0},
        {"layer": "relu_b", "filter": 0, "weight": -3.0}]
    assert circuits["relu_d"][1]["inputs"] == [{"layer": "relu_c", "filter": 0, "weight": -5.0}]
    assert circuits["relu_c"][0]["outputs"] == [
        {"layer": "relu_d", "filter": 1, "weight": -5.0},
        {"layer": "relu_d", "filter": 0, "weight": 2.0}]
    assert circuits["relu_d"][3]["outputs"] == []  # the last layer


def test_tiny_cnn_and_errors():
    model = tiny_cnn()
    found = connection(model, "relu2")
    kernel = model.get_layer("conv2").get_weights()[0]
    norm = np.sqrt((kernel ** 2).sum(axis=(0, 1)))
    np.testing.assert_allclose(np.abs(found.weights), norm, rtol=1e-6)
    assert connection(model, "relu1") is None  # conv1 reads the rescaled image
    with pytest.raises(DreamError, match="Received: layer_name='nope'"):
        connection(model, "nope")
    with pytest.raises(DreamError, match="Received: top=0"):
        layer_circuits(model, top=0)
