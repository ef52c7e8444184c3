"""Virtual adversarial training with radii proportional to each sample's norm (GANIM
paper, Eq. 5-7; Miyato et al., 2018)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from .divergence import categorical_kl

__all__ = ["virtual_adversarial_perturbation", "vat_loss"]


def _as_list(out) -> list[Tensor]:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def virtual_adversarial_perturbation(
    model_fn: Callable[[Tensor], Tensor | Sequence[Tensor]],
    m: Tensor,
    probs: Tensor | Sequence[Tensor],
    xi: float,
    eps: float,
    n_power: int = 1,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The virtual adversarial direction ``r_adv`` of Eq. 6-7, detached.

    Power iteration from a random unit direction ``d``: the KL between the (fixed) clean
    predictions and those at ``m + xi * ||m_i|| * d`` is differentiated with respect to the
    perturbed input, and the normalised gradient ``g`` gives
    ``r_adv = eps * ||m_i|| * g / ||g||``. The radii scale with each row's L2 norm (the
    authors' code; the paper writes the squared norm). With several heads the KL is averaged
    over them, so one direction is shared by all heads.

    Parameters
    ----------
    model_fn : callable
        Maps a batch ``(N, D)`` to probabilities ``(N, K)`` or a list of them (one per head).
    m : Tensor of shape (N, D)
        Clean inputs (features); no gradient flows into them or into the model.
    probs : Tensor or sequence of Tensor
        Clean predictions ``model_fn(m)`` (used as fixed targets).
    xi, eps : float
        Radii of the probe and of the returned perturbation, relative to ``||m_i||``
        (the paper's ``alpha_r`` and ``alpha_adv``).
    n_power : int, default=1
        Power iterations.
    generator : torch.Generator or None, default=None
        Source of the random start direction.

    Returns
    -------
    r_adv : Tensor of shape (N, D)
        Row norms equal ``eps * ||m_i||``.
    """
    m = m.detach()
    targets = [p.detach() for p in _as_list(probs)]
    norms = m.norm(dim=1, keepdim=True)
    d = torch.randn(m.shape, generator=generator, device=m.device, dtype=m.dtype)
    with torch.enable_grad():
        for _ in range(n_power):
            d = d / d.norm(dim=1, keepdim=True).clamp_min(1e-16)
            x = (m + xi * norms * d).requires_grad_(True)
            outs = _as_list(model_fn(x))
            kl = torch.stack([categorical_kl(p, q, inputs="probs").mean() for p, q in zip(targets, outs)]).mean()
            (d,) = torch.autograd.grad(kl, x)
    g = d / (d.norm(dim=1, keepdim=True) + 1e-16)
    return (eps * norms * g).detach()


def vat_loss(
    model_fn: Callable[[Tensor], Tensor],
    m: Tensor,
    xi: float,
    eps: float,
    n_power: int = 1,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Eq. 6 for a single head: ``mean_i KL(stopgrad p(y | m_i) || p(y | m_i + r_adv_i))``."""
    p = model_fn(m)
    r = virtual_adversarial_perturbation(model_fn, m, p, xi, eps, n_power, generator)
    return categorical_kl(p.detach(), model_fn(m + r), inputs="probs").mean()
