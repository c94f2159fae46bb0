"""The two executors through the one driver: the same damaged-folder rerun, in
this process and on a local Dask cluster of 2 workers, gives the same folder
and the same report."""

import json
import os
import shutil

import pytest

from kerasdream.cli.commands import main
from kerasdream.runs import cluster

from conftest import tiny_cnn

pytest.importorskip("distributed",
                    reason="pip install 'kerasdream[cluster]' (or: pip install 'dask[distributed]')")


def command(model, out, *extra):
    return ["filters", "--model", model, "--layer", "relu2", "--filters", "0-3", "--size", "16",
            "--steps", "6", "--batch", "2", "--out", str(out), "--models-dir",
            str(out / "models"), "--quiet", *extra]


def damage(out):
    """A corrupt PNG (filter 1), a record for other settings (filter 2: seed 1,
    its files intact) and stray files with no record (filter 3's)."""
    layer = out / "relu2"
    (layer / "filter_1.png").write_bytes(b"not a png")
    record = json.loads((layer / "filter_2.json").read_text())
    record["settings"]["seed"] = 1
    (layer / "filter_2.json").write_text(json.dumps(record))
    os.remove(layer / "filter_3.json")


def contents(out):
    """{relative path: bytes} of every file; records and metrics without the
    entries that differ between any two runs (wall times, a .keras zip's dates)."""
    found = {}
    for root, _, names in os.walk(out):
        for name in names:
            path = os.path.join(root, name)
            data = open(path, "rb").read()
            if name.endswith(".json") and name != "metrics.json":
                data = json.loads(data)
                data.pop("wall_seconds", None), data.pop("model_sha256", None)
            elif name == "metrics.json":
                data = json.loads(data)
                data.pop("network")  # the model's path: another folder each
                for entry in data["filters"].values():
                    entry.pop("wall_seconds"), entry.pop("model_sha256")
            elif name.endswith((".keras", ".keras.stale", ".keras.corrupt")):
                data = "a model"  # a zip that records when it was written
            found[os.path.relpath(path, out)] = data
    return found


@pytest.fixture(scope="module")
def address():
    with cluster.connect("local:2", log=lambda line: None) as client:
        yield client.scheduler.address


@pytest.mark.slow
def test_a_damaged_folder_reruns_the_same_in_process_and_on_a_cluster(address, tmp_path,
                                                                        capsys):
    model = str(tmp_path / "tiny.keras")
    tiny_cnn().save(model)
    first = tmp_path / "first"
    assert main(command(model, first)) == 0
    damage(first)
    local, remote = tmp_path / "local", tmp_path / "remote"
    shutil.copytree(first, local)
    shutil.copytree(first, remote)
    capsys.readouterr()

    assert main(command(model, local, "--overwrite")) == 0
    local_report = capsys.readouterr().out.replace(str(local), "OUT")
    assert main(command(model, remote, "--overwrite", "--cluster", address)) == 0
    remote_report = capsys.readouterr().out.replace(str(remote), "OUT")

    assert remote_report == local_report
    lines = local_report.splitlines()
    assert lines[:3] == [
        "relu2: moved aside filter_1.png.corrupt, filter_1.keras.corrupt, "
        "filter_1.json.corrupt: its PNG filter_1.png does not match the record (damaged or "
        "written by another run).",
        "relu2: moved aside filter_3.png.stale, filter_3.keras.stale: left by an interrupted "
        "or another run (no commit record).",
        "relu2: skipped 1 finished dream, repaired 1, redid 2.",
    ]
    assert contents(remote) == contents(local)
    names = sorted(contents(local))
    assert "relu2/filter_1.png.corrupt" in names and "relu2/filter_3.png.stale" in names
    # --overwrite: filter 2's dream of other settings is retrained in place, not moved aside.
    assert not any(name.startswith("relu2/filter_2.") and name.endswith(".stale")
                   for name in names)
    record = json.loads((local / "relu2" / "filter_2.json").read_text())
    assert record["settings"]["seed"] == 0
    # Every dream is whole again: its PNG is the first run's (same seed, same bytes).
    for k in range(4):
        name = f"filter_{k}.png"
        assert (local / "relu2" / name).read_bytes() == (remote / "relu2" / name).read_bytes()
    assert (local / "relu2" / "filter_0.png").read_bytes() == \
        (first / "relu2" / "filter_0.png").read_bytes()


def test_a_chunk_a_worker_saved_where_the_driver_cannot_see_it_ends_the_run(tmp_path):
    from kerasdream.errors import DreamError
    from kerasdream.network.bases import BaseSpec
    from kerasdream.runs.chunk import ChunkOutcome
    from kerasdream.runs.executors import _check_written
    from kerasdream.runs.plan import ChunkTask, LayerRun
    from kerasdream.runs.settings import DreamSettings

    run = LayerRun(BaseSpec("tiny.keras"), "relu2", [0, 1], DreamSettings(size=8),
                   str(tmp_path / "out"), str(tmp_path / "models"))
    task = ChunkTask(run, (0, 1))
    os.makedirs(run.folder)
    for path in (run.png_path(0), run.record_path(0)):  # filter 1's are not here
        open(path, "w").close()
    _check_written(task, ChunkOutcome({0: {}}, {}))
    with pytest.raises(DreamError) as refused:
        _check_written(task, ChunkOutcome({0: {}, 1: {}}, {}))
    assert str(refused.value) == (
        f"A worker reported filter 1 of relu2 saved, but this driver finds no "
        f"{run.record_path(1)!r}: the workers write to another folder of the same path. "
        f"Give them a shared --out and --models-dir.")
