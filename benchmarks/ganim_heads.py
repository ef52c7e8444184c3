"""GANIM's cluster heads after a fit: how far apart are they, and does combining them help?

Fits GANIM with its defaults on one of the suite's datasets and appends one JSON line per
seed: every head's ACC, the ACC of the head GANIM keeps (lowest full-data loss), of the
head that agrees most with the others (mean NMI between head labelings, label-free), and of
``KMeans`` on the concatenated probabilities of all heads (a consensus, label-free).
Labels only score; one thread, one process, as the suite.

Example::

    OMP_NUM_THREADS=1 python benchmarks/ganim_heads.py digits --seeds 0 1 2 3 4 \\
        --data-dir ../shared/datasets \\
        --out benchmarks/results/trajectory/ganim_heads_digits.jsonl
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
    from sklearn.cluster import KMeans
    from sklearn.metrics import normalized_mutual_info_score

    from skdeepclust import GANIM
    from skdeepclust.metrics import cluster_accuracy
    from suite import DATASETS, load_dataset

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset", choices=DATASETS)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--data-dir", default=str(REPO_ROOT.parent / "shared" / "datasets"))
    p.add_argument("--out", default="benchmarks/results/trajectory/ganim_heads.jsonl")
    args = p.parse_args(argv)

    torch.set_num_threads(1)
    params = parse_params(args.param)
    X, y, image_shape = load_dataset(args.dataset, args.data_dir, smoke=False)
    k = int(len(np.unique(y)))
    for seed in args.seeds:
        t0 = time.process_time()
        est = GANIM(n_clusters=k, random_state=seed, image_shape=image_shape,
                    **params).fit(X)
        probs = [_head_proba(est, X, h) for h in range(est.n_heads)]
        labels = [pr.argmax(1) for pr in probs]
        accs = [cluster_accuracy(y, lab) for lab in labels]
        agreement = [np.mean([normalized_mutual_info_score(labels[i], labels[j])
                              for j in range(len(labels)) if j != i])
                     for i in range(len(labels))]
        central = int(np.argmax(agreement))
        consensus = KMeans(k, n_init=10, random_state=0).fit_predict(np.hstack(probs))
        append_record(args.out, {
            "dataset": args.dataset, "method": "ganim", "seed": seed, "params": params,
            "head_acc": [round(a, 4) for a in accs], "head_losses":
                [round(float(v), 4) for v in est.head_losses_[: est.n_heads]],
            "best_head": int(est.best_head_), "acc": round(accs[est.best_head_], 4),
            "central_head": central, "central_acc": round(accs[central], 4),
            "consensus_acc": round(cluster_accuracy(y, consensus), 4),
            "cpu_s": round(time.process_time() - t0, 1),
            "device": f"CPU ({cpu_model()}), 1 thread", "commit": git_commit(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        })


def _head_proba(est, X, head: int):
    """Cluster probabilities of one head: ``predict_proba``'s path with another head."""
    import numpy as np

    return est._apply(est._check_fitted_X(X),
                      lambda x: est.net_.cluster_proba(x, head=head), dtype=np.float64)


if __name__ == "__main__":
    main()
