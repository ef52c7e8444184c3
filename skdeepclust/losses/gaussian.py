"""Losses of Variational Clustering (Prasad et al., 2020): Gaussian KL, the diagonal
2-Wasserstein distance, and the ELBO of a Gaussian-mixture VAE summed over all clusters.

Shapes: ``B`` samples, ``K`` clusters, ``d`` latent dimensions, ``D`` features.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .divergence import categorical_kl, kl_to_uniform

__all__ = [
    "augmentation_loss",
    "bernoulli_log_likelihood",
    "elbo_terms",
    "gaussian_kl_diag",
    "gaussian_log_likelihood",
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


def elbo_terms(log_px: Tensor | None, logits: Tensor,
               kl_z: Tensor | None) -> tuple[Tensor | None, Tensor, Tensor | None]:
    """Per-sample terms of Eq. 13, summed over all ``K`` clusters with weights ``q(k|x)``.

    The one definition of the ELBO: training (each part a loss term, weighted) and
    ``VariationalClustering.score`` (their sum) both use it.

    Parameters
    ----------
    log_px : Tensor of shape (B, K) or None
        ``log p(x_i | z_ik)`` with ``z_ik`` drawn from ``q(z | x_i, k)``; ``None`` when the
        reconstruction part is not needed (its weight is zero).
    logits : Tensor of shape (B, K)
        Logits of ``q(k | x_i)``.
    kl_z : Tensor of shape (B, K) or None
        ``KL(q(z | x_i, k) || p(z | k))``, or ``None`` when not needed.

    Returns
    -------
    rec, kl_k, kl_z : Tensors of shape (B,)
        ``sum_k q_ik log_px_ik``, ``KL(q(k|x_i) || p(k))`` (uniform ``p(k)``) and
        ``sum_k q_ik kl_z_ik``; the ELBO is ``rec - kl_k - kl_z``. ``rec`` and ``kl_z`` are
        ``None`` when their input is.
    """
    q = torch.softmax(logits, dim=-1)
    rec = None if log_px is None else (q * log_px).sum(dim=-1)
    kl_zq = None if kl_z is None else (q * kl_z).sum(dim=-1)
    return rec, kl_to_uniform(logits), kl_zq


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
        q = torch.softmax(logits, dim=-1)
        cons = categorical_kl(logits, logits_aug)
    else:
        raise ValueError(f"consistency must be 'l2' or 'kl', got {consistency!r}.")
    w2 = w2_squared_diag_gaussian(mu, std, mu_aug, std_aug)
    return consistency_weight * cons + (q * w2).sum(dim=-1)
