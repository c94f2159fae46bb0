"""Base networks: resolve one, preprocess for it, truncate it, list its layers.

A base is either a `keras.applications` name (`"vgg16"`, `"mobilenet"` with
its `alpha`, ...) or a path to a saved `.keras` / `.h5` model. The default is
the MobileNet alpha=0.25 ImageNet network whose weights ship inside this
package, so everything works on a machine with no network.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras import ops

from kerasdream.errors import DreamError, did_you_mean

PACKAGED_MOBILENET = os.path.join(
    os.path.dirname(__file__), "weights", "mobilenet_2_5_224_tf_no_top.h5"
)


@dataclass(frozen=True)
class Application:
    """How to build one `keras.applications` network without its top."""

    constructor: str
    preprocess: str
    alphas: tuple[float, ...] = ()
    min_size: int = 32


APPLICATIONS: dict[str, Application] = {
    "vgg16": Application("VGG16", "caffe"),
    "vgg19": Application("VGG19", "caffe"),
    "resnet50": Application("ResNet50", "caffe"),
    "resnet50v2": Application("ResNet50V2", "tf"),
    "inceptionv3": Application("InceptionV3", "tf", min_size=75),
    "xception": Application("Xception", "tf", min_size=71),
    "mobilenet": Application("MobileNet", "tf", alphas=(0.25, 0.5, 0.75, 1.0)),
    "mobilenetv2": Application(
        "MobileNetV2", "tf", alphas=(0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
    ),
    "densenet121": Application("DenseNet121", "torch"),
    # EfficientNet and ConvNeXt carry their own rescaling layers.
    "efficientnetb0": Application("EfficientNetB0", "none"),
    "convnext_tiny": Application("ConvNeXtTiny", "none"),
}

from kerasdream.defaults import (  # noqa: E402
    DEFAULT_SIZE,
    PREPROCESS_CHOICES,
    PREPROCESS_MODES,
    PREPROCESS_RANGES,
)


def preprocess_mode(preprocess: str, argument: str = "preprocess") -> str:
    """The preprocessing mode a name stands for: a mode of `PREPROCESS_MODES`
    as it is, an input range (`"[0,1]"`, `"[-1,1]"`, spaces allowed) as the
    mode that feeds it.

    Args:
        preprocess: the name.
        argument: the argument's name in the error message.

    Raises:
        DreamError: for a name that is neither.
    """
    if isinstance(preprocess, str):
        plain = preprocess.replace(" ", "")
        if plain in PREPROCESS_RANGES:
            return PREPROCESS_RANGES[plain]
        if preprocess in PREPROCESS_MODES:
            return preprocess
    raise DreamError(f"Unknown preprocessing mode. Expected one of {list(PREPROCESS_CHOICES)}. "
                     f"Received: {argument}={preprocess!r}")

# The `name` a keras.applications constructor gives its model, by prefix.
_APPLICATION_MODEL_NAMES = {
    "vgg16": "vgg16", "vgg19": "vgg19", "resnet50v2": "resnet50v2", "resnet50": "resnet50",
    "inception_v3": "inceptionv3", "xception": "xception", "mobilenetv2_": "mobilenetv2",
    "mobilenet_": "mobilenet", "densenet121": "densenet121",
    "efficientnetb0": "efficientnetb0", "convnext_tiny": "convnext_tiny",
}


def application_of(model: keras.Model) -> str | None:
    """The `APPLICATIONS` name of an in-memory `keras.applications` model, or None."""
    for prefix, name in _APPLICATION_MODEL_NAMES.items():
        if model.name.lower().startswith(prefix):
            return name
    return None


def preprocess_for_model(model: keras.Model, preprocess: str | None) -> str:
    """The preprocessing mode for an in-memory model: `preprocess` if given,
    else its application's own (a `keras.applications` model), else "none"
    (a model of your own carries its `Rescaling` layers, as a file does)."""
    if preprocess is not None:
        return preprocess_mode(preprocess)
    name = application_of(model)
    return APPLICATIONS[name].preprocess if name else "none"


def display_name(model: keras.Model, spec: BaseSpec | None = None) -> str:
    """The network as users know it: 'mobilenet(alpha=0.25)', 'my_model.keras'."""
    if spec is None:
        return model.name
    if spec.is_file:
        return os.path.basename(spec.model)
    return spec.describe()
from kerasdream.defaults import DEFAULT_MODEL  # noqa: E402
DEFAULT_ALPHA = 0.25


@dataclass(frozen=True)
class BaseSpec:
    """A reference to a base network, small enough to store with every dream.

    Args:
        model: a `keras.applications` name (see `APPLICATIONS`) or a path to
            a `.keras` / `.h5` model file.
        alpha: width multiplier for MobileNet / MobileNetV2.
        weights: `"imagenet"`, `None` (random init) or a local weights file.
        preprocess: one of `PREPROCESS_MODES`, or the input range a model
            was trained on, `"[0,1]"` or `"[-1,1]"` (kept as the mode that
            feeds it); `None` picks the application's own, or `"none"` for a
            model file (0..255 pixels, as its own `Rescaling` /
            `Normalization` layers expect).

    Example:
        ```python
        spec = kd.BaseSpec("my_classifier.keras", preprocess="[0,1]")
        base = kd.load_base(spec)  # every dream of a run shares it
        ```
    """

    model: str = DEFAULT_MODEL
    alpha: float | None = None
    weights: str | None = "imagenet"
    preprocess: str | None = None

    def __post_init__(self):
        if isinstance(self.preprocess, str) and self.preprocess.replace(" ", "") in \
                PREPROCESS_RANGES:  # one name for one mode: records compare equal
            object.__setattr__(self, "preprocess", preprocess_mode(self.preprocess))

    def get_config(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> BaseSpec:
        return cls(**config)

    @property
    def is_file(self) -> bool:
        return self.model.lower() not in APPLICATIONS

    @property
    def preprocess_mode(self) -> str:
        if self.preprocess is not None:
            return self.preprocess
        if self.is_file:
            return "none"
        return APPLICATIONS[self.model.lower()].preprocess

    @property
    def min_size(self) -> int:
        return 1 if self.is_file else APPLICATIONS[self.model.lower()].min_size

    def describe(self) -> str:
        if self.model.lower() in ("mobilenet", "mobilenetv2"):
            return f"{self.model}(alpha={self.resolved_alpha()})"
        return self.model

    def resolved_alpha(self) -> float:
        if self.alpha is not None:
            return float(self.alpha)
        return DEFAULT_ALPHA if self.model.lower() == "mobilenet" else 1.0


def _check_spec(spec: BaseSpec) -> None:
    if spec.preprocess is not None:
        preprocess_mode(spec.preprocess)
    if spec.is_file:
        if not spec.model.endswith((".keras", ".h5", ".hdf5")):
            raise DreamError(
                f"Unknown model. Expected a keras.applications name "
                f"({', '.join(sorted(APPLICATIONS))}) or a path to a .keras/.h5 "
                f"file.{did_you_mean(spec.model, APPLICATIONS)} "
                f"Received: model={spec.model!r}"
            )
        if not os.path.isfile(spec.model):
            raise DreamError(f"Model file not found. Received: model={spec.model!r}")
        if spec.alpha is not None:  # a width is for the applications that build a network
            raise DreamError(f"alpha sets the width of a keras.applications MobileNet; a "
                             f"model file has its own width: drop alpha. Received: "
                             f"alpha={spec.alpha!r}, model={spec.model!r}")
        return
    app = APPLICATIONS[spec.model.lower()]
    if spec.alpha is not None and spec.alpha not in app.alphas:
        valid = list(app.alphas) if app.alphas else "no alpha (only MobileNets take one)"
        raise DreamError(
            f"Unsupported alpha for {spec.model}. Expected one of {valid}. "
            f"Received: alpha={spec.alpha!r}"
        )
    if spec.weights not in (None, "imagenet") and not os.path.isfile(spec.weights):
        raise DreamError(
            "Weights file not found. Expected 'imagenet', None or a path to a "
            f"weights file. Received: weights={spec.weights!r}"
        )


def as_spec(spec: BaseSpec | str | None) -> BaseSpec:
    if spec is None:
        return BaseSpec()
    if isinstance(spec, str):
        return BaseSpec(model=spec)
    if isinstance(spec, dict):
        return BaseSpec.from_config(spec)
    return spec


def _file_stamp(path: str | None) -> tuple | None:
    """(modification time, size) of a file, so the cache sees a rewritten file."""
    if path is None or not os.path.isfile(path):
        return None
    status = os.stat(path)
    return (status.st_mtime_ns, status.st_size)


def load_base(spec: BaseSpec | str | None = None) -> keras.Model:
    """The base network for `spec`, built with an undefined image size
    (a subclassed model: at the size it was built with).

    Loading is cached per process, keyed on the spec and on the modification
    time and size of its files: every dream of a gallery shares one base, and
    a model file rewritten at the same path is loaded again.

    Args:
        spec: a `BaseSpec`, a `keras.applications` name or a model file's
            path; None: the shipped MobileNet (alpha 0.25, ImageNet weights).

    Returns:
        The Keras model: kerasdream's own (cached) copy, so nothing a dream
        does reaches a model you hold. A dream model applies the spec's
        preprocessing in front of it.

    Raises:
        DreamError: an unknown name, a missing or damaged file, a weights
            file that does not fit, or an option the model cannot take.

    Example:
        ```python
        base = kd.load_base("mobilenet")
        base = kd.load_base(kd.BaseSpec("mobilenet_v2", alpha=0.35))
        ```
    """
    spec = as_spec(spec)
    _check_spec(spec)
    model_file = spec.model if spec.is_file else None
    weights_file = spec.weights if spec.weights not in (None, "imagenet") else None
    return _load_base_cached(spec, _file_stamp(model_file), _file_stamp(weights_file))


@functools.lru_cache(maxsize=4)
def _load_base_cached(spec: BaseSpec, model_stamp, weights_stamp) -> keras.Model:
    # kerasdream's own copy: nothing the user holds is this object.
    return _load_file(spec) if spec.is_file else _load_application(spec)


def _load_file(spec: BaseSpec) -> keras.Model:
    model = _read_model_file(spec)
    if spec.weights not in (None, "imagenet"):
        _load_weights(model, spec)
    if getattr(model, "inputs", None) is None:  # subclassed: no layer outputs yet
        model = _traced(model, spec)
    return model


def _read_model_file(spec: BaseSpec) -> keras.Model:
    try:
        model = keras.models.load_model(spec.model, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a bad file.
        subclass = _subclassed_h5(spec.model)
        if subclass:
            raise DreamError(
                f"Keras cannot reload the subclassed model {subclass!r} from a legacy .h5 "
                f"file (it stores no input shape to build it with). Save it with "
                f"model.save('....keras') instead. Received: model={spec.model!r}"
            ) from None
        custom = unregistered_class(error)
        if custom:
            raise DreamError(
                f"The model uses a custom class {custom!r} that Keras does not know: register "
                f"it with @keras.saving.register_keras_serializable() in a module you import "
                f"before loading (from the command line: save the model without custom "
                f"classes). Received: model={spec.model!r}"
            ) from None
        raise DreamError(
            f"Could not load a Keras model from this file ({type(error).__name__}: "
            f"{first_line(error)}). Expected a model saved with model.save(). "
            f"Received: model={spec.model!r}"
        ) from None
    if not isinstance(model, keras.Model):
        raise DreamError(f"The file holds no Keras model. Received: model={spec.model!r}")
    return model


def _subclassed_h5(path: str) -> str | None:
    """The class name of a subclassed model in a legacy .h5 file, else None."""
    import json

    import h5py

    try:
        with h5py.File(path, "r") as file:
            name = json.loads(file.attrs["model_config"]).get("class_name")
    except Exception:  # not HDF5, no model config: not this case
        return None
    return None if name in ("Functional", "Sequential", "Model") else name


_TRACED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def readable(model: keras.Model) -> keras.Model:
    """`model`, or for a subclassed model (no layer outputs to read) a
    functional model over its same layers and weights (see `_traced`),
    traced once per model: each trace adds a call to every inner layer, and
    reading a layer's input before its activation needs it called once."""
    if getattr(model, "inputs", None) is not None:
        return model
    if model not in _TRACED:
        _TRACED[model] = _traced(model, None)
    return _TRACED[model]


