"""ICAE specifics: PEDCC geometry, predictions from cosines, sampling, and quality."""

import numpy as np
import pytest
from sklearn.cluster import KMeans

from skdeepclust import ICAE
from skdeepclust.icae import pedcc
from skdeepclust.metrics import cluster_accuracy


@pytest.mark.parametrize("k, d", [(2, 5), (10, 60), (10, 9), (4, 3)])
def test_pedcc_simplex_is_regular(k, d):
    c = pedcc(k, d, random_state=0)
    assert c.shape == (k, d)
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 1.0, atol=1e-12)
    cos = c @ c.T
    off = cos[~np.eye(k, dtype=bool)]
    np.testing.assert_allclose(off, -1.0 / (k - 1), atol=1e-10)


def test_pedcc_is_randomly_rotated_and_reproducible():
    a, b = pedcc(5, 8, random_state=0), pedcc(5, 8, random_state=1)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, pedcc(5, 8, random_state=0))


def test_pedcc_repulsion_when_simplex_impossible():
    k, d = 12, 3
    c = pedcc(k, d, random_state=0)
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 1.0, atol=1e-12)
    rng = np.random.RandomState(0)
    r = rng.randn(k, d)
    r /= np.linalg.norm(r, axis=1, keepdims=True)

    def min_dist(p):
        dd = np.linalg.norm(p[:, None] - p[None], axis=-1)
        return dd[~np.eye(k, dtype=bool)].min()

    # 12 points on the 2-sphere: the optimum is the icosahedron, min distance ~1.0515.
    assert min_dist(c) > 1.0 > min_dist(r)


def test_pedcc_single_cluster():
    c = pedcc(1, 4, random_state=0)
    assert c.shape == (1, 4) and np.isclose(np.linalg.norm(c), 1.0)


def test_predict_is_argmax_cosine_and_proba_is_tempered_softmax(small_digits):
    X, _ = small_digits
    est = ICAE(n_clusters=5, max_epochs=1, random_state=0, temperature=0.5).fit(X)
    z = est.transform(X)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-5)
    cos = z @ est.cluster_centers_.T
    np.testing.assert_array_equal(est.predict(X), cos.argmax(1))
    expected = np.exp(cos / 0.5)
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(est.predict_proba(X), expected, rtol=1e-4, atol=1e-6)
    assert est.score(X) == pytest.approx(cos.max(1).mean(), rel=1e-5)


def test_sampled_images_are_recognised_as_their_cluster(digits):
    X, _ = digits
    est = ICAE(n_clusters=10, max_epochs=15, random_state=0).fit(X)
    Xs, ys = est.sample(100)
    # The decoder maps centroid k (plus noise) to an image the encoder puts back near k.
    assert np.mean(est.predict(Xs) == ys) > 0.7


@pytest.mark.slow
def test_quality_beats_kmeans_on_digits(digits):
    """As a user runs it: defaults only, mean of 3 seeds (about a minute per fit)."""
    X, y = digits
    seeds = [0, 1, 2]
    icae = [cluster_accuracy(y, ICAE(n_clusters=10, random_state=s).fit_predict(X))
            for s in seeds]
    km = [cluster_accuracy(y, KMeans(n_clusters=10, n_init=10, random_state=s).fit_predict(X))
          for s in seeds]
    assert np.mean(icae) > np.mean(km), (icae, km)
