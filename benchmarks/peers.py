"""kerasdream against its peers, side by side, in one run (issue 8).

    python benchmarks/peers.py                      # the full run (~15 min on 2 cores)
    python benchmarks/peers.py --quick              # smoke test, tiny budgets (< 2 min)
    python benchmarks/peers.py --steps 400 --layers conv_pw_3_relu

Same network, layer, 16 filters (0-15), image size and steps for every method:

  tf-keras-vis  `ActivationMaximization` (0.8.7) on all filters in one batch, with its
                default regularizers (TV 1.0, L1 norm 0.3), input modifiers (jitter 4,
                rotate 1 degree) and optimizer (RMSprop lr 1.0); `CategoricalScore` on
                the layer's channel means. Skipped, with a note, if not installed.
  keras.io      the "Visualizing what convnets learn" loop: GradientTape ascent, one
                filter at a time, L2-normalized gradient, learning rate 10 (below).
  floor         one compiled forward pass + input gradient of the truncated network at
                batch N, no update: per image-step nothing can beat it.
  kerasdream    `DreamModel` + `train` + `render`, with its defaults, and with the
                settings this benchmark found best (`KD_BEST`).

Every method runs in its own subprocess (this script re-invoked with `--child`) so
peak resident memory (`ru_maxrss`) is that method's own. Timing ("wall") starts
after imports and loading the base network and ends with the uint8 images in hand:
it includes building models, tracing and compiling. Every method's final uint8
images are then scored by ONE evaluation: the same feature model (the true ReLU,
no gradient tricks) and the same preprocessing, in the parent process.

Also measured: peak memory for 64 dreams of VGG16 (weights=None) at 224 px on
`block5_conv3` (whole and chunked), XLA (`jit_compile=True`) on CPU, and a curve of
activation / selectivity against steps for kerasdream settings (to pick defaults).

Writes to `--out` (default benchmarks/results): results.md, results.json, one grid
PNG per method and layer, and logs/ with each subprocess' output. Installs nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

HERE = os.path.dirname(os.path.abspath(__file__))
NUM_FILTERS = 16
TIE = 1e-3  # a channel within this of the maximum counts as the most active
MEMORY_TARGET_GIB = 6.0

# The settings this benchmark found best for kerasdream (see benchmarks/README.md).
KD_DEFAULT = {"build": {}, "train": {}}
# "deepdream": the objective is Channel - w * DeepDream(layer), which pushes the
# layer's other channels down (the curve below picked w = 0.5).
KD_BEST = {"build": {"transforms": None}, "train": {}, "deepdream": 0.5}

PARTS = ("main", "xla", "memory", "curve")
DEFAULT_METHODS = ("tkv", "xplique", "kerasio", "floor", "kd_default", "kd_best")

NETWORKS = {
    # name: (BaseSpec kwargs, image size, preprocessing mode of the base)
    "mobilenet": ({}, 128, "tf"),  # the shipped MobileNet alpha=0.25 ImageNet weights
    "vgg16": ({"model": "vgg16", "weights": None}, 224, "caffe"),  # compute figures only
}

METHOD_LABELS = {
    "tkv": "tf-keras-vis 0.8.7",
    "xplique": "Xplique 2.0 optimize",
    "kd_cli": "kerasdream filters (CLI defaults)",
    "kerasio": "keras.io loop",
    "kerasio_raw": "keras.io loop, raw pixels (no deprocess)",
    "floor": "floor: compiled fwd+grad",
    "floor_xla": "floor, XLA",
    "kd_default": "kerasdream defaults",
    "kd_best": "kerasdream best",
    "kd_default_xla": "kerasdream defaults, XLA",
    "kd_best_xla": "kerasdream best, XLA",
}

# Curve: kerasdream settings compared at several step counts (one run each,
# snapshotted, so the 200-step point is exactly a 200-step run).
CURVE_CONFIGS = [
    ("transforms=default, pixels, lr 0.05", {}),
    ("transforms=None, pixels, lr 0.05", {"build": {"transforms": None}}),
    ("transforms=default, fourier, lr 0.01",
     {"build": {"parameterization": "fourier"}}),
    ("transforms=None, fourier, lr 0.01",
     {"build": {"transforms": None, "parameterization": "fourier"}}),
    ("transforms=default, pixels, lr 0.1", {"train": {"learning_rate": 0.1}}),
    ("transforms=None, pixels, lr 0.1",
     {"build": {"transforms": None}, "train": {"learning_rate": 0.1}}),
    ("transforms=None, pixels, - 0.5 DeepDream", {"build": {"transforms": None}, "deepdream": 0.5}),
    ("transforms=None, pixels, - 1 DeepDream", {"build": {"transforms": None}, "deepdream": 1.0}),
    ("transforms=default, pixels, - 0.5 DeepDream", {"deepdream": 0.5}),
]


# ------------------------------------------------------------------ helpers


def peak_rss_mib() -> float:
    """This process' peak resident memory (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def current_rss_mib() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


PEERS = {"tkv": "tf-keras-vis", "xplique": "xplique"}  # method: distribution


def peer_version(python: str, distribution: str) -> str | None:
    """The version of `distribution` installed for interpreter `python`, or None."""
    code = ("import importlib.metadata as m\ntry: print(m.version(%r))\n"
            "except m.PackageNotFoundError: pass" % distribution)
    found = subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()
    return found or None


def have_tf_keras_vis(python: str = sys.executable) -> str | None:
    """The installed tf-keras-vis version, or None."""
    return peer_version(python, "tf-keras-vis")


def to_uint8(images):
    import numpy as np

    return np.clip(np.round(np.asarray(images, "float32")), 0, 255).astype("uint8")


def unpreprocess(x, mode: str):
    """Pixels [0, 255] from an image in the base's preprocessed space."""
    import numpy as np

    x = np.asarray(x, "float32")
    if mode == "tf":
        return (x + 1.0) * 127.5
    if mode == "caffe":
        return np.flip(x + np.array([103.939, 116.779, 123.68], "float32"), axis=-1)
    if mode == "unit":
        return x * 255.0
    if mode == "torch":
        mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
        return (x * std + mean) * 255.0
    return x


