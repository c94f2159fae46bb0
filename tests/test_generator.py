"""DreamGenerator: one-hot row i -> kernel row i -> dream i, seeded per row key."""

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream.errors import DreamError
from kerasdream.generator import DreamGenerator, RowSeededNormal, one_hot, to_uint8
from kerasdream import objectives as terms

SHAPE = (2, 2, 3)
RAW = 2 * 2 * 3


def kernel_of(generator):
    return keras.ops.convert_to_numpy(generator.kernel)


def pixels(raw_rows):
    """The pixels parameterization by hand: 255 sigmoid(raw), reshaped."""
    return (255.0 / (1.0 + np.exp(-np.asarray(raw_rows, "float64")))).reshape(-1, *SHAPE)


def start(seed, key, stddev=0.01):
    """Row `key`'s starting kernel row by hand: numpy's generator seeded (seed, key)."""
    return stddev * np.random.default_rng([seed, key]).standard_normal(RAW)


@pytest.mark.backends
def test_kernel_row_i_is_dream_i():
    generator = DreamGenerator(3, SHAPE, "pixels")
    kernel = np.linspace(-3, 3, 3 * RAW, dtype="float32").reshape(3, RAW)
    generator.kernel.assign(kernel)
    np.testing.assert_allclose(generator.images(), pixels(kernel), rtol=1e-5, atol=1e-4)
    # Changing row 1 changes dream 1 only.
    kernel[1] = 0.0
    generator.kernel.assign(kernel)
    images = generator.images()
    np.testing.assert_allclose(images[1], np.full(SHAPE, 127.5), atol=1e-4)
    np.testing.assert_allclose(images[[0, 2]], pixels(kernel[[0, 2]]), rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(one_hot(3), np.eye(3))
    assert generator.compute_output_shape((3, 3)) == (3, *SHAPE)


@pytest.mark.backends
def test_each_row_starts_from_its_own_seed_and_key_whatever_the_others():
    generator = DreamGenerator(2, SHAPE, "pixels", seed=4, row_keys=[5, 2])
    np.testing.assert_allclose(kernel_of(generator), [start(4, 5), start(4, 2)], rtol=1e-6)
    alone = DreamGenerator(1, SHAPE, "pixels", seed=4, row_keys=[2])
    np.testing.assert_array_equal(kernel_of(alone)[0], kernel_of(generator)[1])
    np.testing.assert_allclose(kernel_of(DreamGenerator(2, SHAPE, "pixels", seed=4)),
                               [start(4, 0), start(4, 1)], rtol=1e-6)  # keys default 0..N-1
    assert not np.array_equal(kernel_of(DreamGenerator(1, SHAPE, "pixels", seed=5, row_keys=[2])),
                              kernel_of(alone))
    # The initializer on its own, and its config.
    initializer = RowSeededNormal(2.0, 4, [5])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(initializer((1, RAW))),
                               [start(4, 5, stddev=2.0)], rtol=1e-6)
    assert initializer.get_config() == {"stddev": 2.0, "seed": 4, "row_keys": [5]}
    with pytest.raises(DreamError, match=r"one key per dream \(2\).*Received: row_keys=\[1\]"):
        DreamGenerator(2, SHAPE, seed=4, row_keys=[1])


def test_restart_puts_the_fresh_start_of_other_keys_in_the_rows():
    generator = DreamGenerator(2, SHAPE, "pixels", seed=3)
    generator.kernel.assign(np.ones((2, RAW), "float32"))
    generator.restart([7, 0])
    assert generator.row_keys == [7, 0]
    np.testing.assert_allclose(kernel_of(generator), [start(3, 7), start(3, 0)], rtol=1e-6)
    np.testing.assert_array_equal(generator.initial_kernel([0]), kernel_of(generator)[1:])
    with pytest.raises(DreamError, match=r"Received: row_keys=\[1, 2, 3\]"):
        generator.restart([1, 2, 3])


@pytest.mark.backends
def test_select_keeps_the_rows_kernels_keys_targets_and_optimizer_state():
    objective = kd.Channel("conv2", [4, 2, 5])
    spec = {"objective": keras.saving.serialize_keras_object(objective), "base": "tiny"}
    generator = DreamGenerator(3, SHAPE, "pixels", seed=1, row_keys=[10, 11, 12], spec=spec)
    kernel = np.arange(3 * RAW, dtype="float32").reshape(3, RAW) / 10.0 - 1.0
    generator.kernel.assign(kernel)
    slots = np.arange(2 * 3 * RAW, dtype="float32").reshape(2, 3, RAW)

    part = generator.select([2, 0], training_state=(slots, 9))
    assert part.num_dreams == 2 and part.row_keys == [12, 10] and part.seed == 1
    np.testing.assert_array_equal(kernel_of(part), kernel[[2, 0]])
    np.testing.assert_allclose(part.images(), generator.images()[[2, 0]], rtol=1e-6)
    part_slots, steps = part.training_state()
    np.testing.assert_array_equal(part_slots, slots[:, [2, 0]])
    assert steps == 9
    selected = terms.get(part.spec["objective"])
    assert selected.get_config() == kd.Channel("conv2", [5, 4]).get_config()
    assert part.spec["base"] == "tiny"
    assert generator.select([1]).training_state() is None
    assert generator.spec["objective"] == spec["objective"]  # its own spec unchanged


def test_set_images_starts_every_row_from_the_picture():
    generator = DreamGenerator(2, SHAPE, "pixels")
    picture = np.arange(RAW, dtype="float32").reshape(1, *SHAPE) * 20.0 + 10.0
    generator.set_images(picture)
    np.testing.assert_allclose(generator.images(), np.repeat(picture, 2, axis=0), atol=1e-2)
    with pytest.raises(DreamError, match=r"shape \(2, 2, 3\).*Received: images of shape"):
        generator.set_images(np.zeros((1, 3, 3, 3)))


def test_render_rounds_and_clips_to_uint8():
    np.testing.assert_array_equal(to_uint8([-3.0, 0.4, 0.6, 254.5, 254.6, 300.0]),
                                  [0, 0, 1, 254, 255, 255])
    generator = DreamGenerator(1, SHAPE, "pixels")
    generator.kernel.assign(np.zeros((1, RAW), "float32"))  # 127.5 rounds to even: 128
    np.testing.assert_array_equal(generator.render(), np.full((1, *SHAPE), 128, "uint8"))


def test_a_generator_rebuilt_from_its_config_starts_from_the_same_images():
    generator = DreamGenerator(2, SHAPE, "fourier", seed=6, row_keys=[3, 1], state_slots=1)
    config = generator.get_config()
    assert config["row_keys"] == [3, 1] and config["state_slots"] == 1
    twin = DreamGenerator.from_config(config)
    np.testing.assert_array_equal(twin.images(), generator.images())
    slots, steps = twin.training_state()
    assert slots.shape == (1, 2, twin.parameterization.raw_size) and steps == 0
    assert not slots.any()
