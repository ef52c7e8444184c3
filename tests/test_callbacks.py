"""The public callbacks: training stages, learning-rate and loss-weight schedules, progress
display."""

import math

import numpy as np
import pytest

from skdeepclust import DCCS, ICAE
from skdeepclust._net import ClusterNet
from skdeepclust.callbacks import CosineLR, LossWeightSchedule, TrainingStages


def test_cosine_factor_endpoints_and_start():
    cb = CosineLR(final_factor=0.1, start=3)
    assert cb.factor(1, 11) == 1.0 and cb.factor(2, 11) == 1.0  # before the decay
    assert cb.factor(3, 11) == pytest.approx(1.0)
    assert cb.factor(7, 11) == pytest.approx(0.1 + 0.9 * 0.5)  # half way
    assert cb.factor(11, 11) == pytest.approx(0.1)
    assert cb.factor(20, 11) == pytest.approx(0.1)  # clipped after the end


def test_cosine_lr_applies_to_the_named_optimizers(small_digits):
    X, _ = small_digits
    est = DCCS(n_clusters=4, max_epochs=5, lr=1e-3, random_state=0,
               callbacks=[CosineLR(optimizers=("optimizer", "optimizer_critic"))]).fit(X[:100])
    factors = est.history_[:, "lr_factor"]
    expected = [0.5 * (1 + math.cos(math.pi * e / 4)) for e in range(5)]
    np.testing.assert_allclose(factors, expected, atol=1e-12)
    # After the last epoch both decayed optimisers sit at lr * factor(5) = 0; the decoder's
    # optimiser was not named and keeps its lr.
    assert est.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.0)
    assert est.net_.optimizer_critic_.param_groups[0]["lr"] == pytest.approx(0.0)
    assert est.net_.optimizer_decoder_.param_groups[0]["lr"] == pytest.approx(1e-3)


def test_loss_weight_schedule_sets_weights_per_epoch(small_digits):
    X, _ = small_digits
    sched = LossWeightSchedule("aug", [(1, 0.0), (3, 2.0)])
    est = ICAE(n_clusters=4, max_epochs=4, random_state=0, callbacks=[sched]).fit(X[:100])
    assert est.history_[:, "aug_weight"] == [0.0, 0.0, 2.0, 2.0]
    assert "aug" not in est.history_[0] and est.history_[-1]["aug"] > 0


def test_schedule_must_start_at_epoch_one(small_digits):
    X, _ = small_digits
    with pytest.raises(ValueError, match="epoch 1"):
        ICAE(n_clusters=4, max_epochs=1,
             callbacks=[LossWeightSchedule("aug", [(2, 1.0)])]).fit(X[:100])


def test_training_stages_epochs():
    cb = TrainingStages([("warm", 2), ("skip", 0), ("main", 3), ("rest", None)]).initialize()
    assert [cb.stage_at(e) for e in range(1, 9)] == (
        ["warm"] * 2 + ["main"] * 3 + ["rest"] * 3)
    fixed = TrainingStages([("a", 1), ("b", 2)]).initialize()
    assert fixed.stage_at(5) == "b"  # past the plan, the last stage goes on
    for bad in ([], [("a", None), ("b", 1)], [("a", -1)]):
        with pytest.raises(ValueError, match="stages must be"):
            TrainingStages(bad).initialize()


def test_training_stages_drive_begin_stage(small_digits, monkeypatch):
    X, _ = small_digits
    seen = []

    def begin_stage(self, stage, dataset=None):
        seen.append((len(self.history), stage, tuple(dataset.X.shape)))

    monkeypatch.setattr(ClusterNet, "begin_stage", begin_stage)
    est = ICAE(n_clusters=4, max_epochs=4, batch_size=64, random_state=0,
               callbacks=[TrainingStages([("pre", 1), ("main", None)])]).fit(X)
    assert est.history_[:, "stage"] == ["pre", "main", "main", "main"]
    # Called once per stage, before the stage's first batch, with the training data.
    assert seen == [(1, "pre", (len(X), 1, 8, 8)), (2, "main", (len(X), 1, 8, 8))]


def test_normalised_entropy_of_cluster_sizes():
    import torch

    from skdeepclust._net import normalised_entropy

    assert normalised_entropy(torch.tensor([5, 5, 5, 5])) == pytest.approx(1.0)
    assert normalised_entropy(torch.tensor([0, 12, 0, 0])) == pytest.approx(0.0)
    # Two of four clusters used equally: log 2 / log 4.
    assert normalised_entropy(torch.tensor([3, 0, 3, 0])) == pytest.approx(0.5)
    assert normalised_entropy(torch.tensor([7])) == 0.0


def test_collapse_guard_turns_the_term_on_for_the_rest_of_the_fit(small_digits):
    X, _ = small_digits
    kw = dict(n_clusters=4, max_epochs=6, balance_warmup=2, random_state=0)
    off = DCCS(collapse_threshold=0.0, **kw).fit(X)
    entropy = off.history_[:, "cluster_entropy"]
    assert all(0.0 <= e <= 1.0 for e in entropy)  # recorded every epoch, normalised
    assert off.history_[:, "balance_weight"] == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    # Entropy below the threshold at epoch 3 (the first after the warm-up): the balance
    # term is back from epoch 4 to the end, whatever the later entropies.
    on = DCCS(collapse_threshold=1.0, **kw).fit(X)
    assert on.history_[2]["cluster_entropy"] < 1.0
    assert on.history_[:, "balance_weight"] == [1.0, 1.0, 0.0, 1.0, 1.0, 1.0]
    assert all("balance" in h for h in on.history_[3:])
    # A threshold under every entropy seen never triggers: the fit is the unguarded one.
    low = DCCS(collapse_threshold=max(min(entropy) - 1e-3, 0.0), **kw).fit(X)
    assert low.history_[:, "balance_weight"] == off.history_[:, "balance_weight"]
    np.testing.assert_array_equal(low.labels_, off.labels_)
