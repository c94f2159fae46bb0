"""`DreamModel`: the generator, a frozen view of the network, and the objective.

    one-hot row i of eye(N)
      -> generator: Dense kernel row i -> parameterization   # dream i, [0, 255]
      -> random transforms (training only)
      -> the network's own preprocessing
      -> the network's layers, called with training=False   # shared, never changed
      -> objective: one value per dream

`compile()` and `fit(steps)` train it; its `train_step` differentiates only
the generator's kernel and sums the objective over the dreams itself, so one
N-dream run equals N one-dream runs. Per-dream targets live in non-trainable
variables: `restart(objective, row_keys)` points the same traced model at
other filters, which is how a gallery trains every chunk of a layer with one
build and one trace.
"""

from __future__ import annotations

import contextlib
import os
import dataclasses
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from kerasdream import objectives as objectives_lib
from kerasdream.callbacks import NonFiniteGuard
from kerasdream.defaults import (
    DEFAULT_PARAMETERIZATION,
    DEFAULT_STEPS,
    DEFAULT_TRANSFORMS,
    depth_defaults,
)
from kerasdream.defaults import TRANSFORM_CHOICES
from kerasdream.errors import DreamError
from kerasdream.generator import DreamGenerator, one_hot
from kerasdream.network import precision as precision_lib
from kerasdream.network.identity import network_identity
from kerasdream.network.bases import (
    BaseSpec,
    Preprocess,
    as_spec,
    check_min_size,
    display_name,
    image_shape_for,
    input_size,
    load_base,
    preprocess_for_model,
    readable,
)
from kerasdream.network.features import feature_model
from kerasdream.objectives.base import IMAGE, Objective
from kerasdream.optimizers import default_optimizer
from kerasdream.param.maco import Maco, maco_transforms
from kerasdream.transforms import (
    Jitter,
    apply_transforms,
    derived_seed,
    light_transforms,
    lucid_transforms,
    paper_jitter,
)
from kerasdream.validation import check_memory, check_positive_int, check_seed

MAX_STEPS_PER_EXECUTION = 25  # fit's steps per call: fewer Python round trips per step
# ... but only for runs of at least this many steps: on the shipped MobileNet
# Keras' multi-step loop took 0.2 s longer to trace and saved 1-2 ms a step
# (`benchmarks/steps_per_call.py`), so it pays from about 100 steps.
MIN_STEPS_FOR_SEVERAL_PER_CALL = 100


def one_step_per_call() -> str | None:
    """Why `fit` must run one step per call here, or None.

    Keras requires it on PyTorch; under a tf.distribute strategy its
    multi-step loop fails ("You must feed a value for placeholder tensor",
    TensorFlow 2.21).
    """
    if keras.backend.backend() == "torch":
        return "the PyTorch backend"
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.distribute.has_strategy():
            return "a tf.distribute strategy"
    return None


def default_steps_per_execution(steps: int) -> int:
    """How many steps `fit` runs per call: for a run of at least
    `MIN_STEPS_FOR_SEVERAL_PER_CALL` steps, the largest divisor of `steps` up
    to `MAX_STEPS_PER_EXECUTION`, so the run has exactly `steps` steps (Keras
    runs whole calls). One for shorter runs, whose tracing the multi-step
    loop would slow more than it saves, and where Keras can run no more
    (`one_step_per_call`).
    """
    if one_step_per_call() or steps < MIN_STEPS_FOR_SEVERAL_PER_CALL:
        return 1
    return max(d for d in range(1, min(steps, MAX_STEPS_PER_EXECUTION) + 1) if steps % d == 0)


