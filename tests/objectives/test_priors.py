"""The pre-images paper's priors on tiny images, against hand-computed values."""

import math

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream.objectives.base import IMAGE

S = 6.5 / 80  # the paper's TV scale over B: every difference is multiplied by it


def value(term, images):
    return keras.ops.convert_to_numpy(term.value({IMAGE: np.asarray(images, "float32")}))


def grey(height, width, channels=3):
    return np.full((height, width, channels), 127.5, "float32")


# -------------------------------------------------------------- AlphaNorm


def test_alpha_norm_defaults_on_a_2x2_image():
    # Each pixel is the centre 127.5 plus B = 80 times a colour offset v, so
    # its term is ||v|| ** 6.
    image = np.array(
        [
            [[127.5 + 80, 127.5, 127.5], [127.5, 127.5, 127.5]],  # v = (1, 0, 0) ; 0
            [[127.5 + 72, 127.5 + 96, 127.5], [127.5, 127.5, 127.5 - 40]],
            # v = (0.9, 1.2, 0), ||v|| = 1.5 ; v = (0, 0, -0.5)
        ],
        "float32",
    )
    expected = (1.0 + 0.0 + 1.5**6 + 0.5**6) / 4  # = 12.40625 / 4
    assert expected == 3.1015625
    np.testing.assert_allclose(value(kd.AlphaNorm(), [image, grey(2, 2)]), [expected, 0.0],
                               rtol=1e-6, atol=1e-9)


def test_alpha_norm_non_default_constants():
    # alpha 2, bound 10, centre 0: mean over pixels of ||x||^2 / 100.
    image = np.array([[[3, 4, 0], [0, 0, 0]], [[1, 2, 2], [0, 0, 10]]], "float32")
    expected = (25 + 0 + 9 + 100) / 100 / 4
    np.testing.assert_allclose(value(kd.AlphaNorm(alpha=2, bound=10, center=0), [image]),
                               [expected], rtol=1e-6)
    # alpha 1: the mean Euclidean norm, (5 + 0 + 3 + 10) / 4 / 10
    np.testing.assert_allclose(value(kd.AlphaNorm(alpha=1, bound=10, center=0), [image]),
                               [18 / 4 / 10], rtol=1e-5)


def test_alpha_norm_is_one_on_the_bound_sphere():
    # Every pixel at distance exactly B from the centre: (1) ** 6 = 1.
    image = grey(3, 3)
    image[..., 1] += 80.0
    image[1, 1] = [127.5 - 48, 127.5 + 64, 127.5]  # (-0.6, 0.8, 0) * 80
    np.testing.assert_allclose(value(kd.AlphaNorm(), [image]), [1.0], rtol=1e-6)


# --------------------------------------------------------- TotalVariation

# A one-channel 2x2 image          forward differences (replicate border):
#     [[ 0, 80],                    dx = [[80, 0], [0, 0]]   (x + 1 along a row)
#      [40, 40]]                    dy = [[40, -40], [0, 0]] (y + 1 down a column)
RAMP = np.array([[[0.0], [80.0]], [[40.0], [40.0]]], "float32")


def test_total_variation_defaults_on_a_2x2_image():
    # beta = 2: mean over pixels of S^2 (dx^2 + dy^2)
    #   = S^2 (80^2 + 40^2 + 0 + 40^2 + 0 + 0) / 4 = S^2 * 9600 / 4
    expected = S**2 * 9600 / 4
    np.testing.assert_allclose(value(kd.TotalVariation(), [RAMP]), [expected], rtol=1e-6)
    assert abs(expected - 15.84375) < 1e-9


def test_total_variation_beta_one_pairs_each_pixels_dx_and_dy():
    # beta = 1: mean over pixels of S * sqrt(dx^2 + dy^2)
    #   = S (sqrt(80^2 + 40^2) + sqrt(0 + 40^2) + 0 + 0) / 4
    expected = S * (math.sqrt(8000) + 40) / 4
    np.testing.assert_allclose(value(kd.TotalVariation(beta=1), [RAMP]), [expected], rtol=1e-5)