class Setup:
    """What a child needs: the base, its preprocessing, shapes and filters."""

    def __init__(self, network: str, layer: str, size: int, filters: list[int]):
        import keras

        keras.utils.set_random_seed(0)  # VGG16 weights=None: same weights in every process
        import kerasdream as kd
        from kerasdream.network.bases import load_base

        spec_kwargs, _, self.mode = NETWORKS[network]
        self.spec = kd.BaseSpec(**spec_kwargs)
        self.base = load_base(self.spec)
        self.layer, self.size, self.filters = layer, size, list(filters)
        self.shape = (size, size, 3)
        self.n = len(self.filters)

    def checksum(self) -> float:
        """A fingerprint of the base's weights (VGG16 weights=None must match across processes)."""
        return float(sum(float(abs(w).sum()) for w in self.base.get_weights()[:4]))


def features_of(setup: Setup, redirect_relu: bool = False):
    from kerasdream.network.features import feature_model

    return feature_model(setup.base, [setup.layer], setup.shape, redirect_relu)


# ------------------------------------------------------------------ methods
# Each returns (images uint8 (N, H, W, 3) or None, extra dict); each records
# `steady_start` (time after the first step) through the `clock` dict.


def run_tkv(s: Setup, steps: int, clock: dict, options: dict):
    import keras
    import numpy as np
    import tensorflow as tf
    from tf_keras_vis.activation_maximization import ActivationMaximization
    from tf_keras_vis.activation_maximization.callbacks import Callback
    from tf_keras_vis.utils.scores import CategoricalScore

    from kerasdream.network.bases import Preprocess

    warnings.filterwarnings("ignore", message="The structure of `inputs`")
    np.random.seed(0)  # tf-keras-vis' Jitter draws from numpy's global RNG
    tf.random.set_seed(0)

    class FirstStep(Callback):
        def __call__(self, i, *args, **kwargs):
            if i == 0:
                clock["steady_start"] = time.perf_counter()

    # The model tf-keras-vis visualizes: pixels [0, 255] -> the base's own
    # preprocessing -> the base truncated at the layer (what ExtractIntermediateLayer
    # would build, with the preprocessing inside so input_range=(0, 255) is right).
    inputs = keras.Input(s.shape)
    outputs = features_of(s)(Preprocess(s.mode)(inputs))[s.layer]
    model = keras.Model(inputs, outputs)
    activation_maximization = ActivationMaximization(model, clone=False)
    seed_input = tf.random.uniform((s.n, *s.shape), 0, 255)  # as its docs say for a batch
    images = activation_maximization(
        CategoricalScore(s.filters), seed_input=seed_input, steps=steps, callbacks=[FirstStep()]
    )
    return to_uint8(keras.ops.convert_to_numpy(images)), {}


def run_xplique(s: Setup, steps: int, clock: dict, options: dict):
    """Xplique 2.0's `optimize` as its docs show it: one `Objective.channel`
    over the 16 filters (one image each), Fourier preconditioning, its
    standard transformations and Adam 0.05, at `s.size` px (its
    `custom_shape`). Xplique reads a layer's output off the model, so the
    base is cloned with a fixed input size; its images come out in the
    base's input range (`values_range`), which must be linear in the pixels:
    MobileNet's "tf" (-1, 1), "unit" or "none"."""
    import keras
    import tensorflow as tf
    from xplique.features_visualizations import Objective, optimize

    ranges = {"tf": (-1.0, 1.0), "unit": (0.0, 1.0), "none": (0.0, 255.0)}
    if s.mode not in ranges:
        raise SystemExit(f"xplique: a base with {s.mode!r} preprocessing is not a linear "
                         f"range of the pixels; only {sorted(ranges)}")
    tf.random.set_seed(0)
    model = keras.models.clone_model(s.base, input_tensors=keras.Input(s.shape))
    model.set_weights(s.base.get_weights())
    objective = Objective.channel(model, s.layer, list(s.filters))
    images, _ = optimize(objective, nb_steps=steps, custom_shape=s.shape[:2],
                         values_range=ranges[s.mode])
    low, high = ranges[s.mode]
    pixels = (keras.ops.convert_to_numpy(images[-1]) - low) * 255.0 / (high - low)
    return to_uint8(pixels), {}


def run_kd_cli(args, steps: int, clock: dict, options: dict):
    """The `kerasdream filters` command at its defaults, run as the command runs
    (`main()` on `sys.argv`) first thing in this child, so the child's
    `process_s` is the command's whole process; images read back from its PNGs."""
    import numpy as np
    from PIL import Image

    from kerasdream.cli import main as cli_main

    if args.network != "mobilenet" or args.size != 128:
        raise SystemExit("kd_cli: the command's defaults are MobileNet at 128 px")
    out = tempfile.mkdtemp(prefix="kd-cli-")
    sys.argv = ["kerasdream", "filters", "--layer", args.layer,
                "--filters", f"0-{args.num_filters - 1}", "--steps", str(steps), "--out", out,
                "--models-dir", os.path.join(out, "models"), "--quiet"]
    code = cli_main()
    if code:
        raise SystemExit(f"kerasdream filters exited with {code}")
    return np.stack([np.asarray(Image.open(os.path.join(out, args.layer, f"filter_{f}.png"))
                                .convert("RGB")) for f in range(args.num_filters)]), {}


