"""kerasdream: see what a convolutional network has learned by training dreams.

A trainable Dense layer on a one-hot input holds one image per kernel row;
`DreamModel` feeds those images through a Keras CNN it never changes, and
its `fit` maximizes an objective: feature visualization, many filters at once.
"""

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kerasdream.bases import BaseSpec, list_layers, load_base  # noqa: E402
from kerasdream.callbacks import DreamProgress, NonFiniteError  # noqa: E402
from kerasdream.dream_callback import DreamCallback  # noqa: E402
from kerasdream.generator import DreamGenerator  # noqa: E402
from kerasdream.model import (  # noqa: E402
    DreamModel,
    build_dream_model,
    generator_of,
    rebuild,
    render,
    train,
    visualize,
)
from kerasdream.errors import DreamError  # noqa: E402
from kerasdream.directions import Direction, NeuronDirection  # noqa: E402
from kerasdream.accentuate import accentuate  # noqa: E402
from kerasdream.objectives import (  # noqa: E402
    Caricature,
    Channel,
    ClassLogit,
    DeepDream,
    Diversity,
    Inversion,
    Neuron,
    Objective,
    Rivals,
)
from kerasdream.priors import AlphaNorm, TotalVariation  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "AlphaNorm", "BaseSpec", "Caricature", "Channel", "ClassLogit", "DeepDream",
    "Diversity", "DreamCallback", "DreamError", "DreamGenerator", "DreamModel", "DreamProgress", "Inversion",
    "Neuron", "NonFiniteError", "Objective", "Rivals",
    "TotalVariation", "build_dream_model", "visualize", "generator_of", "list_layers",
    "load_base", "rebuild", "render", "train",
    "Direction", "NeuronDirection", "accentuate",
]
