"""RowNormalizedSGD: each kernel row's gradient divided by its own RMS, then SGD.

So each row's step has root mean square equal to the learning rate (its
L2 norm is lr * sqrt(row length)), whatever the gradient's scale, and rows
never influence each other.
"""

import keras
import numpy as np
import pytest

from kerasdream.optimizers import RowNormalizedSGD

LR = 0.1


def step(gradients, momentum=0.0, start=None, steps=1, **kwargs):
    """The change of a variable after `steps` updates with `gradients` (numpy)."""
    gradients = np.asarray(gradients, "float32")
    begin = np.zeros_like(gradients) if start is None else np.asarray(start, "float32")
    variable = keras.Variable(begin)
    optimizer = RowNormalizedSGD(learning_rate=LR, momentum=momentum, **kwargs)
    for _ in range(steps):
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(gradients), variable)])
    return keras.ops.convert_to_numpy(variable) - begin


@pytest.mark.backends
def test_each_rows_step_has_the_learning_rate_as_its_rms_by_hand():
    gradients = [[3.0, 4.0, 0.0, 0.0],      # RMS 2.5: the step is -lr [1.2, 1.6, 0, 0]
                 [0.0, 1e-3, 0.0, 0.0]]     # RMS 5e-4: the step is -lr [0, 2, 0, 0]
    change = step(gradients)
    np.testing.assert_allclose(change, -LR * np.array([[1.2, 1.6, 0, 0], [0, 2.0, 0, 0]]),
                               rtol=1e-5)
    rms = np.sqrt(np.mean(np.square(change), axis=1))
    np.testing.assert_allclose(rms, [LR, LR], rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(change, axis=1), LR * np.sqrt(4), rtol=1e-5)


@pytest.mark.backends
def test_rows_are_independent():
    row = [1.0, -2.0, 2.0, 4.0]
    alone = step([row])[0]
    for other in ([0.0, 0.0, 0.0, 1e6], [-5.0, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]):
        np.testing.assert_allclose(step([row, other])[0], alone, rtol=1e-6)
    # A zero gradient stays a zero step (no division by zero).
    np.testing.assert_array_equal(step([[0.0, 0.0, 0.0, 0.0]]), np.zeros((1, 4)))


@pytest.mark.backends
def test_a_huge_gradient_does_not_overflow_into_a_zero_step():
    # 1e30 squared is inf in float32; scaling by the row's peak first avoids it.
    # (Up to 1e37: on JAX, XLA computes x / peak as x * (1 / peak), and 1 / peak
    # is flushed to zero once it is a denormal, peak > ~8.5e37.)
    change = step([[1e30, -1e30, 1e30, -1e30], [1e37, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(change[0], -LR * np.array([1, -1, 1, -1]), rtol=1e-5)
    np.testing.assert_allclose(change[1], -LR * np.array([2, 0, 0, 0]), rtol=1e-5)


def test_momentum_adds_the_normalized_steps_like_sgd():
    # Keras' SGD: m = 0.9 m - lr g; variable += m. Two equal steps: -(1 + 1.9) lr g_hat.
    change = step([[3.0, 4.0, 0.0, 0.0]], momentum=0.9, steps=2)
    np.testing.assert_allclose(change, -2.9 * LR * np.array([[1.2, 1.6, 0, 0]]), rtol=1e-5)


def test_a_vector_is_not_normalized_and_the_config_round_trips():
    np.testing.assert_allclose(step([3.0, 4.0, 0.0]), -LR * np.array([3.0, 4.0, 0.0]), rtol=1e-6)
    optimizer = RowNormalizedSGD(learning_rate=0.3, momentum=0.5, epsilon=1e-6)
    config = optimizer.get_config()
    assert config["epsilon"] == 1e-6 and config["momentum"] == 0.5
    again = RowNormalizedSGD.from_config(config)
    assert again.epsilon == 1e-6 and float(again.learning_rate) == pytest.approx(0.3)
    assert keras.saving.get_registered_object("kerasdream>RowNormalizedSGD") is RowNormalizedSGD
