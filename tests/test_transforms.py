"""Random jitter, scale and rotation: training only, one draw per batch, seeded."""

import math

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream.transforms import Jitter, Rotate, Scale, _affine, paper_jitter


def images(shape=(2, 6, 5, 3), seed=0):
    # Distinct random values, so a shifted copy can only match one shift.
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


def apply(layer, x, **kwargs):
    return keras.ops.convert_to_numpy(layer(x, **kwargs))


def find_shift(out, x, s):
    """The (dy, dx) for which `out` is the reflect-padded `x` cropped at (dy, dx)."""
    height, width = x.shape[1:3]
    padded = np.pad(x, [(0, 0), (s, s), (s, s), (0, 0)], mode="reflect")
    found = [
        (dy, dx)
        for dy in range(2 * s + 1)
        for dx in range(2 * s + 1)
        if np.array_equal(out, padded[:, dy:dy + height, dx:dx + width])
    ]
    assert len(found) == 1, f"output is no single reflect-padded shift: {found}"
    return found[0]


@pytest.mark.parametrize("layer", [Jitter(3), Scale(0.3), Rotate(30.0)],
                         ids=lambda layer: type(layer).__name__)
def test_transforms_leave_images_unchanged_outside_training(layer):
    x = images()
    np.testing.assert_array_equal(apply(layer, x, training=False), x)
    np.testing.assert_array_equal(apply(layer, x), x)


def test_jitter_is_an_exact_reflect_padded_shift():
    x = images()
    layer = Jitter(2, seed=1)
    shifts = [find_shift(apply(layer, x, training=True), x, 2) for _ in range(12)]
    assert all(0 <= dy <= 4 and 0 <= dx <= 4 for dy, dx in shifts)
    assert len(set(shifts)) > 3  # it does move, and not always the same way
    # Some draws reach the border, where only a reflect pad matches.
    assert any(dy != 2 or dx != 2 for dy, dx in shifts)


def test_jitter_shifts_every_row_of_the_batch_alike():
    x = images((3, 6, 5, 3))
    layer = Jitter(2, seed=4)
    for _ in range(5):
        out = apply(layer, x, training=True)
        rows = {find_shift(out[i:i + 1], x[i:i + 1], 2) for i in range(3)}
        assert len(rows) == 1


def test_jitter_of_a_known_image_by_hand():
    # The 2x3 image [[10, 20, 30], [40, 50, 60]] reflect-padded by one pixel
    # (the edge row/column is not repeated) is the 4x5 array P below; a jitter
    # of 1 is one of its nine 2x3 crops.
    x = np.array([[10, 20, 30], [40, 50, 60]], "float32").reshape(1, 2, 3, 1)
    P = np.array([[50, 40, 50, 60, 50],
                  [20, 10, 20, 30, 20],
                  [50, 40, 50, 60, 50],
                  [20, 10, 20, 30, 20]], "float32")
    crops = {tuple(P[dy:dy + 2, dx:dx + 3].ravel()) for dy in range(3) for dx in range(3)}
    layer = Jitter(1, seed=0)
    seen = {tuple(apply(layer, x, training=True).ravel()) for _ in range(40)}
    assert seen <= crops
    assert len(seen) >= 6


def test_jitter_larger_than_the_image_is_a_dream_error():
    with pytest.raises(kd.DreamError, match=r"Jitter of 2 pixels.*\(4, 2, 3\)"):
        Jitter(2)(keras.Input((4, 2, 3)))
    with pytest.raises(kd.DreamError, match="Jitter of 3 pixels"):
        Jitter(3)(images((1, 3, 8, 3)), training=True)
    assert apply(Jitter(1), images((1, 2, 2, 3)), training=True).shape == (1, 2, 2, 3)


def test_same_seed_same_sequence_other_seed_other_sequence():
    x = images()

    def sequence(seed):
        layer = Jitter(2, seed=seed)
        return [find_shift(apply(layer, x, training=True), x, 2) for _ in range(8)]

    assert sequence(7) == sequence(7)
    assert sequence(7) != sequence(8)


