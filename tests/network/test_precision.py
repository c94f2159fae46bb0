"""Reduced-precision copies of the network; `auto`'s choice; the user's model untouched."""

import keras
import numpy as np
import pytest
from conftest import colour_picker, tiny_cnn

import kerasdream as kd
from kerasdream.network import precision
from kerasdream.errors import DreamError


def policies(model):
    return [layer.dtype_policy.name for layer in model._flatten_layers(include_self=False)
            if not isinstance(layer, (keras.layers.InputLayer, keras.Model))]


def test_multiply_adds_count_convolutions_at_the_dream_size():
    # colour_picker: a 1x1 conv, 3 -> 4 channels, on 8x8 pixels: 64 * 12.
    assert precision.multiply_adds(colour_picker(), (8, 8, 3)) == 64 * 3 * 4
    # tiny_cnn at 16 px: conv1 3x3x3->8 on 16x16, conv2 3x3x8->6 with stride 2 on 8x8.
    assert precision.multiply_adds(tiny_cnn(), (16, 16, 3)) == 256 * 216 + 64 * 432


def test_reduced_copy_computes_in_bfloat16_and_leaves_the_model_alone():
    inner = tiny_cnn(name="inner")
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.ReLU(name="top")(inner(inputs)))  # nested
    weights = [w.copy() for w in model.get_weights()]
    copy = precision.reduced_copy(model, "bfloat16")
    assert set(policies(copy)) == {"mixed_bfloat16"}
    assert set(policies(model)) == {"float32"}
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    images = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    exact = keras.ops.convert_to_numpy(model(images))
    reduced = copy(images)
    assert keras.backend.standardize_dtype(reduced.dtype) == "bfloat16"
    reduced = keras.ops.convert_to_numpy(keras.ops.cast(reduced, "float32"))
    # bfloat16 keeps 8 bits of mantissa: a few per cent over two convolutions.
    np.testing.assert_allclose(reduced, exact, atol=0.05 * np.abs(exact).max())


@pytest.mark.slow
def test_dream_trains_in_bfloat16_with_a_float32_kernel_and_objective():
    net = tiny_cnn()
    weights = [w.copy() for w in net.get_weights()]
    runs = {}
    for name in ("float32", "bfloat16"):
        model = kd.DreamModel(kd.Channel("relu2", [0, 1]), net, size=16, transforms="none",
                              parameterization="pixels", precision=name)
        assert model.precision == name
        model.compile()
        model.fit(4)
        assert keras.backend.standardize_dtype(model.generator.kernel.dtype) == "float32"
        values = model(kd.generator.one_hot(2))
        assert keras.backend.standardize_dtype(values.dtype) == "float32"
        runs[name] = keras.ops.convert_to_numpy(values)
    assert set(policies(net)) == {"float32"}
    for before, after in zip(weights, net.get_weights()):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_allclose(runs["bfloat16"], runs["float32"], rtol=0.05, atol=0.02)


def test_auto_keeps_small_networks_in_float32():
    features = tiny_cnn()
    assert precision.resolve("auto", features, (16, 16, 3)) == "float32"
    assert precision.resolve("float32", features, (16, 16, 3)) == "float32"
    assert precision.resolve("bfloat16", features, (16, 16, 3)) == "bfloat16"
    model = kd.DreamModel(kd.Channel("relu2", [0]), features, size=16)
    assert model.precision == "float32" and model.network is model.features


def test_unknown_precision_names_the_choices():
    with pytest.raises(DreamError, match=r"'bfloat16'.*Received: precision='half'"):
        kd.DreamModel(kd.Channel("relu2", [0]), tiny_cnn(), size=16, precision="half")
