"""Feature accentuation: push filters up in a photo while staying close to it."""

import os

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream import io
from kerasdream.cli import commands as cli
from kerasdream import evaluation
from kerasdream.accentuation import Distance, accentuate, accentuation_objective
from kerasdream.errors import DreamError
from kerasdream.objectives.base import IMAGE

from conftest import colour_picker, tiny_cnn


def _photo(size=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3)).astype("float32")


@pytest.mark.slow
def test_zero_strength_returns_the_photo():
    photo = _photo()
    images = accentuate(photo, "pick", [0, 3], colour_picker(), strength=0.0, steps=4,
                        transforms=None)
    assert images.shape == (2, 8, 8, 3)
    np.testing.assert_array_equal(images, np.broadcast_to(photo.astype("uint8"), images.shape))


def test_the_pixel_distance_by_hand():
    photo = np.full((1, 2, 2, 1), 10.0, "float32")
    dream = photo + np.array([0.4, 1.5, -3.5, 0.0], "float32").reshape(1, 2, 2, 1)
    value = Distance(IMAGE, photo)(keras.ops.convert_to_tensor(dream), photo)
    # Beyond half a grey level: 1.0^2 + 3.0^2 over sum(photo^2) = 400.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(value), [10.0 / 400.0], rtol=1e-6)
    exact = Distance("conv", photo)(keras.ops.convert_to_tensor(dream), photo)  # features: no tolerance
    np.testing.assert_allclose(keras.ops.convert_to_numpy(exact), [(0.16 + 2.25 + 12.25) / 400],
                               rtol=1e-5)


def test_the_objective_and_its_config():
    photo = _photo()
    objective = accentuation_objective("pick", [1, 2], photo, strength=2.0, weight=5.0)
    assert [w for w, _ in objective.terms] == [2.0, -5.0]
    again = kd.objectives.get(keras.saving.serialize_keras_object(objective))
    assert again.signature() == objective.signature() and again.num_rows == 2
    np.testing.assert_array_equal(again.terms[1][1].image, objective.terms[1][1].image)
    assert again.terms[1][1].tolerance == 0.5
    assert accentuation_objective("pick", [0], photo, distance="pick").terms[1][1].key == "pick"


def test_bad_accentuations_are_clear_errors():
    with pytest.raises(DreamError, match="Received: strength=-1"):
        accentuation_objective("pick", [0], _photo(), strength=-1)
    with pytest.raises(DreamError, match="MACO's fixed magnitude"):
        accentuate(_photo(), "pick", [0], colour_picker(), parameterization="maco")


@pytest.mark.slow
def test_accentuation_pushes_the_filter_and_batched_equals_single():
    base = tiny_cnn(16)
    photo = _photo(16)
    together = accentuate(photo, "relu2", [1, 4], base, steps=6)
    alone = accentuate(photo, "relu2", [4], base, steps=6)
    np.testing.assert_allclose(together[1].astype(float), alone[0].astype(float), atol=1)
    before = evaluation.features(base, "conv2", photo[None], "none").mean(axis=(1, 2))
    after = evaluation.features(base, "conv2", together, "none").mean(axis=(1, 2))
    assert after[0, 1] > before[0, 1] and after[1, 4] > before[0, 4]
    assert 0 < np.abs(together.astype(float) - photo).mean() < 40


@pytest.mark.slow
def test_cli_accentuate_writes_one_picture_per_filter_beside_the_photo(tmp_path):
    model_path = str(tmp_path / "tiny.keras")
    tiny_cnn().save(model_path)
    photo_path = str(tmp_path / "cat.png")
    io.save_png(photo_path, _photo(24).astype("uint8"))
    argv = ["accentuate", "--model", model_path, "--image", photo_path, "--layer", "relu2",
            "--filters", "0,5", "--size", "16", "--steps", "3", "--quiet"]
    assert cli.main(argv) == 0
    for k in (0, 5):
        assert io.load_image(str(tmp_path / f"cat_relu2_filter_{k}.png")).shape == (16, 16, 3)
    assert cli.main(argv[:-1] + ["--filters", "6", "--quiet"]) == 2  # relu2 has 6 channels
    assert not os.path.exists(tmp_path / "cat_relu2_filter_6.png")


@pytest.mark.slow
def test_accentuate_reports_plain_step_lines_when_redirected_and_honours_precision(
        tmp_path, capsys):
    model_path = str(tmp_path / "tiny.keras")
    tiny_cnn().save(model_path)
    photo_path = str(tmp_path / "cat.png")
    io.save_png(photo_path, _photo(16).astype("uint8"))
    argv = ["accentuate", "--model", model_path, "--image", photo_path, "--layer", "relu2",
            "--filters", "0-2", "--size", "16", "--steps", "4"]
    pictures = {}
    for precision in ("float32", "bfloat16"):
        out = str(tmp_path / precision)
        assert cli.main(argv + ["--precision", precision, "--out", out]) == 0
        printed = capsys.readouterr().out
        # stdout is not a terminal here: plain lines, counting steps (3 filters train at once).
        assert not any(code in printed for code in ("\x1b", "\r", "\b")), repr(printed)
        assert "4/4 steps (100%)" in printed and "12/4" not in printed
        pictures[precision] = io.load_image(os.path.join(out, "cat_relu2_filter_0.png"))
    assert not np.array_equal(pictures["float32"], pictures["bfloat16"])


@pytest.mark.slow
def test_a_strength_too_large_for_float32_is_named_as_the_cause():
    from kerasdream.callbacks import NonFiniteError

    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(2, 3, name="conv")  # all weights 100: responses near 1e5
    network = keras.Model(inputs, conv(inputs))
    network.set_weights([np.full((3, 3, 3, 2), 100.0, "float32"), np.zeros(2, "float32")])
    with pytest.raises(NonFiniteError, match=r"at step 1;.*strength=1e\+38 is too large: the "
                                             r"loss overflows float32\. Try strength <= 1e\+06"):
        accentuate(_photo(8), "conv", [0], network, strength=1e38, steps=2)
