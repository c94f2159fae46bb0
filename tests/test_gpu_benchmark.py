"""benchmarks/gpu.py is ready for a GPU session: without a GPU it says so and exits 0."""

import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHMARKS = os.path.join(ROOT, "benchmarks")


def test_gpu_benchmark_without_a_gpu_says_so_and_exits_0(monkeypatch, capsys):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU is visible: run `python benchmarks/gpu.py` itself")
    # Run in this process (TensorFlow is already imported), with the script's
    # changes to sys.path and PYTHONPATH undone afterwards.
    monkeypatch.syspath_prepend(BENCHMARKS)
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    spec = importlib.util.spec_from_file_location("gpu_benchmark",
                                                  os.path.join(BENCHMARKS, "gpu.py"))
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main([]) == 0
    assert "No GPU visible" in capsys.readouterr().out
