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

    The network is the one the dream records: a model file by its absolute
    path (dreams saved before paths were recorded whole name it as given,
    read from the current folder), checked by content against what the
    dream was made with.

    Args:
        generator: a `DreamGenerator` that records its base network by name.

    Returns:
        A `DreamModel` that trains `generator` further.

    Raises:
        DreamError: if the generator was built on an in-memory network, or
            the file it names now holds another network (retrained or
            replaced since the dream was made).

    Example:
        ```python
        generator = kd.load_dream("models/conv_pw_7_relu/filter_3.keras")
        model = kd.rebuild(generator)
        kd.train(model, 100)  # 100 more steps on the same dream
        kd.save_dream(model.generator, "models/conv_pw_7_relu/filter_3.keras")
        ```
    """
    spec = generator.spec
    if not spec.get("base"):
        raise DreamError("This generator does not record its base network (it was "
                         "built on an in-memory model), so it cannot be rebuilt.")
    model = DreamModel(
        objectives_lib.get(spec["objective"]),
        BaseSpec.from_config(spec["base"]),
        transforms=spec.get("transforms") or None,
        preprocess=spec.get("preprocess"),
        redirect_relu=spec.get("redirect_relu", True),
        seed=generator.seed,
        generator=generator,
    )
    recorded = spec.get("network")
    if recorded and model._network_identity != recorded:
        base = spec["base"]
        raise DreamError(f"The dream was made with another network than {base['model']!r} "
                         f"holds now (retrained or replaced since): its pictures would not "
                         f"be this network's. Rebuild it with the network it was made with. "
                         f"Received: model={base['model']!r}")
    return model


def generator_of(model: keras.Model) -> DreamGenerator:
    """The `DreamGenerator` of a dream model (or the generator itself).

    Args:
        model: a `DreamModel`, or a `DreamGenerator` (given back as it is).

    Returns:
        The `DreamGenerator` that holds the dreams' weights.

    Example:
        ```python
        model = kd.DreamModel(kd.Channel("conv_pw_3_relu:pre", 0))
        kd.save_dream(kd.generator_of(model), "filter_0.keras")
        ```
    """
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
        callbacks: Keras callbacks for `fit` (`DreamProgress`, `DreamCallback`...).
        verbose: Keras' verbosity for `fit`: 0 silent, 1 a bar, 2 a line per epoch.
        jit_compile: Keras' `jit_compile` (`"auto"`: Keras decides).
        steps_per_execution: steps per call of the traced step; None: the
            largest divisor of `steps` up to 25.

    Returns:
        The `fit` history.

    Raises:
        DreamError: for a bad number of steps or learning rate.

    Example:
        ```python
        model = kd.DreamModel(kd.Channel("conv_pw_8_relu:pre", range(4)), "mobilenet")
        kd.train(model, 100)                      # a first look
        kd.train(model, 100, learning_rate=0.02)  # then finer, a fresh optimizer
        images = kd.render(model)
        ```
    """
    check_positive_int("steps", steps, MAX_STEPS)
    if optimizer is None and learning_rate is not None:
        optimizer = default_optimizer(learning_rate)
    model.compile(optimizer, steps_per_execution=steps_per_execution, jit_compile=jit_compile)
    return model.fit(steps, callbacks=callbacks, verbose=verbose)


def render(model: keras.Model) -> np.ndarray:
    """The dreams of a dream model (or generator) as images.

    Args:
        model: a `DreamModel` or a `DreamGenerator` (one reloaded with
            `load_dream` renders without its network).

    Returns:
        uint8 images (N, H, W, C), one per dream (kernel row).

    Example:
        ```python
        images = kd.render(kd.load_dream("models/conv_pw_7_relu/filter_3.keras"))
        ```
    """
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

    Example:
        ```python
        images = kd.visualize(kd.Channel("conv_pw_7_relu:pre", range(4)), steps=200)
        images.shape  # (4, 128, 128, 3)
        ```
    """
    model = DreamModel(objective, base, **kwargs)
    model.compile(optimizer)
    model.fit(DEFAULT_STEPS if steps is None else steps)
    return model.render()
