"""The dream optimizer (`default_optimizer`: Adam) and SGD with per-dream normalization.

`RowNormalizedSGD`: each dream's gradient is normalized on its own.

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

from kerasdream.defaults import DEFAULT_LEARNING_RATE
from kerasdream.validation import check_learning_rate

GRADIENT_LIMIT = 1e15  # per element: its square stays finite in float32


def default_optimizer(learning_rate: float | None = None) -> keras.optimizers.Optimizer:
    """The dream optimizer: Adam at `DEFAULT_LEARNING_RATE` (Lucid's recipe).

    Adam moves every raw value by about the learning rate a step, whatever
    its gradient's size: a Fourier coefficient of a fine detail moves as
    readily as the mean colour, so a dream cannot settle into a flat colour
    (`benchmarks/quality.py` measured the alternatives). It works per
    element, so dreams trained together stay independent; so does its
    `clipvalue`, which only keeps a squared gradient below float32's range
    (a network whose activations explode would otherwise turn Adam's second
    moment into inf, then NaN).

    Args:
        learning_rate: a positive number or a schedule; default
            `DEFAULT_LEARNING_RATE`.

    Returns:
        A fresh `keras.optimizers.Adam`.

    Raises:
        DreamError: for a learning rate that is not positive and finite.
    """
    if learning_rate is None:
        learning_rate = DEFAULT_LEARNING_RATE
    check_learning_rate(learning_rate)
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        learning_rate = float(learning_rate)  # Keras refuses numpy scalars
    return keras.optimizers.Adam(learning_rate, clipvalue=GRADIENT_LIMIT)


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
