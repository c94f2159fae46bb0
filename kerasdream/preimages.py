"""Natural pre-images of a photo: inversion and caricature (Mahendran & Vedaldi).

Both are the paper's regularized energy, written as an objective:

    weight * Inversion(layer, photo)  - AlphaNorm() - TotalVariation()
    weight * Caricature(layer, photo) - AlphaNorm() - TotalVariation()

on the bounded parameterization with jitter, trained by the same Dense-kernel
`fit` as every dream. Quality is the relative feature error
`||Phi(x) - Phi0|| / ||Phi0||` of the final image.
"""

from __future__ import annotations

import os

import keras
import numpy as np

from kerasdream import io
from kerasdream.bases import BaseSpec, Preprocess, as_spec, feature_model, image_shape_for, load_base
from kerasdream.dream import DreamProgress, build_dream_model, generator_of, train
from kerasdream.errors import DreamError
from kerasdream.objectives import Caricature, Inversion, Objective
from kerasdream.priors import AlphaNorm, TotalVariation

KINDS = {"invert": Inversion, "caricature": Caricature}
# The data term's weight C (the paper tries 1, 20, 100, 300).
DEFAULT_WEIGHTS = {"invert": 20.0, "caricature": 100.0}


def preimage_objective(kind: str, layer: str, photo: np.ndarray,
                       weight: float | None = None) -> Objective:
    """The paper's energy for `kind` ('invert' or 'caricature'), as an objective."""
    if kind not in KINDS:
        raise DreamError(f"Unknown pre-image kind. Expected one of {sorted(KINDS)}. "
                         f"Received: kind={kind!r}")
    weight = DEFAULT_WEIGHTS[kind] if weight is None else weight
    return weight * KINDS[kind](layer, photo) - AlphaNorm() - TotalVariation()


def relative_error(base: keras.Model, layer: str, images: np.ndarray, photo: np.ndarray,
                   preprocess: str) -> np.ndarray:
    """`||Phi(x) - Phi0|| / ||Phi0||` for each image against the photo's features."""
    images = np.asarray(images, "float32")
    features = feature_model(base, [layer], images.shape[1:])
    prep = Preprocess(preprocess)

    def phi(x):
        return keras.ops.convert_to_numpy(features(prep(x), training=False)[layer])

    got, target = phi(images), phi(np.asarray(photo, "float32")[None])
    axes = tuple(range(1, got.ndim))
    return np.sqrt(np.sum((got - target) ** 2, axis=axes) / np.sum(target**2))


def preimage(
    kind: str,
    photo: np.ndarray,
    layer: str,
    base: BaseSpec | str | None = None,
    *,
    steps: int = 300,
    learning_rate: float | None = None,
    weight: float | None = None,
    seed: int = 0,
    parameterization: str = "bounded",
    transforms: str | None = "default",
    callbacks=(),
) -> tuple[np.ndarray, float]:
    """Invert or caricature `photo` (H, W, C in [0, 255]) at `layer`.

    Returns the uint8 result and its relative feature error.
    """
    spec = as_spec(base)
    objective = preimage_objective(kind, layer, photo, weight)
    model = build_dream_model(objective, spec, size=photo.shape[:2], num_dreams=1,
                              parameterization=parameterization, transforms=transforms,
                              seed=seed)
    train(model, steps, learning_rate=learning_rate, callbacks=callbacks)
    image = generator_of(model).render()
    error = relative_error(load_base(spec), layer, image, photo,
                           generator_of(model).spec["preprocess"])
    return image[0], float(error[0])


def run_preimage(kind, spec, layer, image_path, out_dir, *, size, steps, learning_rate, seed,
                 parameterization, transforms, weight, quiet) -> float:
    """The `invert` / `caricature` commands: result, photo and error on disk."""
    base = load_base(spec)
    height, width, channels = image_shape_for(base, size)
    photo = io.load_image(image_path, size=(height, width), channels=channels)
    bar = None if quiet else keras.utils.Progbar(steps, unit_name="step")
    image, error = preimage(
        kind, photo, layer, spec, steps=steps, learning_rate=learning_rate, weight=weight,
        seed=seed, parameterization=parameterization,
        transforms=None if transforms == "none" else transforms,
        callbacks=[DreamProgress(bar, dreams=1)],
    )
    io.save_png(os.path.join(out_dir, f"{kind}.png"), image)
    io.save_png(os.path.join(out_dir, "photo.png"), photo)
    io.write_json(os.path.join(out_dir, f"{kind}.json"), {
        "kind": kind, "layer": layer, "relative_error": error, "steps": steps,
        "learning_rate": learning_rate,
        "weight": DEFAULT_WEIGHTS[kind] if weight is None else weight, "seed": seed, "size": [height, width],
        "parameterization": parameterization, "transforms": transforms,
        "network": spec.get_config(), "photo": os.path.abspath(image_path),
    })
    print(f"{kind} at {layer}: relative feature error {error:.3f} "
          f"(wrote {os.path.join(out_dir, kind + '.png')})")
    return error
