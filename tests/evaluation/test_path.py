"""The path check on a network with a planted shortcut (Geirhos et al. 2024).

`shortcut_net` reads 16 x 16 pictures in [0, 1] ("unit" preprocessing). Its
`early` layer (2 x 2 kernels, stride 2, then a ReLU) has six channels:
0-2 the mean red, green and blue; 3 the darkness 1 - mean grey; 4 a
left-minus-right edge of the grey; 5 the SHORTCUT, a 2 x 2 checkerboard of
the grey minus 0.5, which smooth natural pictures leave at 0. The target
`unit` is red + 10 x shortcut. Natural pictures drive the unit through red;
a one-pixel checkerboard drives it through the shortcut, far harder.

By hand, for the checkerboard (white where x + y is even):
early = [0.5, 0.5, 0.5, 0.5, 0, 1.5] (each 2 x 2 cell holds two white and two
black pixels; the checker tap reads 2 - 0 - 0.5) and unit = 0.5 + 15 = 15.5;
for solid red: early = [1, 0, 0, 2/3, 0, 0] and unit = 1.
"""

import keras
import numpy as np
import pytest

from kerasdream import evaluation as ev
from kerasdream.evaluation import path
from kerasdream.network.layers import path_layers

SIZE = 16


def shortcut_net(size=SIZE):
    inputs = keras.Input((size, size, 3))
    early = keras.layers.Conv2D(6, 2, strides=2, name="early")
    x = keras.layers.ReLU(name="early_relu")(early(inputs))
    unit = keras.layers.Conv2D(1, 1, use_bias=False, name="unit")
    outputs = keras.layers.ReLU(name="unit_relu")(unit(x))
    model = keras.Model(inputs, outputs, name="shortcut_net")
    kernel = np.zeros((2, 2, 3, 6), "float32")
    bias = np.zeros(6, "float32")
    for colour in range(3):
        kernel[:, :, colour, colour] = 0.25
    kernel[:, :, :, 3], bias[3] = -1 / 12, 1.0
    kernel[:, 0, :, 4], kernel[:, 1, :, 4] = 1 / 3, -1 / 3
    checker = np.array([[1, -1], [-1, 1]], "float32") / 3
    kernel[:, :, :, 5], bias[5] = checker[:, :, None], -0.5
    early.set_weights([kernel, bias])
    weights = np.zeros((1, 1, 6, 1), "float32")
    weights[0, 0, 0, 0], weights[0, 0, 5, 0] = 1.0, 10.0
    unit.set_weights([weights])
    return model


def checkerboard(size=SIZE):
    y, x = np.mgrid[:size, :size]
    board = ((x + y + 1) % 2 * 255).astype("uint8")
    return np.repeat(board[..., None], 3, axis=-1)


def solid(colour, size=SIZE):
    return np.broadcast_to(np.asarray(colour, "uint8"), (size, size, 3)).copy()


@pytest.fixture(scope="module")
def net():
    return shortcut_net()


def test_the_planted_paths_have_the_hand_values(net):
    images = np.stack([checkerboard(), solid((255, 0, 0))])
    early = ev.channel_means(net, "early_relu", images, "unit")
    np.testing.assert_allclose(early, [[0.5, 0.5, 0.5, 0.5, 0, 1.5], [1, 0, 0, 2 / 3, 0, 0]],
                               atol=1e-5)
    np.testing.assert_allclose(ev.channel_means(net, "unit_relu", images, "unit")[:, 0],
                               [15.5, 1.0], atol=1e-4)


