"""Maximum mean discrepancy (ICAE paper, Eq. 2) with a swappable kernel."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["multi_gaussian_kernel", "mmd", "pairwise_sq_dists"]


def pairwise_sq_dists(a: Tensor, b: Tensor) -> Tensor:
    """Squared Euclidean distances between the rows of ``a`` and ``b``, ``(len(a), len(b))``.

    Computed as ``|a|^2 + |b|^2 - 2 a b^T``, one matrix product, and clamped at 0 against
    rounding. The direct difference ``a[:, None] - b[None]`` is exact but materialises a
    ``(len(a), len(b), d)`` tensor and its gradient: for ICAE's pooled batch of 138 latents
    of 60 dimensions that made the MMD about a fifth of a training epoch on the CPU
    (measured on the digits: 2.2 s against 1.7 s an epoch). The rounding error is of the
    order of the float epsilon times the squared norms, far below the kernel bandwidths.
    """
    sq = a.pow(2).sum(1)[:, None] + b.pow(2).sum(1)[None, :] - 2.0 * (a @ b.T)
    return sq.clamp_min(0.0)


def multi_gaussian_kernel(
    sq_dists: Tensor, n_kernels: int = 5, mul: float = 2.0, bandwidth: float | None = None
) -> Tensor:
    """Sum of ``n_kernels`` Gaussian kernels at bandwidths ``b * mul**(i - n_kernels // 2)``.

    Parameters
    ----------
    sq_dists : Tensor of shape (n, n)
        Squared distances within the pooled sample.
    n_kernels : int, default=5
        Number of bandwidths.
    mul : float, default=2.0
        Ratio between consecutive bandwidths.
    bandwidth : float or None, default=None
        Middle bandwidth ``b``. ``None`` uses the mean off-diagonal squared distance of the
        pooled sample (detached, so it is a scale, not something to optimise), as the ICAE
        authors' code does.

    Returns
    -------
    K : Tensor of shape (n, n)
    """
    n = sq_dists.shape[0]
    if bandwidth is None:
        b = sq_dists.detach().sum() / max(n * n - n, 1)
        b = b.clamp(min=1e-6)
    else:
        b = torch.as_tensor(float(bandwidth), dtype=sq_dists.dtype, device=sq_dists.device)
    k = None
    for i in range(n_kernels):
        term = torch.exp(-sq_dists / (b * mul ** (i - n_kernels // 2)))
        k = term if k is None else k + term
    return k


def mmd(
    x: Tensor,
    y: Tensor,
    kernel: Callable[[Tensor], Tensor] = multi_gaussian_kernel,
    unbiased: bool = False,
) -> Tensor:
    """Squared maximum mean discrepancy between the samples ``x`` and ``y``.

    ``MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y)``.

    Parameters
    ----------
    x : Tensor of shape (n, d)
    y : Tensor of shape (m, d)
    kernel : callable, default=:func:`multi_gaussian_kernel`
        Maps the ``(n + m, n + m)`` squared distances of the pooled sample to a Gram matrix.
    unbiased : bool, default=False
        ``False``: the V-statistic, the exact MMD between ``x``'s empirical distribution and
        a discrete ``y`` (the right estimate when ``y`` is the full support of the target,
        as the PEDCC centroids are; never negative). ``True``: the U-statistic of the
        paper's Eq. 2, which drops the ``i == j`` terms within each sample.

    Returns
    -------
    Tensor
        A scalar.
    """
    n, m = len(x), len(y)
    z = torch.cat([x, y], dim=0)
    k = kernel(pairwise_sq_dists(z, z))
    kxx, kyy, kxy = k[:n, :n], k[n:, n:], k[:n, n:]
    if unbiased:
        if n < 2 or m < 2:
            raise ValueError("The unbiased MMD needs at least two samples on each side.")
        exx = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
        eyy = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    else:
        exx, eyy = kxx.mean(), kyy.mean()
    return exx + eyy - 2 * kxy.mean()
