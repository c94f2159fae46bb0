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
from keras import ops

from kerasdream import io
from kerasdream.errors import DreamError
from kerasdream.objectives.terms import IMAGE, Channel, Objective, _PhotoTerm

# Pixel differences below half a grey level cost nothing: no 8-bit picture
# shows them, and the start (the photo through the parameterization's
# inverse) differs from the photo by less than that.
PIXEL_TOLERANCE = 0.5
from kerasdream.defaults import (  # noqa: E402  (light: the command line reads them)
    ACCENTUATE_DEFAULTS,
    DEFAULT_STRENGTH,
)
from kerasdream.defaults import ACCENTUATE_WEIGHTS as DEFAULT_WEIGHTS  # noqa: E402


@keras.saving.register_keras_serializable(package="kerasdream")
class Distance(_PhotoTerm):
    """How far the dream is from a photo: `sum(max(|Phi(x) - Phi0| - tolerance, 0)^2) / sum(Phi0^2)`.

    `layer="image"` measures pixels (of the dream before any transform, with
    `tolerance` half a grey level by default); a layer name, its features.
    Subtract it: `Channel(L, k) - 30 * Distance("image", photo)`.
    """

    def __init__(self, layer: str, image, tolerance: float | None = None):
        super().__init__(layer, image)
        if tolerance is None:
            tolerance = PIXEL_TOLERANCE if layer == IMAGE else 0.0
        if not np.isfinite(tolerance) or float(tolerance) < 0:
            raise DreamError(f"Tolerance must be a finite number >= 0. "
                             f"Received: tolerance={tolerance!r}")
        self.tolerance = float(tolerance)

    def select(self, rows):
        if len(self.image) == 1:
            return self
        return type(self)(self.layer, self.image[list(rows)], self.tolerance)

    def target_table(self, features_of, shapes):
        if self.key == IMAGE:
            return self.image
        return np.asarray(features_of(self.image)[self.key])

    def initial_images(self):
        return self.image

    def __call__(self, x, target=None):
        target = self._target(x, target)
        axes = tuple(range(1, len(x.shape)))
        excess = ops.relu(ops.abs(x - target) - self.tolerance)
        return ops.sum(ops.square(excess), axis=axes) / ops.maximum(
            ops.sum(ops.square(target), axis=axes), 1e-12)

    def get_config(self):
        return {**super().get_config(), "tolerance": self.tolerance}


def _target_layer(base: keras.Model, layer: str) -> str:
    """A ReLU layer is read before its gate (as galleries do), so the filter
    is pushed up, not to its cap."""
    from kerasdream.network.bases import get_layer
    from kerasdream.network.features import PRE, relu_cap

    if layer.endswith(PRE):
        return layer
    return layer + PRE if relu_cap(get_layer(base, layer)) is not False else layer


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
               transforms=ACCENTUATE_DEFAULTS["transforms"], callbacks=()) -> np.ndarray:
    """`photo` (H, W, C in [0, 255]) accentuated for each filter of `layer`:
    uint8 (len(filters), H, W, C), all trained in one batch."""
    from kerasdream.network.bases import as_spec, load_base
    from kerasdream.model import DreamModel, default_optimizer

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
                       transforms=transforms, seed=seed, row_keys=filters)
    model.compile(default_optimizer(learning_rate))
    model.fit(steps, callbacks=list(callbacks))
    return model.render()


def output_path(folder: str, photo_path: str, layer: str, k: int) -> str:
    """`<photo stem>_<layer>_filter_<k>.png` in `folder`."""
    stem = os.path.splitext(os.path.basename(photo_path))[0]
    return os.path.join(folder, f"{stem}_{layer.replace('/', '_')}_filter_{k}.png")


def run_accentuate(spec, image_path: str, layer: str, filters_text: str, *,
                   out_dir: str | None, size, steps: int, learning_rate, seed: int,
                   parameterization: str, transforms: str, strength: float, distance: str,
                   weight: float | None, quiet: bool) -> list[str]:
    """The `accentuate` command: one PNG per filter beside the photo (or in `out_dir`)."""
    from kerasdream.network.bases import image_shape_for, layer_channels, load_base
    from kerasdream.callbacks import DreamProgress
    from kerasdream.runs.settings import parse_filters

    base = load_base(spec)
    filters = parse_filters(filters_text, layer_channels(base, layer))
    height, width, channels = image_shape_for(base, size)
    photo = io.load_image(image_path, size=(height, width), channels=channels)
    folder = out_dir or os.path.dirname(os.path.abspath(image_path))
    io.check_writable(folder)
    bar = None if quiet else keras.utils.Progbar(steps, unit_name="step")
    images = accentuate(photo, layer, filters, spec, strength=strength, distance=distance,
                        weight=weight, steps=steps, learning_rate=learning_rate, seed=seed,
                        parameterization=parameterization, transforms=transforms,
                        callbacks=[DreamProgress(bar, dreams=len(filters))])
    paths = []
    for k, image in zip(filters, images):
        paths.append(output_path(folder, image_path, layer, k))
        io.save_png(paths[-1], image)
    print(f"Accentuated {len(filters)} filter(s) of {layer} in {os.path.basename(image_path)}: "
          f"wrote {', '.join(os.path.basename(p) for p in paths)} in {folder}")
    return paths
