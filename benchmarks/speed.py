"""Issue 16's speed targets, measured side by side in one run.

    python benchmarks/speed.py                  # every figure (~15 min on 2 shared cores)
    python benchmarks/speed.py --only fourier,precision
    python benchmarks/speed.py --quick          # smoke test, tiny budgets

Figures (whole processes are timed from the parent, wall clock, start-up
included; kerasdream runs print their `--profile` stage breakdown):

  peers      `kerasdream filters --layer conv_pw_3_relu` (CLI defaults: 16
             filters, 128 px, 200 steps, Fourier, light transforms) against
             tf-keras-vis 0.8.7 doing the same work in its own process:
             import, load the shipped MobileNet, `ActivationMaximization` of
             the 16 channel means for 200 steps (its defaults), write 16
             PNGs. Skipped if tf-keras-vis is not installed.
  fourier    `kerasdream filters --layer conv_pw_8_relu`, Fourier (default)
             against `--parameterization pixels`.
  steps      in one process, interleaved: seconds per training step at
             `conv_pw_8_relu` (16 dreams, 128 px, the gallery's objective,
             light transforms) for pixels, Fourier (the matmul DFT) and
             Fourier through the complex FFT it replaced.
  precision  `kerasdream filters --model vgg16 --weights none --layer
             block5_conv3 --filters 0-7 --steps 20`, `--precision float32`
             against `bfloat16` (and `auto`).
  gallery    `kerasdream gallery` at its defaults.
  atlas      the estimate for a full VGG16 atlas (weights=None, 224 px,
             200 steps, batches of 16, `auto` precision): per layer, the
             measured build + trace and seconds per step, and the scoring of
             a chunk modelled from a timed float32 forward batch, times its
             chunks; summed over the 13 layers.

Runs of one figure alternate (A, B, A, B with `--repeats 2`); the ratio is
of the medians. Writes the table to `--out` (default benchmarks/results/speed.md).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

HERE = os.path.dirname(os.path.abspath(__file__))
FIGURES = ("peers", "fourier", "steps", "precision", "gallery", "atlas")


def have_tf_keras_vis() -> bool:
    try:
        import importlib.metadata as metadata

        return metadata.version("tf-keras-vis") == "0.8.7"
    except Exception:
        return False


def run_process(argv: list[str], label: str, log_dir: str) -> tuple[float, str]:
    """Wall seconds of one process, and its `profile:` line (or "")."""
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    with open(os.path.join(log_dir, f"{label}.log"), "a", encoding="utf-8") as file:
        file.write(f"$ {' '.join(argv)}\n{done.stdout}\n{done.stderr}\n")
    if done.returncode:
        raise SystemExit(f"{label} failed ({done.returncode}); see {log_dir}/{label}.log:\n"
                         + done.stderr[-2000:])
    profile = next((line for line in done.stdout.splitlines() if line.startswith("profile:")),
                   "")
    return seconds, profile


def kerasdream(*options: str) -> list[str]:
    return [sys.executable, "-m", "kerasdream", *options]


def side_by_side(runs: dict[str, list[str]], repeats: int, log_dir: str) -> dict:
    """Each labelled command `repeats` times, alternating; medians and profiles."""
    walls = {label: [] for label in runs}
    profiles = {}
    for _ in range(repeats):
        for label, argv in runs.items():
            with tempfile.TemporaryDirectory() as out:
                argv = [a.replace("{out}", out) for a in argv]
                seconds, profile = run_process(argv, label, log_dir)
            walls[label].append(seconds)
            profiles[label] = profile
            print(f"  {label}: {seconds:.1f} s {profile}", flush=True)
    return {label: (statistics.median(v), profiles[label]) for label, v in walls.items()}


def dream_options(quick: bool, steps: int | None = None, filters: str | None = None):
    options = ["--out", "{out}/dreams", "--models-dir", "{out}/models", "--profile"]
    if quick:
        return options + ["--steps", "4", "--filters", "0-1", "--size", "64"]
    if steps:
        options += ["--steps", str(steps)]
    if filters:
        options += ["--filters", filters]
    return options


# ------------------------------------------------------------------ tf-keras-vis child


def tkv_child(layer: str, filters: int, steps: int, size: int, out: str) -> None:
    """tf-keras-vis' whole job in this process: import, load, dream, write PNGs."""
    import numpy as np
    from PIL import Image

    from peers import Setup, run_tkv

    setup = Setup("mobilenet", layer, size, list(range(filters)))
    images, _ = run_tkv(setup, steps, {}, {})
    os.makedirs(out, exist_ok=True)
    for k, image in enumerate(np.asarray(images)):
        Image.fromarray(image).save(os.path.join(out, f"filter_{k}.png"))


# ------------------------------------------------------------------ atlas estimate


