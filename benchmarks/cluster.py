"""Atlas throughput on a local Dask cluster of 1 and 2 workers, the engine's
overhead per task, and a FLOP-count estimate of a VGG16 atlas on 8 GPUs.

    python benchmarks/cluster.py            # full run (a few minutes)
    python benchmarks/cluster.py --quick    # smoke test

Both clusters are started first and warmed (each worker imports TensorFlow
and traces each layer once, as any atlas pays per worker and layer); then
the same gallery runs on 1 and on 2 workers, alternating, into fresh
folders, through `run_gallery` with the `Dask` executor (what `--cluster` runs).
The engine's overhead is timed on no-op tasks: one at a time (latency) and
many at once (throughput). The VGG16 figure is an ESTIMATE on paper: the
convolutions' multiply-adds up to each layer, x2 for a dream step (forward,
and the gradient for the input only: the network is frozen), at an assumed
sustained rate per GPU. No GPU run has produced a figure for it yet.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import tempfile
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

import kerasdream as kd
from kerasdream.network.bases import layer_channels
from kerasdream.network.layers import atlas_layers
from kerasdream.runs import cluster, gallery, plan
from kerasdream.runs.executors import Dask

LAYERS = ["conv_pw_3_relu", "conv_pw_8_relu"]
# Assumed sustained FP32 rates of one data-centre GPU on these small batches
# (an A100's FP32 peak is 19.5 TFLOP/s, a V100's 15.7): about half the
# A100's peak, and a pessimistic tenth of it for small images.
ASSUMED_GPU_FLOPS = (10e12, 2e12)


def noop(x):
    return x


def engine_overhead(client, count: int) -> tuple[float, float]:
    """(ms per no-op task one at a time, ms per no-op task with `count` in flight)."""
    latencies = []
    for i in range(max(20, count // 10)):
        began = time.perf_counter()
        client.submit(noop, i, pure=False).result()
        latencies.append(time.perf_counter() - began)
    began = time.perf_counter()
    client.gather(client.map(noop, range(count), pure=False))
    return 1000 * statistics.median(latencies), 1000 * (time.perf_counter() - began) / count


def gallery_seconds(address, settings, filters, batch, root, name) -> float:
    out = os.path.join(root, name)
    began = time.perf_counter()
    gallery.run_gallery(kd.BaseSpec("mobilenet"), LAYERS, filters, settings,
                        executor=Dask(address), out_dir=out,
                        models_dir=os.path.join(out, "models"), batch=batch,
                        quiet=True, log=lambda line: None)
    return time.perf_counter() - began


def vgg16_estimate(size: int, steps: int) -> tuple[int, float]:
    """(filters, dream-step FLOPs summed over every filter of the atlas) for VGG16."""
    import keras

    base = kd.load_base(kd.BaseSpec("vgg16", weights=None))
    layers = atlas_layers(base)
    flops_to, running = {}, 0
    h = w = size
    for layer in base.layers:
        if isinstance(layer, keras.layers.Conv2D):
            k = layer.kernel_size
            running += 2 * h * w * k[0] * k[1] * layer.kernel.shape[2] * layer.filters
        elif isinstance(layer, keras.layers.MaxPooling2D):
            h, w = h // 2, w // 2
        flops_to[layer.name] = running
    filters = sum(layer_channels(base, name) for name in layers)
    total = sum(layer_channels(base, name) * steps * 2 * flops_to[name]
                for name in layers)
    return filters, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    filters, steps, size, batch, rounds, count = (
        ("0-3", 5, 32, 2, 1, 50) if args.quick else ("0-15", 30, 64, 4, args.rounds, 300))
    settings = gallery.DreamSettings(size=[size, size], steps=steps)
    dreams = len(gallery.parse_filters(filters)) * len(LAYERS)
    tasks = dreams // batch
    root = tempfile.mkdtemp(prefix="kerasdream-cluster-bench-")
    print(f"MobileNet-0.25 {', '.join(LAYERS)}, filters {filters} each: {dreams} dreams at "
          f"{size} px x {steps} steps, batch {batch} ({tasks} tasks); {os.cpu_count()} cores, "
          f"shared with other work")
    with cluster.connect("local:1", log=lambda line: None) as one, \
            cluster.connect("local:2", log=lambda line: None) as two:
        clients = {1: one, 2: two}
        started = {}
        for n, client in clients.items():
            started[n] = gallery_seconds(client.scheduler.address, settings, filters, batch,
                                         root, f"warm{n}")
        seconds = {1: [], 2: []}
        for r in range(rounds):  # alternate, so drift in the machine's load hits both
            for n, client in clients.items():
                seconds[n].append(gallery_seconds(client.scheduler.address, settings, filters,
                                                  batch, root, f"r{r}-{n}"))
        print("\n| workers | first run (imports, traces) s | warm runs s | dreams/s (warm, best) |"
              "\n|---|---|---|---|")
        for n in clients:
            print(f"| {n} | {started[n]:.1f} | {', '.join(f'{s:.1f}' for s in seconds[n])} | "
                  f"{dreams / min(seconds[n]):.2f} |")
        print(f"\nratio 2 workers / 1 worker (warm, best of {rounds}): "
              f"{min(seconds[1]) / min(seconds[2]):.2f}x")
        latency, per_task = engine_overhead(two, count)
        sample = plan.ChunkTask(plan.make_plan(
            kd.BaseSpec("mobilenet"), LAYERS[:1], "0-3", settings, out_dir=root,
            models_dir=root).runs[0], (0, 1, 2, 3), 0)
        print(f"\nengine overhead, 2 workers: {latency:.1f} ms per no-op task one at a time "
              f"(submit to result), {per_task:.2f} ms per task with {count} in flight; a chunk "
              f"task pickles to {len(pickle.dumps(sample))} bytes")

    print("\nVGG16 atlas on 8 GPUs, an ESTIMATE from FLOP counts (no GPU run yet):")
    for size, total_steps in ((64, 100), (224, 200)):
        filters_count, flops = vgg16_estimate(size, total_steps)
        fast, slow = (flops / (8 * rate) / 3600 for rate in ASSUMED_GPU_FLOPS)
        print(f"  {filters_count} filters at {size} px x {total_steps} steps: "
              f"{flops / 1e15:.1f} PFLOP -> ~{fast:.2f} h to ~{slow:.2f} h on 8 GPUs at an "
              f"assumed sustained {ASSUMED_GPU_FLOPS[0] / 1e12:g} to "
              f"{ASSUMED_GPU_FLOPS[1] / 1e12:g} TFLOP/s each ({8 * fast:.1f} to "
              f"{8 * slow:.1f} GPU-hours), plus each worker's TensorFlow start and one trace "
              f"per layer")

if __name__ == "__main__":
    main()
