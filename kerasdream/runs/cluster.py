"""Dask for galleries and atlases past one machine: connecting, checking the
workers, and running tasks with retries.

A dream atlas needs no synchronised gradients: every (layer, chunk of
filters) is an independent job, and row keys make a dream the same on
whichever worker its chunk runs. So the one driver (`kerasdream.runs.driver`) plans and
surveys as for a local run, and its `Dask` executor
(`kerasdream.runs.executors`) submits each chunk as one task through
`run_tasks`; workers write PNGs and models with atomic writes into folders
every worker reaches (a shared path) and return their records and images;
the driver writes `metrics.json`, the grids and the index.

- A worker that dies in a task: the scheduler runs the task again on
  another worker (Dask's `allowed-failures`); a task that raises is retried
  `retries` times. Files are renamed into place whole, so nothing
  half-written is left, and the driver removes dead writers' temporaries.
- A driver that dies: finished chunks are committed (their records), and
  the same command skips them.

`cluster` is a scheduler address (`tcp://host:8786`) or `local:N`, which
starts N worker processes on this machine (loopback only). With GPUs, a task
takes one `GPU` resource: workers started with `--resources GPU=1` take one
device each; a local cluster pins worker i to GPU i. `--strategy mirrored`
still spreads one task over the devices its worker sees.

Why Dask and not Ray: a small pure-Python install, runs on the schedulers ML
clusters already have (Kubernetes: dask-kubernetes, Slurm/PBS: dask-jobqueue,
plain `dask scheduler` / `dask worker` over SSH), GPU labels through worker
resources, and a `LocalCluster` of real worker processes that starts in
seconds for tests.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from kerasdream.errors import DreamError


LOCAL_PREFIX = "local:"
PROTOCOLS = ("tcp", "tls", "ws", "wss", "ucx")
# Seconds to reach a scheduler (and for it to have a worker) before giving up.
CONNECT_TIMEOUT = 10.0
# Times a task that raised is run again (a worker that dies is handled by the
# scheduler itself: the task runs elsewhere, up to Dask's allowed-failures).
DEFAULT_RETRIES = 2
INSTALL_HINT = "pip install 'kerasdream[cluster]' (or: pip install 'dask[distributed]')"
_ADDRESS = re.compile(r"^(?:(?P<protocol>[a-z]+)://)?(?P<host>\[[0-9a-fA-F:]+\]|[^\s/:\[\]]+)"
                      r":(?P<port>\d{1,5})$")


def parse_cluster(text: str) -> str | int:
    """`"local:N"` -> N (worker processes); a scheduler address -> the address.

    An address without a protocol gets `tcp://`. Raises `DreamError` naming
    the bad value and the forms that are valid.
    """
    text = text.strip()
    expected = ("Expected 'local:N' (N worker processes on this machine) or a scheduler "
                "address such as 'tcp://host:8786'")
    if text.startswith(LOCAL_PREFIX):
        count = text[len(LOCAL_PREFIX):]
        if not count.isdigit() or int(count) < 1:
            raise DreamError(f"Malformed local cluster: N must be a positive integer. "
                             f"{expected}. Received: cluster={text!r}")
        return int(count)
    match = _ADDRESS.match(text)
    if not match or not 0 < int(match["port"]) < 65536 or (
            match["protocol"] and match["protocol"] not in PROTOCOLS):
        raise DreamError(f"Malformed cluster address. {expected} (protocols: "
                         f"{', '.join(PROTOCOLS)}). Received: cluster={text!r}")
    return text if match["protocol"] else f"tcp://{text}"


def require_dask():
    """The `distributed` module, or a `DreamError` that says how to install it.

    Imported here, not with this module: Dask costs about 0.3 s of every
    command's start-up, and only `--cluster` runs use it.
    """
    try:  # optional: `pip install 'kerasdream[cluster]'`
        import distributed
    except ImportError:
        raise DreamError(f"--cluster runs on Dask distributed, which is not installed: "
                         f"{INSTALL_HINT}") from None
    return distributed


@contextlib.contextmanager
def connect(cluster: str, *, timeout: float | None = None,
            log: Callable[[str], None] = print) -> Iterator[Any]:
    """A `distributed.Client` on `cluster` for the block (a `local:N` cluster
    is started for it and stopped after). Unreachable: a `DreamError`."""
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    target = parse_cluster(cluster)
    distributed = require_dask()
    with contextlib.ExitStack() as stack:
        if isinstance(target, int):
            gpus = _local_gpus()
            with _children_ignore_ctrl_c():
                local = stack.enter_context(distributed.LocalCluster(
                    n_workers=target, processes=True, threads_per_worker=1, host="127.0.0.1",
                    # No dashboard; the scheduler's health page on a free loopback port.
                    dashboard_address=None,
                    scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                    silence_logs=logging.ERROR, resources={"GPU": 1} if gpus else None,
                    env=_worker_env(target),
                ))
            client = stack.enter_context(distributed.Client(local))
            from kerasdream.runs.dask_plugins import PinDevice, QuietImport

            client.register_plugin(QuietImport(), name="kerasdream-quiet-import")
            if gpus:
                client.register_plugin(PinDevice(gpus), name="kerasdream-pin-device")
            log(f"Started a local Dask cluster of {target} worker "
                f"process{'es' if target > 1 else ''} "
                f"({local.scheduler_address}{f', {gpus} GPUs' if gpus else ''}).")
        else:
            _check_scheduler(target, timeout, cluster)
            try:
                client = stack.enter_context(distributed.Client(target, timeout=timeout))
            except (OSError, TimeoutError) as error:
                raise DreamError(
                    f"Cannot reach the Dask scheduler within {timeout:g} s "
                    f"({type(error).__name__}: {str(error).splitlines()[0][:160]}). Start one "
                    f"with `dask scheduler` and workers with `dask worker {target}`, or use "
                    f"--cluster local:N. Received: cluster={cluster!r}") from None
            try:
                client.wait_for_workers(1, timeout=timeout)
            except (OSError, TimeoutError):
                raise DreamError(
                    f"The Dask scheduler has no workers after {timeout:g} s: start some with "
                    f"`dask worker {target}`. Received: cluster={cluster!r}") from None
        yield client


def _check_scheduler(address: str, timeout: float, cluster: str) -> None:
    """A `DreamError` unless a Dask scheduler answers at a tcp:// `address` within
    `timeout` seconds (a server that is not one would keep `Client` waiting)."""
    if not address.startswith("tcp://"):
        return  # tls, ws, ucx: their security settings are the Client's to apply
    import asyncio
    import concurrent.futures
    import socket

    distributed = require_dask()

    match = _ADDRESS.match(address)
    try:
        socket.create_connection((match["host"].strip("[]"), int(match["port"])),
                                 timeout=timeout).close()
    except OSError as error:
        why = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}" if str(
            error) else type(error).__name__
        raise DreamError(
            f"Cannot reach the Dask scheduler within {timeout:g} s ({why}). Start one with "
            f"`dask scheduler` and workers with `dask worker {address}`, or use --cluster "
            f"local:N. Received: cluster={cluster!r}") from None

    async def identity():
        comm = await distributed.comm.connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    def ask():  # in a thread of its own: the caller may be inside an event loop
        return asyncio.run(asyncio.wait_for(identity(), timeout))

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            answer = pool.submit(ask).result()
        except Exception as error:  # no reply, or one Dask cannot read: not a scheduler
            answer = error
    if isinstance(answer, dict) and answer.get("type") == "Scheduler":
        return
    raise DreamError(
        f"The server at {address} is not a Dask scheduler: it gave no Dask answer within "
        f"{timeout:g} s. Give the address `dask scheduler` printed (port 8786 by default), "
        f"or use --cluster local:N. Received: cluster={cluster!r}")


@contextlib.contextmanager
def _children_ignore_ctrl_c() -> Iterator[None]:
    """Start processes that ignore SIGINT (Python keeps an inherited SIG_IGN): a
    Ctrl-C in the terminal reaches the whole process group, and the driver alone
    answers it, in one line, then stops the local workers itself."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C meanwhile is lost
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _worker_env(workers: int) -> dict[str, str]:
    """A local worker's environment: TensorFlow's CPU threads, the cores shared
    out (unless the user set them), so N workers do not each take every core;
    and TensorFlow's C++ log lines (`E0000 ... cuInit`) kept out of the run's
    output (the driver's own are, at its TensorFlow import)."""
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    names = ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS")
    env = {name: os.environ.get(name, threads) for name in names}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


