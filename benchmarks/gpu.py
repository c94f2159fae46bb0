"""GPU throughput in a few minutes: floor, pixels, Fourier, precisions, devices.

    python benchmarks/gpu.py            # ~3-5 min on one GPU
    python benchmarks/gpu.py --steps 20 --network vgg16

Written before a GPU was here, for a short device session. Where no GPU is
visible it says so and exits 0. On a GPU, `jit_compile="auto"` lets Keras
compile the training step with XLA (every transform compiles: they resample
with gathers), and each row notes whether the step was compiled. Rows, all dream-steps per
second after the trace (batch `--batch`, `--size` px, `--network`'s
`--layer`):

  floor          compiled forward pass + input gradient of the truncated
                 network, no update: the ceiling for any dream;
  pixels         a DreamModel on pixels, no transforms;
  fourier        the same on the Fourier parameterization (matmul DFT);
  fourier+light  Fourier with the default light transforms;
  precision      fourier+light in float32, bfloat16 and float16;
  devices        one GPU against all visible GPUs (MirroredStrategy).

Then whole runs, as `kerasdream filters` trains them (defaults, precision
"auto"): `--run-filters` dreams for `--run-steps` steps at `--size` px on the
shipped MobileNet (`--mobilenet-layer`) and on VGG16 (`weights=None`,
`--layer`), build + trace + train timed; and the VGG16 atlas projected from
the VGG16 run: every filter of every atlas layer (`atlas_layers`), in chunks
of `--run-filters`, each costing what the chunk at `--layer` cost. Its
deepest layers cost the most a step, so with block5_conv3 it is an upper
bound.

    python benchmarks/gpu.py --cpu-smoke-test --size 32 --steps 2 --batch 2 \
        --run-steps 2 --run-filters 2      # checks the script on a CPU in ~1 min
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)


def gpus() -> list:
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


def per_second(run, steps: int, dreams: int) -> float:
    run(steps)  # trace
    began = time.perf_counter()
    run(steps)
    return dreams * steps / (time.perf_counter() - began)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="vgg16", help="keras.applications name")
    parser.add_argument("--layer", default="block5_conv3")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--mobilenet-layer", default="conv_pw_8_relu")
    parser.add_argument("--run-steps", type=int, default=200, help="steps of the whole runs")
    parser.add_argument("--run-filters", type=int, default=16, help="dreams of the whole runs")
    parser.add_argument("--cpu-smoke-test", action="store_true",
                        help="run every row on the CPU anyway (checks this script, not speed)")
    args = parser.parse_args(argv)

    found = gpus()
    if not found and not args.cpu_smoke_test:
        print("No GPU visible to TensorFlow here: nothing to measure (exit 0). "
              "Run this on a machine with a GPU.")
        return 0
    import keras
    import tensorflow as tf

    import kerasdream as kd
    from kerasdream.network.bases import BaseSpec, Preprocess, load_base
    from kerasdream.network.features import feature_model
    from kerasdream.network.layers import atlas_layers
    from kerasdream.network.precision import device_bfloat16

    keras.utils.set_random_seed(0)
    details = tf.config.experimental.get_device_details(found[0]) if found else {}
    print(f"{len(found)} GPU(s): {details.get('device_name')} compute capability "
          f"{details.get('compute_capability')}; auto picks bfloat16 here: "
          f"{device_bfloat16() == 'gpu'}")
    spec = BaseSpec(args.network, None, None)
    base = load_base(spec)
    shape = (args.size, args.size, 3)
    n, steps = args.batch, args.steps
    filters = list(range(n))
    rows = []

    features = feature_model(base, [args.layer], shape)
    preprocess = Preprocess(spec.preprocess_mode)

    @tf.function(jit_compile=True)
    def floor_step(images):
        with tf.GradientTape() as tape:
            tape.watch(images)
            value = tf.reduce_sum(features(preprocess(images), training=False)[args.layer])
        return tape.gradient(value, images)

    images = tf.random.uniform((n, *shape), 0, 255)

    def floor(k):
        for _ in range(k):
            result = floor_step(images)
        result.numpy()

    rows.append(("floor (XLA)", "float32", True, per_second(floor, steps, n)))

    def dream_row(label, parameterization, transforms, precision, strategy=None):
        scope = strategy.scope() if strategy else _null()
        with scope:
            model = kd.DreamModel(kd.Channel(args.layer, filters), spec, size=args.size,
                                  parameterization=parameterization, transforms=transforms,
                                  precision=precision)
            model.compile(steps_per_execution=None if strategy else steps)
        rate = per_second(lambda k: model.fit(k), steps, n)
        rows.append((label, model.precision, bool(model.jit_compile), rate))
        print(f"  {rows[-1]}", flush=True)

    dream_row("pixels", "pixels", "none", "float32")
    dream_row("fourier", "fourier", "none", "float32")
    for precision in ("float32", "bfloat16", "float16"):
        dream_row("fourier+light", "fourier", "light", precision)
    if len(found) > 1:
        strategy = tf.distribute.MirroredStrategy()
        dream_row(f"fourier+light, {len(found)} GPUs mirrored", "fourier", "light", "auto",
                  strategy)
    else:
        print("One GPU: the mirrored comparison needs two or more.")

    print(f"\n{args.network} {args.layer}, batch {n}, {args.size} px, {steps} steps a fit")
    print("| run | precision | XLA | dream-steps/s |\n|---|---|---|---:|")
    for label, precision, jit, rate in rows:
        print(f"| {label} | {precision} | {'yes' if jit else 'no'} | {rate:.1f} |", flush=True)

    runs = []
    for spec, layer in ((BaseSpec(), args.mobilenet_layer), (spec, args.layer)):
        began = time.perf_counter()
        model = kd.DreamModel(kd.Channel(layer, list(range(args.run_filters))), spec,
                              size=args.size)
        kd.train(model, args.run_steps)
        kd.render(model)
        runs.append((spec.model, layer, model.precision, time.perf_counter() - began))
        print(f"  {runs[-1]}", flush=True)
    layers = atlas_layers(load_base(spec))
    outputs = feature_model(load_base(spec), layers, shape).compute_output_spec(
        keras.KerasTensor((1, *shape)))
    chunks = sum(math.ceil(outputs[name].shape[-1] / args.run_filters) for name in layers)
    atlas_s = chunks * runs[-1][-1]
    print(f"\nWhole runs: {args.run_filters} dreams, {args.run_steps} steps, {args.size} px "
          "(build + trace + train + render)")
    print("| network | layer | precision | seconds |\n|---|---|---|---:|")
    for network, layer, precision, seconds in runs:
        print(f"| {network} | {layer} | {precision} | {seconds:.1f} |")
    print(f"\n{spec.model} atlas projected: {len(layers)} layers, {chunks} chunks of "
          f"{args.run_filters} x {runs[-1][-1]:.1f} s (the {args.layer} chunk) = "
          f"{atlas_s / 3600:.2f} h (an upper bound: shallower layers cost less a step)")
    return 0


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    sys.exit(main())
