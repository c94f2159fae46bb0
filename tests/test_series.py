"""DreamSeries: the same dreams moment by moment as labelled grids, strips and GIFs.

Geometry of `io.grid`, by hand: tiles 4 px apart and from the edge, a 14-px
label band under each tile, an 18-px title band on top. Dreams of 8 px are
enlarged 8x (nearest neighbour) to 64 px.
"""

import os

import numpy as np
import pytest
from PIL import Image

from kerasdream.errors import DreamError
from kerasdream.io import load_image
from kerasdream.series import DreamSeries, enlarged, read_gif, save_gif

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)
PAD, LABEL, TITLE, SIDE = 4, 14, 18, 64


def solid(*colours, size=8):
    """One frame: dream i is a flat `colours[i]` image of `size` px."""
    return np.stack([np.full((size, size, 3), c, "uint8") for c in colours])


def series():
    frames = DreamSeries(["filter 0", "filter 3"], title="conv2")
    frames.add("epoch 0", solid(RED, BLUE))
    frames.add("epoch 1", solid(GREEN, YELLOW))
    return frames


def tile(picture, row, column, top=TITLE):
    """The tile at (row, column) of a grid of 64-px tiles with labels."""
    y = top + PAD + row * (SIDE + LABEL + PAD)
    x = PAD + column * (SIDE + PAD)
    return picture[y:y + SIDE, x:x + SIDE]


def label_band(picture, row, column, top=TITLE):
    y = top + PAD + row * (SIDE + LABEL + PAD) + SIDE + 1
    x = PAD + column * (SIDE + PAD)
    return picture[y:y + LABEL - 1, x:x + SIDE]


def is_flat(picture, colour):
    return bool(np.all(picture == np.array(colour, "uint8")))


def has_ink(picture):
    return bool((picture.min(axis=-1) < 128).any())  # some dark (text) pixels


def test_enlarged_repeats_pixels_by_a_whole_factor():
    image = np.arange(2 * 3 * 3 * 1, dtype="uint8").reshape(2, 3, 3, 1)
    big = enlarged(image, min_side=7)  # factor ceil(7 / 3) = 3
    assert big.shape == (2, 9, 9, 1)
    np.testing.assert_array_equal(big[:, ::3, ::3], image)
    np.testing.assert_array_equal(big[:, 2::3, 1::3], image)
    np.testing.assert_array_equal(enlarged(image, min_side=3), image)  # factor 1
    assert enlarged(solid(RED, size=20)).shape == (1, 80, 80, 3)  # factor ceil(64 / 20) = 4


def test_a_grid_shows_every_dream_of_one_moment_labelled_under_its_title():
    frames = series()
    picture = frames.grid()  # the last moment
    assert picture.shape == (TITLE + SIDE + LABEL + 2 * PAD, 2 * (SIDE + PAD) + PAD, 3)
    assert is_flat(tile(picture, 0, 0), GREEN) and is_flat(tile(picture, 0, 1), YELLOW)
    assert is_flat(tile(frames.grid(0), 0, 0), RED) and is_flat(tile(frames.grid(0), 0, 1), BLUE)
    assert has_ink(label_band(picture, 0, 0)) and has_ink(label_band(picture, 0, 1))
    assert has_ink(picture[:TITLE])
    # The caption is in the title: another caption changes the title band only.
    other = DreamSeries(frames.labels, title="conv2")
    other.add("epoch 9", frames.frames[-1])
    differs = np.any(other.grid() != picture, axis=(1, 2))
    assert differs[:TITLE].any() and not differs[TITLE:].any()


def test_a_strip_shows_one_dream_at_every_moment_left_to_right():
    strip = series().strip(1)
    assert strip.shape == (TITLE + SIDE + LABEL + 2 * PAD, 2 * (SIDE + PAD) + PAD, 3)
    assert is_flat(tile(strip, 0, 0), BLUE) and is_flat(tile(strip, 0, 1), YELLOW)
    assert has_ink(label_band(strip, 0, 0)) and has_ink(label_band(strip, 0, 1))


def test_more_than_ten_dreams_wrap_at_eight_columns():
    frames = DreamSeries([f"filter {k}" for k in range(11)])
    frames.add("epoch 0", solid(*[RED] * 11))
    picture = frames.grid()  # no title: the caption alone is the title
    assert picture.shape == (TITLE + 2 * (SIDE + LABEL + PAD) + PAD, 8 * (SIDE + PAD) + PAD, 3)
    assert is_flat(tile(picture, 1, 2), RED) and has_ink(picture[:TITLE])


def test_write_gives_strips_gifs_and_a_grid_gif_with_a_frame_per_moment(tmp_path):
    frames = series()
    written = frames.write(str(tmp_path))
    names = ["filter_0.png", "filter_0.gif", "filter_3.png", "filter_3.gif", "grid.gif"]
    assert written == [str(tmp_path / name) for name in names]
    assert sorted(os.listdir(tmp_path)) == sorted(names)  # nothing else, no temporaries
    np.testing.assert_array_equal(load_image(str(tmp_path / "filter_3.png")), frames.strip(1))

    gif = read_gif(str(tmp_path / "filter_0.gif"))
    assert len(gif) == 2
    for picture, colour in zip(gif, (RED, GREEN)):
        # One tile, labelled with its moment, no title.
        assert picture.shape == (SIDE + LABEL + 2 * PAD, SIDE + 2 * PAD, 3)
        assert is_flat(tile(picture, 0, 0, top=0), colour)
        assert has_ink(label_band(picture, 0, 0, top=0))
    grids = read_gif(str(tmp_path / "grid.gif"))
    assert len(grids) == 2
    for index, picture in enumerate(grids):
        np.testing.assert_array_equal(picture, frames.grid(index))
    assert DreamSeries(["a"]).write(str(tmp_path / "none")) == []


def test_a_gif_holds_its_last_frame_three_times_as_long(tmp_path):
    path = str(tmp_path / "moments.gif")
    save_gif(path, list(solid(RED, GREEN, BLUE)), frame_ms=100)
    durations = []
    with Image.open(path) as image:
        for index in range(image.n_frames):
            image.seek(index)
            durations.append(image.info["duration"])
        assert image.info.get("loop") == 0
    assert durations == [100, 100, 300]
    assert [tuple(frame[0, 0]) for frame in read_gif(path)] == [RED, GREEN, BLUE]
    with pytest.raises(DreamError, match="Received: 0 frames"):
        save_gif(path, [])


def test_file_stems_are_the_labels_when_safe_else_the_dream_index():
    frames = DreamSeries(["filter 3", "class: cat", "", "logit-2.5"])
    assert [frames.file_stem(i) for i in range(4)] == ["filter_3", "dream_1", "dream_2",
                                                       "logit-2.5"]


def test_frames_must_match_the_labels_and_the_first_frame():
    frames = DreamSeries(["a", "b"])
    with pytest.raises(DreamError, match=r"Expected 2 dreams a frame.*\(3, 8, 8, 3\)"):
        frames.add("epoch 0", solid(RED, RED, RED))
    frames.add("epoch 0", solid(RED, RED))
    with pytest.raises(DreamError, match=r"\(2, 8, 8, 3\). Received: \(2, 4, 4, 3\)"):
        frames.add("epoch 1", solid(RED, RED, size=4))
    assert len(frames) == 1 and frames.captions == ["epoch 0"]