def driver_off_gpus() -> None:
    """Keep the driver's TensorFlow off the GPUs, which are the workers': the
    driver only loads the network to plan, and TensorFlow would reserve most
    of every GPU's memory. Does nothing once TensorFlow has started."""
    try:
        import tensorflow as tf

        tf.config.set_visible_devices([], "GPU")
    except (ImportError, RuntimeError, ValueError):
        pass


def _local_gpus() -> int:
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - TensorFlow is a requirement
        return 0
    return len(tf.config.list_physical_devices("GPU"))


# ------------------------------------------------------------------ workers


def probe_worker(folders: Sequence[str], files: Sequence[str],
                 tokens: dict[str, tuple[str, str]] | None = None) -> str | None:
    """On a worker: None if it can write every folder, read every file and sees
    the driver's token file (name, text) in each folder of `tokens`, else why not.

    A token proves the folder is the driver's own, not a folder of the same
    path on the worker's machine (whose files the driver would never see).
    """
    import socket

    from kerasdream import io

    host = socket.gethostname()
    for folder in folders:
        try:
            io.check_writable(folder)
        except DreamError as error:
            return f"worker on {host!r}: {error}"
    for folder, (name, text) in (tokens or {}).items():
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as file:
                seen = file.read() == text
        except OSError:
            seen = False
        if not seen:
            return (f"worker on {host!r} does not see the driver's files in {folder!r}: it is "
                    f"another folder of the same path, so its dreams would be written where "
                    f"the driver never reads them")
    for path in files:
        if not os.path.isfile(path):
            return f"worker on {host!r} cannot find {path!r}"
    return None


