"""One chunk trained and committed: records name their files by the hashes of
the bytes written, and the images handed back are the PNGs' pixels."""

import hashlib
import json

import numpy as np

from kerasdream.io import load_image
from kerasdream.saving import load_dream
from kerasdream.network.bases import BaseSpec
from kerasdream.runs.chunk import train_chunk
from kerasdream.runs.plan import LayerRun
from kerasdream.runs.settings import DreamSettings


def test_a_chunk_commits_each_dream_and_reuses_its_traced_model(tiny_cnn_path, tmp_path):
    settings = DreamSettings(size=8, steps=2, transforms="none")
    run = LayerRun(BaseSpec(tiny_cnn_path), "relu2", [0, 1, 2, 3], settings,
                   str(tmp_path / "out"), str(tmp_path / "models"))
    models = {}
    outcome = train_chunk(run, models, [0, 1], log=lambda line: None)
    assert outcome.saved == 2 and sorted(outcome.records) == [0, 1]
    for k in (0, 1):
        record = outcome.records[k]
        png = open(run.png_path(k), "rb").read()
        assert record["png_sha256"] == hashlib.sha256(png).hexdigest()
        assert record["model_sha256"] == hashlib.sha256(
            open(run.model_path(k), "rb").read()).hexdigest()
        assert json.loads(open(run.record_path(k)).read()) == record
        assert record["filter"] == k and record["steps"] == 2 and record["settings"]["size"] == 8
        np.testing.assert_array_equal(outcome.images[k], load_image(run.png_path(k)))
        np.testing.assert_array_equal(load_dream(run.model_path(k)).render()[0],
                                      outcome.images[k])
    model = models[2]
    again = train_chunk(run, models, [2, 3], log=lambda line: None)
    assert models == {2: model} and sorted(again.records) == [2, 3]  # restarted, not rebuilt


def test_a_filter_that_ignores_its_input_gets_its_own_status(tmp_path):
    import keras

    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(2, 3, padding="same", name="conv")
    keras.Model(inputs, keras.layers.ReLU(name="relu")(conv(inputs))).save(
        str(tmp_path / "net.keras"))
    model = keras.models.load_model(str(tmp_path / "net.keras"))
    kernel = np.random.default_rng(0).normal(0, 0.3, (3, 3, 3, 2)).astype("float32")
    kernel[..., 1] = 0.0  # filter 1 sees nothing: its output is its bias, 0.5, everywhere
    model.get_layer("conv").set_weights([kernel, np.array([0.1, 0.5], "float32")])
    model.save(str(tmp_path / "net.keras"))
    run = LayerRun(BaseSpec(str(tmp_path / "net.keras")), "relu", [0, 1],
                   DreamSettings(size=8, steps=2, transforms="none"),
                   str(tmp_path / "out"), str(tmp_path / "models"))
    outcome = train_chunk(run, {}, [0, 1], log=lambda line: None)
    assert outcome.records[0]["status"] == "ok"
    assert outcome.records[1]["status"] == "constant"
    assert json.loads(open(run.record_path(1)).read())["status"] == "constant"
