"""Training callbacks: loss-weight schedules and progress display.

They are ordinary skorch callbacks: pass them in an estimator's ``callbacks`` list, as
skorch users pass ``EarlyStopping`` or ``LRScheduler``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from skorch.callbacks import Callback

__all__ = ["EpochProgress", "LossWeightSchedule"]


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
