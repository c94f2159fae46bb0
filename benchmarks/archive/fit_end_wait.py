"""The wait at the end of each `fit` call, with tf.data's autotuning on and off.

    python benchmarks/archive/fit_end_wait.py            # 12 calls of 25 steps each way

A dream model at `conv_pw_7_relu` of the shipped MobileNet (16 dreams,
128 px, pixels, no transforms) runs `fit(25)` again and again, once on the
one-hot dataset as `kerasdream.model.dream_dataset` makes it (autotuning
off) and once on the same dataset with tf.data's default options (autotuning
on, as before issue 16). Prints every call's seconds and the medians; the
calls alternate between the two models. TensorFlow backend only.
"""

from __future__ import annotations

import statistics
import sys
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

import tensorflow as tf  # noqa: E402

import kerasdream.model as model_module  # noqa: E402
from kerasdream.network.bases import as_spec, load_base  # noqa: E402
from kerasdream.generator import one_hot  # noqa: E402
from kerasdream.objectives.terms import Channel  # noqa: E402


def autotuned_dataset(num_dreams: int):
    """The dataset before issue 16: tf.data's default options."""
    return tf.data.Dataset.from_tensors(one_hot(num_dreams)).repeat()


def main() -> int:
    base = load_base(as_spec("mobilenet"))
    shipped = model_module.dream_dataset
    models = {}
    for label in ("autotune on", "autotune off"):
        models[label] = model_module.DreamModel(
            Channel("conv_pw_7_relu", list(range(16))), base, size=128,
            parameterization="pixels", transforms="none")
        models[label].compile(steps_per_execution=25)
    seconds = {label: [] for label in models}
    for call in range(13):
        for label, model in models.items():
            model_module.dream_dataset = autotuned_dataset if label == "autotune on" else shipped
            began = time.perf_counter()
            model.fit(25)
            if call:  # the first call traces
                seconds[label].append(time.perf_counter() - began)
    model_module.dream_dataset = shipped
    for label, values in seconds.items():
        print(f"{label}: " + " ".join(f"{v:.2f}" for v in values)
              + f"  (median {statistics.median(values):.2f} s a call of 25 steps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