def absolute(spec):
    """`spec` with its model and weights files as absolute paths (workers' cwd differ)."""
    changes = {}
    if spec.is_file:
        changes["model"] = os.path.abspath(spec.model)
    if spec.weights not in (None, "imagenet"):
        changes["weights"] = os.path.abspath(spec.weights)
    return dataclasses.replace(spec, **changes)


def files(spec) -> list[str]:
    """The local files `spec` needs: its model file and its weights file, if any."""
    return ([spec.model] if spec.is_file else []) + (
        [spec.weights] if spec.weights not in (None, "imagenet") else [])


def check_workers(client, folders: Sequence[str], files: Sequence[str]) -> None:
    """A `DreamError` unless every worker writes to the driver's own `folders`
    (a shared path, proved by a token file the driver writes) and reads `files`."""
    from kerasdream.runs.runlock import temporary_prefix

    tokens = {}
    for folder in folders:
        os.makedirs(folder, exist_ok=True)
        name, text = f"{temporary_prefix()}probe-{uuid.uuid4().hex}", uuid.uuid4().hex
        with open(os.path.join(folder, name), "w", encoding="utf-8") as file:
            file.write(text)
        tokens[folder] = (name, text)
    try:
        answers = client.run(probe_worker, list(folders), list(files), tokens)
    except Exception as error:  # e.g. kerasdream not importable on a worker
        raise DreamError(
            f"The cluster's workers cannot run kerasdream ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:200] if str(error) else ''}). Install the same "
            f"kerasdream on every worker.") from None
    finally:
        for folder, (name, _) in tokens.items():
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, name))
    problems = sorted({answer for answer in answers.values() if answer})
    if problems:
        raise DreamError(
            f"Every worker must reach the driver's output folders and the model (a shared "
            f"path): "
            f"{problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))


def _gpu_resources(client) -> dict[str, float] | None:
    """`{"GPU": 1}` when the cluster's workers advertise GPUs, else None."""
    workers = client.scheduler_info().get("workers", {}).values()
    return {"GPU": 1} if any("GPU" in w.get("resources", {}) for w in workers) else None


# ------------------------------------------------------------------ tasks


def _failure(where: str, error: BaseException, retries: int) -> str:
    """One line: which chunk (`where`) failed for good, and why."""
    if type(error).__name__ == "KilledWorker":
        import dask

        allowed = dask.config.get("distributed.scheduler.allowed-failures")
        why = f"the workers running it died {allowed + 1} times"
    else:
        text = str(error).splitlines()[0][:200] if str(error) else ""
        why = f"{type(error).__name__}: {text}; tried {retries + 1} times"
    return (f"A chunk failed on the cluster ({why}): {where}. Finished dreams are saved; "
            f"run the same command again to finish the rest.")


def run_tasks(client, function: Callable, arguments: Sequence[tuple], keys: Sequence[str],
              where: Sequence[str], retries: int,
              on_done: Callable[[int, Any], None]) -> None:
    """Submit `function(*arguments[i])` as task i (Dask key `keys[i]` and a random
    tail), calling `on_done(i, answer)` as each finishes; a task that failed for
    good stops the run with a `DreamError` naming `where[i]` (finished tasks stay done)."""
    resources = _gpu_resources(client)
    futures = {}
    for order, (args, key) in enumerate(zip(arguments, keys)):
        future = client.submit(function, *args, key=f"{key}-{uuid.uuid4().hex[:8]}",
                               retries=retries, resources=resources, pure=False,
                               priority=-order)
        futures[future] = order
    try:
        for future in require_dask().as_completed(list(futures)):
            index = futures[future]
            try:
                answer = future.result()
            except Exception as error:
                raise DreamError(_failure(where[index], error, retries)) from None
            on_done(index, answer)
    finally:
        for future in futures:
            future.release()
