"""Fit estimators on benchmark datasets and append one JSON line per fit.

Examples
--------
All MNIST images on a GPU, three seeds::

    python benchmarks/run.py --method icae --dataset mnist --seeds 0 1 2 \
        --data-dir ../shared/datasets --out benchmarks/results/icae.jsonl

A CPU run on a 10,000-image subset with a fixed epoch budget::

    python benchmarks/run.py --method icae --dataset mnist --subset 10000 \
        --param max_epochs=20 --data-dir ../shared/datasets

GANIM with the paper's MNIST setting (70,000 images centre-cropped to 24x24, paper
classifier; the GAN length is what a device budget allows, the paper trains 250,000
iterations)::

    python benchmarks/run.py --method ganim --dataset mnist --crop 24 \
        --param gan_epochs=60 --param max_epochs=260 --param batch_size=500 \
        --param lr=1e-4 --param hidden_dims=[1024,1024] --param clf_init_std=0.01 \
        --param n_dropout_copies=5 --data-dir ../shared/datasets

and CIFAR-10 (noise 200, VAT radii 0.3/0.15 and a 1024-d feature layer are the colour
defaults)::

    python benchmarks/run.py --method ganim --dataset cifar10 --param noise_dim=200 \
        --param gan_epochs=100 --param max_epochs=300 --param batch_size=500 \
        --param lr=1e-4 --param hidden_dims=[1024,1024] --param clf_init_std=0.001 \
        --param n_dropout_copies=5 --data-dir ../shared/datasets

Imbalanced data: GANIM's Table V (CIFAR-10 without 30 % of airplane, automobile and bird;
the tolerance delta is the knob) and Variational Clustering's Table IV (MNIST, class c keeps
r_min + (1 - r_min) c / 9 of its images). Here the whole model, GAN included, is fitted on
the imbalanced data (the paper trains the GAN on the full set)::

    python benchmarks/run.py --method ganim --dataset cifar10 --drop-classes 0 1 2 \
        --drop-fraction 0.3 --param delta=1e-3 --param overcluster_delta=5e-2
    python benchmarks/run.py --method variational --dataset mnist --retention-min 0.1

KMeans on the pixels (the baseline) is fitted beside every run unless ``--no-baseline``.
Labels are used only to score the final model, never to pick an epoch or a setting.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch

import skdeepclust
from skdeepclust import datasets
from skdeepclust.metrics import clustering_report

sys.path.insert(0, str(Path(__file__).parent))
from common import append_record  # noqa: E402,F401  (re-exported: speed.py uses it)
from common import git_commit as _git_commit  # noqa: E402

from skdeepclust._registry import METHODS  # noqa: E402  (the library's one registry)


def _load_digits(data_home=None, download=False):
    """scikit-learn's bundled 8x8 digits (1,797 images, 0..16), as the unit tests use."""
    from sklearn.datasets import load_digits
    from sklearn.utils import Bunch

    d = load_digits()
    return Bunch(data=d.data, target=d.target, image_shape=(8, 8))


LOADERS = {"digits": _load_digits, "mnist": datasets.load_mnist, "fashion_mnist": datasets.load_fashion_mnist,
           "coil20": datasets.load_coil20, "cifar10": datasets.load_cifar10,
           "usps": datasets.load_usps, "stl10": datasets.load_stl10}


def _parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def imbalance_index(y: np.ndarray, seed: int, drop_classes=(), drop_fraction: float = 0.0,
                    retention_min: float | None = None) -> np.ndarray:
    """Rows kept by an imbalance protocol (labels select data here; they never select models).

    - GANIM Table V: ``drop_fraction`` of the images of each class in ``drop_classes``
      (the paper: airplane, automobile, bird = 0, 1, 2 of CIFAR-10; 10-40 %) are removed.
    - Variational Clustering Table IV: class ``c`` of ``K`` keeps each image with
      probability ``r_min + (1 - r_min) * c / (K - 1)``.
    """
    rng = np.random.RandomState(seed + 10_000)
    keep = np.ones(len(y), dtype=bool)
    for c in drop_classes:
        rows = np.flatnonzero(y == c)
        n_drop = int(round(drop_fraction * len(rows)))
        keep[rng.choice(rows, n_drop, replace=False)] = False
    if retention_min is not None:
        k = int(y.max()) + 1
        p = retention_min + (1 - retention_min) * y / max(k - 1, 1)
        keep &= rng.rand(len(y)) < p
    return np.flatnonzero(keep)


def load(dataset: str, data_dir: str | None, subset: int | None, seed: int, **imbalance):
    bunch = LOADERS[dataset](data_home=data_dir, download=data_dir is None)
    X, y = bunch.data, bunch.target
    if imbalance.get("drop_classes") or imbalance.get("retention_min") is not None:
        idx = imbalance_index(y, seed, **imbalance)
        X, y = X[idx], y[idx]
    if subset and subset < len(X):
        # A random subset fixed by the seed.
        rng = np.random.RandomState(seed)
        idx = np.sort(rng.permutation(len(X))[:subset])
        X, y = X[idx], y[idx]
    return X, y, tuple(bunch.image_shape)


def center_crop(X: np.ndarray, image_shape: tuple, size: int):
    """Centre-crop images to ``size x size`` (GANIM's MNIST protocol: 28 -> 24)."""
    h, w = image_shape[:2]
    rest = tuple(image_shape[2:])
    top, left = (h - size) // 2, (w - size) // 2
    imgs = X.reshape((len(X), h, w) + rest)[:, top:top + size, left:left + size]
    return imgs.reshape(len(X), -1), (size, size) + rest


