"""MACO: a fixed natural-image magnitude spectrum, only the phase is optimized.

Fel et al., "Unlocking Feature Visualization for Deeper Networks with
MAgnitude Constrained Optimization" (NeurIPS 2023). A dream's kernel row holds
the phase of each colour channel's real 2-D spectrum; its magnitude is the
average spectrum of natural photos and never changes:

    image_c = irfft2(magnitude_c * exp(i * phase_c))      # one channel c
    image   = clip(image @ COLOR_MIX.T, 0, 255)            # decorrelated colour (RGB)

So the image keeps the photos' power at every frequency: by Parseval its
pixel variance is fixed, and a flat image cannot be represented. Its mean
colour is the spectrum's DC, fixed too: an objective that only reads the
mean colour (a 1x1 colour filter's channel mean) cannot change. The
colour channels are Lucid's decorrelated ones (`parameterization.COLOR_MIX`):
in them natural photos' channels are nearly independent, so independent
phases give natural colour statistics. The image's spectrum in that colour
space is exactly `magnitude` wherever no pixel is clipped.

The shipped spectrum (`data/maco_spectrum.npz`, made by
`benchmarks/make_spectrum.py` from the colour photos of `skimage.data`) has
the sizes 128 and 224; other sizes are resampled from it (`spectrum_for`).
`folder_spectrum` computes one from a folder of your own photos, in the
colours your network takes (a greyscale network needs one).

MACO trains under random crops and noise (`Crop`, `Noise`, `maco_transforms`).
The transparency map of a MACO dream is the magnitude of the gradient with
respect to the image, accumulated over training (`DreamModel(transparency=)`);
`overlay` shows it as an alpha channel, as Xplique's `plot_maco` does.
"""

from __future__ import annotations

import base64
import functools
import os
from collections.abc import Iterable, Sequence

import keras
import numpy as np
from keras import ops

from kerasdream.errors import DreamError
from kerasdream.param.base import Parameterization
from kerasdream.param.fourier import COLOR_MIX
from kerasdream.transforms import GeometricTransform, _RandomTransform

SPECTRUM_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                             "maco_spectrum.npz")
SHIPPED_SIZES = (128, 224)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
OVERLAY_PERCENTILE = 80.0  # plot_maco's default: the top 20 % of the map are opaque


# ------------------------------------------------------------------ spectra


def _to_colour_space(images: np.ndarray, decorrelate: bool) -> np.ndarray:
    """(N, H, W, C) pixels -> (N, C, H, W) in the parameterization's colour space."""
    images = np.asarray(images, "float64")
    if decorrelate:
        images = images @ np.linalg.inv(COLOR_MIX.T.astype("float64"))
    return np.transpose(images, (0, 3, 1, 2))


