"""Objectives on tiny hand-made tensors: every expected number follows by hand."""

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream import objectives
from kerasdream.objectives.base import IMAGE

from conftest import colour_picker

# Two dreams, 2x2 positions, 3 channels. Position (y, x) of dream n is X[n, y, x].
X = np.array(
    [
        [[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]],
        [[[0, -1, 2], [2, 1, 0]], [[6, 3, -2], [-4, 9, 16]]],
    ],
    dtype="float32",
)
# Per-channel means over the four positions, by hand:
#   dream 0: (1+4+7+10)/4 = 5.5, (2+5+8+11)/4 = 6.5, (3+6+9+12)/4 = 7.5
#   dream 1: (0+2+6-4)/4 = 1.0, (-1+1+3+9)/4 = 3.0, (2+0-2+16)/4 = 4.0


def value(objective, x=X, key="x", targets=None):
    return keras.ops.convert_to_numpy(objective.value({key: x}, targets))


# ------------------------------------------------------------------ terms


def test_channel_per_dream_targets_take_one_channel_mean_per_row():
    # dream 0 -> channel 0 (5.5), dream 1 -> channel 2 (4.0)
    np.testing.assert_allclose(value(kd.Channel("x", [0, 2])), [5.5, 4.0])
    np.testing.assert_allclose(value(kd.Channel("x", [2, 1])), [7.5, 3.0])


def test_channel_shared_target_is_used_by_every_row():
    np.testing.assert_allclose(value(kd.Channel("x", 1)), [6.5, 3.0])


def test_neuron_defaults_to_the_centre_cell():
    # A 2x2 map's centre is (y, x) = (2 // 2, 2 // 2) = (1, 1):
    # dream 0 sees [10, 11, 12], dream 1 sees [-4, 9, 16].
    np.testing.assert_allclose(value(kd.Neuron("x", [0, 2])), [10.0, 16.0])
    np.testing.assert_allclose(value(kd.Neuron("x", 1)), [11.0, 9.0])


def test_neuron_x_is_the_column_and_y_the_row():
    # (y=1, x=0): dream 0 [7, 8, 9], dream 1 [6, 3, -2]; channel 1 -> 8, 3
    np.testing.assert_allclose(value(kd.Neuron("x", 1, x=0, y=1)), [8.0, 3.0])
    # (y=0, x=1): dream 0 [4, 5, 6], dream 1 [2, 1, 0]; channel 1 -> 5, 1
    np.testing.assert_allclose(value(kd.Neuron("x", 1, x=1, y=0)), [5.0, 1.0])


def test_neuron_centre_of_a_non_square_map():
    # Height 2, width 4: centre (y, x) = (1, 2). x[0, 1, 2] = 4 * (1 * 4 + 2) + c.
    x = np.arange(2 * 2 * 4 * 4, dtype="float32").reshape(2, 2, 4, 4)
    np.testing.assert_allclose(value(kd.Neuron("x", 3), x), [4 * 6 + 3, 32 + 4 * 6 + 3])


def test_class_logit_reads_scores_per_dream_or_shared():
    scores = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, 1.0]], "float32")
    np.testing.assert_allclose(value(kd.ClassLogit([2, 0]), scores, ":pre"), [2.0, 3.0])
    np.testing.assert_allclose(value(kd.ClassLogit(1), scores, ":pre"), [-1.0, 0.0])


def test_class_logit_on_a_feature_map_averages_positions():
    np.testing.assert_allclose(value(kd.ClassLogit([0, 2], "x"), X, "x:pre"), [5.5, 4.0])


def test_class_logit_key_is_the_layers_pre_activation():
    assert kd.ClassLogit(3).keys == [":pre"]
    assert kd.ClassLogit(3, layer="head").keys == ["head:pre"]


