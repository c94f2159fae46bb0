"""The defaults and choices the command line offers, with no keras import.

`kerasdream --help` and a bad option answer from these alone, in a fraction
of a second, without starting TensorFlow. The modules that use them import
them from here (and re-export them under their old names).
"""

DEFAULT_MODEL = "mobilenet"
PREPROCESS_MODES = ("tf", "caffe", "torch", "unit", "none")
# The two input ranges models are most often trained on, by their plain names,
# and the mode that feeds each (pixels are 0..255 before preprocessing).
PREPROCESS_RANGES = {"[0,1]": "unit", "[-1,1]": "tf"}
PREPROCESS_CHOICES = (*PREPROCESS_MODES, *PREPROCESS_RANGES)
STRATEGIES = ("default", "mirrored")
MODEL_FORMATS = ("keras", "h5")

PRECISIONS = {
    "auto": "bfloat16 where it measured faster: large networks on AMX / AVX-512 bf16 "
            "CPUs and on GPUs of compute capability 8 or newer; float32 elsewhere",
    "float32": "full precision everywhere",
    "bfloat16": "the network in bfloat16 (kernel, update and objective in float32)",
    "float16": "the network in float16 (for GPUs; no loss scaling)",
}
DEFAULT_PRECISION = "auto"

DEFAULT_SIZE = 128  # for a network that takes any size; a fixed-size one gets its own
DEFAULT_STEPS = 200
DEFAULT_LEARNING_RATE = 0.05
DEFAULT_PARAMETERIZATION = "fourier"
PARAMETERIZATION_NAMES = ("bounded", "fourier", "maco", "pixels")
DEFAULT_TRANSFORMS = "light"
TRANSFORM_CHOICES = {
    "light": "jitter 4, scale 0.9-1.1, rotate up to 8 degrees, jitter 2",
    "lucid": "Lucid's pad 12, jitter 8, scale 0.9-1.1, rotate up to 10 degrees, jitter 4",
    "jitter": "the pre-images paper's jitter for the layer's stride",
    "maco": "MACO's random crop of 60 to 100 percent of each side, then noise of 10 grey levels",
    "none": "no transforms",
}

DEFAULT_BATCH = 16
# The natural reference's key when it is the skimage.data photos
# (`photo_folder.SKIMAGE`); records written before references had keys used them.
SKIMAGE_REFERENCE = "skimage"
DEFAULT_FILTERS = 16
# Objective names and their classes in `kerasdream.objectives.terms`.
OBJECTIVE_CLASSES = {"channel": "Channel", "neuron": "Neuron"}
OBJECTIVE_NAMES = tuple(OBJECTIVE_CLASSES)
ACTIVATIONS = {
    "pre": "a ReLU layer's value before its gate and cap (Lucid's _pre_relu)",
    "post": "the layer's output as it is",
}
DEFAULT_ACTIVATION = "pre"
# How much of the other channels' soft maximum a channel dream subtracts
# (`Rivals`): measured by `benchmarks/quality.py`; 0 is the plain channel.
DEFAULT_SELECTIVITY = 2.0
# What a dream gets by depth, read by the layer's total stride (input pixels
# between neighbouring units, `network.layers.layer_stride`): each row holds
# from its stride on, (stride, share of the selectivity, learning rate of the
# default Adam). Early-middle layers (stride 8) need a larger step and half
# the Rivals weight to lift a filter above the channels that sit high on
# every photo; shallower ones (colour and edge detectors) keep the plain
# channel, where Rivals gained one filter of 16 and cost naturalness
# (`benchmarks/quality.py`, docs/quality.md).
DEPTH_DEFAULTS = (
    (1, 0.0, DEFAULT_LEARNING_RATE),
    (8, 0.5, 0.1),
    (16, 1.0, DEFAULT_LEARNING_RATE),
)


def depth_defaults(stride: int) -> tuple[float, float]:
    """`(share of the selectivity, learning rate)` for a layer of total `stride` pixels."""
    row = [r for r in DEPTH_DEFAULTS if stride >= r[0]] or [DEPTH_DEFAULTS[0]]
    return row[-1][1], row[-1][2]

# Pre-images: the data term's weight C against the paper's priors (weight 1).
# The paper tries C in 1..300 with its SGD; with Adam, C = 1e4 reconstructs to
# a relative error of 0.04-0.05 at 128 px while the priors still smooth the
# image (without them it speckles), and 1e3 keeps a caricature recognisable.
DEFAULT_WEIGHTS = {"invert": 1e4, "caricature": 1e3}
# What pre-images train with unless told otherwise: Fourier, no jitter (the
# error is measured on the unjittered image, and jitter doubles it).
PREIMAGE_DEFAULTS = {"steps": 300, "parameterization": "fourier", "transforms": "none"}
DEFAULT_PREIMAGE_LEARNING_RATE = 0.15

# Limits that turn absurd values into one clear line instead of a hang, an
# overflow or an allocation of many GiB.
MAX_SEED = 2**32 - 1  # numpy's and the transforms' seed range
MAX_STEPS = 10_000_000
MAX_CPU_DEVICES = 256
FLOAT32_MAX = 3.4028234663852886e38

# Feature accentuation (`kerasdream accentuate`).
DEFAULT_STRENGTH = 1.0
ACCENTUATE_WEIGHTS = {"pixels": 30.0, "features": 3.0}
ACCENTUATE_DEFAULTS = {"steps": 100, "parameterization": "fourier", "transforms": "light"}