def compute_spectrum(images: Iterable[np.ndarray], decorrelate: bool = True,
                     window: bool = True) -> np.ndarray:
    """The mean magnitude `|rfft2|` of `images` (each (H, W, C), one size), as
    float32 (C, H, W // 2 + 1), in decorrelated colour if `decorrelate` (RGB only).

    With `window`, each image's variation about its mean is seen through a
    2-D Hann window (its power restored by `1 / mean(w^2)`): a photo is not
    periodic, and its raw spectrum carries a bright cross along both axes
    from the jump between opposite borders, which phase-only images turn into
    a grid of fine lines. `window=False` is the raw spectrum.

    Its self-conjugate bins (the DC, and the Nyquist ones of even sides) hold
    real coefficients and carry the sign of their mean: the DC's is the mean
    colour's (a colour channel's mean can be negative in the decorrelated
    space). So the spectrum of one photo is that photo's, exactly.
    """
    total, count, real, mean, first = None, 0, None, None, None
    for image in images:
        image = np.asarray(image, "float64")[None]
        if count and image.shape[1:3] != first:
            raise DreamError(
                f"A spectrum is of images of one size: image {count} is "
                f"{image.shape[1]}x{image.shape[2]}, the first {first[0]}x{first[1]}. Crop "
                f"each photo to the dream's size first (crops_of(photo, size) or "
                f"folder_spectrum(folder, size) crop and resize any photo, smaller ones "
                f"too). Received: image of shape {image.shape[1:]}")
        first = image.shape[1:3]
        decorrelate_here = decorrelate and image.shape[-1] == 3
        pixels = _to_colour_space(image, decorrelate_here)[0]  # (C, H, W)
        means = pixels.mean(axis=(1, 2))
        if window:
            w = np.outer(np.hanning(pixels.shape[1]), np.hanning(pixels.shape[2]))
            w = w / np.sqrt(np.mean(w**2)) if np.any(w) else np.ones_like(w)
            pixels = (pixels - means[:, None, None]) * w
        spectrum = np.fft.rfft2(pixels)
        total = np.abs(spectrum) if total is None else total + np.abs(spectrum)
        real = spectrum.real if real is None else real + spectrum.real
        mean = means if mean is None else mean + means
        count, width = count + 1, image.shape[2]
    if not count:
        raise DreamError("No images to compute a spectrum from.")
    magnitude = total / count
    conjugate = self_conjugate(magnitude.shape[1], width)
    magnitude[:, conjugate] *= np.where(real[:, conjugate] < 0, -1.0, 1.0)
    magnitude[:, 0, 0] = mean / count * magnitude.shape[1] * width  # the mean colour, signed
    return magnitude.astype("float32")


