"""`kerasdream evolve`: the same filters dreamed across a series of checkpoints."""

import os
import shutil

import keras
import numpy as np
import pytest
from PIL import Image

from conftest import tiny_cnn
from kerasdream.cli.commands import main
from kerasdream.errors import DreamError
from kerasdream.evolve import checkpoint_paths, natural_key
from kerasdream.series import read_gif


def save_series(folder, scales=(1.0, 1.0, -1.0), names=("epoch_1", "epoch_2", "epoch_10")):
    """tiny_cnn saved with its weights times each scale: epoch_1 and epoch_2 equal."""
    os.makedirs(folder, exist_ok=True)
    model = tiny_cnn(size=16)
    weights = model.get_weights()
    for scale, name in zip(scales, names):
        model.set_weights([w * scale for w in weights])
        model.save(os.path.join(folder, name + ".keras"))
    return os.path.join(folder, "epoch_*.keras")


def one_conv(size=16, filters=4, name=None):
    """One ReLU conv; `name=None`: Keras' default layer name (conv2d, conv2d_1, ...)."""
    inputs = keras.Input((size, size, 3))
    conv = keras.layers.Conv2D(filters, 3, activation="relu", name=name)
    return keras.Model(inputs, conv(inputs))


def test_checkpoints_sort_naturally(tmp_path):
    for name in ("epoch_10", "epoch_2", "epoch_1"):
        (tmp_path / f"{name}.keras").write_bytes(b"")
    found = checkpoint_paths(str(tmp_path / "epoch_*.keras"))
    assert [os.path.basename(p) for p in found] == ["epoch_1.keras", "epoch_2.keras",
                                                    "epoch_10.keras"]
    assert natural_key("a_9") < natural_key("a_10")


