"""The commands' handlers and `main`: headers, entry points, a closed stdout."""

import os
import subprocess
import sys

import pytest

import kerasdream.cli
from kerasdream.cli import commands, main


def test_main_is_the_same_from_the_package_and_from_commands():
    assert commands.main is main is kerasdream.cli.main
    assert set(commands.COMMANDS) == {"layers", "filters", "gallery", "atlas", "invert",
                                      "caricature", "accentuate", "evolve",
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
    assert "usage: kerasdream atlas" in result.stdout and "(default: 64)" in result.stdout


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


def test_a_command_holds_its_folder_from_the_first_dream_to_the_site(tmp_path):
    """The gallery, its examples and the site take the lock in turn; the command
    holds it across them, so another run is refused the whole time."""
    import threading

    from kerasdream.cli.commands import _held
    from kerasdream.runs.runlock import FolderInUse, RunLock

    out = str(tmp_path / "out")
    refused = []

    def second_run():
        try:
            RunLock(out).acquire()
        except FolderInUse as error:
            refused.append(str(error))

    with _held(out, None):
        with RunLock(out):  # the gallery's driver, then the examples pass: they join
            pass
        other = threading.Thread(target=second_run)
        other.start()
        other.join()
        with RunLock(out):
            pass
    assert len(refused) == 1 and "Another kerasdream run" in refused[0]
    assert not os.path.exists(os.path.join(out, ".kerasdream.lock"))
