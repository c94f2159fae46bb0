"""Dead channels of the shipped MobileNet, and whether a dream can open them.

    python benchmarks/dead_channels.py                 # every ReLU layer, 4 dead channels each
    python benchmarks/dead_channels.py --sample 2 --layers conv1_relu conv_pw_5_relu

A channel is dead on an image when its ReLU is closed at every position: its
mean activation is exactly 0 and so is the gradient of that mean with
respect to the pixels, so a plain gradient-ascent dream never moves.
kerasdream lets the gradient through a target ReLU's gate (`RedirectedReLU`,
`redirect_relu=True`, the default); the value the objective sees is unchanged.

1. For each ReLU layer of MobileNet alpha=0.25 (ImageNet weights shipped with
   kerasdream) at 128 px: the fraction of channels dead on kerasdream's
   default starting image ('pixels' parameterization, seed 0, row key 0:
   grey with faint noise), measured with the plain ReLU gradient.
   Some are dead for EVERY image (an interval bound proves it, see
   `provably_dead`): a zero kernel left by training, or a channel that only
   reads dead channels. They are counted apart ("any image").
2. For up to `--sample` of the other dead channels a layer (evenly spaced):
   a 50-step dream with the default settings (jitter, row-normalized SGD,
   lr 0.05), with and without redirection, starting from that same image.
   "Opened": the channel's mean activation on the final image (no jitter) > 0.
   A depthwise channel reads one channel of the ReLU layer before it; when
   that one is dead too, the gate that blocks the gradient is upstream of
   the target, where kerasdream does not redirect ("input dead" column).

TensorFlow backend (the gradient is taken with tf.GradientTape).
"""

from __future__ import annotations

import argparse
import json
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

import keras
import numpy as np
import tensorflow as tf

import kerasdream as kd
from kerasdream.network.bases import load_base
from kerasdream.generator import one_hot

SIZE = 128


def relu_layers(base: keras.Model) -> list[str]:
    names = [layer.name for layer in base.layers]
    return [n for n in names if n == "conv1_relu" or
            (n.startswith(("conv_dw_", "conv_pw_")) and n.endswith("_relu"))]


def probe(model) -> np.ndarray:
    """Each row's features at the target layer, without jitter: (N, h, w, C)."""
    (features,) = model.feature_values().values()
    return features


def provably_dead(base: keras.Model) -> dict[str, np.ndarray]:
    """Per ReLU layer: channels that are 0 for EVERY image in [0, 255].

    Interval bounds per channel, propagated through MobileNet's chain of
    conv -> batch norm -> ReLU6 (zero padding included). A channel whose
    upper bound is <= 0 is closed whatever the image: a zero kernel left by
    training, or one that only reads channels that are themselves dead. The
    bound is loose, so channels it does not flag may still be dead for all
    images.
    """
    lower, upper = np.full(3, -1.0), np.full(3, 1.0)  # the "tf" preprocessing range
    dead = {}
    for layer in base.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)):
            lower, upper = np.minimum(lower, 0.0), np.maximum(upper, 0.0)  # zero padding
            kernel = layer.get_weights()[0]
            if isinstance(layer, keras.layers.DepthwiseConv2D):  # (kh, kw, C, 1)
                w = kernel[..., 0].reshape(-1, kernel.shape[2])
                low, high = w * lower, w * upper
                axes = 0  # positions
            else:  # (kh, kw, Cin, Cout)
                w = kernel.reshape(-1, kernel.shape[2], kernel.shape[3])
                low, high = w * lower[None, :, None], w * upper[None, :, None]
                axes = (0, 1)  # positions and input channels
            lower = np.minimum(low, high).sum(axis=axes)
            upper = np.maximum(low, high).sum(axis=axes)
        elif isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            scale = gamma / np.sqrt(variance + layer.epsilon)
            low, high = scale * (lower - mean) + beta, scale * (upper - mean) + beta
            lower, upper = np.minimum(low, high), np.maximum(low, high)
        elif isinstance(layer, keras.layers.ReLU):
            dead[layer.name] = upper <= 0.0
            lower, upper = np.clip(lower, 0.0, 6.0), np.clip(upper, 0.0, 6.0)
    return dead


