"""Training callbacks: training stages, loss-weight and learning-rate schedules, progress
display.

They are ordinary skorch callbacks: pass them in an estimator's ``callbacks`` list, as
skorch users pass ``EarlyStopping`` or ``LRScheduler``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence

from skorch.callbacks import Callback

__all__ = ["CollapseGuard", "CosineLR", "EpochProgress", "LossWeightSchedule", "TrainingStages"]


class TrainingStages(Callback):
    """Split a fit into consecutive named stages, each a number of epochs.

    At the start of each epoch it records the current stage in ``history`` (column
    ``"stage"``) and, when the stage changes, calls ``net.begin_stage(name)`` before the
    epoch's first batch; the net's ``train_step`` reads ``net.stage_``. GANIM uses it for
    its GAN stage followed by its classifier stage (``[("gan", gan_epochs),
    ("classifier", None)]``); any :class:`~skdeepclust._net.ClusterNet` can, e.g. for a
    pre-training stage.

    Parameters
    ----------
    stages : sequence of (str, int or None)
        ``(name, epochs)`` pairs in order; ``epochs=None`` (only for the last stage) runs
        until ``max_epochs``. A stage with 0 epochs is skipped.
    """

    def __init__(self, stages: Sequence[tuple[str, int | None]]):
        self.stages = stages

    def initialize(self):
        stages = [(str(name), None if n is None else int(n)) for name, n in self.stages]
        if not stages or any(n is None for _, n in stages[:-1]) or any(
                n is not None and n < 0 for _, n in stages):
            raise ValueError(
                "stages must be (name, epochs) pairs with epochs >= 0, and only the last "
                f"stage may have epochs=None; got {self.stages!r}."
            )
        self.stages_ = stages
        return self

    def stage_at(self, epoch: int) -> str:
        """Name of the stage that epoch ``epoch`` (counted from 1) belongs to."""
        end = 0
        for name, n in self.stages_:
            if n is None:
                return name
            end += n
            if epoch <= end:
                return name
        return self.stages_[-1][0]  # past the planned epochs: the last stage goes on

    def on_train_begin(self, net, **kwargs):
        net.stage_ = None

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        stage = self.stage_at(len(net.history))
        if stage != net.stage_:
            net.stage_ = stage
            net.begin_stage(stage, dataset_train)
        net.history.record("stage", stage)


class LossWeightSchedule(Callback):
    """Piecewise-constant schedule for one loss weight, set at the start of each epoch.

    Parameters
    ----------
    term : str
        Name of the loss term, e.g. ``"aug"``.
    milestones : sequence of (int, float)
        ``(first_epoch, weight)`` pairs, epochs counted from 1: ``[(1, 0.01), (41, 0.5),
        (81, 1.0)]`` uses 0.01 for epochs 1-40, 0.5 for 41-80 and 1.0 afterwards.
    """

    def __init__(self, term: str, milestones: Sequence[tuple[int, float]]):
        self.term = term
        self.milestones = milestones

    def initialize(self):
        ms = sorted((int(e), float(w)) for e, w in self.milestones)
        if not ms or ms[0][0] > 1:
            raise ValueError(
                f"The schedule of {self.term!r} must start at epoch 1, got {self.milestones!r}."
            )
        self.milestones_ = ms
        return self

    def value_at(self, epoch: int) -> float:
        value = self.milestones_[0][1]
        for first, w in self.milestones_:
            if epoch >= first:
                value = w
        return value

    def on_epoch_begin(self, net, **kwargs):
        w = self.value_at(len(net.history))
        net.criterion_.weights[self.term] = w
        net.history.record(f"{self.term}_weight", w)


class CollapseGuard(Callback):
    """Turn a loss term on for the rest of the fit once the clusters collapse.

    At the end of each epoch from ``start`` on it reads ``cluster_entropy`` from
    ``history`` (the entropy of the epoch's cluster sizes over ``log K``, recorded by nets
    that call :meth:`~skdeepclust._net.ClusterNet.record_assignments`). The first time
    it falls below ``threshold`` the term ``term`` gets at least ``weight`` from the next
    epoch to the end of the fit, and ``history`` records the weight in
    ``"<term>_weight"``. Labels are never used: it watches the model's own assignments.
    DCCS uses it to bring its balance term back when its critic lets the clusters
    collapse (``collapse_threshold``).

    Parameters
    ----------
    term : str, default="balance"
        Name of the loss term to turn on.
    threshold : float, default=0.5
        Normalised size entropy below which the clusters count as collapsed; 0 never
        triggers.
    weight : float, default=1.0
        Smallest weight of ``term`` once triggered (a larger scheduled weight is kept).
    start : int, default=1
        First epoch (counted from 1) whose entropy is checked, e.g. the first epoch after
        a warm-up that holds the clusters apart.
    """

    def __init__(self, term: str = "balance", threshold: float = 0.5, weight: float = 1.0,
                 start: int = 1):
        self.term = term
        self.threshold = threshold
        self.weight = weight
        self.start = start

    def on_train_begin(self, net, **kwargs):
        self.triggered_at_: int | None = None  # the epoch whose entropy triggered it

    def on_epoch_begin(self, net, **kwargs):
        if self.triggered_at_ is None:
            return
        w = max(float(self.weight), net.criterion_.weight(self.term))
        net.criterion_.weights[self.term] = w
        net.history.record(f"{self.term}_weight", w)

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        entropy = net.history[-1].get("cluster_entropy")
        if (self.triggered_at_ is None and epoch >= self.start and entropy is not None
                and entropy < self.threshold):
            self.triggered_at_ = epoch


class EpochProgress(Callback):
    """One progress bar over the epochs of a fit, with the current training loss.

    The estimators add it for ``verbose=1``; ``verbose=0`` is silent and ``verbose=2``
    prints skorch's table of every loss term per epoch instead.

    Parameters
    ----------
    desc : str or None, default=None
        Label in front of the bar; the net's class name when ``None``.
    file : file-like or None, default=None
        Where the bar is written; ``sys.stderr`` when ``None`` (as tqdm does).
    """

    def __init__(self, desc: str | None = None, file=None):
        self.desc = desc
        self.file = file

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm  # a skorch dependency; imported when a fit shows progress

        self.bar_ = tqdm(total=int(net.max_epochs), unit="epoch", leave=True,
                         desc=self.desc or type(net).__name__.removesuffix("Net"),
                         file=self.file or sys.stderr, dynamic_ncols=True)

    def on_epoch_end(self, net, **kwargs):
        bar = getattr(self, "bar_", None)
        if bar is None:
            return
        loss = net.history[-1].get("train_loss")
        if loss is not None:
            bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
        bar.update(1)

    def on_train_end(self, net, **kwargs):
        bar = getattr(self, "bar_", None)
        if bar is not None:
            bar.close()
        self.bar_ = None  # a tqdm bar cannot be pickled with the fitted model

    def __getstate__(self):
        state = dict(self.__dict__)
        state["bar_"] = None
        return state


class CosineLR(Callback):
    """Cosine decay of learning rates over the epochs of a fit.

    From epoch ``start`` to the last epoch (``max_epochs``), each named optimiser's learning
    rate falls from its initial value to ``final_factor`` times it along half a cosine;
    before ``start`` it is left alone. The small steps of the last epochs are meant to let
    the cluster assignments settle instead of jittering between the partitions that a
    large step keeps visiting. No default uses it: on DCCS and the digits (138 epochs, the
    encoder's and the critic's rates decayed from epoch 70 to 0.1x) seeds 0 and 1 gave ACC
    0.937 and 0.951, against 0.954 and 0.954 without it (one CPU thread, 2026-12-03).
    Decayed over the whole fit (``start=1``, to 0) it did not help the other methods
    either (one CPU thread, AMD EPYC, 2026-12-05; records in
    ``benchmarks/results/trajectory/lr_schedule_probe.jsonl``): ICAE on the digits, seeds
    0 / 1 / 2, ACC 0.859 / 0.849 / 0.805 against 0.815 / 0.836 / 0.839 (means 0.838 and
    0.830, within the seeds' spread); ICAE on 10,000 MNIST images, seeds 0 / 1, 0.705 /
    0.571 against 0.785 / 0.605; VariationalClustering on the digits 0.832 / 0.824 /
    0.818 against 0.897 / 0.832 / 0.860.

    Parameters
    ----------
    optimizers : sequence of str, default=("optimizer",)
        Names of the net's optimisers to decay (``"optimizer"`` is the main one; DCCS also
        has ``"optimizer_critic"``, GANIM ``"optimizer_disc"`` and ``"optimizer_gen"``).
    final_factor : float, default=0.0
        Learning rate at the end, as a fraction of the initial one.
    start : int, default=1
        First epoch (counted from 1) of the decay.
    """

    def __init__(self, optimizers: Sequence[str] = ("optimizer",), final_factor: float = 0.0,
                 start: int = 1):
        self.optimizers = optimizers
        self.final_factor = final_factor
        self.start = start

    def factor(self, epoch: int, max_epochs: int) -> float:
        """Multiplier of the initial learning rate at ``epoch`` (counted from 1)."""
        if epoch < self.start:
            return 1.0
        span = max(max_epochs - self.start, 1)
        progress = min((epoch - self.start) / span, 1.0)
        cos = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.final_factor + (1.0 - self.final_factor) * cos

    def on_train_begin(self, net, **kwargs):
        self.initial_lrs_ = {
            name: [g["lr"] for g in getattr(net, name + "_").param_groups]
            for name in self.optimizers
        }

    def on_epoch_begin(self, net, **kwargs):
        f = self.factor(len(net.history), int(net.max_epochs))
        for name, lrs in self.initial_lrs_.items():
            for group, lr in zip(getattr(net, name + "_").param_groups, lrs):
                group["lr"] = lr * f
        net.history.record("lr_factor", f)
