"""Files: grids with framed tiles, atomic writes."""

import numpy as np

from kerasdream import io


def test_grid_frames_every_tile_so_a_white_dream_stays_visible():
    white = np.full((2, 6, 6, 3), 255, "uint8")
    picture = io.grid(white, labels=["0", "1"])
    # Tiles start at x = pad (4) and x = 4 + 6 + 4 = 14, y = 4 (no title).
    for x in (4, 14):
        tile = picture[4:10, x:x + 6]
        assert np.all(tile == 255)  # the dream itself is untouched
        assert tuple(picture[3, x + 2]) == io.FRAME_COLOUR  # the frame's top edge
        assert tuple(picture[4 + 2, x - 1]) == io.FRAME_COLOUR  # its left edge
        assert tuple(picture[4 + 2, x + 6]) == io.FRAME_COLOUR  # its right edge


def test_atomic_write_leaves_no_temporary_and_replaces_whole(tmp_path):
    path = str(tmp_path / "a.json")
    io.write_json(path, {"x": 1})
    io.write_json(path, {"x": 2})
    assert io.read_json(path) == {"x": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_save_png_returns_the_hash_of_the_bytes_it_wrote(tmp_path):
    import hashlib

    from kerasdream.io import png_bytes, save_png

    image = np.arange(2 * 3 * 3, dtype="uint8").reshape(2, 3, 3)
    digest = save_png(str(tmp_path / "a.png"), image)
    data = (tmp_path / "a.png").read_bytes()
    assert digest == hashlib.sha256(data).hexdigest()
    assert png_bytes(image) == data
    from PIL import Image

    Image.fromarray(image, mode="RGB").save(tmp_path / "b.png", format="PNG")
    assert (tmp_path / "b.png").read_bytes() == data  # the same bytes PIL writes to a file
