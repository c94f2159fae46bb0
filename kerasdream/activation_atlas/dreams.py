"""One dream per atlas cell, batched, and what each cell's direction means.

Each cell's mean vector v is dreamed with `Direction(layer, v, cossim_pow)`:
the mean over the layer's positions of `<x, v> * max(cos(x, v), 0.1) **
cossim_pow`. A power above 0 keeps the dream on v's direction rather than
on any large activation (the Activation Atlas recipe in Lucid uses a cosine
power too; the default here is 2, Lucent's and Xplique's). `batch` cells
train together in one `fit` on ONE `DreamModel`, restarted for each chunk
with the next directions and row keys (a cell's key is `row * columns +
column`, so its first image does not depend on its chunk); the last chunk
is padded with copies of its last cell, so nothing is traced twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np

from kerasdream.objectives.directions import Direction

COSSIM_POW = 2.0
TOP_FILTERS = 5


def direction_hash(vector: np.ndarray) -> str:
    """A short hash of a direction's float32 bytes: a rerun that computes the
    same mean vector finds its cell's dream."""
    return hashlib.sha1(np.ascontiguousarray(vector, "float32").tobytes()).hexdigest()[:16]


def top_filters(vector: np.ndarray, top: int = TOP_FILTERS) -> list[dict]:
    """The channels a direction loads on most (largest entries first)."""
    vector = np.asarray(vector, "float64")
    order = np.argsort(-vector, kind="stable")[:top]
    return [{"filter": int(k), "value": round(float(vector[k]), 5)} for k in order]


def cell_classes(cells, classes: np.ndarray | None, attributions: np.ndarray | None,
                 top: int = 3) -> list[list[dict] | None]:
    """For each cell, the classes its points' attributions support most: the
    sum over the cell's points of each point's attribution to the classes it
    was scored on (its image's top classes), highest first; None for all
    cells without attributions (a network with no class output)."""
    if classes is None or attributions is None:
        return [None] * len(cells)
    found = []
    for cell in cells:
        rows = list(cell.indices)
        keys, inverse = np.unique(classes[rows].ravel(), return_inverse=True)
        totals = np.bincount(inverse, weights=attributions[rows].ravel().astype("float64"),
                             minlength=len(keys))
        order = np.argsort(-totals, kind="stable")[:top]
        found.append([{"class": int(keys[i]), "attribution": round(float(totals[i] / len(rows)), 5)}
                      for i in order])
    return found


def dream_cells(
    spec,
    layer: str,
    directions: np.ndarray,
    keys: Sequence[int],
    *,
    size: int | tuple[int, int] = 64,
    steps: int = 128,
    batch: int = 32,
    seed: int = 0,
    cossim_pow: float = COSSIM_POW,
    parameterization: str = "fourier",
    transforms: str = "light",
    learning_rate: float | None = None,
    precision: str = "auto",
    done: Callable[[list[int], np.ndarray], None] | None = None,
) -> None:
    """Dream `directions` (N, C) of `layer` in chunks of `batch`; after each
    chunk call `done(positions, images)` with the chunk's positions in
    `directions` and their uint8 images (the caller writes them).

    Raises:
        DreamError: from `Direction` or `DreamModel` (a bad vector, size or layer).
    """
    from kerasdream import model as model_lib
    from kerasdream.runs import signals

    directions = np.asarray(directions, "float32")
    keys = [int(k) for k in keys]
    batch = max(1, min(int(batch), len(directions)))
    dream = None
    for start in range(0, len(directions), batch):
        chunk = list(range(start, min(start + batch, len(directions))))
        padded = chunk + chunk[-1:] * (batch - len(chunk))
        objective = Direction(layer, directions[padded], cossim_pow=cossim_pow)
        rows = [keys[i] for i in padded]
        if dream is None:
            dream = model_lib.DreamModel(objective, spec, size=size, seed=seed, row_keys=rows,
                                         parameterization=parameterization,
                                         transforms=transforms, precision=precision)
            dream.compile(model_lib.default_optimizer(learning_rate))
        else:
            dream.restart(objective, row_keys=rows)
        dream.fit(steps)
        signals.check()
        if done is not None:
            with signals.deferred():
                done(chunk, dream.render()[:len(chunk)])