def atlas_estimate(quick: bool) -> list[tuple]:
    """Per VGG16 atlas layer: (layer, filters, precision, build+trace s, s/step,
    score s/chunk, estimated s), measured in this process.

    Training is timed (2 steps after a traced call of 2). Scoring a chunk
    runs the float32 network on each dream's start and final image and 8
    robust views (10 images a dream), and once per layer on the 72 natural
    crops twice (post- and pre-activation): its seconds are modelled from one
    timed float32 batch of 32 images through the same extractor (built first).
    """
    import keras
    import numpy as np

    import kerasdream as kd
    from kerasdream import evaluation
    from kerasdream.network.bases import BaseSpec, layer_channels, load_base
    from kerasdream.defaults import DEFAULT_BATCH
    from kerasdream.network.layers import atlas_layers
    from kerasdream.runs.settings import DreamSettings

    keras.utils.set_random_seed(0)
    spec = BaseSpec("vgg16", None, None)
    base = load_base(spec)
    size, steps, batch = (64, 4, 2) if quick else (224, 200, DEFAULT_BATCH)
    layers = atlas_layers(base)
    if quick:
        layers = layers[:2]
    probe = np.random.default_rng(0).uniform(0, 255, (32, size, size, 3)).astype("float32")
    rows = []
    for layer in layers:
        channels = layer_channels(base, layer)
        filters = list(range(batch))
        began = time.perf_counter()
        objective = DreamSettings().objective_for(layer, filters, base)
        model = kd.DreamModel(objective, spec, size=size, row_keys=filters)
        model.compile(steps_per_execution=2)
        model.fit(2)
        setup = time.perf_counter() - began
        began = time.perf_counter()
        model.fit(2)
        per_step = (time.perf_counter() - began) / 2
        evaluation.channel_means(base, layer, probe[:2], model.preprocess.mode)  # builds it
        began = time.perf_counter()
        evaluation.channel_means(base, layer, probe, model.preprocess.mode)
        per_image = (time.perf_counter() - began) / len(probe)
        score = 10 * batch * per_image
        chunks = math.ceil(channels / batch)
        total = setup + 144 * per_image + chunks * (steps * per_step + score)
        rows.append((layer, channels, model.precision, setup, per_step, score, total))
        print(f"  {layer}: {channels} filters, {model.precision}, build+trace {setup:.1f} s, "
              f"{per_step:.3f} s/step at batch {batch}, score {score:.1f} s/chunk -> "
              f"{total / 3600:.2f} h", flush=True)
        del model
        keras.backend.clear_session()
    return rows


def step_seconds(quick: bool, repeats: int = 4) -> dict[str, float]:
    """Median seconds per step of pixels, Fourier and Fourier-by-FFT, interleaved."""
    import numpy as np
    from keras import ops

    import kerasdream as kd
    from kerasdream.network.bases import BaseSpec, load_base
    from kerasdream.runs.gallery import DreamSettings
    from kerasdream.param.fourier import COLOR_MIX, Fourier

    class FFTFourier(Fourier):
        """The Fourier layer before the matmul DFT: real part of a complex ifft2."""

        def call(self, raw):
            scale = ops.convert_to_tensor(self.spectrum_scale)
            real, _ = ops.ifft2((raw[:, 0] * scale, raw[:, 1] * scale))
            logits = ops.matmul(ops.transpose(real, (0, 2, 3, 1)),
                                ops.convert_to_tensor(COLOR_MIX.T))
            return 255.0 * ops.sigmoid(logits)

    size, count, steps = (32, 2, 5) if quick else (128, 16, 25)
    filters = list(range(count))
    objective = DreamSettings().objective_for("conv_pw_8_relu", filters, load_base(BaseSpec()))
    models = {}
    for label, parameterization in (("pixels", "pixels"),
                                    ("fourier", Fourier((size, size, 3))),
                                    ("fourier by FFT", FFTFourier((size, size, 3)))):
        models[label] = kd.DreamModel(objective, size=size, row_keys=filters,
                                      parameterization=parameterization)
        models[label].compile()
        models[label].fit(steps)  # trace
    times = {label: [] for label in models}
    for _ in range(repeats):
        for label, model in models.items():
            began = time.perf_counter()
            model.fit(steps)
            times[label].append((time.perf_counter() - began) / steps)
    for label, values in times.items():
        print(f"  {label}: " + ", ".join(f"{v * 1000:.0f}" for v in values) + " ms/step",
              flush=True)
    return {label: float(np.median(values)) for label, values in times.items()}


