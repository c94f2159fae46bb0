"""The dream model: a Dense layer on a one-hot input whose kernel rows are images.

    one-hot row i of eye(N)
      -> Dense(raw_size, use_bias=False)     # kernel row i IS dream i
      -> Reshape -> parameterization          # pixels in [0, 255]
      -> random transforms (training only)
      -> the base's own preprocessing
      -> frozen base, truncated, called with training=False
      -> identity layers whose activity regularizers are minus the objective

`compile` + `fit` on a repeated one-hot batch train only the Dense kernel.
The generator (Dense + Reshape + parameterization) is its own small Keras
model, `DreamGenerator`, which remembers the base, objective and transforms
by reference: it is what gets saved, reloaded and trained further.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from kerasdream import objectives as objectives_lib
from kerasdream import parameterization as parameterization_lib
from kerasdream.bases import (
    BaseSpec,
    Preprocess,
    as_spec,
    feature_model,
    image_shape_for,
    load_base,
)
from kerasdream.errors import DreamError
from kerasdream.objectives import IMAGE, Objective, ObjectiveRegularizer
from kerasdream.optimizers import RowNormalizedSGD
from kerasdream.transforms import Jitter, paper_jitter

DEFAULT_SIZE = 128
DEFAULT_STEPS = 200
DEFAULT_LEARNING_RATE = None  # the parameterization's own (0.05 pixels, 0.01 Fourier)
DEFAULT_MOMENTUM = 0.9
MAX_STEPS_PER_EXECUTION = 25  # fit's steps per call: fewer Python round trips per step
GENERATOR_NAME = "dream_generator"


@keras.saving.register_keras_serializable(package="kerasdream")
class RowSeededNormal(keras.initializers.Initializer):
    """Normal noise whose row i depends only on `(seed, row_keys[i])`.

    So dream i starts from the same image whether it trains alone or with
    others, and a gallery's filter k looks the same whatever `--batch` is.
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
class DreamGenerator(keras.Model):
    """One-hot rows -> dream images: the trainable part of a dream model.

    Args:
        num_dreams: N, the width of the one-hot input and rows of the kernel.
        image_shape: (height, width, channels) of each dream.
        parameterization: `"pixels"`, `"fourier"`, `"bounded"` or a layer.
        seed, row_keys: the initial image of row i is drawn from
            `(seed, row_keys[i])`; `row_keys` defaults to `range(N)`.
        spec: what the dream is of: base reference, objective and transforms
            (JSON-serializable), so a saved generator can be rebuilt into a
            trainable dream model without saving the base's weights.
    """

    def __init__(
        self,
        num_dreams: int,
        image_shape: Sequence[int],
        parameterization: Any = "pixels",
        seed: int = 0,
        row_keys: Sequence[int] | None = None,
        spec: dict | None = None,
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
        self.parameterization = parameterization_lib.get(parameterization, self.image_shape)
        self.kernel_layer = keras.layers.Dense(
            self.parameterization.raw_size,
            use_bias=False,
            kernel_initializer=RowSeededNormal(
                self.parameterization.init_stddev, self.seed, self.row_keys
            ),
            name="dream_kernel",
        )
        self.reshape = keras.layers.Reshape(self.parameterization.raw_shape)
        self.build((None, self.num_dreams))

    def build(self, input_shape):
        self.kernel_layer.build(input_shape)
        self.built = True

    def call(self, rows):
        return self.parameterization(self.reshape(self.kernel_layer(rows)))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.image_shape)

    @property
    def kernel(self):
        return self.kernel_layer.kernel

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

    def select(self, rows: Sequence[int]) -> DreamGenerator:
        """A generator holding only `rows`, with their kernel rows and targets."""
        rows = list(rows)
        spec = dict(self.spec)
        if "objective" in spec:
            objective = objectives_lib.get(spec["objective"]).select(rows)
            spec["objective"] = keras.saving.serialize_keras_object(objective)
        part = DreamGenerator(
            len(rows),
            self.image_shape,
            keras.saving.serialize_keras_object(self.parameterization),
            seed=self.seed,
            row_keys=[self.row_keys[r] for r in rows],
            spec=spec,
        )
        kernel = keras.ops.convert_to_numpy(self.kernel)
        part.kernel.assign(kernel[rows])
        return part

    def get_config(self):
        return {
            "name": self.name,
            "num_dreams": self.num_dreams,
            "image_shape": list(self.image_shape),
            "parameterization": keras.saving.serialize_keras_object(self.parameterization),
            "seed": self.seed,
            "row_keys": list(self.row_keys),
            "spec": _plain(self.spec),
        }


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


