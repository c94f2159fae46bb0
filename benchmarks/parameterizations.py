"""Pixels versus Fourier dreams, and inversion errors of a photo, side by side.

    python benchmarks/parameterizations.py           # full run (a few minutes)
    python benchmarks/parameterizations.py --quick   # smoke test

1. 16 filters of an early and a middle layer of the shipped MobileNet at
   128 px: the target filter's mean activation and the selectivity (dreams
   whose own filter is the most active channel) after 25, 50, 100 and 200
   steps, for each parameterization, measured on the rendered uint8 images.
   The final dreams are saved one grid per layer, pixels above Fourier.
2. The skimage `astronaut` photo inverted at two layers after 300 steps, for
   each parameterization: the paper's relative feature error.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

import keras
import numpy as np
from PIL import Image

import kerasdream as kd
from kerasdream import io
from kerasdream.network.bases import load_base
from kerasdream.evaluation.scoring import layer_means as channel_activations, rank_of
from kerasdream.preimages import preimage


class _Checkpoints(keras.callbacks.Callback):
    """Activation and selectivity of the rendered dreams at chosen steps."""

    def __init__(self, layer, filters, at):
        super().__init__()
        self.layer, self.filters, self.at, self.rows = layer, filters, set(at), []

    def on_train_batch_end(self, batch, logs=None):
        step = batch + 1
        if step in self.at:
            images = kd.render(self.model)
            acts = channel_activations(load_base(None), self.layer, images, "tf")
            own = acts[np.arange(len(self.filters)), self.filters]
            rank1 = sum(rank_of(acts[i], k) == 1 for i, k in enumerate(self.filters))
            self.rows.append((step, float(np.mean(own)), rank1))


def compare_parameterizations(layers, steps_at, out):
    filters = list(range(16))
    print("| layer | parameterization | steps | mean target activation | selectivity |")
    print("|---|---|---|---|---|")
    for layer in layers:
        grids = []
        for name in ("pixels", "fourier"):
            model = kd.DreamModel(kd.Channel(layer, filters), size=128,
                                         parameterization=name)
            checkpoints = _Checkpoints(layer, filters, steps_at)
            # Callbacks run once per call of the training step: a call ends at each checkpoint.
            per_call = kd.model.default_steps_per_execution(math.gcd(*steps_at))
            kd.train(model, max(steps_at), callbacks=[checkpoints], steps_per_execution=per_call)
            for step, activation, rank1 in checkpoints.rows:
                print(f"| {layer} | {name} | {step} | {activation:.2f} | {rank1}/16 |")
            grids.append(io.grid(kd.render(model), [str(k) for k in filters],
                                 title=f"{layer}, {name}, {max(steps_at)} steps"))
        path = os.path.join(out, f"parameterizations_{layer}.png")
        io.save_png(path, io.stack(grids))
        print(f"(pictures: {path})")


def compare_inversions(layers, steps, size, out):
    from skimage import data

    photo = np.asarray(Image.fromarray(data.astronaut()).resize((size, size), Image.BILINEAR),
                       dtype="float32")
    print(f"\nInversion of skimage's astronaut at {size} px, {steps} steps, C = 20, "
          "alpha-norm + TV priors:")
    print("| layer | parameterization | relative feature error |\n|---|---|---|")
    pictures = []
    for layer in layers:
        row = [photo.astype("uint8")]
        for name in ("pixels", "fourier", "bounded"):
            image, error = preimage("invert", photo, layer, steps=steps, parameterization=name)
            print(f"| {layer} | {name} | {error:.3f} |")
            row.append(image)
        pictures.append(io.grid(np.stack(row), ["photo", "pixels", "fourier", "bounded"],
                                title=f"inversion at {layer}"))
    path = os.path.join(out, "inversions.png")
    io.save_png(path, io.stack(pictures))
    print(f"(pictures: {path})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None,
                        help="default: benchmarks/results (a temporary folder with --quick, "
                             "so a smoke test never overwrites the published pictures)")
    args = parser.parse_args()
    if args.out is None:
        args.out = (tempfile.mkdtemp(prefix="kerasdream-quick-") if args.quick
                    else os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    os.makedirs(args.out, exist_ok=True)
    layers = ["conv_pw_3_relu", "conv_pw_8_relu"]
    if args.quick:
        compare_parameterizations(layers[:1], [2, 4], args.out)
        compare_inversions(layers[:1], 5, 64, args.out)
    else:
        compare_parameterizations(layers, [25, 50, 100, 200], args.out)
        compare_inversions(layers, 300, 128, args.out)


if __name__ == "__main__":
    main()
