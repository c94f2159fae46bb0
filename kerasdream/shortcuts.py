"""Short ways in: build, train and render a dream in a line or three.

    images = kd.visualize(kd.Channel("conv_pw_8_relu", range(16)))

`train` and `render` work on a `DreamModel`; `rebuild` makes one again around
a reloaded generator (`kerasdream.saving.load_dream`).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from kerasdream import objectives as objectives_lib
from kerasdream.defaults import DEFAULT_STEPS, MAX_STEPS
from kerasdream.errors import DreamError
from kerasdream.generator import DreamGenerator
from kerasdream.model import DreamModel
from kerasdream.network.bases import BaseSpec
from kerasdream.objectives.base import Objective
from kerasdream.optimizers import default_optimizer
from kerasdream.validation import check_positive_int


def rebuild(generator: DreamGenerator) -> DreamModel:
    """The full trainable dream model around a (reloaded) generator.

    Args:
        generator: a `DreamGenerator` that records its base network by name.

    Returns:
        A `DreamModel` that trains `generator` further.

    Raises:
        DreamError: if the generator was built on an in-memory network.
    """
    spec = generator.spec
    if not spec.get("base"):
        raise DreamError("This generator does not record its base network (it was "
                         "built on an in-memory model), so it cannot be rebuilt.")
    return DreamModel(
        objectives_lib.get(spec["objective"]),
        BaseSpec.from_config(spec["base"]),
        transforms=spec.get("transforms") or None,
        preprocess=spec.get("preprocess"),
        redirect_relu=spec.get("redirect_relu", True),
        seed=generator.seed,
        generator=generator,
    )


def generator_of(model: keras.Model) -> DreamGenerator:
    """The `DreamGenerator` of a dream model (or the generator itself)."""
    return model if isinstance(model, DreamGenerator) else model.generator


def train(model: DreamModel, steps: int = DEFAULT_STEPS, *,
          learning_rate: float | None = None, optimizer=None,
          callbacks: Sequence[keras.callbacks.Callback] = (), verbose: int | str = 0,
          jit_compile: bool | str = "auto",
          steps_per_execution: int | None = None) -> keras.callbacks.History:
    """`model.compile(...)` then `model.fit(steps)`: a fresh optimizer each call.

    Args:
        model: the dream model to train.
        steps: how many steps (at most `MAX_STEPS`).
        learning_rate: for the default optimizer (`default_optimizer`);
            default the objective's depth's (`DreamModel.compile`).
        optimizer: any Keras optimizer instead.
        callbacks, verbose, jit_compile, steps_per_execution: as for
            `DreamModel.compile` and `DreamModel.fit`.

    Returns:
        The `fit` history.

    Raises:
        DreamError: for a bad number of steps or learning rate.
    """
    check_positive_int("steps", steps, MAX_STEPS)
    if optimizer is None and learning_rate is not None:
        optimizer = default_optimizer(learning_rate)
    model.compile(optimizer, steps_per_execution=steps_per_execution, jit_compile=jit_compile)
    return model.fit(steps, callbacks=callbacks, verbose=verbose)


def render(model: keras.Model) -> np.ndarray:
    """The dreams of a dream model (or generator) as uint8 images (N, H, W, C)."""
    return generator_of(model).render()


def visualize(objective: Objective, base=None, *, steps: int | None = None,
              optimizer=None, **kwargs) -> np.ndarray:
    """Build, train and render in one call: the three-line way to a dream.

    Args:
        objective: what to maximize.
        base: the network (see `DreamModel`); default the shipped MobileNet.
        steps: training steps; defaults to `DEFAULT_STEPS`, read when called.
        optimizer: default Adam at the objective's depth's learning rate.
        **kwargs: passed to `DreamModel`.

    Returns:
        The dreams as uint8 images (N, H, W, C).
    """
    model = DreamModel(objective, base, **kwargs)
    model.compile(optimizer)
    model.fit(DEFAULT_STEPS if steps is None else steps)
    return model.render()