# ------------------------------------------------------------------ main


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(FIGURES),
                        help=f"comma-separated figures among {', '.join(FIGURES)}")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "speed.md"))
    parser.add_argument("--tkv-child", nargs=5, metavar=("LAYER", "FILTERS", "STEPS", "SIZE",
                                                          "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.tkv_child:
        layer, filters, steps, size, out = args.tkv_child
        tkv_child(layer, int(filters), int(steps), int(size), out)
        return
    only = args.only.split(",")
    log_dir = tempfile.mkdtemp(prefix="kerasdream-speed-")
    print(f"logs in {log_dir}")
    lines = ["| figure | A | B | A (s) | B (s) | ratio | target |", "|---|---|---|---:|---:|---:|---|"]
    profiles = []

    def row(figure, a, b, result, target, ratio=None):
        (ta, pa), (tb, pb) = result[a], result[b]
        ratio = tb / ta if ratio is None else ratio
        lines.append(f"| {figure} | {a} | {b} | {ta:.1f} | {tb:.1f} | {ratio:.2f}x | {target} |")
        profiles.extend(f"- {label}: {profile[len('profile: '):]}"
                        for label, profile in ((a, pa), (b, pb)) if profile)

    q = args.quick
    if "peers" in only:
        if have_tf_keras_vis():
            steps, filters, size = ("4", "2", "64") if q else ("200", "16", "128")
            result = side_by_side({
                "kerasdream filters": kerasdream("filters", "--layer", "conv_pw_3_relu",
                                                 *dream_options(q)),
                "tf-keras-vis": [sys.executable, os.path.abspath(__file__), "--tkv-child",
                                 "conv_pw_3_relu", filters, steps, size, "{out}/tkv"],
            }, args.repeats, log_dir)
            row("whole process, conv_pw_3_relu, 16 filters (tf-keras-vis / kerasdream)",
                "kerasdream filters", "tf-keras-vis", result, ">= 5x")
        else:
            lines.append("| whole process against tf-keras-vis | - | - | - | - | - | skipped: "
                         "`pip install tf-keras-vis==0.8.7` |")
    if "fourier" in only:
        result = side_by_side({
            "pixels": kerasdream("filters", "--layer", "conv_pw_8_relu", "--parameterization",
                                 "pixels", *dream_options(q)),
            "fourier": kerasdream("filters", "--layer", "conv_pw_8_relu", *dream_options(q)),
        }, args.repeats, log_dir)
        row("whole process, conv_pw_8_relu (Fourier / pixels)", "pixels", "fourier", result,
            "<= 1.25x")
    if "steps" in only:
        median = step_seconds(q)
        for label in ("fourier", "fourier by FFT"):
            lines.append(f"| seconds per step, conv_pw_8_relu, in one process ({label} / "
                         f"pixels) | pixels | {label} | {median['pixels']:.3f} | "
                         f"{median[label]:.3f} | {median[label] / median['pixels']:.2f}x | "
                         f"<= 1.25x (whole process) |")
    if "precision" in only:
        vgg = ["--model", "vgg16", "--weights", "none", "--layer", "block5_conv3"]
        options = dream_options(q, steps=20, filters="0-7")
        result = side_by_side({
            "float32": kerasdream("filters", *vgg, "--precision", "float32", *options),
            "bfloat16": kerasdream("filters", *vgg, "--precision", "bfloat16", *options),
        }, args.repeats, log_dir)
        (t32, _), (t16, _) = result["float32"], result["bfloat16"]
        row("whole `filters`, VGG16 block5_conv3, 8 filters, 128 px, 20 steps "
            "(float32 / bfloat16)", "float32", "bfloat16", result, ">= 1.8x", ratio=t32 / t16)
    if "gallery" in only:
        extra = ["--steps", "4", "--filters", "0-1", "--size", "64"] if q else []
        result = side_by_side({"gallery": kerasdream("gallery", "--out", "{out}/g",
                                                     "--models-dir", "{out}/m", "--profile",
                                                     *extra)}, 1, log_dir)
        seconds, profile = result["gallery"]
        lines.append(f"| `kerasdream gallery` (defaults) wall time | gallery | - | "
                     f"{seconds:.1f} | - | - | <= 15 s |")
        if profile:
            profiles.append(f"- gallery: {profile[len('profile: '):]}")
    atlas_lines = []
    if "atlas" in only:
        rows = atlas_estimate(q)
        hours = sum(r[-1] for r in rows) / 3600
        lines.append(f"| VGG16 atlas estimate (4,224 filters, 224 px, 200 steps, auto) | - | - "
                     f"| - | - | {hours:.1f} h | <= 6 h |")
        atlas_lines = ["| layer | filters | precision | build + trace (s) | s/step (16 dreams) "
                       "| score (s/chunk) | estimate (h) |", "|---|---:|---|---:|---:|---:|---:|"]
        atlas_lines += [f"| {l} | {c} | {p} | {s:.1f} | {st:.3f} | {sc:.1f} | {t / 3600:.2f} |"
                        for l, c, p, s, st, sc, t in rows]
    text = "\n".join(lines)
    if profiles:
        text += "\n\nStages (`--profile`):\n\n" + "\n".join(profiles)
    if atlas_lines:
        text += "\n\nAtlas estimate, per layer:\n\n" + "\n".join(atlas_lines)
    print(text)
    if not q:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as file:
            file.write(f"`python benchmarks/speed.py {' '.join(argv or sys.argv[1:])}` on "
                       f"{os.cpu_count()} shared cores, {time.strftime('%Y-%m-%d %H:%M')}\n\n"
                       + text + "\n")


if __name__ == "__main__":
    main()
