"""Any backend: kerasdream's core on JAX and PyTorch, each in its own process.

Keras picks its backend once per process, so `tests/backend_check.py` runs in
a subprocess with KERAS_BACKEND set; both backends run at the same time. The
rest of the suite covers TensorFlow. A backend whose package is not
installed is skipped, saying how to install it.
"""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from backend_check import CHECKS

pytestmark = pytest.mark.slow

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = {"jax": ("jax", 'pip install -e ".[jax]"'),
            "torch": ("torch", "the CPU-only wheel: pip install torch "
                               "--index-url https://download.pytorch.org/whl/cpu")}
TIMEOUT = 300


def missing(backend):
    package, install = BACKENDS[backend]
    if importlib.util.find_spec(package) is None:
        return f"KERAS_BACKEND={backend} not tested: {package!r} is not installed ({install})"
    return None


@pytest.fixture(scope="module")
def verdicts():
    """Start every installed backend's check at once; wait for all of them."""
    running = {}
    for backend in BACKENDS:
        if missing(backend):
            continue
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2",
               "JAX_PLATFORMS": "cpu",
               # Tiny models: XLA's cheapest CPU compile (same maths) halves JAX's time.
               "XLA_FLAGS": "--xla_backend_optimization_level=0 "
                            "--xla_llvm_disable_expensive_passes=true"}
        running[backend] = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "backend_check.py")], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = {}
    for backend, process in running.items():
        try:
            stdout, stderr = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            stderr += f"\n(timed out after {TIMEOUT} s)"
        results[backend] = (process.returncode, stdout, stderr)
    return results


def verdict_of(verdicts, backend):
    reason = missing(backend)
    if reason:
        pytest.skip(reason)
    returncode, stdout, stderr = verdicts[backend]
    lines = stdout.strip().splitlines()
    try:
        verdict = json.loads(lines[-1])
    except (IndexError, ValueError):
        pytest.fail(f"{backend}: no verdict (exit {returncode}). stderr:\n{stderr[-3000:]}")
    assert verdict["backend"] == backend
    assert set(verdict["checks"]) == set(CHECKS)
    return verdict


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_core_works_on_backend(verdicts, backend, check):
    verdict = verdict_of(verdicts, backend)
    assert verdict["checks"][check] == "ok", (
        f"{check} on {backend}: {verdict['checks'][check]}")


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_backend_process_exits_cleanly(verdicts, backend):
    verdict = verdict_of(verdicts, backend)
    returncode = verdicts[backend][0]
    failed = {k: v for k, v in verdict["checks"].items() if v != "ok"}
    assert returncode == 0, f"{backend} exited {returncode}; failed checks: {failed}"
