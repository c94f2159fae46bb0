"""What a training step is made of: the network, the Fourier image and the warp.

    python benchmarks/step_parts.py                       # the gallery's three layers
    python benchmarks/step_parts.py --layers conv_pw_8_relu --steps 100

For each layer of the shipped MobileNet, 16 channel dreams at 128 px train
with four recipes in one process: pixels without transforms (the network
alone, the floor of any dream), pixels with the light transforms (+ the
warp), Fourier without transforms (+ the Fourier image) and Fourier with the
light transforms (the CLI's defaults). Each model is traced first; the
timed calls alternate between the recipes, and the medians are printed.
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
    args = parser.parse_args(argv)
    base = load_base(as_spec("mobilenet"))
    print(f"ms a step, 16 dreams at 128 px, median of {args.rounds} calls of {args.steps} "
          f"steps, load {os.getloadavg()[0]:.1f}")
    print("| layer | " + " | ".join(LABELS) + " |")
    print("|---|" + "---:|" * len(RECIPES))
    for layer in args.layers.split(","):
        models = []
        for parameterization, transforms in RECIPES:
            model = DreamModel(Channel(layer, list(range(16))), base, size=128,
                               parameterization=parameterization, transforms=transforms)
            model.compile()
            model.fit(25)  # trace
            models.append(model)
        times = [[] for _ in models]
        for _ in range(args.rounds):
            for model, seconds in zip(models, times):
                began = time.perf_counter()
                model.fit(args.steps)
                seconds.append(1000.0 * (time.perf_counter() - began) / args.steps)
        print(f"| {layer} | " + " | ".join(f"{statistics.median(t):.1f}" for t in times) + " |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
