"""GANIM specifics: Sobel front-end, information maximisation, VAT, head choice, sampling,
and quality on load_digits."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.signal import correlate2d
from sklearn.cluster import KMeans

import skdeepclust.ganim as ganim_module
from skdeepclust import GANIM
from skdeepclust.losses import (
    categorical_kl,
    conditional_entropy,
    dropout_consistency_loss,
    feature_clip_penalty,
    information_maximization_loss,
    marginal_kl,
    vat_loss,
    virtual_adversarial_perturbation,
)
from skdeepclust.metrics import cluster_accuracy
from skdeepclust.nn import SobelFrontEnd
from skdeepclust.nn.gan import dcgan_blocks

KX = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])


# ---------------------------------------------------------------- Sobel front-end
@pytest.mark.parametrize("channels", [1, 3])
def test_sobel_front_end_matches_direct_correlation(channels):
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, (2, channels, 7, 9))
    out = SobelFrontEnd(channels).double()(torch.from_numpy(x)).numpy()
    assert out.shape == (2, channels + 2, 7, 9)
    for i in range(2):
        unit = (x[i] + 1) / 2
        grey = unit[0] if channels == 1 else np.tensordot((0.299, 0.587, 0.114), unit, axes=1)
        np.testing.assert_allclose(out[i, 0], correlate2d(grey, KX, mode="same"), atol=1e-6)
        np.testing.assert_allclose(out[i, 1], correlate2d(grey, KX.T, mode="same"), atol=1e-6)
        np.testing.assert_array_equal(out[i, 2:], x[i])  # the image is kept beside the edges


def test_sobel_sign_on_a_vertical_step():
    x = -torch.ones(1, 1, 6, 6)
    x[..., 3:] = 1.0  # dark left, bright right
    dx, dy = SobelFrontEnd(1)(x)[0, :2]
    assert (dx[1:-1, 2:4] > 0).all() and (dy[1:-1, 1:-1] == 0).all()


@pytest.mark.parametrize("side, blocks", [(8, 2), (24, 3), (28, 2), (32, 3), (10, 1), (9, 2)])
def test_dcgan_blocks(side, blocks):
    assert dcgan_blocks(side, side) == blocks


# ---------------------------------------------------------------- information maximisation
def _one_hot(labels, k):
    return F.one_hot(torch.as_tensor(labels), k).double()


def test_information_loss_reference_values():
    k = 4
    balanced = _one_hot(np.arange(12) % k, k)
    assert information_maximization_loss(balanced).item() == pytest.approx(0.0, abs=1e-12)
    same = _one_hot(np.zeros(12, int), k)
    assert information_maximization_loss(same, marginal_weight=4.0).item() == pytest.approx(
        4 * math.log(k))
    uniform = torch.full((12, k), 1.0 / k, dtype=torch.float64)
    assert information_maximization_loss(uniform).item() == pytest.approx(math.log(k))


def test_information_loss_matches_numpy_reference():
    rng = np.random.RandomState(0)
    p = rng.dirichlet(np.ones(5) * 0.5, size=20)
    p_bar = p.mean(0)
    marg = np.sum(p_bar * np.log(5 * p_bar))
    cond = -np.mean(np.sum(p * np.log(p), axis=1))
    got = information_maximization_loss(torch.from_numpy(p), 0.0, 4.0).item()
    assert got == pytest.approx(4 * marg + cond, rel=1e-10)
    # A tolerance below the marginal KL subtracts delta * log K, one above it zeroes it.
    small = 0.5 * marg / math.log(5)
    assert marginal_kl(torch.from_numpy(p), small).item() == pytest.approx(0.5 * marg)
    assert marginal_kl(torch.from_numpy(p), 2 * marg / math.log(5)).item() == 0.0


def test_tolerance_removes_marginal_gradient():
    rng = np.random.RandomState(1)
    logits = torch.tensor(rng.randn(30, 3) * 0.1, requires_grad=True)
    p = logits.softmax(1)
    kl = marginal_kl(p).item()
    assert kl > 0
    (g_free,) = torch.autograd.grad(marginal_kl(p, 0.0), logits, retain_graph=True)
    (g_tol,) = torch.autograd.grad(marginal_kl(p, 2 * kl / math.log(3)), logits)
    assert g_free.abs().sum() > 0 and g_tol.abs().sum() == 0


def test_kl_and_dropout_consistency():
    p = torch.tensor([[0.5, 0.5], [1.0, 0.0]], dtype=torch.float64)
    q = torch.tensor([[0.25, 0.75], [0.5, 0.5]], dtype=torch.float64)
    expected = [0.5 * math.log(2) + 0.5 * math.log(0.5 / 0.75), math.log(2)]
    np.testing.assert_allclose(categorical_kl(p, q, inputs="probs").numpy(), expected)
    assert categorical_kl(p, p, inputs="probs").abs().max() < 1e-12
    assert dropout_consistency_loss(p, q).item() == pytest.approx(np.mean(expected))


def test_feature_clip_penalty_equals_authors_form():
    a = torch.tensor([[-30.0, -5.0, 0.0], [19.0, 21.0, 45.0]], dtype=torch.float64)
    m = F.leaky_relu(a, 0.2)  # the code penalises the activation M
    code = F.relu(m - 20).sum() + F.relu(-m / 0.2 - 20).sum()
    assert feature_clip_penalty(a).item() == pytest.approx(10 + 1 + 25)
    assert feature_clip_penalty(a).item() == pytest.approx(code.item())


def test_gradcheck_pure_losses():
    rng = np.random.RandomState(0)
    logits = torch.tensor(rng.randn(6, 4), requires_grad=True)
    logits2 = torch.tensor(rng.randn(6, 4), requires_grad=True)

    def info(lg):
        return information_maximization_loss(lg.softmax(1), 1e-3, 4.0)

    def cond(lg):
        return conditional_entropy(lg.softmax(1))

    def drop(lg, lg2):
        return dropout_consistency_loss(lg.softmax(1), lg2.softmax(1))

    assert torch.autograd.gradcheck(info, (logits,))
    assert torch.autograd.gradcheck(cond, (logits,))
    assert torch.autograd.gradcheck(drop, (logits, logits2))
    a = torch.tensor(rng.uniform(-40, 40, (5, 3)), requires_grad=True)
    a = a.detach().masked_fill((a.detach().abs() - 20).abs() < 1, 30.0).requires_grad_(True)
    assert torch.autograd.gradcheck(feature_clip_penalty, (a,))


# ---------------------------------------------------------------- VAT
def _toy_classifier():
    torch.manual_seed(0)
    lin = torch.nn.Linear(5, 3).double()
    return lambda m: lin(m).softmax(1), lin


def test_vat_direction_increases_kl_more_than_random():
    fn, lin = _toy_classifier()
    gen = torch.Generator().manual_seed(0)
    m = torch.randn(200, 5, dtype=torch.float64, generator=gen).requires_grad_(True)
    p = fn(m)
    r = virtual_adversarial_perturbation(fn, m, p, xi=1e-2, eps=0.3, generator=gen)
    assert not r.requires_grad and m.grad is None and lin.weight.grad is None
    np.testing.assert_allclose(r.norm(dim=1).numpy(), 0.3 * m.detach().norm(dim=1).numpy(),
                               rtol=1e-6)
    with torch.no_grad():
        kl_adv = categorical_kl(p, fn(m + r), inputs="probs").mean()
        rand = torch.randn(r.shape, dtype=torch.float64, generator=gen)
        rand = rand / rand.norm(dim=1, keepdim=True) * r.norm(dim=1, keepdim=True)
        kl_rand = categorical_kl(p, fn(m + rand), inputs="probs").mean()
    assert kl_adv > 2 * kl_rand
    loss = vat_loss(fn, m.detach(), xi=1e-2, eps=0.3, generator=gen)
    assert loss.item() > 0 and loss.requires_grad


# ---------------------------------------------------------------- estimator
@pytest.fixture(scope="module")
def fitted(small_digits):
    X, _ = small_digits
    # dropout_weight=0.5 (the paper's) so that the fixture covers every term of Eq. 9.
    return GANIM(n_clusters=4, gan_epochs=2, max_epochs=10, batch_size=64,
                 dropout_weight=0.5, random_state=0).fit(X)


def test_two_stages_and_their_terms_in_history(fitted):
    h = fitted.history_
    assert h[:, "stage"] == ["gan"] * 2 + ["classifier"] * 8
    assert {"disc", "gen", "clip"} <= set(h[0]) and "marginal" not in h[0]
    assert {"marginal", "entropy", "vat", "dropout"} <= set(h[-1]) and "disc" not in h[-1]
    assert fitted.net_.generator_ is not None and fitted.net_.optimizer_gen_ is not None


def test_dropout_term_is_skipped_by_default(small_digits, monkeypatch):
    # dropout_weight=0 (the default) must not even run the discriminator on dropout
    # copies: that pass is what makes the term cost half a classifier step.
    X, _ = small_digits
    calls = []
    orig = ganim_module.GANIMNet.features

    def spy(self, X, dropout=0.0, batch_size=1024):
        calls.append(dropout)
        return orig(self, X, dropout, batch_size)

    monkeypatch.setattr(ganim_module.GANIMNet, "features", spy)
    est = GANIM(n_clusters=4, gan_epochs=1, max_epochs=3, batch_size=64,
                random_state=0).fit(X)
    assert est.dropout_weight == 0.0
    assert "dropout" not in est.history_[-1] and "vat" in est.history_[-1]
    assert calls and all(d == 0.0 for d in calls)


def test_best_head_has_lowest_unsupervised_loss(fitted, small_digits):
    X, _ = small_digits
    est = fitted
    assert est.head_losses_.shape == (est.n_heads + est.n_overcluster_heads,)
    assert est.best_head_ == int(np.argmin(est.head_losses_[: est.n_heads]))
    assert int(est.net_.module_.best_head) == est.best_head_  # the module predicts with it
    X_net = torch.from_numpy(est._check_X(X, reset=False))
    again = est.net_.head_losses(X_net, seed=est.net_.seed).numpy()
    np.testing.assert_allclose(again, est.head_losses_, rtol=1e-4)
    # predict_proba is the best head's output
    net = est.net_
    net._set_training(False)
    with torch.no_grad():
        probs = net.module_(net.discriminator_(X_net, dropout=0.0)[0])
    np.testing.assert_allclose(est.predict_proba(X), probs[est.best_head_].numpy(),
                               rtol=1e-4, atol=1e-6)


def test_transform_modes(fitted, small_digits):
    X, _ = small_digits
    assert fitted.transform(X).shape == (len(X), 256)
    est = GANIM(n_clusters=3, gan_epochs=1, max_epochs=2, transform_mode="proba",
                random_state=0).fit(X)
    np.testing.assert_allclose(est.transform(X), est.predict_proba(X), rtol=1e-5)


def test_sample_cluster_k_and_its_error(fitted, monkeypatch):
    _, y_all = fitted.sample(500)
    k = int(np.bincount(y_all).argmax())
    Xk, yk = fitted.sample(6, cluster=k)
    assert Xk.shape == (6, 64) and (yk == k).all()
    assert (fitted.predict(Xk) == k).mean() >= 0.8  # up to rounding at the data's edges

    def always_zero(x, head=0):
        return F.one_hot(torch.zeros(len(x), dtype=torch.long), fitted.n_clusters).float()

    # The net labels what it generates (the estimator only batches and converts).
    monkeypatch.setattr(fitted.net_, "cluster_proba", always_zero)
    monkeypatch.setattr(ganim_module, "_SAMPLE_MAX_BATCHES", 2)
    with pytest.raises(ValueError, match="never produces this cluster"):
        fitted.sample(3, cluster=1)
    assert fitted.sample(2, cluster=0)[1].tolist() == [0, 0]


@pytest.mark.parametrize("scaling", ["global", "per_feature", None])
def test_feature_scaling_sets_the_classifier_input_statistics(small_digits, scaling):
    X, _ = small_digits
    est = GANIM(n_clusters=3, gan_epochs=1, max_epochs=2, feature_scaling=scaling,
                random_state=0).fit(X)
    clf = est.net_.module_
    m = torch.from_numpy(est.transform(X))  # the frozen features M
    if scaling is None:  # the identity
        assert (clf.input_mean == 0).all() and (clf.input_scale == 1).all()
        return
    torch.testing.assert_close(clf.input_mean, m.mean(0), rtol=1e-4, atol=1e-5)
    expected = m.var(0).mean().sqrt().expand(m.shape[1]) if scaling == "global" else m.std(0)
    torch.testing.assert_close(clf.input_scale, expected.clamp_min(1e-6), rtol=1e-4, atol=1e-6)
    if scaling == "global":  # one number: the features keep their relative scales
        assert len(torch.unique(clf.input_scale)) == 1


def test_tabular_uses_mlp_networks():
    X = np.random.RandomState(0).randn(80, 5)
    est = GANIM(n_clusters=3, gan_epochs=2, max_epochs=5, random_state=0).fit(X)
    assert type(est.net_.discriminator_).__name__ == "MLPDiscriminator"
    assert est.sample(4)[0].shape == (4, 5)


def test_bad_ganim_params(small_digits):
    X, _ = small_digits
    for params, match in [({"n_heads": 0}, "n_heads"), ({"delta": -1.0}, "delta"),
                          ({"transform_mode": "x"}, "transform_mode"),
                          ({"gan_betas": (0.5,)}, "gan_betas"),
                          ({"hidden_dims": (0,)}, "hidden_dims"),
                          ({"feature_scaling": "std"}, "feature_scaling")]:
        with pytest.raises(ValueError, match=match):
            GANIM(max_epochs=2, gan_epochs=1, **params).fit(X)
    with pytest.warns(UserWarning, match="classifier is not trained"):
        GANIM(n_clusters=3, gan_epochs=2, max_epochs=2, random_state=0).fit(X)


# ---------------------------------------------------------------- quality
@pytest.mark.slow
def test_quality_on_digits_beats_kmeans(digits):
    X, y = digits
    kmeans = cluster_accuracy(y, KMeans(10, n_init=10, random_state=0).fit_predict(X))
    accs = [cluster_accuracy(y, GANIM(n_clusters=10, random_state=s).fit_predict(X))
            for s in (0, 1, 2)]
    assert np.mean(accs) > kmeans, (accs, kmeans)
