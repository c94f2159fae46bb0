"""How kernel rows become images: pixels, bounded pixels and Fourier spectra."""

import math

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream import param
from kerasdream.param import fourier as parameterization
from kerasdream.param.fourier import Fourier
from kerasdream.param.pixels import BoundedPixels, Pixels


def run(layer, raw):
    raw = np.asarray(raw, "float32").reshape(-1, *layer.raw_shape)
    return keras.ops.convert_to_numpy(layer(raw))


def random_images(shape, seed=0, low=5.0, high=250.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype("float32")


# ----------------------------------------------------------------- Pixels


def test_pixels_are_255_times_the_sigmoid():
    layer = Pixels((1, 2, 3))
    assert layer.raw_shape == (1, 2, 3) and layer.raw_size == 6
    # sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4, sigmoid(-ln 3) = 1/4, sigmoid(ln 9) = 9/10
    raw = [[[[0.0, math.log(3), -math.log(3)], [math.log(9), -50.0, 50.0]]]]
    expected = [[[[127.5, 191.25, 63.75], [229.5, 0.0, 255.0]]]]
    np.testing.assert_allclose(run(layer, raw), expected, rtol=1e-6, atol=1e-6)


def test_pixels_inverse_round_trip():
    layer = Pixels((4, 3, 3))
    images = random_images((2, 4, 3, 3))
    raw = layer.inverse(images)
    assert raw.shape == (2, 36)
    np.testing.assert_allclose(run(layer, raw), images, atol=1e-3)


# ---------------------------------------------------------- BoundedPixels


def test_bounded_pixels_default_scale_clamp_and_clip():
    layer = BoundedPixels((1, 3, 3))
    raw = [[[
        [0.5, 0.0, 0.0],  # offset 80 * raw = (40, 0, 0), norm 40 < 160: kept
        [3.0, 4.0, 0.0],  # offset (240, 320, 0), norm 400: scaled by 160/400 to (96, 128, 0)
        [-3.0, 0.0, -4.0],  # offset (-240, 0, -320) -> (-96, 0, -128)
    ]]]
    expected = [[[
        [127.5 + 40, 127.5, 127.5],
        [127.5 + 96, 255.0, 127.5],  # 127.5 + 128 = 255.5, clipped to 255
        [127.5 - 96, 127.5, 0.0],  # 127.5 - 128 = -0.5, clipped to 0
    ]]]
    np.testing.assert_allclose(run(layer, raw), expected, rtol=1e-6, atol=1e-4)


def test_bounded_pixels_norm_of_the_offset_never_exceeds_the_bound():
    layer = BoundedPixels((5, 5, 3))
    raw = np.random.default_rng(1).normal(0, 3, (2, 5, 5, 3))
    images = run(layer, raw)
    # Far out pixels sit on the sphere of radius 160 (before the [0, 255] clip,
    # which only moves a pixel towards the centre).
    norms = np.linalg.norm(images - 127.5, axis=-1)
    assert norms.max() <= 160.0 + 1e-3
    assert images.min() >= 0.0 and images.max() <= 255.0


def test_bounded_pixels_non_default_constants():
    layer = BoundedPixels((1, 2, 3), bound=10.0, center=0.0, scale=1.0)
    raw = [[[[6.0, 8.0, 0.0], [0.0, 12.0, -16.0]]]]
    # (6, 8, 0) has norm 10: kept. (0, 12, -16) has norm 20: halved to (0, 6, -8),
    # then clipped to [0, 255]: (0, 6, 0).
    np.testing.assert_allclose(run(layer, raw), [[[[6, 8, 0], [0, 6, 0]]]], atol=1e-4)


def test_bounded_pixels_inverse_round_trip_inside_the_bound():
    layer = BoundedPixels((3, 3, 3))
    images = random_images((2, 3, 3, 3), low=80.0, high=175.0)  # norm < 160 around 127.5
    np.testing.assert_allclose(run(layer, layer.inverse(images)), images, atol=1e-3)


# ---------------------------------------------------------------- Fourier


def test_fourier_raw_shape_is_a_spectrum_per_channel():
    layer = Fourier((8, 6, 3))
    assert layer.raw_shape == (2, 3, 8, 6) and layer.raw_size == 2 * 3 * 8 * 6


@pytest.mark.parametrize("shape, kwargs", [
    ((8, 6, 3), {}),
    ((7, 7, 3), {"decay": 1.5}),
    ((6, 8, 3), {"decorrelate": False}),
    ((5, 4, 1), {}),
])
def test_fourier_inverse_round_trip(shape, kwargs):
    layer = Fourier(shape, **kwargs)
    images = random_images((3, *shape), seed=2)
    raw = layer.inverse(images)
    assert raw.shape == (3, layer.raw_size)
    np.testing.assert_allclose(run(layer, raw), images, atol=0.5)


def fft_fourier(layer, raw):
    """The Fourier layer as it was before the matmul DFT: the real part of a
    full complex inverse FFT, in NumPy's float64."""
    raw = np.asarray(raw, "float64").reshape(-1, *layer.raw_shape)
    spectrum = (raw[:, 0] + 1j * raw[:, 1]) * layer.spectrum_scale
    logits = np.transpose(np.fft.ifft2(spectrum).real, (0, 2, 3, 1))
    if layer.decorrelate:
        logits = logits @ parameterization.COLOR_MIX.T.astype("float64")
    return 255.0 / (1.0 + np.exp(-logits))


@pytest.mark.parametrize("shape, kwargs", [
    ((16, 16, 3), {}), ((12, 20, 3), {"decay": 1.5}), ((7, 9, 1), {}),
    ((128, 128, 3), {}), ((5, 7, 3), {}), ((6, 4, 3), {}), ((9, 9, 3), {}), ((2, 1, 3), {}),
    ((5, 70, 3), {}), ((66, 9, 1), {}),  # above EINSUM_DFT_MAX_SIDE: the folded rows
    ((6, 390, 3), {}),  # the last one above MATMUL_DFT_MAX_SIDE: FFT
])
def test_fourier_matmul_dft_gives_the_images_of_the_inverse_fft(shape, kwargs):
    layer = Fourier(shape, **kwargs)
    raw = np.random.default_rng(3).normal(0, 1, (2, layer.raw_size))
    np.testing.assert_allclose(run(layer, raw), fft_fourier(layer, raw), atol=2e-3)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="JAX and PyTorch: the FFT")
