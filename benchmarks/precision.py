"""Does bfloat16 cost quality? float32 against bfloat16, beside float32's own noise.

    python benchmarks/precision.py            # ~5 min on 2 shared cores
    python benchmarks/precision.py --quick    # smoke test

For each case the same filters are dreamed three times with the gallery's
objective (pre-ReLU channel, minus Rivals on deep layers): float32 with seed
0, float32 with seed 1 (run-to-run noise: other starting images and
transform draws) and bfloat16 with seed 0. Every final uint8 picture is
judged by ONE float32 evaluation (`kerasdream.evaluation.scoring.channel_means`):
the target filter's mean activation and its rank among the layer's
channels. bfloat16 costs nothing if it differs from float32 by no more than
the other seed does. Also prints each run's seconds per step (timed after
the trace), which on this machine answers where `auto` should pick what.

Cases: VGG16 (weights=None, seeded) `block5_conv3`, and two layers of the
shipped MobileNet-0.25.
"""

from __future__ import annotations

import argparse
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

import keras
import numpy as np

import kerasdream as kd
from kerasdream import evaluation
from kerasdream.network.bases import BaseSpec, load_base
from kerasdream.runs.settings import DreamSettings

CASES = [
    # label, spec, layer, filters, size, steps
    ("VGG16 (weights=None) block5_conv3", BaseSpec("vgg16", None, None), "block5_conv3", 8, 128,
     30),
    ("MobileNet-0.25 conv_pw_3_relu", BaseSpec(), "conv_pw_3_relu", 8, 128, 100),
    ("MobileNet-0.25 conv_pw_8_relu", BaseSpec(), "conv_pw_8_relu", 8, 128, 100),
]
RUNS = (("float32", 0), ("float32", 1), ("bfloat16", 0))


def dream(spec, layer, filters, size, steps, precision, seed):
    base = load_base(spec)
    objective = DreamSettings().objective_for(layer, filters, base)
    model = kd.DreamModel(objective, spec, size=size, seed=seed, row_keys=filters,
                          precision=precision)
    # steps per call must divide both fits: the first (traced) and the timed rest
    first = min(5, steps // 2)
    model.compile(steps_per_execution=first)
    model.fit(first)
    began = time.perf_counter()
    model.fit(steps - first)
    per_step = (time.perf_counter() - began) / (steps - first)
    images = model.render()
    acts = evaluation.channel_means(base, layer, images, model.preprocess.mode)
    own = acts[np.arange(len(filters)), filters]
    ranks = [evaluation.rank_of(acts[i], k) for i, k in enumerate(filters)]
    return own, np.array(ranks), per_step


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny budgets (smoke test)")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)  # VGG16 weights=None: fixed random weights
    print("| network, layer | run | mean own activation | rank 1 | median rank | "
          "s/step | own activation vs float32 seed 0 (mean abs rel. diff) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for label, spec, layer, count, size, steps in CASES:
        if args.quick:
            count, size, steps = 2, 64, 6
        filters = list(range(count))
        results = {}
        for precision, seed in RUNS:
            results[precision, seed] = dream(spec, layer, filters, size, steps, precision, seed)
        reference = results["float32", 0][0]
        for (precision, seed), (own, ranks, per_step) in results.items():
            diff = np.mean(np.abs(own - reference) / np.maximum(np.abs(reference), 1e-6))
            print(f"| {label} | {precision}, seed {seed} | {np.mean(own):.3f} | "
                  f"{int(np.sum(ranks == 1))}/{count} | {np.median(ranks):g} | "
                  f"{per_step:.3f} | {diff:.3f} |", flush=True)


if __name__ == "__main__":
    main()
