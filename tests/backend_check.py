"""kerasdream's core on whichever Keras backend KERAS_BACKEND selects.

    KERAS_BACKEND=jax python tests/backend_check.py

Builds a tiny CNN with fixed weights, trains channel dreams and checks that
their channels rise and that one N-row run equals N one-row runs; trains an
objective with every transform, both priors and the Fourier
parameterization; saves and reloads it (.keras and .h5) and trains it further;
runs a seeded fit with a DreamCallback and checks the weights come out
bitwise as without it. Prints one JSON verdict as the last line of
stdout: {"backend": ..., "checks": {name: "ok" or "FAIL: <error>"}, ...}.
`tests/test_backends.py` runs it in a subprocess per backend.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback

STARTED = time.time()

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kerasdream as kd  # noqa: E402
from kerasdream import transforms  # noqa: E402
from kerasdream.network.bases import load_base  # noqa: E402
from kerasdream.saving import load_dream, save_dream  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import colour_picker, tiny_cnn  # noqa: E402

CHECKS = ("channel_dreams_rise", "batch_equals_single_runs", "all_transforms_and_priors",
          "save_reload_keras_and_train_further", "save_reload_h5", "tf_distribute_refused",
          "maco_transparency_map", "dream_callback_leaves_training_bitwise")


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def images_of(model):
    return kd.generator_of(model).images()


class Failed(AssertionError):
    pass


def expect(condition, message):
    if not condition:
        raise Failed(message)


FILTERS = [0, 3]


def channel_dreams_rise(path, state):
    # Two dreams of relu1 (a ReLU: the gradient is redirected) in one fit,
    # default jitter on.
    model = kd.DreamModel(kd.Channel("relu1", FILTERS), path, size=16, seed=7,
                                 parameterization="pixels")
    base = load_base(path)
    truncated = keras.Model(base.inputs, base.get_layer("relu1").output)

    def own(images):
        return numpy(truncated(images)).mean(axis=(1, 2))[np.arange(2), FILTERS]

    start = images_of(model)
    kd.train(model, 10)
    together = images_of(model)
    before, after = own(start), own(together)
    probe = model.feature_values()["relu1"].mean(axis=(1, 2))
    expect(np.allclose(probe[np.arange(2), FILTERS], after, atol=1e-4),
           "the dream model's objective layer does not read relu1")
    expect(np.all(after > before + 0.5), f"activations did not rise: {before} -> {after}")
    state["batched"] = (start, together)
    return {"before": before.tolist(), "after": after.tolist()}


def batch_equals_single_runs(path, state):
    # The same dreams trained one per fit, each with its own row key: the
    # jitter's shift is drawn once per step, the same for 1 or N rows.
    expect("batched" in state, "no batched run: channel_dreams_rise failed")
    start, together = state["batched"]
    differences = []
    for row, k in enumerate(FILTERS):
        alone = kd.DreamModel(kd.Channel("relu1", k), path, size=16, seed=7,
                                     row_keys=[row], parameterization="pixels")
        kd.train(alone, 10)
        differences.append(float(np.max(np.abs(images_of(alone)[0] - together[row]))))
    moved = float(np.max(np.abs(together - start)))
    expect(max(differences) < 1e-2, f"batched and single runs differ by {differences}")
    expect(moved > 20, f"the dreams barely moved ({moved}): nothing was compared")
    return {"max_difference": max(differences), "moved": moved}


def all_transforms_and_priors(path, state):
    objective = (kd.Channel("relu2", [0, 1]) + 0.1 * kd.Diversity("relu2")
                 - 0.05 * kd.AlphaNorm() - 0.05 * kd.TotalVariation())
    layers = [transforms.Jitter(1, seed=1), transforms.Scale(0.1, seed=2),
              transforms.Rotate(10.0, seed=3)]
    model = kd.DreamModel(objective, path, size=16, parameterization="fourier",
                                 transforms=layers)
    start = images_of(model)
    history = kd.train(model, 5)
    end = images_of(model)
    expect(np.all(np.isfinite(end)) and np.isfinite(history.history["loss"][-1]),
           "non-finite images or loss")
    moved = float(np.max(np.abs(end - start)))
    expect(moved > 5, f"the dreams barely moved ({moved})")
    state["model"] = model
    return {"moved": moved}


def _save_reload(extension, path, state, folder):
    model = state.get("model")
    expect(model is not None, "no model: all_transforms_and_priors failed")
    rendered = kd.render(model)
    file = os.path.join(folder, f"dream.{extension}")
    save_dream(model.generator, file)
    reloaded = load_dream(file)
    expect(np.array_equal(reloaded.render(), rendered), "reloaded dream renders differently")
    if extension == "keras":  # plain Keras in safe mode: no kerasdream loader needed
        plain = keras.models.load_model(file, safe_mode=True)
        expect(np.array_equal(plain.render(), rendered), "plain Keras reload differs")
        resumed = kd.rebuild(reloaded)
        kd.train(resumed, 3)
        expect(not np.array_equal(kd.render(resumed), rendered), "resumed dream did not train")
    return {}


def tf_distribute_refused(path, state):
    from kerasdream.network import distribute

    if keras.backend.backend() == "tensorflow":
        return {"skipped": "TensorFlow runs tf.distribute"}
    try:
        distribute.get_strategy("mirrored")
    except kd.DreamError as error:
        expect("TensorFlow backend" in str(error), f"unclear error: {error}")
        return {"error": str(error)}
    raise Failed("the 'mirrored' strategy was accepted on a non-TensorFlow backend")


def maco_transparency_map(path, state):
    # MACO's phase-only image and the image gradient train_step accumulates:
    # the colour picker's channel 0 is the mean red, so 3 steps give 3 / 16
    # on every red pixel and 0 elsewhere.
    # (The mean red is MACO's fixed DC: that dream cannot move; the tiny CNN's can.)
    model = kd.DreamModel(kd.Channel("pick", 0), colour_picker(size=4), size=4,
                          parameterization="maco", transforms=None)
    model.compile()
    model.fit(3)
    expected = np.zeros((1, 4, 4, 3), "float32")
    expected[..., 0] = 3 / 16
    error = float(np.max(np.abs(model.transparency() - expected)))
    expect(error < 1e-6, f"transparency map off by {error}")
    model = kd.DreamModel(kd.Channel("relu2", 1), path, size=16, parameterization="maco",
                          transforms="maco")
    start = images_of(model)
    model.compile()
    model.fit(3)
    moved = float(np.max(np.abs(images_of(model) - start)))
    expect(moved > 0.1, f"the MACO dream did not move ({moved})")
    return {"error": error, "moved": moved}


def _seeded_fit(callbacks):
    """A seeded epoch of a conv + dropout classifier on shuffled batches; its weights."""
    import random

    keras.utils.set_random_seed(5)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.Dropout(0.5)(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (32, 8, 8, 3)).astype("float32")
    labels = (images[..., 0].mean((1, 2)) > images[..., 2].mean((1, 2))).astype("int32")
    model.fit(images, labels, epochs=1, batch_size=8, shuffle=True, verbose=0,
              callbacks=callbacks)
    return [numpy(w) for w in model.weights], random.random(), np.random.random()


def dream_callback_leaves_training_bitwise(path, state, folder):
    # DreamCallback during a seeded fit: the same final weights and global random
    # streams as without it, and its PNGs, GIFs and TensorBoard event file written.
    plain = _seeded_fit([])
    out = os.path.join(folder, "watch")
    logs = os.path.join(folder, "logs")
    callback = kd.DreamCallback(kd.Channel("conv", [0, 1]), steps=2, out_dir=out, log_dir=logs)
    dreamed = _seeded_fit([callback])
    expect(all(np.array_equal(a, b) for a, b in zip(plain[0], dreamed[0])),
           "the callback changed the trained weights")
    expect(plain[1:] == dreamed[1:], "the callback moved Python's or NumPy's random state")
    written = sorted(os.listdir(out))
    expect({"epoch_000.png", "epoch_001.png", "filter_1.gif", "grid.gif"} <= set(written),
           f"missing files: {written}")
    events = os.listdir(os.path.join(logs, "dreams"))
    expect(any(name.startswith("events.out.tfevents.") for name in events),
           f"no TensorBoard event file: {events}")
    return {"epochs_dreamed": sorted(callback.activations)}


def main() -> int:
    folder = tempfile.mkdtemp(prefix="kerasdream-backend-")
    path = os.path.join(folder, "tiny.keras")
    tiny_cnn().save(path)
    state: dict = {}
    checks, details = {}, {}
    steps = {
        "channel_dreams_rise": channel_dreams_rise,
        "batch_equals_single_runs": batch_equals_single_runs,
        "all_transforms_and_priors": all_transforms_and_priors,
        "save_reload_keras_and_train_further": lambda p, s: _save_reload("keras", p, s, folder),
        "save_reload_h5": lambda p, s: _save_reload("h5", p, s, folder),
        "tf_distribute_refused": tf_distribute_refused,
        "maco_transparency_map": maco_transparency_map,
        "dream_callback_leaves_training_bitwise":
            lambda p, s: dream_callback_leaves_training_bitwise(p, s, folder),
    }
    for name in CHECKS:
        began = time.time()
        try:
            details[name] = steps[name](path, state)
            checks[name] = "ok"
        except Exception as error:  # report every failure, keep checking
            last = traceback.extract_tb(error.__traceback__)[-1]
            checks[name] = (f"FAIL: {type(error).__name__}: {str(error).strip()[:500]} "
                            f"({os.path.basename(last.filename)}:{last.lineno})")
        details.setdefault(name, {})
        if isinstance(details[name], dict):
            details[name]["seconds"] = round(time.time() - began, 2)
    verdict = {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "checks": checks,
        "details": details,
        "seconds": round(time.time() - STARTED, 2),
    }
    print(json.dumps(verdict))
    return 0 if all(v == "ok" for v in checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
