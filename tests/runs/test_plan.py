"""The survey of a layer's folder: hand-made files and records, one decision each."""

import dataclasses
import hashlib
import json
import os

import pytest

from kerasdream.errors import DreamError
from kerasdream.network.bases import BaseSpec
from kerasdream.runs.plan import LayerRun, Plan, chunks, survey, tasks
from kerasdream.runs.settings import DreamSettings

SETTINGS = DreamSettings(size=8, steps=4)


def layer_run(tmp_path, filters=(0, 1, 2, 3, 4, 5)):
    return LayerRun(BaseSpec(str(tmp_path / "tiny.keras")), "relu2", list(filters), SETTINGS,
                    str(tmp_path / "out"), str(tmp_path / "models"))


def commit(run, k, steps=4, seed=0, png=None):
    """Files for dream k and a record naming them by hash (`png` breaks the PNG after)."""
    import json

    files = {run.png_path(k): f"png {k}".encode(), run.model_path(k): f"model {k}".encode()}
    for path, data in files.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "wb").write(data)
    sha = {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
    record = {"filter": k, "steps": steps, "status": "ok", "resumed_at": [],
              "settings": dataclasses.asdict(dataclasses.replace(SETTINGS, seed=seed)),
              "png_sha256": sha[run.png_path(k)], "model_sha256": sha[run.model_path(k)]}
    open(run.record_path(k), "w").write(json.dumps(record))
    if png is not None:
        open(run.png_path(k), "wb").write(png)
    return record


@pytest.fixture
def folder(tmp_path):
    run = layer_run(tmp_path)
    commit(run, 0)  # finished, these settings: skipped
    commit(run, 1, png=b"damaged")  # PNG does not match: corrupt
    commit(run, 2, seed=1)  # other settings: stale
    commit(run, 3)
    os.remove(run.record_path(3))  # files without a record: stale
    # 4: nothing at all; 5: a longer dream of these settings
    commit(run, 5, steps=8)
    commit(dataclasses.replace(run, filters=[9]), 9)  # not this run's filter
    return run


def test_the_survey_decides_each_dream_and_moves_nothing(folder):
    found = survey(folder)
    assert found.skipped == [0] and found.repaired == [1] and found.redone == [2, 3]
    assert found.kept == {5: 8}
    assert found.pending == {1: 0, 2: 0, 3: 0, 4: 0}
    assert sorted(found.records) == [0, 5, 9]  # 1 and 2 lose theirs when moved aside
    assert [(m.suffix, [os.path.basename(p) for p in m.paths]) for m in found.moves] == [
        (".corrupt", ["filter_1.png", "filter_1.keras", "filter_1.json"]),
        (".stale", ["filter_2.png", "filter_2.keras", "filter_2.json"]),
        (".stale", ["filter_3.png", "filter_3.keras"])]
    assert os.path.exists(folder.png_path(1)) and os.path.exists(folder.record_path(2))
    assert found.moved_lines()[1] == ("relu2: moved aside filter_2.png.stale, "
                                      "filter_2.keras.stale, filter_2.json.stale: made with "
                                      "other settings: seed: 1 -> 0.")
    assert found.report() == ("relu2: skipped 1 finished dream, repaired 1, redid 2; kept 1 "
                              "longer dream rather than retrain at fewer steps: filter 5 "
                              "(8 steps) (--overwrite retrains them).")


def test_overwrite_redoes_other_settings_and_longer_dreams_in_place(folder):
    found = survey(folder, overwrite=True)
    assert found.redone == [2, 3, 5] and found.kept == {}
    assert [m.suffix for m in found.moves] == [".corrupt", ".stale"]  # filter 3's stray files
    assert sorted(found.records) == [0, 2, 5, 9]  # replaced when their dreams commit


def test_resume_refuses_other_settings_before_anything_moves(folder):
    with pytest.raises(DreamError, match="Cannot resume filter 2 of relu2: .*seed: 1 -> 0"):
        survey(folder, resume=True)


def test_resume_continues_a_shorter_dream(tmp_path):
    run = layer_run(tmp_path, [0])
    commit(run, 0, steps=2)
    longer = dataclasses.replace(run, settings=dataclasses.replace(SETTINGS, steps=4))
    found = survey(longer, resume=True)
    assert found.pending == {0: 2} and found.resumed_at == {0: []}


def test_chunks_group_by_batch_then_by_steps_already_done():
    assert chunks({0: 0, 1: 0, 2: 4, 3: 0, 7: 0}, 2) == [([0, 1], 0), ([3], 0), ([2], 4),
                                                         ([7], 0)]


def test_tasks_carry_each_dream_s_resume_history(tmp_path):
    run = layer_run(tmp_path, [0, 1, 2])
    found = survey(run)
    found.pending, found.resumed_at = {0: 0, 1: 2, 2: 2}, {1: [1]}
    plan = Plan([run], run.out_dir, run.models_dir, batch=4)
    assert [(t.filters, t.done_steps, t.resumed_at(), t.dream_steps)
            for t in tasks(plan, [found])] == [((0,), 0, {0: []}, 4),
                                               ((1, 2), 2, {1: [1, 2], 2: [2]}, 4)]


def test_a_dream_of_another_network_is_stale_and_cannot_be_resumed(tmp_path):
    run = layer_run(tmp_path, filters=[0, 1])
    theirs = dataclasses.replace(run, settings=dataclasses.replace(SETTINGS, network="a" * 64))
    commit(theirs, 0)
    record = json.loads(open(run.record_path(0)).read())
    record["settings"]["network"] = "a" * 64
    open(run.record_path(0), "w").write(json.dumps(record))
    commit(run, 1)  # recorded before networks were named: not known to be this one
    mine = dataclasses.replace(run, settings=dataclasses.replace(SETTINGS, network="b" * 64))
    found = survey(mine)
    assert found.redone == [0, 1] and not found.skipped
    assert [m.why for m in found.moves] == [
        "made with other settings: network: the network's weights, architecture or "
        "preprocessing differ (aaaaaaaaaaaa -> bbbbbbbbbbbb)",
        "made with other settings: network: not recorded (made before kerasdream named it "
        "by content)"]
    with pytest.raises(DreamError, match="Cannot resume filter 0 of relu2.*network"):
        survey(mine, resume=True)


def test_a_rerun_in_another_format_redoes_the_dream_and_resume_is_refused(tmp_path):
    run = layer_run(tmp_path, filters=[0])
    commit(run, 0, steps=2)  # saved as .keras
    as_h5 = dataclasses.replace(run, model_format="h5")
    with pytest.raises(DreamError) as refused:
        survey(as_h5, resume=True)
    assert str(refused.value) == (
        "Cannot resume filter 0 of relu2: its saved dream model is filter_0.keras, not in "
        "--format h5. Use --format keras, or --overwrite to start it again. "
        "Received: format='h5'")
    found = survey(as_h5)
    assert found.redone == [0] and found.pending == {0: 0} and not found.repaired
    assert [(m.suffix, [os.path.basename(p) for p in m.paths], m.why) for m in found.moves] == [
        (".stale", ["filter_0.png", "filter_0.keras", "filter_0.json"],
         "its model was saved as filter_0.keras, not in --format h5")]
