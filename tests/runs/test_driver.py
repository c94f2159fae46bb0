"""The driver: metrics.json from the records it keeps, grids from the images in
memory (equal to grids of the PNGs read back), a damaged summary rebuilt."""

import json
import os

import numpy as np
import pytest

from kerasdream import io
from kerasdream.network.bases import BaseSpec
from kerasdream.runs import driver
from kerasdream.runs.executors import InProcess
from kerasdream.runs.plan import make_plan
from kerasdream.runs.settings import DreamSettings


def gallery(model, out, lines):
    plan = make_plan(BaseSpec(model), ["relu2"], "0-2", DreamSettings(size=8, steps=2),
                     out_dir=str(out), models_dir=str(out / "models"), batch=2)
    return driver.run(plan, InProcess(), quiet=True, log=lines.append)


def on_disk_records(folder):
    return {name[len("filter_"):-len(".json")]: json.loads((folder / name).read_text())
            for name in os.listdir(folder) if name.startswith("filter_") and name.endswith(".json")}


def test_metrics_grid_and_a_rerun_that_mixes_memory_and_disk(tiny_cnn_path, tmp_path):
    out, lines = tmp_path / "out", []
    results = gallery(tiny_cnn_path, out, lines)
    layer = out / "relu2"
    assert [r.filter for r in results["relu2"]] == [0, 1, 2]
    metrics = json.loads((layer / "metrics.json").read_text())
    assert metrics["filters"] == on_disk_records(layer)
    assert metrics["layer"] == "relu2" and metrics["channels"] == 6
    pngs = [io.load_image(str(layer / f"filter_{k}.png")) for k in range(3)]
    by_hand = io.grid(np.stack(pngs), labels=["0", "1", "2"], title="relu2")
    np.testing.assert_array_equal(io.load_image(str(layer / "grid.png")), by_hand)
    grid = (layer / "grid.png").read_bytes()
    assert lines[-1].startswith("relu2: ")

    os.remove(layer / "filter_1.json")  # filter 1 is redone; 0 and 2 come from disk
    (layer / "metrics.json").write_text("[]")  # and the summary is damaged
    lines.clear()
    gallery(tiny_cnn_path, out, lines)
    assert lines[:3] == [
        "relu2: moved aside filter_1.png.stale, filter_1.keras.stale: left by an interrupted "
        "or another run (no commit record).",
        "relu2: skipped 2 finished dreams, repaired 0, redid 1.",
        "relu2: moved aside metrics.json.corrupt: it was damaged (not a summary of dreams); "
        "rebuilt from the dreams' records."]
    assert (layer / "grid.png").read_bytes() == grid  # same seed, same dream, same grid
    assert json.loads((layer / "metrics.json").read_text())["filters"] == on_disk_records(layer)

    lines.clear()
    gallery(tiny_cnn_path, out, lines)
    assert lines[:2] == ["relu2: skipped 3 finished dreams, repaired 0, redid 0.",
                         "Every dream is already done; nothing to train."]


def _tiny_file(path, scale=1.0):
    """The conftest's tiny CNN saved at `path`, its weights times `scale`."""
    from conftest import tiny_cnn

    model = tiny_cnn()
    model.set_weights([w * scale for w in model.get_weights()])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    model.save(path)
    return path


def one_dream(spec, out, lines):
    plan = make_plan(spec, ["relu2"], "0", DreamSettings(size=8, steps=1),
                     out_dir=str(out), models_dir=str(out / "models"))
    return driver.run(plan, InProcess(), quiet=True, log=lines.append)


@pytest.mark.slow
def test_a_rerun_with_another_network_retrains_and_moves_the_old_dream_aside(tmp_path):
    out, lines = tmp_path / "out", []
    first = _tiny_file(str(tmp_path / "a" / "tiny.keras"))
    one_dream(BaseSpec(first), out, lines)
    png = (out / "relu2" / "filter_0.png").read_bytes()

    def rerun(spec):
        lines.clear()
        one_dream(spec, out, lines)
        return lines

    # The same network copied to another folder (same content and name): already done.
    copy = str(tmp_path / "copy" / "tiny.keras")
    os.makedirs(os.path.dirname(copy))
    with open(first, "rb") as source, open(copy, "wb") as target:
        target.write(source.read())
    assert "Every dream is already done; nothing to train." in rerun(BaseSpec(copy))
    cases = {
        "another preprocessing": BaseSpec(first, preprocess="caffe"),
        "another file of the same name": BaseSpec(
            _tiny_file(str(tmp_path / "b" / "tiny.keras"), scale=0.5)),
        "retrained in place": BaseSpec(_tiny_file(first, scale=2.0)),
    }
    for case, spec in cases.items():
        said = rerun(spec)
        assert said[0].startswith("relu2: moved aside filter_0.png.stale, "
                                  "filter_0.keras.stale, filter_0.json.stale: made with other "
                                  "settings: network: the network's weights, architecture or "
                                  "preprocessing differ"), (case, said)
        assert "Every dream is already done; nothing to train." not in said, case
        assert (out / "relu2" / "filter_0.png.stale").read_bytes() != b"", case
    assert (out / "relu2" / "filter_0.png").read_bytes() != png


