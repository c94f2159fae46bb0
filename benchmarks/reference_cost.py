"""What judging dreams against a folder of the user's own photos costs.

    python benchmarks/reference_cost.py                  # skimage's photos as the folder
    python benchmarks/reference_cost.py --photos DIR --repeats 5

`score_dreams` of 16 dreams at 128 px at three MobileNet layers, against
skimage's 12 photos (the default reference) and against a folder reference
(`kerasdream.evaluation.folder_reference`: up to 24 photos, six crops
each), in one process, side by side: the first call of each (reading and
cropping the photos, their means through the network) and the median of
the later calls (what each further chunk of a gallery pays). Also the time
to make the reference itself (scanning the folder, decoding the chosen
photos once, hashing them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

from kerasdream import evaluation  # noqa: E402
from kerasdream.network.bases import load_base  # noqa: E402

LAYERS = ("conv_pw_2_relu", "conv_pw_7_relu", "conv_pw_12_relu")
FILTERS = list(range(16))


def seconds(call) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def main() -> None:
    import skimage.data

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default=os.path.dirname(skimage.data.__file__))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    began = time.perf_counter()
    reference = evaluation.folder_reference(args.photos)
    made = time.perf_counter() - began
    print(f"Reference of {len(reference.names)} photos of {reference.folder}: made in "
          f"{made:.2f} s")
    base = load_base(None)
    images = np.random.default_rng(0).integers(0, 256, (16, 128, 128, 3)).astype("uint8")
    print("| layer | first call: skimage | first call: folder | later: skimage (median) "
          "| later: folder (median) | later ratio folder / skimage |")
    print("|---|---|---|---|---|---|")
    for layer in LAYERS:
        def score(ref):
            return lambda: evaluation.score_dreams(base, layer, images, FILTERS, "tf",
                                                   reference=ref)

        first = [seconds(score(evaluation.SKIMAGE)), seconds(score(reference))]
        later = {"skimage": [], "folder": []}
        for _ in range(args.repeats):  # interleaved: the machine's noise hits both alike
            later["skimage"].append(seconds(score(evaluation.SKIMAGE)))
            later["folder"].append(seconds(score(reference)))
        plain, own = (statistics.median(later[k]) for k in ("skimage", "folder"))
        print(f"| {layer} | {first[0]:.2f} s | {first[1]:.2f} s | {plain:.2f} s | {own:.2f} s "
              f"| {own / plain:.2f}x |")


if __name__ == "__main__":
    main()
