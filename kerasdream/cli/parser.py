"""The `kerasdream` argument parser: commands, options, their types and defaults.

No Keras, TensorFlow or numpy here, nor in what this imports: `--help` and a
bad option answer in a fraction of a second. Each option's default is set
where the option is added and `--help` prints it from there (`%(default)s`),
so the default shown is the one that runs. The argument types check values
with `kerasdream.validation`, the functions the Python API calls, so a bad
value gets the same words on the command line and in Python.
"""

from __future__ import annotations

import argparse

from kerasdream.defaults import (
    ACCENTUATE_DEFAULTS,
    ACCENTUATE_WEIGHTS,
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
    DEFAULT_STRENGTH,
    DEFAULT_TRANSFORMS,
    DEFAULT_WEIGHTS,
    DEPTH_DEFAULTS,
    MAX_CPU_DEVICES,
    MAX_STEPS,
    MODEL_FORMATS,
    OBJECTIVE_NAMES,
    PARAMETERIZATION_NAMES,
    PRECISIONS,
    PREIMAGE_DEFAULTS,
    PREPROCESS_CHOICES,
    STRATEGIES,
    TRANSFORM_CHOICES,
)
from kerasdream.errors import DreamError
from kerasdream.cli import activation_atlas
from kerasdream.validation import (
    argument_type,
    check_learning_rate,
    check_non_negative,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_size,
    to_float,
    to_int,
    to_size,
)

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# The atlas dreams every filter of every layer: smaller and shorter by default.
ATLAS_SIZE = 64
ATLAS_STEPS = 100


# ------------------------------------------------------------ argument types


def _positive_int(name: str, limit: int | None = None):
    """The type of an option that takes a positive integer (up to `limit`)."""
    return argument_type(to_int, lambda value: check_positive_int(name, value, limit),
                         "positive integer")


def _non_negative(name: str, what: str | None = None):
    """The type of an option that takes a finite number >= 0."""
    return argument_type(to_float, lambda value: check_non_negative(name, value, what),
                         "number >= 0")


def _positive_number(name: str):
    """The type of an option that takes a positive finite number."""
    return argument_type(to_float, lambda value: check_positive_number(name, value),
                         "positive number")


_seed = argument_type(to_int, check_seed, "seed")
_size = argument_type(to_size, check_size, "size")  # '128' or '96x128' (height x width)
_learning_rate = argument_type(to_float, check_learning_rate, "learning rate")


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


# ------------------------------------------------------------ option groups


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("network")
    group.add_argument("--model", default=DEFAULT_MODEL,
                       help="a keras.applications name (vgg16, resnet50, mobilenet, ...) or a "
                            "path to a .keras/.h5 model (default: %(default)s, whose alpha=0.25 "
                            "ImageNet weights ship with kerasdream)")
    group.add_argument("--alpha", type=float, default=None,
                       help="width of MobileNet / MobileNetV2 (default: the application's own, "
                            "0.25 for mobilenet)")
    group.add_argument("--weights", default="imagenet",
                       help="'imagenet', 'none' (random) or a local weights file "
                            "(default: %(default)s)")
    group.add_argument("--preprocess", default=None,
                       choices=list(PREPROCESS_CHOICES),
                       help="the pixel range the model was trained on, '[0,1]' or '[-1,1]' "
                            "(quote them in a shell), or a keras.applications mode: tf, "
                            "caffe, torch, unit, none (default: the network's own; 0..255 "
                            "for a model file, as its Rescaling layers expect)")


# The dream commands' learning rate by depth (`defaults.DEPTH_DEFAULTS`).
DEPTH_LR_HELP = "Adam at " + ", ".join(
    f"{rate:g} from total stride {stride} px" for stride, _, rate in DEPTH_DEFAULTS)


def _add_dream_options(parser: argparse.ArgumentParser, steps: int = DEFAULT_STEPS,
                       parameterization: str = DEFAULT_PARAMETERIZATION,
                       transforms: str = DEFAULT_TRANSFORMS,
                       lr_help: str = "the parameterization's own",
                       size: int = DEFAULT_SIZE, size_help: str | None = None) -> None:
    group = parser.add_argument_group("dreams")
    # None in the namespace: the handler reads the network's own fixed input
    # size (`network.bases.image_shape_for`), else `size`.
    group.add_argument("--size", type=_size, default=None,
                       help=size_help or f"image size: {size} or HEIGHTxWIDTH (default: the "
                                         f"model's input size, else {size})")
    group.add_argument("--steps", type=_positive_int("steps", MAX_STEPS), default=steps,
                       help="training steps (default: %(default)s)")
    group.add_argument("--lr", type=_learning_rate, default=None,
                       help=f"learning rate (default: {lr_help})")
    group.add_argument("--seed", type=_seed, default=0,
                       help="same seed, same images (default: %(default)s)")
    group.add_argument("--parameterization", default=parameterization,
                       choices=list(PARAMETERIZATION_NAMES),
                       help="how a dream is held: 'fourier' (natural-looking), 'pixels' "
                            "(the seed's method), 'bounded' (the pre-images paper's) or "
                            "'maco' (a natural photos' magnitude spectrum, phase only; "
                            "use with --transforms maco) (default: %(default)s)")
    group.add_argument("--spectrum", default=None, metavar="DIR",
                       help="with --parameterization maco: a folder of photos whose mean "
                            "spectrum to use (default: the shipped one of skimage's colour "
                            "photos; a greyscale network needs one)")
    group.add_argument("--transforms", default=transforms, choices=list(TRANSFORM_CHOICES),
                       help=f"random transforms while training: "
                            f"{'; '.join(f'{k}: {v}' for k, v in TRANSFORM_CHOICES.items())} "
                            f"(default: %(default)s)")
    group.add_argument("--precision", default=DEFAULT_PRECISION, choices=list(PRECISIONS),
                       help=f"what the network computes in: "
                            f"{'; '.join(f'{k}: {v}' for k, v in PRECISIONS.items())} "
                            f"(default: %(default)s)")


