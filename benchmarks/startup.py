"""What a command's start-up costs: the imports `kerasdream filters` makes before it trains.

    python benchmarks/startup.py                        # this checkout, 4 fresh processes
    python benchmarks/startup.py --against ../main      # alternating with another checkout

Each measurement is a fresh Python process that runs the `kerasdream`
command's start-up (`kerasdream.cli._import_quietly`: TensorFlow and Keras) and imports
the modules a `filters` run loads before training, then prints its wall
seconds, its CPU seconds (user + system: steadier on a shared machine) and
which optional packages got loaded. With `--against`, the two checkouts
alternate, so load from elsewhere hits both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

import _setup  # noqa: F401  (this checkout on sys.path, offline weights)

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = """
import resource, sys, time
began = time.perf_counter()
import inspect
import kerasdream.cli as cli
start_up = getattr(cli, "_import_quietly", lambda: None)
if "skip_optional" in inspect.signature(start_up).parameters:
    start_up(skip_optional=True)  # as the `kerasdream` command does
else:
    start_up()
import keras  # noqa: F401  (the checkouts before _import_quietly imported it here)
import kerasdream.model, kerasdream.runs.chunk, kerasdream.runs.executors, kerasdream.runs.gallery
usage = resource.getrusage(resource.RUSAGE_SELF)
optional = ("scipy", "jax", "matplotlib", "IPython", "sklearn", "distributed")
print(time.perf_counter() - began, usage.ru_utime + usage.ru_stime,
      ",".join(name for name in optional if name in sys.modules) or "-")
"""


def measure(checkout: str) -> tuple[float, float, str]:
    env = {**os.environ, "PYTHONPATH": checkout}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=checkout, env=env,
                          capture_output=True, text=True, check=True)
    wall, cpu, loaded = done.stdout.split()[-3:]
    return float(wall), float(cpu), loaded


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=None, help="another checkout to alternate with")
    parser.add_argument("--pairs", type=int, default=4)
    args = parser.parse_args(argv)
    checkouts = [os.path.dirname(HERE)]
    if args.against:
        checkouts.insert(0, os.path.abspath(args.against))
    found = {checkout: [] for checkout in checkouts}
    for _ in range(args.pairs):
        for checkout in checkouts:
            found[checkout].append(measure(checkout))
            print(checkout, *found[checkout][-1], f"load {os.getloadavg()[0]:.1f}", flush=True)
    print("\n| checkout | CPU s, mean | wall s, best | wall s, median | optional packages loaded |")
    print("|---|---:|---:|---:|---|")
    for checkout, runs in found.items():
        walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
        print(f"| {checkout} | {statistics.mean(cpus):.2f} | {min(walls):.1f} | "
              f"{statistics.median(walls):.1f} | {runs[-1][2]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
