"""Dataset examples of every filter of every atlas layer of the shipped
MobileNet: time and peak memory for a small and a 4x larger folder.

Memory must not grow with the folder (the photos stream; only each
filter's top 9 are kept). Each size runs in its own process, so the peak
resident set (ru_maxrss) is that run's own.

    python benchmarks/examples_memory.py [SMALL] [LARGE]   # default 150 600
"""

import os
import resource
import subprocess
import sys
import tempfile
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)


def write_photos(folder: str, count: int) -> None:
    """`count` 200 px JPEG crops of the skimage.data photos, in nested folders."""
    import numpy as np
    from PIL import Image
    from skimage import data

    from kerasdream.evaluation.natural import NATURAL_PHOTOS

    rng = np.random.default_rng(0)
    photos = [np.asarray(Image.fromarray(getattr(data, n)()).convert("RGB"))
              for n in NATURAL_PHOTOS]
    for i in range(count):
        photo = photos[i % len(photos)]
        side = int(rng.integers(100, min(photo.shape[:2]) + 1))
        y = int(rng.integers(0, photo.shape[0] - side + 1))
        x = int(rng.integers(0, photo.shape[1] - side + 1))
        sub = os.path.join(folder, f"class_{i % 5}", f"part_{i % 3}")
        os.makedirs(sub, exist_ok=True)
        crop = Image.fromarray(photo[y:y + side, x:x + side]).resize((200, 200))
        crop.save(os.path.join(sub, f"crop_{i:05}.jpg"), quality=90)


def run(count: int) -> None:
    from kerasdream.network.bases import BaseSpec, layer_channels, load_base
    from kerasdream.examples import layer_examples
    from kerasdream.network.layers import atlas_layers

    with tempfile.TemporaryDirectory() as tmp:
        write_photos(os.path.join(tmp, "photos"), count)
        spec = BaseSpec("mobilenet")
        base = load_base(spec)
        layers = {layer: range(layer_channels(base, layer)) for layer in atlas_layers(base)}
        began = time.perf_counter()
        layer_examples(spec, layers, os.path.join(tmp, "photos"), os.path.join(tmp, "site"),
                       quiet=True, log=lambda _: None)
        seconds = time.perf_counter() - began
        files = sum(len(f) for _, _, f in os.walk(os.path.join(tmp, "site")))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    filters = sum(len(f) for f in layers.values())
    print(f"{count} photos, {len(layers)} layers, {filters} filters at 224 px: "
          f"{seconds:.1f} s ({count / seconds:.0f} photos/s), {files} files, "
          f"peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        run(int(sys.argv[2]))
    else:
        sizes = [int(a) for a in sys.argv[1:]] or [150, 600]
        for count in sizes:
            subprocess.run([sys.executable, __file__, "--one", str(count)], check=True)
