"""kerasdream: see what a convolutional network has learned by training dreams.

A trainable Dense layer on a one-hot input holds one image per kernel row;
`DreamModel` feeds those images through a Keras CNN it never changes, and
its `fit` maximizes an objective: feature visualization, many filters at once.

The names below are imported on first use (PEP 562), so `import kerasdream`
and the command line's start-up do not load Keras and TensorFlow until a
name that needs them is asked for.
"""

import importlib as _importlib
import importlib.util  # noqa: F401  (for _importlib.util)
import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kerasdream.errors import DreamError  # noqa: E402

__version__ = "0.1.0"

# name -> the module that defines it
_LAZY = {
    "BaseSpec": "network.bases", "list_layers": "network.bases", "load_base": "network.bases",
    "DreamProgress": "callbacks", "NonFiniteError": "callbacks",
    "DreamGenerator": "generator",
    "DreamModel": "model",
    "class_indices": "network.classes", "class_layer": "network.classes",
    "class_names": "network.classes",
    "generator_of": "shortcuts", "rebuild": "shortcuts", "render": "shortcuts",
    "train": "shortcuts", "visualize": "shortcuts",
    "Objective": "objectives.base",
    "Channel": "objectives.terms", "ClassLogit": "objectives.terms",
    "DeepDream": "objectives.terms", "Diversity": "objectives.terms",
    "Neuron": "objectives.terms", "Rivals": "objectives.terms",
    "gallery_objective": "objectives.terms",
    "Caricature": "objectives.photo", "Distance": "objectives.photo",
    "Inversion": "objectives.photo",
    "AlphaNorm": "objectives.priors", "TotalVariation": "objectives.priors",
    "DreamCallback": "dream_callback",
    "Direction": "objectives.directions", "NeuronDirection": "objectives.directions",
    "accentuate": "accentuation",
    "load_dream": "saving", "save_dream": "saving",
    "FilterRegularizer": "seed_form", "seed_dream_model": "seed_form",
}

__all__ = sorted([*_LAZY, "DreamError"])


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        if _importlib.util.find_spec(f"kerasdream.{name}") is not None:  # kd.gallery, ...
            return _importlib.import_module(f"kerasdream.{name}")
        raise AttributeError(f"module 'kerasdream' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"kerasdream.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