def _seconds_by_stage(history) -> dict | None:
    """Mean epoch seconds per training stage, for methods whose history has a ``stage``
    column (GANIM: "gan" then "classifier")."""
    stages = [h.get("stage") for h in history]
    if not any(stages):
        return None
    out: dict[str, list[float]] = {}
    for st, h in zip(stages, history):
        out.setdefault(str(st), []).append(h["dur"])
    return {k: float(np.mean(v)) for k, v in out.items()}


def run_one(method: str, dataset: str, seed: int, args, params: dict) -> list[dict]:
    X, y, image_shape = load(dataset, args.data_dir, args.subset, seed,
                             drop_classes=args.drop_classes, drop_fraction=args.drop_fraction,
                             retention_min=args.retention_min)
    if args.crop:
        X, image_shape = center_crop(X, image_shape, args.crop)
    n_clusters = int(len(np.unique(y)))
    records = []
    base = {
        "dataset": dataset, "n_samples": len(X), "seed": seed, "crop": args.crop,
        "imbalance": {"drop_classes": args.drop_classes, "drop_fraction": args.drop_fraction,
                      "retention_min": args.retention_min},
        "torch": torch.__version__, "skdeepclust": skdeepclust.__version__,
        "commit": _git_commit(), "python": platform.python_version(),
    }
    if not args.no_baseline:
        from sklearn.cluster import KMeans

        t = time.perf_counter()
        labels = KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit_predict(
            X.astype(np.float32) / 255.0)
        records.append({**base, "method": "kmeans", **clustering_report(y, labels),
                        "fit_seconds": time.perf_counter() - t, "device": "CPU"})
    cls_name = METHODS[method]
    cls = getattr(skdeepclust, cls_name, None)
    if cls is None:
        records.append({**base, "method": method, "status": "missing",
                        "note": f"skdeepclust has no {cls_name} yet"})
        return records
    est = cls(n_clusters=n_clusters, random_state=seed, image_shape=image_shape,
              device=args.device, verbose=args.verbose, **params)
    device = "cuda" if (args.device == "auto" and torch.cuda.is_available()) else (
        args.device if args.device != "auto" else "cpu")
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    t, cpu = time.perf_counter(), time.process_time()
    est.fit(X)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    fit_seconds = time.perf_counter() - t
    # CPU seconds of the process: unlike wall time, barely affected by other jobs sharing
    # the cores, so the CPU scaling study compares them across sizes.
    fit_cpu_seconds = time.process_time() - cpu
    t = time.perf_counter()
    labels = est.predict(X)
    predict_seconds = time.perf_counter() - t
    durs = [h["dur"] for h in est.history_]
    peak = (torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda")
            else _peak_rss_mb())
    records.append({
        **base, "method": method, **clustering_report(y, labels),
        "fit_seconds": fit_seconds, "fit_cpu_seconds": fit_cpu_seconds,
        "epochs": len(durs),
        "seconds_per_epoch": float(np.mean(durs)) if durs else None,
        "seconds_per_epoch_by_stage": _seconds_by_stage(est.history_),
        "predict_images_per_second": len(X) / predict_seconds,
        "peak_memory_mb": peak,
        "peak_memory_kind": "cuda_max_allocated" if device.startswith("cuda") else "cpu_peak_rss",
        "device": _device_name(device),
        "params": {k: (v if isinstance(v, (int, float, str, bool, type(None), list, tuple))
                       else repr(v)) for k, v in est.get_params().items()},
        "final_losses": {k: v for k, v in est.history_[-1].items()
                         if isinstance(v, float) and k not in ("dur",)},
    })
    return records


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--method", nargs="+", default=["icae"], choices=sorted(METHODS))
    p.add_argument("--dataset", nargs="+", default=["mnist"], choices=sorted(LOADERS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--data-dir", default=os.environ.get("SKDEEPCLUST_DATA"),
                   help="folder with NAME.npz files (default: $SKDEEPCLUST_DATA)")
    p.add_argument("--subset", type=int, default=None, help="use this many images")
    p.add_argument("--drop-classes", type=int, nargs="*", default=[], metavar="C",
                   help="imbalance (GANIM Table V): classes to thin out, e.g. 0 1 2")
    p.add_argument("--drop-fraction", type=float, default=0.0,
                   help="fraction of each --drop-classes class removed (Table V: 0.1-0.4)")
    p.add_argument("--retention-min", type=float, default=None,
                   help="imbalance (Variational Clustering Table IV): class c keeps "
                        "r_min + (1 - r_min) c / (K - 1) of its images")
    p.add_argument("--device", default="auto")
    p.add_argument("--crop", type=int, default=None, metavar="N",
                   help="centre-crop images to N x N first (GANIM's MNIST: 24)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="estimator parameter (JSON value), repeatable")
    p.add_argument("--out", default="benchmarks/results/results.jsonl")
    p.add_argument("--no-baseline", action="store_true", help="skip KMeans on pixels")
    p.add_argument("--verbose", type=int, default=0)
    args = p.parse_args(argv)
    params = {}
    for item in args.param:
        key, _, value = item.partition("=")
        params[key] = _parse_value(value)
    for method in args.method:
        for dataset in args.dataset:
            for seed in args.seeds:
                for rec in run_one(method, dataset, seed, args, params):
                    append_record(args.out, rec)
    return 0


if __name__ == "__main__":
    sys.exit(main())
