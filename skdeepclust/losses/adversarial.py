"""Wasserstein prior matching with a gradient penalty and the JSD mutual-information estimator
of DCCS (Zhao et al., ECCV 2020, Eq. 6, 8-11); its categorical KL (Eq. 7) is
:func:`~skdeepclust.losses.categorical_kl`."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "gradient_penalty",
    "jsd_mi_loss",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]


def wasserstein_critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """Eq. 11 without the penalty: ``E[C(fake)] - E[C(real)]``.

    ``real`` are draws of the prior P_Z, ``fake`` the encoder's latents. Its negative is the
    critic's estimate of ``W(Q_Z, P_Z)`` (Eq. 8; the curve of the paper's Fig. 3).
    """
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: Tensor) -> Tensor:
    """Eq. 10: ``-E[C(z)]`` over the encoder's latents ``z``."""
    return -fake_scores.mean()


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                     generator: torch.Generator | None = None, eps: float = 1e-12) -> Tensor:
    """WGAN-GP penalty (Gulrajani et al., 2017; DCCS Eq. 11, Algorithm 1 line 5).

    ``E[(||grad C(z_hat)||_2 - 1)^2]`` at ``z_hat = a * real + (1 - a) * fake`` with one
    ``a ~ U[0, 1]`` per row, drawn from ``generator``. Both inputs are detached (the penalty
    trains the critic only); the graph through the critic is kept, so the result can be
    back-propagated into the critic's parameters. ``eps`` inside the square root keeps the
    gradient finite where the critic's gradient vanishes (as in the authors' code).
    """
    real, fake = real.detach(), fake.detach()
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    alpha = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    z_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(z_hat)
    (grad,) = torch.autograd.grad(scores.sum(), z_hat, create_graph=True)
    norm = (grad.flatten(1).pow(2).sum(dim=1) + eps).sqrt()
    return (norm - 1).pow(2).mean()


def jsd_mi_loss(pos_scores: Tensor, neg_scores: Tensor) -> Tensor:
    """Jensen-Shannon mutual-information loss, in the form of the authors' code (Eq. 6).

    The binary cross-entropy of a discriminator that labels matched pairs ``(x, z)`` 1 and
    mismatched pairs 0, averaged over all ``2b`` rows:
    ``(E_pos[softplus(-T)] + E_neg[softplus(T)]) / 2`` with T the logits, i.e. half of
    Eq. 6. It is ``log 2`` when the discriminator cannot tell the pairs apart (T = 0) and
    falls to 0 as it separates them; minimising it maximises the JSD estimate of I(X, Z).
    """
    pos = F.softplus(-pos_scores).mean()
    neg = F.softplus(neg_scores).mean()
    return 0.5 * (pos + neg)
