"""Every tutorial notebook runs top to bottom without an error (small budget).

Each notebook is copied to its own temporary folder and executed there with
nbclient, with `KERASDREAM_NOTEBOOK_BUDGET=small` (a few steps, small
images), so the files it writes land in that folder. Two notebooks run at a
time (one per core; most of a small run is single-threaded start-up and
tracing). Any cell that raises, and any `!kerasdream ...` cell whose command
fails, fails that notebook's test, naming the cell.
"""

import os
import re
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = [
    "01_dream_a_filter.ipynb",
    "02_objectives.ipynb",
    "03_pre_images.ipynb",
    "04_your_own_model.ipynb",
    "05_reload_and_resume.ipynb",
    "06_watch_it_learn.ipynb",
]
CELL_TIMEOUT = 300  # seconds per cell; a whole small-budget notebook takes well under a minute
WORKERS = max(1, min(2, os.cpu_count() or 1))
# What a failed command prints: the CLI's "kerasdream <cmd>: error: ...", argparse's
# "usage: ... error: ...", a Python traceback, or the shell's "command not found".
# Line-anchored: TensorFlow's GPU wheel logs "CUDA error: ..." on a machine without CUDA.
SHELL_FAILURE = re.compile(
    r"^kerasdream( [\w-]+)?: error:|^Traceback \(most recent call last\)|command not found",
    re.MULTILINE)


def _execute(name: str, workdir: Path) -> tuple[float, str | None]:
    """Run one notebook in `workdir`; return (seconds, failure message or None)."""
    copy = workdir / name
    shutil.copyfile(NOTEBOOKS_DIR / name, copy)
    notebook = nbformat.read(copy, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(workdir)}},  # the kernel's working directory
    )
    began = time.perf_counter()
    try:
        client.execute()
    except Exception as error:  # CellExecutionError carries the cell and its traceback
        return time.perf_counter() - began, f"{type(error).__name__}: {error}"
    seconds = time.perf_counter() - began
    # `!command` lines do not raise when the command fails: read their cell's output.
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or not any(
                line.lstrip().startswith("!") for line in cell.source.splitlines()):
            continue
        text = "".join(output.get("text", "") for output in cell.get("outputs", []))
        if SHELL_FAILURE.search(text):
            return seconds, f"command-line cell {index} failed:\n{cell.source}\n{text}"
    return seconds, None


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Every notebook, executed once at small budget: {name: (seconds, failure)}."""
    with pytest.MonkeyPatch.context() as patch:
        # The kernels inherit this environment.
        patch.setenv("KERASDREAM_NOTEBOOK_BUDGET", "small")
        # `!kerasdream ...` cells need this environment's console script on PATH.
        patch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = {name: pool.submit(_execute, name, tmp_path_factory.mktemp(name[:2]))
                       for name in EXPECTED}
            return {name: future.result() for name, future in futures.items()}


def test_all_notebooks_are_present():
    found = sorted(p.name for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    assert found == EXPECTED


@pytest.mark.parametrize("name", EXPECTED, ids=[name[:2] for name in EXPECTED])
def test_notebook_runs_at_small_budget(name, executed):
    seconds, failure = executed[name]
    if failure:
        pytest.fail(f"{name} failed after {seconds:.0f} s:\n{failure}", pytrace=False)


def test_notebooks_read_the_budget_switch_first():
    for name in EXPECTED:
        notebook = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
        first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
        assert "KERASDREAM_NOTEBOOK_BUDGET" in first_code.source, name


def test_a_failed_command_is_told_from_tensorflows_gpu_log_lines():
    assert SHELL_FAILURE.search("Wrote out\nkerasdream filters: error: No such layer in tiny.")
    assert SHELL_FAILURE.search("usage: kerasdream [-h]\nkerasdream: error: argument COMMAND")
    assert SHELL_FAILURE.search("Traceback (most recent call last):\n  File ...")
    assert not SHELL_FAILURE.search(
        "E0000 00:00:1796144432.834658   12956 cuda_platform.cc:52] failed call to cuInit: "
        "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)")
