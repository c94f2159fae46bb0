"""The executors' own checks; that both give the same folder and report through
the one driver is shown on a local cluster in `test_cluster.py` (one cluster
for every test that needs one)."""

import os

import pytest


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