def dream_dataset(num_dreams: int):
    """`eye(N)` repeated forever, unshuffled, so row i always means dream i.

    With tf.data's autotuning left on, the end of a `fit` call often waited
    0.5-1.3 s for its background thread (TensorFlow 2.21 on a 2-core CPU,
    `benchmarks/fit_end_wait.py`). One constant tensor needs no tuning.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return tf.data.Dataset.from_tensors(one_hot(num_dreams)).repeat().with_options(options)


def _transform_layers(transforms, stride: int, seed: int, image_shape,
                      fixed_size: bool) -> list[keras.layers.Layer]:
    """Transform layers with seeds derived from the run's `seed` and position,
    where the user gave none (so they draw independently, reproducibly),
    checked on `image_shape` so a bad size fails here, not inside `fit`."""
    if transforms == "default":
        transforms = DEFAULT_TRANSFORMS
    if transforms is None or transforms == "none":
        return []
    if transforms == "light":
        transforms = light_transforms(min(image_shape[:2]))
    elif transforms == "lucid":
        transforms = lucid_transforms(min(image_shape[:2]), pad=not fixed_size)
    elif transforms == "jitter":
        transforms = [Jitter(paper_jitter(stride))]
    elif transforms == "maco":
        transforms = maco_transforms(min(image_shape[:2]))
    if isinstance(transforms, str):
        raise DreamError(f"Transforms must be one of {['default', *TRANSFORM_CHOICES]}, None "
                         f"or a list of layers from kerasdream.transforms. "
                         f"Received: transforms={transforms!r}")
    layers = []
    for position, transform in enumerate(transforms):
        if isinstance(transform, dict):
            transform = keras.saving.deserialize_keras_object(transform)
        if not isinstance(transform, keras.layers.Layer):
            raise DreamError("Transforms must be Keras layers (see kerasdream.transforms), "
                             f"None or 'default'. Received: {transform!r}")
        config = transform.get_config()
        if "seed" in config:  # a fresh copy: the user's layer keeps its own state
            config.pop("name", None)
            if config["seed"] is None:
                config["seed"] = derived_seed(seed, position)
            transform = type(transform).from_config(config)
        layers.append(transform)
    shape = (None, *image_shape)
    for transform in layers:
        transform.build(shape)
        shape = transform.compute_output_shape(shape)
    if fixed_size and tuple(shape[1:3]) != tuple(image_shape[:2]):
        raise DreamError(f"The transforms change the image size to {tuple(shape[1:3])}, but "
                         f"the network takes {tuple(image_shape[:2])} only: leave out Pad. "
                         f"Received: transforms={[type(t).__name__ for t in layers]}")
    return layers


def _stride(shapes: dict, layer_keys: list[str], image_shape) -> int:
    spatial = [shapes[k][1] for k in layer_keys if len(shapes[k]) == 4 and shapes[k][1]]
    return max(1, image_shape[0] // min(spatial)) if spatial else 1


@keras.saving.register_keras_serializable(package="kerasdream")
class DreamModel(keras.Model):
    """Dreams of `objective` on a network: `compile()`, `fit(steps)`, `render()`.

    Args:
        objective: what to maximize, e.g. `Channel("conv_pw_8_relu", range(16))`.
        base: a `BaseSpec`, a `keras.applications` name, a `.keras`/`.h5`
            path, or an in-memory `keras.Model` (never modified). Defaults to
            the shipped MobileNet alpha=0.25.
        size: image size (int or (height, width)); defaults to the network's
            fixed input size, else 128.
        num_dreams: N; defaults to the number of per-dream targets.
        parameterization: `"fourier"` (default), `"pixels"` or `"bounded"`.
        transforms: a name from `TRANSFORM_CHOICES` (`"default"` is
            `DEFAULT_TRANSFORMS`), `None`, or a list of layers from
            `kerasdream.transforms`.
        preprocess: the network's preprocessing mode; by default its own
            (`keras.applications`) or none (your model carries its own).
        seed: seeds initial images and transforms: same seed, same dreams.
        row_keys: per-row seed keys (see `RowSeededNormal`); default `range(N)`.
        redirect_relu: Lucid's redirected gradient on a ReLU target layer,
            so a dream of a dead channel can still move.
        generator: an existing generator to train further (resume).
        precision: what the network computes in: `"auto"` (default: bfloat16
            for large networks where that measured faster, see
            `kerasdream.network.precision`), `"float32"`, `"bfloat16"` or
            `"float16"`. The kernel, its update and the objective stay in
            float32, and the user's network is never changed (a copy of the
            layers read computes in the reduced type).
        transparency: accumulate each dream's gradient magnitude with respect
            to its image over training (MACO's transparency map, read with
            `transparency()`); default: on for the `"maco"` parameterization.
        name: the Keras model's name.

    Raises:
        DreamError: when a layer, filter, size, parameterization, transform,
            preprocessing or precision is not one the network or kerasdream
            can use; the message names the value received and what is valid.

    Example:
        ```python
        model = kd.DreamModel(kd.Channel("conv_pw_8_relu:pre", range(16)), "mobilenet")
        model.compile()          # kerasdream's default optimizer
        model.fit(200)           # 200 steps; all 16 dreams train at once
        images = model.render()  # uint8 (16, 128, 128, 3)
        ```
    """

    def __init__(
        self,
        objective: Objective,
        base: BaseSpec | str | keras.Model | None = None,
        *,
        size: int | Sequence[int] | None = None,
        num_dreams: int | None = None,
        parameterization: Any = DEFAULT_PARAMETERIZATION,
        transforms: Any = DEFAULT_TRANSFORMS,
        preprocess: str | None = None,
        seed: int = 0,
        row_keys: Sequence[int] | None = None,
        redirect_relu: bool = True,
        generator: DreamGenerator | None = None,
        precision: str = precision_lib.DEFAULT_PRECISION,
        transparency: bool | None = None,
        name: str = "dream",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        objective = objectives_lib.get(objective)
        if isinstance(base, keras.Model):
            self.spec, base_model = None, readable(base)
            mode = preprocess_for_model(base, preprocess)
        else:
            spec = as_spec(base)
            if preprocess is not None:
                spec = dataclasses.replace(spec, preprocess=preprocess)
            self.spec, base_model = spec, load_base(spec)
            mode = spec.preprocess_mode
        self.network_name = display_name(base_model, self.spec)
        self._network_identity = (None if self.spec is None
                                  else network_identity(base_model, mode))
        self.seed, self.redirect_relu = check_seed(seed), bool(redirect_relu)

        if generator is not None:
            image_shape, dreams = generator.image_shape, generator.num_dreams
        else:
            image_shape = image_shape_for(base_model, size)
            check_min_size(self.spec, image_shape, self.network_name)
            dreams = objective.num_rows if num_dreams is None else num_dreams
        check_positive_int("num_dreams", dreams)
        check_memory(dreams, image_shape)
        self._check_rows(objective, dreams)
        self.num_dreams, self.image_shape = int(dreams), tuple(image_shape)

        layer_keys = [key for key in objective.keys if key != IMAGE]
        self.features = None
        if layer_keys:
            self.features = feature_model(base_model, layer_keys, image_shape,
                                          redirect_relu, self.network_name)
        self.requested_precision = precision_lib.check_precision(precision)
        self.precision = precision_lib.resolve(precision, self.features, image_shape)
        # What `call` runs: the float32 view itself, or a reduced-precision copy
        # of it (exact values, `_features_of`, always come from the float32 one).
        self.network = self.features
        if self.features is not None and self.precision != "float32":
            self.network = precision_lib.reduced_copy(self.features, self.precision)
        self.preprocess = Preprocess(mode, name="preprocess")
        self._shapes = {IMAGE: (dreams, *image_shape)}
        if self.features is not None:
            specs = self.features.compute_output_spec(keras.KerasTensor((dreams, *image_shape)))
            self._shapes.update({key: tuple(s.shape) for key, s in specs.items()})

        self.objective = objective
        tables = objective.target_tables(self._features_of, self._shapes, dreams)
        # One non-trainable variable per term with targets; `_target_slots[i]`
        # is term i's index into `target_variables`, or -1.
        self._target_slots, self.target_variables = [], []
        for index, table in enumerate(tables):
            if table is None:
                self._target_slots.append(-1)
                continue
            self._target_slots.append(len(self.target_variables))
            self.target_variables.append(self.add_weight(
                shape=table.shape, initializer=keras.initializers.Constant(table),
                trainable=False, name=f"target_{index}"))

        if generator is None:
            generator = DreamGenerator(dreams, image_shape, parameterization, seed=seed,
                                       row_keys=row_keys)
            initial = objective.initial_images()
            if initial is not None:
                generator.set_images(initial)
        self.generator = generator
        self.transparency_variable = None
        if _wants_transparency(transparency, generator):
            self.transparency_variable = self.add_weight(
                shape=(dreams, *image_shape), initializer="zeros", trainable=False,
                name="transparency")
        fixed_size = any(d is not None for d in input_size(base_model))
        stride = _stride(self._shapes, layer_keys, image_shape)
        self.stride = stride  # the shallowest target's: what the depth defaults read
        self.transforms = _transform_layers(transforms, stride, seed, image_shape, fixed_size)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self._record_spec()
        self._requested_steps_per_execution = None
        self.built = True

    # ------------------------------------------------------------------ parts
    def _check_rows(self, objective: Objective, dreams: int) -> None:
        if objective.num_rows not in (1, dreams):
            raise DreamError(
                f"The objective has {objective.num_rows} per-dream targets but the model "
                f"has {dreams} dreams. Received: num_dreams={dreams}"
            )

    def _features_of(self, images: np.ndarray) -> dict:
        """The exact features of `images` (eager; values are never redirected)."""
        outputs = self.features(self.preprocess(np.asarray(images, "float32")), training=False)
        return {key: keras.ops.convert_to_numpy(v) for key, v in outputs.items()}

    def recorded_base(self) -> dict[str, Any] | None:
        """The network as a saved dream records it: the spec with a model or
        weights file as an absolute path (a relative one would be read from
        wherever `rebuild` runs), or None for an in-memory network."""
        if self.spec is None:
            return None
        config = self.spec.get_config()
        if self.spec.is_file:
            config["model"] = os.path.abspath(config["model"])
        if config.get("weights") not in (None, "imagenet"):
            config["weights"] = os.path.abspath(config["weights"])
        return config

    def _record_spec(self) -> None:
        self.generator.spec = {
            "base": self.recorded_base(),
            # What decides its pictures, by content: `rebuild` checks the file still holds it.
            "network": self._network_identity,
            "objective": keras.saving.serialize_keras_object(self.objective),
            "transforms": [keras.saving.serialize_keras_object(t) for t in self.transforms],
            "preprocess": self.preprocess.mode,
            "redirect_relu": self.redirect_relu,
        }

    def _targets(self) -> list:
        return [None if slot < 0 else self.target_variables[slot] for slot in self._target_slots]

    def _scope(self):
        if keras.backend.backend() == "tensorflow":
            return self.distribute_strategy.scope()
        return contextlib.nullcontext()

    # ------------------------------------------------------------------- maths
    def call(self, rows, training=False, image_offset=None):
        """Each dream's objective value, shape (N,). `image_offset` (zeros, while
        training with a transparency map) is where the image gradient is read."""
        images = self.generator(rows)
        if image_offset is not None:
            images = images + image_offset
        features = {IMAGE: images}
        x = apply_transforms(self.transforms, images, training=training)
        if self.features is not None:
            outputs = self.network(self.preprocess(x), training=False)
            features.update({k: ops.cast(v, "float32") for k, v in outputs.items()})
        return self.objective.value(features, self._targets())

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, *args):
        """One step on the kernel only: loss = minus the objective summed over dreams."""
        backend = keras.backend.backend()
        if backend == "jax":
            return self._jax_train_step(*args)
        rows = _rows(args[0])
        kernel = self.generator.kernel
        offset = self._image_offset(rows)
        if backend == "tensorflow":
            import tensorflow as tf

            with tf.GradientTape() as tape:
                if offset is not None:
                    tape.watch(offset)
                values = self(rows, training=True, image_offset=offset)
                loss = -ops.sum(values)
            gradients = tape.gradient(loss, [kernel] + ([offset] if offset is not None else []))
        elif backend == "torch":
            import torch

            if offset is not None:
                offset.requires_grad_(True)
            values = self(rows, training=True, image_offset=offset)
            loss = -ops.sum(values)
            gradients = list(torch.autograd.grad(
                loss, [kernel.value] + ([offset] if offset is not None else [])))
        else:
            raise DreamError(f"kerasdream trains on the tensorflow, jax and torch backends. "
                             f"Received: KERAS_BACKEND={backend!r}")
        if offset is not None:
            self.transparency_variable.assign_add(ops.abs(gradients.pop()))
        self.optimizer.apply(gradients, [kernel])
        self.loss_tracker.update_state(-values)
        return {"loss": self.loss_tracker.result()}

    def _image_offset(self, rows):
        """Zeros to add to the images whose gradient is the image gradient, or None."""
        if self.transparency_variable is None:
            return None
        return ops.zeros((ops.shape(rows)[0], *self.image_shape))

    def _jax_train_step(self, state, data):
        import jax

        trainable, non_trainable, optimizer_state, metrics_state = state
        rows = _rows(data)
        index = self._kernel_index()

        offset = self._image_offset(rows)

        def loss_of(kernel_value, offset, non_trainable):
            values_in = list(trainable)
            values_in[index] = kernel_value
            values, non_trainable = self.stateless_call(values_in, non_trainable, rows,
                                                        training=True, image_offset=offset)
            return -jax.numpy.sum(values), (values, non_trainable)

        (_, (values, non_trainable)), (gradient, image_gradient) = jax.value_and_grad(
            loss_of, argnums=(0, 1), has_aux=True)(trainable[index], offset, non_trainable)
        if offset is not None:
            non_trainable = list(non_trainable)
            slot = [id(v) for v in self.non_trainable_variables].index(
                id(self.transparency_variable))
            non_trainable[slot] = non_trainable[slot] + jax.numpy.abs(image_gradient)
        [kernel_value], optimizer_state = self.optimizer.stateless_apply(
            optimizer_state, [gradient], [trainable[index]])
        trainable = list(trainable)
        trainable[index] = kernel_value
        mapping = list(zip(self.metrics_variables, metrics_state))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            self.loss_tracker.update_state(-values)
            logs = {"loss": self.loss_tracker.result()}
        metrics_state = [scope.get_current_value(v) for v in self.metrics_variables]
        return logs, (trainable, non_trainable, optimizer_state, metrics_state)

    def _kernel_index(self) -> int:
        kernel = self.generator.kernel
        for index, variable in enumerate(self.trainable_variables):
            if variable is kernel:
                return index
        raise DreamError("The generator's kernel is not trainable; nothing to dream.")

    # --------------------------------------------------------------- training
    def compile(self, optimizer=None, *, steps_per_execution: int | None = None,
                jit_compile: bool | str = "auto", **kwargs):
        """Compile with `optimizer` for the kernel only; by default Adam at the
        learning rate of the objective's depth (`defaults.depth_defaults` at
        the total stride of its shallowest layer, as the command line).

        `steps_per_execution` must then divide every `fit`'s steps; by
        default each `fit` picks the largest divisor of its steps up to 25.
        """
        if optimizer is None:
            optimizer = default_optimizer(depth_defaults(self.stride)[1])
        optimizer = keras.optimizers.get(optimizer)
        if steps_per_execution is not None:
            check_positive_int("steps_per_execution", steps_per_execution)
            reason = one_step_per_call()
            if steps_per_execution > 1 and reason:
                raise DreamError(f"steps_per_execution must be 1 under {reason}. "
                                 f"Received: steps_per_execution={steps_per_execution}")
        self._requested_steps_per_execution = (None if steps_per_execution is None
                                               else int(steps_per_execution))
        super().compile(optimizer=optimizer, jit_compile=jit_compile,
                        steps_per_execution=self._requested_steps_per_execution or 1, **kwargs)
        with self._scope():
            self.optimizer.build([self.generator.kernel])
        self._fresh_optimizer = [keras.ops.convert_to_numpy(v) for v in self.optimizer.variables]
        saved = self.generator.training_state()
        if saved is not None:  # a reloaded dream goes on with its momentum
            self.set_training_state(*saved)

    def _slot_variables(self) -> list:
        shape = tuple(self.generator.kernel.shape)
        return [v for v in self.optimizer.variables if tuple(v.shape) == shape]

    def training_state(self) -> tuple[np.ndarray, int]:
        """The optimizer's per-row slots `(slots, N, raw_size)` and its step count."""
        slots = [keras.ops.convert_to_numpy(v) for v in self._slot_variables()]
        shape = (0, *self.generator.kernel.shape)
        steps = int(keras.ops.convert_to_numpy(self.optimizer.iterations))
        return (np.stack(slots) if slots else np.zeros(shape, "float32")), steps

    def set_training_state(self, slots: np.ndarray, steps: int) -> bool:
        """Go on from a saved `training_state`: the optimizer's slots and step
        count, and the transforms' random streams as after `steps` steps.
        False (and a fresh optimizer) when the slots belong to another optimizer."""
        mine = self._slot_variables()
        if len(mine) != len(slots) or (len(mine) and tuple(slots.shape[1:]) != tuple(mine[0].shape)):
            return False
        for variable, value in zip(mine, slots):
            variable.assign(value)
        self.optimizer.iterations.assign(int(steps))
        for transform in self.transforms:
            if hasattr(transform, "advance_seed"):
                transform.advance_seed(int(steps))
        return True

    def fit(self, steps: int = DEFAULT_STEPS, *, callbacks: Sequence = (),
            verbose: int | str = 0, **kwargs) -> keras.callbacks.History:
        """Train every dream `steps` steps on its own one-hot rows (no data argument).

        A NaN or infinite loss or kernel stops training after that call and
        raises `NonFiniteError` after restoring the last finite images.
        """
        for name in ("x", "y", "steps_per_epoch", "epochs"):
            if name in kwargs:
                raise DreamError(f"DreamModel.fit feeds its own one-hot rows for `steps` "
                                 f"steps; pass steps=... instead. Received: {name}=...")
        check_positive_int("steps", steps)
        if not getattr(self, "compiled", False):
            self.compile()
        per_call = self._requested_steps_per_execution
        if per_call is None:
            per_call = default_steps_per_execution(int(steps))
        elif steps % per_call:
            raise DreamError(f"steps_per_execution must divide steps={steps}, so the run "
                             f"has exactly that many steps. "
                             f"Received: steps_per_execution={per_call}")
        if per_call != self.steps_per_execution:
            self.steps_per_execution = per_call
            self.train_function = None  # traced again for the new number of steps per call
        guard = NonFiniteGuard()
        history = super().fit(dream_dataset(self.num_dreams), steps_per_epoch=int(steps),
                              epochs=1, shuffle=False, verbose=verbose,
                              callbacks=[guard, *callbacks], **kwargs)
        if guard.failure is not None:
            raise guard.failure
        return history

    def restart(self, objective: Objective | None = None,
                row_keys: Sequence[int] | None = None) -> None:
        """Point this (already traced) model at new dreams.

        The kernel rows start afresh from `row_keys`, the targets become those
        of `objective` (same kind of objective, other filters or photos), and
        the optimizer state and the transforms' random streams start over,
        so each chunk of a gallery trains exactly as if it were the first.
        """
        if objective is not None:
            objective = objectives_lib.get(objective)
            if objective.signature() != self.objective.signature():
                raise DreamError(
                    f"restart needs an objective of the same kind as the model's "
                    f"({self.objective!r}), with other targets. Received: {objective!r}")
            self._check_rows(objective, self.num_dreams)
            tables = objective.target_tables(self._features_of, self._shapes, self.num_dreams)
            for slot, table in zip(self._target_slots, tables):
                if slot >= 0:
                    self.target_variables[slot].assign(table)
            self.objective = objective
        if row_keys is not None:
            self.generator.restart(row_keys)
        initial = self.objective.initial_images()
        if initial is not None:
            self.generator.set_images(initial)
        for transform in self.transforms:
            if hasattr(transform, "reset_seed"):
                transform.reset_seed()
        if self.transparency_variable is not None:
            self.transparency_variable.assign(np.zeros(self.transparency_variable.shape, "float32"))
        if getattr(self, "compiled", False):
            for variable, value in zip(self.optimizer.variables, self._fresh_optimizer):
                variable.assign(value)
        self._record_spec()

    def sync_network(self) -> None:
        """Copy the network's current weights into the copies this model holds
        (pre-activation twins, a reduced-precision copy): call it before a
        dream when the network has trained on (`DreamCallback`, `evolve`)."""
        from kerasdream.network.features import sync_twins

        if self.features is not None:
            sync_twins(*[self.features] + ([self.network] if self.network is not self.features
                                           else []))

    # ---------------------------------------------------------------- results
    def render(self) -> np.ndarray:
        """The N dreams as uint8 images, shape (N, H, W, C)."""
        return self.generator.render()

    def images(self) -> np.ndarray:
        """The N dreams as float pixel values in [0, 255]."""
        return self.generator.images()

    def transparency(self) -> np.ndarray | None:
        """Each dream's accumulated image-gradient magnitude (N, H, W, C) since
        the last `restart`, or None without a transparency map."""
        if self.transparency_variable is None:
            return None
        return keras.ops.convert_to_numpy(self.transparency_variable)

    def feature_values(self) -> dict[str, np.ndarray]:
        """What the objective reads from the current dreams, by feature key
        (no transforms, exact values)."""
        if self.features is None:
            return {}
        return self._features_of(self.images())

    def get_config(self) -> dict[str, Any]:
        if self.spec is None:
            raise DreamError("This dream model was built on an in-memory network, which "
                             "it cannot refer to by name: save its generator "
                             "(kerasdream.saving.save_dream) instead.")
        return {
            "name": self.name,
            "objective": keras.saving.serialize_keras_object(self.objective),
            "base": self.recorded_base(),
            "size": list(self.image_shape[:2]),
            "num_dreams": self.num_dreams,
            "parameterization": keras.saving.serialize_keras_object(
                self.generator.parameterization),
            "transforms": [keras.saving.serialize_keras_object(t) for t in self.transforms],
            "preprocess": self.preprocess.mode,
            "seed": self.seed,
            "row_keys": list(self.generator.row_keys),
            "redirect_relu": self.redirect_relu,
            "precision": self.requested_precision,
            "transparency": self.transparency_variable is not None,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DreamModel:
        config = dict(config)
        config["objective"] = objectives_lib.get(config["objective"])
        config["base"] = BaseSpec.from_config(config["base"])
        config["size"] = tuple(config["size"])
        return cls(**config)


def _rows(data):
    return data[0] if isinstance(data, (tuple, list)) else data


def _wants_transparency(transparency: bool | None, generator: DreamGenerator) -> bool:
    """Whether a model accumulates a transparency map: as asked, else for MACO.
    Not under a multi-replica strategy (a mirrored accumulator would need an
    all-reduce of per-replica rows)."""
    wanted = isinstance(generator.parameterization, Maco) if transparency is None \
        else bool(transparency)
    if wanted and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.distribute.has_strategy() and tf.distribute.get_strategy().num_replicas_in_sync > 1:
            if transparency:
                raise DreamError("A transparency map is not available under a multi-replica "
                                 "tf.distribute strategy. Received: transparency=True")
            return False
    return wanted