def test_rivals_is_the_soft_maximum_of_the_other_channels_means():
    # dream 0 -> not channel 0: means 6.5, 7.5 -> log(e^6.5 + e^7.5) = 7.5 + log(1 + e^-1)
    # dream 1 -> not channel 2: means 1.0, 3.0 -> 3 + log(1 + e^-2)
    expected = [7.5 + np.log1p(np.exp(-1.0)), 3.0 + np.log1p(np.exp(-2.0))]
    np.testing.assert_allclose(value(kd.Rivals("x", [0, 2], temperature=1.0)), expected,
                               rtol=1e-6)
    # temperature 2: log(e^13 + e^15) / 2 for dream 0
    np.testing.assert_allclose(value(kd.Rivals("x", [0, 2], temperature=2.0))[0],
                               (15.0 + np.log1p(np.exp(-2.0))) / 2, rtol=1e-6)
    with pytest.raises(kd.DreamError, match="temperature=0"):
        kd.Rivals("x", 0, temperature=0)


def test_deep_dream_is_the_mean_squared_activation():
    # dream 0: (1^2 + ... + 12^2) / 12 = 650 / 12
    # dream 1: (0 + 1 + 4 + 4 + 1 + 0 + 36 + 9 + 4 + 16 + 81 + 256) / 12 = 412 / 12
    np.testing.assert_allclose(value(kd.DeepDream("x")), [650 / 12, 412 / 12], rtol=1e-6)


def gram(features):
    """sum over positions of the outer product of the channel vectors."""
    flat = features.reshape(-1, features.shape[-1]).astype("float64")
    return flat.T @ flat


def cosine(a, b):
    return np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b))


def test_diversity_of_two_dreams_is_minus_their_gram_cosine():
    c = cosine(gram(X[0]), gram(X[1]))
    assert 0.1 < c < 0.99  # a non-trivial case
    np.testing.assert_allclose(value(kd.Diversity("x")), [-c, -c], rtol=1e-5)


def test_diversity_of_three_dreams_averages_over_the_other_two():
    third = np.array([[[[1, 0, 0], [0, 1, 0]], [[0, 0, 1], [1, 1, 1]]]], "float32")
    x = np.concatenate([X, third])
    g = [gram(f) for f in x]
    expected = [
        -(cosine(g[0], g[1]) + cosine(g[0], g[2])) / 2,
        -(cosine(g[1], g[0]) + cosine(g[1], g[2])) / 2,
        -(cosine(g[2], g[0]) + cosine(g[2], g[1])) / 2,
    ]
    np.testing.assert_allclose(value(kd.Diversity("x"), x), expected, rtol=1e-5)


def test_diversity_of_a_single_dream_is_zero():
    np.testing.assert_allclose(value(kd.Diversity("x"), X[:1]), [0.0], atol=1e-7)


# The photo terms read features of a photo through a real Keras model: the
# colour picker's 1x1 conv gives per pixel [R, G, B, R - B].
PHOTO = np.array([[[1, 0, 2], [0, 1, 0]], [[3, 0, 1], [0, 0, 0]]], "float32")
PHOTO_FEATURES = np.array(  # [R, G, B, R - B] of each pixel of PHOTO
    [[[[1, 0, 2, -1], [0, 1, 0, 0]], [[3, 0, 1, 2], [0, 0, 0, 0]]]], "float32"
)
PICKER_SHAPES = {IMAGE: (2, 2, 2, 3), "pick": (2, 2, 2, 4)}


def picker_features(images):
    model = colour_picker(size=2)
    return {"pick": keras.ops.convert_to_numpy(model(np.asarray(images, "float32")))}


def photo_value(term, x):
    """The term's values on features `x`, with the targets a dream model would hold."""
    return value(term, x, "pick", term.target_tables(picker_features, PICKER_SHAPES, len(x)))


def test_the_picker_gives_the_photo_features_written_above():
    np.testing.assert_array_equal(picker_features(PHOTO[None])["pick"], PHOTO_FEATURES)


