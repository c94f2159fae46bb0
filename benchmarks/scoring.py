"""Scoring a chunk of dreams: `evaluation.score_dreams` against the code it replaced.

    python benchmarks/scoring.py                 # MobileNet, 3 layers, 16 dreams, 128 px
    python benchmarks/scoring.py --vgg           # and one VGG16 (weights=None) row at 224 px
    python benchmarks/scoring.py --vgg --layers ""   # only that row (~4 min on 2 cores)
    python benchmarks/scoring.py --repeats 3 --out benchmarks/results/scoring.md

In one process, interleaved per layer (old first call, new first call, then
old / new later calls alternately): seconds to score 16 dreams. The first
call includes building the feature models and the natural crops' means
(cached per layer and size afterwards); the later calls are what every
further chunk of the gallery pays. `old_score_dreams` below is the previous
implementation (one eager single-output feature model per key, numpy means
over the full maps, the pre-activation measured in a second set of passes),
kept here only as the reference. The script also checks that both give the
same records: ints, bools and strings equal, floats within relative 1e-5
(or absolute 1e-5, for a mean near 0 that cancels terms of order 1-10: the
compiled graph fuses the network's float32 ops differently from eager).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time

import numpy as np

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

from kerasdream.evaluation import scoring as ev  # noqa: E402
from kerasdream.network.bases import as_spec, load_base  # noqa: E402

# ------------------------------------------------------------------ the old implementation

_OLD_NATURAL: dict[tuple, np.ndarray] = {}


def old_channel_means(base, layer, images, preprocess, pre=False):
    values = ev.features(base, ev._key(base, layer, pre), images, preprocess)
    return values.mean(axis=(1, 2)) if values.ndim == 4 else values


def old_robust_channel_means(base, layer, images, preprocess, pre, views, seed):
    stack = ev.robust_views(images, views=views, seed=seed)
    flat = stack.reshape(-1, *stack.shape[2:])
    means = old_channel_means(base, layer, flat, preprocess, pre)
    return means.reshape(views, len(images), -1).mean(axis=0)


def old_natural_means(base, layer, preprocess, size, pre=False):
    key = (id(base), ev._key(base, layer, pre), preprocess, tuple(size))
    if key not in _OLD_NATURAL:
        channels = int(base.inputs[0].shape[-1] or 3)
        crops = ev.natural_crops(tuple(size), channels)
        _OLD_NATURAL[key] = old_channel_means(base, layer, crops, preprocess, pre)
    return _OLD_NATURAL[key]


def old_score_dreams(base, layer, images, targets, preprocess, views=8, seed=0):
    images = np.asarray(images)
    size = tuple(images.shape[1:3])
    cap = ev.relu_cap(base, layer)

    def measures(pre):
        return (old_channel_means(base, layer, images, preprocess, pre),
                old_robust_channel_means(base, layer, images, preprocess, pre, views, seed),
                old_natural_means(base, layer, preprocess, size, pre).max(axis=0))

    acts, robust, maxima = measures(False)
    pre_means = old_natural_means(base, layer, preprocess, size, True)
    constant = np.ptp(pre_means, axis=0) <= 1e-4 * (1.0 + np.abs(pre_means).max(axis=0))
    pre = measures(True) if cap is not None else None
    selective = ev.column_selective(acts, targets)
    stds, clipped, noise = ev.pixel_std(images), ev.clipped_fraction(images), \
        ev.high_frequency(images)
    records = []
    for i, k in enumerate(targets):
        record = {"filter": k, **ev._activation_record(acts, robust, maxima, i, k),
                  "natural_ratio_from": "post-activation", "cap": cap,
                  "pixel_std": float(stds[i]), "flat": bool(stds[i] < ev.FLAT_STD),
                  "constant_channel": bool(constant[k]),
                  "clipped_fraction": float(clipped[i]), "high_frequency": float(noise[i]),
                  "column_selective": bool(selective[i])}
        if pre is not None:
            record.update(ev._activation_record(*pre, i, k, prefix="pre_"))
            record["natural_ratio"] = record["pre_natural_ratio"]
            record["robust_natural_ratio"] = record["pre_robust_natural_ratio"]
            record["natural_ratio_from"] = "pre-activation"
        records.append(record)
    return records


# ------------------------------------------------------------------ comparison


def compare(old: list[dict], new: list[dict]) -> tuple[float, list[str]]:
    """The largest relative and absolute float differences, and every field that is
    not equal (floats: beyond relative 1e-5 and absolute 1e-5)."""
    worst, worst_abs, bad = 0.0, 0.0, []
    for i, (a, b) in enumerate(zip(old, new, strict=True)):
        if set(a) != set(b):
            bad.append(f"dream {i}: keys {sorted(set(a) ^ set(b))}")
        for key in a:
            x, y = a[key], b.get(key)
            if isinstance(x, float) and isinstance(y, float):
                rel = abs(x - y) / max(abs(x), abs(y), 1e-12)
                worst, worst_abs = max(worst, rel), max(worst_abs, abs(x - y))
                if rel > 1e-5 and abs(x - y) > 1e-5:
                    bad.append(f"dream {i} {key}: {x!r} vs {y!r}")
            elif x != y or type(x) is not type(y):
                bad.append(f"dream {i} {key}: {x!r} vs {y!r}")
    return worst, worst_abs, bad


def dreams(count: int, size: int, seed: int) -> np.ndarray:
    """Smooth random colour patterns plus noise, uint8: stand-ins for dreams."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:size, :size] / size
    images = []
    for _ in range(count):
        freq = rng.uniform(1, 12, (3, 2))
        phase = rng.uniform(0, 2 * np.pi, 3)
        waves = [np.sin(2 * np.pi * (fy * y + fx * x) + p) for (fy, fx), p in zip(freq, phase)]
        image = 127.5 + 100 * np.stack(waves, -1) + rng.normal(0, 20, (size, size, 3))
        images.append(np.clip(image, 0, 255).astype("uint8"))
    return np.stack(images)


