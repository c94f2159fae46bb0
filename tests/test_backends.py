"""Any backend: the tests marked `backends` run again under JAX and PyTorch.

Keras picks its backend once per process, so each backend gets its own
`python -m pytest -m backends` subprocess with KERAS_BACKEND set; both run at
the same time. The default run (TensorFlow) runs the same tests in-process.
The tests marked `backends` live beside the code they test (`grep -rl
"mark.backends" tests`); a few that are about backends themselves are here.

A backend whose package is not installed is skipped, saying how to install
it, unless KERASDREAM_REQUIRE_BACKENDS=1, which makes it a failure (CI).
"""

import importlib.util
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream import transforms

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BACKENDS = {"jax": ("jax", 'pip install -e ".[jax]"'),
            "torch": ("torch", "the CPU-only wheel: pip install torch "
                               "--index-url https://download.pytorch.org/whl/cpu")}
ENVIRONMENT = {
    "jax": {"JAX_PLATFORMS": "cpu",
            # Tiny models: XLA's cheapest CPU compile (same maths) halves JAX's time.
            "XLA_FLAGS": "--xla_backend_optimization_level=0 "
                         "--xla_llvm_disable_expensive_passes=true"},
    "torch": {},
}
TIMEOUT = 600
MARKER = "pytest.mark.backends"


def missing(backend):
    package, install = BACKENDS[backend]
    if importlib.util.find_spec(package) is None:
        return f"KERAS_BACKEND={backend} not tested: {package!r} is not installed ({install})"
    return None


def marked_files():
    """The test files with tests marked `backends`, relative to the repository."""
    found = []
    for folder, _, names in os.walk(HERE):
        for name in sorted(names):
            if name.startswith("test_") and name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as file:
                    if MARKER in file.read():
                        found.append(os.path.relpath(path, ROOT))
    return sorted(found)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start every installed backend's run at once; wait for all of them."""
    files = marked_files()
    running = {}
    for backend in BACKENDS:
        if missing(backend):
            continue
        report = str(tmp_path_factory.mktemp(backend) / "junit.xml")
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2",
               **ENVIRONMENT[backend]}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   "-m", "backends", "-o", "addopts=", f"--junitxml={report}", *files]
        running[backend] = (report, subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True))
    results = {}
    for backend, (report, process) in running.items():
        try:
            output, _ = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            output = process.communicate()[0] + f"\n(timed out after {TIMEOUT} s)"
        results[backend] = (process.returncode, output, report)
    return files, results


def counts(report):
    """{"tests", "failures", "errors", "skipped", "passed"} of a JUnit XML report."""
    suite = ElementTree.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    total = {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}
    total["passed"] = total["tests"] - total["failures"] - total["errors"] - total["skipped"]
    return total


@pytest.mark.slow
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_the_backends_tests_pass_on_backend(runs, backend):
    reason = missing(backend)
    if reason:
        if os.environ.get("KERASDREAM_REQUIRE_BACKENDS") == "1":
            pytest.fail(f"{reason}; KERASDREAM_REQUIRE_BACKENDS=1 requires it")
        pytest.skip(reason)
    files, results = runs
    assert len(files) >= 5, files
    returncode, output, report = results[backend]
    assert os.path.exists(report), f"{backend}: no report (exit {returncode}):\n{output[-5000:]}"
    total = counts(report)
    assert returncode == 0 and total["failures"] == total["errors"] == 0, (
        f"{backend}: exit {returncode}, {total}:\n{output[-8000:]}")
    assert total["passed"] > 0, f"{backend}: nothing ran: {total}:\n{output[-3000:]}"


# ---- tests about backends themselves; the runs above repeat them on each backend


@pytest.mark.backends
def test_the_backend_is_the_one_asked_for():
    assert keras.backend.backend() == os.environ.get("KERAS_BACKEND", "tensorflow")


@pytest.mark.backends
def test_tf_distribute_is_refused_clearly_off_tensorflow():
    from kerasdream.network import distribute

    if keras.backend.backend() == "tensorflow":
        pytest.skip("TensorFlow runs tf.distribute")
    with pytest.raises(kd.DreamError, match=r"TensorFlow backend.*Received: KERAS_BACKEND="):
        distribute.get_strategy("mirrored")


def images_of(model):
    return kd.generator_of(model).images()


@pytest.mark.slow
@pytest.mark.backends
def test_every_transform_prior_and_parameterization_trains(tiny_cnn_path):
    objective = (kd.Channel("relu2", [0, 1]) + 0.1 * kd.Diversity("relu2")
                 - 0.05 * kd.AlphaNorm() - 0.05 * kd.TotalVariation())
    layers = [transforms.Jitter(1, seed=1), transforms.Scale(0.1, seed=2),
              transforms.Rotate(10.0, seed=3)]
    for parameterization, chosen in (("fourier", layers), ("maco", "maco")):
        model = kd.DreamModel(objective, tiny_cnn_path, size=16,
                              parameterization=parameterization, transforms=chosen)
        start = images_of(model)
        model.compile()
        history = model.fit(3)
        end = images_of(model)
        assert np.all(np.isfinite(end)), parameterization
        assert np.isfinite(history.history["loss"][-1]), parameterization
        assert np.max(np.abs(end - start)) > 0.1, parameterization
