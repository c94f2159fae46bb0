"""Does plain Keras `fit` work under MultiWorkerMirroredStrategy yet?

    python benchmarks/multiworker_canary.py

starts two workers of this script on localhost ports and prints what each
saw: "FIT OK" when fit completes, else "FIT FAILED: " and the error. Each
worker runs plain Keras 3 `fit` of a tiny model under the strategy, with no
kerasdream code: the smallest run that shows why kerasdream refuses
`--strategy multiworker` (tensorflow/tensorflow#72388). When a TensorFlow or
Keras release prints "FIT OK" twice, the strategy can be enabled. Exits 0
when both fail as expected, 1 when fit works (time to look), 2 otherwise.
"""

import json
import os
import socket
import subprocess
import sys


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def _launch() -> int:
    ports = [_free_port(), _free_port()]
    workers = []
    for index in range(2):
        config = {"cluster": {"worker": [f"localhost:{port}" for port in ports]},
                  "task": {"type": "worker", "index": index}}
        workers.append(subprocess.Popen(
            [sys.executable, __file__], env={**os.environ, "TF_CONFIG": json.dumps(config)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        outputs = [worker.communicate(timeout=240)[0] for worker in workers]
    finally:  # never leave a worker holding its port and a core
        for worker in workers:
            worker.kill()
            worker.wait()
    lines = [next((line for line in output.splitlines() if line.startswith("FIT")), "no answer")
             for output in outputs]
    for index, line in enumerate(lines):
        print(f"worker {index}: {line}")
    if all(line == "FIT OK" for line in lines):
        return 1
    return 0 if all("PerReplica" in line for line in lines) else 2


if "TF_CONFIG" not in os.environ:
    sys.exit(_launch())

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras  # noqa: E402

strategy = tf.distribute.MultiWorkerMirroredStrategy()
with strategy.scope():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
# As kerasdream feeds fit: one fixed batch, repeated.
batch = (np.ones((4, 4), "float32"), np.ones((4, 1), "float32"))
dataset = tf.data.Dataset.from_tensors(batch).repeat()
try:
    model.fit(dataset, steps_per_epoch=2, epochs=1, verbose=0)
    print("FIT OK", flush=True)
except Exception as error:  # what the upstream bug raises
    print("FIT FAILED:", " ".join(str(error).split())[:400], flush=True)
