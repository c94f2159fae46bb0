"""Sampling activation vectors, and the attribution of a tiny classifier, by hand."""

import keras
import numpy as np
import pytest
from PIL import Image

from kerasdream.activation_atlas.dreams import cell_classes, direction_hash, top_filters
from kerasdream.activation_atlas.layout import Cell
from kerasdream.activation_atlas.vectors import class_output, positions_for, sample_vectors
from kerasdream.errors import DreamError

from conftest import colour_picker


def _photos(folder, count=3):
    folder.mkdir()
    for i in range(count):
        image = np.zeros((8, 8, 3), "uint8")
        image[..., i % 3] = 40 * (i + 1)
        image[:4, :, 0] = 10 * i
        Image.fromarray(image).save(folder / f"p{i}.png")
    (folder / "broken.png").write_bytes(b"not a png")
    return folder


def test_positions_are_distinct_and_do_not_depend_on_the_batch():
    first = positions_for(5, 0, (4, 4), 6)
    assert len({tuple(p) for p in first}) == 6 and first.max() < 4
    np.testing.assert_array_equal(first, positions_for(5, 0, (4, 4), 6))
    assert len(positions_for(5, 0, (2, 2), 9)) == 4  # every cell when there are fewer


def test_vectors_are_the_layer_at_the_sampled_positions(tmp_path):
    model = colour_picker(size=8)
    folder = _photos(tmp_path / "photos")
    samples = sample_vectors(model, "pick", str(folder), (8, 8, 3), "none", per_image=5,
                             seed=1, batch=2)
    assert samples.read == 3 and samples.unreadable == ["broken.png"]
    assert samples.vectors.shape == (15, 4) and samples.grid == (8, 8)
    assert samples.classes is None and samples.attributions is None  # no class output
    names = samples.names
    for vector, image, (row, column) in zip(samples.vectors, samples.image, samples.position):
        pixel = np.asarray(Image.open(folder / names[image]), "float32")[row, column]
        r, g, b = pixel
        np.testing.assert_allclose(vector, [r, g, b, r - b])
    with pytest.raises(DreamError, match="Received: per_image=0"):
        sample_vectors(model, "pick", str(folder), (8, 8, 3), "none", per_image=0)


def _classifier():
    """colour picker -> global mean -> Dense(3, softmax): logits = mean_p a_p . W."""
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(2, 1, use_bias=False, name="pick")
    x = conv(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    dense = keras.layers.Dense(3, activation="softmax", use_bias=False, name="classes")
    model = keras.Model(inputs, dense(x))
    conv.set_weights([np.array([[1, 0], [0, 1], [0, 0]], "float32").reshape(1, 1, 3, 2)])
    dense.set_weights([np.array([[1.0, -1.0, 0.5], [0.0, 2.0, -3.0]], "float32")])
    return model, np.array([[1.0, -1.0, 0.5], [0.0, 2.0, -3.0]])


def test_classifier_attribution_is_activation_times_logit_gradient(tmp_path):
    model, weights = _classifier()
    assert class_output(model) == "classes:pre"
    folder = _photos(tmp_path / "photos")
    samples = sample_vectors(model, "pick", str(folder), (8, 8, 3), "none", per_image=4, top=2)
    assert samples.classes.shape == (12, 2) and samples.attributions.shape == (12, 2)
    # d logit_c / d a_p = W[:, c] / 64 (the mean over 8 x 8 positions).
    for vector, image, classes, attribution in zip(samples.vectors, samples.image,
                                                   samples.classes, samples.attributions):
        photo = np.asarray(Image.open(folder / samples.names[image]), "float32")
        logits = photo[..., :2].mean(axis=(0, 1)) @ weights
        assert list(classes) == list(np.argsort(-logits, kind="stable")[:2])
        np.testing.assert_allclose(attribution, vector @ weights[:, classes] / 64, rtol=1e-5,
                                   atol=1e-6)


def test_cell_classes_top_filters_and_hash_by_hand():
    cells = [Cell(0, 0, (0, 1)), Cell(0, 1, (2,))]
    classes = np.array([[4, 7], [7, 2], [2, 4]])
    attributions = np.array([[1.0, 3.0], [2.0, -1.0], [0.5, 0.25]])
    # Cell 0: class 7 gets 3 + 2 = 5, class 4 gets 1, class 2 gets -1; per point: /2.
    assert cell_classes(cells, classes, attributions, top=2) == [
        [{"class": 7, "attribution": 2.5}, {"class": 4, "attribution": 0.5}],
        [{"class": 2, "attribution": 0.5}, {"class": 4, "attribution": 0.25}]]
    assert cell_classes(cells, None, None) == [None, None]
    assert top_filters(np.array([0.5, 3.0, -1.0, 3.0]), top=3) == [
        {"filter": 1, "value": 3.0}, {"filter": 3, "value": 3.0}, {"filter": 0, "value": 0.5}]
    assert direction_hash(np.ones(3)) == direction_hash(np.ones(3, "float64"))
    assert direction_hash(np.ones(3)) != direction_hash(np.array([1.0, 1.0, 1.0001]))