def timed(fn, *args):
    began = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - began, out


def measure(base, layer, preprocess, size, repeats, seed):
    images, targets = dreams(16, size, seed), list(range(16))
    args = (base, layer, images, targets, preprocess)
    ev.natural_crops((size, size), 3)  # shared by both, cached: not part of either's time
    ev.robust_views(images[:1])  # the backend's first affine_transform
    old_first, old = timed(old_score_dreams, *args)
    new_first, new = timed(ev.score_dreams, *args)
    worst, worst_abs, bad = compare(old, new)
    old_later, new_later = [], []
    for _ in range(repeats):
        seconds, again_old = timed(old_score_dreams, *args)
        old_later.append(seconds)
        seconds, again_new = timed(ev.score_dreams, *args)
        new_later.append(seconds)
        more_worst, more_abs, more_bad = compare(again_old, again_new)
        worst, worst_abs = max(worst, more_worst), max(worst_abs, more_abs)
        bad += more_bad
    return {"layer": layer, "size": size, "old_first": old_first, "new_first": new_first,
            "old_later": statistics.median(old_later),
            "new_later": statistics.median(new_later), "worst": worst,
            "worst_abs": worst_abs, "bad": bad}


def row(name, r):
    verdict = "equal" if not r["bad"] else f"{len(r['bad'])} differ"
    return (f"| {name} | {r['layer']} | {r['size']} | {r['old_first']:.2f} | "
            f"{r['new_first']:.2f} | {r['old_first'] / r['new_first']:.1f}x | "
            f"{r['old_later']:.2f} | {r['new_later']:.2f} | "
            f"{r['old_later'] / r['new_later']:.1f}x | "
            f"{verdict} ({r['worst']:.1e} rel., {r['worst_abs']:.1e} abs.) |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default="conv_pw_2_relu,conv_pw_7_relu,conv_pw_12_relu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--vgg", action="store_true", help="add a VGG16 weights=None row")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)

    spec = as_spec("mobilenet")
    base = load_base(spec)
    results = [("mobilenet", measure(base, layer, spec.preprocess_mode, 128, args.repeats, i))
               for i, layer in enumerate(args.layers.split(",")) if layer]
    if args.vgg:
        vgg = dataclasses.replace(as_spec("vgg16"), weights=None)
        vgg_base = load_base(vgg)
        results.append(("vgg16 (weights=None)",
                        measure(vgg_base, "block5_conv3", vgg.preprocess_mode, 224, 2, 9)))
    lines = [
        "| network | layer | px | old first (s) | new first (s) | ratio | old later (s) | "
        "new later (s) | ratio | records (max diff) |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *[row(name, r) for name, r in results],
    ]
    text = "\n".join(lines)
    print(text)
    for name, r in results:
        for line in r["bad"][:10]:
            print(f"{name} {r['layer']}: {line}")
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(f"`python benchmarks/scoring.py {' '.join(argv or sys.argv[1:])}`: "
                         f"16 dreams per call; later = median of {args.repeats} calls; "
                         f"one process, interleaved; machine shared (2 cores).\n\n{text}\n")
    return 0 if all(not r["bad"] for _, r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
