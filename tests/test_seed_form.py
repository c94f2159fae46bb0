"""The seed's own form (Dense + activity regularizer + plain `fit`) trains DreamModel's images."""

import keras
import numpy as np
import pytest
from conftest import tiny_cnn

import kerasdream as kd
from kerasdream.generator import one_hot
from kerasdream.seed_form import FilterRegularizer, seed_dream_model


def _fit_both(base, layer, filters, size, steps, learning_rate, seed=3):
    """(start images, seed form's images, DreamModel's images) after `steps` of SGD."""
    rows = one_hot(1 if isinstance(filters, int) else len(filters))
    seed_model = seed_dream_model(base, layer, filters, size, seed=seed)
    start = seed_model.predict(rows, verbose=0)["image"]
    seed_model.compile(keras.optimizers.SGD(learning_rate))
    seed_model.fit(np.tile(rows, (steps, 1)), batch_size=len(rows), shuffle=False, verbose=0)
    dream = kd.DreamModel(kd.Channel(layer, filters), base, size=size, parameterization="pixels",
                          transforms=None, redirect_relu=False, precision="float32", seed=seed)
    np.testing.assert_array_equal(dream.images(), start)   # the same starting noise
    dream.compile(keras.optimizers.SGD(learning_rate))
    dream.fit(steps)
    return start, seed_model.predict(rows, verbose=0)["image"], dream.images()


@pytest.mark.parametrize("filters", [3, [0, 3, 5]], ids=["one_dream", "three_dreams"])
def test_seed_form_trains_the_images_dream_model_trains(filters):
    start, seed_images, dream_images = _fit_both(tiny_cnn(), "relu2", filters, 16, 10, 100.0)
    assert np.abs(seed_images - start).max() > 20   # the images did move
    np.testing.assert_allclose(seed_images, dream_images, atol=1e-3)


@pytest.mark.slow
def test_seed_form_equals_dream_model_on_the_shipped_mobilenet():
    base = kd.load_base()
    start, seed_images, dream_images = _fit_both(base, "conv_pw_3_relu", [2, 7, 11], 32, 4, 2000.0)
    assert np.abs(seed_images - start).max() > 5
    np.testing.assert_allclose(seed_images, dream_images, atol=1e-2)


def test_regularizer_is_minus_the_channel_means_times_the_batch_size():
    x = np.zeros((2, 2, 2, 3), "float32")
    x[0, ..., 0] = [[1, 2], [3, 6]]          # dream 0, channel 0: mean 3
    x[1, ..., 2] = [[4, 0], [0, 0]]          # dream 1, channel 2: mean 1
    x[1, ..., 0] = 100.0                     # another channel: not read
    value = float(FilterRegularizer([0, 2])(x))
    assert value == -(3 + 1) * 2
    # The loss Keras adds on a layer's output is the plain sum over dreams.
    layer = keras.layers.Identity(activity_regularizer=FilterRegularizer([0, 2]))
    layer(x)
    assert float(layer.losses[0]) == -(3 + 1)
    assert float(FilterRegularizer(0)(x[:1])) == -3
    config = keras.saving.serialize_keras_object(FilterRegularizer([0, 2]))
    assert keras.saving.deserialize_keras_object(config).filters == [0, 2]


def test_the_users_model_keeps_its_weights_and_flags():
    base = tiny_cnn()
    base.get_layer("conv1").trainable = False     # a flag of the user's own, kept as it is
    weights = [w.copy() for w in base.get_weights()]
    flags = [(layer.trainable, [v.trainable for v in layer.weights]) for layer in base.layers]
    model = seed_dream_model(base, "relu1", 2, 8)
    assert [v.path for v in model.trainable_variables] == ["dream_kernel/kernel"]
    model.compile(keras.optimizers.SGD(10.0))
    model.fit(np.tile(one_hot(1), (3, 1)), batch_size=1, verbose=0)
    assert flags == [(layer.trainable, [v.trainable for v in layer.weights])
                     for layer in base.layers]
    for before, after in zip(weights, base.get_weights()):
        np.testing.assert_array_equal(before, after)
