"""Steps per `fit` call: what Keras' multi-step loop costs to trace and saves a step.

    python benchmarks/archive/steps_per_call.py

For a tiny CNN (8 px, 2 dreams) and the shipped MobileNet at
`conv_pw_3_relu` (16 dreams, 128 px), both with the defaults (Fourier,
light transforms): the first `fit(25)` of a fresh model (trace included)
and the best of 3 later `fit(25)` calls, with `steps_per_execution` 1 and
25. `kerasdream.model.MIN_STEPS_FOR_SEVERAL_PER_CALL` comes from these
figures: the multi-step loop traces longer and saves only Keras' per-call
Python work, so it pays for long runs only.
"""

from __future__ import annotations

import os
import sys
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kerasdream as kd  # noqa: E402
from kerasdream.network.bases import as_spec, load_base  # noqa: E402


def tiny_cnn() -> keras.Model:
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu",
                            kernel_initializer=keras.initializers.RandomNormal(seed=0))(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(2, 3, padding="same", name="pick")(x))


def main() -> int:
    cases = [("tiny CNN, 8 px, 2 dreams", tiny_cnn(), 8, kd.Channel("pick", [0, 1])),
             ("MobileNet conv_pw_3_relu, 128 px, 16 dreams", load_base(as_spec("mobilenet")), 128,
              kd.Channel("conv_pw_3_relu", list(range(16))))]
    print(f"load {os.getloadavg()[0]:.1f}")
    print("| network | steps a call | first fit(25), s | later, ms a step |\n|---|---:|---:|---:|")
    for label, base, size, objective in cases:
        for per_call in (1, 25):
            model = kd.DreamModel(objective, base, size=size)
            model.compile(steps_per_execution=per_call)
            began = time.perf_counter()
            model.fit(25)
            first = time.perf_counter() - began
            later = []
            for _ in range(3):
                began = time.perf_counter()
                model.fit(25)
                later.append((time.perf_counter() - began) / 25)
            print(f"| {label} | {per_call} | {first:.2f} | {1000 * np.min(later):.1f} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
