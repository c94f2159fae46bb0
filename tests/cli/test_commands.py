"""The commands' handlers and `main`: headers, entry points, a closed stdout,
a user's own fixed-size grey classifier (its size, its input range, its classes)."""

import json
import os
import subprocess
import sys

import pytest

import kerasdream.cli
from kerasdream.cli import commands, main


def test_main_is_the_same_from_the_package_and_from_commands():
    assert commands.main is main is kerasdream.cli.main
    assert set(commands.COMMANDS) == {"layers", "filters", "gallery", "atlas", "classes",
                                      "invert", "caricature", "accentuate", "evolve",
                                      "activation-atlas"}


def test_layers_prints_column_headers_aligned_with_the_rows(tiny_cnn_path, capsys):
    assert main(["layers", "--model", tiny_cnn_path]) == 0
    lines = capsys.readouterr().out.splitlines()
    # input, rescale, conv1, relu1, conv2, relu2
    assert lines[0].startswith(f"{tiny_cnn_path}: 6 layers (* = dreamable")
    header = lines[1]
    assert header.split() == ["layer", "type", "output", "shape", "channels"]
    relu2 = next(line for line in lines if " relu2 " in line)
    assert relu2.split() == ["*", "relu2", "ReLU", "(None,", "None,", "None,", "6)", "6"]
    # each heading starts where its column does; "channels" ends above the counts
    assert header.index("type") == relu2.index("ReLU")
    assert header.index("output shape") == relu2.index("(None")
    assert len(header) == len(relu2)


def test_python_dash_m_kerasdream_is_the_command():
    result = subprocess.run([sys.executable, "-m", "kerasdream", "atlas", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage: kerasdream atlas" in result.stdout and "else 64)" in result.stdout


@pytest.mark.slow
def test_a_reader_that_leaves_early_gets_no_traceback(tiny_cnn_path):
    """`kerasdream layers | head -1`: the pipe closes; the command stops quietly (141)."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        result = subprocess.run([sys.executable, "-m", "kerasdream", "layers", "--model",
                                 tiny_cnn_path], stdout=write, stderr=subprocess.PIPE,
                                text=True, timeout=120)
    finally:
        os.close(write)
    assert result.returncode == 141 and result.stderr == "", result.stderr


@pytest.mark.slow
def test_a_rerun_with_weights_none_retrains_the_imagenet_dreams(tmp_path, capsys):
    command = ["filters", "--layer", "conv_pw_1_relu", "--filters", "0", "--size", "32",
               "--steps", "2", "--out", str(tmp_path / "o"), "--models-dir",
               str(tmp_path / "models"), "--quiet"]
    assert main(command) == 0
    imagenet = (tmp_path / "o" / "conv_pw_1_relu" / "filter_0.png").read_bytes()
    capsys.readouterr()
    assert main(command + ["--weights", "none"]) == 0
    out = capsys.readouterr().out
    assert "Every dream is already done" not in out
    assert ("conv_pw_1_relu: moved aside filter_0.png.stale, filter_0.keras.stale, "
            "filter_0.json.stale: made with other settings: network: the network's weights, "
            "architecture or preprocessing differ") in out
    assert (tmp_path / "o" / "conv_pw_1_relu" / "filter_0.png.stale").read_bytes() == imagenet
    assert (tmp_path / "o" / "conv_pw_1_relu" / "filter_0.png").read_bytes() != imagenet


def another_run_tries(out, refused):
    """Another run, in a thread, tries to take `out`'s lock; its refusal goes to `refused`."""
    import threading

    from kerasdream.runs.runlock import FolderInUse, RunLock

    def second_run():
        try:
            RunLock(out).acquire()
        except FolderInUse as error:
            refused.append(str(error))

    other = threading.Thread(target=second_run)
    other.start()
    other.join()


def test_a_command_holds_its_folder_from_the_first_dream_to_the_site(tmp_path):
    """The gallery, its examples and the site take the lock in turn; the command
    holds it across them, so another run is refused the whole time."""
    from kerasdream.cli.commands import _held
    from kerasdream.runs.runlock import RunLock

    out = str(tmp_path / "out")
    refused = []
    with _held(out, None):
        with RunLock(out):  # the gallery's driver, then the examples pass: they join
            pass
        another_run_tries(out, refused)
        with RunLock(out):
            pass
    assert len(refused) == 1 and "Another kerasdream run" in refused[0]
    assert not os.path.exists(os.path.join(out, ".kerasdream.lock"))
# ------------------------------------------------ a user's own fixed-size classifier

LABELS = ["cat", "dog", "golden retriever"]


def grey_classifier(classes=3):
    """A 16x16 grey classifier as a trainer saves one: no Rescaling inside,
    conv -> relu -> pool -> Dense logits -> a separate softmax."""
    import keras
    import numpy as np

    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dense(classes, name="logits")(x)
    model = keras.Model(inputs, keras.layers.Activation("softmax", name="predictions")(x),
                        name="grey")
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype("float32")
                       for w in model.get_weights()])
    return model


