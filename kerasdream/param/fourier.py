"""Fourier images: a spectrum per channel turned into pixels by an inverse DFT.

`Fourier`: a 2-D spectrum with 1/f scaling and decorrelated colour, turned
  into pixels by the real part of an inverse DFT (as in Lucid), which favours
  natural, low-frequency images and helps networks whose ReLUs block a grey
  start. On TensorFlow the inverse DFT is matrix products, which run on the
  network's fast matmul kernels where the CPU FFT is slow. Up to
  `EINSUM_DFT_MAX_SIDE` pixels a side, the full complex products
  (`complex_inverse_dft_matrices`): two ops to trace. Up to
  `MATMUL_DFT_MAX_SIDE`, real products on the spectrum's rows folded
  in pairs u, H - u (`real_inverse_dft`: the real image sees only the
  Hermitian part), half the multiply-adds, each one 2-D matrix product over
  all dreams and channels, faster than the same products batched per image
  channel (`python benchmarks/step_parts.py --levers`, docs/performance.md;
  TensorFlow's `irfft2d` was faster still at 128 px, but takes half the
  spectrum: another raw layout). Fwd + bwd of 16 dreams (scale,
  DFT, colour, sigmoid), the full complex products over the folded rows:
  1.11x at 64 px, 1.24x at 128, 1.47x at 160; the FFT over the folded rows:
  1.56x at 160, 1.65x at 192, 1.50x at 224, 1.39x at 256, 1.33x at 320,
  1.14x at 384 (`python benchmarks/fourier_cost.py --crossover 160 192 224
  256 320 384`, shared 2-core machine, load 1.4-2.5; measured with the
  batched products, slower than today's). Larger images take the
  FFT, whose cost grows more slowly. JAX and PyTorch always take the FFT:
  theirs was faster than either matrix form at 64, 128 and 160 px.

`inverse` maps images back to raw values, so a dream can start from a photo.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kerasdream.param.base import EPSILON, Parameterization

# Lucid's square root of the ImageNet colour correlation matrix.
COLOR_CORRELATION_SVD_SQRT = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype="float32"
)
COLOR_MIX = COLOR_CORRELATION_SVD_SQRT / np.max(
    np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0)
)
MATMUL_DFT_MAX_SIDE = 384  # the folded rows were still 1.14x faster than the FFT here
# Up to this side the full complex einsum pair: its extra multiply-adds cost
# little there (the folded rows were 1.11x faster at 64 px), and it traces
# with about 30 graph ops instead of about 130, 0.07 s less a model.
EINSUM_DFT_MAX_SIDE = 64


def complex_inverse_dft_matrices(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """`(left, right)` with `real(ifft2(A + iB)) = einsum(left, einsum([A, B], right))`,
    for small images (`EINSUM_DFT_MAX_SIDE`): the full complex products, twice
    the multiply-adds of `real_inverse_dft` but two ops to trace instead of
    dozens.

    With Z = (A + iB) F_x (the inverse DFT along the width, F_x = C_x + i S_x),
    `right[k, v, j, x]` maps the stacked (A, B) to the stacked (Re Z, Im Z):
    Re Z = A C_x - B S_x and Im Z = A S_x + B C_x. `left[y, j, u]` then takes
    the real part of the inverse DFT along the height, C_y Re Z - S_y Im Z.
    The 1 / (height * width) of the inverse transform is in the matrices.
    Computed in float64, stored as float32.
    """
    def cos_sin(n):
        angle = 2.0 * np.pi * np.outer(np.arange(n), np.arange(n)) / n
        return np.cos(angle) / n, np.sin(angle) / n

    cos_x, sin_x = cos_sin(width)
    cos_y, sin_y = cos_sin(height)
    right = np.stack([np.stack([cos_x, sin_x], axis=1),
                      np.stack([-sin_x, cos_x], axis=1)])  # (2, W, 2, W): k, v, j, x
    left = np.stack([cos_y, -sin_y], axis=1)  # (H, 2, H): y, j, u
    return left.astype("float32"), right.astype("float32")


def real_inverse_dft_matrices(height: int, width: int,
                              dtype: str = "float32") -> tuple[np.ndarray, ...]:
    """`(sum_right, difference_right, left)`: `real(ifft2(A + iB))` from the rows
    folded by `fold_rows`.

    The real part of the inverse DFT sees only the Hermitian part of the
    spectrum. With Q[u] the inverse DFT of row u along the width and
    phi = 2 pi u y / H, rows u and -u mod H give
    Re(Q[u] e^{i phi} + Q[-u] e^{-i phi}) = Re(Q[u] + Q[-u]) cos phi
    - Im(Q[u] - Q[-u]) sin phi. So only the sums of paired rows (A+, B+) and
    their differences (A-, B-) are needed, and of their width transforms only
    Re = A+ C_x - B+ S_x and Im = A- S_x + B- C_x (C_x[v, x] = cos 2 pi v x / W,
    S_x the sine): `sum_right` is C_x over -S_x, `difference_right` S_x over
    C_x (2W x W each), for a summed row's (A+, B+) side by side.
    Rows 0 and H/2 (H even) pair with themselves and count once.
    `left[y, r]` then takes the cosine of the summed rows and minus the sine
    of the differenced ones along the height: an H x H real matrix, with the
    1 / (height * width) of the inverse transform. 2 W^2 H + H^2 W
    multiply-adds an image channel instead of the full complex product's
    4 W^2 H + 2 H^2 W. Computed in float64, stored as `dtype`.
    """
    pairs = (height - 1) // 2
    summed = [0] + ([height // 2] if height % 2 == 0 else []) + list(range(1, pairs + 1))
    differenced = np.arange(1, pairs + 1)
    angle_x = 2.0 * np.pi * np.outer(np.arange(width), np.arange(width)) / width
    cos_x, sin_x = np.cos(angle_x), np.sin(angle_x)
    y = np.arange(height)
    left = np.concatenate([np.cos(2.0 * np.pi * np.outer(y, summed) / height),
                           -np.sin(2.0 * np.pi * np.outer(y, differenced) / height)],
                          axis=1) / (height * width)  # (H, H): y, folded row
    matrices = (np.concatenate([cos_x, -sin_x]), np.concatenate([sin_x, cos_x]), left)
    return tuple(m.astype(dtype) for m in matrices)


def fold_rows(spectrum, height: int):
    """`(sums, differences)` of rows u and H - u of `spectrum` (..., H, W).

    Sums: rows 0 and H/2 (H even) as they are, then row u + row H - u for
    u = 1 .. (H - 1) // 2; differences: row u - row H - u. Splits and a flip
    (not a gather or strided slices, whose TensorFlow gradients cost more
    than the matrix products here).
    """
    pairs = (height - 1) // 2
    if height % 2:
        first, upper, lower = ops.split(spectrum, [1, 1 + pairs], axis=-2)
        alone = [first]
    else:  # row H/2 pairs with itself too
        first, upper, nyquist, lower = ops.split(spectrum, [1, 1 + pairs, 2 + pairs], axis=-2)
        alone = [first, nyquist]
    lower = ops.flip(lower, axis=-2)  # row H - u beside row u
    return ops.concatenate([*alone, upper + lower], axis=-2), upper - lower


def real_inverse_dft(spectrum, matrices):
    """`real(ifft2(A + iB))` of `spectrum` (N, 2, C, H, W) = (A, B), as images
    (N, H, W, C), with `matrices` from `real_inverse_dft_matrices(H, W)`.

    Every product is one 2-D matrix product: the width pass on all folded
    rows of all dreams at once ((N C rows, 2W) @ (2W, W)), the height pass
    on all columns at once ((H, H) @ (H, N W C)), which lands in the
    images' own layout. TensorFlow's CPU kernels run these faster forward
    and backward than the same products batched per image channel
    (`benchmarks/step_parts.py --levers`).
    """
    sum_right, difference_right, left = (ops.convert_to_tensor(m) for m in matrices)
    height, width = left.shape[0], sum_right.shape[1]
    channels = spectrum.shape[2]
    sums, differences = fold_rows(spectrum, height)

    def width_pass(rows, right):  # (N, 2, C, R, W) -> (N, C, R, W)
        count = rows.shape[3]
        side_by_side = ops.reshape(ops.transpose(rows, (0, 2, 3, 1, 4)), (-1, 2 * width))
        return ops.reshape(ops.matmul(side_by_side, right), (-1, channels, count, width))

    rows = width_pass(sums, sum_right)
    if differences.shape[3]:  # none for a height of 1 or 2
        rows = ops.concatenate([rows, width_pass(differences, difference_right)], axis=2)
    columns = ops.reshape(ops.transpose(rows, (2, 0, 3, 1)), (height, -1))  # (H, N W C)
    images = ops.reshape(ops.matmul(left, columns), (height, -1, width, channels))
    return ops.transpose(images, (1, 0, 2, 3))


@keras.saving.register_keras_serializable(package="kerasdream")
class Fourier(Parameterization):
    """A spectrum (real, imaginary) per channel, 1/f^decay scaled, decorrelated colour.

    Raw shape `(2, C, H, W)`. The spectrum scale is normalized so that raw
    values of unit variance give pre-sigmoid pixels of unit variance.
    """

    def __init__(self, image_shape, decay=1.0, decorrelate=True, **kwargs):
        super().__init__(image_shape, **kwargs)
        self.decay = float(decay)
        self.decorrelate = bool(decorrelate) and self.image_shape[-1] == 3
        height, width, _ = self.image_shape
        fy = np.fft.fftfreq(height)[:, None]
        fx = np.fft.fftfreq(width)[None, :]
        freqs = np.sqrt(fx * fx + fy * fy)
        scale = 1.0 / np.maximum(freqs, 1.0 / max(height, width)) ** self.decay
        scale *= height * width / np.sqrt(np.sum(scale**2))
        self.spectrum_scale = scale.astype("float32")
        side, on_tensorflow = max(height, width), keras.backend.backend() == "tensorflow"
        self._dft_path, self._dft = "fft", None
        if on_tensorflow and side <= EINSUM_DFT_MAX_SIDE:
            self._dft_path, self._dft = "einsum", complex_inverse_dft_matrices(height, width)
        elif on_tensorflow and side <= MATMUL_DFT_MAX_SIDE:
            self._dft_path, self._dft = "folded", real_inverse_dft_matrices(height, width)

    @property
    def raw_shape(self):
        height, width, channels = self.image_shape
        return (2, channels, height, width)

    def call(self, raw):
        spectrum = raw * ops.convert_to_tensor(self.spectrum_scale)  # (N, 2, C, H, W)
        if self._dft_path == "einsum":
            left, right = (ops.convert_to_tensor(m) for m in self._dft)
            rows = ops.einsum("nkcuv,kvjx->ncujx", spectrum, right)
            logits = ops.einsum("yju,ncujx->nyxc", left, rows)
        elif self._dft_path == "folded":
            logits = real_inverse_dft(spectrum, self._dft)
        else:
            real, _ = ops.ifft2((spectrum[:, 0], spectrum[:, 1]))  # (N, C, H, W)
            logits = ops.transpose(real, (0, 2, 3, 1))
        if self.decorrelate:
            logits = ops.matmul(logits, ops.convert_to_tensor(COLOR_MIX.T))
        return 255.0 * ops.sigmoid(logits)

    def inverse(self, images):
        p = np.clip(np.asarray(images, "float64") / 255.0, EPSILON, 1 - EPSILON)
        logits = np.log(p / (1 - p))
        if self.decorrelate:
            logits = logits @ np.linalg.inv(COLOR_MIX.T.astype("float64"))
        spectrum = np.fft.fft2(np.transpose(logits, (0, 3, 1, 2))) / self.spectrum_scale
        raw = np.stack([spectrum.real, spectrum.imag], axis=1)
        return raw.reshape(len(images), -1).astype("float32")

    def get_config(self):
        return {**super().get_config(), "decay": self.decay, "decorrelate": self.decorrelate}
