"""The trainable, saved part of a dream: one-hot rows -> Dense kernel -> images.

    one-hot row i of eye(N) -> Dense(raw_size, use_bias=False) -> Reshape -> parameterization

Kernel row i IS dream i. `DreamGenerator` is a small Keras model of its own:
it is what a per-filter dream file holds (with references to the network,
objective and transforms in `spec`, not their weights), and what a
`DreamModel` trains.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from kerasdream.errors import DreamError
from kerasdream.objectives import get as get_objective
from kerasdream.param import get as get_parameterization

GENERATOR_NAME = "dream_generator"


@keras.saving.register_keras_serializable(package="kerasdream")
class RowSeededNormal(keras.initializers.Initializer):
    """Normal noise whose row i depends only on `(seed, row_keys[i])`.

    So dream i starts from the same image whether it trains alone or with
    others, whatever a gallery's `--batch` is.
    """

    def __init__(self, stddev: float, seed: int, row_keys: Sequence[int]):
        self.stddev, self.seed, self.row_keys = float(stddev), int(seed), list(row_keys)

    def __call__(self, shape, dtype=None):
        rows = [
            np.random.default_rng([self.seed, int(key)]).standard_normal(shape[1])
            for key in self.row_keys
        ]
        values = (self.stddev * np.stack(rows)).astype(dtype or "float32")
        return keras.ops.convert_to_tensor(values, dtype=dtype)

    def get_config(self):
        return {"stddev": self.stddev, "seed": self.seed, "row_keys": self.row_keys}


@keras.saving.register_keras_serializable(package="kerasdream")
class TrainingState(keras.layers.Layer):
    """Optimizer slots per kernel row and the step count, saved with a dream."""

    def __init__(self, slots: int, rows: int, size: int, **kwargs):
        super().__init__(**kwargs)
        self.shape_ = (int(slots), int(rows), int(size))

    def build(self, input_shape):
        self.slots = self.add_weight(shape=self.shape_, initializer="zeros", trainable=False,
                                     name="slots")
        self.steps = self.add_weight(shape=(), initializer="zeros", dtype="int64",
                                     trainable=False, name="steps")
        self.built = True

    def call(self, inputs):
        return inputs

    def get_config(self):
        slots, rows, size = self.shape_
        return {**super().get_config(), "slots": slots, "rows": rows, "size": size}


@keras.saving.register_keras_serializable(package="kerasdream")
class DreamGenerator(keras.Model):
    """One-hot rows -> dream images: the trainable part of a dream model.

    Args:
        num_dreams: N, the width of the one-hot input and rows of the kernel.
        image_shape: (height, width, channels) of each dream.
        parameterization: `"pixels"`, `"fourier"`, `"bounded"` or a layer.
        seed: with `row_keys`, what the initial images are drawn from.
        row_keys: the initial image of row i is drawn from
            `(seed, row_keys[i])`; defaults to `range(N)`.
        spec: what the dream is of: base reference, objective and transforms
            (JSON-serializable), so a saved generator can be rebuilt into a
            trainable dream model without saving the base's weights.
        state_slots: how many optimizer slots per kernel row it carries
            (momentum: 1, Adam: 2), saved with it so a resumed dream goes on
            exactly where it stopped (`DreamModel.training_state`).

    Raises:
        DreamError: when `row_keys` does not have one key per dream or the
            parameterization is unknown.

    Example:
        ```python
        generator = kd.generator_of(model)   # the trained part of a DreamModel
        images = generator.render()          # uint8 (N, H, W, C)
        generator.save("dreams.keras")       # reload with kd.load_dream
        ```
    """

    def __init__(
        self,
        num_dreams: int,
        image_shape: Sequence[int],
        parameterization: Any = "pixels",
        seed: int = 0,
        row_keys: Sequence[int] | None = None,
        spec: dict | None = None,
        state_slots: int = 0,
        **kwargs,
    ):
        kwargs.setdefault("name", GENERATOR_NAME)
        super().__init__(**kwargs)
        self.num_dreams = int(num_dreams)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.seed = int(seed)
        self.row_keys = list(range(self.num_dreams)) if row_keys is None else [int(k) for k in row_keys]
        if len(self.row_keys) != self.num_dreams:
            raise DreamError(f"row_keys needs one key per dream ({self.num_dreams}). "
                             f"Received: row_keys={self.row_keys!r}")
        self.spec = spec or {}
        self.parameterization = get_parameterization(parameterization, self.image_shape)
        self.kernel_layer = keras.layers.Dense(
            self.parameterization.raw_size,
            use_bias=False,
            kernel_initializer=RowSeededNormal(
                self.parameterization.init_stddev, self.seed, self.row_keys
            ),
            name="dream_kernel",
        )
        self.reshape = keras.layers.Reshape(self.parameterization.raw_shape)
        self.state_slots = int(state_slots)
        self.build((None, self.num_dreams))

    def build(self, input_shape):
        self.kernel_layer.build(input_shape)
        if self.state_slots:
            # In a layer of its own: Keras' legacy .h5 writer fails on
            # variables owned by the model itself.
            self.state = TrainingState(self.state_slots, self.num_dreams,
                                       self.parameterization.raw_size, name="training_state")
            self.state.build(None)
        self.built = True

    def training_state(self) -> tuple[np.ndarray, int] | None:
        """The saved optimizer slots `(slots, N, raw_size)` and step count, or None."""
        if not self.state_slots:
            return None
        return (keras.ops.convert_to_numpy(self.state.slots),
                int(keras.ops.convert_to_numpy(self.state.steps)))

    def call(self, rows):
        return self.parameterization(self.reshape(self.kernel_layer(rows)))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.image_shape)

    @property
    def kernel(self):
        return self.kernel_layer.kernel

    def initial_kernel(self, row_keys: Sequence[int] | None = None) -> np.ndarray:
        """The starting kernel rows for `row_keys` (default: this generator's)."""
        keys = self.row_keys if row_keys is None else [int(k) for k in row_keys]
        initializer = RowSeededNormal(self.parameterization.init_stddev, self.seed, keys)
        return keras.ops.convert_to_numpy(initializer((len(keys), self.parameterization.raw_size)))

    def restart(self, row_keys: Sequence[int]) -> None:
        """Make row i the fresh start of the dream keyed `row_keys[i]`."""
        row_keys = [int(k) for k in row_keys]
        if len(row_keys) != self.num_dreams:
            raise DreamError(f"row_keys needs one key per dream ({self.num_dreams}). "
                             f"Received: row_keys={row_keys!r}")
        self.kernel.assign(self.initial_kernel(row_keys))
        self.row_keys = row_keys

    def render(self) -> np.ndarray:
        """The N dreams as uint8 images, shape (N, H, W, C)."""
        return to_uint8(self.images())

    def images(self) -> np.ndarray:
        """The N dreams as float pixel values in [0, 255]."""
        return keras.ops.convert_to_numpy(self(one_hot(self.num_dreams)))

    def set_images(self, images: np.ndarray) -> None:
        """Start the dreams from `images` (N or 1, H, W, C), e.g. a photo."""
        images = np.asarray(images, "float32")
        if images.shape[1:] != self.image_shape:
            raise DreamError(f"Initial images must have shape {self.image_shape}. "
                             f"Received: images of shape {images.shape}")
        raw = self.parameterization.inverse(images)
        self.kernel.assign(np.broadcast_to(raw, (self.num_dreams, raw.shape[1])))

    def select(self, rows: Sequence[int],
               training_state: tuple[np.ndarray, int] | None = None) -> DreamGenerator:
        """A new generator holding only `rows`, with their kernel rows and targets,
        and their rows of `training_state` (a `DreamModel.training_state()`).

        Args:
            rows: the rows to keep, in order.
            training_state: the optimizer's `(slots, steps)`, or None.

        Returns:
            A `DreamGenerator` of `len(rows)` dreams, independent of this one.
        """
        rows = [int(r) for r in rows]
        part = DreamGenerator(
            len(rows),
            self.image_shape,
            keras.saving.serialize_keras_object(self.parameterization),
            seed=self.seed,
            row_keys=[self.row_keys[r] for r in rows],
            spec=self._spec_of(rows),
            state_slots=0 if training_state is None else len(training_state[0]),
        )
        self._fill(part, rows, training_state)
        return part

    def row(self, index: int,
            training_state: tuple[np.ndarray, int] | None = None) -> DreamGenerator:
        """The one-dream generator of row `index`, to save it (`save_dream`).

        Unlike `select`, the generator is built once (parameterization, DFT
        matrices, kernel) and refilled on every call: the one returned is
        this generator's scratch copy, overwritten by the next `row` call.
        Save it, or `select([index])` for one of your own.

        Args:
            index: the row (dream) to take.
            training_state: the optimizer's `(slots, steps)`, or None.

        Returns:
            A one-dream `DreamGenerator` equal to `select([index], training_state)`.
        """
        index = int(index)
        if not 0 <= index < self.num_dreams:
            raise DreamError(f"Row out of range: this generator has {self.num_dreams} dreams. "
                             f"Received: index={index}")
        slots = 0 if training_state is None else len(training_state[0])
        holder = self.__dict__.setdefault("_row_scratch", _Scratch())
        part = holder.generators.get(slots)
        if part is None:
            part = holder.generators[slots] = self.select([index], training_state)
            return part
        part.row_keys = [self.row_keys[index]]
        part.spec = self._spec_of([index])
        self._fill(part, [index], training_state)
        return part

    def _spec_of(self, rows: list[int]) -> dict:
        """The spec of a generator of `rows`: the objective's targets sliced."""
        spec = dict(self.spec)
        if "objective" in spec:
            holder = self.__dict__.setdefault("_row_scratch", _Scratch())
            if holder.objective_config is not spec["objective"]:  # deserialized once per spec
                holder.objective_config = spec["objective"]
                holder.objective = get_objective(spec["objective"])
            spec["objective"] = keras.saving.serialize_keras_object(holder.objective.select(rows))
        return spec

    def _fill(self, part: DreamGenerator, rows: list[int],
              training_state: tuple[np.ndarray, int] | None) -> None:
        """Copy `rows` of the kernel (and of `training_state`) into `part`."""
        if len(rows) == 1:
            part.kernel.assign(keras.ops.convert_to_numpy(self.kernel[rows[0]:rows[0] + 1]))
        else:
            part.kernel.assign(keras.ops.convert_to_numpy(self.kernel)[rows])
        if training_state is not None:
            slots, steps = training_state
            part.state.slots.assign(np.asarray(slots)[:, rows])
            part.state.steps.assign(int(steps))

    def get_config(self):
        return {
            "name": self.name,
            "num_dreams": self.num_dreams,
            "image_shape": list(self.image_shape),
            "parameterization": keras.saving.serialize_keras_object(self.parameterization),
            "seed": self.seed,
            "row_keys": list(self.row_keys),
            "spec": _plain(self.spec),
            "state_slots": self.state_slots,
        }


class _Scratch:
    """What `DreamGenerator.row` reuses, in a plain object so that Keras
    neither tracks nor saves the one-row generators as sublayers."""

    def __init__(self):
        self.generators: dict[int, DreamGenerator] = {}
        self.objective_config, self.objective = None, None


def _plain(value):
    """Keras' tracked dicts and lists as plain ones, for JSON configs."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def one_hot(num_dreams: int) -> np.ndarray:
    """The input batch: row i selects kernel row i."""
    return np.eye(num_dreams, dtype="float32")


def to_uint8(images: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(images)), 0, 255).astype("uint8")


