import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from skdeepclust.metrics import clustering_report, cluster_accuracy


def test_accuracy_is_invariant_to_label_permutation():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert cluster_accuracy(y, np.array([2, 2, 0, 0, 1, 1])) == 1.0


def test_accuracy_more_clusters_than_classes():
    # 3 clusters, 2 classes: the best matching covers two clusters; cluster 2 counts as error.
    assert cluster_accuracy([0, 0, 0, 1, 1, 1], [0, 0, 2, 1, 1, 1]) == pytest.approx(5 / 6)


def test_accuracy_fewer_clusters_than_classes():
    assert cluster_accuracy([0, 1, 2, 2], [0, 0, 1, 1]) == pytest.approx(3 / 4)


def test_accuracy_matches_brute_force():
    from itertools import permutations

    rng = np.random.RandomState(0)
    y, p = rng.randint(0, 4, 50), rng.randint(0, 4, 50)
    best = max(np.mean(np.array(perm)[p] == y) for perm in permutations(range(4)))
    assert cluster_accuracy(y, p) == pytest.approx(best)


def test_accuracy_string_labels_and_errors():
    assert cluster_accuracy(["a", "b"], [5, 7]) == 1.0
    with pytest.raises(ValueError):
        cluster_accuracy([0, 1], [0])


def test_report_uses_sklearn_nmi_ari():
    y, p = [0, 0, 1, 1, 2], [0, 1, 1, 1, 2]
    r = clustering_report(y, p)
    assert r["nmi"] == normalized_mutual_info_score(y, p)
    assert r["ari"] == adjusted_rand_score(y, p)
