"""Base networks: listing and resolving layers, feature models, preprocessing, loading."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.applications import imagenet_utils

import kerasdream as kd
from kerasdream.network import bases
from kerasdream.network.bases import Preprocess, list_layers, resolve_layer
from kerasdream.network.features import RedirectedReLU, feature_model

from conftest import tiny_cnn


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def backbone(name="backbone"):
    """conv1 (4 ch) -> relu1 -> conv2 (5 ch, stride 2, valid, relu): fixed weights."""
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv1")(inputs)
    x = keras.layers.ReLU(name="relu1")(x)
    x = keras.layers.Conv2D(5, 3, strides=2, activation="relu", name="conv2")(x)
    model = keras.Model(inputs, x, name=name)
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()])
    return model


def classifier(size=8):
    """Rescaling(1/255) -> backbone (a nested functional model) -> pool -> softmax head."""
    inner = backbone()
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Rescaling(1 / 255.0, name="rescale")(inputs)
    x = inner(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="classifier"), inner


def random_images(shape, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


# ------------------------------------------------------------ list_layers


def test_list_layers_of_a_plain_cnn():
    infos = list_layers(tiny_cnn())
    assert [i.path for i in infos] == ["rescale", "conv1", "relu1", "conv2", "relu2"]
    assert [i.channels for i in infos] == [3, 8, 8, 6, 6]
    assert [i.class_name for i in infos] == ["Rescaling", "Conv2D", "ReLU", "Conv2D", "ReLU"]
    assert all(i.dreamable for i in infos)
    assert infos[1].output_shape == (None, None, None, 8)


def test_list_layers_walks_nested_models_and_flags_flat_layers():
    model, _ = classifier()
    infos = {i.path: i for i in list_layers(model)}
    assert list(infos) == ["rescale", "backbone", "backbone/conv1", "backbone/relu1",
                           "backbone/conv2", "pool", "head"]
    assert infos["backbone/conv1"].channels == 4
    assert infos["backbone/conv2"].channels == 5 and infos["backbone/conv2"].dreamable
    assert infos["pool"].channels == 5 and not infos["pool"].dreamable
    assert infos["head"].channels == 3 and not infos["head"].dreamable
    assert infos["head"].output_shape == (None, 3)


# ----------------------------------------------------------- resolve_layer


def test_resolve_layer_finds_bare_names_inside_sub_models():
    model, _ = classifier()
    assert resolve_layer(model, "conv1") == "backbone/conv1"
    assert resolve_layer(model, "backbone/relu1") == "backbone/relu1"
    assert resolve_layer(model, "pool") == "pool"


def test_resolve_layer_suggests_close_names():
    with pytest.raises(kd.DreamError, match=r"Did you mean: 'conv1'.*layer_name='conv_1'"):
        resolve_layer(tiny_cnn(), "conv_1")
    model, _ = classifier()
    with pytest.raises(kd.DreamError, match=r"Did you mean: .*'relu1'.*layer_name='rellu1'"):
        resolve_layer(model, "rellu1")


def test_resolve_layer_with_a_name_in_two_sub_models_is_ambiguous():
    inputs = keras.Input((8, 8, 3))
    x = backbone("left")(inputs)
    y = backbone("right")(inputs)
    model = keras.Model(inputs, [x, y])
    with pytest.raises(kd.DreamError, match=r"ambiguous.*'left/conv1', 'right/conv1'"):
        resolve_layer(model, "conv1")
    assert resolve_layer(model, "right/conv1") == "right/conv1"


def test_layer_channels_needs_a_feature_map():
    model, _ = classifier()
    assert bases.layer_channels(model, "conv2") == 5
    with pytest.raises(kd.DreamError, match=r"no channel axis.*\(None, 3\).*layer_name='head'"):
        bases.layer_channels(model, "head")


# ----------------------------------------------------------- feature_model


def test_feature_model_reads_a_layer_inside_a_nested_backbone():
    model, inner = classifier()
    images = random_images((2, 8, 8, 3))
    features = feature_model(model, ["backbone/relu1", "conv2"], (8, 8, 3))
    got = features(images)
    # The outer model's own Rescaling comes first, then the backbone's layers.
    relu1 = keras.Model(inner.inputs, inner.get_layer("relu1").output)
    conv2 = keras.Model(inner.inputs, inner.get_layer("conv2").output)
    np.testing.assert_allclose(numpy(got["backbone/relu1"]), numpy(relu1(images / 255.0)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(numpy(got["conv2"]), numpy(conv2(images / 255.0)),
                               rtol=1e-5, atol=1e-6)
    # Without the rescaling the values would be far off: the check can fail.
    assert np.abs(numpy(relu1(images)) - numpy(got["backbone/relu1"])).max() > 1.0


def test_feature_model_pre_activation_of_a_nested_layer_and_of_the_head():
    model, inner = classifier()
    images = random_images((2, 8, 8, 3), seed=1)
    features = feature_model(model, ["backbone/conv2:pre", "conv2", ":pre"], (8, 8, 3))
    got = {key: numpy(v) for key, v in features(images).items()}
    assert got["backbone/conv2:pre"].min() < 0  # before the ReLU ...
    np.testing.assert_allclose(np.maximum(got["backbone/conv2:pre"], 0), got["conv2"],
                               rtol=1e-5, atol=1e-6)  # ... and the ReLU of it after.
    # ":pre" is the last layer's logits: pooled features @ W + b, not softmax.
    W, b = model.get_layer("head").get_weights()
    np.testing.assert_allclose(got[":pre"], got["conv2"].mean(axis=(1, 2)) @ W + b,
                               rtol=1e-4, atol=1e-5)


def test_feature_model_leaves_the_users_flags_and_weights_alone():
    model, _ = classifier()
    model.get_layer("head").trainable = False  # the user's own choice stays too
    before = [w.copy() for w in model.get_weights()]
    flags = [(layer.name, layer.trainable) for layer in model._flatten_layers()]
    feature_model(model, ["relu1", "conv2", "head:pre"], (8, 8, 3), redirect_relu=True)
    assert [(layer.name, layer.trainable) for layer in model._flatten_layers()] == flags
    assert model.trainable
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_redirect_relu_gives_identical_values():
    model, _ = classifier()
    images = random_images((2, 8, 8, 3), seed=2)
    keys = ["backbone/relu1", "conv2", "head:pre"]
    plain = feature_model(model, keys, (8, 8, 3), redirect_relu=False)(images)
    redirected = feature_model(model, keys, (8, 8, 3), redirect_relu=True)(images)
    for key in keys:
        np.testing.assert_array_equal(numpy(redirected[key]), numpy(plain[key]), err_msg=key)

    cnn = tiny_cnn()
    keys = ["relu1", "relu2"]
    plain = feature_model(cnn, keys, (8, 8, 3))(images)
    redirected = feature_model(cnn, keys, (8, 8, 3), redirect_relu=True)(images)
    for key in keys:
        np.testing.assert_array_equal(numpy(redirected[key]), numpy(plain[key]), err_msg=key)


def dead_channel_model():
    """A 1x1 conv whose channel 0 has bias -1000: its ReLU is closed on any image."""
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(2, 1, name="conv")(inputs)
    outputs = keras.layers.ReLU(name="relu")(x)
    model = keras.Model(inputs, outputs, name="dead")
    kernel = np.array([[1.0, 0.5], [2.0, 0.5], [-1.0, 0.5]], "float32").reshape(1, 1, 3, 2)
    model.get_layer("conv").set_weights([kernel, np.array([-1000.0, 0.0], "float32")])
    return model


@pytest.mark.parametrize("redirect", [False, True])
def test_redirect_relu_lets_the_gradient_through_a_closed_gate(redirect):
    features = feature_model(dead_channel_model(), ["relu"], (4, 4, 3), redirect_relu=redirect)
    images = tf.constant(random_images((1, 4, 4, 3)))
    with tf.GradientTape() as tape:
        tape.watch(images)
        out = features(images)["relu"]
        objective = tf.reduce_mean(out[..., 0])
        loss = -objective  # what a dream minimizes
    assert float(objective) == 0.0  # the channel is dead either way
    # The loss's gradient pushes the closed unit up, which redirection lets through.
    gradient = tape.gradient(loss, images).numpy()
    # d -mean(w . x + b) / dx = -w / (4 * 4) at every pixel, when the gate lets it through.
    expected = np.broadcast_to(-np.array([1.0, 2.0, -1.0]) / 16, (1, 4, 4, 3))
    np.testing.assert_allclose(gradient, expected if redirect else 0 * expected, atol=1e-7)


def test_too_small_image_is_a_dream_error():
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(2, 3, strides=2, name="c1")(inputs)
    x = keras.layers.Conv2D(2, 3, strides=2, name="c2")(x)
    model = keras.Model(inputs, x, name="shrinker")
    with pytest.raises(kd.DreamError, match=r"too small.*image_shape=\(5, 5, 3\)"):
        feature_model(model, ["c2"], (5, 5, 3))
    feature_model(model, ["c1"], (5, 5, 3))  # c1 alone fits: 5 -> 2
    feature_model(model, ["c2"], (7, 7, 3))  # 7 -> 3 -> 1


def test_fixed_size_base_rejects_another_size():
    model, _ = classifier(size=8)
    with pytest.raises(kd.DreamError, match=r"must be 8.*image_shape=\(6, 8, 3\)"):
        feature_model(model, ["conv1"], (6, 8, 3))


# --------------------------------------------------------------- Preprocess

PIXELS = np.array([[[[0.0, 127.5, 255.0], [51.0, 102.0, 204.0]]]], "float32")  # (1, 1, 2, 3)


def test_preprocess_modes_by_hand():
    expected = {
        "tf": [[-1.0, 0.0, 1.0], [-0.6, -0.2, 0.6]],  # x / 127.5 - 1
        "unit": [[0.0, 0.5, 1.0], [0.2, 0.4, 0.8]],  # x / 255
        "none": [[0.0, 127.5, 255.0], [51.0, 102.0, 204.0]],
        # BGR order, minus the BGR ImageNet mean (103.939, 116.779, 123.68)
        "caffe": [[255 - 103.939, 127.5 - 116.779, 0 - 123.68],
                  [204 - 103.939, 102 - 116.779, 51 - 123.68]],
        # (x / 255 - mean) / std with mean (.485, .456, .406), std (.229, .224, .225)
        "torch": [[(0 - .485) / .229, (.5 - .456) / .224, (1 - .406) / .225],
                  [(.2 - .485) / .229, (.4 - .456) / .224, (.8 - .406) / .225]],
    }
    for mode, values in expected.items():
        got = numpy(Preprocess(mode)(PIXELS))
        np.testing.assert_allclose(got, np.array(values)[None, None], rtol=1e-5, atol=1e-5,
                                   err_msg=mode)


@pytest.mark.parametrize("mode", ["tf", "caffe", "torch"])
def test_preprocess_matches_keras_applications(mode):
    images = random_images((2, 3, 4, 3))
    reference = imagenet_utils.preprocess_input(images.copy(), data_format="channels_last",
                                                mode=mode)
    np.testing.assert_allclose(numpy(Preprocess(mode)(images)), reference, rtol=1e-5, atol=1e-4)


def test_preprocess_rejects_unknown_modes_and_round_trips():
    with pytest.raises(kd.DreamError, match=r"Expected one of \['tf', 'caffe', 'torch', "
                                            r"'unit', 'none', '\[0,1\]', '\[-1,1\]'\]. "
                                            r"Received: mode='Caffe'"):
        Preprocess("Caffe")
    layer = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(Preprocess("torch")))
    assert isinstance(layer, Preprocess) and layer.mode == "torch"


# ------------------------------------------------------------ RedirectedReLU

X = np.array([-2.0, -0.5, 0.0, 3.0, 7.0], "float32")


def redirected_gradient(cap, x, weights):
    """Forward and gradient of `loss = sum(weights * RedirectedReLU(x))` per row."""
    layer = RedirectedReLU(max_value=cap)
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(y * tf.constant(weights))
    return y.numpy(), tape.gradient(loss, x).numpy()


@pytest.mark.parametrize("cap, forward", [(None, [0, 0, 0, 3, 7]), (6.0, [0, 0, 0, 3, 6])])
def test_redirected_relu_forward_is_exactly_relu(cap, forward):
    y, _ = redirected_gradient(cap, X[None], np.ones((1, 5), "float32"))
    np.testing.assert_array_equal(y[0], forward)
    assert RedirectedReLU.from_config(RedirectedReLU(max_value=cap).get_config()).max_value == cap


def test_a_live_units_gradient_is_the_true_relu_gradient():
    # Row 0 has an open unit (3.0 inside (0, 6)): its gradient is the plain
    # ReLU6 one, upstream w where 0 < x < 6 and 0 elsewhere, nothing redirected.
    weights = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]], "float32")
    _, gradient = redirected_gradient(6.0, X[None], weights)
    np.testing.assert_array_equal(gradient[0], [0.0, 0.0, 0.0, 4.0, 0.0])


def test_a_dead_rows_gradient_passes_the_gate_but_never_past_0_or_the_cap():
    # Every unit of this row is closed (<= 0 or >= 6): the true gradient is all
    # zero, so it is redirected. The loss is minimized: a positive upstream
    # gradient pushes a unit down, a negative one pushes it up.
    x = np.array([[-2.0, -0.5, 7.0, 8.0, -1.0]], "float32")
    upstream = np.array([[-1.0, 2.0, 3.0, -4.0, -5.0]], "float32")
    _, gradient = redirected_gradient(6.0, x, upstream)
    # -2 pushed up: passes (-1); -0.5 pushed down: blocked (0); 7 pushed down
    # towards the cap: passes (3); 8 pushed further up: blocked (0); -1 pushed up: passes.
    np.testing.assert_array_equal(gradient[0], [-1.0, 0.0, 3.0, 0.0, -5.0])


def test_redirection_is_decided_per_dream():
    # Row 0 is alive, row 1 is dead: only row 1 is redirected.
    x = np.array([[3.0, -1.0], [-2.0, -1.0]], "float32")
    upstream = np.array([[-1.0, -1.0], [-1.0, -1.0]], "float32")
    _, gradient = redirected_gradient(None, x, upstream)
    np.testing.assert_array_equal(gradient, [[-1.0, 0.0], [-1.0, -1.0]])


# --------------------------------------------------------------- load_base


def test_load_base_missing_file(tmp_path):
    path = str(tmp_path / "missing.keras")
    with pytest.raises(kd.DreamError, match=r"not found.*missing\.keras"):
        kd.load_base(path)


def test_load_base_file_that_holds_no_model(tmp_path):
    path = tmp_path / "notes.keras"
    path.write_text("not a model")
    with pytest.raises(kd.DreamError, match=r"Could not load.*notes\.keras"):
        kd.load_base(str(path))


def test_load_base_unknown_application_suggests_close_names():
    with pytest.raises(kd.DreamError, match=r"Did you mean: .*'vgg16'.*model='vgg61'"):
        kd.load_base("vgg61")


def test_load_base_bad_alpha_and_preprocess():
    with pytest.raises(kd.DreamError, match=r"alpha.*0\.25, 0\.5, 0\.75, 1\.0.*alpha=0\.3"):
        kd.load_base(kd.BaseSpec("mobilenet", alpha=0.3))
    with pytest.raises(kd.DreamError, match="preprocess='rgb'"):
        kd.load_base(kd.BaseSpec("mobilenet", preprocess="rgb"))


def test_load_base_of_a_saved_model_lists_its_layers(tiny_cnn_path):
    base = kd.load_base(tiny_cnn_path)
    assert [i.path for i in list_layers(base)] == ["rescale", "conv1", "relu1", "conv2", "relu2"]


def test_default_base_is_the_shipped_mobilenet():
    base = kd.load_base(None)
    infos = {i.path: i for i in list_layers(base)}
    info = infos["conv_pw_13_relu"]
    assert info.channels == 256 and info.dreamable  # 1024 filters * alpha 0.25
    assert infos["conv1"].channels == 8  # 32 * 0.25
    assert base.name == "mobilenet_0.25"  # not the constructor's "mobilenet_0.25_None"
    # The shipped ImageNet weights, not a random init: conv1's kernel as saved.
    import h5py

    with h5py.File(bases.PACKAGED_MOBILENET, "r") as weights:
        group = weights["conv1"]
        names = []
        group.visit(lambda name: names.append(name) if isinstance(group[name], h5py.Dataset)
                    else None)
        saved = np.asarray(group[names[0]])
    np.testing.assert_array_equal(base.get_layer("conv1").get_weights()[0], saved)


def test_two_features_needing_the_same_pre_activation_twin_build_together():
    # Channel on a Conv2D(activation="relu") is redirected through a linear
    # twin of the conv, and so is ClassLogit on it: both twins must coexist.
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(3, 1, activation="relu", name="conv")
    model = keras.Model(inputs, conv(inputs))
    dream_model = kd.DreamModel(
        kd.Channel("conv", 0) + kd.ClassLogit(1, layer="conv"), model, size=8)
    kd.train(dream_model, 2)
    assert kd.render(dream_model).shape == (1, 8, 8, 3)


def test_alpha_with_a_model_file_is_refused_not_ignored(tiny_cnn_path, capsys):
    from kerasdream.cli import main

    assert main(["layers", "--model", tiny_cnn_path, "--alpha", "0.5"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "alpha=0.5" in error and "drop alpha" in error
# ------------------------------------------- what the user's own model says itself


def test_the_size_a_network_takes_is_its_own_fixed_size_else_the_default():
    fixed, _ = classifier(size=8)
    assert bases.input_size(fixed) == (8, 8)
    assert bases.image_shape_for(fixed, None) == (8, 8, 3)
    assert bases.image_shape_for(fixed, None, default=64) == (8, 8, 3)
    assert bases.image_shape_for(backbone(), None) == (128, 128, 3)
    assert bases.image_shape_for(backbone(), None, default=64) == (64, 64, 3)
    inputs = keras.Input((20, None, 1))  # height fixed, any width; grey
    tall = keras.Model(inputs, keras.layers.Conv2D(2, 3)(inputs))
    assert bases.input_size(tall) == (20, None)
    assert bases.image_shape_for(tall, None, default=32) == (20, 32, 1)
    # A size asked for is kept: only the feature view refuses one the network cannot take.
    assert bases.image_shape_for(fixed, 16) == (16, 16, 3)
    with pytest.raises(kd.DreamError, match=r"must be 8.*image_shape=\(16, 16, 3\)"):
        feature_model(fixed, ["conv1"], (16, 16, 3))


def test_a_model_with_an_image_and_another_input_dreams_through_the_image():
    image = keras.Input((6, 6, 3), name="photo")
    extra = keras.Input((4,), name="metadata")
    x = keras.layers.Conv2D(2, 1, name="conv")(image)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    joined = keras.layers.Concatenate(name="join")([pooled, extra])
    model = keras.Model([extra, image], keras.layers.Dense(3, name="head")(joined), name="two")
    assert bases.image_input(model).name.startswith("photo")
    assert bases.image_shape_for(model, None) == (6, 6, 3)
    values = feature_model(model, ["conv"], (6, 6, 3))(np.ones((1, 6, 6, 3), "float32"))
    assert numpy(values["conv"]).shape == (1, 6, 6, 2)
    with pytest.raises(kd.DreamError, match=r"more than its image input.*layers=\['head'\]"):
        feature_model(model, ["head"], (6, 6, 3))


def test_a_model_with_two_image_inputs_names_them():
    left, right = keras.Input((6, 6, 3), name="left"), keras.Input((6, 6, 3), name="right")
    model = keras.Model([left, right], keras.layers.Add()([left, right]), name="pair")
    with pytest.raises(kd.DreamError, match=r"pair has 2 inputs.*several of them are one\. "
                                            r"Received: inputs=\['left' \(6, 6, 3\), "
                                            r"'right' \(6, 6, 3\)\]"):
        bases.image_input(model)


def test_the_two_trained_ranges_by_their_plain_names():
    """'[0,1]' is the `unit` mode, '[-1,1]' the `tf` one: white is 1.0 in both,
    black 0.0 and -1.0; a spec keeps the mode, so records compare equal."""
    black_white = np.array([[[[0.0], [255.0]]]], "float32")
    np.testing.assert_allclose(numpy(Preprocess("[0,1]")(black_white)).ravel(), [0.0, 1.0])
    np.testing.assert_allclose(numpy(Preprocess("[-1, 1]")(black_white)).ravel(), [-1.0, 1.0])
    assert kd.BaseSpec("m.h5", preprocess="[-1,1]") == kd.BaseSpec("m.h5", preprocess="tf")
    assert kd.BaseSpec("m.h5", preprocess="[0,1]").preprocess_mode == "unit"
    with pytest.raises(kd.DreamError, match=r"'\[0,1\]', '\[-1,1\]'\]\. "
                                            r"Received: preprocess='\[0,255\]'"):
        bases.preprocess_mode("[0,255]")


def test_the_input_range_is_said_only_for_a_model_that_does_not_scale_its_input(tmp_path):
    inputs = keras.Input((8, 8, 3))
    plain = keras.Model(inputs, keras.layers.Conv2D(2, 1)(inputs), name="plain")
    plain_path = str(tmp_path / "plain.keras")
    plain.save(plain_path)
    note = bases.input_range_note(bases.load_base(plain_path), kd.BaseSpec(plain_path))
    assert note.startswith("Feeding plain.keras pixels of 0..255") and "'[-1,1]'" in note
    told = kd.BaseSpec(plain_path, preprocess="[0,1]")
    assert bases.input_range_note(bases.load_base(told), told) is None
    scaled, _ = classifier()  # holds a Rescaling layer
    assert bases.input_range_note(scaled, None) is None
    assert bases.input_range_note(plain, None) is not None  # an in-memory model too
    inputs = keras.Input((8, 8, 3))
    norm = keras.layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 1.0, 1.0])
    normalized = keras.Model(inputs, keras.layers.Conv2D(2, 1)(norm(inputs)))
    assert bases.input_range_note(normalized, None) is None
    mobilenet = kd.BaseSpec("mobilenet")
    assert bases.input_range_note(bases.load_base(mobilenet), mobilenet) is None


class BuiltBare(keras.Model):
    """A subclassed model built as mtcnn's networks are: `build()` with its
    own default input shape, never called on a batch."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(2, 3, name="conv")
        self.head = keras.layers.Conv2D(2, 1, activation="softmax", name="head")

    def build(self, input_shape=(None, 12, 12, 3)):
        self.conv.build(input_shape)
        self.head.build(self.conv.compute_output_shape(input_shape))
        super().build(input_shape)

    def call(self, inputs):
        return self.head(self.conv(inputs))


def test_a_subclassed_model_built_bare_is_read_at_its_build_size_and_traced_once():
    model = BuiltBare()
    model.build()
    traced = bases.readable(model)
    assert bases.image_shape_for(traced, None) == (12, 12, 3)
    assert bases.readable(model) is traced  # a second trace would add a call to every layer
    values = feature_model(traced, ["head:pre", "head"], (12, 12, 3))(
        np.ones((1, 12, 12, 3), "float32"))
    np.testing.assert_allclose(numpy(values["head"]).sum(axis=-1), 1.0, rtol=1e-5)
    logits = numpy(values["head:pre"])
    softmax = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(numpy(values["head"]), softmax, rtol=1e-5)
