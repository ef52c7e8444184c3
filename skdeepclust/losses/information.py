"""Information maximisation with tolerance and the consistency terms of GANIM (Ntelemis et
al., TNNLS 2021, Eq. 3-9), and the discriminator's L1 clip penalty (Sec. III-A)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .divergence import EPS, categorical_kl, kl_to_uniform

__all__ = [
    "conditional_entropy",
    "dropout_consistency_loss",
    "feature_clip_penalty",
    "gan_discriminator_loss",
    "gan_generator_loss",
    "information_maximization_loss",
    "information_terms",
    "marginal_kl",
]


def marginal_kl(probs: Tensor, delta: float = 0.0, eps: float = EPS) -> Tensor:
    """Eq. 3-4: ``max(KL(p(y) || U_K) - delta * log K, 0)`` with ``p(y)`` the mean row.

    ``KL(p(y) || U_K) = log K - H(p(y))``; the tolerance ``delta`` is a fraction of its
    maximum ``log K``, so a marginal that is uniform *enough* costs nothing (and gives no
    gradient). ``delta=0`` is plain information maximisation.
    """
    k = probs.shape[1]
    kl = kl_to_uniform(probs.mean(dim=0), inputs="probs", eps=eps)
    return F.relu(kl - delta * math.log(k)) if k > 1 else kl * 0.0


def conditional_entropy(probs: Tensor, eps: float = EPS) -> Tensor:
    """``H(Y | M)`` estimated as the mean row entropy ``-mean_i sum_k p_ik log p_ik`` (Eq. 4)."""
    return -(probs * probs.clamp(eps, 1.0).log()).sum(dim=1).mean()


def information_terms(probs: Tensor, delta: float = 0.0) -> tuple[Tensor, Tensor]:
    """``(marginal_kl(probs, delta), conditional_entropy(probs))``: the two parts of Eq. 4."""
    return marginal_kl(probs, delta), conditional_entropy(probs)


def information_maximization_loss(probs: Tensor, delta: float = 0.0,
                                  marginal_weight: float = 1.0) -> Tensor:
    """Negative mutual information with tolerance, Eq. 4 (to be minimised).

    ``marginal_weight * max(KL(p(y) || U_K) - delta * log K, 0) + H(Y | M)``, where
    ``p(y)`` is the mean of the rows of ``probs`` and ``K = probs.shape[1]``. With
    ``delta=0`` and ``marginal_weight=1`` this is ``-I(Y; M) = H(Y | M) - H(Y)`` up to the
    constant ``log K``.

    Parameters
    ----------
    probs : Tensor of shape (N, K)
        Soft assignments (rows sum to one).
    delta : float, default=0.0
        Tolerance, as a fraction of ``log K`` (the paper's ``delta = 1e-4 log K``).
    marginal_weight : float, default=1.0
        Weight of the marginal term; the authors' code uses 4 (see :class:`~skdeepclust.GANIM`).

    Returns
    -------
    Tensor
        A scalar.
    """
    marg, cond = information_terms(probs, delta)
    return marginal_weight * marg + cond


def dropout_consistency_loss(probs: Tensor, probs_dropped: Tensor) -> Tensor:
    """Eq. 8: ``mean_i KL(p(y | m_i) || p(y | m'_i))`` with ``m'`` the dropout features.

    Gradients flow through both sides, as in the authors' code.
    """
    return categorical_kl(probs, probs_dropped, inputs="probs").mean()


def feature_clip_penalty(pre_activation: Tensor, threshold: float = 20.0) -> Tensor:
    """The L1 clip penalty of Sec. III-A: ``sum max(|a| - threshold, 0)``.

    Summed (not averaged) over samples and features of the pre-activation ``a`` of the
    feature layer M, as in the authors' code; it keeps the features, and so the VAT radii
    that scale with their norm, bounded.
    """
    return F.relu(pre_activation.abs() - threshold).sum()


def gan_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """``BCE(D(x), 1) + BCE(D(G(z)), 0)``, each averaged over its batch."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def gan_generator_loss(fake_logits: Tensor) -> Tensor:
    """The non-saturating generator loss ``BCE(D(G(z)), 1)``."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
