"""The pictures draw what they say, on a tiny fitted model, with the Agg backend."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from skdeepclust import ICAE  # noqa: E402
from skdeepclust.plotting import (  # noqa: E402
    plot_clusters,
    plot_embedding,
    plot_history,
    plot_samples,
)


@pytest.fixture(scope="module")
def fitted(request):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = X[:150], y[:150]
    return ICAE(n_clusters=4, max_epochs=2, random_state=0).fit(X), X, y


def _tile(fig, row, col, shape=(8, 8)):
    """The image drawn in tile ``(row, col)`` of a montage (tiles apart by 1 pixel)."""
    h, w = shape
    canvas = np.asarray(fig.axes[0].images[0].get_array())
    return canvas[row * (h + 1):row * (h + 1) + h, col * (w + 1):col * (w + 1) + w]


def _drawn_tiles(fig, n_rows, n_cols):
    """How many tiles hold an image (an empty tile is all white, a drawn digit is not)."""
    return sum(not np.all(_tile(fig, r, c) == 1) for r in range(n_rows) for c in range(n_cols))


def test_plot_clusters_rows_and_confidence_order(fitted):
    est, X, _ = fitted
    fig = plot_clusters(est, X, n_per_cluster=5)
    assert len(fig.axes) == 1
    canvas = fig.axes[0].images[0].get_array()
    assert canvas.shape == (4 * 9 - 1, 5 * 9 - 1)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][0].startswith("0 (")
    counts = np.bincount(est.predict(X), minlength=4)
    assert _drawn_tiles(fig, 4, 5) == int(np.minimum(counts, 5).sum())
    # The first image of each non-empty row is that cluster's most confident member.
    proba = est.predict_proba(X)
    k = int(counts.argmax())
    best = X[np.argmax(np.where(est.predict(X) == k, proba[:, k], -1))].reshape(8, 8)
    shown = _tile(fig, k, 0)
    span = X.max() - X.min()
    np.testing.assert_allclose(np.asarray(shown), (best - X.min()) / span)


def test_montage_colour_tiles_short_and_empty_rows():
    from skdeepclust.plotting import _montage

    rng = np.random.RandomState(0)
    rows = [rng.rand(3, 8, 8, 3), np.empty((0,)), rng.rand(1, 8, 8, 3)]
    fig = _montage(rows, 3, ["a", "b", "c"], "t")
    canvas = np.asarray(fig.axes[0].images[0].get_array())
    assert canvas.shape == (3 * 9 - 1, 3 * 9 - 1, 3)
    np.testing.assert_allclose(canvas[:8, 9:17], rows[0][1])
    np.testing.assert_allclose(canvas[18:26, :8], rows[2][0])
    assert np.all(canvas[9:17] == 1) and np.all(canvas[18:26, 9:] == 1)  # empty: white
    # Nothing generated at all: a blank grid that keeps the row labels.
    fig = _montage([np.empty((0,))] * 2, 4, ["x", "y"], "t")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["x", "y"]


def test_plot_samples_one_row_per_cluster(fitted):
    est, _, _ = fitted
    fig = plot_samples(est, n_per_cluster=3)
    assert len(fig.axes) == 1 and _drawn_tiles(fig, 4, 3) == 12


def test_plot_history_one_panel_per_term(fitted):
    est, _, _ = fitted
    fig = plot_history(est)
    titles = {ax.get_title() for ax in fig.axes if ax.get_visible()}
    assert {"train_loss", "mmd", "recon", "aug", "sobel"} <= titles
    assert all(len(ax.lines[0].get_xdata()) == 2 for ax in fig.axes if ax.get_visible())


def test_plot_embedding_panels(fitted):
    est, X, y = fitted
    assert len(plot_embedding(est, X).axes) == 1
    fig = plot_embedding(est, X, y)
    assert len(fig.axes) == 2
    assert len(fig.axes[1].collections[0].get_offsets()) == len(X)


def test_tabular_model_has_no_images():
    X = np.random.RandomState(0).randn(40, 5)
    est = ICAE(n_clusters=2, max_epochs=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match="tabular"):
        plot_clusters(est, X)