def test_inversion_is_minus_the_relative_squared_error():
    term = kd.Inversion("pick", PHOTO)
    # ||Phi0||^2 = 1 + 4 + 1 + 1 + 9 + 1 + 4 = 21
    bumped = PHOTO_FEATURES.copy()
    bumped[0, 1, 1, 3] += 3.0  # squared error 9
    x = np.concatenate([PHOTO_FEATURES, np.zeros_like(PHOTO_FEATURES), 2 * PHOTO_FEATURES,
                        bumped])
    np.testing.assert_allclose(photo_value(term, x), [0.0, -1.0, -1.0, -9 / 21], rtol=1e-6)


def test_caricature_is_the_dot_product_with_the_normalized_positive_features():
    term = kd.Caricature("pick", PHOTO)
    # max(Phi0, 0) drops the -1; its squared norm is 1 + 4 + 1 + 9 + 1 + 4 = 20.
    # <Phi0, max(Phi0, 0)> = 20 as well, so the photo itself scores 20 / 20 = 1.
    # All ones score the sum of the positive features over 20:
    # (1 + 2 + 1 + 3 + 1 + 2) / 20 = 0.5 (the -1 is not counted).
    x = np.concatenate([PHOTO_FEATURES, 2 * PHOTO_FEATURES, np.zeros_like(PHOTO_FEATURES),
                        np.ones_like(PHOTO_FEATURES)])
    np.testing.assert_allclose(photo_value(term, x), [1.0, 2.0, 0.0, 0.5], rtol=1e-6)
    np.testing.assert_array_equal(term.initial_images(), PHOTO[None])


def test_photo_terms_take_one_photo_per_dream_and_select_them():
    photos = np.stack([PHOTO, 2 * PHOTO, 3 * PHOTO])
    term = kd.Inversion("pick", photos)
    assert term.num_rows == 3
    part = term.select([2, 0])
    np.testing.assert_array_equal(part.image, photos[[2, 0]])
    # Each dream is compared with its own photo: 3 * Phi0 vs 3 * Phi0 and vs Phi0.
    x = np.concatenate([3 * PHOTO_FEATURES, 3 * PHOTO_FEATURES])
    # dream 1: ||3 Phi0 - Phi0||^2 / ||Phi0||^2 = 4
    np.testing.assert_allclose(photo_value(part, x), [0.0, -4.0], rtol=1e-6)


def test_photo_term_errors():
    with pytest.raises(kd.DreamError, match="reads the photo's features.*DreamModel"):
        value(kd.Inversion("pick", PHOTO), PHOTO_FEATURES, "pick")
    with pytest.raises(kd.DreamError, match=r"dream's shape \(4, 4, 3\).*\(2, 2, 3\)"):
        kd.Inversion("pick", PHOTO).check({IMAGE: (1, 4, 4, 3)})
    with pytest.raises(kd.DreamError, match=r"image of shape \(2, 3\)"):
        kd.Caricature("pick", np.zeros((2, 3)))


def test_targets_must_be_integers():
    with pytest.raises(kd.DreamError, match=r"filter=2\.5"):
        kd.Channel("x", 2.5)
    with pytest.raises(kd.DreamError, match=r"filter=\[\]"):
        kd.Channel("x", [])
    with pytest.raises(kd.DreamError, match="class_index='cat'"):
        kd.ClassLogit("cat")


# ---------------------------------------------------------------- algebra

A = kd.Channel("x", [0, 2])  # [5.5, 4.0]
B = kd.DeepDream("x")  # [650 / 12, 412 / 12]


def test_sum_difference_and_scalar_multiples():
    a, b = np.array([5.5, 4.0]), np.array([650 / 12, 412 / 12])
    cases = {
        "a + b": (A + B, a + b),
        "a - b": (A - B, a - b),
        "0.5 * a": (0.5 * A, 0.5 * a),
        "a * 2": (A * 2, 2 * a),
        "-a": (-A, -a),
        "a / 4": (A / 4, a / 4),
        "2 * a - b / 2": (2 * A - B / 2, 2 * a - b / 2),
    }
    for name, (objective, expected) in cases.items():
        assert isinstance(objective, kd.Objective), name
        np.testing.assert_allclose(value(objective), expected, rtol=1e-6, err_msg=name)


