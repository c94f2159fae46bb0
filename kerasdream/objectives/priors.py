"""Natural-image priors from the pre-images paper, as penalties to subtract.

    Inversion("conv_pw_5_relu", photo) * 20 - AlphaNorm() - TotalVariation()

Both work on the dream image in [0, 255], centred on `center` (the paper
subtracts the data mean), with the paper's constants: B = 80,
`lam_a = (1 / B) ** alpha`, `lam_tv = (6.5 / B) ** beta`. The bounded range
(each pixel's RGB norm at most B+ = 160) is the `"bounded"` parameterization.
"""

from __future__ import annotations

import keras
from keras import ops

from kerasdream.objectives.base import IMAGE, Term


@keras.saving.register_keras_serializable(package="kerasdream")
class AlphaNorm(Term):
    """`mean over pixels of (||x(u) - center|| / bound) ** alpha`; alpha = 6.

    Keeps pixels in a range a photo could have: cheap inside `bound` of the
    centre, steep outside it.

    Args:
        alpha: the norm's exponent; larger is a harder wall.
        bound: the paper's B, in grey levels.
        center: the grey the norm is measured from.

    Example:
        ```python
        objective = 20 * kd.Inversion("conv_pw_5_relu", photo) - kd.AlphaNorm()
        ```
    """

    def __init__(self, alpha: float = 6.0, bound: float = 80.0, center: float = 127.5):
        super().__init__(IMAGE)
        self.alpha, self.bound, self.center = float(alpha), float(bound), float(center)

    def __call__(self, x, target=None):
        offset = (x - self.center) / self.bound
        norms = ops.sqrt(ops.sum(ops.square(offset), axis=-1) + 1e-12)
        return ops.mean(ops.power(norms, self.alpha), axis=(1, 2))

    def get_config(self):
        return {"alpha": self.alpha, "bound": self.bound, "center": self.center}


@keras.saving.register_keras_serializable(package="kerasdream")
class TotalVariation(Term):
    """`mean over pixels of sum over channels of (s^2 (dx^2 + dy^2)) ** (beta / 2)`,
    `s = scale / bound` (6.5 / 80), replicate boundary (zero difference past the edge).

    Penalizes pixel-level noise: a natural image changes little from one
    pixel to the next.

    Args:
        beta: the exponent; 2 is smooth, below 2 allows sharper edges.
        bound: the paper's B, in grey levels.
        scale: the paper's typical edge height, in grey levels.

    Example:
        ```python
        objective = kd.Channel("conv_pw_3_relu", 4) - 0.5 * kd.TotalVariation()
        ```
    """

    def __init__(self, beta: float = 2.0, bound: float = 80.0, scale: float = 6.5):
        super().__init__(IMAGE)
        self.beta, self.bound, self.scale = float(beta), float(bound), float(scale)

    def __call__(self, x, target=None):
        x = x * (self.scale / self.bound)
        dx = ops.concatenate([x[:, :, 1:] - x[:, :, :-1], ops.zeros_like(x[:, :, :1])], axis=2)
        dy = ops.concatenate([x[:, 1:] - x[:, :-1], ops.zeros_like(x[:, :1])], axis=1)
        energy = ops.square(dx) + ops.square(dy)
        if self.beta != 2.0:
            energy = ops.power(energy + 1e-12, self.beta / 2.0)
        return ops.mean(ops.sum(energy, axis=-1), axis=(1, 2))

    def get_config(self):
        return {"beta": self.beta, "bound": self.bound, "scale": self.scale}
