"""DreamModel: a Dense kernel on a one-hot input trained by `fit` into dreams."""

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream.network.bases import load_base
from kerasdream.saving import load_dream, save_dream

from conftest import colour_picker, tiny_cnn


def test_colour_picker_dreams_are_exactly_the_colour_of_their_filter(colour_picker_path):
    # Filter 0 sums red, 1 green, 2 blue, 3 red minus blue (1x1 conv, no bias,
    # no preprocessing). Maximizing a filter's mean can only push the colours
    # it reads: the others get an exactly zero gradient and keep their start.
    model = kd.DreamModel(
        kd.Channel("pick", [0, 1, 2, 3]), colour_picker_path, size=8, transforms=None,
        parameterization="pixels",
    )
    start = kd.generator_of(model).images()
    kd.train(model, 60, learning_rate=0.3)
    end = kd.generator_of(model).images()

    for row, colour in enumerate([0, 1, 2]):
        assert end[row, ..., colour].min() > 250
        others = [c for c in range(3) if c != colour]
        np.testing.assert_array_equal(end[row, ..., others], start[row, ..., others])
    assert end[3, ..., 0].min() > 250 and end[3, ..., 2].max() < 5
    np.testing.assert_array_equal(end[3, ..., 1], start[3, ..., 1])


@pytest.mark.backends  # also on JAX and PyTorch: tests/test_backends.py
def test_fit_raises_the_filter_and_leaves_the_base_alone(tiny_cnn_path):
    base = load_base(tiny_cnn_path)
    weights_before = [w.copy() for w in base.get_weights()]
    model = kd.DreamModel(kd.Channel("relu2", 2), tiny_cnn_path, size=16, seed=3,
                                 parameterization="pixels", transforms=None)

    def activation():
        images = kd.generator_of(model).images()
        features = keras.Model(base.inputs, base.get_layer("relu2").output)(images)
        return float(np.mean(keras.ops.convert_to_numpy(features)[..., 2]))

    before = activation()
    kd.train(model, 40)
    assert activation() > before + 0.5
    for old, new in zip(weights_before, base.get_weights()):
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize("steps, per_call", [(1, 1), (30, 1), (130, 13), (200, 25), (101, 1)])
def test_fit_runs_exactly_the_steps_asked_several_per_call(tiny_cnn_path, steps, per_call):
    # Below MIN_STEPS_FOR_SEVERAL_PER_CALL (100) one step a call; from there the
    # largest divisor up to 25, so the run has exactly `steps` steps.
    assert kd.model.default_steps_per_execution(steps) == per_call
    model = kd.DreamModel(kd.Channel("relu2", [0, 1]), tiny_cnn_path, size=8)
    calls = []
    callback = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: calls.append(batch))
    kd.train(model, steps, callbacks=[callback])
    assert int(model.optimizer.iterations) == steps
    # Keras reports the last step of each call.
    assert calls == list(range(per_call - 1, steps, per_call))


def test_progress_bar_counts_every_dream_step_with_several_steps_per_call(tiny_cnn_path):
    model = kd.DreamModel(kd.Channel("relu2", [0, 1]), tiny_cnn_path, size=8)
    bar = keras.utils.Progbar(2 * 30, verbose=0)
    kd.train(model, 30, callbacks=[kd.DreamProgress(bar, dreams=2)],
             steps_per_execution=15)  # 2 calls of 15
    assert bar._seen_so_far == 2 * 30


def test_steps_per_execution_must_divide_the_steps(tiny_cnn_path):
    model = kd.DreamModel(kd.Channel("relu2", 0), tiny_cnn_path, size=8)
    with pytest.raises(kd.DreamError, match=r"must divide steps=10.*steps_per_execution=4"):
        kd.train(model, 10, steps_per_execution=4)
    with pytest.raises(kd.DreamError, match=r"positive integer.*steps_per_execution=0"):
        kd.train(model, 10, steps_per_execution=0)
    kd.train(model, 10, steps_per_execution=np.int64(5))
    assert int(model.optimizer.iterations) == 10


def test_only_the_dense_kernel_trains_and_the_optimizer_tracks_only_it(tiny_cnn_path):
    model = kd.DreamModel(kd.Channel("conv2", [0, 1]), tiny_cnn_path, size=16,
                                 parameterization="pixels")
    network = load_base(tiny_cnn_path).weights
    before = [keras.ops.convert_to_numpy(v).copy() for v in network]
    kd.train(model, 5)
    for variable, old in zip(network, before):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), old)
    # Adam's two slots for the kernel alone, none for the network's weights.
    slots = [v for v in model.optimizer.variables if len(v.shape) > 0]
    assert [tuple(v.shape) for v in slots] == [(2, 16 * 16 * 3)] * 2