def test_algebra_with_a_non_number_is_a_type_error():
    with pytest.raises(TypeError):
        A * A
    with pytest.raises(TypeError):
        A + 1
    with pytest.raises(TypeError):
        A - "x"
    with pytest.raises(kd.DreamError, match="finite.*weight=inf"):
        A * float("inf")


def test_repr_reads_like_the_expression():
    channel, diversity = kd.Channel("x", 7), kd.Diversity("x")
    assert repr(channel - 0.1 * diversity) == "Channel('x', 7) - 0.1 * Diversity('x')"
    assert repr(-channel) == "-Channel('x', 7)"
    assert repr(channel / 4) == "0.25 * Channel('x', 7)"
    assert repr(2 * channel + kd.DeepDream("y")) == "2 * Channel('x', 7) + DeepDream('y')"
    assert repr(-0.5 * channel - diversity) == "-0.5 * Channel('x', 7) - Diversity('x')"
    assert repr(kd.Channel("x", [1, 2])) == "Channel('x', [1, 2])"
    assert repr(kd.ClassLogit(3)) == "ClassLogit(3, None)"


def test_keys_are_the_features_read_in_first_use_order():
    objective = (kd.Channel("b", 1) + kd.DeepDream("a") - kd.Diversity("b")
                 + kd.ClassLogit(2) - kd.AlphaNorm())
    assert objective.keys == ["b", "a", ":pre", IMAGE]


def test_num_rows_is_the_per_dream_list_length():
    assert kd.Channel("x", 3).num_rows == 1
    assert kd.Channel("x", [3]).num_rows == 1
    assert (kd.Channel("x", [1, 2, 3]) + kd.Neuron("y", 0) - kd.Diversity("x")).num_rows == 3
    assert (kd.Channel("x", [1, 2]) + kd.ClassLogit([4, 5])).num_rows == 2


def test_num_rows_rejects_lists_of_different_lengths():
    objective = kd.Channel("x", [1, 2]) + kd.Channel("y", [1, 2, 3])
    with pytest.raises(kd.DreamError, match=r"different numbers of dreams: \[2, 3\]"):
        objective.num_rows


def test_select_slices_per_dream_targets_and_keeps_shared_ones():
    objective = kd.Channel("x", [0, 1, 2]) - 0.5 * kd.Neuron("x", 1) + kd.ClassLogit([5, 6, 7])
    part = objective.select([2, 0])
    assert repr(part) == ("Channel('x', [2, 0]) - 0.5 * Neuron('x', 1, None, None) "
                          "+ ClassLogit([7, 5], None)")
    assert part.num_rows == 2
    single = objective.select([1])
    assert single.terms[0][1].index == [1] and single.num_rows == 1


def test_selected_rows_give_the_same_values_as_the_full_objective():
    x3 = np.concatenate([X, X[:1] * -1.0])
    objective = kd.Channel("x", [0, 1, 2]) - 0.25 * kd.Neuron("x", [2, 2, 0])
    full = value(objective, x3)
    np.testing.assert_allclose(value(objective.select([2, 0]), x3[[2, 0]]), full[[2, 0]])


# ---------------------------------------------------------- check errors


def test_out_of_range_filter_names_the_channel_count():
    with pytest.raises(kd.DreamError, match=r"has 8 channels \(0-7\).*filter=8"):
        kd.Channel("conv", [1, 8]).check({"conv": (2, 4, 4, 8)})
    with pytest.raises(kd.DreamError, match=r"has 8 channels.*filter=-1"):
        kd.Neuron("conv", -1).check({"conv": (1, 4, 4, 8)})
    with pytest.raises(kd.DreamError, match=r"'output' has 10 channels.*class_index=10"):
        kd.ClassLogit(10).check({":pre": (1, 10)})
    kd.Channel("conv", [0, 7]).check({"conv": (2, 4, 4, 8)})  # in range: fine


def test_composed_objective_checks_every_term():
    objective = kd.Channel("a", 0) + kd.Channel("b", 5)
    with pytest.raises(kd.DreamError, match=r"'b' has 4 channels.*filter=5"):
        objective.check({"a": (1, 2, 2, 8), "b": (1, 2, 2, 4)})


