"""What the light transforms cost a training step: one fused warp against
the layer-by-layer resampling it replaced (issue 16).

    python benchmarks/transform_cost.py            # 128 and 224 px, batch 16
    python benchmarks/transform_cost.py --sizes 64,128 --rounds 5

Forward + backward (the image gradient of a sum of squares) of
`kerasdream.transforms.light_transforms` (jitter 4, scale 0.9-1.1, rotate 8
degrees, jitter 2, pixel counts scaled with the size), each variant in one
`tf.function`, interleaved round by round in one process; medians of the
rounds. "before" is the code before the fusion, kept here as the reference:
pad-and-slice jitters and two `ops.image.affine_transform` calls
(TensorFlow's ImageProjectiveTransformV3, whose gradient is the inverse
warp). "after" is `apply_transforms`: the same draws, one bilinear gather.
TensorFlow backend only (the op being replaced is TensorFlow's).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from kerasdream.transforms import light_transforms  # noqa: E402
from kerasdream.transforms import Jitter, apply_transforms  # noqa: E402


def before(layers, images):
    """The layer-by-layer path the fusion replaced."""
    for layer in layers:
        if isinstance(layer, Jitter):
            images = layer(images, training=True)
            continue
        height, width = images.shape[1], images.shape[2]
        matrix = ops.reshape(layer.sampling_matrix(height, width), (9,))[:8]
        transform = ops.tile(matrix[None, :], [ops.shape(images)[0], 1])
        images = ops.image.affine_transform(images, transform, interpolation="bilinear",
                                            fill_mode="reflect")
    return images


def after(layers, images):
    return apply_transforms(layers, images, training=True)


def timed_step(path, size: int, batch: int):
    layers = light_transforms(size)
    for layer in layers:
        layer.build((None, size, size, 3))

    @tf.function
    def step(images):
        with tf.GradientTape() as tape:
            tape.watch(images)
            loss = tf.reduce_sum(tf.square(path(layers, images)))
        return tape.gradient(loss, images)

    images = tf.random.uniform((batch, size, size, 3), 0.0, 255.0, seed=0)
    step(images).numpy()  # trace

    def run(repeats: int) -> float:
        began = time.perf_counter()
        for _ in range(repeats):
            gradient = step(images)
        gradient.numpy()
        return 1000.0 * (time.perf_counter() - began) / repeats

    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="128,224")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    print(f"light transforms, forward + backward, batch {args.batch}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    print("| size | before (ms) | after (ms) | before / after |\n|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        runs = {"before": timed_step(before, size, args.batch),
                "after": timed_step(after, size, args.batch)}
        times = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, run in runs.items():
                times[name].append(run(args.repeats))
        old, new = (statistics.median(times[name]) for name in ("before", "after"))
        print(f"| {size} | {old:.1f} | {new:.1f} | {old / new:.2f}x |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