def run_kerasio(s: Setup, steps: int, clock: dict, options: dict):
    """keras.io "Visualizing what convnets learn" (fchollet), as written there,
    except: our base/layer/size/steps, and no 25-pixel centre crop in
    `deprocess_image` (every method is scored on full-size images)."""
    import numpy as np
    import tensorflow as tf

    tf.random.set_seed(0)
    feature_extractor = features_of(s)  # takes the base's preprocessed input, like the example
    img_height, img_width = s.shape[:2]

    def compute_loss(input_image, filter_index):
        activation = feature_extractor(input_image)[s.layer]
        # We avoid border artifacts by only involving non-border pixels in the loss.
        filter_activation = activation[:, 2:-2, 2:-2, filter_index]
        return tf.reduce_mean(filter_activation)

    @tf.function
    def gradient_ascent_step(img, filter_index, learning_rate):
        with tf.GradientTape() as tape:
            tape.watch(img)
            loss = compute_loss(img, filter_index)
        grads = tape.gradient(loss, img)
        grads = tf.math.l2_normalize(grads)
        img += learning_rate * grads
        return loss, img

    def initialize_image():
        img = tf.random.uniform((1, img_width, img_height, 3))
        return (img - 0.5) * 0.25  # a grey image with a little noise, in [-1, 1] space

    def visualize_filter(filter_index, iterations, learning_rate=10.0):
        img = initialize_image()
        for iteration in range(iterations):
            loss, img = gradient_ascent_step(img, filter_index, learning_rate)
            if iteration == 0:
                after_first = time.perf_counter()
        img = img[0].numpy()
        clock.setdefault("spans", []).append(time.perf_counter() - after_first)
        return loss, img

    def deprocess_image(img):
        img = img - img.mean()
        img /= img.std() + 1e-5
        img *= 0.15
        img += 0.5  # (the example also centre-crops 25 pixels here)
        img = np.clip(img, 0, 1) * 255
        return np.clip(img, 0, 255).astype("uint8")

    raw, shown = [], []
    for filter_index in s.filters:  # a Python int: the example retraces per filter
        _, img = visualize_filter(filter_index, steps)
        raw.append(to_uint8(unpreprocess(img, s.mode)))
        shown.append(deprocess_image(img))
    return np.stack(shown), {"raw_images": np.stack(raw)}


def run_floor(s: Setup, steps: int, clock: dict, options: dict, jit_compile=False):
    import keras
    import tensorflow as tf

    from kerasdream.network.bases import Preprocess

    features = features_of(s)
    preprocess = Preprocess(s.mode)
    channels = features.compute_output_spec(keras.KerasTensor((1, *s.shape)))[s.layer].shape[-1]
    mask = tf.one_hot(s.filters, channels)

    @tf.function(jit_compile=jit_compile)
    def forward_and_gradient(images):
        with tf.GradientTape() as tape:
            tape.watch(images)
            outputs = features(preprocess(images), training=False)[s.layer]
            objective = tf.reduce_sum(tf.reduce_mean(outputs, axis=(1, 2)) * mask)
        return tape.gradient(objective, images)

    images = tf.random.uniform((s.n, *s.shape), 0, 255, seed=0)
    forward_and_gradient(images).numpy()  # trace (and compile)
    clock["steady_start"] = time.perf_counter()
    for _ in range(steps):
        gradient = forward_and_gradient(images)
    gradient.numpy()
    clock["steady_steps"] = steps  # every timed step is a steady one
    return None, {}


def run_floor_xla(s, steps, clock, options):
    return run_floor(s, steps, clock, options, jit_compile=True)


def channel_objective(layer: str, filters: list[int], settings: dict):
    """Channel(layer, filters), minus settings["deepdream"] x DeepDream(layer)."""
    import kerasdream as kd

    objective = kd.Channel(layer, filters)
    weight = settings.get("deepdream")
    return objective - weight * kd.DeepDream(layer) if weight else objective


def run_kerasdream(s: Setup, steps: int, clock: dict, options: dict, settings=None,
                   jit_compile="auto"):
    import keras
    import numpy as np

    import kerasdream as kd

    settings = settings or options.get("settings") or KD_DEFAULT

    class FirstStep(keras.callbacks.Callback):
        """Steady state starts after the first call of fit (which traces); that
        call may run several steps (kerasdream's steps_per_execution)."""

        def on_train_batch_end(self, batch, logs=None):
            if "steady_start" not in clock:
                clock["steady_start"] = time.perf_counter()
                clock["steady_steps"] = steps - (batch + 1)

    chunk = options.get("chunk") or s.n
    parts = []
    for start in range(0, s.n, chunk):
        rows = list(range(start, min(start + chunk, s.n)))
        model = kd.DreamModel(
            channel_objective(s.layer, [s.filters[r] for r in rows], settings), s.spec,
            size=s.size, seed=0, row_keys=rows, **settings.get("build", {}),
        )
        callbacks = [FirstStep()] if start == 0 else []
        kd.train(model, steps, jit_compile=jit_compile, callbacks=callbacks,
                 **settings.get("train", {}))
        parts.append(kd.render(model))
        del model
    if chunk < s.n:
        clock["steady_start"] = None  # several compiles: no clean steady-state figure
    return np.concatenate(parts), {}


def run_kd_default(s, steps, clock, options):
    return run_kerasdream(s, steps, clock, options, settings=options.get("settings") or KD_DEFAULT)


def run_kd_best(s, steps, clock, options):
    return run_kerasdream(s, steps, clock, options, settings=options.get("settings") or KD_BEST)


def run_kd_default_xla(s, steps, clock, options):
    return run_kerasdream(s, steps, clock, options, settings=KD_DEFAULT, jit_compile=True)


def run_kd_best_xla(s, steps, clock, options):
    return run_kerasdream(s, steps, clock, options, settings=options.get("settings") or KD_BEST,
                          jit_compile=True)


METHODS = {
    "tkv": run_tkv,
    "xplique": run_xplique,
    "kerasio": run_kerasio,
    "floor": run_floor,
    "floor_xla": run_floor_xla,
    "kd_default": run_kd_default,
    "kd_best": run_kd_best,
    "kd_default_xla": run_kd_default_xla,
    "kd_best_xla": run_kd_best_xla,
}


