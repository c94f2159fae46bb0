"""Channel means: scoring reads a pre-activation under the key training uses,
and the memo kept per network never serves another network."""

import gc
import weakref

import keras
import numpy as np
import pytest

from kerasdream import evaluation as ev
from kerasdream.network.features import feature_model

KERNEL = np.array([[1.0, -1.0], [0.5, 2.0], [-2.0, 0.25]], "float32")  # 3 colours -> 2 channels
BIAS = np.array([-20.0, 5.0], "float32")


def conv(name, kernel=KERNEL, bias=BIAS):
    layer = keras.layers.Conv2D(2, 1, name=name)
    layer.build((None, None, None, 3))
    layer.set_weights([kernel.reshape(1, 1, 3, 2), bias])
    return layer


def conv_bn_relu():
    """Conv -> BatchNormalization (inference statistics set by hand) -> ReLU6."""
    inputs = keras.Input((4, 4, 3))
    bn = keras.layers.BatchNormalization(name="bn", epsilon=0.0)
    x = bn(conv("conv")(inputs))
    outputs = keras.layers.ReLU(max_value=6.0, name="relu")(x)
    # gamma, beta, moving mean, moving variance
    bn.set_weights([np.array([2.0, 0.5]), np.array([1.0, -1.0]), np.array([10.0, 0.0]),
                    np.array([4.0, 1.0])])
    return keras.Model(inputs, outputs, name="conv_bn_relu")


def conv_activation():
    inputs = keras.Input((4, 4, 3))
    outputs = keras.layers.Activation("relu", name="relu")(conv("conv")(inputs))
    return keras.Model(inputs, outputs, name="conv_activation")


def residual():
    """relu(conv_a(x) + conv_b(x)), conv_b's kernel half conv_a's and its bias 1."""
    inputs = keras.Input((4, 4, 3))
    added = keras.layers.Add(name="add")([conv("a")(inputs),
                                          conv("b", 0.5 * KERNEL, np.ones(2, "float32"))(inputs)])
    outputs = keras.layers.ReLU(name="relu")(added)
    return keras.Model(inputs, outputs, name="residual")


def pre_by_hand(name, colours):
    """The ReLU's input for solid `colours` (N, 3), by hand."""
    z = colours @ KERNEL + BIAS
    if name == "conv_bn_relu":
        return np.array([2.0, 0.5]) * (z - [10.0, 0.0]) / np.sqrt([4.0, 1.0]) + [1.0, -1.0]
    if name == "residual":
        return z + colours @ (0.5 * KERNEL) + 1.0
    return z


COLOURS = np.array([[10.0, 20.0, 30.0], [200.0, 0.0, 50.0]])


@pytest.mark.parametrize("make, parent", [(conv_bn_relu, "bn"), (conv_activation, "conv"),
                                          (residual, "add")])
def test_scoring_and_training_read_the_same_pre_activation_under_one_name(make, parent):
    base = make()
    images = np.broadcast_to(COLOURS[:, None, None, :], (2, 4, 4, 3)).astype("uint8")
    expected = pre_by_hand(base.name, COLOURS)
    assert ev.pre_activation_key(base, "relu") == "relu:pre"
    assert ev.scoring_keys(base, "relu") == ["relu", "relu:pre"]
    # Training: the objective's key through the dream's feature model.
    training = feature_model(base, ["relu:pre"], (4, 4, 3))(images.astype("float32"))
    np.testing.assert_allclose(np.asarray(training["relu:pre"]).mean(axis=(1, 2)), expected,
                               rtol=1e-5)
    # Scoring: channel means, the features path and score_dreams' pre_* values.
    scored = ev.channel_means(base, "relu", images, "none", pre_activation=True)
    np.testing.assert_allclose(scored, expected, rtol=1e-5)
    np.testing.assert_allclose(ev.features(base, "relu:pre", images, "none").mean(axis=(1, 2)),
                               expected, rtol=1e-5)
    records = ev.score_dreams(base, "relu", images, [0, 1], "none", pre_activation=True)
    assert [r["pre_activation"] for r in records] == pytest.approx(
        [expected[0, 0], expected[1, 1]], rel=1e-5)
    # The name scoring used before (the layer feeding the ReLU) is the same tensor.
    np.testing.assert_allclose(ev.channel_means(base, parent, images, "none"), expected,
                               rtol=1e-5)


def picker(gain):
    """A 1x1 conv reading `gain` x red into one channel."""
    inputs = keras.Input((4, 4, 3))
    layer = keras.layers.Conv2D(1, 1, name="pick")
    outputs = layer(inputs)
    layer.set_weights([np.array([gain, 0.0, 0.0], "float32").reshape(1, 1, 3, 1),
                       np.zeros(1, "float32")])
    return keras.Model(inputs, outputs, name="picker")


def test_a_freed_models_memo_does_not_serve_a_new_model():
    red = np.full((1, 4, 4, 3), (100, 0, 0), "uint8")
    first = picker(1.0)
    assert ev.channel_means(first, "pick", red, "none")[0, 0] == pytest.approx(100.0)
    assert ev.natural_maxima(first, "pick", "none", 4)[0] == pytest.approx(
        ev.natural_crops(4)[..., 0].mean(axis=(1, 2)).max(), rel=1e-5)
    gone = weakref.ref(first)
    del first
    gc.collect()
    second = picker(3.0)  # same names, same shapes, other weights: 3 x red
    assert ev.channel_means(second, "pick", red, "none")[0, 0] == pytest.approx(300.0)
    assert ev.natural_maxima(second, "pick", "none", 4)[0] == pytest.approx(
        3 * ev.natural_crops(4)[..., 0].mean(axis=(1, 2)).max(), rel=1e-5)
    records = ev.score_dreams(second, "pick", red, [0], "none")
    assert records[0]["activation"] == pytest.approx(300.0)
    assert gone() is None  # the memo does not keep a model alive


def test_the_memo_is_one_per_model_and_holds_what_was_built():
    base = picker(1.0)
    ev.channel_means(base, "pick", np.zeros((1, 4, 4, 3), "uint8"), "none")
    ev.natural_means(base, "pick", "none", 4)
    kinds = sorted({name[0] for name in ev.memo(base)})
    assert kinds == ["means", "natural"]
    assert ev.memo(picker(1.0)) == {}
