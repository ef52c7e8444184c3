"""The divergences between categorical distributions that every method uses.

One categorical KL and one KL to the uniform distribution, each taking its inputs in an
explicit convention (``inputs=``):

- ``"logits"``: unnormalised scores; ``log_softmax`` is applied along the last dimension
  (exact and stable, even for near one-hot rows);
- ``"log_probs"``: log-probabilities, used as given (``log_softmax`` outputs, or the log
  of a marginal computed in log space);
- ``"probs"``: probabilities; they are clipped to ``[eps, 1]`` inside the logarithm, as
  in the GANIM authors' ``kld``, so one-hot rows give finite values (the only convention
  that is not exact at zero probabilities).

Both reduce only the category dimension (the last one) and return one value per row; the
caller takes the mean over samples (or heads) where the paper does. Gradients flow into
every argument: a caller that wants a fixed target detaches it.
"""

from __future__ import annotations

import math
from typing import Literal

import torch.nn.functional as F
from torch import Tensor

__all__ = ["categorical_kl", "kl_to_uniform", "log_marginal"]

#: Probabilities are clipped to ``[EPS, 1]`` before a logarithm (the ``"probs"`` convention).
EPS = 1e-16

Inputs = Literal["logits", "log_probs", "probs"]
_INPUTS = ("logits", "log_probs", "probs")


def _probs_and_logs(x: Tensor, inputs: str, eps: float) -> tuple[Tensor, Tensor]:
    """``(p, log p)`` of ``x`` given in the ``inputs`` convention."""
    if inputs == "logits":
        log_p = F.log_softmax(x, dim=-1)
        return log_p.exp(), log_p
    if inputs == "log_probs":
        return x.exp(), x
    if inputs == "probs":
        return x, x.clamp(eps, 1.0).log()
    raise ValueError(f"inputs must be one of {_INPUTS}, got {inputs!r}.")


def categorical_kl(p: Tensor, q: Tensor, *, inputs: Inputs = "logits",
                   eps: float = EPS) -> Tensor:
    """Row-wise ``KL(p || q) = sum_k p_k (log p_k - log q_k)``.

    The consistency terms of the methods: DCCS's augmentation KL (Eq. 7), GANIM's dropout
    consistency (Eq. 8) and VAT (Eq. 6), VariationalClustering's ``consistency="kl"``.

    Parameters
    ----------
    p, q : Tensor of shape (..., K)
        Both distributions, in the convention ``inputs``.
    inputs : {"logits", "log_probs", "probs"}, default="logits"
        How ``p`` and ``q`` are given (see the module's docstring).
    eps : float, default=1e-16
        Clip of the probabilities inside the logarithm, used only for ``inputs="probs"``.

    Returns
    -------
    Tensor of shape (...)
        ``KL(p_i || q_i)`` for each row; zero where ``p == q``.
    """
    p_prob, log_p = _probs_and_logs(p, inputs, eps)
    _, log_q = _probs_and_logs(q, inputs, eps)
    return (p_prob * (log_p - log_q)).sum(dim=-1)


def kl_to_uniform(p: Tensor, *, inputs: Inputs = "logits", eps: float = EPS) -> Tensor:
    """Row-wise ``KL(p || U_K) = sum_k p_k log p_k + log K`` (``log K`` minus the entropy).

    Zero for a uniform row, ``log K`` for a one-hot one. Applied to each sample's
    assignment it is VariationalClustering's ``KL(q(k|x) || p(k))`` (Eq. 12-13); applied to
    the batch marginal (:func:`log_marginal`, or the mean of probability rows) it is the
    balance term of GANIM (Eq. 3-4) and of VariationalClustering.

    Parameters
    ----------
    p : Tensor of shape (..., K)
        The distribution(s), in the convention ``inputs``.
    inputs : {"logits", "log_probs", "probs"}, default="logits"
        How ``p`` is given (see the module's docstring).
    eps : float, default=1e-16
        Clip of the probabilities inside the logarithm, used only for ``inputs="probs"``.

    Returns
    -------
    Tensor of shape (...)
    """
    p_prob, log_p = _probs_and_logs(p, inputs, eps)
    return (p_prob * log_p).sum(dim=-1) + math.log(p.shape[-1])


def log_marginal(logits: Tensor) -> Tensor:
    """``log mean_i softmax(logits_i)``, shape ``(K,)``: the batch marginal in log space.

    Computed with ``logsumexp`` of the per-row ``log_softmax``, so it stays exact when
    single rows are near one-hot.
    """
    log_p = F.log_softmax(logits, dim=-1)
    return log_p.logsumexp(dim=0) - math.log(len(logits))