@pytest.mark.slow  # the longest inner-loop test (5 fits); runs/test_gallery.py's
# test_batch_size_does_not_change_the_images keeps the property in the inner loop
@pytest.mark.backends  # also on JAX and PyTorch: tests/test_backends.py
def test_one_batched_run_equals_one_run_per_dream(tiny_cnn_path):
    # Keras >= 3.14 divides activity losses by the batch size; the objective
    # compensates, jitter is shared by the batch and row i's start depends
    # only on (seed, row key): so N dreams in one fit = N separate fits.
    filters = [0, 3, 5, 1]
    batched = kd.DreamModel(kd.Channel("conv2", filters), tiny_cnn_path, size=16, seed=7)
    kd.train(batched, 25)
    together = kd.generator_of(batched).images()

    for row, k in enumerate(filters):
        alone = kd.DreamModel(
            kd.Channel("conv2", k), tiny_cnn_path, size=16, seed=7, row_keys=[row]
        )
        kd.train(alone, 25)
        single = kd.generator_of(alone).images()[0]
        assert np.max(np.abs(single - together[row])) < 1e-2, f"dream {row} differs"
    # And the dreams did move: the check above is not comparing starting noise.
    start = kd.generator_of(
        kd.DreamModel(kd.Channel("conv2", filters), tiny_cnn_path, size=16, seed=7)
    ).images()
    assert np.max(np.abs(together - start)) > 20


def test_same_seed_same_images_other_seed_other_images(tiny_cnn_path):
    def run(seed):
        model = kd.DreamModel(kd.Channel("conv2", [0, 1]), tiny_cnn_path, size=16,
                                     seed=seed)
        kd.train(model, 10)
        return kd.render(model)

    first = run(1)
    np.testing.assert_array_equal(run(1), first)
    assert not np.array_equal(first, run(2))


@pytest.mark.backends  # also on JAX and PyTorch: tests/test_backends.py
@pytest.mark.parametrize("extension", ["keras", "h5"])
def test_saved_dream_reloads_renders_the_same_and_trains_further(
    tiny_cnn_path, tmp_path, extension
):
    model = kd.DreamModel(kd.Channel("conv2", [4, 2]), tiny_cnn_path, size=16,
                                 parameterization="fourier")
    kd.train(model, 10)
    images = kd.render(model)
    path = str(tmp_path / f"dream.{extension}")
    save_dream(model.generator, path)

    reloaded = load_dream(path)
    np.testing.assert_array_equal(reloaded.render(), images)
    if extension == "keras":  # plain Keras, safe mode, no kerasdream loader
        plain = keras.models.load_model(path, safe_mode=True)
        np.testing.assert_array_equal(plain.render(), images)

    resumed = kd.rebuild(reloaded)
    kd.train(resumed, 10)
    assert not np.array_equal(kd.render(resumed), images)


def test_select_keeps_the_rows_kernels_and_targets(tiny_cnn_path):
    model = kd.DreamModel(kd.Channel("conv2", [4, 2, 5]), tiny_cnn_path, size=16)
    kd.train(model, 5)
    generator = kd.generator_of(model)
    part = generator.select([2])
    np.testing.assert_array_equal(part.render()[0], generator.render()[2])
    assert part.row_keys == [2]
    assert kd.objectives.get(part.spec["objective"]).terms[0][1].index == [5]


def test_in_memory_base_trains_but_cannot_be_rebuilt():
    model = kd.DreamModel(kd.Channel("pick", 0), colour_picker(), size=8,
                                 transforms=None)
    kd.train(model, 5)
    with pytest.raises(kd.DreamError, match="in-memory"):
        kd.rebuild(kd.generator_of(model))


# ------------------------------------------------ the user's network is left alone


def users_cnn():
    """A small trainable CNN as a user holds it, with Keras' default layer names."""
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Conv2D(3, 3, padding="same", activation="relu")(x)
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs)
    model.get_layer(index=2).trainable = False  # a choice of the user's, kept as it is
    return model


def test_the_users_model_keeps_its_weights_flags_and_still_trains():
    keras.utils.set_random_seed(0)
    model = users_cnn()
    conv = model.layers[1].name  # "conv2d..." as Keras named it
    weights = [w.copy() for w in model.get_weights()]
    flags = [layer.trainable for layer in model._flatten_layers()]
    state = np.random.get_state()[1].copy()

    dream = kd.DreamModel(kd.Channel(conv, [0, 1]) + kd.ClassLogit(1), model, size=8)
    dream.compile()
    dream.fit(10)
    assert dream.render().shape == (2, 8, 8, 3)

    for old, new in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert [layer.trainable for layer in model._flatten_layers()] == flags
    assert getattr(model, "optimizer", None) is None
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # numpy's global stream
    # And it still trains: compile and fit change its trainable weights.
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(np.ones((4, 8, 8, 3), "float32"), np.ones((4, 2), "float32"), verbose=0)
    changed = [not np.array_equal(old, new) for old, new in zip(weights, model.get_weights())]
    assert changed[0] and not changed[2]  # the first conv trained, the frozen one did not