def test_zero_jitter_is_identity():
    x = images()
    np.testing.assert_array_equal(apply(Jitter(0), x, training=True), x)


@pytest.mark.parametrize("layer", [Scale(max_change=0.0), Rotate(max_degrees=0.0)],
                         ids=lambda layer: type(layer).__name__)
def test_zero_scale_and_rotation_are_identity(layer):
    x = images()
    np.testing.assert_allclose(apply(layer, x, training=True), x, atol=1e-3)


@pytest.mark.parametrize("layer", [Scale(0.4, seed=2), Rotate(40.0, seed=2)],
                         ids=lambda layer: type(layer).__name__)
def test_scale_and_rotate_change_the_image_alike_for_every_row(layer):
    x = np.concatenate([images((1, 8, 8, 3))] * 3)
    out = apply(layer, x, training=True)
    assert out.shape == x.shape
    assert np.abs(out - x).max() > 1.0
    np.testing.assert_array_equal(out[1], out[0])
    np.testing.assert_array_equal(out[2], out[0])


def test_affine_quarter_turn_is_a_rot90_and_zoom_one_is_identity():
    x = images((1, 5, 5, 3))
    turned = keras.ops.convert_to_numpy(_affine(x, keras.ops.convert_to_tensor(math.pi / 2),
                                                keras.ops.convert_to_tensor(1.0)))
    quarter_turns = [np.rot90(x, k, axes=(1, 2)) for k in (1, 3)]
    assert any(np.allclose(turned, r, atol=1e-3) for r in quarter_turns)
    same = keras.ops.convert_to_numpy(_affine(x, keras.ops.convert_to_tensor(0.0),
                                              keras.ops.convert_to_tensor(1.0)))
    np.testing.assert_allclose(same, x, atol=1e-3)


def test_affine_zoom_keeps_the_centre_pixel():
    # Zooming about the centre of a 5x5 image leaves pixel (2, 2) where it is.
    x = images((1, 5, 5, 3))
    zoomed = keras.ops.convert_to_numpy(_affine(x, keras.ops.convert_to_tensor(0.0),
                                                keras.ops.convert_to_tensor(2.0)))
    np.testing.assert_allclose(zoomed[0, 2, 2], x[0, 2, 2], atol=1e-3)
    assert np.abs(zoomed - x).max() > 1.0


@pytest.mark.parametrize("layer", [Jitter(3, seed=9), Scale(0.2, seed=9), Rotate(12.0, seed=9)],
                         ids=lambda layer: type(layer).__name__)
def test_config_round_trip_gives_the_same_layer_and_draws(layer):
    config = layer.get_config()
    copy = type(layer).from_config(config)
    assert copy.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer) and restored.get_config() == config
    fresh = type(layer).from_config(config)  # a fresh copy starts the same sequence
    x = images()
    np.testing.assert_array_equal(apply(copy, x, training=True), apply(fresh, x, training=True))


def test_bad_transform_settings_raise_dream_errors():
    with pytest.raises(kd.DreamError, match="max_shift=-1"):
        Jitter(-1)
    with pytest.raises(kd.DreamError, match=r"\[0, 1\).*max_change=1\.0"):
        Scale(1.0)


def test_paper_jitter_is_a_quarter_of_the_stride_at_least_one():
    assert [paper_jitter(s) for s in (1, 2, 4, 8, 16, 32)] == [1, 1, 1, 2, 4, 8]


# ------------------------------------------------- seeds inside a dream model


def shifts(layer, draws=30):
    """The (dy, dx) a Jitter layer draws, step after step."""
    return [tuple(keras.ops.convert_to_numpy(
        keras.random.randint((2,), 0, 2 * layer.max_shift + 1, seed=layer.seed_generator)))
        for _ in range(draws)]


def test_transforms_default_to_no_seed_like_keras_random_layers():
    assert Jitter(2).seed is None and Scale().seed is None and Rotate().seed is None


