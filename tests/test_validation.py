"""The validators the API and the command line share: one wording, no Keras needed."""

import subprocess
import sys

import numpy as np
import pytest

from kerasdream import validation
from kerasdream.defaults import MAX_SEED
from kerasdream.errors import DreamError


@pytest.mark.parametrize("value", [0.05, 1, np.float32(0.1), 3.4e38])
def test_check_learning_rate_accepts_positive_finite_numbers(value):
    validation.check_learning_rate(value)


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), 1e39, True, "0.1", None])
def test_check_learning_rate_names_a_bad_value(value):
    with pytest.raises(DreamError, match=r"Received: learning_rate="):
        validation.check_learning_rate(value)


def test_check_learning_rate_accepts_a_keras_schedule():
    import keras

    validation.check_learning_rate(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9))


def test_check_seed_returns_an_int_and_refuses_the_rest():
    assert validation.check_seed(np.int64(7)) == 7 and type(validation.check_seed(7)) is int
    assert validation.check_seed(MAX_SEED) == MAX_SEED
    for bad in (-1, MAX_SEED + 1, 1.0, True):
        with pytest.raises(DreamError, match=rf"Received: seed={bad!r}"):
            validation.check_seed(bad)


def test_check_positive_int_and_its_limit():
    validation.check_positive_int("steps", np.int32(3), limit=3)
    with pytest.raises(DreamError, match=r"positive integer\. Received: steps=0"):
        validation.check_positive_int("steps", 0)
    with pytest.raises(DreamError, match=r"up to 3\. Received: steps=4"):
        validation.check_positive_int("steps", 4, limit=3)


def test_check_memory_refuses_images_that_cannot_fit(monkeypatch):
    # 2 dreams of 8x8x3 in float32, 8 copies each: 2 * 192 * 4 * 8 = 12288 bytes.
    monkeypatch.setattr(validation, "available_memory", lambda: 12288)
    validation.check_memory(2, (8, 8, 3))
    monkeypatch.setattr(validation, "available_memory", lambda: 12287)
    with pytest.raises(DreamError, match=r"2 dreams of 8x8 pixels .* Received: size=\(8, 8\)"):
        validation.check_memory(2, (8, 8, 3))


def test_validation_imports_no_keras_or_numpy():
    code = ("import sys, kerasdream.validation as v; v.check_seed(3); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'numpy')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "[]", done.stderr[-2000:]