def test_a_model_saved_with_default_layer_names_dreams_after_a_fresh_start(tmp_path):
    # Keras numbers default names per session: after a restart, a layer built
    # without a name would be called "conv2d" again and clash with the
    # loaded model's "conv2d". kerasdream's own layers must never do that.
    keras.backend.clear_session()
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.Conv2D(3, 3, activation="relu")(x)
    model = keras.Model(inputs, x)
    assert [layer.name for layer in model.layers[1:]] == ["conv2d", "conv2d_1"]
    path = str(tmp_path / "defaults.keras")
    model.save(path)
    keras.backend.clear_session()  # what a fresh process sees

    objective = kd.Channel("conv2d:pre", 0) + kd.Channel("conv2d_1", 1) + kd.ClassLogit(2)
    dream = kd.DreamModel(objective, path, size=8)
    dream.compile()
    dream.fit(2)
    assert dream.render().shape == (1, 8, 8, 3)


def test_an_in_memory_keras_application_gets_its_own_preprocessing():
    mobilenet = keras.applications.MobileNet(alpha=0.25, weights=None, include_top=False,
                                             input_shape=(None, None, 3))
    assert kd.DreamModel(kd.Channel("conv_pw_1_relu", 0), mobilenet, size=32) \
        .preprocess.mode == "tf"
    # A network of the user's own carries its own Rescaling: no second preprocessing.
    assert kd.DreamModel(kd.Channel("relu1", 0), tiny_cnn(), size=8).preprocess.mode == "none"
    with pytest.raises(kd.DreamError, match="preprocess='rgb'"):
        kd.DreamModel(kd.Channel("relu1", 0), tiny_cnn(), size=8, preprocess="rgb")


def test_the_base_cache_sees_a_model_file_rewritten_at_the_same_path(tmp_path):
    path = str(tmp_path / "net.keras")
    first = tiny_cnn()
    first.save(path)
    np.testing.assert_array_equal(load_base(path).get_weights()[0], first.get_weights()[0])
    second = tiny_cnn()
    second.set_weights([w + 1.0 for w in second.get_weights()])
    second.save(path)
    np.testing.assert_array_equal(load_base(path).get_weights()[0], second.get_weights()[0])


# ------------------------------------------------------- the objective's own sum


def test_each_dreams_step_is_its_own_gradient_whatever_the_batch_size(colour_picker_path):
    # Plain SGD (not scale-invariant like RowNormalizedSGD): a loss divided
    # by the batch size would move a row of a 3-dream batch a third as far.
    # Pixels 255 * sigmoid(raw), Channel "pick" 0 = the mean red over 8x8 = 64
    # pixels: d value / d raw_red(p) = 255 * s (1 - s) / 64 at every pixel p.
    def one_step(filters, row_keys):
        model = kd.DreamModel(kd.Channel("pick", filters), colour_picker_path, size=8,
                              parameterization="pixels", transforms=None, row_keys=row_keys)
        start = keras.ops.convert_to_numpy(model.generator.kernel).copy()
        model.compile(keras.optimizers.SGD(learning_rate=1.0))
        model.fit(1)
        return start, keras.ops.convert_to_numpy(model.generator.kernel)

    start, end = one_step([0, 0, 0], [0, 1, 2])
    s = 1.0 / (1.0 + np.exp(-start))
    expected = start + 255.0 * s * (1 - s) / 64
    red = np.zeros((8, 8, 3), bool)
    red[..., 0] = True
    red = red.reshape(-1)
    np.testing.assert_allclose(end[:, red], expected[:, red], rtol=1e-5)
    np.testing.assert_array_equal(end[:, ~red], start[:, ~red])  # green and blue: no gradient
    alone_start, alone_end = one_step([0], [1])
    np.testing.assert_allclose(alone_end[0], end[1], rtol=1e-6)


def test_training_with_diversity_makes_dreams_of_one_filter_differ(tiny_cnn_path):
    def grams(diversity):
        objective = kd.Channel("relu2", [2, 2, 2]) + diversity * kd.Diversity("relu2")
        model = kd.DreamModel(objective, tiny_cnn_path, size=16, seed=1)
        model.compile()
        model.fit(60)
        features = model.feature_values()["relu2"].reshape(3, -1, 6)
        g = np.stack([f.T @ f for f in features]).reshape(3, -1)
        g /= np.linalg.norm(g, axis=1, keepdims=True)
        similarity = g @ g.T
        return similarity[np.triu_indices(3, 1)].mean()

    assert grams(5.0) < grams(0.0) - 0.05