def _add_gallery_options(parser: argparse.ArgumentParser, out_default: str | None,
                         of_filters: bool = True) -> None:
    parser.add_argument("--out", required=out_default is None, default=out_default,
                        help="output folder for PNGs, grids and metrics.json"
                             + ("" if out_default is None else " (default: %(default)s)"))
    parser.add_argument("--models-dir", default="models",
                        help="where per-filter dream models go (default: %(default)s)")
    parser.add_argument("--format", default="keras", choices=list(MODEL_FORMATS),
                        help="per-filter model file format (default: %(default)s)")
    parser.add_argument("--batch", type=_positive_int("batch"), default=DEFAULT_BATCH,
                        help="dreams trained together in one fit (bounds memory; "
                             "default: %(default)s)")
    parser.add_argument("--resume", action="store_true",
                        help="train saved dreams further up to --steps instead of anew")
    parser.add_argument("--overwrite", action="store_true",
                        help="retrain dreams that do not match this command, even longer "
                             "ones, instead of keeping them or refusing to resume them")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--profile", action="store_true",
                        help="print the seconds of each stage (start-up, load, build, trace, "
                             "train, score, write) at the end")
    _add_run_options(parser)
    if of_filters:
        _add_filter_objective_options(parser)


def _add_filter_objective_options(parser: argparse.ArgumentParser) -> None:
    """What a filter's dream maximizes, and the photos shown beside it."""
    parser.add_argument("--activation", default=DEFAULT_ACTIVATION, choices=list(ACTIVATIONS),
                        help="what a ReLU layer's objective reads: " + "; ".join(
                            f"{k}: {v}" for k, v in ACTIVATIONS.items())
                        + " (default: %(default)s)")
    parser.add_argument("--selectivity", type=_non_negative("selectivity"),
                        default=DEFAULT_SELECTIVITY,
                        help=f"with --objective channel: how much of the other channels' "
                             f"soft maximum to subtract on layers of total stride >= "
                             f"{DEPTH_DEFAULTS[-1][0]} px (shallower layers subtract "
                             f"{DEPTH_DEFAULTS[0][1]:g} x it), so a dream excites its own "
                             f"filter most (0: the plain channel mean; default: %(default)s)")
    parser.add_argument("--objective", default="channel", choices=list(OBJECTIVE_NAMES),
                        help="maximize a filter's mean ('channel') or its centre cell "
                             "('neuron') (default: %(default)s)")
    parser.add_argument("--examples", default=None, metavar="DIR",
                        help="a folder of JPEG/PNG photos (nested folders too): show each "
                             "filter's top 9 with a heat map of where it fired, and write "
                             "the browsable site (index.html, atlas.json) (default: none)")


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """Where and how the chunks of a gallery train."""
    parser.add_argument("--strategy", default="default", type=_strategy_name,
                        metavar="{" + ",".join(STRATEGIES) + "}",
                        help="tf.distribute strategy: split each batch of dreams across "
                             "the devices of one host ('mirrored'); for several hosts use "
                             "--cluster (default: %(default)s)")
    parser.add_argument("--cluster", default=None, type=_cluster, metavar="ADDRESS",
                        help="train each chunk of filters as a task on a Dask cluster: a "
                             "scheduler address (tcp://host:8786) or local:N (N worker "
                             "processes on this machine); every worker must reach --out and "
                             "--models-dir (pip install 'kerasdream[cluster]') (default: "
                             "none, train in this process)")
    parser.add_argument("--cpu-devices", type=_positive_int("cpu_devices", MAX_CPU_DEVICES),
                        default=None,
                        help="present the CPU as this many logical devices (for 'mirrored' "
                             "on a machine with no GPU; default: none, the CPU as one)")


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line on stderr and exit status 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


# ------------------------------------------------------------ the commands


