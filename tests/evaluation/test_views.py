"""Robust views through `transforms.warp`: fixed by their seed, and exact where
the geometry is (no move, integer shifts)."""

import numpy as np

from kerasdream import evaluation as ev
from kerasdream.transforms import warp

from conftest import colour_picker


def solid(colour, size=8):
    return np.broadcast_to(np.asarray(colour, "uint8"), (size, size, 3)).copy()


def test_a_view_with_no_shift_zoom_or_rotation_is_the_image():
    image = np.random.default_rng(0).integers(0, 256, (2, 9, 12, 3)).astype("float32")
    view = np.asarray(warp(image, ev.view_matrix(0, 0, 1.0, 0.0, 9, 12)))
    np.testing.assert_array_equal(view, image)
    views = ev.robust_views(image, views=3, max_shift=0, scale=(1.0, 1.0), max_degrees=0.0)
    np.testing.assert_array_equal(views, np.broadcast_to(image, views.shape))


def test_an_integer_shift_is_the_image_moved_with_a_reflected_border():
    image = np.arange(2 * 6 * 7 * 1, dtype="float32").reshape(2, 6, 7, 1)
    view = np.asarray(warp(image, ev.view_matrix(2, -3, 1.0, 0.0, 6, 7)))
    # The picture moves 2 rows down and 3 columns left: output[y, x] = input[y - 2, x + 3],
    # rows -2, -1 reflected about row 0 (rows 2, 1) and columns 7, 8, 9 about column 6 (5, 4, 3).
    by_hand = np.pad(image, ((0, 0), (2, 0), (0, 3), (0, 0)), mode="reflect")[:, :6, 3:]
    np.testing.assert_array_equal(view, by_hand)
    rows = [2, 1, 0, 1, 2, 3]
    cols = [3, 4, 5, 6, 5, 4, 3]
    np.testing.assert_array_equal(view[0, :, :, 0], image[0, rows][:, cols, 0])


def test_the_view_matrix_rotates_and_zooms_about_the_centre_then_moves():
    # 90 degrees, zoom 2, on a 5 x 5 image (centre (2, 2)), moved by dx=1, dy=0.
    # About the centre, output offset (u, v) reads (cos u - sin v, sin u + cos v) / 2:
    # (4, 2) is offset (2, 0) and reads offset (0, 1), point (2, 3); the move by dx=1
    # makes it read one column further left, (1, 3).
    matrix = np.asarray(ev.view_matrix(0, 1, 2.0, 90.0, 5, 5))
    np.testing.assert_allclose(matrix @ [4, 2, 1], [1, 3, 1], atol=1e-6)
    np.testing.assert_allclose(matrix @ [2, 2, 1], [1, 2, 1], atol=1e-6)  # the centre stays


def test_robust_views_are_fixed_for_a_seed_and_differ_across_views_and_seeds():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (2, 16, 16, 3)).astype("uint8")
    first, again = ev.robust_views(images, seed=3), ev.robust_views(images, seed=3)
    assert first.shape == (8, 2, 16, 16, 3)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, ev.robust_views(images, seed=4))
    for a in range(8):
        for b in range(a + 1, 8):
            assert not np.allclose(first[a], first[b])


def test_a_constant_image_stays_constant_in_every_view():
    views = ev.robust_views(solid((40, 128, 250), 16)[None], views=8)
    np.testing.assert_allclose(views, np.broadcast_to([40, 128, 250], views.shape), atol=1e-3)


def test_a_view_without_zoom_or_rotation_is_a_shift_by_its_drawn_offset():
    image = np.random.default_rng(2).integers(0, 256, (1, 20, 20, 3)).astype("uint8")
    views = ev.robust_views(image, views=4, seed=5, scale=(1.0, 1.0), max_degrees=0)
    params = ev.view_parameters(4, seed=5, scale=(1.0, 1.0), max_degrees=0)
    for view, (dy, dx, _, _) in zip(views, params):
        dy, dx = int(dy), int(dx)
        # output[y, x] = input[y - dy, x - dx] wherever that lies inside.
        inner = view[0, 6:14, 6:14]
        np.testing.assert_allclose(inner, image[0, 6 - dy:14 - dy, 6 - dx:14 - dx], atol=1e-3)


def test_robust_means_of_a_constant_image_equal_its_plain_means():
    base, images = colour_picker(16), solid((30, 60, 90), 16)[None]
    np.testing.assert_allclose(ev.robust_channel_means(base, "pick", images, "none"),
                               [[30, 60, 90, -60]], atol=1e-3)


