"""Direction and NeuronDirection: dot products with a direction in channel space."""

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream.objectives.directions import Direction, NeuronDirection, mean_direction
from kerasdream.errors import DreamError

from conftest import colour_picker, tiny_cnn


def _features(seed=0, shape=(2, 3, 3, 4)):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _value(term, x):
    return keras.ops.convert_to_numpy(term(keras.ops.convert_to_tensor(x)))


def test_a_one_hot_direction_is_the_channel_objective():
    x = _features()
    for k in range(4):
        one_hot = np.eye(4)[k]
        np.testing.assert_allclose(_value(Direction("l", one_hot), x),
                                   _value(kd.Channel("l", k), x), rtol=1e-6)
        np.testing.assert_allclose(_value(NeuronDirection("l", one_hot), x),
                                   _value(kd.Neuron("l", k), x), rtol=1e-6)


def test_direction_values_by_hand():
    # One position per image: x = (3, 4) and (0, 2) against v = (1, 1).
    x = np.array([[[[3.0, 4.0]]], [[[0.0, 2.0]]]], "float32")
    v = [1.0, 1.0]
    np.testing.assert_allclose(_value(Direction("l", v), x), [7.0, 2.0], rtol=1e-6)
    # cos = 7 / (5 sqrt 2) and 2 / (2 sqrt 2); value = dot * cos^2.
    np.testing.assert_allclose(_value(Direction("l", v, cossim_pow=2), x),
                               [7.0 * 49 / 50, 2.0 * 0.5], rtol=1e-3)
    # Opposite to v: cos is floored at 0.1, so the gradient still points back.
    np.testing.assert_allclose(_value(Direction("l", v, cossim_pow=1), -x),
                               [-0.7, -0.2], rtol=1e-3)


def test_neuron_direction_reads_one_cell():
    x = _features(shape=(1, 3, 5, 4))
    v = np.array([0.5, -1.0, 2.0, 0.0], "float32")
    np.testing.assert_allclose(_value(NeuronDirection("l", v), x), x[:, 1, 2] @ v, rtol=1e-5)
    np.testing.assert_allclose(_value(NeuronDirection("l", v, x=4, y=0), x), x[:, 0, 4] @ v,
                               rtol=1e-5)


def test_a_vector_per_dream_equals_each_dream_alone():
    x = _features(shape=(3, 2, 2, 4))
    vectors = np.random.default_rng(1).normal(size=(3, 4))
    for cls in (Direction, NeuronDirection):
        together = _value(cls("l", vectors, cossim_pow=2), x)
        alone = [_value(cls("l", vectors[i], cossim_pow=2), x[i:i + 1])[0] for i in range(3)]
        np.testing.assert_allclose(together, alone, rtol=1e-5)
        part = cls("l", vectors).select([2, 0])
        np.testing.assert_allclose(part.vectors, vectors[[2, 0]], rtol=1e-6)


def test_directions_round_trip_through_their_config():
    for term in (Direction("conv", [0.5, -1.0], cossim_pow=2),
                 Direction("conv", [[1.0, 0.0], [0.0, 1.0]]),
                 NeuronDirection("conv", [1.0, 2.0], x=1, y=0, cossim_pow=1)):
        again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(term))
        assert type(again) is type(term) and again.get_config() == term.get_config()
        objective = kd.objectives.get(keras.saving.serialize_keras_object(2.0 * term))
        assert objective.signature() == (2.0 * term).signature()
    # The vector is a target: other directions share a traced model.
    assert Direction("c", [1.0, 0.0]).signature() == Direction("c", [0.0, 1.0]).signature()


def test_bad_directions_are_clear_errors():
    with pytest.raises(DreamError, match="Received: vector="):
        Direction("l", [1.0, float("nan")])
    with pytest.raises(DreamError, match="Received: cossim_pow=-1"):
        Direction("l", [1.0], cossim_pow=-1)
    with pytest.raises(DreamError, match="layer 'pick' has 4. Received: vector of length 3"):
        kd.DreamModel(Direction("pick", [1.0, 0.0, 0.0]), colour_picker(), size=8)
    with pytest.raises(DreamError, match="Received: x=9, y=4"):
        kd.DreamModel(NeuronDirection("pick", np.eye(4)[0], x=9), colour_picker(), size=8)


def test_mean_direction_is_the_photos_mean_activation():
    # Colour picker: channel means of a constant (r, g, b) photo are r, g, b, r - b.
    photo = np.zeros((8, 8, 3), "float32") + [200.0, 50.0, 10.0]
    np.testing.assert_allclose(mean_direction(colour_picker(), "pick", photo),
                               [200.0, 50.0, 10.0, 190.0], rtol=1e-6)


@pytest.mark.slow
def test_batched_direction_dreams_equal_single_ones():
    base = tiny_cnn(16)
    vectors = np.random.default_rng(2).normal(size=(2, 6))

    def run(rows, keys):
        model = kd.DreamModel(Direction("relu2", vectors[rows], cossim_pow=1), base, size=16,
                              row_keys=keys)
        model.compile()
        model.fit(4)
        return model.images()

    np.testing.assert_allclose(run([0, 1], [0, 1])[1], run([1], [1])[0], atol=1e-3)
