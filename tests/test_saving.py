"""Saving dreams: registered classes reload with safe_mode=True, one row at a time."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import kerasdream as kd
from kerasdream import saving
from kerasdream.accentuation import accentuation_objective
from kerasdream.errors import DreamError
from kerasdream.generator import DreamGenerator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RELOAD = """
import json, sys
import numpy as np
import kerasdream as kd

assert "keras" not in sys.modules  # nothing but kerasdream imported so far
out = {}
for name, path in json.loads(sys.argv[1]).items():
    generator = kd.load_dream(path)
    model = kd.rebuild(generator)
    out[name] = {"images": float(np.sum(generator.images(), dtype="float64")),
                 "objective": repr(model.objective),
                 "parameterization": type(generator.parameterization).__name__}
print(json.dumps(out))
"""


@pytest.mark.slow
def test_maco_direction_and_accentuation_dreams_reload_in_a_fresh_process(tiny_cnn_path,
                                                                          tmp_path):
    photo = np.linspace(0, 255, 16 * 16 * 3, dtype="float32").reshape(16, 16, 3)
    vector = np.arange(6, dtype="float32") - 2.5  # relu2 has 6 channels
    models = {
        "maco": kd.DreamModel(kd.Channel("relu2", [0, 1]), tiny_cnn_path, size=16,
                              parameterization="maco"),
        "direction": kd.DreamModel(kd.Direction("relu2", vector), tiny_cnn_path, size=16),
        "accentuation": kd.DreamModel(accentuation_objective("relu2", [1, 4], photo),
                                      tiny_cnn_path, size=16, num_dreams=2),
    }
    paths, expected = {}, {}
    for name, model in models.items():
        paths[name] = str(tmp_path / f"{name}.keras")
        saving.save_dream(model.generator, paths[name])
        expected[name] = {"images": float(np.sum(model.images(), dtype="float64")),
                          "objective": repr(model.objective),
                          "parameterization": type(model.generator.parameterization).__name__}
    env = {**os.environ, "PYTHONPATH": ROOT}
    done = subprocess.run([sys.executable, "-c", RELOAD, json.dumps(paths)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    reloaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert reloaded == expected
    assert reloaded["maco"]["parameterization"] == "Maco"
    assert reloaded["accentuation"]["objective"].count("Distance") == 1


def test_row_equals_select_and_reuses_one_generator(tiny_cnn_path):
    model = kd.DreamModel(kd.Channel("relu2", [3, 1, 5]), tiny_cnn_path, size=8, seed=4)
    kd.train(model, 2)
    state = model.training_state()
    generator = model.generator
    first = generator.row(0, state)
    first_images = first.images()
    np.testing.assert_array_equal(first_images, generator.select([0], state).images())
    again = generator.row(2, state)
    assert again is first  # refilled, not rebuilt
    chosen = generator.select([2], state)
    np.testing.assert_array_equal(again.images(), chosen.images())
    np.testing.assert_array_equal(again.images()[0], generator.images()[2])
    assert again.row_keys == [2] and again.get_config() == chosen.get_config()
    slots, steps = again.training_state()
    np.testing.assert_array_equal(slots, state[0][:, [2]])
    assert steps == state[1] == 2
    # The scratch generator is no part of the batched one.
    assert len(generator.weights) == 1


def test_save_dream_of_one_row_reloads_that_dream(tiny_cnn_path, tmp_path):
    model = kd.DreamModel(kd.Channel("relu2", [3, 1]), tiny_cnn_path, size=8, seed=2)
    path = str(tmp_path / "one.keras")
    saving.save_dream(model.generator, path, row=1)
    reloaded = saving.load_dream(path)
    np.testing.assert_array_equal(reloaded.images()[0], model.images()[1])
    assert reloaded.row_keys == [1]
    assert reloaded.spec["objective"]["config"]["index"] == 1  # the row's own filter


def test_save_dream_takes_a_generator_and_a_model_format(tmp_path):
    generator = DreamGenerator(1, (4, 4, 3), "pixels")
    with pytest.raises(DreamError, match=r"Received: path=.*\.png"):
        saving.save_dream(generator, str(tmp_path / "x.png"))
    with pytest.raises(DreamError, match="Received: str"):
        saving.save_dream("generator", str(tmp_path / "x.keras"))
    with pytest.raises(DreamError, match=r"Received: index=1"):
        generator.row(1)


def test_every_registered_class_is_loadable_by_its_bare_name():
    registered = saving.register_all()
    for name in ("DreamGenerator", "Maco", "Fourier", "Direction", "Distance", "Channel",
                 "Jitter", "Preprocess", "RowNormalizedSGD"):
        assert registered[name].__name__ == name


def test_rebuild_reads_the_model_file_the_dream_was_made_with_not_the_current_folders(
        tmp_path, monkeypatch):
    from conftest import tiny_cnn

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    network = tiny_cnn()
    network.save(str(tmp_path / "a" / "net.keras"))
    network.set_weights([-w for w in network.get_weights()])
    network.save(str(tmp_path / "b" / "net.keras"))  # another network, the same file name
    monkeypatch.chdir(tmp_path / "a")
    model = kd.DreamModel(kd.Channel("relu2", [0]), "net.keras", size=8)
    saving.save_dream(model.generator, str(tmp_path / "dream.keras"))
    assert model.get_config()["base"]["model"] == str(tmp_path / "a" / "net.keras")
    monkeypatch.chdir(tmp_path / "b")
    rebuilt = kd.rebuild(saving.load_dream(str(tmp_path / "dream.keras")))
    assert rebuilt.spec.model == str(tmp_path / "a" / "net.keras")
    # The file retrained in place since: said in one line, not trained on silently.
    os.replace(str(tmp_path / "b" / "net.keras"), str(tmp_path / "a" / "net.keras"))
    with pytest.raises(DreamError, match=r"made with another network than .*a/net\.keras"):
        kd.rebuild(saving.load_dream(str(tmp_path / "dream.keras")))


def test_a_dream_file_of_another_network_says_so_when_loaded(tiny_cnn_path, tmp_path):
    model = kd.DreamModel(kd.Channel("relu2", [0]), tiny_cnn_path, size=8)
    path = str(tmp_path / "filter_0.keras")
    saving.save_dream(model.generator, path)
    mine = model.generator.spec["network"]
    assert saving.load_dream(path, network=mine).spec["network"] == mine
    with pytest.raises(DreamError, match=r"^The dream file was made with another network "
                                         r"\(model=.*tiny\.keras.*Received: path="):
        saving.load_dream(path, network="0" * 64)
