"""MACO: fixed magnitude spectrum, phase-only dreams, crops and noise, transparency maps."""

import os

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream import io, saving
from kerasdream.cli import commands as cli
from kerasdream.param import maco
from kerasdream.errors import DreamError
from kerasdream.generator import DreamGenerator
from kerasdream.param.maco import Crop, Maco, Noise
from kerasdream.param.fourier import COLOR_MIX

from conftest import colour_picker, tiny_cnn


def _image(layer, raw):
    return keras.ops.convert_to_numpy(layer(np.asarray(raw, "float32").reshape(-1, *layer.raw_shape)))


def _random_phase(layer, rows=1, seed=0):
    return np.random.default_rng(seed).normal(0, np.pi, (rows, layer.raw_size))


def _hermitian_magnitude(height, width, channels, seed=0):
    """Small random magnitudes with a real image's symmetry |X(-k, l)| = |X(k, l)|
    in the columns that hold it, and a DC of mean 128: no pixel leaves [0, 255]."""
    rng = np.random.default_rng(seed)
    magnitude = rng.uniform(0, 30 * np.sqrt(height * width), (channels, height, width // 2 + 1))
    mirror = (-np.arange(height)) % height
    for column in [0] + ([width // 2] if width % 2 == 0 else []):
        magnitude[:, :, column] = 0.5 * (magnitude[:, :, column] + magnitude[:, mirror, column])
    magnitude[:, 0, 0] = 128.0 * height * width
    return magnitude.astype("float32")


def test_a_two_by_two_maco_image_is_its_spectrum_whatever_the_phase():
    # Every bin of a 2x2 spectrum is its own conjugate: no phase is free.
    # x[n, m] = (400 + 40 (-1)^m + 80 (-1)^n) / 4.
    layer = Maco((2, 2, 1), magnitude=[[[400.0, 40.0], [80.0, 0.0]]], decorrelate=False)
    for seed in range(3):
        image = _image(layer, _random_phase(layer, seed=seed))[0, ..., 0]
        np.testing.assert_allclose(image, [[130.0, 110.0], [90.0, 70.0]], atol=1e-4)


@pytest.mark.parametrize("shape", [(8, 8, 3), (6, 5, 1), (7, 6, 3)])
def test_the_maco_image_has_exactly_the_given_magnitude_spectrum(shape):
    magnitude = _hermitian_magnitude(*shape)
    layer = Maco(shape, magnitude=magnitude, decorrelate=False)
    images = _image(layer, _random_phase(layer, rows=2))
    assert 0 < images.min() and images.max() < 255  # nothing clipped
    spectrum = np.abs(np.fft.rfft2(np.transpose(images, (0, 3, 1, 2))))
    np.testing.assert_allclose(spectrum, np.broadcast_to(magnitude, spectrum.shape),
                               rtol=1e-4, atol=1e-3 * shape[0] * shape[1])


def test_with_decorrelated_colour_the_spectrum_is_exact_in_that_colour_space():
    layer = Maco((16, 16, 3))  # the shipped spectrum, resampled to 16 px
    raw = _random_phase(layer, rows=2).astype("float32").reshape(-1, *layer.raw_shape)
    spectral = keras.ops.convert_to_numpy(layer.spectral_image(raw))
    np.testing.assert_allclose(maco.magnitude_of(spectral @ COLOR_MIX.T),
                               np.broadcast_to(np.abs(layer.magnitude), (2, 3, 16, 9)),
                               rtol=1e-3, atol=1e-3 * np.abs(layer.magnitude).max())
    np.testing.assert_allclose(_image(layer, raw), np.clip(spectral @ COLOR_MIX.T, 0, 255),
                               atol=1e-3)


def test_a_flat_image_cannot_be_represented():
    layer = Maco((8, 8, 3), magnitude=_hermitian_magnitude(8, 8, 3), decorrelate=False)
    images = _image(layer, _random_phase(layer, rows=3))
    # Parseval: every phase gives the same pixel variance, far from flat.
    std = images.std(axis=(1, 2))
    np.testing.assert_allclose(std, np.broadcast_to(std[0], std.shape), rtol=1e-4)
    assert std.min() > 5


@pytest.mark.parametrize("decorrelate", [False, True])
def test_a_photo_comes_back_from_its_phase_with_its_own_magnitude(decorrelate):
    photo = np.random.default_rng(1).uniform(30, 220, (6, 8, 3)).astype("float32")
    magnitude = maco.compute_spectrum([photo], decorrelate=decorrelate, window=False)
    layer = Maco(photo.shape, magnitude=magnitude, decorrelate=decorrelate)
    np.testing.assert_allclose(_image(layer, layer.inverse(photo[None]))[0], photo, atol=1e-2)


def test_a_windowed_spectrum_keeps_a_periodic_images_power():
    # A periodic pattern has no border jump: the window changes little of its power.
    y, x = np.mgrid[0:16, 0:16]
    image = (120 + 40 * np.sin(2 * np.pi * (3 * x + 2 * y) / 16))[..., None].repeat(3, -1)
    raw = maco.compute_spectrum([image], window=False)
    windowed = maco.compute_spectrum([image], window=True)
    np.testing.assert_allclose(windowed[:, 0, 0], raw[:, 0, 0], rtol=1e-6)  # the mean
    np.testing.assert_allclose(maco._image_power(windowed[0], 16),
                               maco._image_power(raw[0], 16), rtol=0.05)


def test_the_shipped_spectrum_is_resampled_keeping_mean_and_pixel_variance():
    shipped = maco.spectrum_for((224, 224))  # the one others are resampled from
    small = maco.spectrum_for((20, 24))
    assert small.shape == (3, 20, 13)
    np.testing.assert_allclose(small[:, 0, 0] / (20 * 24), shipped[:, 0, 0] / 224**2, rtol=1e-5)
    variance = lambda m, w: maco._image_power(m, w) - (m[0, 0] / (m.shape[0] * w)) ** 2  # noqa
    for c in range(3):
        np.testing.assert_allclose(variance(small[c], 24), variance(shipped[c], 224), rtol=1e-3)


def test_serialization_round_trips_keep_the_spectrum():
    shipped = Maco((16, 16, 3))
    assert shipped.get_config()["magnitude"] is None  # the package's, not copied
    custom = Maco((6, 5, 1), magnitude=_hermitian_magnitude(6, 5, 1), decorrelate=False)
    for layer in (shipped, custom):
        again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
        assert isinstance(again, Maco) and again.decorrelate == layer.decorrelate
        np.testing.assert_array_equal(again.magnitude, layer.magnitude)
        raw = _random_phase(layer)
        np.testing.assert_array_equal(_image(again, raw), _image(layer, raw))
    for cls, kwargs in ((Crop, {"min_fraction": 0.5, "seed": 3}), (Noise, {"stddev": 4.0})):
        again = cls.from_config(cls(**kwargs).get_config())
        assert {k: again.get_config()[k] for k in kwargs} == kwargs


def test_a_saved_maco_dream_reloads_with_the_same_image(tmp_path):
    generator = DreamGenerator(2, (6, 5, 1), Maco((6, 5, 1), _hermitian_magnitude(6, 5, 1),
                                                  decorrelate=False), seed=4)
    path = str(tmp_path / "dream.keras")
    saving.save_dream(generator, path)
    np.testing.assert_array_equal(saving.load_dream(path).images(), generator.images())


def test_crop_and_noise_change_nothing_outside_training_and_are_shared_by_the_batch():
    images = np.random.default_rng(0).uniform(0, 255, (3, 12, 12, 3)).astype("float32")
    for transform in (Crop(0.5, seed=1), Noise(5.0, seed=1)):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(transform(images)), images)
        moved = keras.ops.convert_to_numpy(transform(images, training=True))
        transform.reset_seed()
        alone = keras.ops.convert_to_numpy(transform(images[1:2], training=True))
        np.testing.assert_allclose(moved[1:2], alone, atol=1e-4)
        assert np.abs(moved - images).max() > 1
    whole = Crop(1.0, seed=2)(images, training=True)  # a crop of the full side: the image
    np.testing.assert_allclose(keras.ops.convert_to_numpy(whole), images, atol=1e-3)


@pytest.mark.backends  # also on JAX and PyTorch: tests/test_backends.py
def test_the_transparency_map_is_the_accumulated_image_gradient():
    # Channel 0 of the colour picker is the mean red: d value / d red pixel =
    # 1 / (H W) everywhere, 0 for green and blue; 3 steps accumulate 3 / 16.
    model = kd.DreamModel(kd.Channel("pick", 0), colour_picker(size=4), size=4,
                          parameterization="maco", transforms=None)
    model.compile()
    model.fit(3)
    expected = np.zeros((1, 4, 4, 3), "float32")
    expected[..., 0] = 3 / 16
    np.testing.assert_allclose(model.transparency(), expected, atol=1e-6)
    model.restart()
    np.testing.assert_array_equal(model.transparency(), np.zeros_like(expected))
    assert kd.DreamModel(kd.Channel("pick", 0), colour_picker(size=4), size=4,
                         transforms=None).transparency() is None  # Fourier: none by default


def test_overlay_uses_the_map_as_alpha_capped_at_its_percentile():
    image = np.full((2, 2, 3), 200, "uint8")
    transparency = np.array([[[0.0], [1.0]], [[2.0], [4.0]]]).repeat(3, axis=-1)
    rgba = maco.overlay(image, transparency, percentile=50)  # cap: 1.5
    np.testing.assert_array_equal(rgba[..., :3], image)
    np.testing.assert_array_equal(rgba[..., 3], [[0, 170], [255, 255]])
    np.testing.assert_array_equal(maco.transparency_image(transparency)[..., 0],
                                  [[0, 64], [128, 255]])


def test_bad_spectra_are_clear_errors(tmp_path):
    with pytest.raises(DreamError, match="--spectrum"):
        Maco((8, 8, 1))
    with pytest.raises(DreamError, match=r"Received: magnitude of shape \(1, 8, 8\)"):
        Maco((8, 8, 1), magnitude=np.ones((1, 8, 8)), decorrelate=False)
    with pytest.raises(DreamError, match="Spectrum folder not found"):
        maco.folder_spectrum(str(tmp_path / "missing"), (8, 8))
    with pytest.raises(DreamError, match="No photos"):
        maco.folder_spectrum(str(tmp_path), (8, 8))


@pytest.mark.slow
def test_batched_maco_dreams_and_maps_equal_single_ones():
    base = tiny_cnn(16)

    def run(filters):
        model = kd.DreamModel(kd.Channel("relu2", filters), base, size=16,
                              parameterization="maco", transforms="maco", row_keys=filters)
        model.compile()
        model.fit(4)
        return model.images(), model.transparency()

    images, maps = run([1, 4])
    alone, alone_map = run([4])
    np.testing.assert_allclose(images[1], alone[0], atol=1e-3)
    np.testing.assert_allclose(maps[1], alone_map[0], rtol=1e-4, atol=1e-9)
    assert maps.min() >= 0 and maps.max() > 0


@pytest.mark.slow
def test_cli_maco_filters_write_map_and_overlay_beside_each_dream(tmp_path):
    model_path = str(tmp_path / "grey.keras")
    tiny_cnn(channels=1).save(model_path)
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png"):
        io.save_png(str(photos / name), rng.integers(0, 256, (30, 40, 1)).astype("uint8"))
    argv = ["filters", "--model", model_path, "--layer", "relu2", "--filters", "0,2",
            "--size", "16", "--steps", "2", "--parameterization", "maco", "--transforms", "maco",
            "--out", str(tmp_path / "out"), "--models-dir", str(tmp_path / "models"), "--quiet"]
    assert cli.main(argv) == 2  # a greyscale network needs a spectrum of its own
    assert cli.main(argv + ["--spectrum", str(photos)]) == 0
    folder = tmp_path / "out" / "relu2"
    for k in (0, 2):
        overlay = io.load_image(str(folder / f"filter_{k}_overlay.png"))
        assert overlay.shape == (16, 16, 3)  # read back as RGB; saved RGBA
        assert os.path.isfile(folder / f"filter_{k}_transparency.png")
    saved = saving.load_dream(str(tmp_path / "models" / "grey" / "relu2" / "filter_2.keras"))
    assert isinstance(saved.parameterization, Maco)
    np.testing.assert_array_equal(saved.render()[0], io.load_image(str(folder / "filter_2.png"),
                                                                   channels=1))


def test_every_commands_help_shows_the_maco_options():
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, command in commands.items():
        text = command.format_help()  # argparse %-formats every help string
        if "--parameterization" in text:
            assert "maco" in text and "--spectrum" in text, name


def test_a_spectrum_from_a_photo_smaller_than_the_dream_is_a_clear_error_or_resized(tmp_path):
    rng = np.random.default_rng(0)
    small, dream = rng.uniform(0, 255, (8, 8, 3)), rng.uniform(0, 255, (32, 32, 3))
    with pytest.raises(DreamError, match=r"^A spectrum is of images of one size: image 1 is "
                                         r"8x8, the first 32x32.*crops_of"):
        maco.compute_spectrum([dream, small])
    with pytest.raises(DreamError, match=r"the spectrum of 32x32 images: compute it from crops "
                                         r"at the dream's size"):
        Maco((32, 32, 3), magnitude=maco.compute_spectrum([small]))
    # The ways that crop and resize take the small photo to the dream's size.
    crops = maco.crops_of(small, (32, 32))
    assert Maco((32, 32, 3), magnitude=maco.compute_spectrum(crops)).magnitude.shape == (
        3, 32, 17)
    (tmp_path / "photos").mkdir()
    io.save_png(str(tmp_path / "photos" / "small.png"), small.astype("uint8"))
    assert maco.folder_spectrum(str(tmp_path / "photos"), (32, 32)).shape == (3, 32, 17)