def dead_channels(layer: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(dead mask, mean activations, channel count) on the default starting image."""
    channels = load_base(None).get_layer(layer).output.shape[-1]
    model = kd.DreamModel(
        kd.Channel(layer, list(range(channels))), size=SIZE, transforms=None,
        row_keys=[0] * channels, redirect_relu=False)  # every row: the same image
    generator = kd.generator_of(model)
    with tf.GradientTape() as tape:
        own = model(one_hot(channels), training=False)  # row i: its channel i's mean
        total = tf.reduce_sum(own)
    gradient = tape.gradient(total, generator.kernel).numpy()  # row i: d own[i] / d image
    means = own.numpy()
    dead = (means == 0.0) & np.all(gradient == 0.0, axis=1)
    return dead, means, channels


def opens(layer: str, filters: list[int], redirect: bool, steps: int) -> np.ndarray:
    """Whether a `steps`-step default dream of each filter opens it."""
    model = kd.DreamModel(kd.Channel(layer, filters), size=SIZE, seed=0,
                                 row_keys=[0] * len(filters), redirect_relu=redirect)
    kd.train(model, steps)
    features = probe(model)
    means = features.mean(axis=(1, 2))[np.arange(len(filters)), filters]
    return means > 0.0


def sample(indices: np.ndarray, count: int) -> list[int]:
    if len(indices) <= count:
        return indices.tolist()
    picks = np.linspace(0, len(indices) - 1, count).round().astype(int)
    return indices[picks].tolist()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", nargs="*", help="default: every ReLU layer")
    parser.add_argument("--sample", type=int, default=4, help="dead channels a layer to dream")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    every = relu_layers(load_base(None))
    layers = args.layers or every
    found = {}

    def dead_of(layer):
        if layer not in found:
            found[layer] = dead_channels(layer)
        return found[layer]
    started = time.time()
    rows = []
    print(f"MobileNet alpha=0.25 (ImageNet), {SIZE} px, default starting image; "
          f"{args.steps}-step dreams of up to {args.sample} dead channels a layer\n")
    print("| layer | channels | dead | dead % | of which any image | sampled (dead, not "
          "provably) | opened, redirected | opened, plain gradient | input dead (dw) |")
    print("|---|---|---|---|---|---|---|---|---|")
    always = provably_dead(load_base(None))
    for layer in layers:
        dead, means, channels = dead_of(layer)
        zeros = always[layer]
        assert not np.any(zeros & ~dead), "a provably dead channel is open: bound is wrong"
        picked = sample(np.flatnonzero(dead & ~zeros), args.sample)
        redirected = plain = np.zeros(0, bool)
        input_dead = "-"
        if picked and layer.startswith("conv_dw_"):
            upstream = dead_of(every[every.index(layer) - 1])[0]
            input_dead = f"{int(upstream[picked].sum())}/{len(picked)}"
        if picked:
            redirected = opens(layer, picked, True, args.steps)
            plain = opens(layer, picked, False, args.steps)
        row = {
            "layer": layer, "channels": int(channels), "dead": int(dead.sum()),
            "dead_any_image": int((dead & zeros).sum()),
            "zero_mean_but_gradient": int(((means == 0.0) & ~dead).sum()),
            "sampled": picked, "opened_redirected": redirected.tolist(),
            "opened_plain": plain.tolist(),
        }
        rows.append(row)
        opened = (f"{int(redirected.sum())}/{len(picked)}", f"{int(plain.sum())}/{len(picked)}") \
            if picked else ("-", "-")
        print(f"| {layer} | {channels} | {row['dead']} | {100 * dead.mean():.1f} | "
              f"{row['dead_any_image']} | {picked if picked else '-'} | {opened[0]} | "
              f"{opened[1]} | {input_dead} |", flush=True)

    total = sum(r["channels"] for r in rows)
    dead_total = sum(r["dead"] for r in rows)
    zero_total = sum(r["dead_any_image"] for r in rows)
    sampled = sum(len(r["sampled"]) for r in rows)
    redirected = sum(sum(r["opened_redirected"]) for r in rows)
    plain = sum(sum(r["opened_plain"]) for r in rows)
    print(f"| **all** | {total} | {dead_total} | {100 * dead_total / total:.1f} | "
          f"{zero_total} | {sampled} | {redirected}/{sampled} | {plain}/{sampled} | |")
    print(f"\n{time.time() - started:.0f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(rows, file, indent=2)


if __name__ == "__main__":
    main()
