"""The natural reference: a folder of the user's own photos instead of skimage's.

The colour picker (`conftest.colour_picker`: channel 0 = red, 1 = green,
2 = blue, 3 = red - blue, fed raw pixels) and photos of one flat colour
make every expected value follow by hand: a flat crop's channel mean is its
colour, and so is every view of a flat dream.
"""

import hashlib
import os

import numpy as np
import pytest
from PIL import Image

from kerasdream.errors import DreamError
from kerasdream.evaluation import (
    SKIMAGE,
    folder_reference,
    reference_crops,
    reference_photos,
    score_dreams,
)

from conftest import colour_picker, tiny_cnn


def flat_photo(folder, name, colour, size=(40, 60)):
    """A photo of one colour, `size` (height, width)."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    Image.fromarray(np.full((*size, 3), colour, "uint8")).save(path)
    return path


def flat(colour, count=1, size=8):
    return np.full((count, size, size, 3), colour, "uint8")


def test_photos_are_taken_evenly_over_the_folder_and_only_those_that_decode(tmp_path):
    for i in range(30):
        flat_photo(tmp_path, f"p{i:02d}.png", (i, 0, 0), size=(4, 4))
    flat_photo(tmp_path / "out", "dream.png", (9, 9, 9))  # the tool's own output: excluded

    reference = folder_reference(str(tmp_path), exclude=[str(tmp_path / "out")], count=4)
    # round(i * 29 / 3) for i = 0..3: 0, 10 (9.67), 19 (19.33), 29.
    assert reference.names == ("p00.png", "p10.png", "p19.png", "p29.png")
    assert reference.folder == os.path.abspath(tmp_path)
    assert reference.digests[1] == hashlib.sha256((tmp_path / "p10.png").read_bytes()).hexdigest()
    assert reference.describe() == f"your 4 photos of {os.path.abspath(tmp_path)}"
    assert reference.is_own and not SKIMAGE.is_own and SKIMAGE.key == "skimage"

    assert folder_reference(str(tmp_path), exclude=[str(tmp_path / "out")],
                            count=1).names == ("p00.png",)
    with pytest.raises(DreamError, match="count must be a positive integer"):
        folder_reference(str(tmp_path), count=0)

    (tmp_path / "p10.png").write_bytes(b"not an image")  # a .png that does not decode
    assert folder_reference(str(tmp_path), exclude=[str(tmp_path / "out")],
                            count=4).names == ("p00.png", "p19.png", "p29.png")


def test_the_key_changes_with_a_photo_s_content_and_not_with_its_time(tmp_path):
    flat_photo(tmp_path, "a.png", (10, 20, 30))
    flat_photo(tmp_path, "b.png", (0, 0, 0))
    key = folder_reference(str(tmp_path)).key
    os.utime(tmp_path / "a.png", (1, 1))
    assert folder_reference(str(tmp_path)).key == key
    flat_photo(tmp_path, "a.png", (10, 20, 31))  # same name, size and format
    assert folder_reference(str(tmp_path)).key != key


def test_an_empty_folder_or_one_that_is_not_there_is_a_one_line_error(tmp_path):
    with pytest.raises(DreamError, match="has no images"):
        folder_reference(str(tmp_path))
    with pytest.raises(DreamError, match="does not exist or is not a folder"):
        folder_reference(str(tmp_path / "missing"))
    (tmp_path / "a.png").write_bytes(b"not an image")
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(DreamError) as error:
        folder_reference(str(tmp_path))
    assert str(error.value) == (f"None of the 2 photos tried in the examples folder could be "
                                f"decoded. Expected JPEG or PNG files. Received: "
                                f"examples={str(tmp_path)!r}")


def test_the_crops_of_flat_photos_are_their_colours_in_the_network_s_channels(tmp_path):
    flat_photo(tmp_path, "a_red.png", (200, 10, 10), size=(40, 60))
    flat_photo(tmp_path, "b_blue.png", (0, 0, 90), size=(50, 30))
    reference = folder_reference(str(tmp_path))

    crops = reference_crops(reference, 8)
    assert crops.shape == (12, 8, 8, 3) and crops.dtype == np.uint8  # six crops a photo
    np.testing.assert_array_equal(crops[:6], flat((200, 10, 10), 6))
    np.testing.assert_array_equal(crops[6:], flat((0, 0, 90), 6))
    grey = reference_crops(reference, (8, 6), channels=1)
    assert grey.shape == (12, 8, 6, 1)
    # ITU-R 601 luma: 0.299 * 200 + 0.587 * 10 + 0.114 * 10 = 66.81; 0.114 * 90 = 10.26.
    assert set(grey[:6].ravel()) == {67} and set(grey[6:].ravel()) == {10}


def test_a_large_photo_is_read_no_larger_than_its_crops_need(tmp_path):
    flat_photo(tmp_path, "big.png", (1, 2, 3), size=(2000, 3000))
    (photo,) = reference_photos(folder_reference(str(tmp_path)), 20)
    assert photo.shape == (20, 30, 3)  # the shorter side at 20, the aspect kept


def test_the_natural_ratio_is_measured_against_the_user_s_photos(tmp_path):
    """Channel maxima over the crops: red 100, blue 50 (green never above 0)."""
    flat_photo(tmp_path, "red.png", (100, 0, 0))
    flat_photo(tmp_path, "blue.png", (0, 0, 50))
    reference = folder_reference(str(tmp_path))
    picker = colour_picker()
    dreams = np.concatenate([flat((200, 0, 25)), flat((50, 0, 25))])

    records = score_dreams(picker, "pick", dreams, [0, 2], "none", reference=reference)
    assert records[0]["natural_max"] == pytest.approx(100.0)
    assert records[0]["natural_ratio"] == pytest.approx(2.0)  # 200 / 100
    assert records[0]["robust_natural_ratio"] == pytest.approx(2.0)  # views of a flat dream
    assert records[1]["natural_ratio"] == pytest.approx(0.5)  # 25 / 50
    assert records[0]["reference"] == records[1]["reference"] == reference.key
    # Green never rises above 0 on these photos: no ratio, but not "constant" either
    # (that is the network's property, read on skimage's varied crops).
    green = score_dreams(picker, "pick", flat((0, 30, 0)), [1], "none", reference=reference)[0]
    assert green["natural_ratio"] is None and green["constant_channel"] is False

    # The same network object, the same dreams, skimage's photos: another yardstick,
    # kept apart from the folder's in the network's memo.
    default = score_dreams(picker, "pick", dreams, [0, 2], "none")
    assert default[0]["reference"] == "skimage"
    assert default[0]["natural_max"] > 150  # skimage's reddest crop is redder than 100
    again = score_dreams(picker, "pick", dreams, [0, 2], "none", reference=reference)
    assert again[0]["natural_ratio"] == pytest.approx(2.0)


def test_the_path_check_needs_two_photos_of_the_user_s_own(tmp_path):
    network = tiny_cnn(8)
    dreams = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3)).astype("uint8")
    flat_photo(tmp_path, "one.png", (120, 60, 30))
    alone = score_dreams(network, "relu2", dreams, [0, 1], "none",
                         reference=folder_reference(str(tmp_path)))
    # One photo's crops say nothing of how alike photos are: no floor, no verdict.
    assert [r["off_path"] for r in alone] == [None, None] and alone[0]["path_layer"] is None
    photo = np.random.default_rng(1).integers(0, 256, (40, 60, 3)).astype("uint8")
    Image.fromarray(photo).save(tmp_path / "two.png")
    two = score_dreams(network, "relu2", dreams, [0, 1], "none",
                       reference=folder_reference(str(tmp_path)))
    assert [r["path_layer"] for r in two] == ["relu1", "relu1"]
    assert all(isinstance(r["off_path"], bool) for r in two)


def test_a_photo_changed_after_the_reference_was_made_is_named(tmp_path):
    flat_photo(tmp_path, "a.png", (1, 1, 1))
    reference = folder_reference(str(tmp_path))
    flat_photo(tmp_path, "a.png", (2, 2, 2))
    with pytest.raises(DreamError, match="changed during the run") as error:
        reference_photos(reference, 17)
    assert str(tmp_path / "a.png") in str(error.value)
