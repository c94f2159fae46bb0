"""Interrupted runs, numerical faults and reproducibility of the main job."""

import json
import os
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream.callbacks import NonFiniteError
from kerasdream.cli.commands import main
from kerasdream.runs.gallery import DreamSettings, run_gallery
from kerasdream.io import load_image
from kerasdream.saving import load_dream


def filters_command(model, out, models):
    return ["filters", "--model", model, "--layer", "relu2", "--filters", "0-5", "--batch", "2",
            "--size", "16", "--steps", "30", "--out", str(out), "--models-dir", str(models),
            "--quiet"]


CHILD = os.path.join(os.path.dirname(__file__), "signal_child.py")


def child_at(phase, args):
    """`kerasdream args` in a child that waits at `phase` (see signal_child.py)."""
    child = subprocess.Popen([sys.executable, CHILD, phase, *args], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = child.stdout.readline()
    assert line.strip() == f"ready {phase}", (line, child.communicate())
    return child


def check_every_file(out, models):
    """Every file under its real name is complete; return the finished filters."""
    names = [n for root in (out, models) for _, _, files in os.walk(root) for n in files]
    assert not [n for n in names if n.startswith(".tmp-")]
    metrics_path = out / "relu2" / "metrics.json"
    finished = []
    if metrics_path.exists():
        finished = sorted(int(k) for k in json.loads(metrics_path.read_text())["filters"])
    for k in range(6):
        png = out / "relu2" / f"filter_{k}.png"
        model = models / "tiny" / "relu2" / f"filter_{k}.keras"
        record = out / "relu2" / f"filter_{k}.json"
        assert png.exists() == model.exists() == record.exists() == (k in finished)
        if k in finished:
            assert load_image(str(png)).shape == (16, 16, 3)
            np.testing.assert_array_equal(load_dream(str(model)).render()[0],
                                          load_image(str(png)).astype("uint8"))
    return finished


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """The PNG bytes of an uninterrupted run, to compare finished runs with."""
    root = tmp_path_factory.mktemp("clean")
    from conftest import tiny_cnn

    model = str(root / "tiny.keras")
    tiny_cnn().save(model)
    assert main(filters_command(model, root / "out", root / "models")) == 0
    return model, {k: (root / "out" / "relu2" / f"filter_{k}.png").read_bytes() for k in range(6)}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["SIGINT", "SIGTERM", "SIGKILL"])
@pytest.mark.slow
def test_stopped_gallery_leaves_only_whole_files_locks_out_others_and_rerun_finishes(
        sig, clean_run, tmp_path, capsys):
    model, clean_pngs = clean_run
    out, models = tmp_path / "out", tmp_path / "models"
    # The child waits in the second chunk, its first two dreams committed.
    child = child_at("train", filters_command(model, out, models))
    try:
        # A second run on the folder meanwhile is refused, naming the first.
        assert main(filters_command(model, out, tmp_path / "other-models")) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"pid {child.pid} on host" in err, err
        assert "Another kerasdream run is writing to this folder" in err
        child.send_signal(sig)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert check_every_file(out, models) == [0, 1]
    if sig == signal.SIGKILL:
        assert child.returncode == -signal.SIGKILL
    else:
        assert child.returncode == 128 + sig  # 130, 143
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines == [f"Interrupted by {signal.Signals(sig).name}: the 2 dreams finished "
                         f"in this run are saved; run the same command again to finish the "
                         f"rest."], err

    assert main(filters_command(model, out, models)) == 0
    said = capsys.readouterr().out
    assert ("Cleared a stale lock" in said) == (sig == signal.SIGKILL)
    assert "relu2: skipped 2 finished dreams, repaired 0, redid 0." in said
    assert check_every_file(out, models) == list(range(6))
    # Same command, same seed, same bytes: dreams 0 and 1 were made by the
    # child process, the rest here, and all six equal the clean run's.
    for k in range(6):
        assert (out / "relu2" / f"filter_{k}.png").read_bytes() == clean_pngs[k]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_the_tensorflow_import_is_one_line_and_its_status(sig, tmp_path):
    child = child_at("import", filters_command("tiny.keras", tmp_path / "out", tmp_path / "m"))
    child.send_signal(sig)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 128 + sig
    assert [line for line in err.splitlines() if line.strip()] == [
        f"Interrupted by {signal.Signals(sig).name} before anything was written; run the "
        f"same command again."], err
    assert not (tmp_path / "out").exists()


def exploding_model(path):
    """exp(0.2 * (r + g + b)) is finite for a grey start (exp(76) < 3.4e38)
    but overflows float32 once the pixels pass ~148: the loss turns infinite."""
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(2, 1, use_bias=False, activation="exponential", name="boom")
    model = keras.Model(inputs, conv(inputs))
    kernel = np.zeros((1, 1, 3, 2), "float32")
    kernel[..., 0] = 0.2
    kernel[..., 1] = 0.001
    conv.set_weights([kernel])
    model.save(path)
    return path


