"""What a dream maximizes: terms that compose with `+`, `-`, `*`, photo terms, directions, priors."""

from kerasdream.objectives.terms import (
    IMAGE,
    PRE,
    Caricature,
    Channel,
    ClassLogit,
    DeepDream,
    Diversity,
    Inversion,
    Neuron,
    Objective,
    Rivals,
    Term,
    get,
)
from kerasdream.objectives.priors import AlphaNorm, TotalVariation
from kerasdream.objectives.directions import Direction, NeuronDirection, mean_direction

__all__ = [
    "IMAGE", "PRE", "AlphaNorm", "Caricature", "Channel", "ClassLogit", "DeepDream", "Direction",
    "Diversity", "Inversion", "Neuron", "NeuronDirection", "Objective", "Rivals", "Term",
    "TotalVariation", "get", "mean_direction",
]
