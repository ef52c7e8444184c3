"""Does ``score`` pick good fits? The evidence behind ``n_init``.

``fit`` fits one method with its defaults on one of the suite's datasets for each of
several seeds (one process, one thread), and appends one JSON line per seed: ACC against
the labels and the label-free criteria the estimator could select by (``score`` on the
training data, which ``n_init`` uses; the mean entropy of the assignments).

``report`` reads those lines and, per method and dataset, gives the mean ACC of a single
fit and the expected ACC when the best of ``k`` fits by ``score`` is kept: the mean over
every ``k``-subset of the recorded seeds (what ``n_init=k`` does, with the recorded seeds in
place of the ones ``n_init`` draws), with the worst and best such pick. Labels only score.

``early`` reads ``trajectory.py`` records, which hold ``score`` at every check of a fit, and
gives the final ACC of the fit that the score at a fraction of the epochs would pick, over
every ``k`` of the seeds: what ``n_init=k`` would keep if it compared its candidates
after that fraction of the epochs (it compares finished fits).

Example::

    python benchmarks/seed_selection.py fit dccs digits --seeds 0 1 2 3 4 5 \\
        --data-dir ../shared/datasets --out benchmarks/results/n_init/seeds.jsonl
    python benchmarks/seed_selection.py report benchmarks/results/n_init/seeds.jsonl
    python benchmarks/seed_selection.py early benchmarks/results/trajectory/score.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    REPO_ROOT, append_record, cpu_model, git_commit, parse_params, read_records)

sys.path.insert(0, str(REPO_ROOT))


def fit(args) -> None:
    import numpy as np
    import torch
    from sklearn.metrics import normalized_mutual_info_score

    import skdeepclust
    from skdeepclust._registry import estimator_class
    from skdeepclust.metrics import cluster_accuracy
    from suite import load_dataset

    torch.set_num_threads(1)
    X, y, shape = load_dataset(args.dataset, args.data_dir, smoke=False)
    k = len(np.unique(y))
    cls = estimator_class(args.method)
    params = parse_params(args.param)
    for seed in args.seeds:
        est = cls(n_clusters=k, image_shape=shape, random_state=seed, **params)
        start = time.time()
        est.fit(X)
        seconds = time.time() - start
        proba = est.predict_proba(X)
        labels = proba.argmax(1)
        append_record(args.out, {
            "method": args.method, "dataset": args.dataset, "seed": seed, "params": params,
            "acc": round(float(cluster_accuracy(y, labels)), 4),
            "nmi": round(float(normalized_mutual_info_score(y, labels)), 4),
            "score": round(float(est.score(X)), 4),
            "assignment_entropy": round(float(-(proba * np.log(proba + 1e-12)).sum(1).mean()), 4),
            "clusters": int(len(np.unique(labels))), "fit_seconds": round(seconds, 1),
            "device": f"CPU ({cpu_model()}), 1 thread", "commit": git_commit(),
            "skdeepclust": skdeepclust.__version__,
            # The partition itself, so that selection rules that compare fits with each
            # other (agreement) can be evaluated afterwards.
            "labels": labels.tolist(),
        })


def best_of(seeds, k: int, score, acc, choose=None) -> list[float]:
    """ACC of the fit kept from every ``k``-subset of ``seeds``: by default the one of
    highest ``score(seed)``, what ``n_init=k`` keeps, with recorded seeds in place of the
    ones it draws; ``choose(subset)`` gives another rule."""
    choose = choose or (lambda c: max(c, key=score))
    return [acc(choose(c)) for c in itertools.combinations(sorted(seeds), k)]


def _mean_range(values) -> str:
    return f"{sum(values) / len(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def most_agreeing(seeds, labels, score) -> int:
    """The fit whose partition agrees most (mean adjusted Rand index) with the others';
    ties (always, for two fits) go to the higher ``score``."""
    from sklearn.metrics import adjusted_rand_score

    return max(seeds, key=lambda s: (sum(adjusted_rand_score(labels(s), labels(t))
                                         for t in seeds if t != s), score(s)))


def report(args) -> None:
    import numpy as np

    groups = defaultdict(dict)
    for r in read_records(*args.files):
        label = r["method"] + "".join(f" [{k}={v}]" for k, v in r.get("params", {}).items())
        groups[(label, r["dataset"], r.get("device", "-"))][r["seed"]] = r
    print("| method | dataset | seeds | one fit: ACC mean (min-max) | "
          + " | ".join(f"best of {k}: by score / by agreement, mean (min-max)"
                       for k in args.k)
          + " | device |")
    print("|---" * (5 + len(args.k)) + "|")
    for (method, dataset, device), runs in sorted(groups.items()):
        acc = np.array([runs[s]["acc"] for s in sorted(runs)])
        cells = [f"{acc.mean():.3f} ({acc.min():.3f}-{acc.max():.3f})"]
        with_labels = all("labels" in r for r in runs.values())
        for k in args.k:
            score_of, acc_of = (lambda s: runs[s]["score"]), (lambda s: runs[s]["acc"])
            picks = best_of(runs, k, score_of, acc_of)
            cell = _mean_range(picks) if picks else "-"
            if picks and with_labels:  # records made before labels were stored have none
                agree = best_of(runs, k, score_of, acc_of, choose=lambda c: most_agreeing(
                    c, lambda s: runs[s]["labels"], score_of))
                cell += " / " + _mean_range(agree)
            cells.append(cell)
        print(f"| {method} | {dataset} | {len(acc)} | " + " | ".join(cells) + f" | {device} |")


def early(args) -> None:
    """How early does ``score`` rank the fits? From ``trajectory.py`` records (a score at
    each check): the final ACC of the fit that the score at a fraction of the epochs picks,
    over every ``k`` of the seeds. Runs with non-default parameters are left out."""
    import numpy as np

    groups = defaultdict(lambda: defaultdict(dict))
    for r in read_records(*args.files):
        if r.get("score") is not None and not r.get("params"):
            groups[(r["method"], r["dataset"], r.get("device", "-"))][r["seed"]][r["epoch"]] = r
    print("| method | dataset | seeds | epochs | one fit: final ACC | "
          + " | ".join(f"best of {args.k} by score at {f:.2f} of the epochs" for f in args.at)
          + " | device |")
    print("|---" * (6 + len(args.at)) + "|")
    for (method, dataset, device), runs in sorted(groups.items()):
        last = max(max(checks) for checks in runs.values())
        runs = {s: c for s, c in runs.items() if last in c}  # finished fits only
        final = {s: runs[s][last]["acc"] for s in runs}
        cells = []
        for f in args.at:
            # The last check at or before the fraction (checks are every few epochs).
            def score(s, f=f):
                epochs = [e for e in runs[s] if e <= max(f * last, min(runs[s]))]
                return runs[s][max(epochs)]["score"]
            picks = best_of(runs, args.k, score, final.get)
            cells.append(f"{np.mean(picks):.3f} ({min(picks):.3f})" if picks else "-")
        acc = np.array(list(final.values()))
        print(f"| {method} | {dataset} | {len(runs)} | {last} | {acc.mean():.3f} "
              f"({acc.min():.3f}) | " + " | ".join(cells) + f" | {device} |")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="fit seeds and record ACC and score")
    f.add_argument("method")
    f.add_argument("dataset")
    f.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    f.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="a non-default parameter (JSON value), e.g. gan_epochs=2")
    f.add_argument("--data-dir", default=str(REPO_ROOT.parent / "shared" / "datasets"))
    f.add_argument("--out", default=str(REPO_ROOT / "benchmarks/results/n_init/seeds.jsonl"))
    r = sub.add_parser("report", help="expected ACC of the best of k fits by score")
    r.add_argument("files", nargs="+")
    r.add_argument("--k", type=int, nargs="+", default=[2, 3])
    e = sub.add_parser("early", help="best of k by the score at a fraction of the epochs")
    e.add_argument("files", nargs="+", help="trajectory.py records with a score")
    e.add_argument("--k", type=int, default=3)
    e.add_argument("--at", type=float, nargs="+", default=[0.25, 1 / 3, 0.5, 1.0])
    args = p.parse_args(argv)
    {"fit": fit, "report": report, "early": early}[args.command](args)


if __name__ == "__main__":
    main()
