"""Pictures of a fitted clusterer: cluster montages, generated samples, training curves and
a 2-D embedding. Needs matplotlib (``pip install "skdeepclust[plot]"``).

Each function returns the :class:`matplotlib.figure.Figure` it draws, so it works in
notebooks, scripts (``fig.savefig(...)``) and headless runs (Agg backend).
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["plot_clusters", "plot_embedding", "plot_history", "plot_samples"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'skdeepclust.plotting needs matplotlib: pip install "skdeepclust[plot]"'
        ) from exc
    return plt


def _as_images(estimator, X) -> np.ndarray:
    """Rows of ``X`` as ``(n, H, W)`` or ``(n, H, W, C)`` images for ``imshow``."""
    shape = getattr(estimator, "image_shape_", None)
    if shape is None:
        raise ValueError(
            "This estimator was fitted on tabular data (image_shape_ is None): there are no "
            "images to show. Use plot_embedding or plot_history."
        )
    h, w, c = shape
    X = np.asarray(X, dtype=np.float64).reshape((len(X), h, w, c))
    lo, hi = X.min(), X.max()
    X = (X - lo) / (hi - lo) if hi > lo else np.zeros_like(X)
    return X[..., 0] if c == 1 else X


def _montage(rows: list[np.ndarray], n_cols: int, row_labels: list[str], title: str):
    """One image of ``len(rows)`` x ``n_cols`` tiles (1-pixel white gaps) on a single axes.

    One ``imshow`` instead of an axes per tile: a 10 x 10 grid of axes took about 1.5 s to
    build and save on one CPU core, which the demo's user waits for.
    """
    plt = _pyplot()
    tiles = [t for images in rows for t in images if np.ndim(t) >= 2]
    # With no image at all (a model that generates no cluster), a blank grid of 1-pixel
    # tiles keeps the rows and their labels.
    h, w = tiles[0].shape[:2] if tiles else (1, 1)
    channels = tiles[0].shape[2:] if tiles else ()
    gap = max(1, max(h, w) // 16)  # visible between large tiles too
    canvas = np.ones(((h + gap) * len(rows) - gap, (w + gap) * n_cols - gap) + channels)
    for r, images in enumerate(rows):
        for col in range(min(n_cols, len(images))):
            top, left = r * (h + gap), col * (w + gap)
            canvas[top:top + h, left:left + w] = images[col]
    fig, ax = plt.subplots(figsize=(n_cols * 0.8, len(rows) * 0.8 + 0.4), layout="constrained")
    ax.imshow(canvas, cmap="gray" if canvas.ndim == 2 else None, vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([r * (h + gap) + (h - 1) / 2 for r in range(len(rows))], row_labels)
    ax.tick_params(left=False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.suptitle(title)
    return fig


def plot_clusters(estimator, X, n_per_cluster: int = 10):
    """A montage of ``X``: one row per cluster, the most confident images first.

    Parameters
    ----------
    estimator : fitted skdeepclust estimator
    X : array-like
        Images in the layout the estimator was fitted on.
    n_per_cluster : int, default=10
        Images per row; clusters with fewer members show fewer.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    check_is_fitted(estimator)
    proba = estimator.predict_proba(X)
    labels = proba.argmax(1)
    images = _as_images(estimator, np.asarray(X).reshape(len(proba), -1))
    rows, names = [], []
    for k in range(proba.shape[1]):
        members = np.flatnonzero(labels == k)
        order = members[np.argsort(-proba[members, k], kind="stable")][:n_per_cluster]
        rows.append(images[order])
        names.append(f"{k} ({len(members)})")
    return _montage(rows, n_per_cluster, names, "Clusters, most confident first")


def plot_samples(estimator, n_per_cluster: int = 10):
    """Images generated for each cluster through ``estimator.sample``.

    Clusters the model cannot generate (GANIM raises for them) are left empty.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    check_is_fitted(estimator)
    rows, names = [], []
    for k in range(estimator.n_clusters):
        try:
            X, _ = estimator.sample(n_per_cluster, cluster=k)
            rows.append(_as_images(estimator, np.asarray(X).reshape(n_per_cluster, -1)))
        except ValueError:
            rows.append(np.empty((0,)))
        names.append(str(k))
    return _montage(rows, n_per_cluster, names, "Generated samples per cluster")


def plot_history(estimator):
    """Every loss term per epoch from ``estimator.history_`` (one panel per term).

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    check_is_fitted(estimator)
    plt = _pyplot()
    history = estimator.history_
    skip = {"epoch", "dur", "train_batch_count"}
    keys = []
    for row in history:
        for key, value in row.items():
            if (key not in skip and key not in keys and not key.endswith("_best")
                    and isinstance(value, (int, float)) and not isinstance(value, bool)):
                keys.append(key)
    n = max(len(keys), 1)
    n_cols = min(3, n)
    n_rows = -(-n // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4 * n_cols, 2.6 * n_rows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        epochs = [row["epoch"] for row in history if key in row]
        values = [row[key] for row in history if key in row]
        ax.plot(epochs, values, marker="." if len(values) < 30 else None)
        ax.set_title(key)
        ax.set_xlabel("epoch")
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_embedding(estimator, X, y=None, random_state: int | None = 0):
    """A 2-D t-SNE (scikit-learn's) of ``estimator.transform(X)``.

    Coloured by cluster; with ``y``, a second panel is coloured by class.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    from sklearn.manifold import TSNE

    check_is_fitted(estimator)
    plt = _pyplot()
    Z = estimator.transform(X)
    labels = estimator.predict(X)
    perplexity = float(min(30.0, max(2.0, (len(Z) - 1) / 3)))
    emb = TSNE(n_components=2, perplexity=perplexity, init="pca",
               random_state=random_state).fit_transform(Z)
    panels = [("clusters", labels)] + ([("classes", np.asarray(y))] if y is not None else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.5), squeeze=False)
    for ax, (name, colour) in zip(axes[0], panels):
        ax.scatter(emb[:, 0], emb[:, 1], c=colour, cmap="tab20", s=6)
        ax.set_title(f"t-SNE of transform(X), by {name}")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
