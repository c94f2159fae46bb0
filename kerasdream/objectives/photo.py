"""Photo terms: objectives whose targets are computed from a photo's features.

`Inversion` reconstructs a photo from a layer's features, `Caricature`
exaggerates what a layer sees in it (Mahendran and Vedaldi's pre-images), and
`Distance` keeps a dream close to a photo (feature accentuation's penalty).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasdream.errors import DreamError
from kerasdream.objectives.base import IMAGE, Term, local_rows

# Pixel differences below half a grey level cost nothing: no 8-bit picture
# shows them, and the start (the photo through the parameterization's
# inverse) differs from the photo by less than that.
PIXEL_TOLERANCE = 0.5


class PhotoTerm(Term):
    """A term whose target is computed from a photo's features."""

    target_fields = ("image",)

    def __init__(self, layer: str, image):
        super().__init__(layer)
        image = np.asarray(image, dtype="float32")
        if image.ndim == 3:
            image = image[None]
        if image.ndim != 4:
            raise DreamError(
                f"{type(self).__name__} needs an image (H, W, C) or images (N, H, W, C). "
                f"Received: image of shape {image.shape}"
            )
        self.image = image

    @property
    def num_rows(self):
        return len(self.image)

    def select(self, rows):
        if len(self.image) == 1:
            return self
        return type(self)(self.layer, self.image[list(rows)])

    def check(self, shapes):
        image_shape = tuple(shapes[IMAGE][1:])
        if tuple(self.image.shape[1:]) != image_shape:
            raise DreamError(
                f"{type(self).__name__}'s photo must have the dream's shape {image_shape}"
                f" (resize it, or pass size=). Received: image of shape "
                f"{tuple(self.image.shape[1:])}"
            )

    def target_table(self, features_of, shapes):
        return self.make_target(np.asarray(features_of(self.image)[self.key]))

    def _target(self, x, target):
        if target is None:
            raise DreamError(f"{type(self).__name__} reads the photo's features: use it "
                             f"inside a DreamModel, which computes them.")
        return local_rows(ops.cast(ops.convert_to_tensor(target), x.dtype), x)

    def get_config(self):
        return {"layer": self.layer, "image": np.round(self.image).astype(int).tolist()}


@keras.saving.register_keras_serializable(package="kerasdream")
class Inversion(PhotoTerm):
    """Match a photo's features: value `-||Phi(x) - Phi0||^2 / ||Phi0||^2`.

    `relative_error = sqrt(-value)` is the paper's reconstruction quality.

    Args:
        layer: the layer whose features are matched.
        image: the photo (H, W, C) or one photo per dream (N, H, W, C), pixels
            in [0, 255], of the dream's size.

    Raises:
        DreamError: when `image` is not (H, W, C) or (N, H, W, C), or (on
            building the dream model) not of the dream's shape.

    Example:
        ```python
        photo = skimage.data.astronaut()[::4, ::4].astype("float32")  # 128 x 128
        objective = 20 * kd.Inversion("conv_pw_5_relu", photo) - kd.AlphaNorm() - kd.TotalVariation()
        image = kd.visualize(objective, "mobilenet", size=photo.shape[:2])[0]
        ```
    """

    def make_target(self, features):
        return features

    def __call__(self, x, target=None):
        target = self._target(x, target)
        axes = tuple(range(1, len(x.shape)))
        error = ops.sum(ops.square(x - target), axis=axes)
        return -error / ops.maximum(ops.sum(ops.square(target), axis=axes), 1e-12)


@keras.saving.register_keras_serializable(package="kerasdream")
class Caricature(PhotoTerm):
    """Exaggerate what `layer` sees in a photo: value `<Phi(x), Phi0>`,
    `Phi0 = max(Phi(x0), 0) / ||max(Phi(x0), 0)||^2`. Dreams start from the photo.

    Args:
        layer: the layer whose view of the photo is exaggerated.
        image: the photo (H, W, C) or one photo per dream (N, H, W, C), pixels
            in [0, 255], of the dream's size.

    Raises:
        DreamError: when `image` is not (H, W, C) or (N, H, W, C), or (on
            building the dream model) not of the dream's shape.

    Example:
        ```python
        objective = 2 * kd.Caricature("conv_pw_6_relu", photo) - kd.AlphaNorm() - kd.TotalVariation()
        image = kd.visualize(objective, "mobilenet", size=photo.shape[:2])[0]
        ```
    """

    def make_target(self, features):
        positive = np.maximum(features, 0.0)
        norms = np.sum(positive**2, axis=tuple(range(1, positive.ndim)), keepdims=True)
        return positive / np.maximum(norms, 1e-12)

    def initial_images(self):
        return self.image

    def __call__(self, x, target=None):
        axes = tuple(range(1, len(x.shape)))
        return ops.sum(x * self._target(x, target), axis=axes)


@keras.saving.register_keras_serializable(package="kerasdream")
class Distance(PhotoTerm):
    """How far the dream is from a photo: `sum(max(|Phi(x) - Phi0| - tolerance, 0)^2) / sum(Phi0^2)`.

    `layer="image"` measures pixels (of the dream before any transform, with
    `tolerance` half a grey level by default); a layer name, its features.
    Subtract it: `Channel(L, k) - 30 * Distance("image", photo)`.

    Args:
        layer: `"image"` for pixels, else the layer whose features are compared.
        image: the photo (H, W, C) or one photo per dream (N, H, W, C), pixels
            in [0, 255], of the dream's size.
        tolerance: differences up to this size cost nothing; None for half a
            grey level on pixels and 0 on features.

    Raises:
        DreamError: when `image` has the wrong shape or `tolerance` is
            negative or not finite.

    Example:
        ```python
        layer = "conv_pw_7_relu:pre"
        objective = kd.Channel(layer, 5) - 30 * kd.Distance("image", photo)
        ```
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
