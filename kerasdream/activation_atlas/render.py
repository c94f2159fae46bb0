"""The whole activation atlas as one picture: each kept cell's dream at its
place in the grid, white where a cell had too few points; for a classifier
each tile carries the class its points support most."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def compose(tiles: Sequence[np.ndarray | None], cells, grid: tuple[int, int], tile: int,
            labels: Sequence[str | None] | None = None) -> np.ndarray:
    """A (rows * tile, columns * tile, 3) uint8 picture of `tiles` (one per
    cell, in `cells`' order; None leaves the cell white), each resized to
    `tile` px; `labels` are written in a dark band at the tile's foot."""
    rows, columns = grid
    canvas = Image.new("RGB", (columns * tile, rows * tile), "white")
    draw = ImageDraw.Draw(canvas, "RGBA")
    font = ImageFont.load_default()
    for index, (cell, image) in enumerate(zip(cells, tiles)):
        if image is None:
            continue
        picture = Image.fromarray(np.asarray(image, "uint8")[..., :3]
                                  if np.asarray(image).shape[-1] >= 3
                                  else np.repeat(np.asarray(image, "uint8"), 3, axis=-1))
        if picture.size != (tile, tile):
            picture = picture.resize((tile, tile), Image.BILINEAR)
        x, y = cell.column * tile, cell.row * tile
        canvas.paste(picture, (x, y))
        label = labels[index] if labels else None
        if label:
            draw.rectangle((x, y + tile - 12, x + tile - 1, y + tile - 1), fill=(0, 0, 0, 150))
            draw.text((x + 2, y + tile - 12), str(label)[: max(1, tile // 6)],
                      fill="white", font=font)
    return np.asarray(canvas)
