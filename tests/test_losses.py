"""Each loss against a plain reference implementation, and gradcheck in float64."""

import numpy as np
import pytest
import torch
from scipy.signal import correlate2d

from skdeepclust.losses import (
    latent_consistency,
    mmd,
    multi_gaussian_kernel,
    pairwise_sq_dists,
    sobel,
    sobel_power_loss,
)


def _rng_tensor(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def _ref_multi_kernel(z, n_kernels=5, mul=2.0):
    """Loop-based reference of the authors' multi-bandwidth Gaussian kernel."""
    n = len(z)
    d = np.array([[np.sum((z[i] - z[j]) ** 2) for j in range(n)] for i in range(n)])
    b = d.sum() / (n * n - n)
    return sum(np.exp(-d / (b * mul ** (i - n_kernels // 2))) for i in range(n_kernels))


def _ref_mmd(x, y, unbiased):
    n, m = len(x), len(y)
    k = _ref_multi_kernel(np.concatenate([x, y]))
    kxx, kyy, kxy = k[:n, :n], k[n:, n:], k[:n, n:]
    if unbiased:
        exx = (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
        eyy = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    else:
        exx, eyy = kxx.mean(), kyy.mean()
    return exx + eyy - 2 * kxy.mean()


@pytest.mark.parametrize("unbiased", [False, True])
def test_mmd_matches_reference(unbiased):
    x, y = _rng_tensor(7, 3, seed=1), _rng_tensor(4, 3, seed=2)
    got = mmd(x, y, unbiased=unbiased).item()
    assert got == pytest.approx(_ref_mmd(x.numpy(), y.numpy(), unbiased), rel=1e-10)


def test_mmd_is_zero_for_identical_samples_and_grows_with_shift():
    x = _rng_tensor(20, 4)
    assert mmd(x, x).item() == pytest.approx(0.0, abs=1e-12)
    fixed = lambda d: multi_gaussian_kernel(d, bandwidth=1.0)  # noqa: E731
    small = mmd(x, x + 0.1, kernel=fixed).item()
    large = mmd(x, x + 1.0, kernel=fixed).item()
    assert 0 < small < large


def test_pairwise_sq_dists_matches_difference_and_is_never_negative():
    a, b = _rng_tensor(9, 5, seed=14), _rng_tensor(4, 5, seed=15)
    direct = (a[:, None, :] - b[None, :, :]).pow(2).sum(-1)
    torch.testing.assert_close(pairwise_sq_dists(a, b), direct)
    # Unit vectors against themselves (ICAE's latents): rounding must not go below 0.
    u = torch.nn.functional.normalize(_rng_tensor(50, 60, seed=16).float(), dim=1)
    d = pairwise_sq_dists(u, u)
    assert (d >= 0).all()
    assert d.diagonal().abs().max().item() < 1e-5


def test_mmd_kernel_is_swappable():
    x, y = _rng_tensor(5, 2, seed=3), _rng_tensor(6, 2, seed=4)
    linear = lambda d: -d  # noqa: E731  (energy-distance-like kernel)
    d = pairwise_sq_dists(torch.cat([x, y]), torch.cat([x, y]))
    expected = -d[:5, :5].mean() - d[5:, 5:].mean() + 2 * d[:5, 5:].mean()
    assert mmd(x, y, kernel=linear).item() == pytest.approx(expected.item())


def test_mmd_gradcheck():
    # The adaptive bandwidth is deliberately detached (a scale, not a quantity to
    # optimise), so the exact derivative is checked with the bandwidth fixed.
    x = _rng_tensor(6, 3, seed=5).requires_grad_()
    y = _rng_tensor(3, 3, seed=6)
    fixed = lambda d: multi_gaussian_kernel(d, bandwidth=1.5)  # noqa: E731
    assert torch.autograd.gradcheck(lambda a: mmd(a, y, kernel=fixed), (x,))
    assert torch.autograd.gradcheck(lambda a: mmd(a, y, kernel=fixed, unbiased=True), (x,))


def test_sobel_matches_direct_correlation():
    x = _rng_tensor(2, 3, 6, 7, seed=7)
    gx, gy = sobel(x)
    kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
    for n in range(2):
        for c in range(3):
            img = x[n, c].numpy()
            np.testing.assert_allclose(gx[n, c].numpy(), correlate2d(img, kx, mode="same"))
            np.testing.assert_allclose(gy[n, c].numpy(), correlate2d(img, kx.T, mode="same"))


def test_sobel_power_loss_matches_reference():
    y, x = _rng_tensor(3, 1, 5, 5, seed=8), _rng_tensor(3, 1, 5, 5, seed=9)
    kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)

    def power(img):
        return np.mean(correlate2d(img, kx, "same") ** 2) + np.mean(correlate2d(img, kx.T, "same") ** 2)

    ref = np.mean([abs(power(y[i, 0].numpy()) - power(x[i, 0].numpy())) for i in range(3)])
    assert sobel_power_loss(y, x).item() == pytest.approx(ref, rel=1e-10)
    # Edge power, not edge position: a shifted copy of a periodic pattern costs nothing.
    stripes = torch.zeros(1, 1, 8, 8, dtype=torch.float64)
    stripes[..., ::2] = 1.0
    assert sobel_power_loss(stripes, stripes).item() == 0.0


def test_sobel_power_loss_gradcheck():
    y = _rng_tensor(2, 2, 4, 4, seed=10).requires_grad_()
    x = _rng_tensor(2, 2, 4, 4, seed=11)
    assert torch.autograd.gradcheck(lambda a: sobel_power_loss(a, x), (y,))


def test_latent_consistency_reference_and_gradcheck():
    z, w = _rng_tensor(5, 4, seed=12), _rng_tensor(5, 4, seed=13)
    ref = np.mean([np.sum((z[i].numpy() - w[i].numpy()) ** 2) for i in range(5)])
    assert latent_consistency(z, w).item() == pytest.approx(ref)
    z.requires_grad_()
    assert torch.autograd.gradcheck(lambda a: latent_consistency(a, w), (z,))


# ---------------------------------------------------------------- Variational Clustering
@pytest.mark.parametrize("consistency", ["l2", "kl"])
def test_augmentation_loss_consistency_forms(consistency):
    from torch.distributions import Categorical, kl_divergence

    from skdeepclust.losses import augmentation_loss, w2_squared_diag_gaussian

    B, K, d = 5, 4, 3
    lg, lg2 = _rng_tensor(B, K, seed=0), _rng_tensor(B, K, seed=1)
    mu, mu2 = _rng_tensor(B, K, d, seed=2), _rng_tensor(B, K, d, seed=3)
    s, s2 = _rng_tensor(B, K, d, seed=4).exp(), _rng_tensor(B, K, d, seed=5).exp()
    q, q2 = torch.softmax(lg, -1), torch.softmax(lg2, -1)
    if consistency == "l2":
        cons = ((q - q2) ** 2).sum(-1)
    else:
        cons = kl_divergence(Categorical(probs=q), Categorical(probs=q2))
    w2 = (q * w2_squared_diag_gaussian(mu, s, mu2, s2)).sum(-1)
    for c in (1.0, 3.0):
        got = augmentation_loss(lg, lg2, mu, s, mu2, s2, consistency=consistency,
                                consistency_weight=c)
        torch.testing.assert_close(got, c * cons + w2)
    # Zero for identical views; the consistency part alone is zero with weight 0.
    zero = augmentation_loss(lg, lg, mu, s, mu, s, consistency=consistency)
    torch.testing.assert_close(zero, torch.zeros(B, dtype=lg.dtype))
    only_w2 = augmentation_loss(lg, lg2, mu, s, mu2, s2, consistency=consistency,
                                consistency_weight=0.0)
    torch.testing.assert_close(only_w2, w2)
    # Stable for near one-hot rows (the KL form uses log_softmax).
    sharp = augmentation_loss(100 * lg, 100 * lg2, mu, s, mu2, s2, consistency=consistency)
    assert torch.isfinite(sharp).all()


@pytest.mark.parametrize("consistency", ["l2", "kl"])
def test_augmentation_loss_gradcheck(consistency):
    from skdeepclust.losses import augmentation_loss

    args = [_rng_tensor(3, 4, seed=0).requires_grad_(), _rng_tensor(3, 4, seed=1).requires_grad_(),
            _rng_tensor(3, 4, 2, seed=2).requires_grad_(),
            _rng_tensor(3, 4, 2, seed=3).exp().detach().requires_grad_(),
            _rng_tensor(3, 4, 2, seed=4).requires_grad_(),
            _rng_tensor(3, 4, 2, seed=5).exp().detach().requires_grad_()]
    fn = lambda *a: augmentation_loss(*a, consistency=consistency, consistency_weight=3.0)  # noqa
    assert torch.autograd.gradcheck(fn, args)


def test_augmentation_loss_rejects_unknown_consistency():
    from skdeepclust.losses import augmentation_loss

    lg, mu = torch.zeros(2, 3), torch.zeros(2, 3, 1)
    with pytest.raises(ValueError, match="consistency"):
        augmentation_loss(lg, lg, mu, mu + 1, mu, mu + 1, consistency="js")
