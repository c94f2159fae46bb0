"""Dreams per second on 1 and 2 replicas, side by side, and a VGG16 atlas estimate.

    python benchmarks/distribute.py            # full run (a few minutes)
    python benchmarks/distribute.py --quick    # smoke test

The CPU is split into two logical devices before TensorFlow starts; the
same chunk of dreams then trains under the default strategy (one device)
and under `MirroredStrategy` (two replicas), alternating, in one process.
Logical CPU devices share the machine's cores, so on a CPU-only machine this
measures the overhead (or gain) of splitting the batch, not extra hardware.
The atlas estimate times one chunk at the last conv of each VGG16 block
(`weights=None`: compute cost only) and extrapolates to all 4,224 filters.
"""

from __future__ import annotations

import argparse
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

from kerasdream.network import distribute

distribute.split_cpu(2)

import keras  # noqa: E402

import kerasdream as kd  # noqa: E402

VGG16_BLOCKS = {  # last conv of each block -> every conv layer's filter count in it
    "block1_conv2": [64, 64],
    "block2_conv2": [128, 128],
    "block3_conv3": [256, 256, 256],
    "block4_conv3": [512, 512, 512],
    "block5_conv3": [512, 512, 512],
}


class _StepClock(keras.callbacks.Callback):
    """Wall time at the end of every training step."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def dreams_per_second(strategy, layer, size, dreams, steps, base=None) -> float:
    """Dream-steps per second of one chunk, excluding the first 2 steps (tracing).

    One step per `fit` call for both: Keras runs no more under a strategy, and
    the clock needs every step.
    """
    clock = _StepClock()
    with distribute.scope(strategy):
        model = kd.DreamModel(kd.Channel(layer, list(range(dreams))), base, size=size)
        kd.train(model, steps + 2, callbacks=[clock], steps_per_execution=1)
    return dreams * steps / (clock.times[-1] - clock.times[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    steps, rounds, atlas_steps = (5, 1, 2) if args.quick else (50, args.rounds, 3)

    one = distribute.get_strategy("default")
    two = distribute.get_strategy("mirrored")
    print(f"keras {keras.__version__}, replicas: default=1, mirrored="
          f"{distribute.replicas(two)}")
    print("\n| network, layer, size | dreams | 1 replica dream-steps/s | 2 replicas "
          "dream-steps/s | ratio 2/1 |\n|---|---|---|---|---|")
    for layer, size in (("conv_pw_3_relu", 128), ("conv_pw_8_relu", 128)):
        rates = {1: [], 2: []}
        for _ in range(rounds):  # alternate, so drift in machine load hits both
            rates[1].append(dreams_per_second(one, layer, size, 16, steps))
            rates[2].append(dreams_per_second(two, layer, size, 16, steps))
        best1, best2 = max(rates[1]), max(rates[2])
        print(f"| MobileNet-0.25 {layer} {size}px | 16 | {best1:.0f} | {best2:.0f} | "
              f"{best2 / best1:.2f} |")

    print("\nVGG16 (weights=None) atlas estimate, 16 dreams a chunk:")
    vgg = kd.BaseSpec("vgg16", weights=None)
    for size, total_steps in ((64, 100), (224, 200)):
        seconds = 0.0
        for layer, counts in VGG16_BLOCKS.items():
            rate = dreams_per_second(one, layer, size, 16, atlas_steps, base=vgg)
            seconds += sum(counts) * total_steps / rate
            print(f"  {size}px {layer}: {rate:.1f} dream-steps/s")
        print(f"  => all 4,224 filters at {size}px x {total_steps} steps on 1 replica: "
              f"~{seconds / 3600:.1f} h")


if __name__ == "__main__":
    main()
