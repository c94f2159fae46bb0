"""Layer facts for choosing what to dream: strides, atlas and default layers."""

from __future__ import annotations

import functools

import keras

from kerasdream.defaults import depth_defaults
from kerasdream.errors import DreamError
from kerasdream.network.bases import get_layer, image_shape_for, list_layers, resolve_layer
from kerasdream.network.activations import split_pre
from kerasdream.network.features import feature_model


@functools.lru_cache(maxsize=64)
def layer_stride(base: keras.Model, layer: str) -> int:
    """Pixels of the input between neighbouring units of `layer` (its total stride).

    Cached: every chunk of a layer asks again, and the answer needs a model built.

    Args:
        base: The network.
        layer: A layer path, optionally with the `":pre"` suffix.

    Returns:
        The stride in input pixels, at least 1.
    """
    path = split_pre(layer)[0]
    image_shape = image_shape_for(base, None)
    size = image_shape[:2]
    probe = feature_model(base, [path], image_shape)
    shape = probe.compute_output_spec(keras.KerasTensor((1, *image_shape)))
    spatial = tuple(shape[path].shape)
    return max(1, size[0] // spatial[1]) if len(spatial) == 4 and spatial[1] else 1


def layer_defaults(base: keras.Model, layer: str) -> tuple[float, float]:
    """`(share of the selectivity, learning rate)` a dream of `layer` gets
    by default: `defaults.DEPTH_DEFAULTS` at the layer's `layer_stride`.

    The command line (`runs.settings`), `objectives.gallery_objective` and
    `DreamModel.compile` all read depth from here.
    """
    return depth_defaults(layer_stride(base, layer))


def atlas_layers(base: keras.Model) -> list[str]:
    """The layers worth dreaming, in order: those with 4-D outputs that apply
    a non-linearity (ReLU / activation layers, or convs with a built-in
    activation), or every 4-D layer of a network with none of those.

    Raises:
        DreamError: when `base` has no layer with a 4-D output.
    """
    infos = [info for info in list_layers(base) if info.dreamable]
    activations = [i.path for i in infos if _is_activation(base, i.path)]
    candidates = activations or [i.path for i in infos]
    if not candidates:
        raise DreamError(f"{base.name} has no layer with (batch, height, width, channels) "
                         f"output to dream.")
    return candidates


def _after_depthwise(base: keras.Model, path: str) -> bool:
    """Whether `path` is the activation of a depthwise conv (through any BN).

    Each of its channels sees one input channel, so its dreams are flat
    colours: not what a gallery should show of a layer's depth.
    """
    layer = get_layer(base, path)
    for _ in range(3):
        nodes = [n for n in layer._inbound_nodes if n.parent_nodes]
        if len(nodes) != 1 or len(nodes[0].parent_nodes) != 1:
            return False
        layer = nodes[0].parent_nodes[0].operation
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            return True
        if not isinstance(layer, (keras.layers.BatchNormalization, keras.layers.ReLU,
                                  keras.layers.Activation)):
            return False
    return False


def default_layers(base: keras.Model) -> list[str]:
    """A shallow, a middle and a deep layer worth dreaming, for any network:
    the `atlas_layers` (but activations of depthwise convs) at about 20 %,
    55 % and 90 % of the network's depth."""
    candidates = atlas_layers(base)
    candidates = [p for p in candidates if not _after_depthwise(base, p)] or candidates
    picks = [candidates[min(int(f * len(candidates)), len(candidates) - 1)]
             for f in (0.2, 0.55, 0.9)]
    return list(dict.fromkeys(picks))


# Layers that are an activation of their own (mtcnn's networks use PReLU).
_ACTIVATION_LAYERS = (keras.layers.ReLU, keras.layers.Activation, keras.layers.PReLU,
                      keras.layers.LeakyReLU, keras.layers.ELU)


def _is_activation(base: keras.Model, path: str) -> bool:
    layer = get_layer(base, path)
    if isinstance(layer, _ACTIVATION_LAYERS):
        return True
    activation = getattr(layer, "activation", None)
    return activation is not None and getattr(activation, "__name__", "") != "linear"


# The path check (`evaluation.path`) reads this many layers below a target.
PATH_LAYERS = 3


def _ancestors(base: keras.Model, path: str) -> set[str]:
    """The names of every layer that feeds `path`, directly or not."""
    seen: set[str] = set()
    stack = [get_layer(base, path)]
    while stack:
        layer = stack.pop()
        for node in layer._inbound_nodes:
            for parent in node.parent_nodes:
                operation = parent.operation
                if operation.name not in seen:
                    seen.add(operation.name)
                    stack.append(operation)
    return seen


@functools.lru_cache(maxsize=64)
def path_layers(base: keras.Model, layer: str, count: int = PATH_LAYERS) -> tuple[str, ...]:
    """The layers below `layer` whose activations the path check compares
    with natural photos': `count` of the `atlas_layers` that feed it (but
    activations of depthwise convs), evenly spread from the input up to the
    one just below it, shallow first.

    Args:
        base: The network.
        layer: The target layer, optionally with the `":pre"` suffix.
        count: How many layers at most.

    Returns:
        Layer paths; fewer than `count` (or none, for the first layer) when
        fewer feed `layer`. Cached, as `layer_stride`.
    """
    path = resolve_layer(base, split_pre(layer)[0])
    feeding = _ancestors(base, path)
    candidates = [p for p in atlas_layers(base)
                  if p != path and p.rsplit("/", 1)[-1] in feeding]
    candidates = [p for p in candidates if not _after_depthwise(base, p)] or candidates
    if len(candidates) <= count:
        return tuple(candidates)
    return tuple(candidates[round((i + 1) * len(candidates) / count) - 1] for i in range(count))