@pytest.fixture(scope="module")
def grey_h5(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("grey") / "grey.h5")
    grey_classifier().save(path)
    return path


def _png_shape(path):
    from PIL import Image

    with Image.open(path) as image:
        return image.size, image.mode


@pytest.mark.slow
def test_a_fixed_size_grey_h5_dreams_at_its_own_size_and_is_told_its_input_range(
        grey_h5, tmp_path, capsys):
    out = str(tmp_path / "out")
    argv = ["filters", "--model", grey_h5, "--layer", "conv", "--filters", "0", "--steps", "2",
            "--out", out, "--models-dir", str(tmp_path / "models"), "--quiet"]
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert said.count("Feeding grey.h5 pixels of 0..255") == 1
    assert _png_shape(os.path.join(out, "conv", "filter_0.png")) == ((16, 16), "L")
    # Only a size asked for that the model cannot take is an error, naming both.
    assert main(argv + ["--size", "32"]) == 2
    assert "takes images of shape (16, 16, 1)" in capsys.readouterr().err


def test_classes_by_name_from_a_labels_file_show_names_in_grid_metrics_and_summary(
        grey_h5, tmp_path, capsys):
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(LABELS) + "\n")
    out = str(tmp_path / "classes")
    assert main(["classes", "--model", grey_h5, "--labels", str(labels), "--classes",
                 "golden retriever, cat", "--steps", "3", "--preprocess", "[0,1]",
                 "--out", out, "--models-dir", str(tmp_path / "models"), "--quiet"]) == 0
    said = capsys.readouterr().out
    metrics = json.load(open(os.path.join(out, "predictions", "metrics.json")))
    assert metrics["names"] == {"0": "cat", "2": "golden retriever"}
    assert sorted(metrics["filters"]) == ["0", "2"] and metrics["channels"] == 3
    assert os.path.isfile(os.path.join(out, "predictions", "grid.png"))
    # No --size: the model's own 16x16, grey.
    assert _png_shape(os.path.join(out, "predictions", "filter_2.png")) == ((16, 16), "L")
    site = json.load(open(os.path.join(out, "atlas.json")))  # the site shows the names too
    assert [(f["filter"], f["name"]) for f in site["layers"][0]["filters"]] == [
        (0, "cat"), (2, "golden retriever")]
    assert "predictions: the network classifies " in said and " of 2 class dreams as their " \
                                                             "class" in said
    assert "Feeding" not in said


def test_classes_holds_its_folder_while_it_writes_the_site(grey_h5, tmp_path, monkeypatch):
    """As gallery and atlas: another run is refused until the site is written."""
    from kerasdream.site import build

    out = str(tmp_path / "classes")
    refused = []

    def write_site_while_another_run_tries(*args, **kwargs):
        another_run_tries(out, refused)
        return write_site(*args, **kwargs)

    write_site = build.write_site
    monkeypatch.setattr(build, "write_site", write_site_while_another_run_tries)
    assert main(["classes", "--model", grey_h5, "--classes", "0", "--steps", "2",
                 "--preprocess", "[0,1]", "--out", out, "--models-dir",
                 str(tmp_path / "models"), "--quiet"]) == 0
    assert len(refused) == 1 and "Another kerasdream run" in refused[0]
    assert os.path.isfile(os.path.join(out, "atlas.json"))


@pytest.mark.slow
def test_classes_by_number_and_a_name_without_names_is_a_one_line_error(
        grey_h5, tmp_path, capsys):
    out = str(tmp_path / "numbers")
    assert main(["classes", "--model", grey_h5, "--classes", "tabby", "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Pass a labels file" in err and "classes='tabby'" in err
    assert not os.path.exists(out)
    assert main(["classes", "--model", grey_h5, "--classes", "1", "--steps", "2",
                 "--preprocess", "[0,1]", "--out", out,
                 "--models-dir", str(tmp_path / "models"), "--quiet"]) == 0
    assert "names" not in json.load(open(os.path.join(out, "predictions", "metrics.json")))


@pytest.mark.slow
def test_a_1000_class_network_gets_imagenet_names_from_keras_cache(tmp_path, capsys):
    path = str(tmp_path / "imagenet_like.keras")
    grey_classifier(classes=1000).save(path)
    out = str(tmp_path / "imagenet")
    assert main(["classes", "--model", path, "--classes", "tabby, goldfish", "--steps", "2",
                 "--preprocess", "[0,1]", "--out", out,
                 "--models-dir", str(tmp_path / "models"), "--quiet"]) == 0
    metrics = json.load(open(os.path.join(out, "predictions", "metrics.json")))
    assert metrics["names"] == {"1": "goldfish", "281": "tabby"}
