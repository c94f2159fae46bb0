"""network_identity and array_identity: a network named by what decides its pictures."""

import keras
import numpy as np
import pytest

from kerasdream.network.identity import array_identity, network_identity


def tiny(seed=0, filters=2, activation="relu"):
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(filters, 3, activation=activation)(inputs)
    model = keras.Model(inputs, x)
    kernel = np.random.default_rng(seed).normal(size=(3, 3, 3, filters)).astype("float32")
    model.layers[1].set_weights([kernel, np.zeros(filters, "float32")])
    return model


def test_same_architecture_and_weights_is_one_network_whatever_the_names():
    a, b = tiny(), tiny()
    assert a.name != b.name and a.layers[1].name != b.layers[1].name  # auto names differ
    assert network_identity(a, "none") == network_identity(b, "none")


def test_weights_architecture_and_preprocessing_each_change_it():
    base = network_identity(tiny(), "none")
    assert network_identity(tiny(seed=1), "none") != base
    assert network_identity(tiny(activation="relu6"), "none") != base
    assert network_identity(tiny(), "caffe") != base
    assert len(base) == 64 and int(base, 16) >= 0


def test_none_is_the_models_own_preprocessing():
    model = tiny()
    assert network_identity(model, None) == network_identity(model, "none")
    with pytest.raises(Exception, match="preprocess='bogus'"):
        network_identity(model, "bogus")


def test_cached_per_object_and_cache_false_sees_an_in_place_change():
    model = tiny()
    first = network_identity(model, "none")
    kernel, bias = model.layers[1].get_weights()
    model.layers[1].set_weights([kernel + 1, bias])
    assert network_identity(model, "none") == first  # cached: kerasdream's bases never change
    assert network_identity(model, "none", cache=False) != first
    assert model.layers[1].trainable  # nothing of the model changed by hashing


def test_trainable_flags_do_not_change_it():
    model = tiny()
    first = network_identity(model, "none", cache=False)
    model.layers[1].trainable = False
    assert network_identity(model, "none", cache=False) == first


def test_array_identity_is_content_dtype_and_shape():
    x = np.arange(6, dtype="float32")
    assert array_identity(x) == array_identity(x.copy())
    assert array_identity(x) != array_identity(x.reshape(2, 3))
    assert array_identity(x) != array_identity(x.astype("float64"))
    y = x.copy()
    y[3] += 1e-3
    assert array_identity(x) != array_identity(y)
    assert array_identity(keras.ops.convert_to_tensor(x)) == array_identity(x)
