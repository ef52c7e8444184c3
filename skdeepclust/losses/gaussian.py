"""Losses of Variational Clustering (Prasad et al., 2020): Gaussian KL, the diagonal
2-Wasserstein distance, and the ELBO of a Gaussian-mixture VAE summed over all clusters.

Shapes: ``B`` samples, ``K`` clusters, ``d`` latent dimensions, ``D`` features.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "augmentation_loss",
    "bernoulli_log_likelihood",
    "categorical_kl_uniform",
    "elbo_terms",
    "gaussian_kl_diag",
    "gaussian_log_likelihood",
    "marginal_entropy_gap",
    "w2_squared_diag_gaussian",
]


def gaussian_kl_diag(mu_q: Tensor, logvar_q: Tensor, mu_p: Tensor, logvar_p: Tensor) -> Tensor:
    """``KL(N(mu_q, diag e^logvar_q) || N(mu_p, diag e^logvar_p))``, summed over the last
    dimension (closed form; the arguments broadcast)."""
    return 0.5 * (
        logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) * torch.exp(-logvar_p) - 1.0
    ).sum(dim=-1)


def w2_squared_diag_gaussian(mu1: Tensor, std1: Tensor, mu2: Tensor, std2: Tensor) -> Tensor:
    """Eq. 16-17: the *squared* 2-Wasserstein distance between diagonal Gaussians,
    ``||mu1 - mu2||^2 + ||std1 - std2||^2`` over the last dimension.

    Takes standard deviations, not variances (the gradient of a square root is infinite at 0).
    """
    return ((mu1 - mu2) ** 2).sum(dim=-1) + ((std1 - std2) ** 2).sum(dim=-1)


def categorical_kl_uniform(logits: Tensor) -> Tensor:
    """``KL(softmax(logits) || Uniform(K)) = sum_k q_k log q_k + log K`` per row.

    This is ``E_q[log q(k|x) - log p(k)]`` of Eq. 12-13 with the constant ``log p(k)`` kept,
    so that it is non-negative (0 for a uniform ``q``, ``log K`` for a one-hot one).
    """
    logq = F.log_softmax(logits, dim=-1)
    return (logq.exp() * logq).sum(dim=-1) + math.log(logits.shape[-1])


def bernoulli_log_likelihood(x: Tensor, logits: Tensor) -> Tensor:
    """``log Bernoulli(x; sigmoid(logits))`` summed over the last dimension; ``x`` may be soft
    (in [0, 1]), which gives the negative binary cross-entropy."""
    return -F.binary_cross_entropy_with_logits(
        logits, x.expand_as(logits), reduction="none"
    ).sum(dim=-1)


def gaussian_log_likelihood(x: Tensor, mean: Tensor, logvar: Tensor) -> Tensor:
    """``log N(x; mean, diag e^logvar)`` summed over the last dimension (broadcasts)."""
    return -0.5 * (
        math.log(2 * math.pi) + logvar + (x - mean) ** 2 * torch.exp(-logvar)
    ).sum(dim=-1)


def elbo_terms(log_px: Tensor, logits: Tensor, kl_z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Per-sample terms of Eq. 13, summed over all ``K`` clusters with weights ``q(k|x)``.

    Parameters
    ----------
    log_px : Tensor of shape (B, K)
        ``log p(x_i | z_ik)`` with ``z_ik`` drawn from ``q(z | x_i, k)``.
    logits : Tensor of shape (B, K)
        Logits of ``q(k | x_i)``.
    kl_z : Tensor of shape (B, K)
        ``KL(q(z | x_i, k) || p(z | k))``.

    Returns
    -------
    rec, kl_k, kl_z : Tensors of shape (B,)
        ``sum_k q_ik log_px_ik``, ``KL(q(k|x_i) || p(k))`` and ``sum_k q_ik kl_z_ik``; the
        ELBO is ``rec - kl_k - kl_z``.
    """
    q = torch.softmax(logits, dim=-1)
    return (q * log_px).sum(dim=-1), categorical_kl_uniform(logits), (q * kl_z).sum(dim=-1)


def augmentation_loss(logits: Tensor, logits_aug: Tensor, mu: Tensor, std: Tensor,
                      mu_aug: Tensor, std_aug: Tensor, consistency: str = "l2",
                      consistency_weight: float = 1.0) -> Tensor:
    """Eq. 14 with Eq. 17, per sample:
    ``c * D(q(.|x), q(.|x_aug)) + sum_k q(k|x) W2^2(q(z|x,k), q(z|x_aug,k))``.

    ``logits*``: (B, K); ``mu*``, ``std*``: (B, K, d). The expectation is over ``q(k|x)`` of
    the original image, and gradients flow through both views (the paper does not stop them).

    ``D`` is the paper's squared L2 distance ``||q(.|x) - q(.|x_aug)||^2`` when
    ``consistency="l2"``, or ``KL(q(.|x) || q(.|x_aug))`` when ``consistency="kl"`` (the
    IMSAT/UDA form, not in the paper); ``c`` is ``consistency_weight`` (paper: 1).
    """
    if consistency == "l2":
        q = torch.softmax(logits, dim=-1)
        cons = ((q - torch.softmax(logits_aug, dim=-1)) ** 2).sum(dim=-1)
    elif consistency == "kl":
        logq = F.log_softmax(logits, dim=-1)
        q = logq.exp()
        cons = (q * (logq - F.log_softmax(logits_aug, dim=-1))).sum(dim=-1)
    else:
        raise ValueError(f"consistency must be 'l2' or 'kl', got {consistency!r}.")
    w2 = w2_squared_diag_gaussian(mu, std, mu_aug, std_aug)
    return consistency_weight * cons + (q * w2).sum(dim=-1)


def marginal_entropy_gap(logits: Tensor) -> Tensor:
    """``log K - H(mean_i q(.|x_i))``, a scalar: 0 when the clusters are used equally.

    Not in the paper (see :class:`~skdeepclust.VariationalClustering`'s Notes): the
    balance term of IMSAT/IIC, which prevents every sample from joining one cluster.
    """
    k = logits.shape[-1]
    # log of the mean of softmax rows, computed in log space.
    log_pbar = torch.logsumexp(F.log_softmax(logits, dim=-1), dim=0) - math.log(len(logits))
    return (log_pbar.exp() * log_pbar).sum() + math.log(k)
