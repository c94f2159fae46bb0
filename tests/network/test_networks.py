"""Any model: Sequential, functional and subclassed files, nested sub-models,
own preprocessing, odd channel counts and sizes, non-ReLU networks, dead
channels and a user's own classifier. Real Keras models with fixed weights."""

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream.network.bases import PACKAGED_MOBILENET, get_layer, list_layers, resolve_layer
from kerasdream.io import load_image, save_png

from conftest import tiny_cnn

STEPS = 60


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def fixed_weights(model, seed=0, scale=0.3):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, scale, w.shape).astype("float32")
                       for w in model.get_weights()])
    return model


def probe(model):
    """What the dream model's objective reads, without jitter: (N, h, w, C)."""
    (features,) = model.feature_values().values()
    return features


def own_channels(features, channels):
    """Row i's mean activation of its own target channel."""
    return features.mean(axis=(1, 2))[np.arange(len(channels)), channels]


def dream(objective, base, steps=STEPS, **kwargs):
    """Build, measure, train, measure: (model, before, after) probe features.

    Pixels and no transforms unless told otherwise: these tiny networks
    are about every kind of model working, not about the gallery's look.
    """
    kwargs.setdefault("parameterization", "pixels")
    kwargs.setdefault("transforms", None)
    model = kd.DreamModel(objective, base, **kwargs)
    before = probe(model)
    kd.train(model, steps)
    return model, before, probe(model)


def run_layers(model, names, images):
    """Call the model's own layers in order: a reference outside kerasdream."""
    x = images
    for name in names:
        x = model.get_layer(name)(x)
    return numpy(x)


# ----------------------------------------------- Sequential, functional, subclassed


