"""A training step's CPU cost, for comparing two checkouts side by side.

    python benchmarks/step_ab.py --layers conv_pw_2_relu,conv_pw_12_relu &
    python benchmarks/step_ab.py --layers conv_pw_2_relu,conv_pw_12_relu --checkout ../main

Run it for two checkouts at the same time (`--checkout`: the kerasdream
to import, default this one), so load from elsewhere hits both alike. For
each layer, 16 dreams at 128 px: pixels without transforms (the network
alone), Fourier without transforms and the defaults (Fourier + light
transforms), alternating, `--rounds` calls of 20 steps after a 10-step
trace. Prints the checkout, then the median CPU ms a step (user + system of
the process: steadier than the wall clock on a shared machine) of the three
and defaults / pixels.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import _setup  # noqa: F401  (this checkout on sys.path, offline weights)

RECIPES = (("pixels", "none"), ("fourier", "none"), ("fourier", "light"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="conv_pw_2_relu,conv_pw_12_relu")
    parser.add_argument("--checkout", default=None, help="another checkout's kerasdream")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    if args.checkout:
        sys.path.insert(0, os.path.abspath(args.checkout))
    import kerasdream
    from kerasdream.model import DreamModel
    from kerasdream.network.bases import as_spec, load_base
    from kerasdream.objectives.terms import Channel

    base = load_base(as_spec("mobilenet"))
    where = os.path.dirname(os.path.dirname(os.path.abspath(kerasdream.__file__)))
    print(f"{where}: CPU ms a step, pixels / Fourier / defaults, medians of {args.rounds}")
    for layer in args.layers.split(","):
        models = []
        for parameterization, transforms in RECIPES:
            model = DreamModel(Channel(layer, list(range(16))), base, size=128,
                               parameterization=parameterization, transforms=transforms)
            model.compile()
            model.fit(10)  # trace
            models.append(model)
        cpu = [[] for _ in models]
        for _ in range(args.rounds):
            for model, found in zip(models, cpu):
                began = time.process_time()
                model.fit(20)
                found.append((time.process_time() - began) / 20 * 1000)
        medians = [statistics.median(found) for found in cpu]
        print(f"{where} {layer}: " + " / ".join(f"{m:.1f}" for m in medians)
              + f"; defaults / pixels {medians[2] / medians[0]:.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