def build_parser() -> argparse.ArgumentParser:
    """The `kerasdream` parser with one subparser per command.

    Returns:
        An `argparse.ArgumentParser` whose `parse_args` sets `command`.
    """
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
                         help="filter indices: '0-15', '3,5,9' or 'all' (default: %(default)s)")
    _add_dream_options(filters, lr_help=DEPTH_LR_HELP)
    _add_gallery_options(filters, out_default=None)

    gallery = commands.add_parser(
        "gallery", help="a shallow, a middle and a deep layer, 16 filters each")
    _add_model_options(gallery)
    gallery.add_argument("--layer", action="append", default=None,
                         help="override the automatic layer choice (repeatable; default: a "
                              "shallow, a middle and a deep layer)")
    gallery.add_argument("--filters", default=None,
                         help=f"filter indices (default: the first {DEFAULT_FILTERS}, or every "
                              f"filter of a layer with fewer)")
    _add_dream_options(gallery, lr_help=DEPTH_LR_HELP)
    _add_gallery_options(gallery, out_default="gallery")

    atlas = commands.add_parser(
        "atlas", help="every filter of every dreamable layer, with an index.html")
    _add_model_options(atlas)
    atlas.add_argument("--layer", action="append", default=None,
                       help="only these layers (repeatable; default: every dreamable layer); "
                            "layers of earlier runs into --out stay in the site")
    _add_dream_options(atlas, size=ATLAS_SIZE, steps=ATLAS_STEPS, lr_help=DEPTH_LR_HELP)
    _add_gallery_options(atlas, out_default="atlas")

    classes = commands.add_parser(
        "classes", help="dreams of a classifier's classes, by number or by name")
    _add_model_options(classes)
    classes.add_argument("--classes", default=None,
                         help="class numbers or names: '0-9', '3,5', 'all' or 'tabby, "
                              "goldfish' (default: every class, or the first "
                              f"{DEFAULT_FILTERS} of more)")
    classes.add_argument("--labels", default=None, metavar="FILE",
                         help="the class names: one a line, or JSON (a list, or an object "
                              "from class number to name) (default: ImageNet's for a "
                              "1000-class network, from Keras' cache; else the numbers)")
    classes.add_argument("--layer", default=None,
                         help="the layer of class scores, read before its activation "
                              "(default: the softmax output, found automatically)")
    _add_dream_options(classes)
    _add_gallery_options(classes, out_default="classes", of_filters=False)
    classes.description = ("Dreams of a classifier's classes, read before its softmax; the "
                           "grid, metrics.json and the browsable site (index.html) show the "
                           "class names.")

    for name, what in (("invert", "reconstruct a photo from a layer's features"),
                       ("caricature", "exaggerate what a layer sees in a photo")):
        sub = commands.add_parser(name, help=what)
        _add_model_options(sub)
        sub.add_argument("--layer", required=True)
        sub.add_argument("--image", required=True, help="a PNG or JPEG photo")
        sub.add_argument("--out", required=True)
        sub.add_argument("--weight", type=_positive_number("weight"),
                         default=DEFAULT_WEIGHTS[name],
                         help="C, the data term's weight against the priors (paper: 1-300; "
                              "default: %(default)g)")
        _add_dream_options(sub, **PREIMAGE_DEFAULTS,
                           lr_help=f"Adam at {DEFAULT_PREIMAGE_LEARNING_RATE:g}, a tenth of "
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
                        help="filter indices: '0-7', '3,5,9' or 'all' (default: %(default)s)")
    evolve.add_argument("--out", required=True,
                        help="folder for filter_<k>.png strips, filter_<k>.gif, grid.gif "
                             "and checkpoint_<i>.png")
    _add_dream_options(evolve, lr_help=DEPTH_LR_HELP,
                       size_help="image size: 32 or HEIGHTxWIDTH (default: the checkpoints' "
                                 "input size, else 128)")
    evolve.add_argument("--quiet", action="store_true", help="no line per checkpoint")
    return parser


def _add_accentuate_parser(commands) -> None:
    sub = commands.add_parser(
        "accentuate", help="push filters up in a photo, staying close to it (one PNG a filter)")
    _add_model_options(sub)
    sub.add_argument("--image", required=True, help="a PNG or JPEG photo")
    sub.add_argument("--layer", required=True)
    sub.add_argument("--filters", default="0-3",
                     help="filter indices: '0-3', '3,5,9' or 'all' (default: %(default)s)")
    sub.add_argument("--out", default=None,
                     help="folder for the pictures (default: beside the photo)")
    sub.add_argument("--strength", type=_non_negative("strength"), default=DEFAULT_STRENGTH,
                     help="weight of the filter (0 gives the photo back; default: %(default)s)")
    sub.add_argument("--distance", default="pixels",
                     help="stay close in 'pixels' or in the features of this layer "
                          "(default: %(default)s)")
    sub.add_argument("--weight", type=_non_negative("weight", "The distance weight"),
                     default=None,
                     help=f"weight of the distance (default: by --distance, "
                          f"{ACCENTUATE_WEIGHTS['pixels']:g} in pixels and "
                          f"{ACCENTUATE_WEIGHTS['features']:g} in features)")
    _add_dream_options(sub, **ACCENTUATE_DEFAULTS)
    sub.add_argument("--quiet", action="store_true")