@pytest.mark.slow
def test_two_output_folders_sharing_a_models_folder_are_refused_in_one_line(tiny_cnn_path,
                                                                              tmp_path):
    from kerasdream.errors import DreamError
    from kerasdream.runs.runlock import FolderInUse, RunLock

    models, lines = tmp_path / "models", []

    def run(out):
        plan = make_plan(BaseSpec(tiny_cnn_path), ["relu2"], "0", DreamSettings(size=8, steps=1),
                         out_dir=str(out), models_dir=str(models))
        return driver.run(plan, InProcess(), quiet=True, log=lines.append)

    run(tmp_path / "first")
    model = models / "tiny" / "relu2" / "filter_0.keras"
    before = model.read_bytes()
    with pytest.raises(DreamError) as refused:
        run(tmp_path / "second")
    message = str(refused.value)
    assert "\n" not in message and str(tmp_path / "first") in message
    assert message.endswith(f"Received: models_dir={str(models)!r}")
    assert model.read_bytes() == before and not (tmp_path / "second" / "relu2").exists()
    # While a run holds the models folder, another --out using it is refused too.
    with RunLock(str(models), command="the first run"):
        with pytest.raises(FolderInUse, match="the first run.*Received: models_dir="):
            run(tmp_path / "first")
    lines.clear()
    run(tmp_path / "first")  # its own models: a rerun as before
    assert "Every dream is already done; nothing to train." in lines


@pytest.mark.slow
def test_a_layer_named_dot_dot_writes_inside_the_output_folder(tmp_path):
    import keras

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.ReLU(name="..")(x), name="..")
    path = str(tmp_path / "net" / "...keras")
    os.makedirs(os.path.dirname(path))
    model.save(path)
    out, models = tmp_path / "deep" / "out", tmp_path / "deep" / "models"
    plan = make_plan(BaseSpec(path), [".."], "0", DreamSettings(size=8, steps=1),
                     out_dir=str(out), models_dir=str(models))
    driver.run(plan, InProcess(), quiet=True, log=lambda line: None)
    written = sorted(os.path.relpath(os.path.join(root, name), tmp_path / "deep")
                     for root, _, names in os.walk(tmp_path / "deep") for name in names)
    assert written == ["models/~2E..keras/~2E./.kerasdream-out.json",
                       "models/~2E..keras/~2E./filter_0.keras", "out/~2E./filter_0.json",
                       "out/~2E./filter_0.png", "out/~2E./grid.png", "out/~2E./metrics.json"]


@pytest.mark.slow
def test_metrics_missing_an_entry_or_with_wrong_keys_is_rebuilt_with_nothing_to_train(
        tiny_cnn_path, tmp_path):
    out, lines = tmp_path / "out", []
    gallery(tiny_cnn_path, out, lines)
    metrics_path = out / "relu2" / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    del metrics["filters"]["1"]
    metrics["filters"]["2"]["rank"] = 99
    metrics_path.write_text(json.dumps(metrics))
    for damage in (None, {"filters": {"x": 3, "0": "no"}, "layer": 7}):
        if damage is not None:
            metrics_path.write_text(json.dumps(damage))
        lines.clear()
        gallery(tiny_cnn_path, out, lines)
        assert "Every dream is already done; nothing to train." in lines
        assert ("relu2: rebuilt metrics.json from the dreams' records (it lacked or misstated "
                f"filters {'0, 1, 2' if damage else '1, 2'}).") in lines
        rebuilt = json.loads(metrics_path.read_text())
        assert rebuilt["filters"] == on_disk_records(out / "relu2") and rebuilt["layer"] == "relu2"
    metrics_path.unlink()
    lines.clear()
    gallery(tiny_cnn_path, out, lines)
    assert "relu2: metrics.json was missing; rebuilt from the dreams' records." in lines
    assert json.loads(metrics_path.read_text())["filters"] == on_disk_records(out / "relu2")