def child_main(args) -> None:
    """One method, one layer, in this (fresh) process; results to --result."""
    import numpy as np

    options = json.loads(args.options or "{}")
    filters = list(range(args.num_filters))
    t_import = time.perf_counter()
    if args.child == "curve":
        s = Setup(args.network, args.layer, args.size, filters)
        result = curve_main(s, options)
        result["peak_rss_mib"] = peak_rss_mib()
        with open(args.result, "w") as file:
            json.dump(result, file)
        return
    if args.child == "kd_cli":
        # The command as its own process: nothing imported or loaded before it
        # (the setup after it only fingerprints the weights for the parent).
        baseline, clock, load = current_rss_mib(), {}, os.getloadavg()[0]
        cpu0, t0 = time.process_time(), time.perf_counter()
        images, extra = run_kd_cli(args, args.steps, clock, options)
        t1, cpu = time.perf_counter(), time.process_time() - cpu0
        s = Setup(args.network, args.layer, args.size, filters)
    else:
        s = Setup(args.network, args.layer, args.size, filters)
        baseline = current_rss_mib()
        clock = {}
        load = os.getloadavg()[0]
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        images, extra = METHODS[args.child](s, args.steps, clock, options)
        t1 = time.perf_counter()
        cpu = time.process_time() - cpu0
    steady = None
    if clock.get("spans"):  # keras.io: each filter's steps after its first (which traces)
        if args.steps > 1:
            steady = s.n * (args.steps - 1) / sum(clock["spans"])
    elif clock.get("steady_start"):
        steady_steps = clock.get("steady_steps", args.steps - 1)
        if steady_steps > 0 and t1 > clock["steady_start"]:
            steady = s.n * steady_steps / (t1 - clock["steady_start"])
    result = {
        "method": args.child,
        "network": args.network,
        "layer": args.layer,
        "size": args.size,
        "steps": args.steps,
        "num_filters": s.n,
        "wall_s": t1 - t0,
        "cpu_s": cpu,
        "img_steps_per_s": s.n * args.steps / (t1 - t0),
        "steady_img_steps_per_s": steady,
        "peak_rss_mib": peak_rss_mib(),
        "baseline_rss_mib": baseline,
        "loadavg_1min_before": load,
        "loadavg_1min_after": os.getloadavg()[0],
        "options": options,
        "setup_s": t0 - t_import,
        "base_checksum": s.checksum(),
    }
    if images is not None:
        np.save(args.result + ".npy", images)
        result["images"] = args.result + ".npy"
    for key, value in extra.items():
        np.save(args.result + f".{key}.npy", value)
        result[key] = args.result + f".{key}.npy"
    with open(args.result, "w") as file:
        json.dump(result, file)


# ------------------------------------------------------------------ evaluation


class Evaluator:
    """ONE evaluation for every method: true features of the uint8 images."""

    def __init__(self, network: str, layer: str, size: int):
        import keras

        from kerasdream.network.bases import Preprocess

        self.setup = Setup(network, layer, size, range(NUM_FILTERS))
        features = features_of(self.setup, redirect_relu=False)
        inputs = keras.Input(self.setup.shape)
        outputs = features(Preprocess(self.setup.mode)(inputs))[layer]
        self.model = keras.Model(inputs, keras.ops.mean(outputs, axis=(1, 2)))

    def channel_means(self, images):
        import numpy as np

        return np.asarray(self.model.predict(np.asarray(images, "float32"), verbose=0,
                                             batch_size=16))

    def score(self, images, filters):
        import numpy as np

        means = self.channel_means(images)
        rows = np.arange(len(filters))
        target = means[rows, filters]
        # Its own filter is (within TIE of) the most active channel, and active at all:
        # an image on which every channel is 0 selects nothing.
        selective = (target >= means.max(axis=1) - TIE) & (target > TIE)
        winners = np.argmax(means, axis=1)
        rivals = {}
        for row in np.flatnonzero(~selective):
            rivals[int(winners[row])] = rivals.get(int(winners[row]), 0) + 1
        return {
            "rival_channels": dict(sorted(rivals.items(), key=lambda kv: -kv[1])),
            "activation_mean": float(np.mean(target)),
            "activation_min": float(np.min(target)),
            "activation_per_filter": [float(v) for v in target],
            "selectivity": int(np.sum(selective)),
            "selective_per_filter": [bool(v) for v in selective],
        }