def _built_input_shape(model: keras.Model) -> tuple:
    """The input shape a subclassed model was built with: from its build
    config (called on a batch), else the default of its own `build(input_shape=...)`
    (built bare, as mtcnn's networks are), else ()."""
    import inspect

    shape = (model.get_build_config() or {}).get("input_shape")
    if shape is None:
        try:
            parameter = inspect.signature(model.build).parameters.get("input_shape")
        except (TypeError, ValueError):
            parameter = None
        default = getattr(parameter, "default", None)
        if isinstance(default, (tuple, list)) and model.built:
            shape = default
    return tuple(shape or ())


def _traced(model: keras.Model, spec: BaseSpec | None) -> keras.Model:
    """A subclassed model as a functional model over the same layers and weights.

    Running its `call` once on a symbolic input of the size it was built
    with gives every inner layer an output tensor that a dream can read.
    """
    where = f"model={spec.model!r}" if spec is not None else f"model={model.name!r}"
    shape = _built_input_shape(model)
    if len(shape) != 4:
        raise DreamError(
            f"The subclassed model {type(model).__name__} was saved unbuilt or takes "
            f"inputs of shape {shape[1:]}; kerasdream needs (height, width, channels) "
            f"images. Call the model on a batch of images first (and before saving it). "
            f"Received: {where}"
        )
    inputs = keras.Input(shape[1:])
    try:
        return keras.Model(inputs, model.call(inputs), name=model.name)
    except Exception as error:  # whatever the user's call() raises on a symbolic input
        raise DreamError(
            f"Could not trace the subclassed model {type(model).__name__}'s call() into "
            f"Keras layers ({type(error).__name__}: {first_line(error)}). kerasdream "
            f"reads layer outputs: use keras.ops (not tf.* / torch.* / jax.* calls) in "
            f"call(), or save a functional or Sequential model. "
            f"Received: {where}"
        ) from None