def test_fourier_picks_its_dft_by_size():
    assert Fourier((64, 48, 3))._dft_path == "einsum"  # fewest ops to trace
    assert Fourier((5, 65, 3))._dft_path == "folded"  # half the multiply-adds
    assert Fourier((6, 390, 3))._dft_path == "fft"


@pytest.mark.parametrize("height, width", [(10, 14), (5, 7), (6, 4), (9, 9), (5, 70)])
def test_fourier_gradient_is_the_inverse_fft_gradient(height, width):
    """The kernel's gradient (what trains a dream) matches the FFT's adjoint:
    d sum(w * logits) / d raw = scale * (Re, Im) of conj(ifft2)^T w."""
    layer = Fourier((height, width, 1))
    raw = np.random.default_rng(4).normal(0, 1, (1, layer.raw_size)).astype("float32")
    weights = np.random.default_rng(5).normal(0, 1, (1, height, width, 1))
    import tensorflow as tf

    tensor = tf.constant(raw.reshape(-1, *layer.raw_shape))
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        pixels = layer(tensor)
        logits = tf.math.log(pixels / (255.0 - pixels))
        total = tf.reduce_sum(logits * weights)
    gradient = tape.gradient(total, tensor).numpy()[0]
    # d Re(ifft2(X))[y, x] / d X[u, v] = exp(2 pi i (uy/H + vx/W)) / (H W)
    adjoint = np.fft.fft2(weights[0, :, :, 0]).conj() / (height * width)
    expected = np.stack([adjoint.real, -adjoint.imag])[:, None] * layer.spectrum_scale
    np.testing.assert_allclose(gradient, expected, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("height, width", [(5, 7), (6, 4), (9, 9), (4, 6), (1, 3), (2, 2)])
def test_real_inverse_dft_is_the_real_part_of_ifft2_in_float64(height, width):
    """The folded-rows products are exactly Re(ifft2(A + iB)), odd and even
    sides alike (an odd height has no self-paired row H/2)."""
    spectrum = np.random.default_rng(6).normal(0, 1, (2, 2, 3, height, width))
    matrices = parameterization.real_inverse_dft_matrices(height, width, "float64")
    images = np.asarray(parameterization.real_inverse_dft(spectrum, matrices))
    expected = np.fft.ifft2(spectrum[:, 0] + 1j * spectrum[:, 1]).real
    np.testing.assert_allclose(images, np.transpose(expected, (0, 2, 3, 1)), rtol=0, atol=1e-12)


def test_fourier_of_zeros_is_uniform_grey():
    layer = Fourier((8, 6, 3))
    np.testing.assert_allclose(run(layer, np.zeros((2, layer.raw_size))),
                               np.full((2, 8, 6, 3), 127.5), atol=1e-5)


def test_fourier_unit_variance_spectrum_gives_unit_variance_logits():
    # The 1/f scale is normalized so raw values of variance 1 give pre-sigmoid
    # pixels (logits) of variance 1: sum of squared scales = (H * W) ** 2.
    layer = Fourier((16, 12, 3), decorrelate=False)
    np.testing.assert_allclose(np.sum(layer.spectrum_scale.astype("float64") ** 2),
                               (16 * 12) ** 2, rtol=1e-5)
    raw = np.random.default_rng(5).normal(size=(8, layer.raw_size))
    p = run(layer, raw).astype("float64") / 255.0
    logits = np.log(p / (1 - p))
    assert abs(np.std(logits) - 1.0) < 0.05


def test_fourier_constant_spectrum_term_gives_a_flat_image():
    # Only the zero-frequency (DC) coefficient set: every pixel is the same.
    layer = Fourier((4, 4, 3), decorrelate=False)
    raw = np.zeros((1, *layer.raw_shape), "float32")
    raw[0, 0, :, 0, 0] = [1.0, -1.0, 0.0]
    image = run(layer, raw)[0]
    for c in range(3):
        np.testing.assert_allclose(image[..., c], image[0, 0, c], atol=1e-4)
    assert image[0, 0, 0] > 127.5 > image[0, 0, 1]
    np.testing.assert_allclose(image[0, 0, 2], 127.5, atol=1e-4)


def test_fourier_without_three_channels_cannot_decorrelate():
    assert Fourier((4, 4, 1)).decorrelate is False
    assert Fourier((4, 4, 3)).decorrelate is True


def test_fourier_config_round_trip():
    layer = Fourier((8, 6, 3), decay=1.5, decorrelate=False)
    copy = Fourier.from_config(layer.get_config())
    assert (copy.image_shape, copy.decay, copy.decorrelate) == ((8, 6, 3), 1.5, False)
    np.testing.assert_array_equal(copy.spectrum_scale, layer.spectrum_scale)
    raw = np.random.default_rng(3).normal(size=(2, layer.raw_size))
    np.testing.assert_array_equal(run(copy, raw), run(layer, raw))

    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, Fourier)
    np.testing.assert_array_equal(run(restored, raw), run(layer, raw))