def test_non_finite_loss_stops_names_step_and_dreams_and_keeps_finite_images(tmp_path):
    path = exploding_model(str(tmp_path / "boom.keras"))
    model = kd.DreamModel(kd.Channel("boom", [0, 1]), path, size=8, transforms=None)
    with pytest.raises(NonFiniteError) as error:
        kd.train(model, 200, learning_rate=0.5)
    # Keras runs up to 25 steps per call: the fault is placed within one call.
    assert 1 <= error.value.first_step <= error.value.step < 200
    assert error.value.step - error.value.first_step == 24
    assert f"between step {error.value.first_step} and step {error.value.step}" in str(error.value)
    # The summed loss is infinite while every kernel row is still finite (the
    # update is normalized per row), so no single dream can be blamed: all are named.
    assert error.value.rows == [0, 1]
    images = kd.generator_of(model).images()
    assert np.all(np.isfinite(images))
    # The kept images are ones whose loss was finite: exp(0.2 * (r + g + b)) < 3.4e38.
    assert np.all(0.2 * images.sum(axis=-1) < 88.7)


def test_one_step_per_call_places_the_fault_at_its_exact_step(tmp_path):
    path = exploding_model(str(tmp_path / "boom.keras"))
    model = kd.DreamModel(kd.Channel("boom", [0, 1]), path, size=8, transforms=None)
    with pytest.raises(NonFiniteError) as error:
        kd.train(model, 200, learning_rate=0.5, steps_per_execution=1)
    assert 1 < error.value.first_step == error.value.step < 200
    assert f"at step {error.value.step};" in str(error.value)
    assert np.all(np.isfinite(kd.generator_of(model).images()))


def test_resumed_gallery_counts_the_fault_step_from_the_start_of_the_run(tmp_path):
    path = exploding_model(str(tmp_path / "boom.keras"))
    folders = dict(out_dir=str(tmp_path / "out"), models_dir=str(tmp_path / "models"),
                   quiet=True, log=lambda line: None)
    calm = DreamSettings(size=8, steps=5, learning_rate=0.001, transforms="none")
    first = run_gallery(kd.BaseSpec(path), ["boom"], "0", calm, **folders)
    assert first["boom"][0].status == "ok"
    wild = DreamSettings(size=8, steps=200, learning_rate=0.5, transforms="none")
    resumed = run_gallery(kd.BaseSpec(path), ["boom"], "0", wild, resume=True, **folders)
    status = resumed["boom"][0].status
    assert status.startswith("non-finite by step ")
    assert 5 < int(status.rsplit(" ", 1)[1]) <= 200


def test_gallery_records_the_fault_and_goes_on_with_other_layers(tmp_path):
    inputs = keras.Input((8, 8, 3))
    boom = keras.layers.Conv2D(1, 1, use_bias=False, activation="exponential", name="boom")
    calm = keras.layers.Conv2D(2, 1, use_bias=False, name="calm")
    model = keras.Model(inputs, [boom(inputs), calm(inputs)])
    boom.set_weights([np.full((1, 1, 3, 1), 0.2, "float32")])
    calm.set_weights([np.ones((1, 1, 3, 2), "float32")])
    path = str(tmp_path / "two.keras")
    model.save(path)

    settings = DreamSettings(size=8, steps=200, learning_rate=0.5, transforms="none")
    results = run_gallery(kd.BaseSpec(path), ["boom", "calm"], None, settings,
                          out_dir=str(tmp_path / "out"), models_dir=str(tmp_path / "models"),
                          quiet=True, log=lambda line: None)
    assert results["boom"][0].status.startswith("non-finite by step")
    assert np.all(np.isfinite(load_image(str(tmp_path / "out" / "boom" / "filter_0.png"))))
    assert [r.status for r in results["calm"]] == ["ok", "ok"]


def test_a_fault_records_the_healthy_dreams_of_its_chunk_as_stopped_not_done():
    from kerasdream.runs.chunk import chunk_outcome

    assert chunk_outcome(3, 200, 0, None) == ([200] * 3, ["ok"] * 3)
    # Row 1 went non-finite between steps 26 and 50 of a run resumed at 100:
    # it keeps its image from before step 126; rows 0 and 2 trained to 150.
    trained, status = chunk_outcome(3, 200, 100, NonFiniteError(50, [1], first_step=26))
    assert trained == [150, 125, 150]
    assert status[1] == "non-finite by step 150"
    assert status[0] == status[2] and status[0].startswith("stopped at step 150")


def test_a_stopped_dream_is_not_done_and_resume_continues_it(tiny_cnn_path, tmp_path):
    folders = dict(out_dir=str(tmp_path / "out"), models_dir=str(tmp_path / "models"),
                   quiet=True, log=lambda line: None)
    settings = DreamSettings(size=8, steps=6, transforms="none")
    run_gallery(kd.BaseSpec(tiny_cnn_path), ["relu2"], "0,1", settings, **folders)
    record_path = tmp_path / "out" / "relu2" / "filter_1.json"  # the dream's commit record
    record = json.loads(record_path.read_text())
    record.update(status="stopped at step 4 (...)", steps=4)
    record_path.write_text(json.dumps(record))

    from kerasdream.runs.plan import make_plan, survey

    # The plan's settings name the network, as the records do.
    run = make_plan(kd.BaseSpec(tiny_cnn_path), ["relu2"], "0,1", settings,
                    out_dir=folders["out_dir"], models_dir=folders["models_dir"]).runs[0]
    assert survey(run, resume=False).pending == {1: 0}  # redone from the start
    assert survey(run, resume=True).pending == {1: 4}  # or continued from step 4
    results = run_gallery(kd.BaseSpec(tiny_cnn_path), ["relu2"], "0,1", settings,
                          resume=True, **folders)
    assert [(r.status, r.steps) for r in results["relu2"]] == [("ok", 6), ("ok", 6)]
