"""benchmarks/gpu.py is ready for a GPU session: without a GPU it says so and exits 0."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_gpu_benchmark_without_a_gpu_says_so_and_exits_0():
    done = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gpu.py")],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "No GPU visible" in done.stdout
