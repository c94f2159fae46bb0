"""Train notebook 6's digits CNN for 10 epochs, watching it learn.

    python docs/watch_it_learn.py [--out watch]

Writes `<out>/classes/` (DreamCallback: a grid of the ten class dreams per
epoch, a GIF per class, `grid.gif`), `<out>/logs/` (TensorBoard) and a
checkpoint per epoch, `<out>/ckpt/epoch_0.keras` (untrained) to
`epoch_10.keras`, for `kerasdream evolve`. The picture of evolving filters
in docs/guides/watch-it-learn.md (docs/evolve_filter_4.png) is then
`watch/evolve/filter_4.png` of

    kerasdream evolve --model 'watch/ckpt/epoch_*.keras' --layer conv2d_2 --filters 0-7 --out watch/evolve
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kerasdream as kd  # noqa: E402


def digits_32():
    """scikit-learn's 1797 digits, 8x8 resized to 32x32, values 0..255; a seeded split."""
    import skimage.transform
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.stack([skimage.transform.resize(image * (255 / 16), (32, 32), order=1)
                       for image in digits.images]).astype("float32")[..., None]
    order = np.random.default_rng(0).permutation(len(digits.target))
    return images, digits.target, order[:1400], order[1400:]


def digits_cnn() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((32, 32, 1)),
        keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2d"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2d_1"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2d_2"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="watch")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    images, labels, train, test = digits_32()
    model = digits_cnn()
    os.makedirs(os.path.join(args.out, "ckpt"), exist_ok=True)
    model.save(os.path.join(args.out, "ckpt", "epoch_0.keras"))
    watch = kd.DreamCallback(kd.ClassLogit(list(range(10))), parameterization="pixels",
                             out_dir=os.path.join(args.out, "classes"),
                             log_dir=os.path.join(args.out, "logs"))
    checkpoints = keras.callbacks.ModelCheckpoint(
        os.path.join(args.out, "ckpt", "epoch_{epoch}.keras"))
    model.fit(images[train], labels[train], epochs=args.epochs, batch_size=32, verbose=2,
              validation_data=(images[test], labels[test]), callbacks=[watch, checkpoints])
    print(f"Wrote {os.path.abspath(args.out)}")


if __name__ == "__main__":
    main()
