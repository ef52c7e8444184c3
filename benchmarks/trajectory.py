"""Accuracy along a fit: is a method under-trained, over-trained, or collapsing?

Fits one method with its defaults on one of the suite's datasets (the same arrays as
``suite.py``) and, every ``--every`` epochs, predicts the training set with the current
networks and appends one JSON line: ACC / NMI / ARI against the labels, the number of
non-empty clusters, the estimator's label-free ``score`` (what ``n_init`` ranks by), the
normalised entropy of the cluster sizes (1 = balanced), the fraction of labels that
changed since the previous check, and the epoch's loss terms.
Labels only score the predictions here; the library never sees them.

The checks run in a callback and leave the training itself unchanged: inference runs in
eval mode without gradients, under the net's own seeded RNG state, and the net's train
mode is restored afterwards. One thread, one process, as the suite.

Example::

    OMP_NUM_THREADS=1 python benchmarks/trajectory.py dccs mnist_10k --seed 0 --every 4 \\
        --data-dir ../shared/datasets --out benchmarks/results/trajectory/trajectory.jsonl
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT, append_record, cpu_model, git_commit, parse_params  # noqa: E402

sys.path.insert(0, str(REPO_ROOT))


def main(argv=None) -> None:
    import numpy as np
    import torch
    from skorch.callbacks import Callback

    import skdeepclust
    from skdeepclust.callbacks import LossWeightSchedule
    from skdeepclust._registry import METHODS
    from skdeepclust.metrics import clustering_report
    from suite import DATASETS, load_dataset

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("method", choices=sorted(METHODS))
    p.add_argument("dataset", choices=DATASETS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--every", type=int, default=5, help="epochs between checks")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a non-default parameter (JSON value), e.g. max_epochs=200")
    p.add_argument("--schedule", action="append", default=[], metavar="TERM=E:W,E:W",
                   help="an extra LossWeightSchedule, e.g. balance=1:1.0,21:0.0 (weight 1.0 "
                        "for epochs 1-20, then 0)")
    p.add_argument("--data-dir", default=str(REPO_ROOT.parent / "shared" / "datasets"))
    p.add_argument("--out", default="benchmarks/results/trajectory/trajectory.jsonl")
    args = p.parse_args(argv)

    torch.set_num_threads(1)
    params = parse_params(args.param)
    X, y, image_shape = load_dataset(args.dataset, args.data_dir, smoke=False)
    est_cls = getattr(skdeepclust, METHODS[args.method])
    base = {"dataset": args.dataset, "method": args.method, "seed": args.seed,
            "params": params, "device": f"CPU ({cpu_model()}), 1 thread",
            "commit": git_commit(), "date": datetime.datetime.now(
                datetime.timezone.utc).isoformat(timespec="seconds")}
    t0 = time.perf_counter()
    state = {"labels": None}

    class Check(Callback):
        def on_epoch_end(self, net, **kwargs):
            epoch = len(net.history)
            if epoch % args.every and epoch != net.max_epochs:
                return
            t = time.perf_counter()
            labels, score = est.predict_with(net, X)
            row = dict(base, epoch=epoch, seconds=round(t - t0, 1), score=score)
            row.update(clustering_report(y, labels))
            sizes = np.bincount(labels, minlength=est.n_clusters)
            p_k = sizes[sizes > 0] / len(labels)
            row["clusters_used"] = int((sizes > 0).sum())
            row["size_entropy"] = float(-(p_k * np.log(p_k)).sum() / np.log(est.n_clusters))
            prev = state["labels"]
            row["changed"] = None if prev is None else float((prev != labels).mean())
            state["labels"] = labels
            row["terms"] = {k: v for k, v in net.history[-1].items()
                            if isinstance(v, (int, float)) and k not in ("epoch", "dur")}
            append_record(args.out, row)

    class Traced(est_cls):
        """The estimator, with a way to predict through a net that is still training."""

        def predict_with(self, net, X):
            saved = getattr(self, "net_", None)
            was_training = net.module_.training
            self.net_ = net
            try:
                with torch.random.fork_rng():  # inference must not move the fit's RNG
                    return self.predict(X), float(self.score(X))
            finally:
                net._set_training(was_training)
                if saved is None:
                    del self.net_
                else:
                    self.net_ = saved

    schedules = []
    for item in args.schedule:
        term, _, spec = item.partition("=")
        milestones = [(int(e), float(w)) for e, w in (m.split(":") for m in spec.split(","))]
        schedules.append(LossWeightSchedule(term, milestones))
        base["params"] = dict(base["params"], **{f"schedule_{term}": milestones})
    est = Traced(n_clusters=int(len(np.unique(y))), random_state=args.seed,
                 image_shape=image_shape, callbacks=[*schedules, Check()], **params)
    est.fit(X)


if __name__ == "__main__":
    main()
