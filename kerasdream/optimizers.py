"""SGD for dream kernels: each dream's gradient is normalized on its own.

The gradient of "mean activation of one filter" with respect to the pixels
differs by orders of magnitude between networks and layers, so plain SGD
needs a new learning rate for each. Dividing every kernel row's gradient by
its root mean square (as the keras.io feature-visualization example does
for one image) makes one learning rate work everywhere. The normalization is
per row, so dreams trained together never influence each other, unlike a
global gradient-norm clip.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kerasdream")
class RowNormalizedSGD(keras.optimizers.SGD):
    """`keras.optimizers.SGD` (with momentum) on row-wise RMS-normalized gradients."""

    def __init__(self, learning_rate=0.05, momentum=0.9, epsilon=1e-8, **kwargs):
        super().__init__(learning_rate=learning_rate, momentum=momentum, **kwargs)
        self.epsilon = epsilon

    def update_step(self, gradient, variable, learning_rate):
        if len(gradient.shape) == 2:
            # Scale by the row's largest entry first: squaring a huge gradient
            # would overflow to inf and silently zero the update.
            peak = ops.max(ops.abs(gradient), axis=1, keepdims=True)
            scaled = gradient / ops.maximum(peak, self.epsilon)
            rms = ops.sqrt(ops.mean(ops.square(scaled), axis=1, keepdims=True))
            gradient = scaled / (rms + self.epsilon)
        return super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
