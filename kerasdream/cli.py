"""The `kerasdream` command line: layers, filters, gallery, invert, caricature.

Bad options exit with status 2 and one line naming the bad value and what
would be valid; an interrupted run exits with 130 and can be finished by
running the same command again.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence

from kerasdream.bases import DEFAULT_MODEL, PREPROCESS_MODES
from kerasdream.distribute import STRATEGIES
from kerasdream.errors import DreamError
from kerasdream.gallery import (
    ACTIVATIONS,
    DEFAULT_ACTIVATION,
    DEFAULT_BATCH,
    DEFAULT_FILTERS,
    DEFAULT_SELECTIVITY,
    OBJECTIVES,
    SELECTIVE_STRIDE,
)
from kerasdream.io import MODEL_FORMATS
from kerasdream.model import (
    DEFAULT_PARAMETERIZATION,
    DEFAULT_SIZE,
    DEFAULT_STEPS,
    DEFAULT_TRANSFORMS,
    TRANSFORM_CHOICES,
)
from kerasdream.parameterization import PARAMETERIZATIONS
from kerasdream.precision import DEFAULT_PRECISION, PRECISIONS
from kerasdream.preimages import (
    DEFAULT_PREIMAGE_LEARNING_RATE,
    DEFAULT_WEIGHTS,
    PREIMAGE_DEFAULTS,
)

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _size(text: str) -> tuple[int, int]:
    """'128' or '96x128' (height x width)."""
    parts = text.lower().split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected a size such as 128 or 96x128 (height x width), got {text!r}")
    return (values[0], values[-1])


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _learning_rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a positive finite number, got {text!r}")
    return value


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("network")
    group.add_argument("--model", default=DEFAULT_MODEL,
                       help="a keras.applications name (vgg16, resnet50, mobilenet, ...) or a "
                            "path to a .keras/.h5 model (default: mobilenet, whose alpha=0.25 "
                            "ImageNet weights ship with kerasdream)")
    group.add_argument("--alpha", type=float, default=None,
                       help="width of MobileNet / MobileNetV2 (default 0.25 for mobilenet)")
    group.add_argument("--weights", default="imagenet",
                       help="'imagenet', 'none' (random) or a local weights file")
    group.add_argument("--preprocess", default=None,
                       choices=list(PREPROCESS_MODES),
                       help="override the network's input preprocessing")


def _add_dream_options(parser: argparse.ArgumentParser, steps: int = DEFAULT_STEPS,
                       parameterization: str = DEFAULT_PARAMETERIZATION,
                       transforms: str = DEFAULT_TRANSFORMS,
                       lr_help: str = "the parameterization's own") -> None:
    group = parser.add_argument_group("dreams")
    group.add_argument("--size", type=_size, default=(DEFAULT_SIZE, DEFAULT_SIZE),
                       help=f"image size: {DEFAULT_SIZE} or HEIGHTxWIDTH (default {DEFAULT_SIZE})")
    group.add_argument("--steps", type=_positive_int, default=steps,
                       help=f"training steps (default {steps})")
    group.add_argument("--lr", type=_learning_rate, default=None,
                       help=f"learning rate (default: {lr_help})")
    group.add_argument("--seed", type=int, default=0, help="same seed, same images")
    group.add_argument("--parameterization", default=parameterization,
                       choices=sorted(PARAMETERIZATIONS),
                       help=f"how a dream is held: 'fourier' (natural-looking), 'pixels' "
                            f"(the seed's method), 'bounded' (the pre-images paper's) or "
                            f"'maco' (a natural photos' magnitude spectrum, phase only; "
                            f"use with --transforms maco); default {parameterization}")
    group.add_argument("--spectrum", default=None, metavar="DIR",
                       help="with --parameterization maco: a folder of photos whose mean "
                            "spectrum to use (default: the shipped one of skimage's colour "
                            "photos; a greyscale network needs one)")
    group.add_argument("--transforms", default=transforms, choices=list(TRANSFORM_CHOICES),
                       help=f"random transforms while training: "
                            f"{'; '.join(f'{k}: {v}' for k, v in TRANSFORM_CHOICES.items())} "
                            f"(default {transforms})")
    group.add_argument("--precision", default=DEFAULT_PRECISION, choices=list(PRECISIONS),
                       help=f"what the network computes in: "
                            f"{'; '.join(f'{k}: {v}' for k, v in PRECISIONS.items())} "
                            f"(default {DEFAULT_PRECISION})")


def _add_gallery_options(parser: argparse.ArgumentParser, out_default: str | None) -> None:
    parser.add_argument("--out", required=out_default is None, default=out_default,
                        help="output folder for PNGs, grids and metrics.json")
    parser.add_argument("--models-dir", default="models",
                        help="where per-filter dream models go (default: models)")
    parser.add_argument("--format", default="keras", choices=list(MODEL_FORMATS),
                        help="per-filter model file format")
    parser.add_argument("--batch", type=_positive_int, default=DEFAULT_BATCH,
                        help="dreams trained together in one fit (bounds memory)")
    parser.add_argument("--resume", action="store_true",
                        help="train saved dreams further up to --steps instead of anew")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--profile", action="store_true",
                        help="print the seconds of each stage (start-up, load, build, trace, "
                             "train, score, write) at the end")
    parser.add_argument("--activation", default=DEFAULT_ACTIVATION, choices=list(ACTIVATIONS),
                        help="what a ReLU layer's objective reads: " + "; ".join(
                            f"{k}: {v}" for k, v in ACTIVATIONS.items())
                        + f" (default {DEFAULT_ACTIVATION})")
    parser.add_argument("--selectivity", type=_non_negative, default=DEFAULT_SELECTIVITY,
                        help=f"with --objective channel, on layers of total stride >= "
                             f"{SELECTIVE_STRIDE} px: how much of the other channels' soft "
                             f"maximum to subtract, so a dream excites its own filter most "
                             f"(0: the plain channel mean; default {DEFAULT_SELECTIVITY:g})")
    parser.add_argument("--objective", default="channel", choices=sorted(OBJECTIVES),
                        help="maximize a filter's mean ('channel') or its centre cell")
    parser.add_argument("--strategy", default="default", type=_strategy_name,
                        metavar="{" + ",".join(STRATEGIES) + "}",
                        help="tf.distribute strategy: split each batch of dreams across "
                             "the devices of one host ('mirrored'); for several hosts use "
                             "--cluster")
    parser.add_argument("--cluster", default=None, type=_cluster, metavar="ADDRESS",
                        help="train each chunk of filters as a task on a Dask cluster: a "
                             "scheduler address (tcp://host:8786) or local:N (N worker "
                             "processes on this machine); every worker must reach --out and "
                             "--models-dir (pip install 'kerasdream[cluster]')")
    parser.add_argument("--examples", default=None, metavar="DIR",
                        help="a folder of JPEG/PNG photos (nested folders too): show each "
                             "filter's top 9 with a heat map of where it fired, and write "
                             "the browsable site (index.html, atlas.json)")
    parser.add_argument("--cpu-devices", type=_positive_int, default=None,
                        help="present the CPU as this many logical devices (for 'mirrored' "
                             "on a machine with no GPU)")


def _strategy_name(text: str) -> str:
    if text == "multiworker":
        raise argparse.ArgumentTypeError(
            "'multiworker' was removed: Keras 3's fit fails under MultiWorkerMirroredStrategy "
            "(keras-team/keras#20585, tensorflow/tensorflow#72388); to train on several "
            "hosts use --cluster ADDRESS (a Dask scheduler) instead")
    if text not in STRATEGIES:
        raise argparse.ArgumentTypeError(
            f"expected one of {list(STRATEGIES)}, got {text!r}")
    return text


def _cluster(text: str) -> str:
    from kerasdream.cluster import parse_cluster

    try:
        parse_cluster(text)
    except DreamError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line on stderr and exit status 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kerasdream",
        description="Dreams of a Keras CNN: images its filters respond to most.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    layers = commands.add_parser("layers", help="list layers, shapes and channel counts")
    _add_model_options(layers)

    filters = commands.add_parser("filters", help="dreams of chosen filters of chosen layers")
    _add_model_options(filters)
    filters.add_argument("--layer", action="append", required=True,
                         help="layer to dream (repeat for several)")
    filters.add_argument("--filters", default=f"0-{DEFAULT_FILTERS - 1}",
                         help=f"filter indices: '0-15', '3,5,9' or 'all' "
                              f"(default 0-{DEFAULT_FILTERS - 1})")
    _add_dream_options(filters)
    _add_gallery_options(filters, out_default=None)

    gallery = commands.add_parser(
        "gallery", help="a shallow, a middle and a deep layer, 16 filters each")
    _add_model_options(gallery)
    gallery.add_argument("--layer", action="append", default=None,
                         help="override the automatic layer choice (repeatable)")
    gallery.add_argument("--filters", default=None, help="filter indices (default: 0-15)")
    _add_dream_options(gallery)
    _add_gallery_options(gallery, out_default="gallery")

    atlas = commands.add_parser(
        "atlas", help="every filter of every dreamable layer, with an index.html")
    _add_model_options(atlas)
    atlas.add_argument("--layer", action="append", default=None,
                       help="only these layers (repeatable; default: every dreamable layer); "
                            "layers of earlier runs into --out stay in the site")
    _add_dream_options(atlas)
    _add_gallery_options(atlas, out_default="atlas")
    atlas.set_defaults(size=(64, 64), steps=100)

    for name, what in (("invert", "reconstruct a photo from a layer's features"),
                       ("caricature", "exaggerate what a layer sees in a photo")):
        sub = commands.add_parser(name, help=what)
        _add_model_options(sub)
        sub.add_argument("--layer", required=True)
        sub.add_argument("--image", required=True, help="a PNG or JPEG photo")
        sub.add_argument("--out", required=True)
        sub.add_argument("--weight", type=_learning_rate, default=None,
                         help=f"C, the data term's weight against the priors (paper: 1-300; "
                              f"default {DEFAULT_WEIGHTS['invert']:g} to invert, "
                              f"{DEFAULT_WEIGHTS['caricature']:g} for a caricature)")
        _add_dream_options(sub, **PREIMAGE_DEFAULTS,
                           lr_help=f"{DEFAULT_PREIMAGE_LEARNING_RATE:g} for Adam, a tenth of "
                                   f"it for the last sixth of the steps")
        sub.add_argument("--quiet", action="store_true")

    _add_accentuate_parser(commands)
    evolve = commands.add_parser(
        "evolve", help="the same filters dreamed on every checkpoint of a training run")
    evolve.add_argument("--model", required=True,
                        help="checkpoint files: a quoted glob such as 'ckpt/epoch_*.keras' "
                             "(naturally sorted: epoch_2 before epoch_10)")
    evolve.add_argument("--layer", required=True, help="layer to dream")
    evolve.add_argument("--filters", default="0-7",
                        help="filter indices: '0-7', '3,5,9' or 'all' (default 0-7)")
    evolve.add_argument("--out", required=True,
                        help="folder for filter_<k>.png strips, filter_<k>.gif, grid.gif "
                             "and checkpoint_<i>.png")
    _add_dream_options(evolve)
    evolve.set_defaults(size=None)
    for action in evolve._actions:
        if action.dest == "size":
            action.help = "image size: 32 or HEIGHTxWIDTH (default: the checkpoints' input size)"
    evolve.add_argument("--quiet", action="store_true", help="no line per checkpoint")
    return parser


def _add_accentuate_parser(commands) -> None:
    from kerasdream.accentuate import ACCENTUATE_DEFAULTS, DEFAULT_STRENGTH, DEFAULT_WEIGHTS

    sub = commands.add_parser(
        "accentuate", help="push filters up in a photo, staying close to it (one PNG a filter)")
    _add_model_options(sub)
    sub.add_argument("--image", required=True, help="a PNG or JPEG photo")
    sub.add_argument("--layer", required=True)
    sub.add_argument("--filters", default="0-3", help="filter indices: '0-3', '3,5,9' or 'all'")
    sub.add_argument("--out", default=None,
                     help="folder for the pictures (default: beside the photo)")
    sub.add_argument("--strength", type=_non_negative, default=DEFAULT_STRENGTH,
                     help=f"weight of the filter (0 gives the photo back; "
                          f"default {DEFAULT_STRENGTH:g})")
    sub.add_argument("--distance", default="pixels",
                     help="stay close in 'pixels' (default) or in the features of this layer")
    sub.add_argument("--weight", type=_non_negative, default=None,
                     help=f"weight of the distance (default {DEFAULT_WEIGHTS['pixels']:g} in "
                          f"pixels, {DEFAULT_WEIGHTS['features']:g} in features)")
    _add_dream_options(sub, **ACCENTUATE_DEFAULTS)
    sub.add_argument("--quiet", action="store_true")


def _spec(args):
    from kerasdream.bases import BaseSpec

    weights = None if str(args.weights).lower() == "none" else args.weights
    return BaseSpec(args.model, args.alpha, weights, args.preprocess)


def _settings(args):
    from kerasdream.gallery import DreamSettings

    return DreamSettings(size=list(args.size), steps=args.steps, learning_rate=args.lr,
                         seed=args.seed, parameterization=args.parameterization,
                         transforms=args.transforms, objective=args.objective,
                         activation=args.activation, selectivity=args.selectivity,
                         spectrum=os.path.abspath(args.spectrum) if args.spectrum else None,
                         precision=args.precision)


def _cmd_layers(args) -> None:
    from kerasdream.bases import list_layers, load_base

    spec = _spec(args)
    base = load_base(spec)
    print(f"{spec.describe()}: {len(base.layers)} layers "
          f"(* = dreamable: (batch, height, width, channels) output)")
    for info in list_layers(base):
        shape = "(" + ", ".join("None" if d is None else str(d) for d in info.output_shape) + ")"
        mark = "*" if info.dreamable else " "
        channels = "" if info.channels is None else str(info.channels)
        print(f"{mark} {info.path:<32} {info.class_name:<22} {shape:<26} {channels:>6}")


def _strategy(args):
    from kerasdream import distribute

    if args.cpu_devices:
        distribute.split_cpu(args.cpu_devices)
    return distribute.get_strategy(args.strategy)


def _profiled(command):
    """Run `command(args)`; with `--profile`, print where its seconds went."""
    def run(args) -> None:
        from kerasdream import profiling

        profiling.reset()
        profiling.mark_start_up()
        import time

        began = time.perf_counter()
        command(args)
        if getattr(args, "profile", False):
            start_up = profiling.seconds().get("start-up", 0.0)
            print(profiling.report(total=start_up + time.perf_counter() - began))

    return run


def _run_on_cluster(args, spec, layers, filters, index: bool = False):
    from kerasdream import cluster

    if args.cpu_devices:
        raise DreamError(f"--cpu-devices splits this process' CPU and cannot reach a "
                         f"cluster's workers; drop it with --cluster. Received: "
                         f"cpu_devices={args.cpu_devices}, cluster={args.cluster!r}")
    return cluster.run_gallery(
        spec, layers, filters, _settings(args), cluster=args.cluster,
        out_dir=args.out, models_dir=args.models_dir, model_format=args.format,
        batch=args.batch, resume=args.resume, quiet=args.quiet, strategy=args.strategy,
        index=index,
    )


def _cmd_gallery(args) -> None:
    from kerasdream.gallery import run_gallery

    spec = _spec(args)
    _check_examples(args)
    if args.cluster:
        results = _run_on_cluster(args, spec, args.layer, args.filters)
        strategy = None
    else:
        strategy = _strategy(args)
        results = run_gallery(
            spec, args.layer, args.filters, _settings(args),
            out_dir=args.out, models_dir=args.models_dir, model_format=args.format,
            batch=args.batch, resume=args.resume, quiet=args.quiet, strategy=strategy,
        )
    if args.examples:
        _examples_and_site(args, spec, results, strategy)
    print(f"Wrote {os.path.abspath(args.out)}")


def _check_examples(args) -> None:
    """An empty or missing --examples folder fails before any dream trains."""
    if args.examples:
        from kerasdream.examples import find_images

        find_images(args.examples)


def _examples_and_site(args, spec, results, strategy) -> str | None:
    """Dataset examples for the dreamed filters (with --examples), then the site."""
    from kerasdream import distribute
    from kerasdream.site import write_site

    if not distribute.is_chief(strategy):
        return None
    if args.examples:
        from kerasdream.examples import layer_examples

        layer_examples(spec, {layer: [r.filter for r in rs] for layer, rs in results.items()},
                       args.examples, args.out, size=args.size, quiet=args.quiet)
    return write_site(args.out, spec, list(results))


def _cmd_atlas(args) -> None:
    from kerasdream.bases import load_base
    from kerasdream.gallery import atlas_layers, run_gallery

    spec = _spec(args)
    _check_examples(args)
    if args.cluster:
        from kerasdream.cluster import driver_off_gpus

        driver_off_gpus()  # before the network is loaded: the GPUs are the workers'
        layers = args.layer or atlas_layers(load_base(spec))
        results = _run_on_cluster(args, spec, layers, "all", index=True)
        strategy = None
    else:
        strategy = _strategy(args)
        layers = args.layer or atlas_layers(load_base(spec))
        results = run_gallery(
            spec, layers, "all", _settings(args),
            out_dir=args.out, models_dir=args.models_dir, model_format=args.format,
            batch=args.batch, resume=args.resume, quiet=args.quiet, strategy=strategy,
        )
    index = _examples_and_site(args, spec, results, strategy)
    if index:
        print(f"Wrote {index}")


def _cmd_preimage(args) -> None:
    from kerasdream.preimages import run_preimage

    _no_spectrum(args)

    run_preimage(args.command, _spec(args), args.layer, args.image, args.out,
                 size=args.size, steps=args.steps, learning_rate=args.lr, seed=args.seed,
                 parameterization=args.parameterization, transforms=args.transforms,
                 weight=args.weight, quiet=args.quiet, precision=args.precision)


def _no_spectrum(args) -> None:
    if args.spectrum:
        raise DreamError(f"{args.command} starts from the photo; --spectrum is for the dreams "
                         f"of filters, gallery and atlas. Received: spectrum={args.spectrum!r}")


def _cmd_accentuate(args) -> None:
    from kerasdream.accentuate import run_accentuate

    _no_spectrum(args)
    run_accentuate(_spec(args), args.image, args.layer, args.filters, out_dir=args.out,
                   size=args.size, steps=args.steps, learning_rate=args.lr, seed=args.seed,
                   parameterization=args.parameterization, transforms=args.transforms,
                   strength=args.strength, distance=args.distance, weight=args.weight,
                   quiet=args.quiet)


def _cmd_evolve(args) -> None:
    from kerasdream.evolve import evolve
    from kerasdream.gallery import DreamSettings

    settings = DreamSettings(size=None if args.size is None else list(args.size),
                             steps=args.steps, learning_rate=args.lr, seed=args.seed,
                             parameterization=args.parameterization, transforms=args.transforms,
                             spectrum=os.path.abspath(args.spectrum) if args.spectrum else None)
    series = evolve(args.model, args.layer, args.filters, args.out, settings,
                    log=None if args.quiet else print)
    print(f"Wrote {len(series.labels)} filters x {len(series)} checkpoints to "
          f"{os.path.abspath(args.out)}")


COMMANDS = {
    "layers": _cmd_layers,
    "filters": _profiled(_cmd_gallery),
    "gallery": _profiled(_cmd_gallery),
    "atlas": _profiled(_cmd_atlas),
    "invert": _cmd_preimage,
    "caricature": _cmd_preimage,
    "accentuate": _cmd_accentuate,
    "evolve": _cmd_evolve,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except DreamError as error:
        print(f"kerasdream {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nInterrupted. Finished dreams are saved; run the same command again "
              "to finish the rest.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
