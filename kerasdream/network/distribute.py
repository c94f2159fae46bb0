"""Training dreams across devices and hosts with TensorFlow's own strategies.

The dream model is built and compiled inside the strategy's scope; `fit`
splits the one-hot batch across replicas, so each device trains its own
rows (each objective picks its replica's targets, see
`objectives.local_rows`). Row-normalized SGD makes each dream's update
independent of the loss scaling the strategy adds, so a 2-replica run gives
the same images as a 1-device run with the same seed.

`multiworker` (`MultiWorkerMirroredStrategy`, cluster from `TF_CONFIG`) is
no longer a choice: Keras 3's `fit` fails under it (keras-team/keras#20585,
tensorflow/tensorflow#72388). With Keras 3.15.1 and TensorFlow 2.21, two
local workers fail in plain `fit` with "Attempt to convert a value
(PerReplica...) to a Tensor" (`python benchmarks/multiworker_canary.py` checks it).
Several hosts run a gallery with `kerasdream.runs.cluster` instead: each chunk of
filters is an independent task, no synchronised gradients needed.
"""

from __future__ import annotations

import json
import os

import keras

from kerasdream.errors import DreamError

from kerasdream.defaults import STRATEGIES  # noqa: E402


def split_cpu(devices: int) -> None:
    """Present the CPU as `devices` logical devices (before TensorFlow starts)."""
    import tensorflow as tf

    if devices < 1:
        raise DreamError(f"CPU devices must be 1 or more. Received: cpu_devices={devices}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * devices
        )
    except RuntimeError:
        current = len(tf.config.list_logical_devices("CPU"))
        if current != devices:
            raise DreamError(
                f"TensorFlow has already started with {current} CPU device(s); split the "
                f"CPU before anything else runs. Received: cpu_devices={devices}"
            ) from None


def get_strategy(name: str = "default"):
    """A `tf.distribute.Strategy` by name: default or mirrored."""
    if name == "multiworker":
        raise DreamError(
            "The 'multiworker' strategy was removed: Keras 3's fit fails under "
            "MultiWorkerMirroredStrategy (keras-team/keras#20585, "
            f"tensorflow/tensorflow#72388; Keras {keras.__version__}). To train on several "
            "hosts, run each chunk as a task on a Dask cluster: --cluster ADDRESS "
            "(kerasdream.runs.cluster). Received: strategy='multiworker'")
    if name not in STRATEGIES:
        raise DreamError(f"Unknown strategy. Expected one of {list(STRATEGIES)}. "
                         f"Received: strategy={name!r}")
    if name != "default" and keras.backend.backend() != "tensorflow":
        raise DreamError(f"The {name!r} strategy uses tf.distribute and needs the TensorFlow "
                         f"backend. Received: KERAS_BACKEND={keras.backend.backend()!r}")
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    return tf.distribute.get_strategy()


def replicas(strategy) -> int:
    return 1 if strategy is None else int(strategy.num_replicas_in_sync)


def is_chief(strategy) -> bool:
    """Whether this process writes files: always, except non-chief workers."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker" and resolver.task_id == 0
        and "chief" not in json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    )


def scope(strategy):
    """The strategy's scope, or a no-op for backends without tf.distribute."""
    import contextlib

    return contextlib.nullcontext() if strategy is None else strategy.scope()