@keras.saving.register_keras_serializable(package="kerasdream_tests")
class SubclassedNet(keras.Model):
    """tiny_cnn's layers in a subclassed model, as a user would write it."""

    def __init__(self, filters=6, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.rescale = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale")
        self.conv1 = keras.layers.Conv2D(8, 3, padding="same", name="conv1")
        self.relu1 = keras.layers.ReLU(name="relu1")
        self.conv2 = keras.layers.Conv2D(filters, 3, strides=2, padding="same", name="conv2")
        self.relu2 = keras.layers.ReLU(name="relu2")

    def call(self, x):
        return self.relu2(self.conv2(self.relu1(self.conv1(self.rescale(x)))))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


def sequential_net():
    return keras.Sequential([
        keras.Input((None, None, 3)),
        keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale"),
        keras.layers.Conv2D(8, 3, padding="same", name="conv1"),
        keras.layers.ReLU(name="relu1"),
        keras.layers.Conv2D(6, 3, strides=2, padding="same", name="conv2"),
        keras.layers.ReLU(name="relu2"),
    ])


def subclassed_net():
    model = SubclassedNet()
    model(np.zeros((1, 16, 16, 3), "float32"))  # builds it, as users must before saving
    return model


NETS = {"sequential": sequential_net, "functional": tiny_cnn, "subclassed": subclassed_net}
LAYERS = ["rescale", "conv1", "relu1", "conv2", "relu2"]


@pytest.mark.parametrize("kind, extension", [
    ("sequential", "keras"), ("sequential", "h5"), ("functional", "keras"),
    ("functional", "h5"), ("subclassed", "keras"),
])
def test_saved_models_of_every_kind_dream_an_inner_layer(tmp_path, kind, extension):
    net = fixed_weights(NETS[kind]())
    path = str(tmp_path / f"{kind}.{extension}")
    net.save(path)
    filters = [2, 5]
    model, before, after = dream(kd.Channel("relu1", filters), path, size=16)

    # The dream reads the right tensor: the file's own layers, called by hand.
    reloaded = keras.models.load_model(path, compile=False)
    images = kd.generator_of(model).images()
    np.testing.assert_allclose(after, run_layers(reloaded, LAYERS[:3], images),
                               rtol=1e-4, atol=1e-4)
    assert np.all(own_channels(after, filters) > own_channels(before, filters) + 0.2)


def test_a_subclassed_model_in_an_h5_file_is_refused_with_a_way_out(tmp_path):
    # Keras itself cannot rebuild a subclassed model from a legacy .h5 file.
    path = str(tmp_path / "subclassed.h5")
    fixed_weights(subclassed_net()).save(path)
    with pytest.raises(kd.DreamError, match=r"subclassed model 'SubclassedNet'.*\.keras"):
        kd.DreamModel(kd.Channel("relu1", 0), path, size=16)


@keras.saving.register_keras_serializable(package="kerasdream_tests")
class SubclassedClassifier(keras.Model):
    """Conv, then Flatten + Dense: works only at the size it was built with."""

    def __init__(self, raw_tf=False, **kwargs):
        super().__init__(**kwargs)
        self.raw_tf = raw_tf
        self.conv = keras.layers.Conv2D(4, 3, activation="relu", name="conv")
        self.flatten = keras.layers.Flatten()
        self.head = keras.layers.Dense(3, name="head")

    def call(self, x):
        x = self.conv(x / 255.0)
        if self.raw_tf:  # a TensorFlow op, not keras.ops: Keras can build it, not trace it
            import tensorflow as tf

            x = tf.nn.relu(x)
        return self.head(self.flatten(x))

    def get_config(self):
        return {**super().get_config(), "raw_tf": self.raw_tf}


def test_a_subclassed_model_dreams_at_the_size_it_was_built_with(tmp_path):
    net = SubclassedClassifier()
    net(np.zeros((1, 12, 12, 3), "float32"))
    path = str(tmp_path / "head.keras")
    fixed_weights(net, scale=0.5).save(path)
    model, before, after = dream(kd.Channel("conv", [1, 3]), path, transforms=None)
    assert kd.generator_of(model).image_shape == (12, 12, 3)
    reloaded = keras.models.load_model(path, compile=False)
    images = kd.generator_of(model).images()
    np.testing.assert_allclose(after, numpy(reloaded.conv(images / 255.0)), rtol=1e-4,
                               atol=1e-4)
    assert np.all(own_channels(after, [1, 3]) > own_channels(before, [1, 3]) + 0.2)
    with pytest.raises(kd.DreamError, match="height must be 12"):
        kd.DreamModel(kd.Channel("conv", 0), path, size=16)


def test_a_subclassed_model_kerasdream_cannot_trace_is_refused_clearly(tmp_path):
    net = SubclassedClassifier(raw_tf=True)
    net(np.zeros((1, 12, 12, 3), "float32"))
    path = str(tmp_path / "raw_tf.keras")
    net.save(path)
    with pytest.raises(kd.DreamError, match=r"Could not trace the subclassed model "
                                            r"SubclassedClassifier's call\(\)"):
        kd.DreamModel(kd.Channel("conv", 0), path)


# ---------------------------------------------------------------- nested models


@pytest.mark.slow
def test_a_layer_inside_a_nested_mobilenet_dreams_and_matches_its_own_output(tmp_path):
    # A user's transfer-learning classifier: its own Rescaling, then the
    # ImageNet MobileNet (the weights kerasdream ships) used as a layer.
    inner = keras.applications.MobileNet(alpha=0.25, include_top=False,
                                         weights=PACKAGED_MOBILENET, input_shape=(64, 64, 3))
    inputs = keras.Input((64, 64, 3))
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="scale")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(inner(x))
    outputs = keras.layers.Dense(5, name="logits")(x)
    path = str(tmp_path / "classifier.keras")
    keras.Model(inputs, outputs, name="classifier").save(path)

    base = kd.load_base(path)
    full = f"{inner.name}/conv_pw_2_relu"
    assert resolve_layer(base, "conv_pw_2_relu") == full
    assert full in [info.path for info in list_layers(base)]

    filters = [0, 3]
    model, before, after = dream(kd.Channel("conv_pw_2_relu", filters), path)
    assert kd.generator_of(model).image_shape == (64, 64, 3)  # the file's own size
    assert np.all(own_channels(after, filters) > own_channels(before, filters) + 0.5)

    # The nested layer's own output, outside kerasdream: the outer Rescaling,
    # then the sub-model truncated at the layer. Preprocessing ran once.
    reloaded = keras.models.load_model(path, compile=False)
    sub = reloaded.get_layer(inner.name)
    truncated = keras.Model(sub.inputs, sub.get_layer("conv_pw_2_relu").output)
    images = kd.generator_of(model).images()
    expected = numpy(truncated(reloaded.get_layer("scale")(images)))
    np.testing.assert_allclose(after, expected, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------- the model's own preprocessing


def test_a_model_file_with_its_own_normalization_gets_no_second_preprocessing(tmp_path):
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Normalization(mean=[120.0, 110.0, 100.0], variance=[3600.0] * 3,
                                   name="normalize")(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(x)
    path = str(tmp_path / "normalized.keras")
    fixed_weights(keras.Model(inputs, x)).save(path)

    assert kd.BaseSpec(path).preprocess_mode == "none"
    assert kd.BaseSpec("mobilenet").preprocess_mode == "tf"  # applications do get theirs
    model = kd.DreamModel(kd.Channel("conv", [0, 1]), path, size=12)
    preprocess = model.get_layer("preprocess")
    assert preprocess.mode == "none"
    pixels = np.random.default_rng(0).uniform(0, 255, (2, 12, 12, 3)).astype("float32")
    np.testing.assert_array_equal(numpy(preprocess(pixels)), pixels)
    # End to end: the features are the file's model on the raw 0..255 pixels.
    reloaded = keras.models.load_model(path, compile=False)
    images = kd.generator_of(model).images()
    np.testing.assert_allclose(probe(model), numpy(reloaded(images)), rtol=1e-4, atol=1e-4)


# ------------------------------------------------- channels, sizes, undefined inputs


def small_cnn(input_shape):
    """Rescaling, a 3x3 conv (6 channels) and a ReLU, for any input shape."""
    inputs = keras.Input(input_shape)
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    x = keras.layers.Conv2D(6, 3, padding="same", name="conv")(x)
    x = keras.layers.ReLU(name="relu")(x)
    return fixed_weights(keras.Model(inputs, x), seed=2, scale=0.4)


@pytest.mark.parametrize("input_shape, size, parameterization, image_shape", [
    ((None, None, 1), 16, "pixels", (16, 16, 1)),       # grayscale
    ((None, None, 1), 16, "fourier", (16, 16, 1)),
    ((None, None, 4), 16, "pixels", (16, 16, 4)),       # 4 channels (RGBA, RGB+depth...)
    ((None, None, 4), 16, "fourier", (16, 16, 4)),
    ((None, None, 3), (24, 40), "pixels", (24, 40, 3)),  # undefined input, non-square
    ((None, None, 3), (24, 40), "fourier", (24, 40, 3)),
    ((24, 40, 3), None, "pixels", (24, 40, 3)),          # fixed non-square input
], ids=["grey", "grey-fourier", "4ch", "4ch-fourier", "24x40", "24x40-fourier",
        "fixed-24x40"])
def test_channel_counts_and_sizes(tmp_path, input_shape, size, parameterization,
                                  image_shape):
    path = str(tmp_path / "net.keras")
    small_cnn(input_shape).save(path)
    filters = [1, 4]
    # Read before the ReLU: some of these filters start closed everywhere.
    model, before, after = dream(kd.Channel("relu:pre", filters), path, size=size,
                                 parameterization=parameterization)
    images = kd.render(model)
    assert images.shape == (2, *image_shape) and images.dtype == np.uint8
    assert np.all(own_channels(after, filters) > own_channels(before, filters) + 0.1)
    save_png(str(tmp_path / "dream.png"), images[0])
    channels = image_shape[-1]
    reread = load_image(str(tmp_path / "dream.png"), channels=1 if channels == 1 else 3)
    assert reread.shape == (*image_shape[:2], 1 if channels == 1 else 3)


def test_fixed_input_size_refuses_another_size(tmp_path):
    path = str(tmp_path / "net.keras")
    small_cnn((24, 40, 3)).save(path)
    with pytest.raises(kd.DreamError, match="width must be 40"):
        kd.DreamModel(kd.Channel("relu", 0), path, size=(24, 24))


# ------------------------------------------------------------ non-ReLU networks


@pytest.mark.slow
@pytest.mark.parametrize("name, layer, activation, min_gain", [
    ("efficientnetb0", "stem_activation", "silu", 0.1),
    ("convnext_tiny", "convnext_tiny_stage_0_block_0_gelu", "gelu", 1.0),
])
def test_non_relu_networks_dream(name, layer, activation, min_gain):
    # weights=None: random weights, fixed by the seed (gains over seeds 0-4:
    # EfficientNet 0.17-0.41, ConvNeXt 2.9-4.3).
    keras.utils.set_random_seed(0)
    spec = kd.BaseSpec(name, weights=None)
    target = get_layer(kd.load_base(spec), layer)
    assert target.activation.__name__ == activation  # no ReLU gate to redirect
    filters = [0, 1]
    # No jitter: with random weights the stem's stride-2 phase matters so much
    # that jittered dreams of these untrained networks barely move in 10 steps.
    model, before, after = dream(kd.Channel(layer, filters), spec, size=32, transforms=None)
    assert model.get_layer("preprocess").mode == "none"  # they rescale themselves
    gain = own_channels(after, filters) - own_channels(before, filters)
    assert np.all(gain > min_gain), gain


# ------------------------------------------------------------------ dead channels


def gated_net(style):
    """1x1 conv summing r + g + b, bias -500 on channel 0, then a ReLU.

    A grey start (r = g = b = 127.5) gives -117.5 everywhere: channel 0 is
    closed at every position, a dead channel. Pixels near 255 open it (+265).
    """
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(2, 1, name="conv", activation="relu" if style == "conv" else None)
    x = conv(inputs)
    if style == "relu_layer":
        x = keras.layers.ReLU(name="gate")(x)
    elif style == "activation_layer":
        x = keras.layers.Activation("relu", name="gate")(x)
    conv.set_weights([np.ones((1, 1, 3, 2), "float32"), np.array([-500.0, 0.0], "float32")])
    return keras.Model(inputs, x)


@pytest.mark.parametrize("style", ["relu_layer", "activation_layer", "conv"])
def test_redirected_relu_opens_a_dead_channel_the_plain_gradient_cannot(tmp_path, style):
    path = str(tmp_path / f"{style}.keras")
    gated_net(style).save(path)
    layer = "conv" if style == "conv" else "gate"

    plain, before, after = dream(kd.Channel(layer, 0), path, steps=20, transforms=None,
                                 redirect_relu=False)
    assert before[..., 0].max() == 0.0
    start = kd.generator_of(kd.DreamModel(
        kd.Channel(layer, 0), path, transforms=None, parameterization="pixels")).images()
    np.testing.assert_array_equal(kd.generator_of(plain).images(), start)  # no move at all
    assert after[..., 0].max() == 0.0

    redirected, _, opened = dream(kd.Channel(layer, 0), path, steps=20, transforms=None)
    # Redirected while the whole channel is closed; once a position opens, the
    # true gradient (Lucid's rule) takes it further.
    assert opened[..., 0].max() > 10.0
    # The value the objective sees is the real ReLU: never negative.
    assert opened.min() >= 0.0


# ------------------------------------------------------------ a user's classifier


@pytest.fixture(scope="module")
def digits_classifier(tmp_path_factory):
    """A tiny CNN trained on scikit-learn's 8x8 digits, saved with its Rescaling."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images * (255.0 / 16.0)).astype("float32")[..., None]
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=0.25, random_state=0, stratify=digits.target)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Rescaling(1 / 255.0, name="rescale")(inputs)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1")(x)
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu",
                            name="conv2")(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="digit")(x)
    model = keras.Model(inputs, outputs, name="digits")
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=4, batch_size=64, verbose=0)
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    path = str(tmp_path_factory.mktemp("digits") / "digits.keras")
    model.save(path)
    return path, accuracy


def logits_of(path, images):
    """Class scores before the softmax, computed by hand from the file's layers."""
    model = keras.models.load_model(path, compile=False)
    head = model.get_layer("digit")
    hidden = numpy(keras.Model(model.inputs, head.input)(images))
    kernel, bias = head.get_weights()
    return hidden @ kernel + bias


def test_class_logit_dreams_of_a_users_digit_classifier(digits_classifier):
    path, accuracy = digits_classifier
    assert accuracy > 0.9
    classes = list(range(10))
    model = kd.DreamModel(kd.ClassLogit(classes), path, parameterization="pixels",
                                 transforms="jitter")
    assert kd.generator_of(model).image_shape == (8, 8, 1)
    start = kd.generator_of(model).images()
    kd.train(model, 20)
    dreams = kd.generator_of(model).images()

    before, after = logits_of(path, start), logits_of(path, dreams)
    np.testing.assert_allclose(probe(model), after, rtol=1e-4, atol=1e-3)  # pre-softmax
    rows = np.arange(10)
    # Each dream raised its own class's logit above the starting image's, clearly.
    assert np.all(after[rows, classes] > before[rows, classes] + 3.0)
    # The dream of class k scores k higher than every other dream scores k,
    # and the classifier reads it as a k (one miss allowed).
    others = after.copy()
    others[rows, classes] = -np.inf
    assert np.all(after[rows, classes] > others.max(axis=0)[classes])
    assert np.sum(after.argmax(axis=1) == rows) >= 9
