"""Dataset examples: the photos of a folder that excite each filter most.

`colour_picker` is a 1x1 conv (0 = red, 1 = green, 2 = blue, 3 = red - blue),
so every score below is a pixel value, and where a filter fired is where
the coloured patch is.
"""

import json
import os

import keras
import numpy as np
import pytest
from PIL import Image

from kerasdream.network.bases import BaseSpec
from kerasdream.errors import DreamError
from kerasdream.examples import SHADE, heat_map, layer_examples
from kerasdream.photo_folder import find_images

from conftest import colour_picker


def patch_image(red, green=0, blue=0, at=(2, 5), size=8):
    """Black, with one coloured pixel at `at`."""
    image = np.zeros((size, size, 3), "uint8")
    image[at] = (red, green, blue)
    return image


@pytest.fixture
def photos(tmp_path):
    """12 images in nested folders; red of image i is 20 * i + 10, so the
    top 9 for red are images 11 down to 3; plus one file that is no image."""
    folder = tmp_path / "photos"
    for i in range(12):
        sub = folder / ("a" if i % 2 else "b/c")
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(patch_image(20 * i + 10, green=250 - 20 * i)).save(sub / f"img{i:02}.png")
    (folder / "a" / "broken.jpg").write_bytes(b"not a jpeg")
    (folder / "notes.txt").write_text("not an image either, and not counted")
    return folder


@pytest.fixture
def picker(tmp_path):
    path = str(tmp_path / "picker.keras")
    colour_picker().save(path)
    return BaseSpec(path)


def test_top_nine_by_activation_with_heat_maps_where_the_filter_fired(photos, picker, tmp_path,
                                                                      capsys):
    out = tmp_path / "site"
    result = layer_examples(picker, {"pick": [0, 1]}, str(photos), str(out), quiet=True)["pick"]

    assert result["images"] == 12 and result["skipped"] == 1
    assert result["unreadable"] == [os.path.join("a", "broken.jpg")]
    assert "1 unreadable file skipped: a/broken.jpg" in capsys.readouterr().out
    red = result["filters"]["0"]
    assert [e["activation"] for e in red] == [20.0 * i + 10 for i in range(11, 2, -1)]
    assert [os.path.basename(e["source"]) for e in red] == [f"img{i:02}.png"
                                                            for i in range(11, 2, -1)]
    green = result["filters"]["1"]
    assert [e["activation"] for e in green] == [250.0 - 20 * i for i in range(9)]

    for entry in red:
        photo = np.asarray(Image.open(out / entry["image"]))
        assert photo.shape == (8, 8, 3)
        # The photo is the network's input: its red pixel where the patch
        # is (JPEG smears a lone pixel by a few tens of levels).
        assert np.unravel_index(photo[..., 0].argmax(), (8, 8)) == (2, 5)
        assert abs(int(photo[2, 5, 0]) - entry["activation"]) <= 40
        heat = np.asarray(Image.open(out / entry["heat"]))
        assert heat.shape == (8, 8, 4)
        # Clear where red fired (the patch); fully shaded where it did not.
        assert heat[2, 5, 3] == 0
        assert (heat[..., 3] == SHADE).sum() == 63
    # Photos are shared: filter 1's top images include some of filter 0's.
    assert {e["image"] for e in red} & {e["image"] for e in green}
    assert json.loads((out / "pick" / "examples.json").read_text())["filters"]["0"] == red


def test_heat_map_is_clear_where_the_filter_fired_most_and_dark_where_least():
    alpha = heat_map(np.array([[-1.0, 0.0], [2.0, 4.0]]))[..., 3]
    np.testing.assert_array_equal(alpha, [[SHADE, SHADE], [round(SHADE / 2), 0]])
    assert heat_map(np.full((2, 2), 3.0))[..., 3].max() == 0  # flat: nothing to point at


@pytest.mark.slow
def test_batches_do_not_change_the_ranking(photos, picker, tmp_path):
    one = layer_examples(picker, {"pick": [0, 3]}, str(photos), str(tmp_path / "1"), batch=1,
                         quiet=True)["pick"]["filters"]
    many = layer_examples(picker, {"pick": [0, 3]}, str(photos), str(tmp_path / "5"), batch=5,
                          quiet=True)["pick"]["filters"]
    assert one == many
    for entry in one["0"] + one["3"]:
        assert ((tmp_path / "1" / entry["heat"]).read_bytes()
                == (tmp_path / "5" / entry["heat"]).read_bytes())