def test_a_dream_model_gives_each_unseeded_transform_its_own_derived_seed(tiny_cnn_path):
    import kerasdream as kd
    from kerasdream.transforms import derived_seed

    user_layers = [Jitter(2), Jitter(2), Scale(0.1), Jitter(2, seed=5)]
    model = kd.DreamModel(kd.Channel("relu2", 0), tiny_cnn_path, size=16, seed=3,
                          transforms=user_layers)
    seeds = [t.seed for t in model.transforms]
    assert seeds == [derived_seed(3, 0), derived_seed(3, 1), derived_seed(3, 2), 5]
    assert len(set(seeds)) == 4
    assert [t.seed for t in user_layers] == [None, None, None, 5]  # the user's layers untouched
    # Two identical jitters draw independent shifts, not the same ones twice.
    first, second = shifts(model.transforms[0]), shifts(model.transforms[1])
    assert first != second
    agree = sum(a == b for a, b in zip(first, second))
    assert agree < 10  # 25 possible shifts: chance agreement is about 1 in 25
    # Another model with the same run seed draws the same again: reproducible.
    again = kd.DreamModel(kd.Channel("relu2", 0), tiny_cnn_path, size=16, seed=3,
                          transforms=[Jitter(2), Jitter(2)])
    assert shifts(again.transforms[0]) == first


def test_pad_grows_the_image_with_grey_only_while_training():
    from kerasdream.transforms import Pad

    layer = Pad(2, value=127.5)
    x = images((1, 4, 4, 3))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), x)
    padded = keras.ops.convert_to_numpy(layer(x, training=True))
    assert padded.shape == (1, 8, 8, 3)
    np.testing.assert_array_equal(padded[:, 2:6, 2:6], x)
    assert np.all(padded[:, :2] == 127.5) and np.all(padded[:, :, -2:] == 127.5)
    assert layer.compute_output_shape((None, 4, 4, 3)) == (None, 8, 8, 3)


@pytest.mark.slow
def test_scale_and_rotate_compile_under_xla():
    """The warp is gathers and arithmetic, so a dream with every geometric
    transform compiles (on a GPU, jit_compile="auto" picks XLA) and trains.
    (TensorFlow's stateless random ops may pick another generator under XLA,
    so the draws, and with them the images, are not those of the plain graph.)"""
    from conftest import colour_picker

    model = kd.DreamModel(kd.Channel("pick", [0, 1]), colour_picker(8), size=8, seed=1,
                          transforms=[Jitter(1), Scale(0.2), Rotate(10.0)],
                          parameterization="pixels")
    start = model.images()
    model.compile(jit_compile=True)
    assert model.jit_compile is True
    model.fit(2)
    trained = model.images()
    assert np.isfinite(trained).all() and np.abs(trained - start).max() > 0.1


# ------------------------------------------------------------------ the warp


def bilinear_matrix(matrix, height, width):
    """The (H*W, H*W) matrix of `warp` built by hand: output pixel (x, y) takes
    the 4 pixels around matrix @ (x, y, 1), its coordinates reflected into
    [0, n - 1] about the edge pixels (-1 -> 1, n -> n - 2)."""
    def fold(c, n):
        period = 2 * (n - 1)
        c = c % period
        return period - c if c > n - 1 else c

    dense = np.zeros((height * width, height * width))
    for y in range(height):
        for x in range(width):
            sx, sy, _ = np.asarray(matrix, "float64") @ [x, y, 1]
            sx, sy = fold(sx, width), fold(sy, height)
            x0, y0 = int(np.floor(sx)), int(np.floor(sy))
            fx, fy = sx - x0, sy - y0
            for xi, yi, weight in [(x0, y0, (1 - fx) * (1 - fy)), (x0 + 1, y0, fx * (1 - fy)),
                                   (x0, y0 + 1, (1 - fx) * fy), (x0 + 1, y0 + 1, fx * fy)]:
                dense[y * width + x, min(yi, height - 1) * width + min(xi, width - 1)] += weight
    return dense


