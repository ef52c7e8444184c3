"""Wall seconds of short fits with 1 torch thread against torch's default, one JSON line each.

The figures behind the estimators' ``n_threads=1`` default (``benchmarks/SPEED.md``). Run it
on an otherwise idle machine::

    python benchmarks/threads.py --data-dir ../shared/datasets --out benchmarks/results/threads/threads.jsonl
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from common import append_record, cpu_model
from skdeepclust._registry import estimator_class

#: (method, dataset, images, fit parameters): the cases timed.
CASES = [
    ("icae", "digits", 1797, {"max_epochs": 3}),
    ("dccs", "digits", 1797, {"max_epochs": 20}),
    ("variational", "digits", 1797, {"max_epochs": 5}),
    ("ganim", "digits", 1797, {"gan_epochs": 3, "max_epochs": 6}),
    ("icae", "mnist", 2000, {"max_epochs": 1}),
    ("dccs", "mnist", 2000, {"max_epochs": 3}),
]


def _data(name: str, n: int, data_dir: str) -> np.ndarray:
    if name == "digits":
        from sklearn.datasets import load_digits

        return load_digits().data
    return np.load(f"{data_dir}/{name}.npz")["X"][:n]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/datasets")
    parser.add_argument("--out", default="benchmarks/results/threads/threads.jsonl")
    args = parser.parse_args(argv)
    default_threads = torch.get_num_threads()
    for method, dataset, n, params in CASES:
        X = _data(dataset, n, args.data_dir)
        for n_threads in (1, None):
            est = estimator_class(method)(n_clusters=10, random_state=0, n_threads=n_threads,
                                          **params)
            wall, cpu = time.perf_counter(), time.process_time()
            est.fit(X)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rec = {"kind": "threads", "method": method, "dataset": dataset, "n_images": len(X),
                   "params": params, "threads": 1 if n_threads else default_threads,
                   "epochs": len(est.history_), "wall_s": round(wall, 2),
                   "cpu_s": round(cpu, 2), "device": f"CPU ({cpu_model()})"}
            append_record(args.out, rec)  # echoes the line


if __name__ == "__main__":
    main()