def test_the_networks_preprocessing_is_applied(photos, picker, tmp_path):
    unit = BaseSpec(picker.model, preprocess="unit")  # pixels / 255
    result = layer_examples(unit, {"pick": [0]}, str(photos), str(tmp_path / "u"), quiet=True)
    assert result["pick"]["filters"]["0"][0]["activation"] == pytest.approx(230 / 255, rel=1e-5)


def test_images_are_cropped_and_resized_to_the_networks_input(tmp_path, picker):
    folder = tmp_path / "wide"
    folder.mkdir()
    # 8 x 24, left third blue, middle third red, right third green: the
    # centre crop to the picker's 8 x 8 input is the red square.
    image = np.zeros((8, 24, 3), "uint8")
    image[:, :8, 2], image[:, 8:16, 0], image[:, 16:, 1] = 255, 200, 255
    Image.fromarray(image).save(folder / "wide.png")
    result = layer_examples(picker, {"pick": [0, 1, 2]}, str(folder), str(tmp_path / "o"),
                            quiet=True)["pick"]["filters"]
    assert result["0"][0]["activation"] == pytest.approx(200.0, abs=1e-3)
    assert result["1"][0]["activation"] == pytest.approx(0.0, abs=1e-3)
    assert result["2"][0]["activation"] == pytest.approx(0.0, abs=1e-3)


@pytest.mark.slow
def test_rerun_is_cached_and_a_changed_folder_is_redone(photos, picker, tmp_path, capsys):
    out = tmp_path / "site"
    layer_examples(picker, {"pick": [0]}, str(photos), str(out), quiet=True)
    heat = out / "pick" / "examples" / "filter_0_0.png"
    stamp = os.stat(heat).st_mtime_ns
    capsys.readouterr()

    layer_examples(picker, {"pick": [0]}, str(photos), str(out), quiet=True)
    assert "up to date" in capsys.readouterr().out
    assert os.stat(heat).st_mtime_ns == stamp

    # A new, redder photo: the cache no longer matches, and it comes first.
    Image.fromarray(patch_image(255)).save(photos / "new.png")
    result = layer_examples(picker, {"pick": [0, 2]}, str(photos), str(out), quiet=True)
    first = result["pick"]["filters"]["0"][0]
    assert first["source"] == "new.png"
    assert set(result["pick"]["filters"]) == {"0", "2"}

    # The same file rewritten: a new picture of it, not the stale one.
    Image.fromarray(patch_image(254, at=(6, 1))).save(photos / "new.png")
    os.utime(photos / "new.png", ns=(1, 10**18))
    again = layer_examples(picker, {"pick": [0]}, str(photos), str(out), quiet=True)
    entry = again["pick"]["filters"]["0"][0]
    assert entry["activation"] == 254.0 and entry["image"] != first["image"]
    photo = np.asarray(Image.open(out / entry["image"]))
    assert np.unravel_index(photo[..., 0].argmax(), (8, 8)) == (6, 1)


@pytest.mark.slow
def test_a_grey_network_gets_grey_images(tmp_path, photos):
    inputs = keras.Input((8, 8, 1))
    conv = keras.layers.Conv2D(1, 1, use_bias=False)  # Keras' default name: conv2d[_N]
    model = keras.Model(inputs, conv(inputs))
    conv.set_weights([np.ones((1, 1, 1, 1), "float32")])
    path = str(tmp_path / "grey.keras")
    model.save(path)
    result = layer_examples(BaseSpec(path), {conv.name: [0]}, str(photos), str(tmp_path / "g"),
                            quiet=True)[conv.name]["filters"]["0"]
    # tf.image.rgb_to_grayscale: 0.2989 R + 0.5870 G + 0.1140 B; image 0 is
    # (10, 250, 0), the greenest and so the brightest.
    assert result[0]["activation"] == pytest.approx(0.2989 * 10 + 0.5870 * 250, abs=0.1)


