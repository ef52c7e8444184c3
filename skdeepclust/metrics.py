"""Clustering metrics and scorers for model selection with labels.

NMI and ARI are scikit-learn's; cluster accuracy matches clusters to classes with the
Hungarian algorithm.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, make_scorer, normalized_mutual_info_score
from sklearn.utils.validation import check_consistent_length, column_or_1d

__all__ = [
    "accuracy_scorer",
    "ari_scorer",
    "cluster_accuracy",
    "clustering_report",
    "nmi_scorer",
]


def cluster_accuracy(y_true, y_pred) -> float:
    """Unsupervised clustering accuracy.

    The best one-to-one mapping of clusters to classes (Hungarian algorithm on the
    contingency table, :func:`scipy.optimize.linear_sum_assignment`), then the fraction of
    samples whose mapped cluster is their class. When there are more clusters than classes,
    the samples of unmatched clusters count as errors; when there are fewer, the samples of
    unmatched classes do.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Class labels (any hashable values).
    y_pred : array-like of shape (n_samples,)
        Cluster labels (any hashable values).

    Returns
    -------
    accuracy : float
        In [0, 1].

    Examples
    --------
    >>> from skdeepclust.metrics import cluster_accuracy
    >>> cluster_accuracy([0, 0, 1, 1, 2], [1, 1, 0, 0, 0])
    0.8
    """
    y_true = column_or_1d(y_true)
    y_pred = column_or_1d(y_pred)
    check_consistent_length(y_true, y_pred)
    if len(y_true) == 0:
        raise ValueError("cluster_accuracy needs at least one sample.")
    classes, t = np.unique(y_true, return_inverse=True)
    clusters, p = np.unique(y_pred, return_inverse=True)
    counts = np.zeros((len(clusters), len(classes)), dtype=np.int64)
    np.add.at(counts, (p, t), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / len(y_true))


def clustering_report(y_true, y_pred) -> dict[str, float]:
    """``{"acc": ..., "nmi": ..., "ari": ...}`` for one labelling."""
    return {
        "acc": cluster_accuracy(y_true, y_pred),
        "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
        "ari": float(adjusted_rand_score(y_true, y_pred)),
    }


#: Scorers for ``GridSearchCV(scoring=...)``: they call ``predict`` on the held-out fold.
accuracy_scorer = make_scorer(cluster_accuracy)
nmi_scorer = make_scorer(normalized_mutual_info_score)
ari_scorer = make_scorer(adjusted_rand_score)