def _as_transforms(transforms, stride: int, seed: int) -> list[keras.layers.Layer]:
    if transforms is None:
        return []
    if transforms == "default":
        return [Jitter(paper_jitter(stride), seed=seed)]
    layers = []
    for transform in transforms:
        if isinstance(transform, dict):
            transform = keras.saving.deserialize_keras_object(transform)
        if not isinstance(transform, keras.layers.Layer):
            raise DreamError("Transforms must be Keras layers (see kerasdream.transforms), "
                             f"None or 'default'. Received: {transform!r}")
        layers.append(transform)
    return layers


def build_dream_model(
    objective: Objective,
    base: BaseSpec | str | keras.Model | None = None,
    *,
    size: int | tuple[int, int] | None = None,
    num_dreams: int | None = None,
    parameterization: Any = "pixels",
    transforms: Any = "default",
    preprocess: str | None = None,
    seed: int = 0,
    row_keys: Sequence[int] | None = None,
    redirect_relu: bool = True,
    generator: DreamGenerator | None = None,
) -> keras.Model:
    """The trainable dream model for `objective` on `base`.

    Args:
        objective: what to maximize, e.g. `Channel("conv_pw_8_relu", range(16))`.
        base: a `BaseSpec`, a `keras.applications` name, a `.keras`/`.h5`
            path, or an in-memory `keras.Model` (which cannot be saved by
            reference). Defaults to the shipped MobileNet alpha=0.25.
        size: image size (int or (height, width)); defaults to the base's
            fixed input size, else 128.
        num_dreams: N; defaults to the number of per-dream targets.
        parameterization: `"pixels"` (default), `"fourier"` or `"bounded"`.
        transforms: `"default"` (the paper's jitter for the layer's stride),
            `None`, or a list of layers from `kerasdream.transforms`.
        preprocess: override the base's preprocessing mode.
        seed: seeds initial images and transforms: same seed, same dreams.
        row_keys: per-row seed keys (see `RowSeededNormal`).
        redirect_relu: let the gradient pass through the gate of a ReLU
            target layer, so dead channels still move (values unchanged).
        generator: an existing generator to train further (resume).
    """
    objective = objectives_lib.get(objective)
    if isinstance(base, keras.Model):
        spec, base_model = None, base
        base_model.trainable = False
        mode = preprocess or "none"
    else:
        spec = as_spec(base)
        if preprocess is not None:
            spec = BaseSpec(spec.model, spec.alpha, spec.weights, preprocess)
        base_model = load_base(spec)
        mode = spec.preprocess_mode

    if generator is not None:
        image_shape, dreams = generator.image_shape, generator.num_dreams
    else:
        image_shape = image_shape_for(base_model, size)
        if spec is not None and min(image_shape[:2]) < spec.min_size:
            raise DreamError(f"{spec.describe()} needs images of at least {spec.min_size} "
                             f"pixels. Received: size={image_shape[:2]}")
        dreams = num_dreams or objective.num_rows
    if objective.num_rows not in (1, dreams):
        raise DreamError(
            f"The objective has {objective.num_rows} per-dream targets but the model "
            f"has {dreams} dreams. Received: num_dreams={dreams}"
        )
    _check_int("num_dreams", dreams)

    layer_keys = [key for key in objective.keys if key != IMAGE]
    features = None
    if layer_keys:
        features = feature_model(base_model, layer_keys, image_shape, redirect_relu)
    preprocessing = Preprocess(mode, name="preprocess")
    shapes = {IMAGE: (dreams, *image_shape)}
    if features is not None:
        specs = features.compute_output_spec(keras.KerasTensor((dreams, *image_shape)))
        shapes.update({key: tuple(s.shape) for key, s in specs.items()})

    def features_of(images):
        outputs = features(preprocessing(np.asarray(images, "float32")), training=False)
        return {key: keras.ops.convert_to_numpy(v) for key, v in outputs.items()}

    objective.bind(features_of, shapes)

    if generator is None:
        generator = DreamGenerator(dreams, image_shape, parameterization, seed=seed,
                                   row_keys=row_keys)
        initial = objective.initial_images()
        if initial is not None:
            generator.set_images(initial)
    stride = _stride(shapes, layer_keys, image_shape)
    transform_layers = _as_transforms(transforms, stride, seed)
    generator.spec = {
        "base": spec.get_config() if spec else None,
        "objective": keras.saving.serialize_keras_object(objective),
        "transforms": [keras.saving.serialize_keras_object(t) for t in transform_layers],
        "preprocess": mode,
        "redirect_relu": redirect_relu,
    }

    rows = keras.Input((dreams,), name="dream_row")
    image = generator(rows)
    parts = objective.by_key()
    outputs = []
    if IMAGE in parts:
        outputs.append(_probe(image, parts[IMAGE], "image_objective"))
    x = image
    for transform in transform_layers:
        x = transform(x)
    if features is not None:
        feature_outputs = features(preprocessing(x), training=False)
        for index, key in enumerate(layer_keys):
            outputs.append(_probe(feature_outputs[key], parts[key], f"objective_{index}"))
    return keras.Model(rows, outputs, name="dream")