def test_standardize_and_correlation_hand_values():
    """Reference rows [0, 0, 1], [2, 4, 1]: per channel mean [1, 2, 1], std
    [1, 2, 0]; the spread adds 1e-3 x the mean std (1): [1.001, 2.001, 0.001].
    So [3, 6, 1] stands at [2 / 1.001, 4 / 2.001, 0], and [1, 2, 2] at [0, 0, 1000]:
    a channel the references never move makes a large deviation."""
    reference = np.array([[0, 0, 1], [2, 4, 1]], float)
    got = path.standardize([[3, 6, 1], [1, 2, 2]], reference)
    np.testing.assert_allclose(got, [[2 / 1.001, 4 / 2.001, 0], [0, 0, 1 / 0.001]])
    np.testing.assert_allclose(path.correlation([1, 2, 3], [[3, 2, 1], [10, 20, 30], [2, 2, 2]]),
                               [[-1.0, 1.0, 0.0]])  # a constant row: 0, not NaN
    # [1, 0, 0] and [0, 1, 0] centred: [2, -1, -1] / 3 and [-1, 2, -1] / 3: -3 / 6
    assert path.correlation([1, 0, 0], [0, 1, 0])[0, 0] == pytest.approx(-0.5)


def test_the_floor_compares_only_other_groups():
    """Rows 0 and 1 (group 0) are identical, row 2 (group 1) is reversed;
    standardized (mean [5/3, 2, 7/3]) they stay exact opposites in pattern, so the
    nearest other-group similarity of every row is -1 and the floor is -1,
    not the 1 a same-photo twin would give."""
    reference = np.array([[1, 2, 3], [1, 2, 3], [3, 2, 1]], float)
    assert path.path_floor(reference, [0, 0, 1]) == pytest.approx(-1.0)
    assert path.path_floor(reference, [0, 1, 2]) == pytest.approx(-1.0)  # the lowest of 1, 1, -1
    assert path.path_floor(reference, [0, 1, 2], quantile=0.5) == pytest.approx(1.0)


def test_the_path_layers_are_the_activations_below_the_target(net):
    assert path_layers(net, "unit_relu") == ("early_relu",)
    assert path_layers(net, "early_relu") == ()


def test_the_check_separates_the_shortcut_from_the_natural_path(net):
    """The natural crop (16 px) that drives the unit hardest gets there
    through red; the checkerboard drives it 10x harder through the shortcut.
    Against the other photos' crops, the crop is on the natural path and the
    checkerboard is off it, below the floor the photos set for one another."""
    crops = ev.natural_crops(SIZE)
    unit = ev.channel_means(net, "unit_relu", crops, "unit")[:, 0]
    best = int(np.argmax(unit))
    photo = path.natural_groups(len(crops))
    others = photo != photo[best]
    assert ev.channel_means(net, "unit_relu", checkerboard()[None], "unit")[0, 0] > 10 * unit[best]
    records = path.check_paths(net, "unit_relu", np.stack([checkerboard(), crops[best]]), "unit",
                               reference=crops[others], groups=photo[others])
    shortcut, natural = records
    assert shortcut["path_layer"] == natural["path_layer"] == "early_relu"
    assert shortcut["off_path"] and not natural["off_path"]
    assert shortcut["path_similarity"] < shortcut["path_floor"] < natural["path_similarity"]
    assert set(shortcut["path"]) == {"early_relu"}


def test_score_dreams_records_the_path_check(net):
    """With the shipped natural crops as reference, as in every gallery: a
    crop of a photo they do not hold (skimage's retina, red, so it drives the
    unit through red) is on the path, the checkerboard off it."""
    import skimage.data

    retina = ev.photo_crops(skimage.data.retina(), SIZE)[0]
    images = np.stack([checkerboard(), retina])
    records = ev.score_dreams(net, "unit_relu", images, [0, 0], "unit")
    assert records[1]["activation"] > 0.5  # through red: red + 10 x 0
    assert [r["off_path"] for r in records] == [True, False]
    assert all(r["path_layer"] == "early_relu" for r in records)
    assert records[0]["path_similarity"] < records[0]["path_floor"]


def test_a_first_layer_has_no_path_to_check(net):
    records = ev.score_dreams(net, "early_relu", np.stack([checkerboard()]), [5], "unit")
    assert records[0]["off_path"] is None and records[0]["path"] == {}
