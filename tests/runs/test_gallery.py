"""The main job end to end: `kerasdream filters` / `gallery` on real models."""

import json
import os

import keras
import numpy as np
import pytest

from kerasdream.cli.commands import main
from kerasdream.network.layers import default_layers
from kerasdream.runs.settings import parse_filters
from kerasdream.network.bases import load_base
from kerasdream.io import load_image
from kerasdream.saving import load_dream

from conftest import tiny_cnn


def run_filters(model_path, out, models, *extra):
    args = ["filters", "--model", model_path, "--layer", "relu2", "--filters", "0-3",
            "--size", "16", "--steps", "10", "--out", str(out), "--models-dir", str(models),
            "--quiet", *extra]
    return main(args)


def read_metrics(out, layer="relu2"):
    with open(os.path.join(out, layer, "metrics.json")) as file:
        return json.load(file)


def test_filters_writes_pngs_grid_metrics_and_models_that_agree(tiny_cnn_path, tmp_path):
    out, models = tmp_path / "out", tmp_path / "models"
    assert run_filters(tiny_cnn_path, out, models) == 0

    metrics = read_metrics(out)
    assert sorted(metrics["filters"], key=int) == ["0", "1", "2", "3"]
    assert metrics["channels"] == 6
    # The metrics checked another way: the saved network reloaded by plain Keras,
    # cut at relu2, the channel means in numpy; the rank counts the channels
    # above by more than 1e-3 (a tie counts for the dream's own channel).
    network = keras.models.load_model(tiny_cnn_path)
    relu2 = keras.Model(network.inputs, network.get_layer("relu2").output)
    for k in range(4):
        png = load_image(str(out / "relu2" / f"filter_{k}.png"))
        assert png.shape == (16, 16, 3)
        entry = metrics["filters"][str(k)]
        acts = np.mean(keras.ops.convert_to_numpy(relu2(png[None])), axis=(0, 1, 2))
        assert entry["final_activation"] == pytest.approx(acts[k], rel=1e-5, abs=1e-6)
        assert entry["rank"] == 1 + int(np.sum(acts > acts[k] + 1e-3))
        assert entry["steps"] == 10 and entry["settings"]["seed"] == 0
        # The path check is in every dream's metrics: relu1 lies below relu2.
        assert entry["path_layer"] == "relu1" and isinstance(entry["off_path"], bool)
        assert (entry["path_similarity"] < entry["path_floor"]) == entry["off_path"]
        generator = load_dream(str(models / "tiny" / "relu2" / f"filter_{k}.keras"))
        np.testing.assert_array_equal(generator.render()[0], png.astype("uint8"))
    grid = load_image(str(out / "relu2" / "grid.png"))
    assert grid.shape[0] > 16 and grid.shape[1] > 4 * 16


def test_rerun_skips_finished_dreams_and_finishes_missing_ones(tiny_cnn_path, tmp_path, capsys):
    out, models = tmp_path / "out", tmp_path / "models"
    run_filters(tiny_cnn_path, out, models)
    kept = out / "relu2" / "filter_0.png"
    mtime = os.stat(kept).st_mtime_ns
    os.remove(out / "relu2" / "filter_2.png")  # as if the run had died before it
    capsys.readouterr()

    assert run_filters(tiny_cnn_path, out, models) == 0
    assert os.stat(kept).st_mtime_ns == mtime
    assert (out / "relu2" / "filter_2.png").exists()
    assert run_filters(tiny_cnn_path, out, models) == 0
    assert "nothing to train" in capsys.readouterr().out


def test_batch_size_does_not_change_the_images(tiny_cnn_path, tmp_path):
    for batch in ("1", "4"):
        run_filters(tiny_cnn_path, tmp_path / batch, tmp_path / f"m{batch}", "--batch", batch)
    for k in range(4):
        one = (tmp_path / "1" / "relu2" / f"filter_{k}.png").read_bytes()
        four = (tmp_path / "4" / "relu2" / f"filter_{k}.png").read_bytes()
        assert one == four


def test_resume_trains_saved_dreams_further(tiny_cnn_path, tmp_path):
    out, models = tmp_path / "out", tmp_path / "models"
    run_filters(tiny_cnn_path, out, models, "--format", "h5")
    before = load_image(str(out / "relu2" / "filter_1.png"))
    first = read_metrics(out)["filters"]["1"]

    assert run_filters(tiny_cnn_path, out, models, "--format", "h5", "--steps", "30",
                       "--resume") == 0
    after = read_metrics(out)["filters"]["1"]
    assert after["steps"] == 30
    assert after["final_activation"] > first["final_activation"]
    assert not np.array_equal(load_image(str(out / "relu2" / "filter_1.png")), before)
    assert (models / "tiny" / "relu2" / "filter_1.h5").exists()


