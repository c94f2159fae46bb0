"""`--profile`: where a command's seconds go; with `--precision` and plain progress lines."""

import json
import re

import pytest

from kerasdream import profiling
from kerasdream.cli.commands import main


def test_stage_adds_wall_time_and_report_lists_stages_in_order():
    profiling.reset()
    profiling.add("write", 0.2)
    profiling.add("load", 1.0)
    with profiling.stage("write"):
        pass
    assert profiling.seconds()["write"] >= 0.2
    assert profiling.report(total=2.0) == (
        "profile: load 1.0 s, write 0.2 s, other 0.8 s, total 2.0 s")


def test_fit_clock_splits_the_trace_from_the_steps():
    clock = profiling.FitClock()
    clock.began, clock.ends, clock.steps = 0.0, [3.0, 4.0, 5.0], [2, 4, 6]
    # later calls: 1 s per 2 steps, so the first call's 2 steps cost 1 s and 2 s was the trace
    assert clock.split(5.0, traced=True) == (2.0, 3.0)
    assert clock.split(5.0, traced=False) == (0.0, 5.0)


@pytest.mark.slow
def test_filters_profile_prints_every_stage(tiny_cnn_path, tmp_path, capsys):
    code = main(["filters", "--model", tiny_cnn_path, "--layer", "relu2", "--filters", "0-1",
                 "--size", "16", "--steps", "4", "--precision", "bfloat16", "--profile",
                 "--out", str(tmp_path / "out"), "--models-dir", str(tmp_path / "models")])
    assert code == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("profile:"))
    for name in ("start-up", "load", "build", "trace", "train", "score", "write", "total"):
        assert re.search(rf"\b{name} \d+\.\d s", line), (name, line)
    assert "\x1b" not in out and "\b" not in out  # stdout is not a terminal: plain lines
    assert re.search(r"^8/8 dream-steps \(100%\)", out, re.M)
    metrics = json.loads((tmp_path / "out" / "relu2" / "metrics.json").read_text())
    assert metrics["filters"]["0"]["settings"]["precision"] == "bfloat16"