# ------------------------------------------------------------- one trace, many chunks


def test_restart_points_a_traced_model_at_other_filters_like_a_fresh_one(tiny_cnn_path):
    transforms = [kd.transforms.Jitter(2), kd.transforms.Scale(0.1)]
    model = kd.DreamModel(kd.Channel("relu2", [0, 1]), tiny_cnn_path, size=16, seed=3,
                          transforms=transforms, row_keys=[0, 1])
    model.compile(keras.optimizers.Adam(0.05))
    model.fit(10)
    traced = model.train_function
    model.restart(kd.Channel("relu2", [4, 5]), row_keys=[4, 5])
    model.fit(10)
    assert model.train_function is traced  # no new trace for the second chunk

    fresh = kd.DreamModel(kd.Channel("relu2", [4, 5]), tiny_cnn_path, size=16, seed=3,
                          transforms=transforms, row_keys=[4, 5])
    fresh.compile(keras.optimizers.Adam(0.05))
    fresh.fit(10)
    np.testing.assert_allclose(model.images(), fresh.images(), atol=1e-3)


def test_restart_needs_an_objective_of_the_same_kind(tiny_cnn_path):
    model = kd.DreamModel(kd.Channel("relu2", [0, 1]), tiny_cnn_path, size=16)
    with pytest.raises(kd.DreamError, match=r"same kind.*Received: Neuron\('relu2'"):
        model.restart(kd.Neuron("relu2", [0, 1]))
    with pytest.raises(kd.DreamError, match="2 per-dream targets|3 per-dream targets"):
        model.restart(kd.Channel("relu2", [0, 1, 2]))


def test_fit_feeds_its_own_rows(tiny_cnn_path):
    model = kd.DreamModel(kd.Channel("relu2", 0), tiny_cnn_path, size=16)
    with pytest.raises(kd.DreamError, match=r"feeds its own one-hot rows.*Received: x="):
        model.fit(x=np.eye(1))
    model.fit(3)  # compiles itself with the default optimizer
    assert int(model.optimizer.iterations) == 3


@keras.saving.register_keras_serializable(package="kerasdream_tests")
class ChannelGap(kd.objectives.Term):
    """A term reading two layers at once: relu2's channel 0 minus relu1's channel 0."""

    def reads(self):
        return ["relu2", "relu1"]

    def evaluate(self, features, target=None):
        high = keras.ops.mean(features["relu2"][..., 0], axis=(1, 2))
        low = keras.ops.mean(features["relu1"][..., 0], axis=(1, 2))
        return high - low


def test_a_term_may_read_several_layers_at_once(tiny_cnn_path):
    model = kd.DreamModel(ChannelGap(None), tiny_cnn_path, size=16, num_dreams=2,
                          parameterization="pixels", transforms=None)
    assert set(model.feature_values()) == {"relu1", "relu2"}
    features = model.feature_values()
    expected = features["relu2"][..., 0].mean(axis=(1, 2)) - features["relu1"][..., 0].mean(
        axis=(1, 2))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(np.eye(2, dtype="float32"))),
                               expected, rtol=1e-5, atol=1e-6)
    model.compile()
    model.fit(20)
    after = model.feature_values()
    gap = after["relu2"][..., 0].mean(axis=(1, 2)) - after["relu1"][..., 0].mean(axis=(1, 2))
    assert np.all(gap > expected)


def test_a_kernel_gone_non_finite_after_the_last_loss_is_caught_and_restored(tiny_cnn_path):
    # The loss of the last step was finite, but the update that followed left
    # row 1 non-finite: the guard checks the kernel itself when fit ends.
    class Spoil(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch + 1 < 12:  # only after the last step's loss was checked
                return
            kernel = keras.ops.convert_to_numpy(self.model.generator.kernel).copy()
            kernel[1, :5] = np.nan
            self.model.generator.kernel.assign(kernel)

    model = kd.DreamModel(kd.Channel("relu2", [0, 1]), tiny_cnn_path, size=16,
                          parameterization="pixels", transforms=None)
    model.compile(steps_per_execution=1)
    with pytest.raises(kd.NonFiniteError) as error:
        model.fit(12, callbacks=[Spoil()])
    assert error.value.rows == [1]
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(model.generator.kernel)))


def test_the_one_hot_dataset_repeats_the_identity_without_tf_data_autotuning():
    """Autotuning made the end of a `fit` call wait 0.5-1.3 s for its thread
    (benchmarks/fit_end_wait.py); one constant tensor needs no tuning."""
    from kerasdream.model import dream_dataset

    dataset = dream_dataset(3)
    assert dataset.options().autotune.enabled is False
    for rows in dataset.take(2):
        np.testing.assert_array_equal(rows.numpy(), np.eye(3, dtype="float32"))
