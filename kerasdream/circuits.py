"""Circuits: which filters of the layer below feed a filter, read from the weights alone.

Olah et al. ("Zoom In", Distill 2020) explain a unit by the units that feed
it. For a dreamable layer (the atlas' layers: activations, or convolutions
with a built-in activation) `connection(base, layer)` finds the convolution
that makes it and the previous dreamable layer that feeds that convolution,
and gives one signed weight per (input channel, output channel):

- a 1x1 `Conv2D`: the kernel entry `kernel[0, 0, i, j]`;
- a larger `Conv2D`: the L2 norm of the kernel over its window, signed by
  the sign of the window's sum (a mostly excitatory window is positive);
  grouped convolutions connect only inside a group (0 elsewhere);
- a `DepthwiseConv2D`: output channel `i * multiplier + m` sees input
  channel `i` only, so each filter has ONE input, weighted like a larger
  convolution (its window's signed norm); every other entry is 0. (In a
  MobileNet the pointwise layer after it then reads the depthwise layer's
  channels, each a spatially filtered copy of one channel of the block below.)
- a `BatchNormalization` between the convolution and the layer multiplies
  column j by its scale `gamma_j / sqrt(moving_variance_j + epsilon)`; one
  between the previous layer and the convolution multiplies row i by its
  own scale (BN's shifts do not weight a connection and are left out).

Layers passed through on the way: `BatchNormalization`, `ZeroPadding2D`,
`Dropout`/`SpatialDropout2D`, `Identity`. Any other layer in between (an
`Add`, a `Concatenate`, pooling, a nested model) ends the walk: that layer
has no circuit, not a wrong one. Nothing is trained: it costs one pass over
a few weight tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from kerasdream.errors import DreamError
from kerasdream.network.bases import get_layer, list_layers, resolve_layer

TOP = 6
_PASS_THROUGH = (keras.layers.BatchNormalization, keras.layers.ZeroPadding2D,
                 keras.layers.Dropout, keras.layers.SpatialDropout2D, keras.layers.Identity)
_ACTIVATIONS = (keras.layers.ReLU, keras.layers.Activation, keras.layers.LeakyReLU,
                keras.layers.ELU, keras.layers.PReLU)
_CONVOLUTIONS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)


@dataclass(frozen=True)
class Connection:
    """How `source`'s channels feed `layer`'s: `weights[i, j]` from channel i
    of `source` to channel j of `layer` (signed), through `convolution`."""

    layer: str
    source: str
    convolution: str
    kind: str  # "1x1", "window" or "depthwise"
    weights: np.ndarray


def _parent(layer: keras.layers.Layer) -> keras.layers.Layer | None:
    """The one layer feeding `layer`, or None (an input, or several inputs)."""
    nodes = [n for n in layer._inbound_nodes if n.parent_nodes]
    if len(nodes) != 1 or len(nodes[0].parent_nodes) != 1:
        return None
    return nodes[0].parent_nodes[0].operation


def bn_scale(layer: keras.layers.BatchNormalization) -> np.ndarray:
    """`gamma / sqrt(moving_variance + epsilon)` per channel (gamma 1 without `scale`)."""
    variance = keras.ops.convert_to_numpy(layer.moving_variance).astype("float64")
    gamma = (keras.ops.convert_to_numpy(layer.gamma).astype("float64") if layer.scale
             else np.ones_like(variance))
    return gamma / np.sqrt(variance + layer.epsilon)


def _signed_norm(kernel: np.ndarray) -> np.ndarray:
    """(kh, kw, ...) -> (...): the window's L2 norm with the sign of its sum;
    for a 1x1 window exactly the kernel entry."""
    kernel = np.asarray(kernel, "float64")
    if kernel.shape[:2] == (1, 1):
        return kernel[0, 0]
    norm = np.sqrt(np.sum(kernel ** 2, axis=(0, 1)))
    return np.where(np.sum(kernel, axis=(0, 1)) < 0, -norm, norm)


def _kernel_weights(conv: keras.layers.Layer) -> tuple[np.ndarray, str]:
    """(in channels, out channels) signed weights of one convolution, and its kind."""
    if isinstance(conv, keras.layers.DepthwiseConv2D):
        kernel = keras.ops.convert_to_numpy(conv.kernel)  # (kh, kw, C, multiplier)
        channels, multiplier = kernel.shape[2], kernel.shape[3]
        signed = _signed_norm(kernel)  # (C, multiplier)
        weights = np.zeros((channels, channels * multiplier))
        for i in range(channels):
            weights[i, i * multiplier:(i + 1) * multiplier] = signed[i]
        return weights, "depthwise"
    kernel = keras.ops.convert_to_numpy(conv.kernel)  # (kh, kw, C / groups, out)
    signed = _signed_norm(kernel)
    groups = int(getattr(conv, "groups", 1) or 1)
    if groups == 1:
        weights = signed
    else:
        per_in, out = signed.shape
        per_out = out // groups
        weights = np.zeros((per_in * groups, out))
        for g in range(groups):
            columns = slice(g * per_out, (g + 1) * per_out)
            weights[g * per_in:(g + 1) * per_in, columns] = signed[:, columns]
    return weights, "1x1" if kernel.shape[:2] == (1, 1) else "window"


def dreamable_layers(base: keras.Model) -> list[str]:
    """The layers the atlas dreams (`kerasdream.runs.gallery.atlas_layers`)."""
    from kerasdream.network.layers import atlas_layers

    return atlas_layers(base)


def connection(base: keras.Model, layer: str,
               dreamable: set[str] | None = None) -> Connection | None:
    """The weights from the previous dreamable layer to `layer`, or None where
    the walk meets anything but the layers named in the module docstring
    (or `layer` is fed by the image itself).

    Raises:
        DreamError: `layer` is not a layer of `base`.
    """
    path = resolve_layer(base, layer)
    if "/" in path:
        return None  # nested models: their graph is not walked
    if dreamable is None:
        dreamable = set(dreamable_layers(base))
    current = get_layer(base, path)
    columns = None
    # Down from the layer to its convolution: activations and BN.
    for _ in range(8):
        if isinstance(current, _CONVOLUTIONS):
            break
        if isinstance(current, keras.layers.BatchNormalization):
            scale = bn_scale(current)
            columns = scale if columns is None else columns * scale
        elif not isinstance(current, _ACTIVATIONS + _PASS_THROUGH):
            return None
        current = _parent(current)
        if current is None:
            return None
    else:
        return None
    if not isinstance(current, _CONVOLUTIONS) or getattr(current, "data_format",
                                                          "channels_last") != "channels_last":
        return None
    conv = current
    weights, kind = _kernel_weights(conv)
    if columns is not None:
        weights = weights * columns[None, :]
    # Up from the convolution's input to the previous dreamable layer.
    current = _parent(conv)
    for _ in range(8):
        if current is None or isinstance(current, keras.layers.InputLayer):
            return None
        if current.name in dreamable:
            break
        if not isinstance(current, _PASS_THROUGH):
            return None
        if isinstance(current, keras.layers.BatchNormalization):
            weights = weights * bn_scale(current)[:, None]
        current = _parent(current)
    else:
        return None
    return Connection(path, current.name, conv.name, kind, weights.astype("float32"))


def _strongest(row: np.ndarray, top: int) -> list[tuple[int, float]]:
    """The `top` largest |weights| (ties: the lower channel first), zeros left out."""
    order = np.argsort(-np.abs(row), kind="stable")[:top]
    return [(int(k), float(row[k])) for k in order if row[k] != 0]


def layer_circuits(base: keras.Model, layers: list[str] | None = None,
                   top: int = TOP) -> dict[str, dict[int, dict[str, list[dict[str, Any]]]]]:
    """Each filter's strongest `top` inputs (from the previous dreamable layer)
    and outputs (in every dreamable layer that this one feeds), by |weight|:

        {layer: {filter: {"inputs": [{"layer", "filter", "weight"}, ...],
                          "outputs": [...]}}}

    Outputs are ranked over all the next layers together. `layers` defaults
    to every dreamable layer; a layer with no circuit has empty lists.

    Raises:
        DreamError: `top` is not a positive integer, or a layer is unknown.
    """
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise DreamError(f"top must be a positive integer. Received: top={top!r}")
    dreamable = dreamable_layers(base)
    wanted = [resolve_layer(base, name) for name in (layers or dreamable)]
    connections = [c for c in (connection(base, name, set(dreamable)) for name in dreamable)
                   if c is not None]
    channels = {info.path: info.channels for info in list_layers(base)}
    result = {}
    for name in wanted:
        count = int(channels.get(name) or 0)
        into = next((c for c in connections if c.layer == name), None)
        out_of = [c for c in connections if c.source == name]
        entries = {}
        for k in range(count):
            inputs = [] if into is None else [
                {"layer": into.source, "filter": i, "weight": round(w, 6)}
                for i, w in _strongest(into.weights[:, k], top)]
            outputs = []
            if out_of:
                row = np.concatenate([c.weights[k] for c in out_of])
                owners = [(c.layer, j) for c in out_of for j in range(c.weights.shape[1])]
                outputs = [{"layer": owners[i][0], "filter": owners[i][1], "weight": round(w, 6)}
                           for i, w in _strongest(row, top)]
            entries[k] = {"inputs": inputs, "outputs": outputs}
        result[name] = entries
    return result
