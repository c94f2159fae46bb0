"""The output folder's run lock and per-run temporary files."""

import json
import os
import socket
import subprocess
import sys

import pytest

from kerasdream.runs.runlock import (
    LOCK_NAME,
    FolderInUse,
    RunLock,
    remove_dead_temporaries,
    temporary_prefix,
)

# A child that holds a lock until its stdin closes; it imports only the lock
# module (by path), not TensorFlow, so it is ready in a fraction of a second.
_HOLDER = r"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("runlock", sys.argv[1])
errors = importlib.util.spec_from_file_location("kerasdream.errors", sys.argv[2])
sys.modules["kerasdream.errors"] = importlib.util.module_from_spec(errors)
errors.loader.exec_module(sys.modules["kerasdream.errors"])
runlock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runlock)
with runlock.RunLock(sys.argv[3], command="kerasdream filters --layer conv1"):
    print("ready", flush=True)
    sys.stdin.read()
"""


def _holder(folder):
    import kerasdream.errors
    import kerasdream.runs.runlock

    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, kerasdream.runs.runlock.__file__,
         kerasdream.errors.__file__, str(folder)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    return child


def test_a_second_run_is_refused_with_the_first_runs_pid_host_and_command(tmp_path):
    child = _holder(tmp_path)
    try:
        with pytest.raises(FolderInUse) as error:
            RunLock(str(tmp_path)).acquire()
        message = str(error.value)
        assert f"pid {child.pid}" in message
        assert socket.gethostname() in message
        assert "kerasdream filters --layer conv1" in message
        assert f"Received: out={str(tmp_path)!r}" in message
    finally:
        child.stdin.close()
        child.wait()
    # The first run has finished: its lock is gone and the folder is free.
    assert not os.path.exists(tmp_path / LOCK_NAME)
    with RunLock(str(tmp_path)) as lock:
        assert lock.held and lock.stale_message() is None


def test_a_killed_runs_lock_is_stale_and_is_taken_over_with_a_message(tmp_path):
    child = _holder(tmp_path)
    child.kill()  # SIGKILL: no clean-up runs, the lock file stays
    child.wait()
    assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == child.pid
    with RunLock(str(tmp_path), command="second") as lock:
        assert f"pid {child.pid}" in lock.stale_message()
        record = json.loads((tmp_path / LOCK_NAME).read_text())
        assert record["pid"] == os.getpid() and record["command"] == "second"
    assert not os.path.exists(tmp_path / LOCK_NAME)


def test_one_process_cannot_take_a_folder_twice(tmp_path):
    with RunLock(str(tmp_path)):
        with pytest.raises(FolderInUse, match=f"pid {os.getpid()}"):
            RunLock(str(tmp_path)).acquire()


def test_only_dead_processes_temporaries_are_removed(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead_pid = int(finished.stdout)
    (tmp_path / "layer").mkdir()
    mine = tmp_path / "layer" / f"{temporary_prefix()}abc.png"
    dead = tmp_path / "layer" / f".tmp-{dead_pid}-abc.png"
    legacy = tmp_path / ".tmp-k2j4h.json"
    kept = tmp_path / "filter_0.png"
    for path in (mine, dead, legacy, kept):
        path.write_bytes(b"x")
    removed = remove_dead_temporaries(str(tmp_path))
    assert sorted(removed) == sorted([str(dead), str(legacy)])
    assert mine.exists() and kept.exists()


def test_a_lent_lock_is_joined_inside_the_block_only(tmp_path):
    with RunLock(str(tmp_path)) as holder:
        with holder.lent():
            with RunLock(str(tmp_path / ".." / tmp_path.name)) as joined:  # the same folder
                assert joined.held
            assert holder.held and os.path.exists(tmp_path / LOCK_NAME)  # still the holder's
        with pytest.raises(FolderInUse):
            RunLock(str(tmp_path)).acquire()
    assert not os.path.exists(tmp_path / LOCK_NAME)
