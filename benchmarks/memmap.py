"""Fit and predict on a uint8 memory map larger than its float32 copy should be.

Writes ``--n`` synthetic 28x28 uint8 images (ten noisy stroke prototypes, generated in
chunks) to a temporary ``.npy`` file, then runs, each in a fresh child process so that
peak RSS is its own:

- ``memmap``: ``fit`` for one epoch and ``predict`` on ``np.load(path, mmap_mode="r")``
  (streamed batch by batch, never copied whole);
- ``in-memory``: the same on the array loaded into memory (the float32 path), for the
  throughput comparison, on ``--n-memory`` images (default: the same ``--n``).

and appends one JSON line with peak RSS (``ru_maxrss``), data sizes, fit and predict
images/s of both::

    OMP_NUM_THREADS=1 python benchmarks/memmap.py --n 20000          # quick check
    OMP_NUM_THREADS=1 python benchmarks/memmap.py --out benchmarks/results/memmap/memmap.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT, append_record, cpu_model, git_commit  # noqa: E402

SIDE = 28


def write_data(path: Path, n: int, seed: int = 0, chunk: int = 10_000) -> None:
    """``n`` images: one of ten random stroke prototypes plus noise, written in chunks."""
    import numpy as np

    rng = np.random.RandomState(seed)
    protos = np.zeros((10, SIDE, SIDE), np.float32)
    for k in range(10):
        for _ in range(3):  # three random strokes per prototype
            r0, c0, r1, c1 = rng.randint(4, SIDE - 4, 4)
            t = np.linspace(0, 1, 40)
            protos[k, (r0 + t * (r1 - r0)).astype(int), (c0 + t * (c1 - c0)).astype(int)] = 1
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(n, SIDE, SIDE))
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        k = rng.randint(0, 10, m)
        img = protos[k] * 200 + rng.uniform(0, 55, (m, SIDE, SIDE))
        X[s:s + m] = np.clip(img, 0, 255).astype(np.uint8)
    X.flush()
    del X


def child(path: str, mode: str, n: int, method: str, batch_size: int, nets: str) -> dict:
    """One measured run (in its own process)."""
    import numpy as np
    import torch

    from skdeepclust import DCCS, VariationalClustering

    X = np.load(path, mmap_mode="r")[:n]
    if nets == "mlp":
        X = X.reshape(n, -1)  # still a memory map; flat rows, as image_shape="tabular" needs
    if mode == "in-memory":
        X = np.array(X)  # a plain array: fit copies it into one float32 array
    cls = {"dccs": DCCS, "variational": VariationalClustering}[method]
    # nets="mlp": image_shape="tabular" gives the methods' small MLPs, so that 200,000
    # images fit in minutes on a CPU; the data path (memory map, streaming) is the same.
    est = cls(n_clusters=10, max_epochs=1, batch_size=batch_size, random_state=0,
              n_threads=1, augmentation=None,
              image_shape="tabular" if nets == "mlp" else None)
    t = time.perf_counter()
    est.fit(X)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    labels = est.predict(X)
    predict_s = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kB
    return {"mode": mode, "n": n, "fit_s": round(fit_s, 2), "predict_s": round(predict_s, 2),
            "fit_images_per_s": round(n / fit_s, 1),
            "predict_images_per_s": round(n / predict_s, 1),
            "peak_rss_mb": round(rss / 2**20, 1), "n_clusters_found": int(len(set(labels))),
            "torch_threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--n-memory", type=int, default=None,
                        help="images of the in-memory comparison (default: --n; 0 skips it)")
    parser.add_argument("--method", choices=("dccs", "variational"), default="variational")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--nets", choices=("mlp", "conv"), default="mlp",
                        help="mlp: the tabular networks (fast); conv: the image networks")
    parser.add_argument("--out", default=None, help="JSON-lines file to append to")
    parser.add_argument("--child", nargs=2, metavar=("PATH", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.n, args.method,
                               args.batch_size, args.nets)))
        return
    n_mem = args.n if args.n_memory is None else args.n_memory
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "images.npy"
        write_data(path, max(args.n, n_mem))
        runs = {}
        for mode, n in (("memmap", args.n), ("in-memory", n_mem)):
            if n <= 0:
                continue
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(path), mode, "--n", str(n),
                 "--method", args.method, "--batch-size", str(args.batch_size),
                 "--nets", args.nets],
                env=env, check=True, capture_output=True, text=True)
            runs[mode] = json.loads(out.stdout.strip().splitlines()[-1])
            print(mode, runs[mode], flush=True)
    record = {
        "benchmark": "memmap", "method": args.method, "n": args.n,
        "image_shape": [SIDE, SIDE], "batch_size": args.batch_size, "max_epochs": 1,
        "nets": args.nets,
        "data_mb_uint8": round(args.n * SIDE * SIDE / 1e6, 1),
        "data_mb_float32": round(args.n * SIDE * SIDE * 4 / 1e6, 1),
        "runs": runs, "cpu": cpu_model(), "commit": git_commit(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if args.out:
        append_record(args.out, record)
    else:
        print(json.dumps(record))


if __name__ == "__main__":
    main()
