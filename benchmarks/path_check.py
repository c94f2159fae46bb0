"""The path check (`kerasdream.evaluation.path`): its cost per chunk, and the docs' picture.

    python benchmarks/path_check.py                       # cost, then the picture
    python benchmarks/path_check.py --no-picture --repeats 5
    python benchmarks/path_check.py --no-cost --layer conv_pw_4_relu

Cost: `score_dreams` of 16 dreams at 128 px with the path check and without
it (the path layers' keys left out), in one process, interleaved, at three
MobileNet layers: the first call (building the means model, the natural
crops' means) and the median of the later calls, what each further chunk of
a gallery pays.

Picture: 16 dreams of `--layer` at the command line's defaults
(`kd.gallery_objective`, `DreamModel.compile()`'s depth learning rate),
scored; of those with robust rank 1 (they look faithful), the dream furthest
above the path floor and the one furthest below it, side by side, with
their similarity and floor at their worst layer, written to
`docs/path_check.png`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

import kerasdream as kd  # noqa: E402
from kerasdream import io  # noqa: E402
from kerasdream.evaluation import scoring  # noqa: E402
from kerasdream.network.bases import load_base  # noqa: E402

FILTERS = list(range(16))
PICTURE = os.path.join(_setup.ROOT, "docs", "path_check.png")


def timed_scores(base, layer: str, images: np.ndarray, with_path: bool) -> float:
    keep = scoring.path_keys
    if not with_path:
        scoring.path_keys = lambda base, layer: {}
    try:
        began = time.perf_counter()
        scoring.score_dreams(base, layer, images, FILTERS, "tf")
        return time.perf_counter() - began
    finally:
        scoring.path_keys = keep


def cost(layers: list[str], repeats: int) -> None:
    base = load_base(None)
    images = np.random.default_rng(0).integers(0, 256, (16, 128, 128, 3)).astype("uint8")
    print("| layer | first call without | first call with | later calls without (median) "
          "| later calls with (median) | added a chunk |")
    print("|---|---|---|---|---|---|")
    for layer in layers:
        first_without = timed_scores(base, layer, images, False)
        first_with = timed_scores(base, layer, images, True)
        without, with_ = [], []
        for _ in range(repeats):
            without.append(timed_scores(base, layer, images, False))
            with_.append(timed_scores(base, layer, images, True))
        a, b = statistics.median(without), statistics.median(with_)
        print(f"| {layer} | {first_without:.2f} s | {first_with:.2f} s | {a:.2f} s | {b:.2f} s "
              f"| {b - a:+.2f} s ({b / a:.2f}x) |", flush=True)


def picture(layer: str, steps: int) -> None:
    base = load_base(None)
    model = kd.DreamModel(kd.gallery_objective(layer, FILTERS, base), base, seed=0,
                          row_keys=FILTERS)
    model.compile()
    model.fit(steps)
    images = model.render()
    records = scoring.score_dreams(base, layer, images, FILTERS, "tf")
    # Among the dreams that pass the robust rank (they look faithful), the
    # one furthest above the path floor and the one furthest below it.
    margin = [r["path_similarity"] - r["path_floor"] if r["robust_rank"] == 1 else np.nan
              for r in records]
    best, worst = int(np.nanargmax(margin)), int(np.nanargmin(margin))
    for r in records:
        print(f"filter {r['filter']}: similarity {r['path_similarity']:.2f}, floor "
              f"{r['path_floor']:.2f} at {r['path_layer']}, off path {r['off_path']}, "
              f"robust rank {r['robust_rank']}")
    labels = []
    for i in (best, worst):
        r = records[i]
        verdict = "OFF path" if r["off_path"] else "on path"
        labels.append(f"{r['filter']}: {verdict} {r['path_similarity']:.2f} vs "
                      f"{r['path_floor']:.2f}")
    big = np.repeat(np.repeat(images[[best, worst]], 2, axis=1), 2, axis=2)  # readable labels
    grid = io.grid(big, labels=labels, columns=2, title=f"Path check, {layer}")
    io.save_png(PICTURE, grid)
    print(f"Wrote {PICTURE}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="conv_pw_4_relu,conv_pw_7_relu,conv_pw_13_relu",
                        help="layers to time the check at")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--layer", default="conv_pw_7_relu", help="the picture's layer")
    parser.add_argument("--steps", type=int, default=None, help="default: the CLI's")
    parser.add_argument("--no-cost", action="store_true")
    parser.add_argument("--no-picture", action="store_true")
    args = parser.parse_args(argv)
    if not args.no_cost:
        cost(args.layers.split(","), args.repeats)
    if not args.no_picture:
        from kerasdream.defaults import DEFAULT_STEPS

        picture(args.layer, args.steps or DEFAULT_STEPS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