def test_channel_terms_need_a_feature_map():
    with pytest.raises(kd.DreamError, match=r"gives \(1, 10\).*layer_name='dense'"):
        kd.Channel("dense", 0).check({"dense": (1, 10)})
    with pytest.raises(kd.DreamError, match="Diversity needs a layer"):
        kd.Diversity("dense").check({"dense": (1, 10)})


def test_neuron_cell_out_of_range():
    with pytest.raises(kd.DreamError, match=r"is 3x5.*x=5, y=0"):
        kd.Neuron("conv", 0, x=5, y=0).check({"conv": (1, 3, 5, 2)})
    kd.Neuron("conv", 0, x=4, y=2).check({"conv": (1, 3, 5, 2)})


# --------------------------------------------------------- serialization




def round_trip(objective):
    config = keras.saving.serialize_keras_object(objective)
    return keras.saving.deserialize_keras_object(config)


@pytest.mark.parametrize(
    "objective, key, x",
    [
        (kd.Channel("x", [0, 2]), "x", X),
        (kd.Channel("x", 1), "x", X),
        (kd.Neuron("x", [1, 2], x=0, y=1), "x", X),
        (kd.ClassLogit([2, 0], layer="head"), "head:pre", X),
        (kd.DeepDream("x"), "x", X),
        (kd.Rivals("x", [1, 0], temperature=3.0), "x", X),
        (kd.Diversity("x"), "x", X),
        (kd.Channel("x", 2) + 0.1 * kd.Diversity("x") + kd.Neuron("x", [0, 1]) / 4, "x", X),
    ],
    ids=repr,
)
def test_serialization_round_trip_gives_identical_values(objective, key, x):
    x = np.concatenate([x, x]) if objective.num_rows > len(x) else x
    restored = round_trip(objective)
    assert type(restored) is type(objective)
    assert repr(restored) == repr(objective)
    np.testing.assert_array_equal(value(restored, x, key), value(objective, x, key))


@pytest.mark.parametrize("cls", [kd.Inversion, kd.Caricature])
def test_photo_terms_round_trip_to_identical_values(cls):
    term = cls("pick", np.stack([PHOTO, PHOTO[::-1]]))
    restored = round_trip(term)
    np.testing.assert_array_equal(restored.image, term.image)
    x = np.concatenate([PHOTO_FEATURES, -PHOTO_FEATURES]) + 0.5
    np.testing.assert_array_equal(photo_value(restored, x), photo_value(term, x))


def test_objectives_get_accepts_instances_and_configs_only():
    objective = kd.Channel("x", 7) - 0.1 * kd.Diversity("x")
    assert objectives.get(objective) is objective
    restored = objectives.get(keras.saving.serialize_keras_object(objective))
    assert repr(restored) == repr(objective)
    with pytest.raises(kd.DreamError, match="Received: objective='x'"):
        objectives.get("x")


# ------------------------------------------- targets and signatures


def test_target_tables_are_one_hot_masks_broadcast_to_the_dreams():
    shapes = {"x": (3, 2, 2, 4)}
    objective = kd.Channel("x", [0, 3, 1]) - kd.DeepDream("x") + kd.Neuron("x", 2)
    channel, deep, neuron = objective.target_tables(None, shapes, 3)
    np.testing.assert_array_equal(channel, np.eye(4)[[0, 3, 1]])
    assert deep is None
    np.testing.assert_array_equal(neuron, np.eye(4)[[2, 2, 2]])


def test_values_read_targets_from_the_tables_not_the_python_lists():
    # A dream model assigns new tables to point a traced model at other
    # filters: the table, not the term's own index, decides what is read.
    table = np.eye(3, dtype="float32")[[2, 1]]
    np.testing.assert_allclose(value(kd.Channel("x", [0, 0]), targets=[table]), [7.5, 3.0])


