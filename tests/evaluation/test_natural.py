"""Natural photos and their crops: crop boxes by hand on small synthetic photos,
one crop function for the yardstick and MACO."""

import numpy as np
import pytest

from kerasdream import evaluation as ev
from kerasdream.param import maco

from conftest import colour_picker


def test_crop_boxes_of_a_small_photo_by_hand():
    # A 20 x 40 photo, 8 x 8 crops: the tighter side is the height (8 / 20 = 0.4 > 8 / 40),
    # so zoom z resizes by 0.4 z: 1 -> 8 x 16, 1.5 -> 12 x 24, 2.5 -> 20 x 40 (no resizing).
    assert ev.crop_boxes((20, 40, 3), 8) == [
        (8, 16, 0, 4),     # (1.0, 0.5, 0.5): top 0.5 * 0, left 0.5 * 8
        (12, 24, 1, 5),    # (1.5, 0.2, 0.3): top round(0.8), left round(4.8)
        (12, 24, 3, 11),   # (1.5, 0.8, 0.7): round(3.2), round(11.2)
        (20, 40, 4, 22),   # (2.5, 0.3, 0.7): round(3.6), round(22.4)
        (20, 40, 8, 10),   # (2.5, 0.7, 0.3): round(8.4), round(9.6)
        (20, 40, 6, 16),   # (2.5, 0.5, 0.5)
    ]
    # 8 x 16 crops of the same photo: both sides are as tight (8 / 20 = 16 / 40).
    assert ev.crop_boxes((20, 40), (8, 16))[5] == (20, 40, 6, 12)
    # A square 10 x 10 photo, 4 x 4 crops: zoom 2.5 is its own size, 1.5 rounds 6.
    assert ev.crop_boxes((10, 10), 4)[:2] == [(4, 4, 0, 0), (6, 6, 0, 1)]


def test_photo_crops_cut_the_boxes_and_maco_uses_the_same_crops():
    photo = np.random.default_rng(0).integers(0, 256, (20, 40, 3)).astype("uint8")
    crops = ev.photo_crops(photo, 8)
    assert crops.shape == (6, 8, 8, 3) and crops.dtype == np.uint8
    # Zoom 2.5 keeps the photo's own size: those crops are plain slices.
    for crop, (top, left) in zip(crops[3:], [(4, 22), (8, 10), (6, 16)]):
        np.testing.assert_array_equal(crop, photo[top:top + 8, left:left + 8])
    np.testing.assert_array_equal(np.stack(maco.crops_of(photo, (8, 8))), crops)
    grey = photo[..., 0]
    for form in (grey, grey[..., None]):
        grey_crops = ev.photo_crops(form, 8)
        assert grey_crops.shape == (6, 8, 8, 1)
        np.testing.assert_array_equal(grey_crops[5, ..., 0], grey[6:14, 16:24])
        np.testing.assert_array_equal(np.stack(maco.crops_of(form, (8, 8))), grey_crops)


def test_natural_crops_are_deterministic_photos_at_the_dream_size():
    crops = ev.natural_crops(16)
    assert crops.shape == (6 * len(ev.NATURAL_PHOTOS), 16, 16, 3) and crops.dtype == np.uint8
    np.testing.assert_array_equal(crops, ev.natural_crops.__wrapped__(16))
    assert ev.natural_high_frequency(16) == pytest.approx(np.mean(ev.high_frequency(crops)))
    assert not ev.is_flat(crops).all()


def test_natural_maxima_of_the_colour_picker_are_the_crops_largest_colour_means():
    crops = ev.natural_crops(8).astype("float64")
    expected = crops.mean(axis=(1, 2)).max(axis=0)
    maxima = ev.natural_maxima(colour_picker(), "pick", "none", 8)
    np.testing.assert_allclose(maxima[:3], expected, rtol=1e-5)


def test_a_channel_with_zero_weights_is_constant_and_the_others_are_not():
    base = colour_picker()
    kernel = base.get_layer("pick").get_weights()[0]
    kernel[..., 3] = 0.0  # red - blue becomes 0 for every image
    base.get_layer("pick").set_weights([kernel])
    assert ev.constant_channels(base, "pick", "none", 8).tolist() == [False, False, False, True]