@pytest.mark.parametrize("layer", [
    Pixels((3, 2, 3)), BoundedPixels((3, 2, 3), bound=100.0, center=120.0, scale=50.0),
], ids=lambda layer: type(layer).__name__)
def test_pixel_configs_round_trip(layer):
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer) and restored.image_shape == (3, 2, 3)
    raw = np.random.default_rng(4).normal(0, 2, (2, layer.raw_size))
    np.testing.assert_array_equal(run(restored, raw), run(layer, raw))


# -------------------------------------------------------------------- get


def test_get_by_name_config_or_instance():
    assert type(param.get("pixels", (4, 4, 3))) is Pixels
    assert type(param.get("bounded", (4, 4, 3))) is BoundedPixels
    fourier = param.get("fourier", (4, 4, 3))
    assert type(fourier) is Fourier and fourier.image_shape == (4, 4, 3)
    assert param.get(fourier, (9, 9, 9)) is fourier
    config = keras.saving.serialize_keras_object(Fourier((5, 4, 3), decay=2.0))
    from_config = param.get(config, (4, 4, 3))
    assert type(from_config) is Fourier and from_config.decay == 2.0


def test_get_unknown_name_lists_the_choices():
    with pytest.raises(kd.DreamError,
                       match=r"Expected one of \['bounded', 'fourier', 'maco', 'pixels'\]\. "
                             r"Received: parameterization='fft'"):
        param.get("fft", (4, 4, 3))
