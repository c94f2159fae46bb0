"""Feature accentuation (Hamblin et al., 2024): what in THIS photo a filter responds to.

Each dream starts from the photo and maximizes one filter while a distance
penalty keeps it close to the photo, in pixels or in a layer's features:

    strength * Channel(layer, k) - weight * Distance("image", photo)

trained by the same Dense-kernel `fit` as every dream, one filter per kernel
row, so a batch accentuates many filters of one photo at once. At strength 0
only the penalty acts; it is zero at the start, so the photo comes back.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
import numpy as np

from kerasdream import io
from kerasdream.errors import DreamError
from kerasdream.objectives.base import IMAGE, Objective
from kerasdream.objectives.photo import Distance
from kerasdream.objectives.terms import Channel

from kerasdream.defaults import (  # noqa: E402  (light: the command line reads them)
    ACCENTUATE_DEFAULTS,
    DEFAULT_STRENGTH,
)
from kerasdream.defaults import ACCENTUATE_WEIGHTS as DEFAULT_WEIGHTS  # noqa: E402


def _target_layer(base: keras.Model, layer: str) -> str:
    """A ReLU layer is read before its gate (as galleries do), so the filter
    is pushed up, not to its cap."""
    from kerasdream.network.activations import PRE, is_gating_relu

    if layer.endswith(PRE):
        return layer
    return layer + PRE if is_gating_relu(base, layer) else layer


def accentuation_objective(layer: str, filters: Sequence[int], photo: np.ndarray,
                           strength: float = DEFAULT_STRENGTH, distance: str = "pixels",
                           weight: float | None = None) -> Objective:
    """`strength * Channel(layer, filters) - weight * Distance(distance, photo)`;
    `distance` is `"pixels"` or a layer whose features must stay close."""
    if not np.isfinite(strength) or strength < 0:
        raise DreamError(f"Strength must be a finite number >= 0. Received: strength={strength!r}")
    kind = "pixels" if distance == "pixels" else "features"
    weight = DEFAULT_WEIGHTS[kind] if weight is None else weight
    if not np.isfinite(weight) or weight < 0:
        raise DreamError(f"The distance weight must be a finite number >= 0. "
                         f"Received: weight={weight!r}")
    key = IMAGE if distance == "pixels" else distance
    return float(strength) * Channel(layer, list(filters)) - float(weight) * Distance(key, photo)


def accentuate(photo: np.ndarray, layer: str, filters: Sequence[int], base=None, *,
               strength: float = DEFAULT_STRENGTH, distance: str = "pixels",
               weight: float | None = None, steps: int = ACCENTUATE_DEFAULTS["steps"],
               learning_rate: float | None = None, seed: int = 0,
               parameterization=ACCENTUATE_DEFAULTS["parameterization"],
               transforms=ACCENTUATE_DEFAULTS["transforms"], callbacks=(),
               precision: str = "auto") -> np.ndarray:
    """`photo` accentuated for each filter of `layer`, all trained in one batch.

    Args:
        photo: (H, W, C) values in [0, 255].
        layer: the layer whose filters to push up.
        filters: the filters, one dream each.
        base: the network (as for `DreamModel`).
        strength: the filter's weight (0 gives the photo back).
        distance: `"pixels"` or a layer whose features stay close to the photo's.
        weight: the distance's weight (None: by `distance`, `ACCENTUATE_WEIGHTS`).
        steps: training steps.
        learning_rate: for the default optimizer (None: its own).
        seed: same seed, same pictures.
        parameterization: how a dream is held (not `"maco"`: it cannot hold a photo).
        transforms: random transforms while training.
        callbacks: Keras callbacks for the `fit`.
        precision: what the network computes in (as for `DreamModel`).

    Returns:
        uint8 (len(filters), H, W, C).

    Raises:
        DreamError: a bad value; `NonFiniteError` if the loss overflowed,
            naming a too-large `strength` or `weight` when one is.

    Example:
        ```python
        from skimage import data

        images = kd.accentuate(data.astronaut(), "conv_pw_7_relu", [3, 12], strength=1.0)
        ```
    """
    from kerasdream.callbacks import NonFiniteError, blame_large_weights
    from kerasdream.network.bases import as_spec, load_base
    from kerasdream.model import DreamModel
    from kerasdream.optimizers import default_optimizer

    from kerasdream.param.maco import Maco

    if parameterization == "maco" or isinstance(parameterization, Maco):
        raise DreamError("Accentuation starts from the photo, which MACO's fixed magnitude "
                         "spectrum cannot hold: use 'fourier', 'pixels' or 'bounded'. "
                         "Received: parameterization='maco'")
    filters = [int(k) for k in filters]
    network = base if isinstance(base, keras.Model) else load_base(as_spec(base))
    objective = accentuation_objective(_target_layer(network, layer), filters, photo,
                                       strength, distance, weight)
    model = DreamModel(objective, base, size=np.asarray(photo).shape[:2],
                       num_dreams=len(filters), parameterization=parameterization,
                       transforms=transforms, seed=seed, row_keys=filters,
                       precision=precision)
    model.compile(default_optimizer(learning_rate))
    try:
        model.fit(steps, callbacks=list(callbacks))
    except NonFiniteError as error:
        raise blame_large_weights(error, strength=strength, weight=weight) from None
    return model.render()


def output_path(folder: str, photo_path: str, layer: str, k: int) -> str:
    """`<photo stem>_<layer>_filter_<k>.png` in `folder`."""
    stem = os.path.splitext(os.path.basename(photo_path))[0]
    from kerasdream.runs.layout import path_name

    return os.path.join(folder, f"{stem}_{path_name(layer)}_filter_{k}.png")


def run_accentuate(spec, image_path: str, layer: str, filters_text: str, *,
                   out_dir: str | None, size, steps: int, learning_rate, seed: int,
                   parameterization: str, transforms: str, strength: float, distance: str,
                   weight: float | None, quiet: bool, precision: str = "auto") -> list[str]:
    """The `accentuate` command: one PNG per filter beside the photo (or in `out_dir`)."""
    from kerasdream.network.bases import image_shape_for, layer_channels, load_base
    from kerasdream.callbacks import DreamProgress, progress_bar
    from kerasdream.runs.settings import parse_filters

    base = load_base(spec)
    filters = parse_filters(filters_text, layer_channels(base, layer))
    height, width, channels = image_shape_for(base, size)
    photo = io.load_image(image_path, size=(height, width), channels=channels)
    folder = out_dir or os.path.dirname(os.path.abspath(image_path))
    io.check_writable(folder)
    # One bar over the steps: the filters train together, in one batch.
    bar = None if quiet else progress_bar(steps, unit_name="step")
    images = accentuate(photo, layer, filters, spec, strength=strength, distance=distance,
                        weight=weight, steps=steps, learning_rate=learning_rate, seed=seed,
                        parameterization=parameterization, transforms=transforms,
                        callbacks=[DreamProgress(bar, dreams=1)], precision=precision)
    paths = []
    for k, image in zip(filters, images):
        paths.append(output_path(folder, image_path, layer, k))
        io.save_png(paths[-1], image)
    print(f"Accentuated {len(filters)} filter(s) of {layer} in {os.path.basename(image_path)}: "
          f"wrote {', '.join(os.path.basename(p) for p in paths)} in {folder}")
    return paths
