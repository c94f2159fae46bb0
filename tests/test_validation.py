"""`kerasdream.validation`: each check by hand, and the same words from the API and the CLI."""

import subprocess
import sys

import numpy as np
import pytest

import kerasdream as kd
from kerasdream.cli import main
from kerasdream.errors import DreamError
from kerasdream import validation as v

from conftest import tiny_cnn


def message(call):
    """The `DreamError` text `call()` raises."""
    with pytest.raises(DreamError) as error:
        call()
    return str(error.value)


def test_importing_validation_loads_no_keras_or_numpy():
    result = subprocess.run([sys.executable, "-c", (
        "import sys, kerasdream.validation\n"
        "print(sorted({'keras', 'tensorflow', 'numpy'} & set(sys.modules)))")],
        capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


# ------------------------------------------------------------ each check by hand


@pytest.mark.parametrize("value", [1, 7, np.int64(3), 10])
def test_positive_int_accepts(value):
    assert v.check_positive_int("steps", value, 10) is None


@pytest.mark.parametrize("value, text", [
    (0, "steps must be a positive integer. Received: steps=0"),
    (-3, "steps must be a positive integer. Received: steps=-3"),
    (True, "steps must be a positive integer. Received: steps=True"),
    (2.0, "steps must be a positive integer. Received: steps=2.0"),
    ("5", "steps must be a positive integer. Received: steps='5'"),
    (11, "steps must be a positive integer up to 10. Received: steps=11"),
])
def test_positive_int_refuses(value, text):
    assert message(lambda: v.check_positive_int("steps", value, 10)) == text


def test_seed_range_is_numpys():
    assert v.check_seed(0) == 0 and v.check_seed(np.uint32(2**32 - 1)) == 2**32 - 1
    for bad in (-1, 2**32, 1.0, "0", None):
        assert message(lambda: v.check_seed(bad)) == (
            f"seed must be an integer from 0 to 4294967295 (2**32 - 1). Received: seed={bad!r}")


def test_learning_rate():
    for good in (0.05, 1, np.float32(0.1), 3.4e38):
        v.check_learning_rate(good)
    for bad in (0, -1.0, float("nan"), float("inf"), 3.5e38, "0.1", True):
        assert message(lambda: v.check_learning_rate(bad)) == (
            f"Learning rate must be a positive finite number (at most float32's 3.403e+38). "
            f"Received: learning_rate={bad!r}")


def test_non_negative_and_positive_number():
    v.check_non_negative("strength", 0)
    v.check_non_negative("strength", np.float64(2.5))
    assert message(lambda: v.check_non_negative("strength", -0.5)) == (
        "Strength must be a finite number >= 0. Received: strength=-0.5")
    assert message(lambda: v.check_non_negative("weight", float("inf"), "The distance weight")) \
        == "The distance weight must be a finite number >= 0. Received: weight=inf"
    v.check_positive_number("weight", 1e4)
    assert message(lambda: v.check_positive_number("weight", 0.0)) == (
        "weight must be a positive finite number (at most float32's 3.403e+38). "
        "Received: weight=0.0")


def test_size():
    assert v.check_size(5) == (5, 5) and v.check_size((3, 4)) == (3, 4)
    assert v.check_size([np.int32(2), 7]) == (2, 7)
    assert message(lambda: v.check_size((0, 4))) == \
        "Image size must be positive. Received: size=(0, 4)"
    assert message(lambda: v.check_size("96y3")) == (
        "Image size must be an integer or a (height, width) pair of integers (on the command "
        "line: 128 or 96x128). Received: size='96y3'")
    for bad in ((1, 2, 3), (1.5, 2), None, b"12"):
        with pytest.raises(DreamError):
            v.check_size(bad)


def test_memory_counts_eight_float32_copies_of_each_pixel():
    have = v.available_memory()
    assert have is None or have > 0
    v.check_memory(1, (8, 8, 3))  # 6 KiB
    side = 1 << 20  # 2**40 pixels x 3 x 4 bytes x 8 copies = 96 TiB
    assert message(lambda: v.check_memory(1, (side, side, 3))).startswith(
        f"1 dream of {side}x{side} pixels would need at least {96 * 1024:.1f} GiB of memory")


def test_the_command_line_conversions_keep_what_is_not_a_number():
    assert v.to_int("12") == 12 and v.to_int("1.5") == "1.5"
    assert v.to_float("1e3") == 1000.0 and v.to_float("x") == "x"
    assert v.to_size("64") == 64 and v.to_size("64x32") == (64, 32)
    assert v.to_size("axb") == "axb" and v.to_size("1x2x3") == "1x2x3"


# ------------------------------------------------------------ the same words


def filters(*extra):
    return ["filters", "--model", "x.keras", "--layer", "relu2", "--out", "unused", *extra]


def accentuate(*extra):
    return ["accentuate", "--model", "x.keras", "--image", "x.png", "--layer", "relu2", *extra]


def invert(*extra):
    return ["invert", "--model", "x.keras", "--image", "x.png", "--layer", "relu2",
            "--out", "unused", *extra]


def _accentuation(**kwargs):
    from kerasdream.accentuation import accentuation_objective

    return accentuation_objective("relu2", [0], np.zeros((8, 8, 3)), **kwargs)


def _image_shape(size):
    from kerasdream.network.bases import image_shape_for

    return image_shape_for(tiny_cnn(), size)


# (id, argv, option, the API call that must fail with the same text)
SAME_WORDS = [
    ("steps 0", filters("--steps", "0"), "--steps", lambda: kd.train(None, 0)),
    ("steps -3", filters("--steps", "-3"), "--steps", lambda: kd.train(None, -3)),
    ("steps 1.5", filters("--steps", "1.5"), "--steps", lambda: kd.train(None, "1.5")),
    ("steps 10**20", filters("--steps", str(10**20)), "--steps",
     lambda: kd.train(None, 10**20)),
    ("seed -1", filters("--seed", "-1"), "--seed",
     lambda: kd.DreamModel(kd.Channel("relu2", 0), tiny_cnn(), size=8, seed=-1)),
    ("seed 2**32", filters("--seed", str(2**32)), "--seed",
     lambda: kd.DreamModel(kd.Channel("relu2", 0), tiny_cnn(), size=8, seed=2**32)),
    ("lr 0", filters("--lr", "0"), "--lr", lambda: kd.train(None, 5, learning_rate=0.0)),
    ("lr -1", filters("--lr", "-1"), "--lr", lambda: kd.train(None, 5, learning_rate=-1.0)),
    ("lr nan", filters("--lr", "nan"), "--lr",
     lambda: kd.train(None, 5, learning_rate=float("nan"))),
    ("lr 1e300", filters("--lr", "1e300"), "--lr",
     lambda: kd.train(None, 5, learning_rate=1e300)),
    ("lr fast", filters("--lr", "fast"), "--lr", lambda: kd.train(None, 5, learning_rate="fast")),
    ("size 0", filters("--size", "0"), "--size", lambda: _image_shape(0)),
    ("size 0x5", filters("--size", "0x5"), "--size", lambda: _image_shape((0, 5))),
    ("strength -1", accentuate("--strength", "-1"), "--strength",
     lambda: _accentuation(strength=-1.0)),
    ("strength nan", accentuate("--strength", "nan"), "--strength",
     lambda: _accentuation(strength=float("nan"))),
    ("distance weight -2", accentuate("--weight", "-2"), "--weight",
     lambda: _accentuation(weight=-2.0)),
    # options the API has no argument for yet: the validation module's own words
    ("batch 0", filters("--batch", "0"), "--batch", lambda: v.check_positive_int("batch", 0)),
    ("cpu devices 257", filters("--cpu-devices", "257"), "--cpu-devices",
     lambda: v.check_positive_int("cpu_devices", 257, 256)),
    ("selectivity -1", filters("--selectivity", "-1"), "--selectivity",
     lambda: v.check_non_negative("selectivity", -1.0)),
    ("size 96y3", filters("--size", "96y3"), "--size", lambda: v.check_size("96y3")),
    ("invert weight 0", invert("--weight", "0"), "--weight",
     lambda: v.check_positive_number("weight", 0.0)),
]


@pytest.mark.parametrize("case", SAME_WORDS, ids=[c[0] for c in SAME_WORDS])
def test_the_api_and_the_command_line_say_the_same_words(case, capsys):
    _, argv, option, api = case
    expected = message(api)
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"kerasdream {argv[0]}: error: argument {option}: {expected}"]