def curve_main(s: Setup, options: dict) -> dict:
    """kerasdream settings x steps: activation and selectivity of the rendered dreams."""
    import keras

    import kerasdream as kd

    checkpoints = sorted(options["checkpoints"])
    configs = options.get("configs") or [c[0] for c in CURVE_CONFIGS]
    evaluator = Evaluator(options["network"], s.layer, s.size)
    rows = []
    for name, settings in CURVE_CONFIGS:
        if name not in configs:
            continue
        model = kd.DreamModel(channel_objective(s.layer, s.filters, settings), s.spec,
                                     size=s.size, seed=0, **settings.get("build", {}))
        snapshots = {}

        class Snapshot(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if batch + 1 in checkpoints:
                    snapshots[batch + 1] = (kd.render(model), time.perf_counter())

        t0 = time.perf_counter()
        # Callbacks run once per call of the compiled step: one call per checkpoint gap.
        per_call = kd.model.default_steps_per_execution(math.gcd(*checkpoints))
        kd.train(model, checkpoints[-1], callbacks=[Snapshot()], steps_per_execution=per_call,
                 **settings.get("train", {}))
        for steps in checkpoints:
            images, t = snapshots[steps]
            score = evaluator.score(images, s.filters)
            rows.append({"config": name, "steps": steps, "elapsed_s": t - t0,
                         "activation_mean": score["activation_mean"],
                         "activation_min": score["activation_min"],
                         "selectivity": score["selectivity"]})
        print(f"  curve {s.layer} {name}: " + ", ".join(
            f"{r['steps']}:{r['activation_mean']:.3f}/{r['selectivity']}"
            for r in rows if r["config"] == name), flush=True)
    return {"layer": s.layer, "network": options["network"], "rows": rows}


# ------------------------------------------------------------------ parent


class Job:
    """One method on one network/layer, to run in a fresh subprocess."""

    def __init__(self, method: str, network: str, layer: str, size: int, steps: int,
                 num_filters: int = NUM_FILTERS, options: dict | None = None, tag: str = "",
                 run: int = 1):
        self.method, self.network, self.layer, self.run_index = method, network, layer, run
        tag += f"_run{run}" if run > 1 else ""
        self.size, self.steps, self.num_filters = size, steps, num_filters
        self.options, self.name = options or {}, f"{network}_{layer}_{method}{tag}"
        self.result: dict | None = None

    def run(self, args) -> None:
        logs = os.path.join(args.out, "logs")
        os.makedirs(logs, exist_ok=True)
        result_path = os.path.join(logs, self.name + ".json")
        if os.path.exists(result_path):
            os.remove(result_path)
        python = args.peer_python if self.method in PEERS else sys.executable
        command = [
            python, os.path.abspath(__file__), "--child", self.method,
            "--network", self.network, "--layer", self.layer, "--size", str(self.size),
            "--steps", str(self.steps), "--num-filters", str(self.num_filters),
            "--result", result_path, "--options", json.dumps(self.options),
        ]
        started = time.perf_counter()
        log_path = os.path.join(logs, self.name + ".log")
        with open(log_path, "w") as log:
            code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT)
        if code != 0 or not os.path.exists(result_path):
            print(f"  {self.name}: FAILED (exit {code}); see {log_path}", flush=True)
            return
        with open(result_path) as file:
            self.result = json.load(file)
        self.result["process_s"] = time.perf_counter() - started
        if "wall_s" in self.result:
            print(f"  {self.name}: {self.result['wall_s']:.1f} s, "
                  f"{self.result['img_steps_per_s']:.0f} img-steps/s, "
                  f"peak {self.result['peak_rss_mib']:.0f} MiB", flush=True)
        else:
            print(f"  {self.name}: done in {self.result['process_s']:.0f} s", flush=True)


def run_jobs(args, jobs: list[Job]) -> None:
    """One after another (default), or `--jobs` at a time (timings then interfere)."""
    if args.jobs <= 1:
        for job in jobs:
            job.run(args)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(lambda job: job.run(args), jobs))


def fmt(value, spec=".1f", missing="-"):
    if value is None:
        return missing
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def describe_settings(settings: dict) -> str:
    parts = [f"{k}={v}" for k, v in {**settings.get("build", {}), **settings.get("train", {})}.items()]
    if settings.get("deepdream"):
        parts.append(f"objective Channel - {settings['deepdream']} DeepDream")
    return ", ".join(parts) or "defaults"


def sections(args, vgg_steps=None):
    """(network, layer, size, steps) of each table section."""
    found = [("mobilenet", layer, NETWORKS["mobilenet"][1], args.steps) for layer in args.layers]
    if not args.skip_vgg:
        found.append(("vgg16", args.vgg_layer, args.vgg_size, vgg_steps or args.vgg_steps))
    return found


def plan_main(args, versions: dict) -> list[tuple[tuple, list[Job]]]:
    """`versions`: each peer method's installed version (None: skipped)."""
    methods = [m for m in args.methods if versions.get(m, True)]
    plan = []
    for network, layer, size, steps in sections(args):
        repeats = args.repeat if network == "mobilenet" else 1
        here = [m for m in methods if network == "mobilenet" or m not in ("xplique", "kd_cli")]
        jobs = [Job(method, network, layer, size, steps, run=r + 1,
                    options={"settings": args.best_settings} if method == "kd_best" else None)
                for r in range(repeats) for method in here]
        plan.append(((network, layer, size, steps), jobs))
    return plan


def ordered(plan) -> list[Job]:
    """Every main job, repeats interleaved (run 1 of everything, then run 2, ...),
    so a burst of load from elsewhere on the machine hits one run, not one method."""
    jobs = [job for _, section in plan for job in section]
    return sorted(jobs, key=lambda job: job.run_index)


def best_of(jobs: list[Job]) -> dict | None:
    """One result from a method's repeats: the fastest run's timing, the largest
    peak memory, the first run's images (runs are seeded: the images match)."""
    results = [job.result for job in jobs if job.result]
    if not results:
        return None
    fastest = dict(min(results, key=lambda r: r["wall_s"]))
    steadies = [r["steady_img_steps_per_s"] for r in results if r.get("steady_img_steps_per_s")]
    fastest["steady_img_steps_per_s"] = max(steadies) if steadies else None
    fastest["peak_rss_mib"] = max(r["peak_rss_mib"] for r in results)
    fastest["repeats"] = len(results)
    fastest["wall_s_all"] = [r["wall_s"] for r in results]
    for key in ("images", "raw_images"):
        if key in results[0]:
            fastest[key] = results[0][key]
    return fastest


