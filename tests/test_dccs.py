"""DCCS: its losses against references, the critic / encoder schedule, and quality."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from skdeepclust import DCCS
from skdeepclust._data import InputSpec
from skdeepclust.losses import (
    gradient_penalty,
    jsd_mi_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from skdeepclust.metrics import cluster_accuracy


def _t(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


# ---------------------------------------------------------------- losses
def test_wasserstein_losses():
    real, fake = _t(6, 1, seed=1), _t(5, 1, seed=2)
    assert wasserstein_critic_loss(real, fake).item() == pytest.approx(
        fake.mean().item() - real.mean().item())
    assert wasserstein_generator_loss(fake).item() == pytest.approx(-fake.mean().item())


def test_gradient_penalty_matches_hand_computed_reference():
    # Linear critic C(z) = z @ w: the gradient is w everywhere, so the penalty is
    # (||w|| - 1)^2 whatever the interpolation.
    w = torch.tensor([[3.0], [4.0]], dtype=torch.float64)
    critic = lambda z: z @ w  # noqa: E731
    real, fake = _t(8, 2, seed=1), _t(8, 2, seed=2)
    gp = gradient_penalty(critic, real, fake, eps=0.0)
    assert gp.item() == pytest.approx((5.0 - 1.0) ** 2)


def test_gradient_penalty_interpolates_with_the_generator():
    # Quadratic critic C(z) = 0.5 ||z||^2: grad = z_hat, so the penalty is the mean of
    # (||a r + (1 - a) f|| - 1)^2 with a drawn from the same generator.
    critic = lambda z: 0.5 * (z ** 2).sum(dim=1, keepdim=True)  # noqa: E731
    real, fake = _t(7, 3, seed=3), _t(7, 3, seed=4)
    got = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(5))
    a = torch.rand((7, 1), generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    z_hat = (a * real + (1 - a) * fake).numpy()
    ref = np.mean((np.sqrt((z_hat ** 2).sum(1) + 1e-12) - 1) ** 2)
    assert got.item() == pytest.approx(ref, rel=1e-10)


def test_gradient_penalty_trains_the_critic_only():
    critic = nn.Linear(3, 1).double()
    real = _t(4, 3, seed=1).requires_grad_(True)
    fake = _t(4, 3, seed=2).requires_grad_(True)
    gradient_penalty(critic, real, fake).backward()
    assert critic.weight.grad is not None and critic.weight.grad.abs().sum() > 0
    assert real.grad is None and fake.grad is None


def test_gradient_penalty_gradcheck():
    real, fake = _t(4, 3, seed=1), _t(4, 3, seed=2)

    def fn(w):
        critic = lambda z: torch.tanh(z @ w)  # noqa: E731
        return gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))

    assert torch.autograd.gradcheck(fn, (_t(3, 1, seed=3).requires_grad_(True),))


def test_jsd_mi_loss_value_and_sign_on_a_constructed_batch():
    # Chance: log 2. A discriminator that separates matched from mismatched pairs: -> 0.
    zeros = torch.zeros(5, 1)
    assert jsd_mi_loss(zeros, zeros).item() == pytest.approx(math.log(2))
    good = jsd_mi_loss(torch.full((5, 1), 5.0), torch.full((5, 1), -5.0)).item()
    bad = jsd_mi_loss(torch.full((5, 1), -5.0), torch.full((5, 1), 5.0)).item()
    assert good < math.log(2) < bad
    pos, neg = _t(6, 1, seed=1), _t(6, 1, seed=2)
    # Reference: BCE with logits, labels 1 for positives and 0 for negatives, mean over 2b.
    ref = nn.functional.binary_cross_entropy_with_logits(
        torch.cat([pos, neg]), torch.cat([torch.ones(6, 1), torch.zeros(6, 1)]).double())
    assert jsd_mi_loss(pos, neg).item() == pytest.approx(ref.item(), rel=1e-12)
    assert torch.autograd.gradcheck(jsd_mi_loss, (pos.requires_grad_(True),
                                                  neg.requires_grad_(True)))


# ---------------------------------------------------------------- training schedule
def _count_steps(est):
    net = est.net_
    calls = {"critic": 0, "encoder": 0}
    for name in calls:
        method = getattr(net, f"{name}_step")

        def counted(*args, _m=method, _n=name, **kwargs):
            calls[_n] += 1
            return _m(*args, **kwargs)

        setattr(net, f"{name}_step", counted)
    return calls


def test_schedule_n_critic_steps_then_one_encoder_step(small_digits):
    X, _ = small_digits  # 300 samples, batch 64: 5 batches per epoch
    est = DCCS(n_clusters=4, max_epochs=1, batch_size=64, random_state=0).fit(X)
    net = est.net_
    calls = _count_steps(est)
    net.partial_fit(torch.as_tensor(est._check_X(X, reset=False)))  # 5 more batches
    # The counter runs across epochs (not reset): steps 5..9 -> 9 is an encoder step.
    assert net.dccs_step_ == 10
    assert calls == {"critic": 4, "encoder": 1}
    assert [net.is_critic_step(t) for t in range(10)] == [True] * 4 + [False] + [True] * 4 + [
        False]


def test_schedule_counts_over_a_fit_and_without_critic(small_digits):
    X, _ = small_digits
    est = DCCS(n_clusters=4, max_epochs=4, n_critic=2, random_state=0).fit(X)
    assert est.net_.dccs_step_ == 20
    hist = est.history_
    # Each term is a mean over the steps that computed it (not diluted by the others): this
    # early in a fit the MI loss is near chance, log 2 = 0.69; a mean over all steps, two
    # in three of them critic steps, would be a third of that.
    assert all(0.45 < h["mi"] < 5.0 for h in hist)
    est = DCCS(n_clusters=4, max_epochs=2, adv_weight=0.0, random_state=0).fit(X)
    assert not any(est.net_.is_critic_step(t) for t in range(10))
    assert "w_estimate" not in est.history_[-1] and "critic" not in est.history_[-1]


def test_balance_term_is_off_by_default_and_evens_out_the_clusters(small_digits):
    X, _ = small_digits
    off = DCCS(n_clusters=4, max_epochs=3, random_state=0).fit(X)
    assert "balance" not in off.history_[-1]
    # Without the critic nothing else balances the clusters: the balance term alone must
    # bring the mean cluster probability over the data set towards uniform (the collapse
    # guard, which would turn it on in the base fit, is off).
    kw = dict(n_clusters=4, max_epochs=15, n_critic=0, adv_weight=0.0, mi_weight=0.0,
              balance_warmup=0, collapse_threshold=0.0, random_state=0)
    base = DCCS(**kw).fit(X)
    bal = DCCS(balance_weight=5.0, **kw).fit(X)
    hist = bal.history_
    assert all(0.0 <= h["balance"] <= math.log(4) + 1e-6 for h in hist)
    assert hist[-1]["balance"] < hist[0]["balance"]

    def kl_to_uniform(est):
        p = est.predict_proba(X).mean(0)
        return float(np.sum(p * np.log(np.clip(p, 1e-12, None))) + math.log(4))

    assert kl_to_uniform(bal) < 0.05 < kl_to_uniform(base)


def test_balance_warmup_schedule(small_digits):
    X, _ = small_digits
    # The schedule alone: the collapse guard, which may override it, is off here (its
    # own test is in test_callbacks.py).
    off = {"collapse_threshold": 0.0}
    # "auto": the first max_epochs // 8 epochs at weight 1, then balance_weight.
    est = DCCS(n_clusters=4, max_epochs=16, random_state=0, **off).fit(X)
    assert [h["balance_weight"] for h in est.history_] == [1.0] * 2 + [0.0] * 14
    assert all("balance" in h for h in est.history_[:2])
    assert not any("balance" in h for h in est.history_[2:])  # weight 0: not computed
    # An explicit warm-up, then a constant weight; a weight above 1 is kept throughout.
    est = DCCS(n_clusters=4, max_epochs=4, balance_warmup=1, balance_weight=0.5,
               random_state=0, **off).fit(X)
    assert [h["balance_weight"] for h in est.history_] == [1.0, 0.5, 0.5, 0.5]
    est = DCCS(n_clusters=4, max_epochs=3, balance_warmup=5, balance_weight=2.0,
               random_state=0, **off).fit(X)
    assert [h["balance_weight"] for h in est.history_] == [2.0] * 3
    # 0: no warm-up, no schedule (the paper's objective from the first step).
    est = DCCS(n_clusters=4, max_epochs=16, balance_warmup=0, random_state=0, **off).fit(X)
    assert not any("balance" in h or "balance_weight" in h for h in est.history_)


def test_w_estimate_in_history_and_usable_for_early_stopping(small_digits):
    from skorch.callbacks import EarlyStopping

    X, _ = small_digits
    stop = EarlyStopping(monitor="w_estimate", lower_is_better=True, patience=1,
                         threshold=10.0)  # unreachable improvement: stops early
    est = DCCS(n_clusters=4, max_epochs=30, random_state=0, callbacks=[stop]).fit(X)
    hist = est.history_
    assert 1 < len(hist) < 30
    for h in hist:
        assert np.isfinite(h["w_estimate"])
        assert h["w_estimate"] == pytest.approx(-h["critic"])


def test_outputs_latent_layout_and_decoder_does_not_change_clustering(small_digits):
    X, _ = small_digits
    a = DCCS(n_clusters=4, style_dim=7, max_epochs=3, random_state=0).fit(X)
    b = DCCS(n_clusters=4, style_dim=7, max_epochs=3, random_state=0, decoder_weight=0.0).fit(X)
    Z = a.transform(X)
    assert Z.shape == (len(X), 4 + 7)
    np.testing.assert_allclose(Z[:, :4], a.predict_proba(X), rtol=1e-5, atol=1e-6)
    # The decoder trains on detached latents: the encoder is the same with or without it.
    np.testing.assert_allclose(Z, b.transform(X), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="decoder"):
        b.sample(2)


def test_bad_method_params(small_digits):
    X, _ = small_digits
    for params, match in [({"style_dim": 0}, "style_dim"), ({"n_critic": -1}, "n_critic"),
                          ({"prior_std": 0.0}, "prior_std"), ({"grayscale": "yes"}, "grayscale"),
                          ({"balance_warmup": -1}, "balance_warmup"),
                          ({"balance_warmup": "long"}, "balance_warmup"),
                          ({"collapse_threshold": 1.5}, "collapse_threshold")]:
        with pytest.raises(ValueError, match=match):
            DCCS(max_epochs=1, **params).fit(X)


def test_colour_grayscale_option():
    X = np.random.RandomState(0).rand(40, 12, 12, 3).astype(np.float32)
    grey = DCCS(n_clusters=3, max_epochs=2, random_state=0).fit(X)
    colour = DCCS(n_clusters=3, max_epochs=2, random_state=0, grayscale=False).fit(X)
    assert grey.net_.module_.trunk[0].in_channels == 1
    assert colour.net_.module_.trunk[0].in_channels == 3
    assert grey.sample(2)[0].shape == (2, 12, 12, 3)


# ---------------------------------------------------------------- quality
@pytest.mark.slow
def test_beats_kmeans_on_digits(digits):
    from sklearn.cluster import KMeans

    X, y = digits
    seeds = (0, 1, 2)
    ours = [cluster_accuracy(y, DCCS(n_clusters=10, random_state=s).fit_predict(X))
            for s in seeds]
    km = [cluster_accuracy(y, KMeans(10, n_init=10, random_state=s).fit_predict(X))
          for s in seeds]
    assert np.mean(ours) > np.mean(km), (ours, km)


@pytest.mark.parametrize("side, feature_dim, width", [
    # Encoder28 trunk and narrow C / D / encoder layer up to 47 pixels (a CPU budget: the
    # residual trunk cost 17x more per step at 32x32); the residual trunk and the authors'
    # widths from 48 pixels.
    (28, 128 * 5 * 5, 256),
    (32, 128 * 6 * 6, 256),
    (47, 128 * 10 * 10, 256),
    (48, None, 1024),
])
def test_networks_follow_the_image_size(side, feature_dim, width):
    spec = InputSpec(side * side, (side, side, 1), 1000)
    est = DCCS(n_clusters=10)
    encoder, params = est._build_module(spec), est._net_params(spec)
    if feature_dim is not None:
        assert isinstance(encoder.trunk[0], nn.Conv2d) and encoder.feature_dim == feature_dim
    else:
        assert not isinstance(encoder.trunk[0], nn.Conv2d)  # residual blocks
    assert encoder.head[0].out_features == width
    assert params["critic"][0].out_features == width
    assert params["discriminator"][0].out_features == width
    assert params["discriminator"][0].in_features == encoder.feature_dim + 10 + 50