def _load_application(spec: BaseSpec) -> keras.Model:
    name = spec.model.lower()
    app = APPLICATIONS[name]
    constructor = getattr(keras.applications, app.constructor)
    kwargs: dict[str, Any] = {"include_top": False, "input_shape": (None, None, 3)}
    if app.alphas:
        kwargs["alpha"] = spec.resolved_alpha()
        # The constructor's own name would say "mobilenet_0.25_None" (no fixed size).
        kwargs["name"] = f"{name}_{spec.resolved_alpha():0.2f}"
    weights = spec.weights
    if name == "mobilenet" and spec.resolved_alpha() == 0.25 and weights == "imagenet":
        # The weights that ship with kerasdream: no download needed.
        weights = PACKAGED_MOBILENET
    local_weights = weights not in (None, "imagenet")
    model = constructor(weights=None if local_weights else weights, **kwargs)
    if local_weights:
        _load_weights(model, dataclasses.replace(spec, weights=weights))
    return model


def _load_weights(model: keras.Model, spec: BaseSpec) -> None:
    try:
        model.load_weights(spec.weights)
    except Exception as error:
        raise DreamError(
            f"The weights file does not fit {spec.describe()} ({type(error).__name__}:"
            f" {first_line(error)}). Received: weights={spec.weights!r}"
        ) from None


