"""The Fourier parameterization's own cost: folded-rows matrices, the old full
complex matrices and the FFT, side by side (issue 16).

    python benchmarks/archive/fourier_cost.py                 # 64, 128, 160 px; crossover at 160-256
    python benchmarks/archive/fourier_cost.py --rounds 3      # quicker
    python benchmarks/archive/fourier_cost.py --rounds 5 --calls 3 --crossover 256 320 384

Forward and backward of raw values -> 16 images (scale, inverse DFT, colour
mix, sigmoid) -> sum -> gradient, in a `tf.function` without XLA (what `fit`
runs on a CPU-only TensorFlow), milliseconds a call: the median over rounds
in which every variant runs `--calls` calls in turn, so load changes hit all
alike (the order rotates each round). `old` is the einsum over the full
complex spectrum (`complex_inverse_dft_matrices`), which `Fourier` used at
every size before and now takes up to `EINSUM_DFT_MAX_SIDE`; `new` is
`real_inverse_dft` (the folded rows); `fft` is `ops.ifft2`, which `Fourier`
takes above `MATMUL_DFT_MAX_SIDE`.
"""

from __future__ import annotations

import argparse
import os
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from kerasdream.param.fourier import (  # noqa: E402
    COLOR_MIX, Fourier, complex_inverse_dft_matrices, real_inverse_dft,
    real_inverse_dft_matrices)

DREAMS = 16


def variants(size):
    """name -> spectrum (N, 2, C, H, W) -> logits (N, H, W, C)."""
    left, right = (tf.constant(m) for m in complex_inverse_dft_matrices(size, size))
    matrices = real_inverse_dft_matrices(size, size)

    def old(spectrum):
        rows = ops.einsum("nkcuv,kvjx->ncujx", spectrum, right)
        return ops.einsum("yju,ncujx->nyxc", left, rows)

    def new(spectrum):
        return real_inverse_dft(spectrum, matrices)  # (N, H, W, C) already

    def fft(spectrum):
        real, _ = ops.ifft2((spectrum[:, 0], spectrum[:, 1]))
        return ops.transpose(real, (0, 2, 3, 1))

    return {"old": old, "new": new, "fft": fft}


def step_for(size, logits_of):
    layer = Fourier((size, size, 3))
    scale, mix = tf.constant(layer.spectrum_scale), tf.constant(COLOR_MIX.T)
    raw = tf.Variable(np.random.default_rng(0).normal(
        size=(DREAMS, *layer.raw_shape)).astype("float32"))

    @tf.function(autograph=False)
    def step():
        with tf.GradientTape() as tape:
            images = 255.0 * ops.sigmoid(ops.matmul(logits_of(raw * scale), mix))
            total = ops.sum(images)
        return tape.gradient(total, raw)

    return step


def measure(size, names, rounds, calls):
    chosen = {name: step_for(size, fn) for name, fn in variants(size).items() if name in names}
    for step in chosen.values():
        step().numpy()  # trace
    times = {name: [] for name in chosen}
    order = list(chosen)
    for _ in range(rounds):
        order = order[1:] + order[:1]  # each variant first in turn
        for name in order:
            step = chosen[name]
            start = time.perf_counter()
            for _ in range(calls):
                step().numpy()
            times[name].append((time.perf_counter() - start) / calls * 1e3)
    return {name: np.array(t) for name, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--crossover", type=int, nargs="+", default=[160, 192, 224, 256],
                        help="sides at which to compare the folded rows with the FFT")
    args = parser.parse_args(argv)
    print(f"{DREAMS} dreams, fwd + bwd, ms a call (median of {args.rounds} interleaved "
          f"rounds of {args.calls} calls); load average before: {os.getloadavg()[0]:.2f}")
    print("| px | old einsum | new folded rows | old / new (median of rounds) |")
    print("|---|---|---|---|")
    for size in (64, 128, 160):
        t = measure(size, ("old", "new"), args.rounds, args.calls)
        print(f"| {size} | {np.median(t['old']):.1f} | {np.median(t['new']):.1f} | "
              f"{np.median(t['old'] / t['new']):.2f}x |", flush=True)
    print()
    print("| px | new folded rows | fft | fft / new (median of rounds) |")
    print("|---|---|---|---|")
    for size in args.crossover:
        t = measure(size, ("new", "fft"), args.rounds, args.calls)
        print(f"| {size} | {np.median(t['new']):.1f} | {np.median(t['fft']):.1f} | "
              f"{np.median(t['fft'] / t['new']):.2f}x |", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
