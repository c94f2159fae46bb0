"""The `kerasdream` command line: layers, filters, gallery, invert, caricature.

Bad options exit with status 2 and one line naming the bad value and what
would be valid; a run that could not finish (disk full, every dream failed)
exits with 1 and one line; Ctrl-C or SIGTERM exits with 130 or 143, and the
run can be finished by running the same command again.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import sys
import threading
from collections.abc import Sequence

# Only light modules here: `--help` and a bad option must answer without
# importing TensorFlow. The commands import what they need when they run.
from kerasdream.runs import signals
from kerasdream.defaults import (
    ACTIVATIONS,
    DEFAULT_ACTIVATION,
    DEFAULT_BATCH,
    DEFAULT_FILTERS,
    DEFAULT_MODEL,
    DEFAULT_PARAMETERIZATION,
    DEFAULT_PRECISION,
    DEFAULT_PREIMAGE_LEARNING_RATE,
    DEFAULT_SELECTIVITY,
    DEFAULT_SIZE,
    DEFAULT_STEPS,
    DEFAULT_TRANSFORMS,
    DEFAULT_WEIGHTS,
    FLOAT32_MAX,
    MAX_CPU_DEVICES,
    MAX_SEED,
    MAX_STEPS,
    MODEL_FORMATS,
    OBJECTIVE_NAMES,
    PARAMETERIZATION_NAMES,
    PRECISIONS,
    PREIMAGE_DEFAULTS,
    PREPROCESS_MODES,
    SELECTIVE_STRIDE,
    STRATEGIES,
    TRANSFORM_CHOICES,
)
from kerasdream.errors import DreamError, RunFailed
from kerasdream.cli import activation_atlas

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _positive_int(text: str, limit: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if limit is not None and value > limit:
        raise argparse.ArgumentTypeError(f"expected a positive integer up to {limit}, "
                                         f"got {text!r}")
    return value


def _at_most(limit: int):
    def parse(text: str) -> int:
        return _positive_int(text, limit)

    parse.__name__ = "positive integer"
    return parse


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"expected a seed from 0 to {MAX_SEED} (2**32 - 1), got {text!r}")
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
    if not math.isfinite(value) or value <= 0 or value > FLOAT32_MAX:
        raise argparse.ArgumentTypeError(
            f"expected a positive finite number (at most float32's {FLOAT32_MAX:.4g}), "
            f"got {text!r}")
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
    group.add_argument("--steps", type=_at_most(MAX_STEPS), default=steps,
                       help=f"training steps (default {steps})")
    group.add_argument("--lr", type=_learning_rate, default=None,
                       help=f"learning rate (default: {lr_help})")
    group.add_argument("--seed", type=_seed, default=0, help="same seed, same images")
    group.add_argument("--parameterization", default=parameterization,
                       choices=list(PARAMETERIZATION_NAMES),
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
    parser.add_argument("--overwrite", action="store_true",
                        help="retrain dreams that do not match this command, even longer "
                             "ones, instead of keeping them or refusing to resume them")
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
    parser.add_argument("--objective", default="channel", choices=list(OBJECTIVE_NAMES),
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
    parser.add_argument("--cpu-devices", type=_at_most(MAX_CPU_DEVICES), default=None,
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
    from kerasdream.runs.cluster import parse_cluster

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
    activation_atlas.add_parser(commands)
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
    from kerasdream.defaults import ACCENTUATE_DEFAULTS, DEFAULT_STRENGTH
    from kerasdream.defaults import ACCENTUATE_WEIGHTS as DEFAULT_WEIGHTS

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
    from kerasdream.network.bases import BaseSpec

    weights = None if str(args.weights).lower() == "none" else args.weights
    return BaseSpec(args.model, args.alpha, weights, args.preprocess)


def _settings(args):
    from kerasdream.runs.gallery import DreamSettings

    return DreamSettings(size=list(args.size), steps=args.steps, learning_rate=args.lr,
                         seed=args.seed, parameterization=args.parameterization,
                         transforms=args.transforms, objective=args.objective,
                         activation=args.activation, selectivity=args.selectivity,
                         spectrum=os.path.abspath(args.spectrum) if args.spectrum else None,
                         precision=args.precision)


def _cmd_layers(args) -> None:
    from kerasdream.network.bases import list_layers, load_base

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
    from kerasdream.network import distribute

    if args.cpu_devices:
        distribute.split_cpu(args.cpu_devices)
    return distribute.get_strategy(args.strategy)


def _check_results(results, args) -> None:
    """A run in which not one dream finished is a failure (exit 1), named."""
    from kerasdream.runs.gallery import all_failed

    if all_failed(results):
        count = sum(len(r) for r in results.values())
        lr = "the default" if args.lr is None else f"{args.lr:g}"
        raise RunFailed(f"Every dream failed ({count} of {count}; see the lines above): "
                        f"try a smaller learning rate. Received: lr={lr}")


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
    from kerasdream.runs import cluster

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
    from kerasdream.runs.gallery import run_gallery

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
            batch=args.batch, resume=args.resume, overwrite=args.overwrite, quiet=args.quiet,
            strategy=strategy,
        )
    _check_results(results, args)
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
    from kerasdream.network import distribute
    from kerasdream.site.build import write_site

    if not distribute.is_chief(strategy):
        return None
    if args.examples:
        from kerasdream.examples import layer_examples

        layer_examples(spec, {layer: [r.filter for r in rs] for layer, rs in results.items()},
                       args.examples, args.out, size=args.size, quiet=args.quiet)
    return write_site(args.out, spec, list(results))


def _cmd_atlas(args) -> None:
    from kerasdream.network.bases import load_base
    from kerasdream.runs.gallery import atlas_layers, run_gallery

    spec = _spec(args)
    _check_examples(args)
    if args.cluster:
        from kerasdream.runs.cluster import driver_off_gpus

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
            batch=args.batch, resume=args.resume, overwrite=args.overwrite, quiet=args.quiet,
            strategy=strategy,
        )
    _check_results(results, args)
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
    from kerasdream.runs.gallery import DreamSettings

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
    "activation-atlas": activation_atlas.run,
}


def _without_native_logs(text: str) -> str:
    """`text` minus TensorFlow's and absl's C++ start-up log lines."""
    native = re.compile(r"^([IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\]|"
                        r"WARNING: All log messages before absl::InitializeLog)")
    return "".join(line for line in text.splitlines(keepends=True) if not native.match(line))


def _import_quietly() -> None:
    """Import TensorFlow and Keras with their C++ start-up lines kept off stderr.

    The native libraries write to file descriptor 2 directly, before any
    setting of theirs can silence them, so fd 2 goes to a file meanwhile;
    whatever else was written there is passed on.
    """
    if "keras" in sys.modules:
        return
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            try:
                import tensorflow as tf
            except ImportError:
                pass
            else:
                tf.config.list_physical_devices()  # CUDA's probe logs too
            import keras  # noqa: F401
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            rest = _without_native_logs(capture.read().decode("utf-8", "replace"))
            if rest:
                sys.stderr.write(rest)


class _NoRetracingWarning(logging.Filter):
    """Drops TensorFlow's "N out of the last M calls to <function ...>
    triggered tf.function retracing" warning.

    A gallery or atlas traces one training function and one scoring
    function per layer, by design (each layer is another network). TensorFlow
    counts those traces across layers, because it keys them on the Python
    code object, so from the fifth layer on it warned about retracing that
    is not happening.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def _quiet_retracing_warnings() -> None:
    """Install `_NoRetracingWarning` on TensorFlow's logger, once."""
    if "tensorflow" not in sys.modules:
        return
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _NoRetracingWarning) for f in logger.filters):
        logger.addFilter(_NoRetracingWarning())