def unregistered_class(error: Exception) -> str | None:
    """The class name in Keras' "Could not locate class 'Scale'" error, else None."""
    import re

    found = re.search(r"Could not locate (?:class|function) '([^']+)'", str(error))
    return found.group(1) if found else None


def first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else ""


# ----------------------------------------------------------------- preprocessing


@keras.saving.register_keras_serializable(package="kerasdream")
class Preprocess(keras.layers.Layer):
    """A base network's own input preprocessing, on images in [0, 255].

    Modes follow `keras.applications.imagenet_utils.preprocess_input`:
    `"tf"` (also named `"[-1,1]"`) scales to [-1, 1]; `"caffe"` flips RGB
    to BGR and subtracts the ImageNet mean; `"torch"` scales to [0, 1] and
    standardizes; `"unit"` (also `"[0,1]"`) scales to [0, 1]; `"none"`
    passes pixels through.
    """

    def __init__(self, mode: str = "none", **kwargs):
        super().__init__(**kwargs)
        self.mode = preprocess_mode(mode, "mode")

    def call(self, images):
        if self.mode == "tf":
            return images / 127.5 - 1.0
        if self.mode == "unit":
            return images / 255.0
        if self.mode == "caffe":
            bgr = ops.flip(images, axis=-1)
            return bgr - ops.convert_to_tensor([103.939, 116.779, 123.68], images.dtype)
        if self.mode == "torch":
            mean = ops.convert_to_tensor([0.485, 0.456, 0.406], images.dtype)
            std = ops.convert_to_tensor([0.229, 0.224, 0.225], images.dtype)
            return (images / 255.0 - mean) / std
        return images

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


