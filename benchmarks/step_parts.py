"""What a training step is made of: the network, the Fourier image and the warp.

    python benchmarks/step_parts.py                       # the gallery's three layers
    python benchmarks/step_parts.py --layers conv_pw_8_relu --steps 100
    python benchmarks/step_parts.py --levers             # the image's levers, alone

For each layer of the shipped MobileNet, 16 channel dreams at 128 px train
with four recipes in one process: pixels without transforms (the network
alone, the floor of any dream), pixels with the light transforms (+ the
warp), Fourier without transforms (+ the Fourier image) and Fourier with the
light transforms (the CLI's defaults). Each model is traced first; the
timed calls alternate between the recipes, and the medians are printed.

`--levers` times the parts alone instead, forward and backward (16 dreams,
3 channels, 128 px, `sum(sigmoid(.))` as the loss, alternating, best and
median of `--rounds` calls of `--steps` steps): the Fourier image's inverse
DFT as `Fourier` computes it, the same products batched per image channel
(before), TensorFlow's `irfft2d` on the half spectrum, the products in
bfloat16, a coarser spectrum (half the side, bilinearly upsampled: other
pictures), and the warp of the light transforms (`transforms.warp`) against
none.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

from kerasdream.network.bases import as_spec, load_base  # noqa: E402
from kerasdream.model import DreamModel  # noqa: E402
from kerasdream.objectives.terms import Channel  # noqa: E402

RECIPES = (("pixels", "none"), ("pixels", "light"), ("fourier", "none"), ("fourier", "light"))
LABELS = ("pixels", "pixels + light transforms", "Fourier", "Fourier + light transforms (defaults)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="conv_pw_2_relu,conv_pw_7_relu,conv_pw_12_relu")
    parser.add_argument("--steps", type=int, default=50, help="steps a timed call")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--levers", action="store_true", help="time the image's parts alone")
    args = parser.parse_args(argv)
    if args.levers:
        return levers(args.steps, args.rounds)
    base = load_base(as_spec("mobilenet"))
    print(f"ms a step, 16 dreams at 128 px, median of {args.rounds} calls of {args.steps} "
          f"steps, load {os.getloadavg()[0]:.1f}")
    print("| layer | " + " | ".join(LABELS) + " |")
    print("|---|" + "---:|" * len(RECIPES))
    rows = []
    for layer in args.layers.split(","):
        models = []
        for parameterization, transforms in RECIPES:
            model = DreamModel(Channel(layer, list(range(16))), base, size=128,
                               parameterization=parameterization, transforms=transforms)
            model.compile()
            model.fit(25)  # trace
            models.append(model)
        times, cpu = [[] for _ in models], [[] for _ in models]
        for _ in range(args.rounds):
            for model, seconds, cpu_seconds in zip(models, times, cpu):
                began, cpu_began = time.perf_counter(), time.process_time()
                model.fit(args.steps)
                seconds.append(1000.0 * (time.perf_counter() - began) / args.steps)
                cpu_seconds.append(1000.0 * (time.process_time() - cpu_began) / args.steps)
        rows.append((layer, times, cpu))
        print(f"| {layer} | " + " | ".join(f"{statistics.median(t):.1f}" for t in times) + " |",
              flush=True)
    print(f"\nCPU ms a step (user + system of this process: steadier than the wall clock "
          f"on a shared machine), medians, load {os.getloadavg()[0]:.1f}; defaults / pixels")
    print("| layer | " + " | ".join(LABELS) + " | defaults / pixels |")
    print("|---|" + "---:|" * (len(RECIPES) + 1))
    for layer, _, cpu in rows:
        medians = [statistics.median(c) for c in cpu]
        print(f"| {layer} | " + " | ".join(f"{m:.1f}" for m in medians)
              + f" | {medians[-1] / medians[0]:.2f}x |")
    return 0


def lever_functions(size: int = 128, dreams: int = 16) -> dict:
    """name: (function of a variable, the variable), each an image part's forward pass."""
    import numpy as np
    import tensorflow as tf

    from kerasdream.param.fourier import (Fourier, fold_rows, real_inverse_dft,
                                          real_inverse_dft_matrices)
    from kerasdream.transforms import similarity_matrix, translation_matrix, warp

    scale = tf.constant(Fourier((size, size, 3)).spectrum_scale)
    matrices = real_inverse_dft_matrices(size, size)
    cos_x, minus_sin_x = np.split(matrices[0], 2)

    def batched(raw):  # the products per image channel, as before
        sums, differences = fold_rows(raw * scale, size)
        sum_a, sum_b = tf.unstack(sums, axis=1)
        diff_a, diff_b = tf.unstack(differences, axis=1)
        real = tf.matmul(sum_a, cos_x) + tf.matmul(sum_b, minus_sin_x)
        imag = tf.matmul(diff_a, -minus_sin_x) + tf.matmul(diff_b, cos_x)
        return tf.transpose(tf.matmul(matrices[2], tf.concat([real, imag], -2)), (0, 2, 3, 1))

    bfloat16 = tuple(tf.constant(m, tf.bfloat16) for m in matrices)
    half = tf.constant(scale[:, : size // 2 + 1])
    small = size // 2
    small_scale = tf.constant(Fourier((small, small, 3)).spectrum_scale)
    small_matrices = real_inverse_dft_matrices(small, small)

    def warped(images):
        angle, zoom = tf.random.uniform((), -0.14, 0.14), tf.random.uniform((), 0.9, 1.1)
        return warp(images, tf.matmul(similarity_matrix(angle, zoom, size, size),
                                      translation_matrix(2.0, -1.0)))

    def variable(*shape):
        return tf.Variable(tf.random.normal((dreams, *shape)))

    return {
        "Fourier image: 2-D products (now)": (
            lambda raw: real_inverse_dft(raw * scale, matrices), variable(2, 3, size, size)),
        "Fourier image: products per channel (before)": (batched, variable(2, 3, size, size)),
        "Fourier image: tf.signal.irfft2d": (
            lambda raw: tf.signal.irfft2d(tf.complex(raw[:, 0] * half, raw[:, 1] * half)),
            variable(2, 3, size, size // 2 + 1)),
        "Fourier image: 2-D products in bfloat16": (
            lambda raw: tf.cast(real_inverse_dft(tf.cast(raw * scale, tf.bfloat16), bfloat16),
                                tf.float32), variable(2, 3, size, size)),
        "Fourier image: half-side spectrum, upsampled": (
            lambda raw: tf.image.resize(real_inverse_dft(raw * small_scale, small_matrices),
                                        (size, size)), variable(2, 3, small, small)),
        "pixels, no warp": (lambda images: images, variable(size, size, 3)),
        "pixels, warp (light transforms)": (warped, variable(size, size, 3)),
    }


def levers(steps: int, rounds: int) -> int:
    """Forward + backward of each image part alone, alternating; ms a step."""
    import tensorflow as tf

    steps_of = {}
    for name, (function, variable) in lever_functions().items():
        @tf.function
        def step(function=function, variable=variable):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.sigmoid(0.01 * function(variable)))
            variable.assign_sub(1e-6 * tape.gradient(loss, variable))
            return loss

        step()
        steps_of[name] = step
    times = {name: [] for name in steps_of}
    cpu = {name: [] for name in steps_of}
    for _ in range(rounds):
        for name, step in steps_of.items():
            began, cpu_began = time.perf_counter(), time.process_time()
            for _ in range(steps):
                loss = step()
            float(loss)
            times[name].append(1000.0 * (time.perf_counter() - began) / steps)
            cpu[name].append(1000.0 * (time.process_time() - cpu_began) / steps)
    print(f"ms a step (forward + backward), 16 dreams at 128 px, best and median of {rounds} "
          f"calls of {steps} steps, alternating; CPU ms = user + system of this process; "
          f"load {os.getloadavg()[0]:.1f}")
    print("| part | wall best | wall median | CPU median |\n|---|---:|---:|---:|")
    for name, found in times.items():
        print(f"| {name} | {min(found):.1f} | {statistics.median(found):.1f} | "
              f"{statistics.median(cpu[name]):.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
