"""Atlases on a Dask cluster: a local cluster of 2 worker processes, loopback only.

The slow tests share one cluster (a module fixture: each cluster started
costs a TensorFlow import per worker), whose workers drop a marker file `<key>@<pid>` as each task starts, so a test waits for a task
to be running (never a sleep) and kills its worker process by that pid.
The killed-worker test runs last: its worker's replacement starts cold.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from kerasdream.runs import cluster
from kerasdream.cli.commands import main

from conftest import tiny_cnn

distributed = pytest.importorskip(
    "distributed", reason="pip install 'kerasdream[cluster]' (or: pip install 'dask[distributed]')")

from cluster_markers import TaskMarkers  # noqa: E402

LAYERS = ("relu1", "relu2")


def filters_args(model, out, *extra):
    return ["filters", "--model", model, "--layer", "relu1", "--layer", "relu2",
            "--filters", "0-3", "--size", "16", "--steps", "8", "--out", str(out),
            "--models-dir", str(out / "models"), "--quiet", *extra]


def pngs(out, layers=LAYERS):
    return {f"{layer}/{name}": (out / layer / name).read_bytes()
            for layer in layers for name in sorted(os.listdir(out / layer))
            if name.startswith("filter_") and name.endswith(".png")}  # records: wall times


def temporaries(*folders):
    return [os.path.join(root, name) for folder in folders
            for root, _, names in os.walk(folder) for name in names if name.startswith(".tmp-")]


def wait_for(condition, what, timeout=120.0):
    """Poll `condition` until it is true (a marker appears); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def markers(folder):
    """[(key without its random tail, pid)] of every task started so far."""
    found = []
    for name in os.listdir(folder):
        key, _, pid = name.partition("@")
        found.append((key.rsplit("-", 1)[0], int(pid)))
    return found


# ------------------------------------------------------------ fast checks


@pytest.mark.parametrize("text, expected", [
    ("local:2", 2), ("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786"),
    ("scheduler.example:8786", "tcp://scheduler.example:8786"),
    ("tls://[::1]:8786", "tls://[::1]:8786"),
])
def test_parse_cluster(text, expected):
    assert cluster.parse_cluster(text) == expected


@pytest.mark.parametrize("text", ["local:0", "local:two", "tcp://host", "http://host:8786",
                                  "host:99999", "tcp://host:8786/path"])
def test_bad_cluster_is_one_line_naming_the_value_and_the_valid_forms(text, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["filters", "--model", "x.keras", "--layer", "relu2", "--out", str(tmp_path),
              "--cluster", text])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"cluster={text!r}" in err and "local:N" in err and "tcp://host:8786" in err