# -------------------------------------------------------------------- layers


@dataclass(frozen=True)
class LayerInfo:
    """One layer of a base: its path, kind, output shape and channels."""

    path: str
    class_name: str
    output_shape: tuple[int | None, ...]
    channels: int | None
    dreamable: bool


def list_layers(base: keras.Model) -> list[LayerInfo]:
    """Every layer, nested sub-models included (as `outer/inner` paths).

    A layer is dreamable when its output is an image-like `(batch, H, W, C)`
    tensor: a channel objective can maximize one of its C channels.

    Args:
        base: the network (`load_base` gives one).

    Returns:
        A `LayerInfo` (path, class name, output shape, channels, dreamable)
        per layer, in the network's order.

    Example:
        ```python
        for info in kd.list_layers(kd.load_base()):
            if info.dreamable:
                print(info.path, info.channels)
        ```
    """
    infos = []
    for path, layer in _walk(base):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            shape = tuple(layer.output.shape)
        except (AttributeError, ValueError):
            continue
        dreamable = len(shape) == 4
        channels = shape[-1] if len(shape) >= 2 else None
        infos.append(LayerInfo(path, type(layer).__name__, shape, channels, dreamable))
    return infos


def _walk(model: keras.Model, prefix: str = ""):
    for layer in model.layers:
        path = prefix + layer.name
        yield path, layer
        if isinstance(layer, keras.Model):
            yield from _walk(layer, path + "/")


def resolve_layer(base: keras.Model, layer_name: str) -> str:
    """The full `outer/inner` path of `layer_name`, or a clear error.

    A bare name that exists only inside a nested sub-model is found there.
    """
    paths = [path for path, _ in _walk(base)]
    if layer_name in paths:
        return layer_name
    nested = [p for p in paths if p.rsplit("/", 1)[-1] == layer_name]
    if len(nested) == 1:
        return nested[0]
    if len(nested) > 1:
        raise DreamError(
            f"Layer name is ambiguous: it appears in several sub-models: {nested}. "
            f"Use the full path. Received: layer_name={layer_name!r}"
        )
    short = [p.rsplit("/", 1)[-1] for p in paths]
    raise DreamError(
        f"No such layer in {base.name}.{did_you_mean(layer_name, short)} "
        f"Run `kerasdream layers` to list them. Received: layer_name={layer_name!r}"
    )


def get_layer(base: keras.Model, path: str) -> keras.layers.Layer:
    layer = base
    for part in resolve_layer(base, path).split("/"):
        layer = layer.get_layer(part)
    return layer


def layer_channels(base: keras.Model, layer_name: str) -> int:
    """The channel count of a dreamable layer, or a clear error."""
    layer = get_layer(base, layer_name)
    shape = tuple(layer.output.shape)
    if len(shape) != 4:
        raise DreamError(
            f"Layer has no channel axis to dream: its output shape is {shape}, a "
            f"channel objective needs (batch, height, width, channels). Received: "
            f"layer_name={layer_name!r}"
        )
    return int(shape[-1])


def image_input(base: keras.Model):
    """The network's one image input: its only input, or of several the one
    tensor of shape `(batch, height, width, channels)`.

    Raises:
        DreamError: no input of that shape, or several (named in the message).
    """
    inputs = list(base.inputs or [])
    if len(inputs) == 1:
        return inputs[0]
    images = [tensor for tensor in inputs if len(tensor.shape) == 4]
    if len(images) == 1:
        return images[0]
    found = ", ".join(f"{_tensor_name(t)} {tuple(t.shape[1:])}" for t in inputs)
    raise DreamError(
        f"{base.name} has {len(inputs)} inputs and kerasdream needs one image input of "
        f"shape (height, width, channels) to dream through; "
        f"{'several' if images else 'none'} of them {'are' if images else 'is'} one. "
        f"Received: inputs=[{found}]")


def _tensor_name(tensor) -> str:
    name = getattr(tensor, "name", None) or "input"
    return repr(name.split(":")[0])


def input_size(base: keras.Model) -> tuple[int | None, int | None]:
    """The (height, width) the network's image input is fixed at; None for a
    side it takes at any size. The one place that answers "what size does
    this network take" (dreams, strides, photos, transforms).

    Raises:
        DreamError: the network takes no (height, width, channels) images.
    """
    shape = tuple(image_input(base).shape)
    if len(shape) != 4:
        raise DreamError(f"{base.name} takes inputs of shape {shape[1:]}, not images: "
                         f"kerasdream needs a convolutional network with (height, width, "
                         f"channels) inputs.")
    return shape[1], shape[2]


