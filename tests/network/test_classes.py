"""A classifier's classes: the layer of class scores, names from a labels file
or Keras' ImageNet index, and classes chosen by number or by name."""

import json
import os

import keras
import numpy as np
import pytest

import kerasdream as kd
from kerasdream.network.classes import (
    class_count,
    class_layer,
    class_names,
    imagenet_names,
    parse_classes,
    read_labels,
)

NAMES = ["cat", "dog", "golden retriever"]


def grey_classifier(classes=3, size=8, head="activation"):
    """conv -> pool -> Dense logits -> a separate softmax (mini-XCEPTION's
    head), or a Dense with a built-in softmax."""
    inputs = keras.Input((size, size, 1))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if head == "activation":
        x = keras.layers.Dense(classes, name="logits")(x)
        x = keras.layers.Activation("softmax", name="predictions")(x)
    else:
        x = keras.layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name="grey")


def test_the_class_layer_is_the_softmax_output_and_its_pre_activation_the_logits():
    for head in ("activation", "dense"):
        model = grey_classifier(head=head)
        assert class_layer(model) == "predictions"
        assert class_count(model, "predictions") == 3


def test_of_several_outputs_the_one_softmax_scores_the_classes():
    """mtcnn's shape: a box regression beside a face / not-face softmax."""
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    boxes = keras.layers.Conv2D(4, 1, name="boxes")(x)
    face = keras.layers.Conv2D(2, 1, activation="softmax", name="face")(x)
    model = keras.Model(inputs, [boxes, face], name="pnet_like")
    assert class_layer(model) == "face"
    twice = keras.Model(inputs, [face, keras.layers.Softmax(name="again")(boxes)], name="two")
    with pytest.raises(kd.DreamError, match=r"several of them are softmax outputs.*"
                                            r"Received: outputs=\['face'"):
        class_layer(twice)


def test_a_network_without_its_top_has_no_classes_and_says_so():
    base = kd.load_base("mobilenet")
    with pytest.raises(kd.DreamError, match=r"without its classifier top.*--layer.*"
                                            r"Received: outputs=\['conv_pw_13_relu'"):
        class_layer(base)


def test_labels_from_a_text_file_and_from_json_of_each_shape(tmp_path):
    text = tmp_path / "labels.txt"
    text.write_text("cat\ndog\ngolden retriever\n\n")
    listed = tmp_path / "labels.json"
    listed.write_text(json.dumps(NAMES))
    by_index = tmp_path / "by_index.json"
    by_index.write_text(json.dumps({"2": "golden retriever", "0": "cat", "1": "dog"}))
    keras_style = tmp_path / "keras_index.json"
    keras_style.write_text(json.dumps({"0": ["n1", "cat"], "1": ["n2", "dog"],
                                       "2": ["n3", "golden retriever"]}))
    for path in (text, listed, by_index, keras_style):
        assert read_labels(str(path)) == NAMES, path.name
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"cat": 0}))
    with pytest.raises(kd.DreamError, match=r"another shape.*labels='.*bad\.json'"):
        read_labels(str(bad))
    with pytest.raises(kd.DreamError, match=r"Cannot read the labels file.*missing\.txt'"):
        read_labels(str(tmp_path / "missing.txt"))


def test_a_labels_file_must_name_every_class(tmp_path):
    path = tmp_path / "two.txt"
    path.write_text("cat\ndog\n")
    with pytest.raises(kd.DreamError, match=r"names 2 classes but layer 'predictions' "
                                            r"scores 3\. Received: labels="):
        class_names(grey_classifier(), "predictions", str(path))
    assert class_names(grey_classifier(), "predictions") is None  # no names: numbers


def test_imagenet_names_come_from_keras_cache_for_1000_classes_only():
    names = imagenet_names()
    assert os.path.isfile(os.path.join(os.environ["KERAS_HOME"], "models",
                                       "imagenet_class_index.json"))
    assert len(names) == 1000 and names[0] == "tench" and names[281] == "tabby"
    assert imagenet_names(10) is None
    model = grey_classifier(classes=1000)
    assert class_names(model, "predictions")[1] == "goldfish"


def test_classes_by_number_by_name_and_mixed():
    assert parse_classes("0-1", 3, NAMES) == [0, 1]
    assert parse_classes("Golden_Retriever, cat", 3, NAMES) == [2, 0]
    assert parse_classes("2, dog, 2", 3, NAMES) == [2, 1]
    assert parse_classes("all", 3) == [0, 1, 2]
    assert parse_classes(None, 3) == [0, 1, 2]
    assert parse_classes(None, 1000) == list(range(16))


def test_a_bad_class_choice_names_the_value_and_what_would_do():
    with pytest.raises(kd.DreamError, match=r"No class named 'dgo'\. Did you mean: 'dog'\?"
                                            r" Received: classes='dgo'"):
        parse_classes("dgo", 3, NAMES)
    with pytest.raises(kd.DreamError, match=r"Pass a labels file.*\(0-2\)\. "
                                            r"Received: classes='cat'"):
        parse_classes("cat", 3, None)
    with pytest.raises(kd.DreamError, match=r"Class out of range.*3 classes \(0-2\)"):
        parse_classes("1-3", 3, NAMES)


def test_class_logit_with_no_layer_reads_the_softmax_output_of_several_before_its_softmax():
    """The default layer is found as the CLI finds it: of a box regression and
    a face / not-face softmax (the box head built last), the softmax's logits, by hand."""
    inputs = keras.Input((4, 4, 1))
    conv = keras.layers.Conv2D(2, 3, padding="same", name="conv")
    face = keras.layers.Conv2D(2, 1, activation="softmax", name="face")
    boxes = keras.layers.Conv2D(4, 1, name="boxes")
    x = conv(inputs)
    model = keras.Model(inputs, [face(x), boxes(x)], name="pnet_like")
    assert model.layers[-1].name == "boxes"
    conv.set_weights([np.zeros((3, 3, 1, 2), "float32"), np.array([1.0, 2.0], "float32")])
    face.set_weights([np.eye(2, dtype="float32")[None, None] * 3.0,
                      np.array([0.5, -1.0], "float32")])
    dream = kd.DreamModel(kd.ClassLogit([0, 1]), model, transforms=None)
    # A zero conv kernel: every image gives (1, 2) everywhere, so logits (3.5, 5.0).
    values = keras.ops.convert_to_numpy(dream(np.eye(2, dtype="float32")))
    np.testing.assert_allclose(values, [3.5, 5.0], rtol=1e-5)