def _probe(tensor, objective: Objective, name: str):
    return keras.layers.Identity(
        activity_regularizer=ObjectiveRegularizer(objective), name=name
    )(tensor)


def _stride(shapes, layer_keys, image_shape) -> int:
    spatial = [shapes[k][1] for k in layer_keys if len(shapes[k]) == 4 and shapes[k][1]]
    return max(1, image_shape[0] // min(spatial)) if spatial else 1


def _check_int(name: str, value) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise DreamError(f"{name} must be a positive integer. Received: {name}={value!r}")


def generator_of(model: keras.Model) -> DreamGenerator:
    """The `DreamGenerator` inside a dream model (or the generator itself)."""
    if isinstance(model, DreamGenerator):
        return model
    return model.get_layer(GENERATOR_NAME)


def rebuild(generator: DreamGenerator) -> keras.Model:
    """The full trainable dream model around a (reloaded) generator."""
    spec = generator.spec
    if not spec.get("base"):
        raise DreamError("This generator does not record its base network (it was "
                         "built on an in-memory model), so it cannot be rebuilt.")
    return build_dream_model(
        objectives_lib.get(spec["objective"]),
        BaseSpec.from_config(spec["base"]),
        transforms=spec.get("transforms") or None,
        preprocess=spec.get("preprocess"),
        redirect_relu=spec.get("redirect_relu", True),
        generator=generator,
    )


class NonFiniteError(DreamError):
    """Training hit a NaN or infinite loss; the last finite kernel was restored.

    `step` is the last step run. Keras runs several steps per call
    (`steps_per_execution`), so the first bad step lies between `first_step`
    and `step`; the restored images are from before `first_step`.
    """

    def __init__(self, step: int, rows: list[int], first_step: int | None = None):
        self.step, self.rows = step, rows
        self.first_step = step if first_step is None else first_step
        where = (f"at step {step}" if self.first_step == step
                 else f"between step {self.first_step} and step {step}")
        super().__init__(
            f"Loss became NaN or infinite {where}; stopped. Dreams affected: "
            f"{rows}. Their last finite images were kept. Try a smaller learning rate."
        )


class NonFiniteGuard(keras.callbacks.Callback):
    """Stops `fit` at the first non-finite loss and restores the last finite kernel.

    At most every `every` steps it copies the kernel before the step (cheap:
    one row per dream); once the loss after it proves finite, the copy becomes
    the restore point. The dreams affected are the rows whose kernel went
    non-finite, or all rows when the kernel is finite but the loss is not.
    With `steps_per_execution` > 1 Keras calls back once per execution, so a
    fault is located to the steps of one execution.
    """

    def __init__(self, every: int = 10):
        super().__init__()
        self.every = every
        self.failure: NonFiniteError | None = None
        self._last_finite = self._candidate = None
        self._candidate_step = self._first_unchecked = 0

    def _kernel(self) -> np.ndarray:
        return keras.ops.convert_to_numpy(generator_of(self.model).kernel)

    def on_train_begin(self, logs=None):
        self.failure, self._candidate = None, None
        self._last_finite = self._kernel()
        self._candidate_step = self._first_unchecked = 0

    def on_train_batch_begin(self, batch, logs=None):
        self._first_unchecked = batch
        if self._candidate is None and batch - self._candidate_step >= self.every:
            self._candidate, self._candidate_step = self._kernel(), batch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and math.isfinite(float(loss)):
            if self._candidate is not None:
                self._last_finite, self._candidate = self._candidate, None
            return
        kernel = self._kernel()
        bad = ~np.all(np.isfinite(kernel), axis=1)
        rows = np.flatnonzero(bad).tolist() or list(range(len(kernel)))
        kernel[rows] = self._last_finite[rows]
        generator_of(self.model).kernel.assign(kernel)
        self.failure = NonFiniteError(batch + 1, rows, first_step=self._first_unchecked + 1)
        self.model.stop_training = True


def _one_step_per_call() -> str | None:
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


class DreamProgress(keras.callbacks.Callback):
    """Advances a progress bar over dreams x steps, with the loss per dream.

    One bar can span several `fit` runs (a gallery's chunks and layers):
    each call of the training step adds `dreams` for every step it ran.
    `rows` is the batch size the loss is summed over (dreams plus padding).
    """

    def __init__(self, bar: keras.utils.Progbar | None, dreams: int, rows: int | None = None):
        super().__init__()
        self.bar, self.dreams, self.rows = bar, dreams, rows or dreams
        self.steps_done = 0

    def on_train_begin(self, logs=None):
        self.steps_done = 0

    def on_train_batch_end(self, batch, logs=None):
        # `batch` is the last step of the call: fit may run several steps per call.
        steps, self.steps_done = batch + 1 - self.steps_done, batch + 1
        if self.bar is not None:
            loss = float((logs or {}).get("loss", np.nan))
            self.bar.add(self.dreams * steps, values=[("loss per dream", loss / self.rows)])


def default_steps_per_execution(steps: int) -> int:
    """How many steps `fit` runs per call: the largest divisor of `steps` up to
    `MAX_STEPS_PER_EXECUTION`, so the run has exactly `steps` steps. Each call
    costs a few milliseconds of Python, as much as a step of a small dream.
    One where Keras can run no more (see `_one_step_per_call`).
    """
    if _one_step_per_call():
        return 1
    return max(d for d in range(1, min(steps, MAX_STEPS_PER_EXECUTION) + 1) if steps % d == 0)


def dream_dataset(num_dreams: int):
    """`eye(N)` repeated forever, unshuffled, so row i always means dream i."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensors(one_hot(num_dreams)).repeat()


def train(
    model: keras.Model,
    steps: int = DEFAULT_STEPS,
    *,
    learning_rate: float | None = DEFAULT_LEARNING_RATE,
    momentum: float = DEFAULT_MOMENTUM,
    optimizer: keras.optimizers.Optimizer | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = 0,
    jit_compile: bool | str = "auto",
    steps_per_execution: int | None = None,
) -> keras.callbacks.History:
    """Compile and `fit` the dream model for `steps` steps; only the kernel trains.

    The default optimizer is `RowNormalizedSGD` (SGD with momentum on
    per-dream normalized gradients) at `learning_rate`, by default the
    parameterization's own (0.05 for pixels, 0.01 for Fourier). The returned history's `"loss"` is the
    summed loss of all dreams, averaged over the steps. A NaN or infinite
    loss stops training after that call and raises `NonFiniteError` after
    restoring the last finite images. `steps_per_execution` (steps per call of the
    compiled step; callbacks run after each call) must divide `steps`; by
    default the largest divisor up to 25.
    """
    _check_int("steps", steps)
    per_call = steps_per_execution
    if per_call is None:
        per_call = default_steps_per_execution(int(steps))
    else:
        _check_int("steps_per_execution", per_call)
        per_call = int(per_call)
        if steps % per_call:
            raise DreamError(f"steps_per_execution must divide steps={steps}, so the run "
                             f"has exactly that many steps. "
                             f"Received: steps_per_execution={per_call}")
        reason = _one_step_per_call()
        if per_call > 1 and reason:
            raise DreamError(f"steps_per_execution must be 1 under {reason}. "
                             f"Received: steps_per_execution={per_call}")
    if optimizer is None:
        if learning_rate is None:
            learning_rate = generator_of(model).parameterization.learning_rate
        check_learning_rate(learning_rate)
        optimizer = RowNormalizedSGD(learning_rate=learning_rate, momentum=momentum)
    model.compile(optimizer=optimizer, jit_compile=jit_compile,
                  steps_per_execution=per_call)
    dreams = generator_of(model).num_dreams
    guard = NonFiniteGuard()
    history = model.fit(
        dream_dataset(dreams),
        steps_per_epoch=int(steps),
        epochs=1,
        shuffle=False,
        verbose=verbose,
        callbacks=[guard, *callbacks],
    )
    if guard.failure is not None:
        raise guard.failure
    return history


def check_learning_rate(learning_rate) -> None:
    if not isinstance(learning_rate, (int, float)) or not math.isfinite(learning_rate) \
            or learning_rate <= 0:
        raise DreamError(f"Learning rate must be a positive finite number. "
                         f"Received: learning_rate={learning_rate!r}")


def render(model: keras.Model) -> np.ndarray:
    """The dreams of a dream model (or generator) as uint8 images (N, H, W, C)."""
    return generator_of(model).render()


def visualize(
    objective: Objective,
    base: BaseSpec | str | keras.Model | None = None,
    *,
    steps: int = DEFAULT_STEPS,
    learning_rate: float | None = DEFAULT_LEARNING_RATE,
    **build_kwargs,
) -> np.ndarray:
    """Build, train and render in one call: the three-line way to a dream."""
    model = build_dream_model(objective, base, **build_kwargs)
    train(model, steps, learning_rate=learning_rate)
    return render(model)
