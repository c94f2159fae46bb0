"""The same dreams at successive moments of a network's training: grids, strips, GIFs.

`DreamSeries` collects one frame per moment (an epoch of `DreamCallback`, a
checkpoint of `evolve`): the N dreams of that moment as uint8 images. It
writes what a reader compares:

    <name>_<k>.png   one labelled grid of all dreams per moment (the callback's epoch_NNN.png)
    filter_<k>.png   a strip per dream, one column per moment
    filter_<k>.gif   the same dream moment by moment
    grid.gif         the grids moment by moment

Small images (a digits CNN dreams at 8-32 px) are enlarged by a whole factor,
nearest neighbour, so every pixel stays a visible square.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from PIL import Image

from kerasdream.errors import DreamError
from kerasdream.io import atomic_path, grid, save_png

MIN_DISPLAY_SIDE = 64  # smaller dreams are enlarged to at least this many pixels
GIF_FRAME_MS = 500
MAX_GRID_COLUMNS = 10  # up to 10 dreams (a digit classifier's classes) in one row


def enlarged(images: np.ndarray, min_side: int = MIN_DISPLAY_SIDE) -> np.ndarray:
    """`images` (N, H, W, C) scaled up by a whole factor to at least `min_side`."""
    images = np.asarray(images)
    factor = max(1, -(-min_side // min(images.shape[1:3])))
    if factor == 1:
        return images
    return images.repeat(factor, axis=1).repeat(factor, axis=2)


def save_gif(path: str, frames: Sequence[np.ndarray], frame_ms: int = GIF_FRAME_MS) -> None:
    """An animated GIF of `frames` (each (H, W, 3) uint8), looping, written atomically.

    The last frame stays up three times as long, so a loop shows where it ended.
    """
    if not frames:
        raise DreamError("A GIF needs at least one frame. Received: 0 frames")
    pictures = [Image.fromarray(np.asarray(frame, "uint8")).convert("RGB") for frame in frames]
    durations = [frame_ms] * len(pictures)
    durations[-1] = 3 * frame_ms
    with atomic_path(path) as temporary:
        pictures[0].save(temporary, format="GIF", save_all=True, append_images=pictures[1:],
                         duration=durations, loop=0, disposal=1)


def read_gif(path: str) -> list[np.ndarray]:
    """The frames of a GIF as RGB arrays (for tests and notebooks)."""
    frames = []
    with Image.open(path) as image:
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGB")))
    return frames


class DreamSeries:
    """Frames of the same N dreams, one per moment, and the pictures made of them.

    Args:
        labels: one caption per dream (e.g. "filter 3").
        title: what the dreams are of, at the top of each grid.
    """

    def __init__(self, labels: Sequence[str], title: str = ""):
        self.labels = [str(label) for label in labels]
        self.title = title
        self.captions: list[str] = []
        self.frames: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.frames)

    def add(self, caption: str, images: np.ndarray) -> None:
        """Record the N dreams (uint8, (N, H, W, C)) of one moment."""
        images = np.asarray(images)
        if images.shape[0] != len(self.labels):
            raise DreamError(f"Expected {len(self.labels)} dreams a frame. "
                             f"Received: images of shape {images.shape}")
        if self.frames and images.shape != self.frames[0].shape:
            raise DreamError(f"Every frame must have the shape of the first, "
                             f"{self.frames[0].shape}. Received: {images.shape}")
        self.captions.append(str(caption))
        self.frames.append(images)

    def grid(self, index: int = -1) -> np.ndarray:
        """All dreams of one moment, labelled, under the moment's caption."""
        title = f"{self.title}: {self.captions[index]}" if self.title else self.captions[index]
        columns = len(self.labels) if len(self.labels) <= MAX_GRID_COLUMNS else 8
        return grid(enlarged(self.frames[index]), self.labels, columns=columns, title=title)

    def strip(self, dream: int) -> np.ndarray:
        """One dream at every moment, left to right, each labelled with its moment."""
        frames = np.stack([frame[dream] for frame in self.frames])
        return grid(enlarged(frames), self.captions, columns=len(frames),
                    title=self.labels[dream])

    def write_grid(self, path: str, index: int = -1) -> str:
        save_png(path, self.grid(index))
        return path

    def write(self, out_dir: str) -> list[str]:
        """Strips and GIFs per dream, and `grid.gif`; returns the paths written."""
        if not self.frames:
            return []
        written = []
        for dream in range(len(self.labels)):
            stem = os.path.join(out_dir, self.file_stem(dream))
            save_png(stem + ".png", self.strip(dream))
            tiles = enlarged(np.stack([frame[dream] for frame in self.frames]))
            save_gif(stem + ".gif", [_labelled(tile, caption)
                                     for tile, caption in zip(tiles, self.captions)])
            written += [stem + ".png", stem + ".gif"]
        path = os.path.join(out_dir, "grid.gif")
        save_gif(path, [self.grid(index) for index in range(len(self.frames))])
        return written + [path]

    def file_stem(self, dream: int) -> str:
        """`filter_3` for a dream labelled "filter 3"; else `dream_<i>`."""
        label = self.labels[dream].replace(" ", "_")
        safe = "".join(c for c in label if c.isalnum() or c in "_-.")
        return safe if safe and safe == label else f"dream_{dream}"


def _labelled(tile: np.ndarray, caption: str) -> np.ndarray:
    """One tile with its moment's caption underneath (a GIF frame)."""
    return grid(tile[None], [caption], columns=1)
