"""Bad input: one clear line naming the value and what is valid, never a traceback.

Each CLI case runs `kerasdream` in-process and expects exit status 2 and a
single stderr line; each API case expects a `DreamError` with the message.
"""

import os

import keras
import numpy as np
import pytest
from PIL import Image

import kerasdream as kd
from kerasdream.cli.commands import main

from conftest import tiny_cnn


def first_half_of(source, target) -> str:
    """A copy of `source` cut in half, as a download or copy that stopped midway."""
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return str(target)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Model files and photos, good and broken, made once for the module."""
    root = tmp_path_factory.mktemp("bad-input")
    paths = {"root": str(root)}

    paths["tiny"] = str(root / "tiny.keras")
    tiny_cnn().save(paths["tiny"])
    tiny_cnn(size=16).save(str(root / "fixed16.keras"))
    paths["fixed16"] = str(root / "fixed16.keras")
    tiny_cnn(channels=1).save(str(root / "grey.keras"))
    paths["grey"] = str(root / "grey.keras")
    tiny_cnn().save(str(root / "tiny.h5"))

    paths["truncated_h5"] = first_half_of(root / "tiny.h5", root / "truncated.h5")
    paths["corrupt_keras"] = str(root / "corrupt.keras")
    with open(paths["corrupt_keras"], "wb") as file:
        file.write(b"PK\x03\x04 this is not really a zip archive" * 10)
    paths["text_model"] = str(root / "notes.keras")
    with open(paths["text_model"], "w") as file:
        file.write("just some notes\n")

    mlp_inputs = keras.Input((10,))
    keras.Model(mlp_inputs, keras.layers.Dense(3, name="dense")(mlp_inputs)).save(
        str(root / "mlp.keras"))
    paths["mlp"] = str(root / "mlp.keras")

    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(5, activation="softmax", name="head")(x)
    keras.Model(inputs, outputs).save(str(root / "classifier.keras"))
    paths["classifier"] = str(root / "classifier.keras")

    rgb = (np.arange(16 * 16 * 3) % 256).astype("uint8").reshape(16, 16, 3)
    paths["photo"] = str(root / "photo.png")
    Image.fromarray(rgb).save(paths["photo"])
    paths["truncated_photo"] = first_half_of(root / "photo.png", root / "truncated.png")
    paths["text_photo"] = str(root / "photo.txt")
    with open(paths["text_photo"], "w") as file:
        file.write("not an image")
    paths["a_file"] = str(root / "a_file")
    with open(paths["a_file"], "w") as file:
        file.write("x")
    return paths


def filters_args(files, *extra, model="tiny", layer="relu2"):
    return ["filters", "--model", files.get(model, model), "--layer", layer, "--filters", "0",
            "--size", "16", "--steps", "1", "--out", os.path.join(files["root"], "out"),
            "--models-dir", os.path.join(files["root"], "models"), "--quiet", *extra]


CLI_CASES = [
    # (id, argv builder, text the one line must contain)
    ("unknown model name", lambda f: filters_args(f, model="vgg61"), "'vgg16'"),
    ("missing model file", lambda f: filters_args(f, model="/no/such/model.keras"),
     "not found"),
    ("file that is not a model", lambda f: filters_args(f, model=f["text_model"]),
     "Could not load"),
    ("truncated h5", lambda f: filters_args(f, model=f["truncated_h5"]), "Could not load"),
    ("corrupt keras", lambda f: filters_args(f, model=f["corrupt_keras"]), "Could not load"),
    ("model with no image input", lambda f: filters_args(f, model=f["mlp"], layer="dense"),
     "not images"),
    ("unknown layer suggests names", lambda f: filters_args(f, layer="relu3"),
     "Did you mean: 'relu2'"),
    ("layer without channel axis", lambda f: filters_args(f, model=f["classifier"],
                                                          layer="head"), "no channel axis"),
    ("negative filter", lambda f: filters_args(f) + ["--filters", "-1"], "0 or more"),
    ("filter out of range names channel count", lambda f: filters_args(f) + ["--filters", "6"],
     "has 6 channels"),
    ("reversed filter range", lambda f: filters_args(f) + ["--filters", "5-2"],
     "Malformed filter list"),
    ("letters as filter range", lambda f: filters_args(f) + ["--filters", "a-b"],
     "Malformed filter list"),
    ("image too small for the network", lambda f: [
        "filters", "--layer", "conv_pw_13_relu", "--size", "8", "--out",
        os.path.join(f["root"], "small"), "--models-dir", os.path.join(f["root"], "small-models")],
     "at least 32"),
    ("size the fixed-size network cannot take", lambda f: filters_args(
        f, model=f["fixed16"]) + ["--size", "16x20"], "must be 16"),
    ("malformed size", lambda f: filters_args(f) + ["--size", "big"], "128 or 96x128"),
    ("zero steps", lambda f: filters_args(f) + ["--steps", "0"], "positive integer"),
    ("negative steps", lambda f: filters_args(f) + ["--steps", "-5"], "positive integer"),
    ("zero learning rate", lambda f: filters_args(f) + ["--lr", "0"], "positive finite"),
    ("negative learning rate", lambda f: filters_args(f) + ["--lr", "-1"], "positive finite"),
    ("infinite learning rate", lambda f: filters_args(f) + ["--lr", "inf"], "positive finite"),
    ("NaN learning rate", lambda f: filters_args(f) + ["--lr", "nan"], "positive finite"),
    ("output folder under a file", lambda f: filters_args(f)[:-5] + [
        "--out", os.path.join(f["a_file"], "out"), "--quiet"], "Cannot write"),
    ("unknown parameterization", lambda f: filters_args(f) + ["--parameterization", "wavelet"],
     "'fourier'"),
    ("unknown objective", lambda f: filters_args(f) + ["--objective", "entropy"], "'neuron'"),
    ("unknown model format", lambda f: filters_args(f) + ["--format", "onnx"], "'h5'"),
    ("zero batch", lambda f: filters_args(f) + ["--batch", "0"], "positive integer"),
    ("unsupported alpha", lambda f: ["layers", "--alpha", "0.3"], "0.25"),
    ("weights for the wrong architecture", lambda f: [
        "layers", "--model", "vgg16", "--weights",
        os.path.join(os.path.dirname(kd.__file__), "network", "weights", "mobilenet_2_5_224_tf_no_top.h5")],
     "does not fit vgg16"),
    ("missing weights file", lambda f: ["layers", "--weights", "/no/weights.h5"],
     "Weights file not found"),
    ("missing photo", lambda f: ["invert", "--model", f["tiny"], "--layer", "relu2",
                                 "--image", "/no/photo.png", "--out", f["root"]],
     "Image file not found"),
    ("photo that is not an image", lambda f: ["invert", "--model", f["tiny"], "--layer", "relu2",
                                              "--image", f["text_photo"], "--out", f["root"]],
     "Could not read the image"),
    ("truncated photo", lambda f: ["caricature", "--model", f["tiny"], "--layer", "relu2",
                                   "--image", f["truncated_photo"], "--out", f["root"]],
     "Could not read the image"),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_rejects_bad_input_with_one_line_and_status_2(case, files, capsys):
    _, argv, expected = case
    argv = argv(files)
    folders = [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in ("--out", "--models-dir")]
    existed = [folder for folder in folders if os.path.exists(folder)]
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main(argv))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert expected in err
    # Refused before anything is written: not even an empty output folder.
    assert [folder for folder in folders if os.path.exists(folder)] == existed


API_CASES = [
    ("unknown application", lambda f: kd.load_base("resnet5O"), "'resnet50'"),
    ("channel filter out of range", lambda f: kd.DreamModel(
        kd.Channel("relu2", 9), f["tiny"], size=16), "has 6 channels (0-5)"),
    ("neuron cell out of range", lambda f: kd.DreamModel(
        kd.Neuron("relu2", 0, x=50), f["tiny"], size=16), "Neuron cell out of range"),
    ("per-dream targets of different lengths", lambda f: kd.DreamModel(
        kd.Channel("relu2", [0, 1]) + kd.Channel("relu1", [0, 1, 2]), f["tiny"], size=16),
     "different numbers of dreams"),
    ("NaN weight in an objective", lambda f: float("nan") * kd.Channel("relu2", 0),
     "finite number"),
    ("RGB photo for a grayscale network", lambda f: kd.DreamModel(
        kd.Inversion("relu2", np.zeros((16, 16, 3))), f["grey"], size=16), "shape (16, 16, 1)"),
    ("grayscale photo for an RGB network", lambda f: kd.DreamModel(
        kd.Inversion("relu2", np.zeros((16, 16, 1))), f["tiny"], size=16), "shape (16, 16, 3)"),
    ("not an objective", lambda f: kd.DreamModel("channel", f["tiny"]),
     "Expected an objective"),
    ("unknown parameterization", lambda f: kd.DreamModel(
        kd.Channel("relu2", 0), f["tiny"], size=16, parameterization="wavelet"), "'pixels'"),
    ("zero steps", lambda f: kd.train(kd.DreamModel(
        kd.Channel("relu2", 0), f["tiny"], size=16), 0), "steps must be a positive integer"),
    ("NaN learning rate", lambda f: kd.train(kd.DreamModel(
        kd.Channel("relu2", 0), f["tiny"], size=16), 5, learning_rate=float("nan")),
     "positive finite"),
    ("filter given as text", lambda f: kd.Channel("relu2", "3"), "integer"),
]


@pytest.mark.parametrize("case", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_raises_dream_error_naming_the_value(case, files):
    _, call, expected = case
    with pytest.raises(kd.DreamError) as error:
        call(files)
    assert expected in str(error.value)