def assemble_main(args, plan) -> list[dict]:
    """Score every method's images with one evaluator per layer; grids; ratios."""
    import numpy as np

    from kerasdream.io import grid, save_png

    rows = []
    filters = list(range(NUM_FILTERS))
    for (network, layer, size, steps), jobs in plan:
        methods = list(dict.fromkeys(job.method for job in jobs))
        results = {m: best_of([job for job in jobs if job.method == m]) for m in methods}
        results = {m: r for m, r in results.items() if r}
        if not results:
            continue
        evaluator = Evaluator(network, layer, size)
        if results.get("kerasio", {}).get("raw_images"):
            results["kerasio_raw"] = dict(results["kerasio"], method="kerasio_raw",
                                          images=results["kerasio"]["raw_images"])
        floor = results.get("floor", {}).get("steady_img_steps_per_s")
        for method, result in results.items():
            result["label"] = METHOD_LABELS[method]
            if abs(result["base_checksum"] - evaluator.setup.checksum()) > 1e-3:
                print(f"WARNING: {network} weights differ between {method}'s process and "
                      "the evaluation's", flush=True)
            if method == "kd_best":
                result["label"] += " (" + describe_settings(args.best_settings) + ")"
            if result.get("images"):
                images = np.load(result["images"])
                result.update(evaluator.score(images, filters))
                labels = [f"{f}: {a:.2f}{'' if ok else ' (x)'}" for f, a, ok in zip(
                    filters, result["activation_per_filter"], result["selective_per_filter"])]
                path = os.path.join(args.out, f"grid_{network}_{layer}_{method}.png")
                title = (f"{result['label']} - {network} {layer}, {steps} steps - "
                         f"sel {result['selectivity']}/{NUM_FILTERS}, "
                         f"act {result['activation_mean']:.3f}")
                save_png(path, grid(images, labels=labels, columns=8, title=title))
                result["grid"] = os.path.relpath(path, args.out)
            rate = result["img_steps_per_s"]
            for peer in ("tkv", "kerasio", "xplique"):
                if peer in results and method not in (peer, peer + "_raw"):
                    result[f"x_{peer}"] = rate / results[peer]["img_steps_per_s"]
                    if result.get("process_s") and results[peer].get("process_s"):
                        # whole processes: start-up, imports and all
                        result[f"px_{peer}"] = results[peer]["process_s"] / result["process_s"]
            if floor and method != "floor":
                result["pct_floor"] = 100.0 * rate / floor
                if result.get("steady_img_steps_per_s"):
                    result["pct_floor_steady"] = 100.0 * result["steady_img_steps_per_s"] / floor
            rows.append(result)
    return rows


def plan_xla(args) -> list[Job]:
    jobs = []
    for network, layer, size, steps in sections(args)[:1 if args.quick else None]:
        steps = args.xla_steps if network == "mobilenet" else min(args.vgg_xla_steps, steps)
        for method in ("floor_xla", "kd_default_xla", "kd_best_xla"):
            options = {"settings": args.best_settings} if method == "kd_best_xla" else None
            jobs.append(Job(method, network, layer, size, steps, options=options))
    return jobs


def plan_memory(args) -> list[Job]:
    return [Job("kd_default", "vgg16", args.vgg_layer, args.memory_size, args.memory_steps,
                num_filters=args.memory_dreams, options={"chunk": chunk},
                tag=f"_{args.memory_dreams}dreams_chunk{chunk}")
            for chunk in args.memory_chunks]


def plan_curve(args) -> list[Job]:
    options = {"checkpoints": args.curve_steps, "network": "mobilenet",
               "configs": args.curve_configs}
    return [Job("curve", "mobilenet", layer, NETWORKS["mobilenet"][1], max(args.curve_steps),
                options=options) for layer in args.layers]


# ------------------------------------------------------------------ report


def check_targets(rows) -> list[str]:
    """The issue's targets, per MobileNet layer, for both kerasdream rows."""
    lines = []
    by_layer: dict = {}
    for row in rows:
        if row["network"] == "mobilenet":
            by_layer.setdefault(row["layer"], {})[row["method"]] = row
    for layer, methods in by_layer.items():
        for kd_method in ("kd_default", "kd_best", "kd_cli"):
            kd = methods.get(kd_method)
            if not kd:
                continue
            checks = []
            if kd_method == "kd_cli":  # issue 31: whole processes, every column as good
                for peer, target in (("xplique", 2.0), ("tkv", 3.0)):
                    if kd.get(f"px_{peer}") is not None:
                        checks.append((f"process x {PEERS[peer]}", kd[f"px_{peer}"], target, ">="))
                for column in ("activation_mean", "selectivity"):
                    for peer in ("xplique", "tkv"):
                        if column in methods.get(peer, {}):
                            checks.append((f"{column} vs {PEERS[peer]}", kd[column],
                                           methods[peer][column], ">="))
            else:
                if "tkv" in methods:
                    checks.append(("x tf-keras-vis", kd["x_tkv"], 8.0, ">="))
                if "kerasio" in methods:
                    checks.append(("x keras.io", kd["x_kerasio"], 3.0, ">="))
                if kd.get("pct_floor") is not None:
                    checks.append(("% floor", kd["pct_floor"], 70.0, ">="))
            checks.append(("selectivity", kd["selectivity"], 14, ">="))
            peers = [methods[p]["activation_mean"] for p in ("tkv", "kerasio", "kerasio_raw")
                     if p in methods and "activation_mean" in methods[p]]
            if peers and kd_method != "kd_cli":
                checks.append(("activation vs best peer", kd["activation_mean"], max(peers), ">"))
            parts = []
            for name, value, target, op in checks:
                met = value > target if op == ">" else value >= target
                parts.append(f"{name} {value:.3g} (target {op} {target:.3g}) "
                             f"{'MET' if met else 'MISSED by ' + format(target - value, '.3g')}")
            lines.append(f"- {layer}, {METHOD_LABELS[kd_method]}: " + "; ".join(parts))
        rivals = [f"{METHOD_LABELS[m]} {methods[m]['rival_channels']}" for m in methods
                  if methods[m].get("rival_channels")]
        if rivals:
            lines.append(f"  - {layer}: channels that beat the target on non-selective images "
                         f"(channel: images): " + "; ".join(rivals))
    return lines


