"""Layer facts: total strides, the layers worth dreaming, the default three."""

import keras
import pytest

from kerasdream.errors import DreamError
from kerasdream.network.layers import atlas_layers, default_layers, layer_stride

from conftest import tiny_cnn


def depthwise_net():
    """conv_a (built-in ReLU) -> depthwise -> BN -> dw_relu -> 1x1 conv -> pw_relu."""
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="conv_a")(inputs)
    x = keras.layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
    x = keras.layers.BatchNormalization(name="dw_bn")(x)
    x = keras.layers.ReLU(name="dw_relu")(x)
    x = keras.layers.Conv2D(5, 1, strides=2, name="pw")(x)
    return keras.Model(inputs, keras.layers.ReLU(name="pw_relu")(x))


def test_strides_multiply_down_the_network():
    base = tiny_cnn()  # conv1 stride 1, conv2 stride 2
    assert layer_stride(base, "relu1") == 1
    assert layer_stride(base, "relu2") == 2
    assert layer_stride(base, "relu2:pre") == 2
    assert layer_stride(depthwise_net(), "pw_relu") == 4


def test_atlas_layers_are_the_activations_in_order():
    assert atlas_layers(tiny_cnn()) == ["relu1", "relu2"]
    assert atlas_layers(depthwise_net()) == ["conv_a", "dw_relu", "pw_relu"]


def test_a_network_without_activations_offers_every_4d_layer():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(2, 1, name="c1")(inputs)
    model = keras.Model(inputs, keras.layers.Conv2D(2, 1, name="c2")(x))
    assert atlas_layers(model) == ["c1", "c2"]


def test_default_layers_skip_the_activation_of_a_depthwise_conv():
    # Candidates conv_a, pw_relu: picks at 20 %, 55 %, 90 % of 2 -> 0, 1, 1.
    assert default_layers(depthwise_net()) == ["conv_a", "pw_relu"]


def test_no_4d_layer_is_named():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2, name="d")(inputs), name="flat")
    with pytest.raises(DreamError, match="flat has no layer"):
        atlas_layers(model)


def test_prelu_and_leaky_layers_are_activations_as_relu_layers_are():
    """mtcnn's shape: conv -> PReLU -> pool, a LeakyReLU too; the atlas offers
    the activations, not the convolutions and pools between them."""
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, name="conv1")(inputs)
    x = keras.layers.PReLU(shared_axes=[1, 2], name="prelu1")(x)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(4, 3, name="conv2")(x)
    x = keras.layers.LeakyReLU(name="leaky2")(x)
    model = keras.Model(inputs, x)
    assert atlas_layers(model) == ["prelu1", "leaky2"]
@pytest.mark.slow
def test_path_layers_spread_below_the_target_and_skip_depthwise_activations():
    """MobileNet's activations before conv_pw_7_relu, depthwise ones left out:
    conv1_relu, conv_pw_1_relu ... conv_pw_6_relu (7); three at 2/7, 5/7, 7/7."""
    from kerasdream.network.bases import load_base
    from kerasdream.network.layers import path_layers

    base = load_base(None)
    assert path_layers(base, "conv_pw_7_relu") == ("conv_pw_1_relu", "conv_pw_4_relu",
                                                   "conv_pw_6_relu")
    assert path_layers(base, "conv_pw_7_relu:pre") == path_layers(base, "conv_pw_7_relu")
    assert path_layers(base, "conv_pw_1_relu") == ("conv1_relu",)
    assert path_layers(base, "conv1_relu") == ()
