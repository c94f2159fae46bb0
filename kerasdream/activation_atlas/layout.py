"""The atlas' 2-D layout of activation vectors, and the grid cells' means.

`layout_2d` places the vectors in the plane with UMAP (`umap-learn`, cosine
metric, as the Activation Atlas paper) or scikit-learn's t-SNE, then
`normalize` maps each axis onto [0, 1] (outliers beyond the `clip`
percentiles are pulled in). `grid_cells` cuts [0, 1]^2 into rows x columns
cells (x picks the column, y the row; a point on the far edge belongs to
the last cell) and keeps the cells holding at least `min_count` points;
`cell_means` is each kept cell's mean vector, the direction it dreams.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kerasdream.errors import DreamError

METHODS = ("umap", "tsne")
INSTALL_UMAP = "pip install umap-learn  (or: pip install 'kerasdream[atlas]')"


@dataclass(frozen=True)
class Cell:
    """One kept grid cell: its row and column and the indices of its points."""

    row: int
    column: int
    indices: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.indices)


def normalize(xy: np.ndarray, clip: float = 1.0) -> np.ndarray:
    """Each axis of (M, 2) points onto [0, 1]: clipped to its `clip` and
    `100 - clip` percentiles, then scaled from its minimum to its maximum
    (a flat axis becomes 0.5)."""
    xy = np.asarray(xy, "float64")
    if clip:
        low, high = np.percentile(xy, [clip, 100 - clip], axis=0)
        xy = np.clip(xy, low, high)
    low, high = xy.min(axis=0), xy.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return np.where(high > low, (xy - low) / span, 0.5)


def layout_2d(vectors: np.ndarray, method: str = "umap", seed: int = 0,
              neighbors: int = 20, min_dist: float = 0.01) -> np.ndarray:
    """(M, C) vectors -> (M, 2) positions in [0, 1] (`normalize`d).

    `method` "umap": UMAP with the cosine metric, `neighbors` neighbours and
    `min_dist` (the paper's 20 and 0.01), seeded (single-threaded, so the same
    vectors give the same layout). "tsne": scikit-learn's t-SNE, cosine
    metric, perplexity min(30, (M - 1) / 3), on one thread.

    Raises:
        DreamError: an unknown method, fewer than 4 vectors, or umap-learn
            missing.
    """
    vectors = np.asarray(vectors, "float32")
    if method not in METHODS:
        raise DreamError(f"Unknown layout method. Expected one of {list(METHODS)}. "
                         f"Received: method={method!r}")
    if vectors.ndim != 2 or len(vectors) < 4:
        raise DreamError(f"A layout needs at least 4 vectors (M, channels). Received: "
                         f"vectors of shape {vectors.shape}")
    if method == "umap":
        try:
            import umap
        except ImportError:
            raise DreamError(f"The 'umap' layout needs umap-learn: {INSTALL_UMAP}. "
                             f"Received: method='umap'") from None
        reducer = umap.UMAP(n_components=2, n_neighbors=min(neighbors, len(vectors) - 1),
                            min_dist=min_dist, metric="cosine", random_state=seed, n_jobs=1)
        xy = reducer.fit_transform(vectors)
    else:
        from sklearn.manifold import TSNE
        from threadpoolctl import threadpool_limits

        # One OpenMP thread: the same layout every time, and no spinning
        # threads on a shared machine (45 points took a minute on 2 busy cores).
        with threadpool_limits(limits=1):
            xy = TSNE(n_components=2, metric="cosine", init="pca", random_state=seed,
                      perplexity=min(30.0, (len(vectors) - 1) / 3)).fit_transform(vectors)
    return normalize(xy)


def grid_cells(xy: np.ndarray, grid: tuple[int, int] | int, min_count: int = 1) -> list[Cell]:
    """The cells of a rows x columns grid over [0, 1]^2 with at least
    `min_count` of the points `xy` (M, 2: x, y), in row-major order.

    Raises:
        DreamError: a grid or `min_count` below 1.
    """
    rows, columns = (grid, grid) if isinstance(grid, (int, np.integer)) else grid
    if min(rows, columns) < 1 or min_count < 1:
        raise DreamError(f"The grid needs at least 1 row and column and min_count >= 1. "
                         f"Received: grid={grid!r}, min_count={min_count!r}")
    xy = np.asarray(xy, "float64")
    column = np.clip(np.floor(xy[:, 0] * columns), 0, columns - 1).astype(int)
    row = np.clip(np.floor(xy[:, 1] * rows), 0, rows - 1).astype(int)
    flat = row * columns + column
    cells = []
    for key in np.unique(flat):
        indices = np.flatnonzero(flat == key)
        if len(indices) >= min_count:
            cells.append(Cell(int(key // columns), int(key % columns),
                              tuple(int(i) for i in indices)))
    return cells


def cell_means(vectors: np.ndarray, cells: list[Cell]) -> np.ndarray:
    """Each cell's mean vector, (cells, C) float32."""
    vectors = np.asarray(vectors, "float32")
    return np.stack([vectors[list(cell.indices)].mean(axis=0) for cell in cells]
                    ).astype("float32") if cells else np.zeros((0, vectors.shape[1]), "float32")
