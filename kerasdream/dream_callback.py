"""`DreamCallback`: watch your own network learn, a dream per epoch of your `fit`.

    model.fit(x, y, epochs=10, callbacks=[
        kd.DreamCallback(kd.Channel("conv2d_1", range(8)), out_dir="dreams", log_dir="logs")])

Once before the first epoch (the baseline) and after every `every_n_epochs`-th
epoch (and the last), it dreams `objective` on the model as it is at that
moment. One `DreamModel` is built when training begins: its features are a
read-only view over the user's own layers, so it sees the current weights at
every epoch without being built or traced again. `restart` puts its kernel
rows, optimizer and transform streams back to the start, so every epoch's
dream starts from the same seeded image and the pictures differ only because
the network changed.

It never changes what the user's model learns: the dream trains its own
kernel with its own optimizer, reads the network with `training=False`, and
every dream runs inside `kept_random_state()`, which puts Python's, NumPy's,
Keras', TensorFlow's and PyTorch's global random state back as it was.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import keras
import numpy as np

from kerasdream import objectives as objectives_lib
from kerasdream.callbacks import NonFiniteError
from kerasdream.errors import DreamError
from kerasdream.generator import one_hot
from kerasdream.io import check_writable
from kerasdream.defaults import DEFAULT_PARAMETERIZATION, DEFAULT_TRANSFORMS
from kerasdream.model import DreamModel
from kerasdream.optimizers import default_optimizer
from kerasdream.validation import check_learning_rate, check_positive_int
from kerasdream.series import DreamSeries
from kerasdream.summaries import ImageSummaries, summaries_unavailable

DEFAULT_CALLBACK_STEPS = 50  # a dream per epoch: fewer steps than a gallery's
SUMMARY_RUN = "dreams"  # TensorBoard run (sub-folder of log_dir) the images go to


@contextlib.contextmanager
def kept_random_state() -> Iterator[None]:
    """Run a block, then put every global random state back as it was before.

    Python's `random`, NumPy's global generator, Keras' global
    `SeedGenerator` (what `keras.utils.set_random_seed` resets), TensorFlow's
    eager op-seed stream (what unseeded `tf.random` ops and `tf.data`
    shuffles draw from) and PyTorch's CPU generator. Building Keras layers
    draws from Python's `random` (each unseeded initializer does), so
    without this a dream would shift what the user's training draws next.
    """
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator

    python_state = random.getstate()
    numpy_state = np.random.get_state()
    keras_generator = global_state.get_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR)
    keras_state = (None if keras_generator is None
                   else keras.ops.convert_to_numpy(keras_generator.state.value))
    tf_rng = tf_state = None
    if "tensorflow" in sys.modules:
        from tensorflow.python.eager import context

        tf_rng = getattr(context.context(), "_rng", None)
        tf_state = None if tf_rng is None else tf_rng.getstate()
    torch_state = None
    if "torch" in sys.modules:
        import torch

        torch_state = torch.get_rng_state()
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, keras_generator)
        if keras_generator is not None:
            keras_generator.state.assign(keras_state)
        if tf_rng is not None:
            tf_rng.setstate(tf_state)
        if torch_state is not None:
            import torch

            torch.set_rng_state(torch_state)


def default_labels(objective: objectives_lib.Objective, num_dreams: int) -> list[str]:
    """`filter <k>` (`class <k>`, ...) per dream of an indexed objective, else `dream <i>`."""
    for _, term in objective.terms:
        index = list(getattr(term, "index", None) or [])
        if index and len(index) == num_dreams:
            word = getattr(term, "index_name", "filter").split("_")[0]
            return [f"{word} {int(k)}" for k in index]
    return [f"dream {i}" for i in range(num_dreams)]


class DreamCallback(keras.callbacks.Callback):
    """Dreams `objective` on the model being trained, before the first epoch
    and after every `every_n_epochs`-th epoch and the last one trained (also
    when `keras.callbacks.EarlyStopping` ends training early).

    Args:
        objective: what to dream, on the model's layers: e.g.
            `kd.Channel("conv2d_1", range(8))` or `kd.ClassLogit(range(10))`.
        every_n_epochs: dream after every n-th epoch (counted from the first).
        steps: dream training steps each time (`DEFAULT_CALLBACK_STEPS`).
        size: dream size; defaults to the model's fixed input size, else 128.
        parameterization: as for `DreamModel` (None: its default).
        transforms: as for `DreamModel` (None: its default).
        learning_rate: the dream optimizer's (default: `default_optimizer`'s).
        log_dir: TensorBoard folder: images (step = epochs trained) and each
            dream's activation go to the run `<log_dir>/dreams`. Needs
            TensorFlow; without it the PNGs and GIFs go to `log_dir` instead,
            with a warning.
        out_dir: folder for `epoch_NNN.png` (a labelled grid per dream) and,
            when training ends, `filter_<k>.png` strips, `filter_<k>.gif`
            and `grid.gif`.
        seed: same seed, same starting images and transforms.
        labels: a caption per dream (default "filter k" / "class k").

    Every epoch's `logs` get `dream_seconds` (what dreaming cost after that
    epoch, 0 when it did not dream; shown on the progress line) and
    `dream_activation` (the last dream's objective value on its final
    images, averaged over the dreams): `History` and a
    `keras.callbacks.TensorBoard` listed after this callback record them.
    `activations` holds every dream's value at every dreamed epoch, `series`
    the images.

    Example:
        ```python
        watch = kd.DreamCallback(kd.Channel("conv2d_1", range(8)), every_n_epochs=2,
                                 out_dir="dreams")
        model.fit(x_train, y_train, epochs=10, callbacks=[watch])
        # dreams/epoch_000.png ... and, at the end, dreams/filter_<k>.gif
        ```
    """

    def __init__(
        self,
        objective: objectives_lib.Objective,
        *,
        every_n_epochs: int = 1,
        steps: int = DEFAULT_CALLBACK_STEPS,
        size: int | Sequence[int] | None = None,
        parameterization: Any = None,
        transforms: Any = DEFAULT_TRANSFORMS,
        learning_rate: float | None = None,
        log_dir: str | None = None,
        out_dir: str | None = None,
        seed: int = 0,
        labels: Sequence[str] | None = None,
    ):
        super().__init__()
        self.objective = objectives_lib.get(objective)
        check_positive_int("every_n_epochs", every_n_epochs)
        check_positive_int("steps", steps)
        if learning_rate is not None:
            check_learning_rate(learning_rate)
        self.every_n_epochs, self.steps = int(every_n_epochs), int(steps)
        self.size, self.seed = size, int(seed)
        self.parameterization = parameterization or DEFAULT_PARAMETERIZATION
        self.transforms, self.learning_rate = transforms, learning_rate
        self.log_dir, self.out_dir = log_dir, out_dir
        self._labels = None if labels is None else [str(label) for label in labels]
        self.frames_dir = out_dir
        self._summaries_wanted = log_dir is not None
        if log_dir is not None:
            reason = summaries_unavailable()
            if reason:
                self._summaries_wanted = False
                if out_dir is None:
                    self.frames_dir = log_dir
                warnings.warn(f"DreamCallback cannot write TensorBoard summaries: {reason}. "
                              f"It writes PNGs and GIFs to {self.frames_dir!r} instead.",
                              stacklevel=2)
        for folder in (self.frames_dir, log_dir):
            if folder is not None:
                check_writable(folder)
        self.dream: DreamModel | None = None
        self.series: DreamSeries | None = None
        self.activations: dict[int, np.ndarray] = {}
        self.seconds: dict[int, float] = {}
        self._summaries: ImageSummaries | None = None
        self._baseline_done = False
        self._dreamed_model: keras.Model | None = None

    # ------------------------------------------------------------ Keras hooks
    def on_train_begin(self, logs=None):
        """Build the dream model on the user's model (a bad layer fails here,
        before any training)."""
        with kept_random_state():
            if self.dream is None or self._dreamed_model is not self.model:
                self.dream = DreamModel(self.objective, self.model, size=self.size,
                                        parameterization=self.parameterization,
                                        transforms=self.transforms, seed=self.seed)
                self.dream.compile(default_optimizer(self.learning_rate))
                self._row_keys = list(self.dream.generator.row_keys)
                self._dreamed_model = self.model
        labels = self._labels or default_labels(self.objective, self.dream.num_dreams)
        if len(labels) != self.dream.num_dreams:
            raise DreamError(f"labels needs one caption per dream ({self.dream.num_dreams}). "
                             f"Received: labels={labels!r}")
        if self.series is None:
            self.series = DreamSeries(labels, title=self.dream.network_name)
        if self._summaries_wanted and self._summaries is None:
            self._summaries = ImageSummaries(os.path.join(self.log_dir, SUMMARY_RUN))
        self._baseline_done = False
        self._last_trained = None

    def on_epoch_begin(self, epoch, logs=None):
        if not self._baseline_done:  # the baseline: the network as training starts
            self._baseline_done = True
            if epoch not in self.activations:
                self._dream_now(epoch)

    def on_epoch_end(self, epoch, logs=None):
        trained = epoch + 1
        self._last_trained = trained
        last = self.params.get("epochs") if self.params else None
        dreams = not trained % self.every_n_epochs or trained == last
        if dreams:
            self._dream_now(trained)
        if logs is not None:  # every epoch, so History's lists line up with the epochs
            logs["dream_seconds"] = self.seconds[trained] if dreams else 0.0
            latest = max(self.activations)
            logs["dream_activation"] = float(np.mean(self.activations[latest]))

    def on_train_end(self, logs=None):
        # Training may end before `epochs` (EarlyStopping, stop_training): the
        # last epoch it trained is dreamed all the same.
        last = getattr(self, "_last_trained", None)
        if last is not None and last not in self.activations:
            self._dream_now(last)
        self.write_animations()
        if self._summaries is not None:
            self._summaries.flush()

    # ---------------------------------------------------------------- dreams
    def _dream_now(self, epoch: int) -> np.ndarray:
        """Dream on the model as it is now and record it as `epoch` (epochs trained)."""
        began = time.perf_counter()
        with kept_random_state():
            self.dream.sync_network()
            self.dream.restart(row_keys=self._row_keys)
            try:
                self.dream.fit(self.steps)
            except NonFiniteError as error:  # the last finite images are kept
                warnings.warn(f"DreamCallback, epoch {epoch}: {error}", stacklevel=2)
            images = self.dream.render()
            values = keras.ops.convert_to_numpy(
                self.dream(one_hot(self.dream.num_dreams), training=False))
        self.activations[epoch] = np.asarray(values, "float64")
        self.series.add(f"epoch {epoch}", images)
        if self.frames_dir is not None:
            self.series.write_grid(os.path.join(self.frames_dir, f"epoch_{epoch:03d}.png"))
        if self._summaries is not None:
            self._summaries.write(epoch, self.series, self.activations[epoch])
        self.seconds[epoch] = time.perf_counter() - began
        return images

    def write_animations(self) -> list[str]:
        """The strips, per-dream GIFs and `grid.gif` of every epoch dreamed so far."""
        if self.frames_dir is None or self.series is None or not len(self.series):
            return []
        return self.series.write(self.frames_dir)