def test_empty_missing_and_unreadable_folders_are_clear_errors(tmp_path, picker):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(DreamError, match="no images.*Received: examples="):
        find_images(str(tmp_path / "empty"))
    with pytest.raises(DreamError, match="does not exist.*Received: examples="):
        find_images(str(tmp_path / "nowhere"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.png").write_bytes(b"\x89PNG but not")
    with pytest.raises(DreamError, match="None of the 1 image files"):
        layer_examples(picker, {"pick": [0]}, str(tmp_path / "bad"), str(tmp_path / "o"),
                       quiet=True)


def test_links_pipes_and_huge_images_are_skipped_and_named(photos, picker, tmp_path, capsys,
                                                           monkeypatch):
    os.symlink(str(photos / "gone.png"), str(photos / "dangling.png"))
    os.symlink(str(photos / "loop.png"), str(photos / "loop.png"))
    os.mkfifo(str(photos / "a" / "pipe.jpg"))  # read, it would block the pass forever
    # 64 x 64 = 4096 pixels, over twice PIL's limit: PIL refuses it as a bomb.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    Image.fromarray(patch_image(255, size=64)).save(photos / "huge.png")
    result = layer_examples(picker, {"pick": [0]}, str(photos), str(tmp_path / "site"),
                            quiet=True)["pick"]
    assert result["images"] == 12
    said = capsys.readouterr().out
    assert "skipped 4 files" in said
    for name, why in ((os.path.join("a", "pipe.jpg"), "not a regular file"),
                      ("dangling.png", "a dangling symlink"),
                      ("huge.png", "too large to open safely")):
        assert f"{name} ({why}" in said
    from kerasdream.photo_folder import scan_images

    assert scan_images(str(photos))[1]["loop.png"] == "a symlink loop"


def test_progress_in_a_log_is_plain_lines(photos, picker, tmp_path, capsys):
    layer_examples(picker, {"pick": [0]}, str(photos), str(tmp_path / "site"))
    printed = capsys.readouterr().out
    assert not any(code in printed for code in ("\x1b", "\r", "\b")), repr(printed)
    assert "13/13 images (100%)" in printed  # 12 photos and the unreadable broken.jpg


@pytest.mark.slow
def test_the_cache_follows_the_photos_content_and_the_network(photos, picker, tmp_path, capsys):
    out = str(tmp_path / "site")
    path = photos / "a" / "img11.png"  # the reddest, 230; rewritten uncompressed
    Image.fromarray(patch_image(230, green=30)).save(path, compress_level=0)
    before = os.stat(path)
    first = layer_examples(picker, {"pick": [0]}, str(photos), out, quiet=True)["pick"]
    assert first["filters"]["0"][0]["activation"] == 230.0
    # Replaced by a photo of the same size and time, with another red.
    Image.fromarray(patch_image(235, green=30)).save(path, compress_level=0)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size
    replaced = layer_examples(picker, {"pick": [0]}, str(photos), out, quiet=True)["pick"]
    assert replaced["filters"]["0"][0]["activation"] == 235.0
    # The model file retrained in place (every weight doubled): redone, not served stale.
    model = keras.models.load_model(picker.model)
    model.set_weights([2 * w for w in model.get_weights()])
    model.save(picker.model)
    retrained = layer_examples(picker, {"pick": [0]}, str(photos), out, quiet=True)["pick"]
    assert retrained["filters"]["0"][0]["activation"] == 470.0


def test_an_output_folder_inside_the_photos_is_not_searched(photos, picker):
    out = str(photos / "site")
    layer_examples(picker, {"pick": [0]}, str(photos), out, quiet=True)
    assert os.listdir(os.path.join(out, "examples"))  # its pictures are JPEGs in the folder
    again = layer_examples(picker, {"pick": [0]}, str(photos), out, quiet=True)["pick"]
    assert again["images"] == 12


def test_the_examples_pass_is_refused_while_another_run_holds_the_folder(photos, picker,
                                                                         tmp_path):
    from kerasdream.runs.runlock import FolderInUse, RunLock

    out = str(tmp_path / "site")
    with RunLock(out, command="first"):
        with pytest.raises(FolderInUse, match=r"\(first\)"):
            layer_examples(picker, {"pick": [0]}, str(photos), out, quiet=True)
    assert not os.path.exists(os.path.join(out, "pick"))
