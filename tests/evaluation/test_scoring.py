"""The quality yardstick on tiny models whose every expected value follows by hand.

The colour picker (`conftest.colour_picker`) is a 1x1 conv: channel 0 = red,
1 = green, 2 = blue, 3 = red - blue, so a channel's mean activation is the
mean of a colour and its natural-photo maximum is the reddest crop's red.
"""

import json

import keras
import numpy as np
import pytest

from kerasdream import evaluation as ev
from kerasdream.evaluation import means
from kerasdream.network.bases import load_base

from conftest import colour_picker


def solid(colour, size=8):
    return np.broadcast_to(np.asarray(colour, "uint8"), (size, size, 3)).copy()


def checkerboard(size=8, block=1):
    y, x = np.mgrid[:size, :size]
    board = (((y // block) + (x // block)) % 2 * 255).astype("uint8")
    return np.repeat(board[..., None], 3, axis=-1)


def capped_picker(size=8):
    """The colour picker followed by a ReLU6 *layer*, as in MobileNet."""
    picker = colour_picker(size)
    outputs = keras.layers.ReLU(max_value=6.0, name="pick_relu")(picker.output)
    return keras.Model(picker.input, outputs, name="capped_picker")


# ------------------------------------------------------------------ channel means


def test_channel_means_of_known_images_equal_hand_values():
    base = colour_picker()
    half = np.zeros((8, 8, 3), "uint8")
    half[:, :4, 0] = 200  # left half red 200: mean red 100
    images = np.stack([solid((10, 20, 30)), half])
    means = ev.channel_means(base, "pick", images, "none")
    np.testing.assert_allclose(means, [[10, 20, 30, -20], [100, 0, 0, 100]], atol=1e-4)


def test_small_batches_eagerly_and_large_ones_compiled_give_the_hand_values():
    """Batches under EAGER_PIXELS run eagerly, larger ones through the traced
    graph: both must give every image's own colour means."""
    base = colour_picker(64)
    colours = np.random.default_rng(0).integers(0, 256, (64, 3))
    images = np.stack([solid(colour, 64) for colour in colours])
    assert len(images) * 64 * 64 >= ev.EAGER_PIXELS > 2 * 64 * 64
    expected = np.column_stack([colours, colours[:, 0] - colours[:, 2]])
    np.testing.assert_allclose(ev.channel_means(base, "pick", images, "none"), expected,
                               atol=1e-3)
    np.testing.assert_allclose(ev.channel_means(base, "pick", images[:2], "none"),
                               expected[:2], atol=1e-3)


def test_preprocessing_is_applied_before_the_network():
    means = ev.channel_means(colour_picker(), "pick", solid((255, 0, 51))[None], "unit")
    np.testing.assert_allclose(means, [[1.0, 0.0, 0.2, 0.8]], atol=1e-5)


def test_pre_activation_of_a_relu6_layer_is_its_input():
    base = capped_picker()
    assert ev.relu_cap(base, "pick_relu") == 6.0
    assert ev.pre_activation_key(base, "pick_relu") == "pick_relu:pre"  # as training names it
    image = solid((10, 3, 0))[None]
    np.testing.assert_allclose(ev.channel_means(base, "pick_relu", image, "none"),
                               [[6, 3, 0, 6]], atol=1e-5)
    np.testing.assert_allclose(
        ev.channel_means(base, "pick_relu", image, "none", pre_activation=True),
        [[10, 3, 0, 10]], atol=1e-5)


def test_feature_extractor_is_built_once_per_base_layer_and_shape(monkeypatch):
    calls = []
    real = means.feature_model
    monkeypatch.setattr(means, "feature_model", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    base = colour_picker()
    for _ in range(3):
        ev.channel_means(base, "pick", solid((1, 2, 3))[None], "none")
    assert calls == [["pick"]]


# ------------------------------------------------------------------ rank


def test_rank_counts_only_channels_that_beat_the_target():
    assert ev.rank_of(np.array([3.0, 5.0, 1.0, 4.0]), 3) == 2
    assert ev.rank_of(np.array([3.0, 5.0, 1.0, 4.0]), 1) == 1
    assert ev.rank_of(np.array([3.0, 5.0, 1.0, 4.0]), 2) == 4


def test_a_tie_at_the_relu6_cap_is_rank_one():
    row = np.array([6.0, 6.0, 2.0, 6.0 + 5e-4])
    assert ev.rank_of(row, 0) == 1 and ev.rank_of(row, 3) == 1
    # On the network itself: red 10 drives red and red - blue to the cap.
    acts = ev.channel_means(capped_picker(), "pick_relu", solid((10, 3, 0))[None], "none")[0]
    assert ev.rank_of(acts, 0) == ev.rank_of(acts, 3) == 1
    assert ev.rank_of(acts, 1) == 3


# ------------------------------------------------------------------ batch measures


def test_pure_colours_are_column_selective_for_their_own_channel():
    base = colour_picker()
    images = np.stack([solid((255, 0, 0)), solid((0, 255, 0)), solid((0, 0, 255))])
    acts = ev.channel_means(base, "pick", images, "none")
    assert ev.column_selective(acts, [0, 1, 2]).tolist() == [True, True, True]
    # Swapped targets: the red dream drives green less than the green dream does.
    assert ev.column_selective(acts, [1, 0, 2]).tolist() == [False, False, True]


def test_relative_error_is_zero_for_the_photo_and_the_scale_gap_for_a_scaled_photo():
    base = colour_picker()
    photo = (np.random.default_rng(0).integers(1, 128, (8, 8, 3)) * 2).astype("uint8")
    images = np.stack([photo, photo // 2, np.zeros_like(photo)])
    # Linear features: Phi(x/2) = Phi0/2, so ||Phi0/2 - Phi0|| / ||Phi0|| = 1/2; zero image: 1.
    np.testing.assert_allclose(ev.relative_error(base, "pick", images, photo, "none"),
                               [0.0, 0.5, 1.0], atol=1e-6)


# ------------------------------------------------------------------ naturalness


def test_flat_colours_are_flat_whatever_their_hue():
    noisy = solid((120, 120, 120)).astype(int)
    noisy[::2] += 1  # alternate rows 120 / 121: std 0.5
    images = np.stack([solid((255, 0, 128)), noisy.astype("uint8"), checkerboard()])
    np.testing.assert_allclose(ev.pixel_std(images), [0.0, 0.5, 127.5])
    assert ev.is_flat(images).tolist() == [True, True, False]


def test_pixel_std_is_the_root_mean_channel_variance():
    image = solid((0, 50, 50))
    image[:4, :, 0] = 100  # red half 0, half 100: variance 2500; green, blue 0
    np.testing.assert_allclose(ev.pixel_std(image[None]), [np.sqrt(2500 / 3)])


def test_clipped_fraction_counts_values_at_0_or_255():
    image = solid((0, 128, 255))  # two of three values clipped
    image[0, 0, 1] = 255
    np.testing.assert_allclose(ev.clipped_fraction(image[None]), [(2 * 64 + 1) / 192])


def test_high_frequency_of_checkerboards_equals_the_hand_value():
    # 1-pixel squares: every neighbour differs by 255, so mean|dx| + mean|dy| = 510.
    # 2-pixel squares on 8 pixels: 3 of the 7 neighbour pairs per row differ.
    images = np.stack([checkerboard(8, 1), checkerboard(8, 2), solid((9, 9, 9))])
    np.testing.assert_allclose(ev.high_frequency(images), [510.0, 2 * 255 * 3 / 7, 0.0])


# ------------------------------------------------------------------ score_dreams


def default_named_model(path):
    """Two convs with Keras' own default names, saved and reloaded via .keras."""
    keras.utils.clear_session()
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(5, 1, activation="relu6")(x)
    model = keras.Model(inputs, x)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 1.0, w.shape).astype("float32")
                       for w in model.get_weights()])
    assert [layer.name for layer in model.layers[2:]] == ["conv2d", "conv2d_1"]
    model.save(path)
    return load_base(path)


def test_score_dreams_gives_json_records_on_a_reloaded_default_named_model(tmp_path):
    base = default_named_model(str(tmp_path / "default_names.keras"))
    assert ev.relu_cap(base, "conv2d_1") == 6.0 and ev.relu_cap(base, "conv2d") is None
    assert ev.pre_activation_key(base, "conv2d_1") == "conv2d_1:pre"
    images = np.random.default_rng(3).integers(0, 256, (3, 16, 16, 3)).astype("uint8")
    records = ev.score_dreams(base, "conv2d_1", images, [0, 1, 2], "none")
    assert json.loads(json.dumps(records)) == records
    np.testing.assert_allclose(ev.features(base, "conv2d_1", images, "none"),
                               np.clip(ev.features(base, "conv2d_1:pre", images, "none"), 0, 6),
                               atol=1e-5)
    acts = ev.channel_means(base, "conv2d_1", images, "none")
    pre = ev.channel_means(base, "conv2d_1", images, "none", pre_activation=True)
    for i, record in enumerate(records):
        assert record["activation"] == pytest.approx(acts[i, i], abs=1e-5)
        assert record["pre_activation"] == pytest.approx(pre[i, i], abs=1e-5)
        assert record["rank"] == ev.rank_of(acts[i], i)
        assert record["natural_ratio_from"] == "pre-activation"
        assert record["natural_ratio"] == record["pre_natural_ratio"]
        assert record["constant_channel"] is False
        assert {"robust_rank", "pre_robust_rank", "robust_natural_ratio", "flat",
                "clipped_fraction", "high_frequency", "column_selective"} <= set(record)
    plain = ev.score_dreams(base, "conv2d", images, [0, 1, 2], "none")
    assert "pre_activation" not in plain[0]
    assert plain[0]["natural_ratio_from"] == "post-activation"


def test_score_dreams_on_hand_made_dreams_of_the_colour_picker():
    base = colour_picker(16)
    images = np.stack([solid((255, 0, 0), 16), solid((0, 255, 0), 16), checkerboard(16)])
    records = ev.score_dreams(base, "pick", images, [0, 1, 3], "unit")
    red, green, board = records
    assert red["activation"] == pytest.approx(1.0) and red["rank"] == 1
    assert red["robust_rank"] == 1 and red["column_selective"] and red["flat"]
    assert green["activation"] == pytest.approx(1.0) and green["rank"] == 1
    # Grey checkerboard: red - blue is 0 everywhere, below red, green and blue (0.5).
    assert board["activation"] == pytest.approx(0.0, abs=1e-6) and board["rank"] == 4
    assert not board["column_selective"] and board["high_frequency"] == pytest.approx(510)
    maxima = ev.natural_maxima(base, "pick", "unit", 16)
    assert red["natural_ratio"] == pytest.approx(1.0 / maxima[0], rel=1e-5)
    assert red["clipped_fraction"] == pytest.approx(1.0)


# ------------------------------------------------------------------ one pass for both keys


def capped_cnn(size=16):
    """A 3x3 conv then ReLU6 (seeded weights; channel 3 has zero weights and bias, so
    it is constant)."""
    inputs = keras.Input((size, size, 3))
    conv = keras.layers.Conv2D(4, 3, padding="same", name="conv")
    outputs = keras.layers.ReLU(max_value=6.0, name="relu6")(conv(inputs))
    model = keras.Model(inputs, outputs, name="capped_cnn")
    rng = np.random.default_rng(4)
    kernel = rng.normal(0, 2.0, (3, 3, 3, 4)).astype("float32")
    bias = np.array([-1.0, 0.5, 0.0, 0.0], "float32")
    kernel[..., 0] = np.abs(kernel[..., 0])  # drives channel 0 past the cap
    kernel[..., 3] = 0.0
    conv.set_weights([kernel, bias])
    return model


def test_score_dreams_equals_the_per_key_numpy_reference_from_one_model(monkeypatch):
    calls = []
    real = means.feature_model
    monkeypatch.setattr(means, "feature_model", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    base = capped_cnn()
    images = np.random.default_rng(5).integers(0, 256, (3, 16, 16, 3)).astype("uint8")
    targets = [0, 1, 3]
    start = ev.layer_means(base, "relu6", images, "unit")  # the gallery's starting activations
    records = ev.score_dreams(base, "relu6", images, targets, "unit")
    assert ev.score_dreams(base, "relu6", images, targets, "unit") == records
    # Dreams, views and crops share the shape: one model reads the output and pre-activation.
    assert calls == [["relu6", "relu6:pre"]]
    assert [r["activation"] for r in records] == [float(start[i, k]) for i, k in
                                                  enumerate(targets)]

    crops = ev.natural_crops(16).astype("float32")
    views = ev.robust_views(images).reshape(-1, 16, 16, 3)

    def reference(key):  # features() to numpy, numpy means: the per-key path of before
        acts = ev.features(base, key, images, "unit").mean(axis=(1, 2))
        robust = ev.features(base, key, views, "unit").mean(axis=(1, 2))
        natural = ev.features(base, key, crops, "unit").mean(axis=(1, 2))
        return acts, robust.reshape(8, 3, -1).mean(axis=0), natural

    acts, robust, natural = reference("relu6")
    pre_acts, pre_robust, pre_natural = reference("conv")
    assert np.any(pre_acts > 6) and np.any(pre_acts < 0)  # the cap and the floor both act
    for i, (k, record) in enumerate(zip(targets, records)):
        for prefix, a, r, n in (("", acts, robust, natural),
                                ("pre_", pre_acts, pre_robust, pre_natural)):
            assert record[prefix + "activation"] == pytest.approx(a[i, k], rel=1e-5, abs=1e-5)
            assert record[prefix + "robust_activation"] == pytest.approx(r[i, k], rel=1e-5,
                                                                         abs=1e-5)
            assert record[prefix + "natural_max"] == pytest.approx(n[:, k].max(), rel=1e-5)
            assert record[prefix + "rank"] == ev.rank_of(a[i], k)
            assert record[prefix + "robust_rank"] == ev.rank_of(r[i], k)
        ratio = None if k == 3 else pytest.approx(pre_acts[i, k] / pre_natural[:, k].max(),
                                                  rel=1e-5)  # 3: the photos never drive it
        assert record["natural_ratio"] == ratio
        assert record["constant_channel"] is (k == 3)
    assert [r["column_selective"] for r in records] == \
        ev.column_selective(acts, targets).tolist()