def write_report(args, data: dict) -> None:
    from kerasdream.io import write_json

    lines = [
        "# kerasdream vs peers",
        "",
        f"Command: `{data['command']}`  ",
        f"Machine: {data['machine']}  ",
        f"Versions: {data['versions']}  ",
        f"Started {data['started']}, took {data['total_s'] / 60:.1f} min. "
        f"1-min load average before/after each method is in results.json "
        f"(other processes on the machine slow every figure alike).",
        "",
        f"{NUM_FILTERS} filters (0-{NUM_FILTERS - 1}) at once. wall = build + trace/compile + "
        "all steps + uint8 images (after imports and base loading). img-steps/s = "
        "filters x steps / wall; steady = after the first step (per-step speed once traced). "
        "x peer = ratio of img-steps/s. % floor = img-steps/s / the floor's steady img-steps/s "
        "(steady % in brackets). act = mean over the 16 images of the target filter's mean "
        "activation on the final uint8 image; sel = images whose own filter is the layer's "
        f"most active channel (ties within {TIE:g} count); both from one evaluation "
        "(true ReLU, same preprocessing) for every method. peak = peak RSS of the method's "
        "own process (includes ~the TensorFlow runtime, see baseline in results.json).",
    ]
    main_rows = data.get("main", {}).get("rows", [])
    if main_rows:
        lines += [
            "",
            "| network | layer | method | steps | process s | wall s | cpu s | img-steps/s |"
            " steady | x tf-keras-vis | x Xplique | x keras.io | process x tf-keras-vis |"
            " process x Xplique | % floor | act | sel | peak MiB | grid |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            "---:|---:|---|",
        ]
    for row in main_rows:
        same_run = row["method"] == "kerasio_raw"
        pct = fmt(row.get("pct_floor"), ".0f")
        if row.get("pct_floor_steady") is not None:
            pct += f" ({row['pct_floor_steady']:.0f})"
        lines.append(
            f"| {row['network']} | {row['layer']} | {row['label']} | {row['steps']} | "
            + ("(same run) | | | | | | | | | | | " if same_run else
               f"{fmt(row.get('process_s'))} | "
               f"{row['wall_s']:.1f} | {row['cpu_s']:.1f} | {row['img_steps_per_s']:.0f} | "
               f"{fmt(row.get('steady_img_steps_per_s'), '.0f')} | "
               f"{fmt(row.get('x_tkv'), '.2f')} | {fmt(row.get('x_xplique'), '.2f')} | "
               f"{fmt(row.get('x_kerasio'), '.2f')} | {fmt(row.get('px_tkv'), '.2f')} | "
               f"{fmt(row.get('px_xplique'), '.2f')} | {pct} | ")
            + f"{fmt(row.get('activation_mean'), '.3f')} | "
            + (f"{row['selectivity']}/{NUM_FILTERS}" if "selectivity" in row else "-")
            + (" |  | " if same_run else f" | {row['peak_rss_mib']:.0f} | ")
            + (f"[png]({row['grid']})" if row.get("grid") else "-") + " |"
        )
    if data.get("skipped"):
        lines += ["", *[f"SKIPPED: {s}" for s in data["skipped"]]]
    if main_rows:
        lines += ["", "## Targets", "", *check_targets(main_rows)]

    if data.get("xla"):
        steady = {(r["network"], r["layer"], r["method"]): r.get("steady_img_steps_per_s")
                  for r in main_rows}
        lines += ["", "## XLA (`jit_compile=True`) on CPU", "",
                  "| network | layer | method | steps | wall s | steady img-steps/s | "
                  "without XLA (steady) | speed-up |", "|---|---|---|---:|---:|---:|---:|---:|"]
        for row in data["xla"]:
            plain = steady.get((row["network"], row["layer"],
                                row["method"][:-len("_xla")]))
            xla = row.get("steady_img_steps_per_s")
            lines.append(f"| {row['network']} | {row['layer']} | {row['label']} | {row['steps']} | "
                         f"{row['wall_s']:.1f} | {fmt(xla, '.1f')} | {fmt(plain, '.1f')} | "
                         f"{fmt(xla / plain if xla and plain else None, '.2f')}x |")

    if data.get("memory"):
        lines += ["", f"## Peak memory: {args.memory_dreams} dreams, VGG16 (weights=None), "
                  f"{args.memory_size} px, {args.vgg_layer}", "",
                  f"Target <= {MEMORY_TARGET_GIB:g} GiB. kerasdream defaults, "
                  f"{args.memory_steps} steps; chunk = dreams trained per model, one after "
                  "another (row_keys keep every dream identical to the unchunked run).", "",
                  "| chunk | peak GiB | baseline GiB | wall s | img-steps/s | target |",
                  "|---:|---:|---:|---:|---:|---|"]
        for row in data["memory"]:
            gib = row["peak_rss_mib"] / 1024.0
            lines.append(f"| {row['chunk']} | {gib:.2f} | {row['baseline_rss_mib'] / 1024.0:.2f} | "
                         f"{row['wall_s']:.1f} | {row['img_steps_per_s']:.2f} | "
                         f"{'MET' if gib <= MEMORY_TARGET_GIB else 'over'} |")

    if data.get("curve"):
        steps = sorted({r["steps"] for r in data["curve"]})
        lines += ["", "## Curve: kerasdream settings against steps (MobileNet, 128 px)", "",
                  "act / sel at each step count (one run per setting, snapshotted); "
                  "s = seconds to reach the last step.", "",
                  "| layer | setting | " + " | ".join(f"{s} steps" for s in steps) + " | s |",
                  "|---|---|" + "---:|" * (len(steps) + 1)]
        keys = []
        for row in data["curve"]:
            if (row["layer"], row["config"]) not in keys:
                keys.append((row["layer"], row["config"]))
        for layer, config in keys:
            cells = {r["steps"]: r for r in data["curve"]
                     if r["layer"] == layer and r["config"] == config}
            last = cells[steps[-1]]["elapsed_s"] if steps[-1] in cells else None
            lines.append(f"| {layer} | {config} | " + " | ".join(
                f"{cells[s]['activation_mean']:.3f} / {cells[s]['selectivity']}" if s in cells
                else "-" for s in steps) + f" | {fmt(last, '.1f')} |")
    lines.append("")
    with open(os.path.join(args.out, "results.md"), "w") as file:
        file.write("\n".join(lines))
    write_json(os.path.join(args.out, "results.json"), data)
    print("\n".join(lines))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200, help="steps for MobileNet rows")
    parser.add_argument("--layers", nargs="+", default=["conv_pw_3_relu", "conv_pw_8_relu"],
                        help="MobileNet (alpha 0.25, 128 px) layers")
    parser.add_argument("--out", default=None,
                        help="default: benchmarks/results (a temporary folder with --quick, "
                             "so a smoke test never overwrites the published report)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny budgets everywhere: a smoke test, not a measurement")
    parser.add_argument("--vgg-layer", default="block5_conv3")
    parser.add_argument("--vgg-size", type=int, default=224)
    parser.add_argument("--vgg-steps", type=int, default=10)
    parser.add_argument("--skip-vgg", action="store_true")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each MobileNet method (interleaved); the fastest counts")
    parser.add_argument("--xla-steps", type=int, default=50,
                        help="steps for the MobileNet XLA rows (XLA is very slow on CPU)")
    parser.add_argument("--vgg-xla-steps", type=int, default=3)
    parser.add_argument("--memory-dreams", type=int, default=64)
    parser.add_argument("--memory-size", type=int, default=224)
    parser.add_argument("--memory-steps", type=int, default=2)
    parser.add_argument("--memory-chunks", type=int, nargs="+", default=[64, 32, 16])
    parser.add_argument("--curve-steps", type=int, nargs="+", default=[50, 100, 200, 400])
    parser.add_argument("--curve-configs", nargs="+", default=None,
                        help="names from CURVE_CONFIGS (default: all)")
    parser.add_argument("--best", default=None,
                        help='kerasdream "best" settings as JSON, e.g. '
                             '\'{"build": {"transforms": null}, "train": {}}\'')
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS,
                        help="which parts to run (default: all)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="subprocesses at a time (default 1; 2 with --quick). Above 1 "
                             "the methods compete for the CPU: timings are then meaningless")
    # Internal: one method in a child process.
    parser.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS),
                        choices=list(DEFAULT_METHODS) + ["kd_cli"],
                        help="methods of the main table (kd_cli: the `kerasdream filters` "
                             "command, MobileNet only)")
    parser.add_argument("--peer-python", default=sys.executable,
                        help="the interpreter for the peers' children (tf-keras-vis, Xplique): "
                             "a venv of theirs, never kerasdream's dependencies")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--network", default="mobilenet", help=argparse.SUPPRESS)
    parser.add_argument("--layer", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=128, help=argparse.SUPPRESS)
    parser.add_argument("--num-filters", type=int, default=NUM_FILTERS, help=argparse.SUPPRESS)
    parser.add_argument("--result", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--options", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.best_settings = json.loads(args.best) if args.best else KD_BEST
    if args.out is None and not args.child:
        args.out = (tempfile.mkdtemp(prefix="kerasdream-quick-") if args.quick
                    else os.path.join(HERE, "results"))
    if args.jobs is None:
        args.jobs = 2 if args.quick else 1
    if args.quick and not args.child:
        explicit = set(a.split("=")[0] for a in (argv if argv is not None else sys.argv[1:]))
        quick = {"--steps": ("steps", 4), "--vgg-size": ("vgg_size", 32), "--repeat": ("repeat", 1),
                 "--vgg-steps": ("vgg_steps", 2), "--xla-steps": ("xla_steps", 2),
                 "--memory-dreams": ("memory_dreams", 8), "--memory-size": ("memory_size", 32),
                 "--memory-steps": ("memory_steps", 1), "--memory-chunks": ("memory_chunks", [8, 4]),
                 "--curve-steps": ("curve_steps", [2, 4]),
                 "--curve-configs": ("curve_configs", [CURVE_CONFIGS[0][0], CURVE_CONFIGS[1][0]])}
        for flag, (name, value) in quick.items():
            if flag not in explicit:
                setattr(args, name, value)
        if "--layers" not in explicit:
            args.layers = args.layers[:1]
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.child:
        child_main(args)
        return
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    versions = {method: peer_version(args.peer_python, name) for method, name in PEERS.items()
                if method in args.methods}
    import keras
    import tensorflow as tf

    import kerasdream

    peers = ", ".join(f"{PEERS[m]} {v or 'not installed'}" for m, v in versions.items())
    data = {
        "command": " ".join(["python", os.path.relpath(os.path.abspath(__file__))] + sys.argv[1:]),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "versions": f"python {platform.python_version()}, tensorflow {tf.__version__}, "
                    f"keras {keras.__version__}, kerasdream {kerasdream.__version__}, {peers} "
                    f"(peers run by {args.peer_python})",
        "args": {k: v for k, v in vars(args).items() if v is not None},
        "kd_best": args.best_settings,
        "skipped": [f"{PEERS[m]}: not installed for {args.peer_python}"
                    for m, v in versions.items() if not v],
    }
    if versions.get("tkv") and versions["tkv"] != "0.8.7":
        print(f"note: tf-keras-vis {versions['tkv']} installed; the issue's figures are for 0.8.7")
    for line in data["skipped"]:
        print(f"SKIP {line} (its own venv: python -m venv --system-site-packages DIR, "
              f"then --peer-python DIR/bin/python)", flush=True)
    main_plan = plan_main(args, versions) if "main" in args.parts else []
    xla_jobs = plan_xla(args) if "xla" in args.parts else []
    memory_jobs = plan_memory(args) if "memory" in args.parts else []
    curve_jobs = plan_curve(args) if "curve" in args.parts else []
    every = ordered(main_plan) + xla_jobs + memory_jobs + curve_jobs
    print(f"{len(every)} subprocesses, {args.jobs} at a time; logs in "
          f"{os.path.join(args.out, 'logs')}", flush=True)
    run_jobs(args, every)
    if main_plan:
        data["main"] = {"rows": assemble_main(args, main_plan)}
    if xla_jobs:
        data["xla"] = [dict(job.result, label=METHOD_LABELS[job.method])
                       for job in xla_jobs if job.result]
    if memory_jobs:
        data["memory"] = [dict(job.result, chunk=job.options["chunk"])
                          for job in memory_jobs if job.result]
    if curve_jobs:
        data["curve"] = [dict(row, layer=job.layer) for job in curve_jobs if job.result
                         for row in job.result["rows"]]
    data["total_s"] = time.time() - started
    write_report(args, data)


if __name__ == "__main__":
    main()
