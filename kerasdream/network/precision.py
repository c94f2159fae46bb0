"""Reduced-precision copies of the network, and where `auto` picks them.

A dream trains only its kernel, so the network is pure compute: on a CPU
with AMX / AVX-512 bf16 and on recent GPUs it runs several times faster in
bfloat16 when it is large (VGG16 `block5_conv3`: 4.4x per step here) and
slower when it is small (the shipped MobileNet-0.25: 0.6x). The kernel, the
optimizer's update and the objective's sum stay in float32: only the
network's layers compute in the reduced type (Keras' `mixed_*` policies:
float32 variables, reduced-precision maths).

The user's model is never changed: `reduced_copy` clones the layers the
dream reads, each from its config with the mixed policy, and copies their
weights. A layer that cannot be rebuilt from its config is shared as it is,
and computes in its own precision.
"""

from __future__ import annotations

import functools
import weakref

import keras
import numpy as np

from kerasdream.errors import DreamError

from kerasdream.defaults import DEFAULT_PRECISION, PRECISIONS  # noqa: E402
# `auto` takes bfloat16 for networks of at least this many multiply-adds per
# image at the dream's size: VGG16 block5_conv3 at 128 px has 5.0e9 (4.4x
# faster in bfloat16 here) and ResNet50 conv4_block6_out 1.3e9 (1.5x); the
# shipped MobileNet-0.25 conv_pw_8_relu has 1.2e7 (0.6x: slower).
AUTO_MIN_MACS = 5e8


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise DreamError(f"Unknown precision. Expected one of {list(PRECISIONS)}. "
                         f"Received: precision={precision!r}")
    return precision


@functools.lru_cache(maxsize=1)
def device_bfloat16() -> str | None:
    """Where bfloat16 is fast here: `"gpu"` (compute capability >= 8), `"cpu"`
    (AMX or AVX-512 bf16 instructions), or None."""
    if _gpu_compute_capability() >= (8, 0):
        return "gpu"
    if _gpu_compute_capability() > (0, 0):
        return None  # an older GPU computes the network; its CPU does not matter
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            flags = set(file.read().split())
    except OSError:
        return None
    return "cpu" if flags & {"amx_bf16", "avx512_bf16"} else None


def _gpu_compute_capability() -> tuple[int, int]:
    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if not gpus:
                return (0, 0)
            details = tf.config.experimental.get_device_details(gpus[0])
            return tuple(details.get("compute_capability") or (7, 0))
        if backend == "torch":
            import torch

            return torch.cuda.get_device_capability() if torch.cuda.is_available() else (0, 0)
        if backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform != "gpu":
                return (0, 0)
            return tuple(int(d) for d in str(device.compute_capability).split("."))
    except Exception:  # a device query must never stop a dream
        return (0, 0)
    return (0, 0)


def multiply_adds(model: keras.Model, image_shape) -> int:
    """Multiply-adds of one image through `model`'s convolutions and Dense
    layers at `image_shape` (a symbolic pass: nothing is computed)."""
    layers = [layer for layer in model._flatten_layers(include_self=False)
              if getattr(layer, "kernel", None) is not None and not isinstance(layer, keras.Model)
              and layer._inbound_nodes]
    if not layers:
        return 0
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    try:
        probe = keras.Model(inputs, [layer.output for layer in layers])
        specs = probe.compute_output_spec(keras.KerasTensor((1, *image_shape)))
    except Exception:  # nested or shared layers: count one position per layer
        specs = [keras.KerasTensor((1, 1)) for _ in layers]
    total = 0
    for layer, spec in zip(layers, specs):
        kernel = int(np.prod(layer.kernel.shape))
        positions = int(np.prod([d or 1 for d in spec.shape[1:-1]])) if len(spec.shape) > 2 else 1
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv1D, keras.layers.Conv3D,
                              keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)):
            total += kernel * positions
        else:
            total += kernel
    return total


def resolve(precision: str, features: keras.Model | None, image_shape) -> str:
    """The precision a dream computes in: `precision`, or what `auto` picks."""
    check_precision(precision)
    if precision != "auto":
        return precision
    if features is None or device_bfloat16() is None:
        return "float32"
    return "bfloat16" if multiply_adds(features, image_shape) >= AUTO_MIN_MACS else "float32"


def reduced_copy(model: keras.Model, precision: str) -> keras.Model:
    """`model` with its layers computing in `precision` ("bfloat16" / "float16").

    New layers from the originals' configs with the `mixed_<precision>`
    policy (float32 weights, copied), on a new graph: `model` and its layers
    keep their policies and weights. Outputs come out in `precision`.
    """
    policy = keras.DTypePolicy(f"mixed_{precision}")
    pairs = []

    def clone(layer):
        if isinstance(layer, keras.Model):
            return keras.models.clone_model(layer, clone_function=clone)
        if not isinstance(layer, keras.layers.Layer) or isinstance(layer, keras.layers.InputLayer):
            return layer
        try:
            new = type(layer).from_config({**layer.get_config(), "dtype": policy})
        except Exception:  # cannot be rebuilt: share it, in its own precision
            return layer
        pairs.append((layer, new))
        return new

    copy = keras.models.clone_model(model, clone_function=clone)
    for old, new in pairs:
        new.set_weights(old.get_weights())
        new.trainable = False
        # A copy: `features.sync_twins` refreshes it when the network trains on.
        new._kerasdream_source = weakref.ref(old)
    return copy
