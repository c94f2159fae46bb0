"""One build and one trace per layer: a 256-filter layer before and after.

Runs the same `kerasdream filters` command on the 256 filters of the shipped
MobileNet's `conv_pw_13_relu` (16 chunks of 16) with the code of an earlier
commit (default: the last one before `DreamModel`, which built and traced a
new model for every chunk) and with this checkout, each in its own process,
alternating, and prints the wall times and their ratio.

    python benchmarks/archive/one_trace.py [--before 04dee81] [--repeats 2] [--steps 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import _setup  # noqa: F401,E402  (this checkout on sys.path, offline weights)

ROOT = _setup.ROOT
BEFORE = "04dee81"  # last commit before the redesign


def command(out: str, steps: int, size: int) -> list[str]:
    return [sys.executable, "-m", "kerasdream", "filters", "--layer", "conv_pw_13_relu",
            "--filters", "all", "--batch", "16", "--steps", str(steps), "--size", str(size),
            "--parameterization", "pixels", "--transforms", "none", "--quiet",
            "--out", os.path.join(out, "out"), "--models-dir", os.path.join(out, "models")]


def timed(code_dir: str, steps: int, size: int) -> float:
    folder = tempfile.mkdtemp(prefix="kerasdream-trace-")
    env = {**os.environ, "PYTHONPATH": code_dir, "TF_CPP_MIN_LOG_LEVEL": "2"}
    began = time.perf_counter()
    subprocess.run(command(folder, steps, size), env=env, cwd=folder, check=True,
                   stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - began
    shutil.rmtree(folder, ignore_errors=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="git ref of the earlier code")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()

    old = tempfile.mkdtemp(prefix="kerasdream-before-")
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", old, args.before],
                   check=True, capture_output=True)
    try:
        times = {"before": [], "after": []}
        for _ in range(args.repeats):  # alternate, so both see the same machine load
            times["before"].append(timed(old, args.steps, args.size))
            times["after"].append(timed(ROOT, args.steps, args.size))
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", old],
                       capture_output=True)
    best = {k: min(v) for k, v in times.items()}
    print(f"256 filters of conv_pw_13_relu, 16 chunks of 16, {args.steps} steps at "
          f"{args.size} px, pixels, no transforms (whole process, best of {args.repeats}):")
    print("| code | wall s (each run) | best |\n|---|---|---:|")
    for name, ref in (("before", args.before), ("after", "this checkout")):
        runs = ", ".join(f"{t:.1f}" for t in times[name])
        print(f"| {name} ({ref}) | {runs} | {best[name]:.1f} |")
    print(f"after / before = {best['after'] / best['before']:.2f}")


if __name__ == "__main__":
    main()
