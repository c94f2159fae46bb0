"""Natural pre-images of a photo: inversion and caricature (Mahendran & Vedaldi).

Both are the paper's regularized energy, written as an objective:

    weight * Inversion(layer, photo)  - AlphaNorm() - TotalVariation()
    weight * Caricature(layer, photo) - AlphaNorm() - TotalVariation()

on a Fourier image without jitter, trained by the same Dense-kernel `fit` as
every dream, with Adam (see `preimage_optimizer`). Quality is the relative feature error
`||Phi(x) - Phi0|| / ||Phi0||` of the final image.
"""

from __future__ import annotations

import os

import keras
import numpy as np

from kerasdream import io
from kerasdream.runs import signals
from kerasdream import evaluation
from kerasdream.network.bases import BaseSpec, as_spec, image_shape_for, load_base
from kerasdream.callbacks import DreamProgress, NonFiniteError, blame_large_weights, progress_bar
from kerasdream.model import DreamModel
from kerasdream.optimizers import GRADIENT_LIMIT
from kerasdream.validation import check_learning_rate, check_memory
from kerasdream.runs.runlock import RunLock
from kerasdream.errors import DreamError
from kerasdream.objectives.base import Objective
from kerasdream.objectives.photo import Caricature, Inversion
from kerasdream.objectives.priors import AlphaNorm, TotalVariation

KINDS = {"invert": Inversion, "caricature": Caricature}
from kerasdream.defaults import (  # noqa: E402
    DEFAULT_PREIMAGE_LEARNING_RATE,
    DEFAULT_WEIGHTS,
    PREIMAGE_DEFAULTS,
)


def preimage_optimizer(steps: int, learning_rate: float | None = None) -> keras.optimizers.Adam:
    """Adam (beta_2 = 0.9) at `learning_rate`, a tenth of it for the last sixth of `steps`.

    Measured on the shipped MobileNet: this reaches a third of the error the
    paper's momentum SGD leaves in the same 300 steps.
    """
    rate = DEFAULT_PREIMAGE_LEARNING_RATE if learning_rate is None else learning_rate
    check_learning_rate(rate)
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay(
        [max(1, int(steps * 5 / 6))], [float(rate), float(rate) / 10])
    return keras.optimizers.Adam(schedule, beta_2=0.9, clipvalue=GRADIENT_LIMIT)


def preimage_objective(kind: str, layer: str, photo: np.ndarray,
                       weight: float | None = None) -> Objective:
    """The paper's energy for `kind` ('invert' or 'caricature'), as an objective."""
    if kind not in KINDS:
        raise DreamError(f"Unknown pre-image kind. Expected one of {sorted(KINDS)}. "
                         f"Received: kind={kind!r}")
    weight = DEFAULT_WEIGHTS[kind] if weight is None else weight
    return weight * KINDS[kind](layer, photo) - AlphaNorm() - TotalVariation()


relative_error = evaluation.relative_error


def preimage(
    kind: str,
    photo: np.ndarray,
    layer: str,
    base: BaseSpec | str | None = None,
    *,
    steps: int = PREIMAGE_DEFAULTS["steps"],
    learning_rate: float | None = None,
    weight: float | None = None,
    seed: int = 0,
    parameterization: str = PREIMAGE_DEFAULTS["parameterization"],
    transforms: str | None = PREIMAGE_DEFAULTS["transforms"],
    callbacks=(),
    precision: str = "auto",
) -> tuple[np.ndarray, float]:
    """Invert or caricature `photo` (H, W, C in [0, 255]) at `layer`.

    Returns the uint8 result and its relative feature error.
    """
    spec = as_spec(base)
    objective = preimage_objective(kind, layer, photo, weight)
    model = DreamModel(objective, spec, size=photo.shape[:2], num_dreams=1,
                       parameterization=parameterization, transforms=transforms, seed=seed,
                       precision=precision)
    model.compile(preimage_optimizer(steps, learning_rate))
    try:
        model.fit(steps, callbacks=callbacks)
    except NonFiniteError as error:
        raise blame_large_weights(error, weight=weight) from None
    image = model.render()
    error = relative_error(load_base(spec), layer, image, photo, model.preprocess.mode)
    return image[0], float(error[0])


def run_preimage(kind, spec, layer, image_path, out_dir, *, size, steps, learning_rate, seed,
                 parameterization, transforms, weight, quiet,
                 precision: str = "auto") -> float:
    """The `invert` / `caricature` commands: result, photo and error on disk."""
    base = load_base(spec)
    height, width, channels = image_shape_for(base, size)
    check_memory(1, (height, width, channels))
    photo = io.load_image(image_path, size=(height, width), channels=channels)
    io.check_writable(out_dir)
    with RunLock(out_dir) as lock:
        if lock.stale_message():
            print(lock.stale_message())
        io.remove_stale_temporaries(out_dir)
        return _write_preimage(kind, spec, layer, image_path, out_dir, photo, steps=steps,
                               learning_rate=learning_rate, seed=seed,
                               parameterization=parameterization, transforms=transforms,
                               weight=weight, quiet=quiet, precision=precision)


def _write_preimage(kind, spec, layer, image_path, out_dir, photo, *, steps, learning_rate,
                    seed, parameterization, transforms, weight, quiet, precision) -> float:
    bar = None if quiet else progress_bar(steps, unit_name="step")
    image, error = preimage(
        kind, photo, layer, spec, steps=steps, learning_rate=learning_rate, weight=weight,
        seed=seed, parameterization=parameterization,
        transforms=transforms, precision=precision,
        callbacks=[DreamProgress(bar, dreams=1)],
    )
    try:
        with signals.deferred():  # the three files are written whole
            _save_preimage(kind, spec, layer, image_path, out_dir, photo, image, error,
                           steps=steps, learning_rate=learning_rate, seed=seed,
                           parameterization=parameterization, transforms=transforms,
                           weight=weight)
    except signals.Interrupted as stop:
        stop.saved = 1  # the signal came while the files were written: they were finished
        raise
    print(f"{kind} at {layer}: relative feature error {error:.3f} "
          f"(wrote {os.path.join(out_dir, kind + '.png')})")
    return error


def _save_preimage(kind, spec, layer, image_path, out_dir, photo, image, error, *, steps,
                   learning_rate, seed, parameterization, transforms, weight) -> None:
    height, width = photo.shape[:2]
    io.save_png(os.path.join(out_dir, f"{kind}.png"), image)
    io.save_png(os.path.join(out_dir, "photo.png"), photo)
    io.write_json(os.path.join(out_dir, f"{kind}.json"), {
        "kind": kind, "layer": layer, "relative_error": error, "steps": steps,
        "learning_rate": learning_rate,
        "weight": DEFAULT_WEIGHTS[kind] if weight is None else weight, "seed": seed, "size": [height, width],
        "parameterization": parameterization, "transforms": transforms,
        "network": spec.get_config(), "photo": os.path.abspath(image_path),
    })
