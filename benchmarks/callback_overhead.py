"""What DreamCallback costs: epoch time of a small digits CNN with and without it.

Trains three copies of the same seeded CNN on scikit-learn's digits (32 px,
1400 images, batch 32): without the callback, with a callback dreaming its
ten class scores (`ClassLogit(range(10))`, pixels), and with one dreaming 8
filters of its second convolution (`Channel(conv:pre, range(8))`, the
package's default parameterization and transforms), each at the callback's
default steps and writing its PNGs. One process, interleaved: each round
runs one epoch of each (one `fit` an epoch), so all three see the same
machine load. An epoch is timed from its start to the end of its epoch-end
callbacks, so it includes the dream made after it; the baseline dream
before the first epoch and the GIFs written when a `fit` ends are not in
it (the baseline's time is shown apart). The first round (tracing) is
reported apart from the median of the rest.

    python benchmarks/callback_overhead.py [--epochs 6] [--steps 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kerasdream as kd  # noqa: E402
from kerasdream.dream_callback import DEFAULT_CALLBACK_STEPS  # noqa: E402


def digits_32():
    import skimage.transform
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.stack([skimage.transform.resize(image * (255 / 16), (32, 32), order=1)
                       for image in digits.images]).astype("float32")[..., None]
    return images[:1400], digits.target[:1400]


def cnn() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((32, 32, 1)),
        keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--steps", type=int, default=DEFAULT_CALLBACK_STEPS)
    args = parser.parse_args(argv)
    x, y = digits_32()
    out = tempfile.mkdtemp(prefix="kerasdream-overhead-")
    runs = {"no callback": (cnn(), None)}
    model = cnn()
    runs["ClassLogit x10, pixels"] = (model, kd.DreamCallback(
        kd.ClassLogit(list(range(10))), steps=args.steps, parameterization="pixels",
        out_dir=os.path.join(out, "classes")))
    model = cnn()
    conv = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][1]
    runs["Channel x8, defaults"] = (model, kd.DreamCallback(
        kd.Channel(conv + ":pre", list(range(8))), steps=args.steps,
        out_dir=os.path.join(out, "filters")))
    seconds = {name: [] for name in runs}
    for epoch in range(args.epochs):
        for name, (model, callback) in runs.items():
            timer = EpochTimer()  # last: its epoch includes the dream made at the epoch's end
            model.fit(x, y, batch_size=32, initial_epoch=epoch, epochs=epoch + 1, verbose=0,
                      callbacks=([] if callback is None else [callback]) + [timer])
            seconds[name].append(timer.seconds)
    base = statistics.median(seconds["no callback"][1:])
    print(f"{args.epochs} interleaved epochs of 1400 digits (32 px, batch 32); dream steps "
          f"{args.steps}; Keras {keras.__version__}, backend {keras.backend.backend()}")
    print("| run | first epoch s (tracing) | median epoch s after | x no callback "
          "| median dream s | baseline dream s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (model, callback) in runs.items():
        times = seconds[name]
        median = statistics.median(times[1:])
        dream = baseline = "-"
        if callback is not None:
            dream = f"{statistics.median(callback.seconds[e] for e in range(2, args.epochs + 1)):.2f}"
            baseline = f"{callback.seconds[0]:.2f}"
        print(f"| {name} | {times[0]:.2f} | {median:.2f} | {median / base:.2f} | {dream} "
              f"| {baseline} |")


class EpochTimer(keras.callbacks.Callback):
    """Seconds from the start of the epoch's first batch's callbacks to the end of
    its `on_epoch_end` callbacks listed before this one."""

    def on_epoch_begin(self, epoch, logs=None):
        self.began = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.began

if __name__ == "__main__":
    main()