@pytest.mark.slow
@pytest.mark.parametrize("extension", ["keras", "h5"])
def test_resumed_steps_train_exactly_like_one_longer_run(tiny_cnn_path, tmp_path, extension):
    # 10 + 20 steps with --resume equal 30 steps at once: the per-filter
    # dream files carry the optimizer's slots, and the transforms' random
    # streams go on where they stopped.
    split, whole = tmp_path / "split", tmp_path / "whole"
    run_filters(tiny_cnn_path, split, tmp_path / "m1", "--format", extension)
    run_filters(tiny_cnn_path, split, tmp_path / "m1", "--format", extension,
                "--steps", "30", "--resume")
    run_filters(tiny_cnn_path, whole, tmp_path / "m2", "--format", extension, "--steps", "30")
    for k in range(4):
        resumed = load_image(str(split / "relu2" / f"filter_{k}.png"))
        at_once = load_image(str(whole / "relu2" / f"filter_{k}.png"))
        assert np.max(np.abs(resumed - at_once)) <= 1.0, k  # rounding to 8 bits at most
    assert read_metrics(split)["filters"]["2"]["steps"] == 30


@pytest.mark.slow
def test_gallery_of_the_shipped_network_with_no_options_but_budget(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["gallery", "--size", "48", "--steps", "3", "--filters", "0-1", "--quiet"])
    assert code == 0
    layers = default_layers(load_base(None))
    assert len(layers) == 3
    for layer in layers:
        assert (tmp_path / "gallery" / layer / "grid.png").exists()
        assert (tmp_path / "models" / "mobilenet-0.25" / layer / "filter_1.keras").exists()
    overview = load_image(str(tmp_path / "gallery" / "gallery.png"))
    assert overview.shape[0] > 3 * 48


def test_layers_command_lists_channels_and_marks_dreamable(capsys):
    assert main(["layers"]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = next(line for line in lines if " conv_pw_13_relu " in line)
    assert row.startswith("*") and row.rstrip().endswith("256")


@pytest.mark.parametrize("text, expected", [
    ("0-3", [0, 1, 2, 3]), ("5", [5]), ("3,1,2-4", [1, 2, 3, 4]), ("all", list(range(6))),
])
def test_parse_filters(text, expected):
    assert parse_filters(text, channels=6) == expected


def test_default_layers_of_the_shipped_network_skip_depthwise_activations():
    # 27 ReLU layers; those after a depthwise conv dream in flat colours.
    assert default_layers(load_base(None)) == ["conv_pw_2_relu", "conv_pw_7_relu",
                                               "conv_pw_12_relu"]


def test_default_layers_pick_shallow_middle_deep_activations():
    model = tiny_cnn()
    assert default_layers(model) == ["relu1", "relu2"]  # only two candidates: no repeats


def test_the_gallery_objective_reads_before_relus_and_is_selective_by_depth():
    from kerasdream.network.layers import layer_stride
    from kerasdream.runs.settings import DreamSettings

    base = load_base(None)
    assert [layer_stride(base, name) for name in ("conv_pw_2_relu", "conv_pw_7_relu")] == [4, 16]
    shallow = DreamSettings().objective_for("conv_pw_2_relu", [0, 1], base)
    assert repr(shallow) == "Channel('conv_pw_2_relu:pre', [0, 1])"
    assert layer_stride(base, "conv_pw_4_relu") == 8
    early = DreamSettings().objective_for("conv_pw_4_relu", [0, 1], base)
    assert repr(early) == ("Channel('conv_pw_4_relu:pre', [0, 1]) "
                           "- Rivals('conv_pw_4_relu:pre', [0, 1], 3.0)")
    rates = [DreamSettings().learning_rate_for(name, base)
             for name in ("conv_pw_2_relu", "conv_pw_4_relu", "conv_pw_7_relu")]
    assert rates == [0.05, 0.1, 0.05]
    assert DreamSettings(learning_rate=0.3).learning_rate_for("conv_pw_4_relu", base) == 0.3
    middle = DreamSettings().objective_for("conv_pw_7_relu", [0, 1], base)
    assert repr(middle) == ("Channel('conv_pw_7_relu:pre', [0, 1]) "
                            "- 2 * Rivals('conv_pw_7_relu:pre', [0, 1], 3.0)")
    plain = DreamSettings(selectivity=0.0, activation="post")
    assert repr(plain.objective_for("conv_pw_7_relu", [3], base)) == "Channel('conv_pw_7_relu', 3)"