def test_signature_ignores_targets_but_not_weights_or_settings():
    assert kd.Channel("x", [0, 1]).signature() == kd.Channel("x", [5, 7]).signature()
    assert (kd.Channel("x", 1) - 0.5 * kd.DeepDream("x")).signature() != \
        (kd.Channel("x", 1) - 0.4 * kd.DeepDream("x")).signature()
    assert kd.Neuron("x", 1, x=0).signature() != kd.Neuron("x", 1, x=1).signature()
    assert kd.Channel("x", 1).signature() != kd.Channel("y", 1).signature()


# --------------------------------------- ClassLogit skips the softmax


def softmax_classifier(size=4):
    inputs = keras.Input((size, size, 3))
    x = keras.layers.GlobalAveragePooling2D(name="pool")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(x)
    model = keras.Model(inputs, outputs, name="softmax_classifier")
    W = np.array([[0.1, -0.2, 0.3], [0.0, 0.5, -0.1], [-0.3, 0.2, 0.4]], "float32")
    b = np.array([1.0, -2.0, 0.5], "float32")
    model.get_layer("head").set_weights([W, b])
    return model, W, b


def test_class_logit_sees_pre_softmax_logits():
    base, W, b = softmax_classifier()
    model = kd.DreamModel(kd.ClassLogit([2, 0]), base=base, size=4, transforms=None)
    features = model.features
    image = np.zeros((1, 4, 4, 3), "float32") + np.array([10.0, 20.0, 30.0], "float32")
    logits = keras.ops.convert_to_numpy(features(image)[":pre"])
    # The pooled colour [10, 20, 30] @ W + b, by hand:
    #   [1 - 0 - 9 + 1, -2 + 10 + 6 - 2, 3 - 2 + 12 + 0.5] = [-7, 12, 13.5]
    np.testing.assert_allclose(logits, [[-7.0, 12.0, 13.5]], rtol=1e-5)
    np.testing.assert_allclose(logits, image[:, 0, 0] @ W + b, rtol=1e-5)

    # The dream model's output is each dream's own logit: class 2, then class 0.
    images = model.images()
    seen = keras.ops.convert_to_numpy(model(np.eye(2, dtype="float32")))
    logits = images.mean(axis=(1, 2)) @ W + b
    np.testing.assert_allclose(seen, [logits[0, 2], logits[1, 0]], rtol=1e-4, atol=1e-4)


def test_gallery_objective_is_the_command_lines_and_the_model_compiles_at_the_depths_rate():
    """The API's `gallery_objective` and the CLI's settings build one objective;
    `DreamModel.compile()` picks Adam at the depth's learning rate: 0.1 for
    MobileNet's conv_pw_4_relu (total stride 8), 0.05 for the tiny CNN's relu2
    (stride 2), whose objective is the plain channel."""
    from kerasdream.network.bases import load_base
    from kerasdream.runs.settings import DreamSettings

    from conftest import tiny_cnn

    mobilenet, tiny = load_base(None), tiny_cnn(16)
    api = kd.gallery_objective("conv_pw_4_relu", [0, 1], mobilenet)
    assert repr(api) == repr(DreamSettings().objective_for("conv_pw_4_relu", [0, 1], mobilenet))
    assert repr(api) == ("Channel('conv_pw_4_relu:pre', [0, 1]) "
                         "- Rivals('conv_pw_4_relu:pre', [0, 1], 3.0)")
    assert repr(kd.gallery_objective("conv_pw_4_relu", 1, mobilenet, selectivity=0)) == (
        "Channel('conv_pw_4_relu:pre', 1)")
    assert repr(kd.gallery_objective("relu2", 1, tiny)) == "Channel('relu2:pre', 1)"
    for objective, base, size, rate in ((api, mobilenet, 32, 0.1),
                                        (kd.Channel("relu2", 0), tiny, 16, 0.05)):
        model = kd.DreamModel(objective, base, size=size, num_dreams=2)
        model.compile()
        assert float(model.optimizer.learning_rate) == pytest.approx(rate)
    with pytest.raises(kd.DreamError, match=r"Received: objective='mean'"):
        kd.gallery_objective("relu2", 0, tiny, objective="mean")
