"""Training speed of each option, measured one at a time, as JSON lines.

Every configuration fits the same data with the same seed for a few epochs; the record holds
the median epoch time (the first epoch, which pays for allocations and autotuning, is left
out when there are more), the process CPU seconds, ``predict`` throughput, peak memory, the
device, and, on CUDA, the mean GPU utilisation sampled during the fit (needs ``pynvml``).
``benchmarks/report.py --speed`` turns the lines into ``benchmarks/SPEED.md``.

Examples
--------
The options on the CPU, every method, on digits::

    python benchmarks/speed.py --method icae ganim dccs variational --dataset digits \
        --epochs 4 --out benchmarks/results/speed/cpu.jsonl

On a GPU, full MNIST, larger batches with the learning rate scaled linearly::

    python benchmarks/speed.py --method icae --dataset mnist --epochs 3 \
        --config float32 bfloat16 channels_last bfloat16+channels_last \
        bfloat16+channels_last+batch4x --data-dir /path/to/datasets
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
import run as _run  # noqa: E402  (the benchmark runner's loaders and helpers)

import skdeepclust  # noqa: E402

#: What each option sets. ``batch4x`` multiplies the batch size by 4 and the learning rate
#: by 4 (the linear scaling rule).
OPTIONS = {
    "float32": {},
    "bfloat16": {"precision": "bfloat16"},
    "channels_last": {"channels_last": True},
    "batch4x": {},
}


def config_params(config: str, est_cls, base: dict) -> dict:
    # The default layout, whatever an estimator's default: ICAE's and GANIM's "auto" would
    # otherwise make "float32" channels-last on a CPU.
    params: dict = {"channels_last": False}
    for part in config.split("+"):
        if part not in OPTIONS:
            raise SystemExit(f"unknown option {part!r}; choose from {sorted(OPTIONS)}")
        params.update(OPTIONS[part])
        if part == "batch4x":
            defaults = est_cls().get_params()
            params["batch_size"] = 4 * base.get("batch_size", defaults["batch_size"])
            params["lr"] = 4 * base.get("lr", defaults["lr"])
    return params


class GPUSampler:
    """Mean GPU utilisation (percent) sampled every 0.2 s in a thread, when pynvml is there."""

    def __init__(self, device: str):
        self.values: list[float] = []
        self._stop = threading.Event()
        self._thread = None
        if not device.startswith("cuda"):
            return
        try:
            import pynvml

            pynvml.nvmlInit()
            index = torch.device(device).index or 0
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            self._nvml = pynvml
        except Exception:  # no pynvml or no driver access: report None
            return
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.wait(0.2):
            self.values.append(self._nvml.nvmlDeviceGetUtilizationRates(self._handle).gpu)

    def __enter__(self):
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def mean(self) -> float | None:
        return float(np.mean(self.values)) if self.values else None


def measure(method: str, dataset: str, config: str, args, base: dict) -> dict:
    X, y, image_shape = _run.load(dataset, args.data_dir, args.subset, args.seed)
    cls = getattr(skdeepclust, _run.METHODS[method])
    params = {**base, **config_params(config, cls, base)}
    if method == "ganim":
        # One epoch of each stage is not enough for a median: split the budget.
        params.setdefault("gan_epochs", args.epochs)
        params.setdefault("max_epochs", 2 * args.epochs)
    else:
        params.setdefault("max_epochs", args.epochs)
    est = cls(n_clusters=len(np.unique(y)), image_shape=image_shape, random_state=args.seed,
              device=args.device, **params)
    device = "cuda" if (args.device == "auto" and torch.cuda.is_available()) else (
        "cpu" if args.device == "auto" else args.device)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    t, cpu = time.perf_counter(), time.process_time()
    with GPUSampler(device) as gpu:
        est.fit(X)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
    fit_seconds, cpu_seconds = time.perf_counter() - t, time.process_time() - cpu
    t = time.perf_counter()
    labels = est.predict(X)
    predict_seconds = time.perf_counter() - t
    stages = _run._seconds_by_stage(est.history_)
    durs = [h["dur"] for h in est.history_]
    steady = durs[1:] if len(durs) > 1 else durs
    from skdeepclust.metrics import clustering_report

    return {
        "method": method, "dataset": dataset, "n_samples": len(X), "config": config,
        "seed": args.seed, "epochs": len(durs),
        "seconds_per_epoch": float(np.median(steady)),
        "seconds_per_epoch_by_stage": stages,
        "first_epoch_seconds": durs[0], "fit_seconds": fit_seconds,
        "fit_cpu_seconds": cpu_seconds, "gpu_utilization_mean": gpu.mean,
        "predict_images_per_second": len(X) / predict_seconds,
        "peak_memory_mb": (torch.cuda.max_memory_allocated() / 2**20
                           if device.startswith("cuda") else _run._peak_rss_mb()),
        **clustering_report(y, labels),
        "device": _run._device_name(device), "torch": torch.__version__,
        "commit": _run._git_commit(),
        "params": {k: v for k, v in params.items() if not callable(v)},
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--method", nargs="+", default=["icae"], choices=sorted(_run.METHODS))
    p.add_argument("--dataset", default="digits", choices=sorted(_run.LOADERS))
    p.add_argument("--subset", type=int, default=None)
    p.add_argument("--config", nargs="+",
                   default=["float32", "bfloat16", "channels_last", "bfloat16+channels_last"],
                   help="'+'-joined options from: " + ", ".join(OPTIONS))
    p.add_argument("--epochs", type=int, default=3, help="epochs per fit (per stage: GANIM)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--out", default="benchmarks/results/speed/results.jsonl")
    args = p.parse_args(argv)
    base = {}
    for item in args.param:
        key, _, value = item.partition("=")
        base[key] = _run._parse_value(value)
    for method in args.method:
        for config in args.config:
            _run.append_record(args.out, measure(method, args.dataset, config, args, base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
