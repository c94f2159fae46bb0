"""MACO against Fourier in the quality yardstick (issue 20), without the full 12-minute run.

    python benchmarks/archive/quality_maco.py            # writes benchmarks/archive/results/quality_maco.md

1. `benchmarks/quality.py`'s recipes `cli-defaults` (Fourier, as shipped),
   `maco` and `maco-light` at the two deepest layers it scores
   (conv_pw_10_relu, conv_pw_13_relu of the shipped MobileNet, 16 filters,
   128 px, 200 steps), scored exactly as quality.py scores them.
2. Speed only at VGG16 `block5_conv3` with `weights=None` (random weights:
   quality numbers mean nothing there): 4 filters, 128 px, 10 steps, Fourier
   and MACO interleaved twice, seconds of `fit` each.
"""

from __future__ import annotations

import os
import platform
import sys
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

import keras  # noqa: E402

import quality  # noqa: E402

import kerasdream as kd  # noqa: E402
from kerasdream import io  # noqa: E402
from kerasdream import evaluation
from kerasdream.network.bases import BaseSpec, load_base  # noqa: E402

LAYERS = ["conv_pw_10_relu", "conv_pw_13_relu"]
RECIPES = ["cli-defaults", "maco", "maco-light"]
VGG_LAYER, VGG_FILTERS, VGG_STEPS = "block5_conv3", [0, 1, 2, 3], 10


def vgg_speed() -> list[dict]:
    spec = BaseSpec("vgg16", None, None)
    base = load_base(spec)
    key = evaluation.pre_activation_key(base, VGG_LAYER)
    rows = []
    for repeat in range(2):
        for parameterization, transforms in (("fourier", "light"), ("maco", "maco")):
            model = kd.DreamModel(kd.Channel(key, VGG_FILTERS), spec, size=128,
                                  parameterization=parameterization, transforms=transforms)
            model.compile()
            model.fit(1)  # trace outside the timing
            began = time.perf_counter()
            model.fit(VGG_STEPS)
            seconds = time.perf_counter() - began
            rows.append({"parameterization": parameterization, "repeat": repeat,
                         "seconds": seconds, "per_step": seconds / VGG_STEPS})
            print(f"vgg16 {VGG_LAYER} {parameterization}: {seconds:.1f} s for {VGG_STEPS} steps")
    return rows


def main() -> int:
    began = time.perf_counter()
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")  # PNGs too
    natural_hf = evaluation.natural_high_frequency(quality.SIZE)
    table = quality.recipes()
    chosen = [table[name] for name in RECIPES]
    rows = quality.run_dreams(chosen, LAYERS, quality.FILTERS, None, out)
    speed = vgg_speed()
    total = time.perf_counter() - began
    lines = [
        "# MACO in the quality yardstick (issue 20)",
        "",
        f"Command: `python benchmarks/archive/quality_maco.py` ({time.strftime('%Y-%m-%d')}, "
        f"{platform.node()}, 2 cores shared with other helpers' work; Keras {keras.__version__}, "
        f"backend {keras.backend.backend()}). Total {total:.0f} s. Columns as in `quality.md` "
        f"(natural photos' high-frequency measure at {quality.SIZE} px: {natural_hf:.1f}).",
        "",
        "Recipes:",
        "",
        *[f"- `{r.name}`: {r.summary}" for r in chosen],
        "",
        quality.HEADER,
        "|" + "---|" * 12,
        *[quality.format_row(row) for row in rows],
        "",
        f"Speed only, VGG16 `{VGG_LAYER}` with `weights=None` (random weights), "
        f"{len(VGG_FILTERS)} filters, 128 px, {VGG_STEPS} steps after a 1-step trace, "
        "interleaved:",
        "",
        "| parameterization | repeat | seconds | seconds / step |",
        "|---|---|---|---|",
        *[f"| {r['parameterization']} | {r['repeat']} | {r['seconds']:.1f} | {r['per_step']:.2f} |"
          for r in speed],
        "",
    ]
    with io.atomic_path(os.path.join(out, "quality_maco.md")) as temporary:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write("\n".join(lines))
    io.write_json(os.path.join(out, "quality_maco.json"),
                  {"seconds_total": total, "dreams": rows, "vgg16_speed": speed})
    print(f"Wrote {os.path.join(out, 'quality_maco.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
