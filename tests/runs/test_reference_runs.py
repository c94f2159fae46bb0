"""A gallery with `--examples`: its dreams are judged against the user's photos.

The colour picker's `pick` layer is a 1x1 conv (channel 0 = red, 2 = blue)
fed raw pixels, and the photos are flat colours, so a channel's largest
response over the photos is the photos' red (or blue) by hand: a dream's
ratio against red photos of 100 is five times smaller than against red
photos of 20, whatever the dream.
"""

import json
import os

import numpy as np
import pytest
from PIL import Image

from kerasdream.cli.commands import main


def photos(folder, red, blue):
    os.makedirs(folder)
    for name, colour in (("red.png", (red, 0, 0)), ("blue.png", (0, 0, blue))):
        Image.fromarray(np.full((30, 40, 3), colour, "uint8")).save(os.path.join(folder, name))
    return str(folder)


def command(model, out, *extra):
    return ["filters", "--model", model, "--layer", "pick", "--filters", "0-3", "--size", "8",
            "--steps", "3", "--out", str(out), "--models-dir", str(out / "models"), "--quiet",
            *extra]


def records(out):
    return {k: json.loads((out / "pick" / f"filter_{k}.json").read_text()) for k in range(4)}


def files(out):
    """Each dream's PNG and model bytes."""
    return {k: ((out / "pick" / f"filter_{k}.png").read_bytes(),
                (out / "models" / "picker" / "pick" / f"filter_{k}.keras").read_bytes())
            for k in range(4)}


def test_examples_are_the_reference_and_other_photos_rescore_without_retraining(
        colour_picker_path, tmp_path, capsys):
    bright = photos(tmp_path / "bright", red=100, blue=50)
    dim = photos(tmp_path / "dim", red=20, blue=10)
    out = tmp_path / "out"

    assert main(command(colour_picker_path, out, "--examples", bright)) == 0
    said = capsys.readouterr().out
    first = records(out)
    assert f"the filter's strongest response to your 2 photos of {bright}." in said
    metrics = json.loads((out / "pick" / "metrics.json").read_text())
    assert metrics["reference"]["photos"] == bright and metrics["reference"]["count"] == 2
    assert {r["reference"] for r in first.values()} == {metrics["reference"]["key"]}
    for k, channel_max in ((0, 100.0), (2, 50.0)):  # red, blue
        assert first[k]["natural_ratio"] == pytest.approx(first[k]["final_activation"]
                                                          / channel_max, rel=1e-5)
    assert first[1]["natural_ratio"] is None  # no green in these photos
    site = json.loads((out / "atlas.json").read_text())
    assert site["layers"][0]["reference"] == {"photos": bright, "count": 2}
    before = files(out)

    # Other photos: the same dreams, rescored; nothing retrains or moves.
    assert main(command(colour_picker_path, out, "--examples", dim)) == 0
    said = capsys.readouterr().out
    assert (f"pick: skipped 4 finished dreams, repaired 0, redid 0; rescoring 4 of them "
            f"against your 2 photos of {dim} (their pictures stay).") in said
    assert f"response to your 2 photos of {dim}." in said
    assert files(out) == before
    second = records(out)
    for k in (0, 2):
        assert second[k]["natural_ratio"] == pytest.approx(5 * first[k]["natural_ratio"])
        assert second[k]["png_sha256"] == first[k]["png_sha256"]
        assert second[k]["final_activation"] == first[k]["final_activation"]
    assert json.loads((out / "pick" / "metrics.json").read_text())["filters"]["0"] == second[0]

    # No --examples: back to skimage's photos, and then nothing more to do.
    assert main(command(colour_picker_path, out)) == 0
    said = capsys.readouterr().out
    assert "rescoring 4 of them against real photos" in said
    assert {r["reference"] for r in records(out).values()} == {"skimage"}
    assert main(command(colour_picker_path, out)) == 0
    assert "rescoring" not in capsys.readouterr().out
    assert files(out) == before


def test_a_grey_network_with_its_own_photos_gets_a_ratio(tmp_path, capsys):
    import keras

    inputs = keras.Input((8, 8, 1))
    conv = keras.layers.Conv2D(2, 1, use_bias=False, name="ink")
    model = keras.Model(inputs, conv(inputs))
    conv.set_weights([np.array([1.0, -1.0], "float32").reshape(1, 1, 1, 2)])
    path = str(tmp_path / "grey.keras")
    model.save(path)
    folder = tmp_path / "digits"
    os.makedirs(folder)
    for i, level in enumerate((40, 200)):
        Image.fromarray(np.full((28, 28), level, "uint8")).save(folder / f"d{i}.png")
    argv = ["filters", "--model", path, "--layer", "ink", "--filters", "0", "--size", "8",
            "--steps", "2", "--out", str(tmp_path / "out"), "--models-dir",
            str(tmp_path / "models"), "--quiet"]

    assert main(argv) == 0
    assert "not compared with photos (skimage's are in colour" in capsys.readouterr().out
    assert main(argv + ["--examples", str(folder)]) == 0
    said = capsys.readouterr().out
    assert "not compared" not in said
    assert f"the filter's strongest response to your 2 photos of {folder}." in said
    record = json.loads((tmp_path / "out" / "ink" / "filter_0.json").read_text())
    # Grey crops of 40 and 200: the channel's largest response is 200.
    assert record["natural_ratio"] == pytest.approx(record["final_activation"] / 200.0,
                                                    rel=1e-5)
