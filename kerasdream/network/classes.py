"""A classifier's classes: the layer that scores them, their names, a choice of them.

`class_layer` finds the network's class scores (its softmax output, read
before the softmax as logits); `class_names` names them from a labels file
(one name a line, or JSON) or, for a 1000-class network, from the ImageNet
class index in Keras' cache (the file `keras.applications`'
`decode_predictions` reads; never downloaded);
`parse_classes` turns "0-9", "3,5" or "tabby, goldfish" into class indices.
"""

from __future__ import annotations

import json
import os

import keras

from kerasdream.defaults import DEFAULT_FILTERS
from kerasdream.errors import DreamError, did_you_mean
from kerasdream.network.bases import first_line, get_layer, resolve_layer

IMAGENET_CLASSES = 1000


def is_softmax(layer: keras.layers.Layer) -> bool:
    """Whether the layer ends in a softmax (an `Activation("softmax")`, a
    `Softmax` layer or a layer built with `activation="softmax"`)."""
    if isinstance(layer, keras.layers.Softmax):
        return True
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) == "softmax"


def _output_layers(base: keras.Model) -> list[keras.layers.Layer]:
    layers = []
    for tensor in base.outputs:
        history = getattr(tensor, "_keras_history", None)
        if history is not None:
            layers.append(history[0])
    return layers


def class_layer(base: keras.Model, any_output: bool = False) -> str:
    """The layer whose pre-activation holds the class scores (logits).

    The network's output layer; of several outputs, the one softmax
    (mtcnn's face / not-face head beside its box regression). A `ClassLogit`
    reads it before its activation.

    Args:
        base: the network.
        any_output: take a single output of any shape (`ClassLogit` with no
            layer: the network's output, whatever it is); else it must be a
            softmax or of shape (batch, classes).

    Returns:
        The layer's path, for `ClassLogit(k, layer)` (read before its activation).

    Example:
        ```python
        layer = kd.class_layer(kd.load_base("emotions.h5"))  # "predictions"
        ```

    Raises:
        DreamError: no output gives class scores (a network without its top:
            features of shape (batch, height, width, channels) and no
            softmax), or several softmax outputs; the message names them.
    """
    outputs = _output_layers(base)
    softmax = [layer for layer in outputs if is_softmax(layer)]
    if len(softmax) == 1:
        return resolve_layer(base, softmax[0].name)
    if len(outputs) == 1 and (any_output or len(outputs[0].output.shape) == 2):
        return resolve_layer(base, outputs[0].name)
    found = ", ".join(f"{layer.name!r} {tuple(layer.output.shape[1:])}" for layer in outputs)
    why = ("several of them are softmax outputs" if softmax else
           "none is a softmax or a (batch, classes) output: a network without its "
           "classifier top has no classes to dream")
    raise DreamError(f"Cannot tell which output of {base.name} scores the classes: {why}. "
                     f"Name the layer with --layer (layer= in Python). "
                     f"Received: outputs=[{found}]")


def class_count(base: keras.Model, layer: str) -> int:
    """How many classes `layer` scores: its last axis."""
    shape = tuple(get_layer(base, layer).output.shape)
    if shape[-1] is None:
        raise DreamError(f"Layer {layer!r} has no fixed number of classes: its output is "
                         f"{shape}. Received: layer_name={layer!r}")
    return int(shape[-1])


def read_labels(path: str) -> list[str]:
    """Class names from a file: one name a line (blank lines at the end
    ignored), or JSON: a list of names, a {"index": name} object, or Keras'
    ImageNet index ({"0": ["n01440764", "tench"], ...}).

    Raises:
        DreamError: a missing or unreadable file, or JSON of another shape.
    """
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as error:
        raise DreamError(f"Cannot read the labels file ({type(error).__name__}: "
                         f"{first_line(error)}). Received: labels={path!r}") from None
    if path.lower().endswith(".json") or text.lstrip()[:1] in ("[", "{"):
        try:
            data = json.loads(text)
        except ValueError as error:
            raise DreamError(f"The labels file is not valid JSON ({first_line(error)}). "
                             f"Received: labels={path!r}") from None
        return _names_from_json(data, path)
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _names_from_json(data, path: str) -> list[str]:
    if isinstance(data, list) and all(isinstance(name, str) for name in data):
        return list(data)
    if isinstance(data, dict):
        try:
            indexed = {int(key): value for key, value in data.items()}
        except ValueError:
            indexed = None
        if indexed is not None and sorted(indexed) == list(range(len(indexed))):
            names = [indexed[i] for i in range(len(indexed))]
            names = [n[-1] if isinstance(n, list) and n else n for n in names]
            if all(isinstance(name, str) for name in names):
                return names
    raise DreamError(f"The labels file holds JSON of another shape. Expected a list of "
                     f"names or an object from class index (0, 1, ...) to name. "
                     f"Received: labels={path!r}")