def test_total_variation_is_zero_on_a_flat_image_and_ignores_the_level():
    flat = np.full((3, 3, 3), 200.0, "float32")
    np.testing.assert_allclose(value(kd.TotalVariation(), [flat, flat * 0]), [0.0, 0.0],
                               atol=1e-12)
    # beta = 1 adds a 1e-12 inside the root only: sqrt(1e-12) per channel.
    np.testing.assert_allclose(value(kd.TotalVariation(beta=1), [flat]), [0.0], atol=1e-5)
    shifted = value(kd.TotalVariation(), [RAMP + 100.0])
    np.testing.assert_allclose(shifted, value(kd.TotalVariation(), [RAMP]), rtol=1e-6)


def test_total_variation_replicate_border_adds_nothing_past_the_last_column():
    # 3x3, every row [0, 0, 90]: only the middle column has dx = 90; the last
    # column's difference is zero (replicate), not 0 - 90 (wrap around).
    image = np.tile(np.array([0.0, 0.0, 90.0], "float32")[None, :, None], (3, 1, 1))
    np.testing.assert_allclose(value(kd.TotalVariation(), [image]), [S**2 * 3 * 90**2 / 9],
                               rtol=1e-6)
    # The same along y: every column [0, 0, 90] from top to bottom.
    transposed = np.transpose(image, (1, 0, 2))
    np.testing.assert_allclose(value(kd.TotalVariation(), [transposed]),
                               [S**2 * 3 * 90**2 / 9], rtol=1e-6)


def test_total_variation_sums_over_channels():
    # Channel 1 is twice channel 0 and channel 2 is flat: (1 + 4 + 0) times
    # the one-channel energy for beta = 2, (1 + 2 + 0) times for beta = 1.
    image = np.concatenate([RAMP, 2 * RAMP, np.full_like(RAMP, 9.0)], axis=-1)
    np.testing.assert_allclose(value(kd.TotalVariation(), [image]), [5 * S**2 * 9600 / 4],
                               rtol=1e-6)
    np.testing.assert_allclose(value(kd.TotalVariation(beta=1), [image]),
                               [3 * S * (math.sqrt(8000) + 40) / 4], rtol=1e-5)


def test_total_variation_non_default_scale_and_bound():
    # scale 1, bound 1: no rescaling; beta 2 on the ramp is 9600 / 4.
    term = kd.TotalVariation(beta=2, bound=1.0, scale=1.0)
    np.testing.assert_allclose(value(term, [RAMP]), [2400.0], rtol=1e-6)


def test_priors_work_per_dream():
    np.testing.assert_allclose(value(kd.TotalVariation(), [RAMP, RAMP * 0, 2 * RAMP]),
                               [S**2 * 2400, 0.0, 4 * S**2 * 2400], rtol=1e-6, atol=1e-12)


# ------------------------------------------------------ as objective terms


def test_priors_read_the_image_and_compose_as_penalties():
    assert kd.AlphaNorm().keys == [IMAGE] == kd.TotalVariation().keys
    objective = -kd.AlphaNorm() - 0.5 * kd.TotalVariation()
    assert repr(objective) == "-AlphaNorm(6.0, 80.0, 127.5) - 0.5 * TotalVariation(2.0, 80.0, 6.5)"
    image = np.concatenate([RAMP, RAMP, RAMP], axis=-1) + 127.5
    # AlphaNorm: offsets (0, 80, 40, 40) * (1, 1, 1): ||v|| = sqrt(3) * (0, 1, .5, .5)
    alpha = (0 + 3**3 + 2 * (3**3 / 64)) / 4
    tv = 3 * S**2 * 9600 / 4
    np.testing.assert_allclose(value(objective, [image]), [-alpha - 0.5 * tv], rtol=1e-5)


@pytest.mark.parametrize(
    "prior", [kd.AlphaNorm(), kd.AlphaNorm(alpha=3, bound=50, center=100),
              kd.TotalVariation(), kd.TotalVariation(beta=1, bound=40, scale=2)],
    ids=repr,
)
def test_priors_round_trip_through_keras_serialization(prior):
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(prior))
    assert type(restored) is type(prior) and repr(restored) == repr(prior)
    images = np.random.default_rng(0).uniform(0, 255, (2, 3, 3, 3)).astype("float32")
    np.testing.assert_array_equal(value(restored, images), value(prior, images))
