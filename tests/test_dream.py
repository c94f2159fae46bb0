"""The core: a Dense kernel on a one-hot input trained by `fit` into dreams."""

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream.bases import load_base
from kerasdream.io import load_dream, save_dream

from conftest import colour_picker


def test_colour_picker_dreams_are_exactly_the_colour_of_their_filter(colour_picker_path):
    # Filter 0 sums red, 1 green, 2 blue, 3 red minus blue (1x1 conv, no bias,
    # no preprocessing). Maximizing a filter's mean can only push the colours
    # it reads: the others get an exactly zero gradient and keep their start.
    model = kd.build_dream_model(
        kd.Channel("pick", [0, 1, 2, 3]), colour_picker_path, size=8, transforms=None
    )
    start = kd.generator_of(model).images()
    kd.train(model, 60)
    end = kd.generator_of(model).images()

    for row, colour in enumerate([0, 1, 2]):
        assert end[row, ..., colour].min() > 250
        others = [c for c in range(3) if c != colour]
        np.testing.assert_array_equal(end[row, ..., others], start[row, ..., others])
    assert end[3, ..., 0].min() > 250 and end[3, ..., 2].max() < 5
    np.testing.assert_array_equal(end[3, ..., 1], start[3, ..., 1])


def test_fit_raises_the_filter_and_leaves_the_base_alone(tiny_cnn_path):
    base = load_base(tiny_cnn_path)
    weights_before = [w.copy() for w in base.get_weights()]
    model = kd.build_dream_model(kd.Channel("relu2", 2), tiny_cnn_path, size=16, seed=3)

    def activation():
        images = kd.generator_of(model).images()
        features = keras.Model(base.inputs, base.get_layer("relu2").output)(images)
        return float(np.mean(keras.ops.convert_to_numpy(features)[..., 2]))

    before = activation()
    kd.train(model, 40)
    assert activation() > before + 0.5
    for old, new in zip(weights_before, base.get_weights()):
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize("steps, per_call", [(1, 1), (7, 7), (30, 15), (200, 25), (29, 1)])
def test_fit_runs_exactly_the_steps_asked_several_per_call(tiny_cnn_path, steps, per_call):
    assert kd.dream.default_steps_per_execution(steps) == per_call
    model = kd.build_dream_model(kd.Channel("relu2", [0, 1]), tiny_cnn_path, size=8)
    calls = []
    callback = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: calls.append(batch))
    kd.train(model, steps, callbacks=[callback])
    assert int(model.optimizer.iterations) == steps
    # Keras reports the last step of each call.
    assert calls == list(range(per_call - 1, steps, per_call))


def test_progress_bar_counts_every_dream_step_with_several_steps_per_call(tiny_cnn_path):
    model = kd.build_dream_model(kd.Channel("relu2", [0, 1]), tiny_cnn_path, size=8)
    bar = keras.utils.Progbar(2 * 30, verbose=0)
    kd.train(model, 30, callbacks=[kd.dream.DreamProgress(bar, dreams=2)])  # 2 calls of 15
    assert bar._seen_so_far == 2 * 30


def test_steps_per_execution_must_divide_the_steps(tiny_cnn_path):
    model = kd.build_dream_model(kd.Channel("relu2", 0), tiny_cnn_path, size=8)
    with pytest.raises(kd.DreamError, match=r"must divide steps=10.*steps_per_execution=4"):
        kd.train(model, 10, steps_per_execution=4)
    with pytest.raises(kd.DreamError, match=r"positive integer.*steps_per_execution=0"):
        kd.train(model, 10, steps_per_execution=0)
    kd.train(model, 10, steps_per_execution=np.int64(5))
    assert int(model.optimizer.iterations) == 10


def test_only_the_dense_kernel_is_trainable(tiny_cnn_path):
    model = kd.build_dream_model(kd.Channel("conv2", [0, 1]), tiny_cnn_path, size=16)
    assert [v.path for v in model.trainable_variables] == [
        "dream_generator/dream_kernel/kernel"
    ]
    assert model.trainable_variables[0].shape == (2, 16 * 16 * 3)


def test_one_batched_run_equals_one_run_per_dream(tiny_cnn_path):
    # Keras >= 3.14 divides activity losses by the batch size; the objective
    # compensates, jitter is shared by the batch and row i's start depends
    # only on (seed, row key): so N dreams in one fit = N separate fits.
    filters = [0, 3, 5, 1]
    batched = kd.build_dream_model(kd.Channel("conv2", filters), tiny_cnn_path, size=16, seed=7)
    kd.train(batched, 25)
    together = kd.generator_of(batched).images()

    for row, k in enumerate(filters):
        alone = kd.build_dream_model(
            kd.Channel("conv2", k), tiny_cnn_path, size=16, seed=7, row_keys=[row]
        )
        kd.train(alone, 25)
        single = kd.generator_of(alone).images()[0]
        assert np.max(np.abs(single - together[row])) < 1e-2, f"dream {row} differs"
    # And the dreams did move: the check above is not comparing starting noise.
    start = kd.generator_of(
        kd.build_dream_model(kd.Channel("conv2", filters), tiny_cnn_path, size=16, seed=7)
    ).images()
    assert np.max(np.abs(together - start)) > 20


def test_same_seed_same_images_other_seed_other_images(tiny_cnn_path):
    def run(seed):
        model = kd.build_dream_model(kd.Channel("conv2", [0, 1]), tiny_cnn_path, size=16,
                                     seed=seed)
        kd.train(model, 10)
        return kd.render(model)

    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


@pytest.mark.parametrize("extension", ["keras", "h5"])
def test_saved_dream_reloads_renders_the_same_and_trains_further(
    tiny_cnn_path, tmp_path, extension
):
    model = kd.build_dream_model(kd.Channel("conv2", [4, 2]), tiny_cnn_path, size=16,
                                 parameterization="fourier")
    kd.train(model, 10)
    images = kd.render(model)
    path = str(tmp_path / f"dream.{extension}")
    save_dream(model, path)

    reloaded = load_dream(path)
    np.testing.assert_array_equal(reloaded.render(), images)
    if extension == "keras":  # plain Keras, safe mode, no kerasdream loader
        plain = keras.models.load_model(path, safe_mode=True)
        np.testing.assert_array_equal(plain.render(), images)

    resumed = kd.rebuild(reloaded)
    kd.train(resumed, 10)
    assert not np.array_equal(kd.render(resumed), images)


def test_select_keeps_the_rows_kernels_and_targets(tiny_cnn_path):
    model = kd.build_dream_model(kd.Channel("conv2", [4, 2, 5]), tiny_cnn_path, size=16)
    kd.train(model, 5)
    generator = kd.generator_of(model)
    part = generator.select([2])
    np.testing.assert_array_equal(part.render()[0], generator.render()[2])
    assert part.row_keys == [2]
    assert kd.objectives.get(part.spec["objective"]).terms[0][1].index == [5]


def test_in_memory_base_trains_but_cannot_be_rebuilt():
    model = kd.build_dream_model(kd.Channel("pick", 0), colour_picker(), size=8,
                                 transforms=None)
    kd.train(model, 5)
    with pytest.raises(kd.DreamError, match="in-memory"):
        kd.rebuild(kd.generator_of(model))