def imagenet_names(count: int = IMAGENET_CLASSES) -> list[str] | None:
    """ImageNet's class names from Keras' cached `imagenet_class_index.json`
    (`$KERAS_HOME/models`, else `~/.keras/models`) for a classifier of 1000
    classes; None for another count or where it is not cached (never downloaded)."""
    if count != IMAGENET_CLASSES:
        return None
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "models", "imagenet_class_index.json"),
                  encoding="utf-8") as file:
            index = json.load(file)
        return [str(index[str(i)][1]) for i in range(IMAGENET_CLASSES)]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def class_names(base: keras.Model, layer: str, labels: str | None = None) -> list[str] | None:
    """The names of `layer`'s classes, or None where there are none to be had.

    Args:
        base: the network.
        layer: the class layer (see `class_layer`).
        labels: a labels file (see `read_labels`); without one a 1000-class
            layer gets the ImageNet names.

    Returns:
        One name per class, in class order, or None.

    Raises:
        DreamError: a labels file with another number of names than classes.

    Example:
        ```python
        base = kd.load_base("emotions.h5")
        names = kd.class_names(base, kd.class_layer(base), "labels.txt")
        ```
    """
    count = class_count(base, layer)
    if labels is not None:
        names = read_labels(labels)
        if len(names) != count:
            raise DreamError(f"The labels file names {len(names)} classes but layer {layer!r} "
                             f"scores {count}. Received: labels={labels!r}")
        return names
    return imagenet_names(count)


def _plain(name: str) -> str:
    return " ".join(name.lower().replace("_", " ").replace("-", " ").split())


def parse_classes(text: str | None, count: int, names: list[str] | None = None) -> list[int]:
    """Class indices from "0-9", "3,5", "all", names ("tabby, golden retriever";
    case, spaces and underscores do not matter) or a mix; None: every class,
    or the first 16 of more.

    Raises:
        DreamError: an unknown name (with the nearest ones), a name with no
            names known, or an index out of range.
    """
    from kerasdream.runs.settings import parse_filters

    if text is None:
        return list(range(min(count, DEFAULT_FILTERS)))
    by_name = {_plain(name): i for i, name in reversed(list(enumerate(names or [])))}
    chosen: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part == "all" or part[0].isdigit():
            try:
                chosen.extend(parse_filters(part, count))
            except DreamError as error:
                raise DreamError(str(error).replace("Filter", "Class").replace(
                    "filter", "class").replace("channels", "classes").replace(
                    "filters=", "classes=")) from None
            continue
        if names is None:
            raise DreamError(f"Classes by name need their names: this network's {count} "
                             f"classes have none. Pass a labels file (--labels, one name a "
                             f"line, or JSON), or classes by number (0-{count - 1}). "
                             f"Received: classes={part!r}")
        if _plain(part) not in by_name:
            raise DreamError(f"No class named {part!r}.{did_you_mean(part, names)} "
                             f"Received: classes={part!r}")
        chosen.append(by_name[_plain(part)])
    if not chosen:
        raise DreamError(f"No classes chosen. Expected numbers such as '0-9' or names. "
                         f"Received: classes={text!r}")
    return list(dict.fromkeys(chosen))


def class_indices(model, classes: str | None = None, labels: str | None = None,
                  layer: str | None = None) -> list[int]:
    """The class numbers for `ClassLogit`, chosen as on the command line.

    Args:
        model: a Keras model, a `BaseSpec`, an application name or a model file.
        classes: "0-9", "3,5", "all", names ("tabby, goldfish") or a mix;
            None: every class, or the first 16 of more.
        labels: a labels file (one name a line, or JSON); without one a
            1000-class network gets ImageNet's names from Keras' cache.
        layer: the class layer (default: found by `class_layer`).

    Returns:
        The class indices, in the order asked for.

    Raises:
        DreamError: an unknown class, a network with no class layer, or a
            labels file that does not fit.

    Example:
        ```python
        wanted = kd.class_indices("emotions.h5", "happy, sad", labels="labels.txt")
        images = kd.visualize(kd.ClassLogit(wanted), kd.BaseSpec("emotions.h5", preprocess="[-1,1]"))
        ```
    """
    from kerasdream.network.bases import as_spec, load_base, readable

    base = readable(model) if isinstance(model, keras.Model) else load_base(as_spec(model))
    layer = resolve_layer(base, layer) if layer else class_layer(base)
    return parse_classes(classes, class_count(base, layer), class_names(base, layer, labels))
