"""TensorBoard summaries: image and scalar events written, then read back from the file."""

import glob
import io

import numpy as np
import pytest
from PIL import Image

from kerasdream.series import DreamSeries
from kerasdream.summaries import ImageSummaries, png_bytes, summaries_unavailable

tf = pytest.importorskip("tensorflow")


def events(run_dir):
    """(tag, step, plugin, value) of every summary value in the run's event files."""
    found = []
    for path in sorted(glob.glob(f"{run_dir}/events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                found.append((value.tag, event.step, value.metadata.plugin_data.plugin_name,
                              tf.make_ndarray(value.tensor)))
    return found


def decoded(png):
    return np.asarray(Image.open(io.BytesIO(png)))


def test_png_bytes_round_trip_colour_and_grey():
    colour = np.arange(2 * 3 * 3, dtype="uint8").reshape(2, 3, 3) * 10
    np.testing.assert_array_equal(decoded(png_bytes(colour)), colour)
    grey = np.array([[[0], [255]], [[7], [128]]], "uint8")
    np.testing.assert_array_equal(decoded(png_bytes(grey)), grey[..., 0])


@pytest.mark.backends
def test_an_image_and_a_scalar_are_read_back_as_tensorboard_wrote_them(tmp_path):
    # TensorFlow writes the events whatever Keras backend trains.
    assert summaries_unavailable() is None
    image = np.zeros((2, 3, 3), "uint8")
    image[0, 1] = (255, 0, 0)
    writer = ImageSummaries(str(tmp_path))
    writer.image("dreams/one", image, step=3)
    writer.scalar("dream_activation/one", 1.25, step=4)
    writer.flush()

    (image_tag, image_step, image_plugin, tensor), (tag, step, plugin, value) = events(tmp_path)
    assert (image_tag, image_step, image_plugin) == ("dreams/one", 3, "images")
    # tf.summary.image's layout: [width, height, PNG bytes].
    assert list(tensor[:2]) == [b"3", b"2"]
    np.testing.assert_array_equal(decoded(tensor[2]), image)
    assert (tag, step, plugin) == ("dream_activation/one", 4, "scalars")
    assert value.dtype == np.float32 and float(value) == 1.25


def test_write_adds_the_grid_each_dream_and_each_activation_at_the_step(tmp_path):
    series = DreamSeries(["filter 0", "filter 3"], title="conv2")
    frames = np.zeros((2, 8, 8, 3), "uint8")
    frames[0, ..., 1] = 200
    frames[1, ..., 2] = 50
    series.add("epoch 0", frames)
    writer = ImageSummaries(str(tmp_path))
    writer.write(2, series, np.array([0.5, -1.5]))

    found = {tag: (step, plugin, value) for tag, step, plugin, value in events(tmp_path)}
    assert sorted(found) == ["dream_activation/filter_0", "dream_activation/filter_3",
                             "dreams/filter_0", "dreams/filter_3", "dreams/grid"]
    assert {step for step, _, _ in found.values()} == {2}
    np.testing.assert_array_equal(decoded(found["dreams/grid"][2][2]), series.grid())
    for name, dream in (("filter_0", 0), ("filter_3", 1)):
        step, plugin, value = found[f"dreams/{name}"]
        # Each dream enlarged 8x to 64 px, as in the grid.
        assert plugin == "images" and list(value[:2]) == [b"64", b"64"]
        np.testing.assert_array_equal(decoded(value[2]),
                                      np.broadcast_to(frames[dream, 0, 0], (64, 64, 3)))
    assert float(found["dream_activation/filter_0"][2]) == 0.5
    assert float(found["dream_activation/filter_3"][2]) == -1.5
