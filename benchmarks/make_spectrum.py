"""Make MACO's shipped spectrum: kerasdream/param/data/maco_spectrum.npz.

    python benchmarks/make_spectrum.py

The mean magnitude spectrum (`kerasdream.param.maco.compute_spectrum`, decorrelated
colour) of the colour photos of `skimage.data` among the yardstick's natural
photos, six deterministic crops each, at the sizes in `maco.SHIPPED_SIZES`.
Stored as float32 arrays `size_HxW` of shape (3, H, W // 2 + 1).
"""

from __future__ import annotations

import os
import sys

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

import numpy as np  # noqa: E402

from kerasdream.param import maco  # noqa: E402
from kerasdream import evaluation  # noqa: E402


def colour_photos() -> list[np.ndarray]:
    import skimage.data

    photos = []
    for name in evaluation.NATURAL_PHOTOS:
        photo = np.asarray(getattr(skimage.data, name)())
        if photo.ndim == 3 and photo.shape[-1] >= 3:
            photos.append(photo[..., :3])
    return photos


def main() -> int:
    photos = colour_photos()
    arrays = {}
    for size in maco.SHIPPED_SIZES:
        crops = [crop for photo in photos for crop in maco.crops_of(photo, (size, size))]
        arrays[f"size_{size}x{size}"] = maco.compute_spectrum(crops, decorrelate=True)
        print(f"{size} px: {len(crops)} crops of {len(photos)} photos")
    np.savez_compressed(maco.SPECTRUM_FILE, **arrays)
    print(f"Wrote {maco.SPECTRUM_FILE} ({os.path.getsize(maco.SPECTRUM_FILE) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