def check_fixed_size(base: keras.Model, image_shape: Sequence[int], network_name: str) -> None:
    """Refuse an image shape a fixed-size network cannot take.

    Raises:
        DreamError: naming the network's shape and the side that differs.
    """
    expected = tuple(image_input(base).shape[1:])
    for got, want, what in zip(image_shape, expected, ("height", "width", "channels")):
        if want is not None and got != want:
            raise DreamError(
                f"{network_name} takes images of shape {expected}, so the dream's {what} "
                f"must be {want}. Received: image_shape={tuple(image_shape)}"
            )


def check_min_size(spec: BaseSpec | None, image_shape: Sequence[int], network_name: str) -> None:
    """Refuse images smaller than a `keras.applications` network takes (its
    `min_size`: 32 px, 75 for InceptionV3, 71 for Xception).

    Raises:
        DreamError: naming the network, its minimum and the size.
    """
    if spec is not None and min(image_shape[:2]) < spec.min_size:
        raise DreamError(f"{network_name} needs images of at least {spec.min_size} pixels. "
                         f"Received: size={tuple(image_shape[:2])}")


def image_shape_for(base: keras.Model, size: int | tuple[int, int] | None,
                    default: int = DEFAULT_SIZE) -> tuple[int, int, int]:
    """The dream image shape: `size`, else the network's own fixed size (else
    `default` for a side it takes at any size), by its channels.

    A `size` the network cannot take is refused where the features are built
    (`network.features.feature_model`), with the size it takes.

    Args:
        base: the network.
        size: an int, a (height, width) pair or None (the network's own).
        default: the side for a network that takes any size.

    Returns:
        (height, width, channels).

    Raises:
        DreamError: a malformed size or a network that takes no images.
    """
    height, width = input_size(base)
    channels = image_input(base).shape[-1]
    if channels is None:
        raise DreamError(f"{base.name} takes inputs of unknown channel count; "
                         f"kerasdream needs (height, width, channels) images.")
    if size is None:
        size = (height or default, width or default)
    if isinstance(size, (str, bytes)) or not isinstance(size, (int, np.integer, Sequence)) \
            or isinstance(size, bool) or (not isinstance(size, (int, np.integer))
                                          and len(size) != 2):
        raise DreamError(f"Image size must be an integer or a (height, width) pair of "
                         f"integers. Received: size={size!r}")
    if isinstance(size, (int, np.integer)):
        size = (int(size), int(size))
    if any(int(s) < 1 for s in size):
        raise DreamError(f"Image size must be positive. Received: size={size!r}")
    return int(size[0]), int(size[1]), int(channels)


def holds_preprocessing(base: keras.Model) -> bool:
    """Whether the network scales its own input: a `Rescaling` or
    `Normalization` layer anywhere inside (nested models too)."""
    kinds = (keras.layers.Rescaling, keras.layers.Normalization)
    return any(isinstance(layer, kinds) for _, layer in _walk(base))


def input_range_note(base: keras.Model, spec: BaseSpec | None) -> str | None:
    """One line that says what a model of the user's own is fed, or None.

    Said for a model file or in-memory model given no `preprocess`, that
    holds no `Rescaling` / `Normalization` layer: it gets pixels of 0..255,
    and a model trained on [0, 1] or [-1, 1] then dreams grey or noise.
    """
    if spec is not None and (spec.preprocess is not None or not spec.is_file):
        return None
    if spec is None and application_of(base) is not None:
        return None
    if holds_preprocessing(base):
        return None
    name = display_name(base, spec)
    return (f"Feeding {name} pixels of 0..255: it holds no Rescaling or Normalization "
            f"layer. If it was trained on another range, say so with --preprocess "
            f"'[0,1]' or '[-1,1]' (or tf, caffe, torch for keras.applications' modes).")


def tell_input_range(spec: BaseSpec, log=print) -> None:
    """Say once (`log`) what a model of the user's own is fed, where it may
    not be what it was trained on (see `input_range_note`)."""
    note = input_range_note(load_base(spec), spec)
    if note:
        log(note)
