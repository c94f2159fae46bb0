"""One worker of a two-worker MultiWorkerMirroredStrategy on localhost.

    TF_CONFIG='{"cluster": {"worker": ["localhost:P0", "localhost:P1"]},
                "task": {"type": "worker", "index": I}}' python multiworker_canary.py

Plain Keras 3 `fit` of a tiny model under the strategy, no kerasdream code:
the smallest run that shows why kerasdream refuses `--strategy multiworker`
(tensorflow/tensorflow#72388). Prints "FIT OK" when fit completes, else the
error's last line, and exits 0 either way.
"""

import os

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
