"""DreamCallback: dreams during the user's own fit, without changing what it learns."""

import glob
import os
import random

import keras
import numpy as np
import pytest
from PIL import Image

import kerasdream as kd
from kerasdream.dream_callback import DreamCallback, default_labels, kept_random_state
from kerasdream.series import read_gif


def red_or_blue(count=64, size=8, seed=1):
    """Images that are mostly red (label 0) or mostly blue (label 1), 0..255."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, count)
    images = rng.uniform(0, 120, (count, size, size, 3)).astype("float32")
    images[labels == 0, ..., 0] += 120
    images[labels == 1, ..., 2] += 120
    return images, labels.astype("int32")


def learner(size=8):
    """Conv (ReLU, so its dream reads a pre-activation twin) -> dropout -> classifier.

    Keras' default layer names, as a user's model has them."""
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(3, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.5)(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))


def conv_name(model):
    return next(layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D))


def numpy_all(variables):
    return [keras.ops.convert_to_numpy(v) for v in variables]


def train(callback_for=None, epochs=2, learning_rate=0.05):
    """A seeded run (shuffled batches, dropout); returns the model and what it ended with."""
    keras.utils.set_random_seed(7)
    model = learner()
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy")
    images, labels = red_or_blue()
    callbacks = [] if callback_for is None else [callback_for(model)]
    history = model.fit(images, labels, epochs=epochs, batch_size=16, shuffle=True, verbose=0,
                        callbacks=callbacks)
    after = {
        "weights": numpy_all(model.weights),
        "optimizer": numpy_all(model.optimizer.variables),
        "trainable": [layer.trainable for layer in model.layers],
        "python": random.random(),
        "numpy": np.random.random(),
        "keras": keras.ops.convert_to_numpy(keras.random.uniform((3,))),
    }
    return model, history, callbacks, after


@pytest.mark.backends  # also on JAX and PyTorch: tests/test_backends.py
def test_a_seeded_run_learns_bitwise_the_same_with_the_callback():
    _, _, _, plain = train()
    model, history, [callback], dreamed = train(
        lambda m: DreamCallback(kd.Channel(conv_name(m), [0, 1]), steps=2))
    assert sorted(callback.activations) == [0, 1, 2]  # baseline + each epoch: it did dream
    for key in ("weights", "optimizer"):
        assert len(plain[key]) == len(dreamed[key])
        for a, b in zip(plain[key], dreamed[key]):
            np.testing.assert_array_equal(a, b)
    # Trainable flags, and the global random streams the run goes on drawing from.
    for key in ("trainable", "python", "numpy"):
        assert plain[key] == dreamed[key], key
    np.testing.assert_array_equal(plain["keras"], dreamed["keras"])
    assert set(history.history) == {"loss", "dream_seconds", "dream_activation"}
    assert all(s > 0 for s in history.history["dream_seconds"])
    np.testing.assert_allclose(history.history["dream_activation"],
                               [np.mean(callback.activations[e]) for e in (1, 2)])


def test_kept_random_state_puts_every_global_stream_back():
    random.seed(1), np.random.seed(1), keras.utils.set_random_seed(1)
    before = (random.getstate(), np.random.get_state()[1].copy())
    with kept_random_state():
        random.random(), np.random.random(), keras.random.uniform(())
        keras.layers.Dense(2).build((None, 2))  # an unseeded initializer draws from `random`
    assert random.getstate() == before[0]
    np.testing.assert_array_equal(np.random.get_state()[1], before[1])
    value = keras.ops.convert_to_numpy(keras.random.uniform(()))
    keras.utils.set_random_seed(1)
    assert value == keras.ops.convert_to_numpy(keras.random.uniform(()))


def test_an_objective_naming_a_layer_the_model_lacks_stops_fit_before_training():
    model = learner()
    model.compile("adam", "sparse_categorical_crossentropy")
    weights = numpy_all(model.weights)
    images, labels = red_or_blue(16)
    callback = DreamCallback(kd.Channel("conv9", 0), steps=2)
    with pytest.raises(kd.DreamError, match=r"No such layer.*conv9") as error:
        model.fit(images, labels, epochs=1, verbose=0, callbacks=[callback])
    assert "layer_name='conv9'" in str(error.value)
    for a, b in zip(weights, numpy_all(model.weights)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad, message", [
    ({"every_n_epochs": 0}, "every_n_epochs=0"),
    ({"steps": -1}, "steps=-1"),
    ({"learning_rate": 0.0}, "learning_rate=0.0"),
])
def test_bad_settings_are_refused_when_the_callback_is_made(bad, message):
    with pytest.raises(kd.DreamError, match=message):
        DreamCallback(kd.Channel("conv2d", 0), **bad)


def test_an_objective_that_is_not_one_is_refused():
    with pytest.raises(kd.DreamError, match="Expected an objective"):
        DreamCallback("conv2d")


def test_labels_name_the_filters_and_classes():
    assert default_labels(kd.Channel("c", [3, 5]), 2) == ["filter 3", "filter 5"]
    assert default_labels(kd.ClassLogit([0, 1, 2]), 3) == ["class 0", "class 1", "class 2"]
    assert default_labels(kd.DeepDream("c"), 2) == ["dream 0", "dream 1"]


def read_events(folder):
    """{tag: {step: value}} from the event files under `folder`: PNG-decoded
    images for the images plugin, floats for scalars."""
    import tensorflow as tf

    found = {}
    for path in glob.glob(os.path.join(folder, "events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(path):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                tensor = tf.make_ndarray(value.tensor)
                plugin = value.metadata.plugin_data.plugin_name
                if plugin == "images":
                    width, height = int(tensor[0]), int(tensor[1])
                    image = tf.io.decode_png(tensor[2]).numpy()
                    assert image.shape[:2] == (height, width)
                    found.setdefault(value.tag, {})[event.step] = image
                elif plugin == "scalars":
                    found.setdefault(value.tag, {})[event.step] = float(tensor)
    return found


@pytest.mark.slow
def test_dreams_change_as_the_model_learns_and_land_in_files_and_tensorboard(tmp_path):
    out, logs = str(tmp_path / "dreams"), str(tmp_path / "logs")
    make = lambda m: DreamCallback(kd.Channel(conv_name(m), [0, 1, 2]), steps=8,  # noqa: E731
                                   every_n_epochs=2, out_dir=out, log_dir=logs,
                                   parameterization="pixels")
    _, history, [callback], _ = train(make, epochs=3, learning_rate=0.2)
    epochs = [0, 2, 3]  # the baseline, every second epoch, and the last
    assert sorted(callback.activations) == epochs
    frames = callback.series.frames
    # The network changed, so did its dreams (the same seeded start each time).
    assert not np.array_equal(frames[0], frames[-1])
    seconds = history.history["dream_seconds"]  # one a epoch; 0 where it did not dream
    assert seconds[0] == 0 and seconds[1] > 0 and seconds[2] > 0
    np.testing.assert_allclose(history.history["dream_activation"],
                               [np.mean(callback.activations[e]) for e in (0, 2, 3)])

    # Files: a grid per dreamed epoch, a strip and a GIF per filter, the grid GIF.
    for epoch in epochs:
        grid = np.asarray(Image.open(os.path.join(out, f"epoch_{epoch:03d}.png")))
        np.testing.assert_array_equal(grid, callback.series.grid(epochs.index(epoch)))
    for k in range(3):
        strip = np.asarray(Image.open(os.path.join(out, f"filter_{k}.png")))
        np.testing.assert_array_equal(strip, callback.series.strip(k))
        assert len(read_gif(os.path.join(out, f"filter_{k}.gif"))) == 3
    assert len(read_gif(os.path.join(out, "grid.gif"))) == 3

    # TensorBoard: the images read back from the event file, step = epochs trained.
    events = read_events(os.path.join(logs, "dreams"))
    assert sorted(events["dreams/grid"]) == epochs
    for index, epoch in enumerate(epochs):
        np.testing.assert_array_equal(events["dreams/grid"][epoch], callback.series.grid(index))
    assert sorted(events["dreams/filter_1"]) == epochs
    assert events["dreams/filter_1"][0].shape == (64, 64, 3)  # 8 px, enlarged 8x
    np.testing.assert_allclose(events["dream_activation/filter_2"][3],
                               callback.activations[3][2], rtol=1e-6)


@pytest.mark.slow
def test_a_network_that_does_not_change_dreams_the_same_picture_every_epoch():
    make = lambda m: DreamCallback(kd.Channel(conv_name(m), [0, 1]), steps=4)  # noqa: E731
    _, _, [callback], _ = train(make, epochs=2, learning_rate=1e-30)
    first, *others = callback.series.frames
    for frame in others:
        np.testing.assert_array_equal(first, frame)


def test_without_tensorflow_it_says_so_and_writes_the_pictures_to_log_dir(tmp_path, monkeypatch):
    from kerasdream import dream_callback

    monkeypatch.setattr(dream_callback, "summaries_unavailable",
                        lambda: "they need TensorFlow, which cannot be imported (test)")
    logs = str(tmp_path / "logs")
    with pytest.warns(UserWarning, match=r"cannot write TensorBoard summaries: they need "
                                         r"TensorFlow.*PNGs and GIFs to '.*logs'"):
        callback = DreamCallback(kd.Channel("conv2d", 0), log_dir=logs)
    assert callback.frames_dir == logs and not callback._summaries_wanted


@pytest.mark.slow
def test_training_stopped_early_dreams_the_last_epoch_it_trained(tmp_path):
    """EarlyStopping ends fit after 2 of 20 epochs; dreams every 5 epochs would
    never reach epoch 2 without the dream at the end of training."""
    keras.utils.set_random_seed(7)
    model = learner()
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    images, labels = red_or_blue(count=16)
    dreams = DreamCallback(kd.Channel(conv_name(model), [0]), every_n_epochs=5, steps=2,
                           size=8, out_dir=str(tmp_path))
    # No loss improves by 1e9: training stops after the second epoch.
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1e9)
    history = model.fit(images, labels, epochs=20, batch_size=16, verbose=0,
                        callbacks=[dreams, stop])
    assert len(history.history["loss"]) == 2
    assert sorted(dreams.activations) == [0, 2]
    assert dreams.series.captions == ["epoch 0", "epoch 2"]
    assert os.path.isfile(tmp_path / "epoch_002.png")
    assert len(read_gif(str(tmp_path / "filter_0.gif"))) == 2
