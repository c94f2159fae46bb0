"""The MACO parameterization's own cost against Fourier's (issue 20).

    python benchmarks/archive/maco_speed.py      # writes benchmarks/archive/results/maco_speed.md

Forward and backward of the parameterization alone (raw values -> 16 images
of 128 px -> sum of squares -> gradient), XLA-compiled with TensorFlow, 20
calls a measurement, Fourier and MACO interleaved 5 times; the median per call.
A dream's step adds the network on top: at VGG16 block5_conv3 that is seconds
a step, so there the parameterization is noise (see quality_maco.md).
"""

from __future__ import annotations

import os
import platform
import sys
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasdream import io  # noqa: E402
from kerasdream.param.maco import Maco  # noqa: E402
from kerasdream.param.fourier import Fourier  # noqa: E402

DREAMS, SIZE, CALLS, REPEATS = 16, 128, 20, 5


def step_for(layer):
    raw = tf.Variable(np.random.default_rng(0).normal(
        size=(DREAMS, *layer.raw_shape)).astype("float32"))

    @tf.function(jit_compile=True)
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(raw) ** 2)
        return tape.gradient(loss, raw)

    step()
    return step


def main() -> int:
    steps = {"fourier": step_for(Fourier((SIZE, SIZE, 3))), "maco": step_for(Maco((SIZE, SIZE, 3)))}
    times = {name: [] for name in steps}
    for _ in range(REPEATS):
        for name, step in steps.items():
            began = time.perf_counter()
            for _ in range(CALLS):
                step().numpy()
            times[name].append((time.perf_counter() - began) / CALLS * 1000)
    median = {name: float(np.median(t)) for name, t in times.items()}
    lines = [
        "# The MACO parameterization's cost (issue 20)",
        "",
        f"Command: `python benchmarks/archive/maco_speed.py` ({time.strftime('%Y-%m-%d')}, "
        f"{platform.node()}, 2 cores shared with other helpers' work; Keras {keras.__version__}, "
        f"TensorFlow {tf.__version__}, XLA). Forward + backward of the parameterization alone, "
        f"{DREAMS} images of {SIZE} px, {CALLS} calls a measurement, interleaved {REPEATS} times.",
        "",
        "| parameterization | ms per call, each measurement | median |",
        "|---|---|---|",
        *[f"| {name} | {', '.join(f'{t:.0f}' for t in times[name])} | {median[name]:.0f} |"
          for name in steps],
        "",
        f"MACO / Fourier, medians: {median['maco'] / median['fourier']:.2f}.",
        "",
    ]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "maco_speed.md")
    with io.atomic_path(path) as temporary:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