def test_warp_is_the_hand_built_bilinear_map_and_its_gradient_the_exact_adjoint():
    from kerasdream.transforms import similarity_matrix, warp

    height, width = 5, 6
    matrix = keras.ops.convert_to_numpy(similarity_matrix(
        keras.ops.convert_to_tensor(0.3), keras.ops.convert_to_tensor(1.2), height, width))
    matrix[:2, 2] += [0.7, -1.4]
    dense = bilinear_matrix(matrix, height, width)
    x = images((2, height, width, 3))
    out = keras.ops.convert_to_numpy(warp(x, matrix))
    expected = np.einsum("pq,nqc->npc", dense, x.reshape(2, height * width, 3))
    np.testing.assert_allclose(out.reshape(expected.shape), expected, rtol=1e-4, atol=1e-3)

    import tensorflow as tf

    cotangent = images((2, height, width, 3), seed=1)
    x_tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_tensor)
        total = tf.reduce_sum(warp(x_tensor, matrix) * cotangent)
    gradient = tape.gradient(total, x_tensor).numpy()
    adjoint = np.einsum("pq,npc->nqc", dense, cotangent.reshape(2, height * width, 3))
    np.testing.assert_allclose(gradient.reshape(adjoint.shape), adjoint, rtol=1e-4, atol=1e-3)


def test_warp_by_a_half_pixel_averages_neighbours_and_an_integer_shift_is_jitter():
    from kerasdream.transforms import warp

    x = images((1, 4, 5, 3))
    half = np.array([[1, 0, 0.5], [0, 1, 0], [0, 0, 1]], "float32")
    out = keras.ops.convert_to_numpy(warp(x, half))
    np.testing.assert_allclose(out[:, :, :4], (x[:, :, :4] + x[:, :, 1:]) / 2, rtol=1e-6)
    np.testing.assert_allclose(out[:, :, 4], (x[:, :, 4] + x[:, :, 3]) / 2, rtol=1e-6)  # reflected
    padded = np.pad(x, [(0, 0), (2, 2), (2, 2), (0, 0)], mode="reflect")
    for dy, dx in [(0, 0), (4, 1), (1, 3), (2, 2)]:
        shift = np.array([[1, 0, dx - 2], [0, 1, dy - 2], [0, 0, 1]], "float32")
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(warp(x, shift)),
                                      padded[:, dy:dy + 4, dx:dx + 5])


def test_apply_transforms_resamples_a_geometric_run_once_with_the_same_draws():
    from kerasdream.transforms import Pad, apply_transforms, warp

    x = images((2, 12, 12, 3))
    def fresh():
        return [Jitter(2, seed=1), Scale(0.2, seed=2), Rotate(15.0, seed=3), Jitter(1, seed=4)]
    # The fused pass is the product of the matrices each layer draws alone.
    alone = fresh()
    matrix = np.eye(3, dtype="float32")
    for layer in alone:
        matrix = matrix @ keras.ops.convert_to_numpy(layer.sampling_matrix(12, 12))
    fused = keras.ops.convert_to_numpy(apply_transforms(fresh(), x, training=True))
    np.testing.assert_allclose(fused, keras.ops.convert_to_numpy(warp(x, matrix)), atol=1e-3)
    # ... which is the layer-by-layer result away from the borders.
    layers, step = fresh(), x
    for layer in layers:
        step = keras.ops.convert_to_numpy(layer(step, training=True))
    assert np.abs(fused - step)[:, 4:8, 4:8].max() < 0.35 * np.abs(x).max()
    assert np.abs(fused - step).mean() < np.abs(x - step).mean()
    # Jitters alone keep their exact pad-and-slice; a Pad splits the runs.
    jitters = [Jitter(2, seed=5), Jitter(1, seed=6)]
    expected = x
    for layer in [Jitter(2, seed=5), Jitter(1, seed=6)]:
        expected = keras.ops.convert_to_numpy(layer(expected, training=True))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(apply_transforms(jitters, x, training=True)), expected)
    padded = apply_transforms([Pad(3), Rotate(5.0, seed=1)], x, training=True)
    assert padded.shape == (2, 18, 18, 3)
    np.testing.assert_array_equal(apply_transforms(fresh(), x, training=False), x)