def _interrupted_line(stop: signals.Interrupted) -> str:
    name = signal_name(stop.signum)
    if stop.saved:
        return (f"Interrupted by {name}: the {stop.saved} dream{'s' * (stop.saved != 1)} "
                f"finished in this run {'are' if stop.saved != 1 else 'is'} saved; run the "
                f"same command again to finish the rest.")
    if stop.saved == 0:
        return (f"Interrupted by {name} before this run finished a dream; nothing of it was "
                f"saved. Run the same command again to start it.")
    return (f"Interrupted by {name} before anything was written; run the same command "
            f"again.")


def signal_name(signum: int) -> str:
    import signal

    return signal.Signals(signum).name


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command: 0 done, 1 the run failed, 2 bad input, 128 + signal if stopped."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        signals.install()
    try:
        args = build_parser().parse_args(argv)
        try:
            _import_quietly()
            _quiet_retracing_warnings()
            status = COMMANDS[args.command](args)
        except RunFailed as error:
            print(f"kerasdream {args.command}: error: {error}", file=sys.stderr)
            return EXIT_FAILED
        except DreamError as error:
            print(f"kerasdream {args.command}: error: {error}", file=sys.stderr)
            return EXIT_USAGE
        return status or 0
    except signals.Interrupted as stop:
        print(f"\n{_interrupted_line(stop)}", file=sys.stderr)
        return stop.exit_status
    except KeyboardInterrupt:
        print("\nInterrupted; run the same command again to finish.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if in_main_thread:
            signals.restore()


if __name__ == "__main__":
    sys.exit(main())
