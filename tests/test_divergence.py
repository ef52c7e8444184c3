"""The shared categorical divergences: every input convention against torch.distributions,
the authors' forms they replace, stability at one-hot rows and gradcheck in float64."""

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.distributions import Categorical, kl_divergence

from skdeepclust.losses import categorical_kl, kl_to_uniform, log_marginal


def _logits(*shape, seed=0):
    return torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def _as(logits, inputs):
    return {"logits": logits, "log_probs": torch.log_softmax(logits, -1),
            "probs": torch.softmax(logits, -1)}[inputs]


@pytest.mark.parametrize("inputs", ["logits", "log_probs", "probs"])
def test_categorical_kl_matches_torch_distributions(inputs):
    a, b = _logits(5, 4, seed=1), _logits(5, 4, seed=2)
    ref = kl_divergence(Categorical(logits=a), Categorical(logits=b))
    got = categorical_kl(_as(a, inputs), _as(b, inputs), inputs=inputs)
    assert got.shape == (5,)
    torch.testing.assert_close(got, ref)
    torch.testing.assert_close(categorical_kl(_as(a, inputs), _as(a, inputs), inputs=inputs),
                               torch.zeros(5, dtype=torch.float64))


def test_categorical_kl_probs_clips_zero_probabilities():
    # GANIM's authors clip both sides to [eps, 1] before the log: one-hot rows stay finite.
    p = torch.tensor([[0.5, 0.5], [1.0, 0.0]], dtype=torch.float64)
    q = torch.tensor([[0.25, 0.75], [0.5, 0.5]], dtype=torch.float64)
    expected = [0.5 * math.log(2) + 0.5 * math.log(0.5 / 0.75), math.log(2)]
    np.testing.assert_allclose(categorical_kl(p, q, inputs="probs").numpy(), expected)
    assert torch.isfinite(categorical_kl(q, p, inputs="probs")).all()


def test_categorical_kl_is_dccs_authors_kldivloss():
    a, b = _logits(6, 3, seed=3), _logits(6, 3, seed=4)
    ref = nn.KLDivLoss(reduction="batchmean")(torch.log_softmax(b, 1), torch.softmax(a, 1))
    assert categorical_kl(a, b).mean().item() == pytest.approx(ref.item(), rel=1e-12)


@pytest.mark.parametrize("inputs", ["logits", "log_probs", "probs"])
def test_kl_to_uniform(inputs):
    lg = _logits(4, 6)
    ref = math.log(6) - Categorical(logits=lg).entropy()
    torch.testing.assert_close(kl_to_uniform(_as(lg, inputs), inputs=inputs), ref)
    zeros = torch.zeros(2, 6, dtype=torch.float64)
    torch.testing.assert_close(kl_to_uniform(_as(zeros, inputs), inputs=inputs),
                               torch.zeros(2, dtype=torch.float64))


def test_one_hot_rows_give_log_k_without_nan():
    one_hot = torch.tensor([[1e4, 0.0, 0.0]], dtype=torch.float64)
    for inputs in ("logits", "log_probs", "probs"):
        got = kl_to_uniform(_as(one_hot, inputs), inputs=inputs)
        torch.testing.assert_close(got, torch.tensor([math.log(3)], dtype=torch.float64))


def test_log_marginal_and_balance_term():
    lg = _logits(6, 4)
    p_bar = torch.softmax(lg, -1).mean(0)
    torch.testing.assert_close(log_marginal(lg), p_bar.log())
    torch.testing.assert_close(kl_to_uniform(log_marginal(lg), inputs="log_probs"),
                               math.log(4) + (p_bar * p_bar.log()).sum())
    collapsed = torch.tensor([[50.0, 0, 0, 0]] * 3, dtype=torch.float64)
    assert kl_to_uniform(log_marginal(collapsed), inputs="log_probs").item() == pytest.approx(
        math.log(4), abs=1e-12)


@pytest.mark.parametrize("inputs", ["logits", "log_probs"])
def test_gradcheck_float64(inputs):
    a = _logits(3, 5, seed=5).requires_grad_(True)
    b = _logits(3, 5, seed=6).requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda x, y: categorical_kl(_as(x, inputs), _as(y, inputs), inputs=inputs), (a, b))
    assert torch.autograd.gradcheck(
        lambda x: kl_to_uniform(_as(x, inputs), inputs=inputs), (a,))
    assert torch.autograd.gradcheck(log_marginal, (a,))


def test_gradcheck_probs_convention_inside_the_simplex():
    p = torch.softmax(_logits(3, 4, seed=7), -1).requires_grad_(True)
    q = torch.softmax(_logits(3, 4, seed=8), -1).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x, y: categorical_kl(x, y, inputs="probs"), (p, q))
    assert torch.autograd.gradcheck(lambda x: kl_to_uniform(x, inputs="probs"), (p,))


def test_unknown_convention_is_rejected():
    with pytest.raises(ValueError, match="inputs must be one of"):
        categorical_kl(torch.zeros(2, 3), torch.zeros(2, 3), inputs="softmax")