def test_a_pattern_that_matches_nothing_is_one_line_and_exit_2(tmp_path, capsys):
    pattern = str(tmp_path / "ckpt" / "epoch_*.keras")
    assert main(["evolve", "--model", pattern, "--layer", "conv1", "--out",
                 str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "No checkpoint file matches" in error
    assert f"model={pattern!r}" in error


def test_a_layer_the_checkpoints_lack_names_the_file(tmp_path, capsys):
    path = str(tmp_path / "epoch_1.keras")
    model = one_conv()
    model.save(path)
    assert main(["evolve", "--model", path, "--layer", "conv9", "--out",
                 str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and repr(path) in error
    assert "No such layer" in error and "layer_name='conv9'" in error
    assert f"Did you mean: {model.layers[-1].name!r}" in error  # conv2d or conv2d_<n>


def test_checkpoints_of_different_networks_are_refused(tmp_path, capsys):
    one_conv(filters=4, name="conv").save(str(tmp_path / "epoch_1.keras"))
    one_conv(filters=5, name="conv").save(str(tmp_path / "epoch_2.keras"))
    # Found before any dreaming, from the files' stored configs.
    assert main(["evolve", "--model", str(tmp_path / "epoch_*.keras"), "--layer", "conv",
                 "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "not saves of one network" in error
    assert repr(str(tmp_path / "epoch_2.keras")) in error
    assert not os.path.exists(tmp_path / "out" / "checkpoint_000.png")


def test_weights_of_other_shapes_are_refused_when_the_configs_say_nothing(tmp_path):
    from kerasdream.evolve import check_same_network

    small, large = one_conv(filters=4, name="conv"), one_conv(filters=5, name="conv")
    with pytest.raises(DreamError, match=r"not saves of one network: weight 0 is "
                                         r"\(3, 3, 3, 5\) there, \(3, 3, 3, 4\) in 'a.keras'"):
        check_same_network(small, large, "a.keras", "b.keras", "conv")


@pytest.mark.slow
def test_evolve_writes_a_strip_and_gif_per_filter_that_follow_the_weights(tmp_path, capsys):
    pattern = save_series(str(tmp_path / "ckpt"))
    out = str(tmp_path / "evolve")
    assert main(["evolve", "--model", pattern, "--layer", "conv2", "--filters", "0-1",
                 "--out", out, "--steps", "4", "--size", "16"]) == 0
    printed = capsys.readouterr().out
    assert printed.index("epoch_2:") < printed.index("epoch_10:")
    assert "Wrote 2 filters x 3 checkpoints" in printed
    for k in (0, 1):
        frames = read_gif(os.path.join(out, f"filter_{k}.gif"))
        assert len(frames) == 3
        # Same weights, same dream (same seeded start); other weights, another dream.
        np.testing.assert_array_equal(frames[0][:64], frames[1][:64])
        assert not np.array_equal(frames[0][:64], frames[2][:64])
        strip = np.asarray(Image.open(os.path.join(out, f"filter_{k}.png")))
        assert strip.shape[1] > 3 * 64  # one 64-px column (16 px, enlarged 4x) a checkpoint
    assert len(read_gif(os.path.join(out, "grid.gif"))) == 3
    assert sorted(f for f in os.listdir(out) if f.startswith("checkpoint_")) == [
        "checkpoint_000.png", "checkpoint_001.png", "checkpoint_002.png"]


def test_a_keras_and_an_h5_save_of_one_network_are_one_network(tmp_path):
    from kerasdream.evolve import check_series, saved_config

    model = one_conv(name="conv")
    model.save(str(tmp_path / "epoch_1.keras"))
    model.save(str(tmp_path / "epoch_1.h5"))
    assert saved_config(str(tmp_path / "epoch_1.keras")) == saved_config(
        str(tmp_path / "epoch_1.h5"))
    check_series([str(tmp_path / "epoch_1.keras"), str(tmp_path / "epoch_1.h5")])  # no error


def test_checkpoint_weights_with_nan_are_found_by_path():
    from kerasdream.evolve import non_finite_weights

    model = one_conv(name="conv")
    assert non_finite_weights(model) is None
    kernel, bias = model.get_weights()
    model.set_weights([kernel, np.full_like(bias, np.nan)])
    assert non_finite_weights(model) == "conv/bias"


@pytest.mark.slow
def test_a_damaged_checkpoint_keeps_the_others_and_a_rerun_dreams_only_it(tmp_path, capsys):
    pattern = save_series(str(tmp_path / "ckpt"), scales=(1.0, 0.5, -1.0))
    damaged = str(tmp_path / "ckpt" / "epoch_2.keras")
    shutil.copy(damaged, str(tmp_path / "whole.keras"))
    with open(damaged, "r+b") as file:  # cut short, as by a full disk
        file.truncate(300)
    out = str(tmp_path / "evolve")
    argv = ["evolve", "--model", pattern, "--layer", "conv2", "--filters", "0-1", "--out", out,
            "--steps", "3", "--size", "16"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    error = captured.err
    assert error.count("\n") == 1 and "File not found" not in error
    assert f"{damaged!r} is damaged: not a complete .keras file" in error
    assert "The other 2 are dreamed and written" in error
    # The finished checkpoints are kept: strips and GIFs of the two.
    assert len(read_gif(os.path.join(out, "filter_0.gif"))) == 2
    assert "epoch_10: objective" in captured.out
    # Repaired, the rerun dreams only the missing checkpoint.
    shutil.copy(str(tmp_path / "whole.keras"), damaged)
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.count("(dreamed by an earlier run)") == 2
    redone = [line for line in printed.splitlines() if line.startswith("epoch_2:")]
    assert len(redone) == 1 and "earlier run" not in redone[0]
    assert len(read_gif(os.path.join(out, "filter_0.gif"))) == 3


@pytest.mark.slow
def test_precision_is_honoured_and_every_checkpoint_reaches_the_reduced_copy(tmp_path):
    from kerasdream.evolve import evolve
    from kerasdream.runs.settings import DreamSettings

    pattern = save_series(str(tmp_path / "ckpt"))
    runs = {}
    for precision in ("float32", "bfloat16"):
        settings = DreamSettings(size=16, steps=3, precision=precision)
        runs[precision] = evolve(pattern, "conv2", [0, 1], str(tmp_path / precision), settings,
                                 log=None).frames
    reduced, full = runs["bfloat16"], runs["float32"]
    assert not np.array_equal(reduced[0], full[0])  # computed in bfloat16, not ignored
    np.testing.assert_array_equal(reduced[0], reduced[1])  # same weights, same dream
    # The third checkpoint's negated weights reached the bfloat16 copy: another dream.
    assert not np.array_equal(reduced[0], reduced[2])


@pytest.mark.slow
def test_a_checkpoint_whose_training_diverged_is_named_not_blamed_on_the_learning_rate(
        tmp_path, capsys):
    pattern = save_series(str(tmp_path / "ckpt"), scales=(1.0, np.nan, -1.0))
    out = str(tmp_path / "evolve")
    assert main(["evolve", "--model", pattern, "--layer", "conv2", "--filters", "0", "--out",
                 out, "--steps", "2", "--size", "16"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "learning rate" not in error
    assert (f"{str(tmp_path / 'ckpt' / 'epoch_2.keras')!r} is unusable: its weights hold NaN "
            f"or infinity (conv1/kernel); the training run had diverged by then") in error
    assert len(read_gif(os.path.join(out, "filter_0.gif"))) == 2


@pytest.mark.slow
def test_a_checkpoint_whose_responses_overflow_is_named_and_the_others_kept(tmp_path, capsys):
    pattern = save_series(str(tmp_path / "ckpt"), scales=(1.0, 1e30, -1.0))
    out = str(tmp_path / "evolve")
    assert main(["evolve", "--model", pattern, "--layer", "conv2", "--filters", "0", "--out",
                 out, "--steps", "2", "--size", "16"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "learning rate" not in error
    assert (f"{str(tmp_path / 'ckpt' / 'epoch_2.keras')!r} is unusable: its responses "
            f"overflow float32 from the first step") in error
    assert len(read_gif(os.path.join(out, "filter_0.gif"))) == 2
