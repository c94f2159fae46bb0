"""The 2-D layout, the grid and the cell means, by hand on a tiny case."""

import numpy as np
import pytest

from kerasdream.activation_atlas.layout import (Cell, cell_means, grid_cells, layout_2d,
                                                normalize)
from kerasdream.errors import DreamError


def test_normalize_maps_each_axis_onto_the_unit_interval():
    xy = np.array([[0.0, 10.0, ], [2.0, 20.0], [4.0, 30.0]])
    np.testing.assert_allclose(normalize(xy, clip=0), [[0, 0], [0.5, 0.5], [1, 1]])
    flat = np.array([[1.0, 5.0], [3.0, 5.0]])
    np.testing.assert_allclose(normalize(flat, clip=0), [[0, 0.5], [1, 0.5]])


def test_grid_cells_and_means_by_hand():
    # x picks the column, y the row, on a 2 x 2 grid; the far edge is the last cell.
    xy = np.array([[0.1, 0.1],    # row 0, column 0
                   [0.4, 0.2],    # row 0, column 0
                   [0.9, 0.1],    # row 0, column 1 (alone)
                   [1.0, 1.0],    # row 1, column 1 (edge)
                   [0.5, 0.5],    # row 1, column 1 (floor(1.0) = 1)
                   [0.2, 0.7]])   # row 1, column 0 (alone)
    vectors = np.array([[1, 0, 2], [3, 0, 4], [9, 9, 9], [0, 6, 0], [2, 2, 2], [7, 7, 7]],
                       "float32")
    cells = grid_cells(xy, 2, min_count=2)
    assert cells == [Cell(0, 0, (0, 1)), Cell(1, 1, (3, 4))]
    np.testing.assert_allclose(cell_means(vectors, cells), [[2, 0, 3], [1, 4, 1]])
    # min_count 1 keeps every occupied cell, row-major; a 1 x 3 grid cuts only x.
    assert [(c.row, c.column, c.count) for c in grid_cells(xy, 2)] == [
        (0, 0, 2), (0, 1, 1), (1, 0, 1), (1, 1, 2)]
    assert [(c.row, c.column, c.indices) for c in grid_cells(xy, (1, 3))] == [
        (0, 0, (0, 5)), (0, 1, (1, 4)), (0, 2, (2, 3))]
    with pytest.raises(DreamError, match="Received: grid=0, min_count=1"):
        grid_cells(xy, 0)


def _clusters():
    rng = np.random.default_rng(0)
    centres = np.eye(3, 8, dtype="float32") * 10
    return np.concatenate([c + rng.normal(0, 0.3, (15, 8)) for c in centres]).astype("float32")


def _separated(xy):
    """Each cluster's points are nearer their own centroid than any other's."""
    labels = np.repeat(np.arange(3), 15)
    centroids = np.stack([xy[labels == k].mean(0) for k in range(3)])
    nearest = np.argmin(((xy[:, None] - centroids[None]) ** 2).sum(-1), axis=1)
    return np.all(nearest == labels)


def test_tsne_layout_is_in_the_unit_square_and_keeps_clusters_apart():
    xy = layout_2d(_clusters(), "tsne", seed=0)
    assert xy.shape == (45, 2) and xy.min() >= 0 and xy.max() <= 1
    assert _separated(xy)
    with pytest.raises(DreamError, match="Received: method='pca'"):
        layout_2d(_clusters(), "pca")
    with pytest.raises(DreamError, match="at least 4 vectors"):
        layout_2d(np.zeros((3, 8)), "tsne")


@pytest.mark.slow
def test_umap_layout_is_seeded_and_keeps_clusters_apart():
    pytest.importorskip("umap")
    first = layout_2d(_clusters(), "umap", seed=0)
    assert first.shape == (45, 2) and first.min() >= 0 and first.max() <= 1
    assert _separated(first)
    np.testing.assert_array_equal(first, layout_2d(_clusters(), "umap", seed=0))
