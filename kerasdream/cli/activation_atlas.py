"""`kerasdream activation-atlas`: its options and its handler, in one module.

Light on purpose (no keras, numpy or TensorFlow at the top): `--help` and a
bad option answer without them; `run` imports the package when it runs.
"""

from __future__ import annotations

import argparse
import os

from kerasdream.defaults import DEFAULT_MODEL, DEFAULT_PRECISION, PRECISIONS, PREPROCESS_CHOICES

GRID, MIN_COUNT, PER_IMAGE, SIZE, STEPS, BATCH, COSSIM_POW = 20, 3, 16, 64, 128, 32, 2.0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _grid(text: str) -> tuple[int, int]:
    """'20' or '12x16' (rows x columns)."""
    parts = text.lower().split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected a grid such as 20 or 12x16 (rows x "
                                         f"columns), got {text!r}")
    return values[0], values[-1]


def _power(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `activation-atlas` command to `subparsers`; return its parser."""
    parser = subparsers.add_parser(
        "activation-atlas",
        help="one dream per cell of a 2-D map of a layer's activations over your photos")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help="a keras.applications name or a .keras/.h5 path (default: "
                             "%(default)s, the shipped alpha=0.25 ImageNet weights)")
    parser.add_argument("--alpha", type=float, default=None,
                        help="MobileNet width (default: the application's own, 0.25 for "
                             "mobilenet)")
    parser.add_argument("--weights", default="imagenet",
                        help="'imagenet', 'none' (random) or a local weights file "
                             "(default: %(default)s)")
    parser.add_argument("--preprocess", default=None, choices=list(PREPROCESS_CHOICES),
                        help="the range the model was trained on, '[0,1]' or '[-1,1]', or a "
                             "keras.applications mode (default: the network's own; 0..255 "
                             "for a model file)")
    parser.add_argument("--labels", default=None, metavar="FILE",
                        help="class names of a classifier, one a line or JSON (default: "
                             "ImageNet's for 1000 classes, else the numbers)")
    parser.add_argument("--layer", required=True, help="the layer to map")
    parser.add_argument("--examples", required=True, metavar="DIR",
                        help="a folder of JPEG/PNG photos (nested folders too)")
    parser.add_argument("--out", required=True, help="output folder (resumable)")
    parser.add_argument("--grid", type=_grid, default=(GRID, GRID),
                        help=f"cells of the layout: {GRID} or ROWSxCOLUMNS (default: {GRID})")
    parser.add_argument("--min-count", type=_positive, default=MIN_COUNT,
                        help="points a cell needs to be dreamed (default: %(default)s)")
    parser.add_argument("--per-image", type=_positive, default=PER_IMAGE,
                        help="activation vectors sampled per photo (default: %(default)s)")
    parser.add_argument("--method", default="umap", choices=["umap", "tsne"],
                        help="2-D layout: umap (umap-learn) or tsne (scikit-learn) "
                             "(default: %(default)s)")
    parser.add_argument("--size", type=_positive, default=None,
                        help=f"dream size in pixels (default: the model's input size, "
                             f"else {SIZE})")
    parser.add_argument("--steps", type=_positive, default=STEPS,
                        help="training steps per dream (default: %(default)s)")
    parser.add_argument("--batch", type=_positive, default=BATCH,
                        help="cells dreamed together (bounds memory; default: %(default)s)")
    parser.add_argument("--cossim-pow", type=_power, default=COSSIM_POW,
                        help=f"the Direction objective's cosine power (default: "
                             f"{COSSIM_POW:g})")
    parser.add_argument("--seed", type=int, default=0,
                        help="same seed, same atlas (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: the optimizer's own)")
    parser.add_argument("--precision", default=DEFAULT_PRECISION, choices=list(PRECISIONS),
                        help=f"what the network computes in: "
                             f"{'; '.join(f'{k}: {v}' for k, v in PRECISIONS.items())} "
                             f"(default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def run(args) -> None:
    """Handle `kerasdream activation-atlas`."""
    from kerasdream.activation_atlas import activation_atlas
    from kerasdream.network.bases import BaseSpec, tell_input_range
    from kerasdream.network.classes import read_labels

    weights = None if str(args.weights).lower() == "none" else args.weights
    spec = BaseSpec(args.model, args.alpha, weights, args.preprocess)
    tell_input_range(spec)
    activation_atlas(
        spec, args.layer, args.examples,
        args.out, grid=args.grid, min_count=args.min_count, per_image=args.per_image,
        method=args.method, size=args.size, steps=args.steps, batch=args.batch,
        seed=args.seed, cossim_pow=args.cossim_pow, learning_rate=args.lr,
        precision=args.precision, quiet=args.quiet,
        class_names=read_labels(args.labels) if args.labels else None)
    print(f"Wrote {os.path.abspath(args.out)}")