def test_engine_not_installed_says_the_pip_command(tiny_cnn_path, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    assert main(filters_args(tiny_cnn_path, tmp_path, "--cluster", "local:2")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install 'kerasdream[cluster]'" in err


def test_unreachable_scheduler_fails_fast_with_one_line(tiny_cnn_path, tmp_path, monkeypatch,
                                                         capsys):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 0.5)
    address = f"tcp://127.0.0.1:{port}"
    assert main(filters_args(tiny_cnn_path, tmp_path, "--cluster", address)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "Cannot reach the Dask scheduler within 0.5 s" in err and address in err
    assert not os.path.exists(tmp_path / ".kerasdream.lock")  # the lock was let go


def test_a_server_that_is_not_a_scheduler_fails_within_the_timeout_in_one_line(
        tiny_cnn_path, tmp_path, monkeypatch, capsys):
    with socket.socket() as server:  # listens and accepts, never speaks Dask
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 0.5)
        began = time.monotonic()
        assert main(filters_args(tiny_cnn_path, tmp_path, "--cluster", address)) == 2
        seconds = time.monotonic() - began
    err = capsys.readouterr().err.strip()
    assert err == (f"kerasdream filters: error: The server at {address} is not a Dask "
                   f"scheduler: it gave no Dask answer within 0.5 s. Give the address `dask "
                   f"scheduler` printed (port 8786 by default), or use --cluster local:N. "
                   f"Received: cluster={address!r}")
    assert seconds < 30  # the network loads and the plan is made first; no hang
    assert not os.path.exists(tmp_path / ".kerasdream.lock")


def test_a_worker_that_does_not_share_the_driver_s_folder_says_so(tmp_path):
    shared, elsewhere = tmp_path / "shared", tmp_path / "elsewhere"
    for folder in (shared, elsewhere):
        folder.mkdir()
    (shared / "token").write_text("abc")
    (elsewhere / "token").write_text("other run")
    assert cluster.probe_worker([str(shared)], [], {str(shared): ("token", "abc")}) is None
    said = cluster.probe_worker([str(elsewhere)], [], {str(elsewhere): ("token", "abc")})
    assert f"does not see the driver's files in {str(elsewhere)!r}" in said
    assert "another folder of the same path" in said


def test_local_workers_keep_tensorflow_s_cpp_lines_to_themselves():
    env = cluster._worker_env(2)
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert env["OMP_NUM_THREADS"] == os.environ.get("OMP_NUM_THREADS",
                                                    str(max(1, (os.cpu_count() or 1) // 2)))


def test_a_worker_that_cannot_reach_the_folders_or_the_model_says_so(tmp_path):
    (tmp_path / "file").write_text("")
    assert cluster.probe_worker([str(tmp_path)], []) is None
    not_a_folder = str(tmp_path / "file" / "out")
    assert "Cannot write to this folder" in cluster.probe_worker([not_a_folder], [])
    assert "cannot find '/no/model.keras'" in cluster.probe_worker([str(tmp_path)],
                                                                   ["/no/model.keras"])


# ------------------------------------------------------------ on a local cluster


@pytest.fixture(scope="module")
def local_cluster(tmp_path_factory):
    """`--cluster local:2`'s own cluster (2 worker processes), shared by the slow
    tests through its tcp:// address; with a task-start marker plugin."""
    folder = str(tmp_path_factory.mktemp("markers"))
    with cluster.connect("local:2", log=lambda line: None) as client:
        client.register_plugin(TaskMarkers(folder), name="test-task-markers")
        yield client.scheduler.address, folder


@pytest.fixture(scope="module")
def model_and_reference(tmp_path_factory):
    """A tiny CNN file and its gallery trained in this process, without a cluster."""
    root = tmp_path_factory.mktemp("reference")
    model = str(root / "tiny.keras")
    tiny_cnn().save(model)
    assert main(filters_args(model, root / "out", "--batch", "4")) == 0
    return model, root / "out"


def clear(folder):
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))


@pytest.mark.slow
def test_two_workers_give_byte_identical_pngs_and_metrics(local_cluster, model_and_reference,
                                                          tmp_path):
    address, marks = local_cluster
    model, reference = model_and_reference
    clear(marks)
    out = tmp_path / "out"
    assert main(filters_args(model, out, "--batch", "2", "--cluster", address)) == 0

    assert pngs(out) == pngs(reference)
    assert len({pid for _, pid in markers(marks)}) == 2  # both workers trained chunks
    for layer in LAYERS:
        ours = json.loads((out / layer / "metrics.json").read_text())["filters"]
        theirs = json.loads((reference / layer / "metrics.json").read_text())["filters"]
        for entry in (*ours.values(), *theirs.values()):
            entry.pop("wall_seconds")
            entry.pop("model_sha256")  # a .keras zip records when it was written
        assert ours == theirs
        assert (out / layer / "grid.png").read_bytes() == (reference / layer / "grid.png").read_bytes()
    assert (out / "gallery.png").exists()
    assert (out / "models" / "tiny" / "relu2" / "filter_3.keras").exists()
    assert not os.path.exists(out / ".kerasdream.lock") and not temporaries(out)


@pytest.mark.slow
def test_a_second_driver_refuses_and_a_killed_driver_s_rerun_skips_finished_chunks(
        local_cluster, model_and_reference, tmp_path, capsys):
    address, marks = local_cluster
    model, _ = model_and_reference
    clear(marks)
    out = tmp_path / "atlas"
    command = ["atlas", "--model", model, "--size", "16", "--steps", "8", "--batch", "2",
               "--out", str(out), "--models-dir", str(out / "models"), "--quiet",
               "--cluster", address]
    first = subprocess.Popen([sys.executable, "-m", "kerasdream", *command],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def recorded():
            entries = {}
            for layer in LAYERS:
                data = json.loads((out / layer / "metrics.json").read_text()) \
                    if (out / layer / "metrics.json").exists() else {"filters": {}}
                entries.update({(layer, int(k)): v for k, v in data["filters"].items()})
            return entries
        wait_for(recorded, "the driver to record a finished chunk")

        assert main(command) == 2  # the first driver holds the folder
        err = capsys.readouterr().err
        assert "Another kerasdream run is writing to this folder" in err
        assert f"pid {first.pid}" in err

        first.send_signal(signal.SIGKILL)
        first.wait()
        done_before = recorded()
    finally:
        first.kill()
        first.wait()
    assert 0 < len(done_before) < 14

    assert main(command) == 0
    capsys.readouterr()
    after = recorded()
    assert sorted(after) == [(layer, k) for layer, n in (("relu1", 8), ("relu2", 6))
                             for k in range(n)]
    assert all(e["status"] == "ok" for e in after.values())
    for (layer, k), entry in done_before.items():
        assert after[(layer, k)] == entry  # recorded once, never trained again
    starts = [key for key, _ in markers(marks)]
    for (layer, k) in done_before:
        chunk = k - k % 2
        assert starts.count(f"kerasdream-{layer}-{chunk}-{chunk + 1}") == 1
    assert (out / "index.html").exists() and not temporaries(out)


# The same damaged-folder rerun in this process and on the cluster: the one
# driver gives the same folder and the same report with either executor.

def executor_command(model, out, *extra):
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


@pytest.mark.slow
def test_a_damaged_folder_reruns_the_same_in_process_and_on_a_cluster(local_cluster, tmp_path,
                                                                        capsys):
    model = str(tmp_path / "tiny.keras")
    tiny_cnn().save(model)
    first = tmp_path / "first"
    assert main(executor_command(model, first)) == 0
    damage(first)
    local, remote = tmp_path / "local", tmp_path / "remote"
    shutil.copytree(first, local)
    shutil.copytree(first, remote)
    capsys.readouterr()

    assert main(executor_command(model, local, "--overwrite")) == 0
    local_report = capsys.readouterr().out.replace(str(local), "OUT")
    assert main(executor_command(model, remote, "--overwrite", "--cluster",
                                 local_cluster[0])) == 0
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


@pytest.mark.slow
def test_other_photos_rescore_the_same_in_process_and_on_a_cluster(local_cluster, tmp_path,
                                                                    capsys):
    """Workers read the driver's --examples photos and rewrite only the records."""
    import numpy as np
    from PIL import Image

    model = str(tmp_path / "tiny.keras")
    tiny_cnn().save(model)
    folders = {}
    for name, seed in (("bright", 0), ("dim", 1)):
        folders[name] = tmp_path / name
        os.makedirs(folders[name])
        for i in range(2):
            pixels = np.random.default_rng([seed, i]).integers(0, 256, (24, 32, 3))
            Image.fromarray(pixels.astype("uint8")).save(folders[name] / f"p{i}.png")
    first = tmp_path / "first"
    assert main(executor_command(model, first, "--examples", str(folders["bright"]))) == 0
    local, remote = tmp_path / "local", tmp_path / "remote"
    shutil.copytree(first, local)
    shutil.copytree(first, remote)
    capsys.readouterr()

    dim = ("--examples", str(folders["dim"]))
    assert main(executor_command(model, local, *dim)) == 0
    local_report = capsys.readouterr().out.replace(str(local), "OUT")
    assert main(executor_command(model, remote, *dim, "--cluster", local_cluster[0])) == 0
    remote_report = capsys.readouterr().out.replace(str(remote), "OUT")

    assert remote_report == local_report
    assert "rescoring 4 of them against your 2 photos of" in local_report
    assert contents(remote) == contents(local)
    for k in range(4):
        name = f"filter_{k}.png"
        assert (remote / "relu2" / name).read_bytes() == (first / "relu2" / name).read_bytes()
        record = json.loads((remote / "relu2" / f"filter_{k}.json").read_text())
        assert record["reference"].startswith(str(folders["dim"]) + "#")


@pytest.mark.slow
def test_a_killed_worker_s_chunk_runs_again_elsewhere_and_the_atlas_is_complete(
        local_cluster, model_and_reference, tmp_path):
    address, marks = local_cluster
    model, reference = model_and_reference
    clear(marks)
    out = tmp_path / "out"
    outcome = {}
    driver = threading.Thread(target=lambda: outcome.setdefault(
        "code", main(filters_args(model, out, "--batch", "4", "--cluster", address))))
    driver.start()
    key, pid = wait_for(lambda: markers(marks), "a task to start")[0]
    os.kill(pid, signal.SIGKILL)  # its worker, mid-task: the task has only just begun
    driver.join(timeout=180)

    assert outcome.get("code") == 0
    ran = [p for k, p in markers(marks) if k == key]
    assert len(ran) == 2 and ran[0] != ran[1], markers(marks)  # again, in another process
    assert pngs(out) == pngs(reference)
    for layer in LAYERS:
        entries = json.loads((out / layer / "metrics.json").read_text())["filters"]
        assert sorted(entries, key=int) == ["0", "1", "2", "3"]
        assert {e["status"] for e in entries.values()} == {"ok"}
    assert not temporaries(out)  # the killed worker's, if any, are gone


@pytest.mark.slow
def test_reruns_on_the_cluster_move_other_settings_aside_and_overwrite_retrains(
        local_cluster, model_and_reference, tmp_path, capsys):
    address, _ = local_cluster
    model, _ = model_and_reference
    out = tmp_path / "out"

    def run(*extra):
        capsys.readouterr()
        assert main(["filters", "--model", model, "--layer", "relu2", "--filters", "0-1",
                     "--size", "16", "--out", str(out), "--models-dir", str(out / "models"),
                     "--quiet", "--cluster", address, *extra]) == 0
        return capsys.readouterr().out

    def steps():
        return {k: json.loads((out / "relu2" / f"filter_{k}.json").read_text())["steps"]
                for k in (0, 1)}

    run("--steps", "4")
    first = (out / "relu2" / "filter_0.png").read_bytes()
    said = run("--steps", "4", "--seed", "1")
    assert "relu2: moved aside filter_0.png.stale, filter_0.keras.stale, filter_0.json.stale: " \
           "made with other settings: seed: 0 -> 1." in said
    assert (out / "relu2" / "filter_0.png.stale").read_bytes() == first
    assert "kept 2 longer dreams" in run("--steps", "2", "--seed", "1") and steps() == {0: 4, 1: 4}
    run("--steps", "2", "--seed", "1", "--overwrite")
    assert steps() == {0: 2, 1: 2}


@pytest.mark.slow
def test_ctrl_c_on_a_local_cluster_is_one_line_that_counts_the_saved_dreams(tmp_path):
    """Ctrl-C reaches the whole process group (driver and local workers), as in a terminal."""
    model = str(tmp_path / "tiny.keras")
    tiny_cnn().save(model)
    out = tmp_path / "out"
    driver = subprocess.Popen(
        [sys.executable, "-m", "kerasdream", "filters", "--model", model, "--layer", "relu2",
         "--filters", "0-5", "--batch", "1", "--size", "16", "--steps", "30", "--out", str(out),
         "--models-dir", str(out / "models"), "--cluster", "local:1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        def committed():
            folder = out / "relu2"
            return folder.is_dir() and [n for n in os.listdir(folder)
                                        if n.startswith("filter_") and n.endswith(".json")]
        wait_for(committed, "a worker to commit a dream", timeout=240)
        os.killpg(driver.pid, signal.SIGINT)
        stdout, stderr = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
    saved = len(committed())
    assert driver.returncode == 130
    assert stderr.strip() == (f"Interrupted by SIGINT: the {saved} dream{'s' * (saved != 1)} "
                              f"finished in this run {'are' if saved != 1 else 'is'} saved; run "
                              f"the same command again to finish the rest."), stderr
    for text in (stdout, stderr):
        assert not any(mark in text for mark in ("\x1b", "\r", "\b", "E0000", "I0000"))