def self_conjugate(height: int, width: int) -> np.ndarray:
    """Which bins of an rfft2 (H, W//2+1) are their own conjugate: real for a real image."""
    mask = np.zeros((height, width // 2 + 1), bool)
    rows = [0] + ([height // 2] if height % 2 == 0 else [])
    columns = [0] + ([width // 2] if width % 2 == 0 else [])
    mask[np.ix_(rows, columns)] = True
    return mask


def crops_of(photo: np.ndarray, size: tuple[int, int]) -> list[np.ndarray]:
    """Deterministic crops of a photo at `size`, float32 (the yardstick's six
    views: `kerasdream.evaluation.natural.photo_crops`)."""
    from kerasdream.evaluation.natural import photo_crops

    return list(photo_crops(photo, size).astype("float32"))


def resample_spectrum(magnitude: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`magnitude` (C, H, W//2+1) of H x W images as that of `size` images.

    Interpolated over frequency (in cycles per image side, centred), then
    scaled so the images keep their mean and their pixel variance.
    """
    from PIL import Image

    magnitude = np.asarray(magnitude, "float64")
    channels, height = magnitude.shape[:2]
    width = 2 * (magnitude.shape[2] - 1)  # the shipped sizes are even
    new_h, new_w = size
    out = np.zeros((channels, new_h, new_w // 2 + 1))
    for c in range(channels):
        full = np.abs(_full_spectrum(magnitude[c], width))
        centred = np.fft.fftshift(full)
        resized = Image.fromarray(centred.astype("float32"), mode="F").resize(
            (new_w, new_h), Image.BILINEAR)
        spectrum = np.fft.ifftshift(np.asarray(resized, "float64"))[:, : new_w // 2 + 1]
        spectrum = 0.5 * (spectrum + spectrum[(-np.arange(new_h)) % new_h])  # |X(-k)| = |X(k)|
        mean = magnitude[c, 0, 0] / (height * width)
        power = _image_power(magnitude[c], width) - mean**2  # per-pixel variance
        spectrum[0, 0] = 0.0
        have = _image_power(spectrum, new_w)
        spectrum *= np.sqrt(power / have) if have > 0 else 0.0
        spectrum[0, 0] = mean * new_h * new_w
        out[c] = spectrum
    return out.astype("float32")


def _full_spectrum(half: np.ndarray, width: int) -> np.ndarray:
    """A real image's full (H, W) spectrum from its rfft2 half (H, W//2+1)."""
    height = half.shape[0]
    full = np.zeros((height, width), dtype=half.dtype)
    full[:, : half.shape[1]] = half
    rest = np.arange(half.shape[1], width)
    full[:, rest] = np.conj(half[(-np.arange(height)) % height][:, width - rest])
    return full


def _image_power(half: np.ndarray, width: int) -> float:
    """Mean squared pixel of the image with rfft2 magnitude `half` (Parseval)."""
    height = half.shape[0]
    return float(np.sum(np.abs(_full_spectrum(half, width)) ** 2)) / (height * width) ** 2


@functools.lru_cache(maxsize=16)
def _shipped(size: tuple[int, int]) -> np.ndarray:
    with np.load(SPECTRUM_FILE) as data:
        if f"size_{size[0]}x{size[1]}" in data:
            return data[f"size_{size[0]}x{size[1]}"].astype("float32")
        largest = max(SHIPPED_SIZES)
        source = data[f"size_{largest}x{largest}"]
    return resample_spectrum(source, size)


def spectrum_for(size: Sequence[int], channels: int = 3) -> np.ndarray:
    """The shipped natural-photo spectrum (decorrelated RGB) for `size` images."""
    if channels != 3:
        raise DreamError(
            f"MACO's shipped spectrum is of RGB photos; a network with {channels} input "
            f"channel(s) needs one from your own photos: --spectrum DIR "
            f"(kerasdream.param.maco.folder_spectrum). Received: channels={channels}")
    return _shipped((int(size[0]), int(size[1]))).copy()


def folder_spectrum(folder: str, size: Sequence[int], channels: int = 3,
                    decorrelate: bool = True) -> np.ndarray:
    """The mean magnitude spectrum of the photos in `folder` (six crops each)
    at `size`, read with `channels` colour channels."""
    from kerasdream import io

    if not os.path.isdir(folder):
        raise DreamError(f"Spectrum folder not found. Expected a folder of PNG or JPEG "
                         f"photos. Received: spectrum={folder!r}")
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS))
    if not names:
        raise DreamError(f"No photos ({', '.join(IMAGE_EXTENSIONS)}) in the spectrum folder. "
                         f"Received: spectrum={folder!r}")
    size = (int(size[0]), int(size[1]))
    crops = (crop for name in names
             for crop in crops_of(io.load_image(os.path.join(folder, name), channels=channels),
                                  size))
    return compute_spectrum(crops, decorrelate=decorrelate and channels == 3)


# ------------------------------------------------------------ parameterization


def _encode(array: np.ndarray) -> dict:
    array = np.ascontiguousarray(array, dtype="float32")
    return {"shape": list(array.shape), "float32": base64.b64encode(array.tobytes()).decode()}


def _decode(value) -> np.ndarray:
    if isinstance(value, dict):
        data = base64.b64decode(value["float32"])
        return np.frombuffer(data, dtype="float32").reshape(value["shape"]).copy()
    return np.asarray(value, "float32")


@keras.saving.register_keras_serializable(package="kerasdream")
class Maco(Parameterization):
    """Phase-only Fourier images with a fixed magnitude spectrum (MACO).

    Raw shape `(C, H, W // 2 + 1)`: one phase per frequency and channel.

    Args:
        image_shape: (height, width, channels).
        magnitude: (C, H, W//2+1) magnitudes, its DC bin signed (the mean
            colour); default the shipped spectrum of `skimage.data` photos.
        decorrelate: the spectrum is of Lucid's decorrelated colours (RGB).
    """

    init_stddev = float(np.pi)  # phases nearly uniform on the circle

    def __init__(self, image_shape, magnitude=None, decorrelate: bool = True, **kwargs):
        super().__init__(image_shape, **kwargs)
        height, width, channels = self.image_shape
        self.decorrelate = bool(decorrelate) and channels == 3
        self.shipped = magnitude is None
        if magnitude is None:
            if channels == 3 and not self.decorrelate:
                raise DreamError("The shipped MACO spectrum is of decorrelated colours: "
                                 "pass magnitude= for decorrelate=False.")
            magnitude = spectrum_for((height, width), channels)
        magnitude = _decode(magnitude)
        expected = (channels, height, width // 2 + 1)
        if magnitude.shape != expected:
            raise DreamError(f"MACO's magnitude must have shape (channels, height, width // 2 "
                             f"+ 1) = {expected}, the spectrum of {height}x{width} images: "
                             f"compute it from crops at the dream's size (crops_of(photo, "
                             f"({height}, {width})) or folder_spectrum(folder, ({height}, "
                             f"{width})), which resize a smaller photo). Received: magnitude "
                             f"of shape {magnitude.shape}")
        self.magnitude = magnitude
        # The bins whose phase is not free: a real image has X(-k, 0) =
        # conj(X(k, 0)) (and likewise in the Nyquist column of an even
        # width), so there the phase is antisymmetrized, (phi(k) - phi(-k)) / 2,
        # which also holds the self-conjugate bins (DC, Nyquist) at 0, plus
        # pi where the magnitude is negative (a real coefficient's sign).
        self._mirror = ((-np.arange(height)) % height).astype("int32")
        offset = np.zeros(expected, "float32")
        offset[:, self_conjugate(height, width)] = np.where(
            magnitude[:, self_conjugate(height, width)] < 0, np.pi, 0.0)
        self._offset = offset
        self._abs_magnitude = np.abs(magnitude)

    @property
    def raw_shape(self):
        height, width, channels = self.image_shape
        return (channels, height, width // 2 + 1)

    def phase(self, raw):
        """The effective phase: free bins as they are, mirrored columns antisymmetrized
        (sliced out and back: a gather over the whole spectrum cost twice the time)."""
        width = self.image_shape[1]
        mirror = ops.convert_to_tensor(self._mirror)

        def antisymmetric(column):
            return 0.5 * (column - ops.take(column, mirror, axis=-2))

        even = width % 2 == 0
        parts = [antisymmetric(raw[..., :1]), raw[..., 1:-1] if even else raw[..., 1:]]
        if even and width > 1:
            parts.append(antisymmetric(raw[..., -1:]))
        return ops.concatenate(parts, axis=-1) + ops.convert_to_tensor(self._offset)

    def spectral_image(self, raw):
        """The unclipped image (N, H, W, C) in the colour space of the spectrum."""
        height, width, _ = self.image_shape
        phase = self.phase(raw)
        magnitude = ops.convert_to_tensor(self._abs_magnitude)
        real, imag = magnitude * ops.cos(phase), magnitude * ops.sin(phase)
        # Inverse DFT over the height axis (complex): ifft(z) = conj(fft(conj(z))) / H.
        real, imag = ops.transpose(real, (0, 1, 3, 2)), ops.transpose(imag, (0, 1, 3, 2))
        fr, fi = ops.fft((real, -imag))
        real = ops.transpose(fr, (0, 1, 3, 2)) / height
        imag = ops.transpose(-fi, (0, 1, 3, 2)) / height
        image = ops.irfft((real, imag), fft_length=width)  # (N, C, H, W)
        return ops.transpose(image, (0, 2, 3, 1))

    def call(self, raw):
        image = self.spectral_image(raw)
        if self.decorrelate:
            image = ops.matmul(image, ops.convert_to_tensor(COLOR_MIX.T))
        return ops.clip(image, 0.0, 255.0)

    def inverse(self, images):
        """The phases of `images` (their magnitude is replaced by the fixed one)."""
        spectrum = np.fft.rfft2(_to_colour_space(images, self.decorrelate))
        return np.angle(spectrum).reshape(len(images), -1).astype("float32")

    def get_config(self):
        config = {**super().get_config(), "decorrelate": self.decorrelate}
        config["magnitude"] = None if self.shipped else _encode(self.magnitude)
        return config



def magnitude_of(images: np.ndarray, decorrelate: bool = True) -> np.ndarray:
    """`|rfft2|` of images (N, H, W, C) in the colour space MACO fixes: (N, C, H, W//2+1)."""
    images = np.asarray(images)
    return np.abs(np.fft.rfft2(_to_colour_space(images, decorrelate and images.shape[-1] == 3)))


# ------------------------------------------------------------------ transforms


@keras.saving.register_keras_serializable(package="kerasdream")
class Crop(GeometricTransform):
    """A random square-ish crop of `min_fraction` to 1 of each side, resized back
    to the full image (MACO's random crops; one crop a step for the batch)."""

    def __init__(self, min_fraction: float = 0.6, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        if not 0.0 < float(min_fraction) <= 1.0:
            raise DreamError(f"Crop fraction must be in (0, 1]. "
                             f"Received: min_fraction={min_fraction}")
        self.min_fraction = float(min_fraction)

    def sampling_matrix(self, height, width):
        fraction, fy, fx = ops.unstack(
            keras.random.uniform((3,), 0.0, 1.0, seed=self.seed_generator), 3)
        fraction = self.min_fraction + (1.0 - self.min_fraction) * fraction
        top = fy * (1.0 - fraction) * (height - 1)
        left = fx * (1.0 - fraction) * (width - 1)
        zero, one = ops.zeros_like(fraction), ops.ones_like(fraction)
        # Output pixel (x, y) samples input (f x + left, f y + top).
        return ops.reshape(ops.stack([fraction, zero, left, zero, fraction, top,
                                      zero, zero, one]), (3, 3))

    def get_config(self):
        return {**super().get_config(), "min_fraction": self.min_fraction}


@keras.saving.register_keras_serializable(package="kerasdream")
class Noise(_RandomTransform):
    """Add Gaussian noise of `stddev` grey levels (one draw a step, shared by
    the batch, so batched dreams see what single ones see)."""

    def __init__(self, stddev: float = 10.0, seed: int | None = None, **kwargs):
        super().__init__(seed, **kwargs)
        if not float(stddev) >= 0:
            raise DreamError(f"Noise must be 0 or more grey levels. Received: stddev={stddev}")
        self.stddev = float(stddev)

    def transform(self, images):
        noise = keras.random.normal((1, *images.shape[1:]), stddev=self.stddev,
                                    seed=self.seed_generator)
        return images + ops.cast(noise, images.dtype)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


def maco_transforms(size: int = 128) -> list[keras.layers.Layer]:
    """MACO's views: a random crop of 60-100 % of each side, then noise of 10
    grey levels (Xplique's 0.08 on a [-1, 1] range)."""
    return [Crop(0.6), Noise(10.0)]


# ------------------------------------------------------------------ transparency


def transparency_alpha(transparency: np.ndarray,
                       percentile: float = OVERLAY_PERCENTILE) -> np.ndarray:
    """An accumulated gradient magnitude (H, W, C) as alpha in [0, 1] (H, W, 1):
    the channel mean, capped at its `percentile`-th percentile, divided by the cap."""
    alpha = np.mean(np.asarray(transparency, "float64"), axis=-1, keepdims=True)
    cap = np.percentile(alpha, percentile)
    if not cap > 0:
        return np.ones_like(alpha)
    return np.clip(alpha, 0.0, cap) / cap


def transparency_image(transparency: np.ndarray) -> np.ndarray:
    """The map as a uint8 greyscale picture (H, W, 1), brightest where it is largest."""
    alpha = np.mean(np.asarray(transparency, "float64"), axis=-1, keepdims=True)
    top = alpha.max()
    return np.round(255 * (alpha / top if top > 0 else alpha)).astype("uint8")


def overlay(image: np.ndarray, transparency: np.ndarray,
            percentile: float = OVERLAY_PERCENTILE) -> np.ndarray:
    """The dream with its transparency map as alpha: RGBA uint8 (H, W, 4), as
    Xplique's `plot_maco` shows a MACO dream (where the gradient was small,
    the picture fades)."""
    image = np.asarray(image)
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    alpha = transparency_alpha(transparency, percentile)
    return np.concatenate([image[..., :3].astype("uint8"),
                           np.round(255 * alpha).astype("uint8")], axis=-1)
