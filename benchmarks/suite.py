"""The fixed benchmark suite: every method side by side on the same arrays, resumable.

Each fit runs in its own child process with one torch thread (``OMP_NUM_THREADS=1``,
``torch.set_num_threads(1)``), at most ``--jobs`` at a time. The skdeepclust estimators and
scikit-learn's KMeans run with this interpreter (the main environment); the ClustPy methods
run with ``--clustpy-python`` (a separate virtual environment: ClustPy is never a
dependency of skdeepclust). The driver appends one JSON line per finished fit to ``--out``
and skips the configurations already recorded there, so a suite interrupted by the end of
a session goes on where it stopped when the same command is run again.

Examples
--------
Everything (hours of CPU), two fits at a time::

    python benchmarks/suite.py --jobs 2

Only the ClustPy baselines, or a few datasets and methods::

    python benchmarks/suite.py --only clustpy
    python benchmarks/suite.py --datasets digits coil20 --methods kmeans icae clustpy_idec

What would run and what is recorded already::

    python benchmarks/suite.py --dry-run

A tuned configuration (recorded with its parameters, so it never replaces the defaults)::

    python benchmarks/suite.py --methods icae --param icae:max_epochs=50

An end-to-end check on tiny budgets (300 images, 1 epoch; written to ``smoke.jsonl``)::

    python benchmarks/suite.py --smoke

The same arrays for every method: pixels scaled to [0, 1] (digits divided by 16, uint8
images by 255), flattened channels-last, ``n_clusters`` = number of classes. Labels only
score the final labels. Datasets:

- ``digits``: scikit-learn's ``load_digits`` (1,797 images, 8x8);
- ``mnist_10k``, ``fashion_10k``: the rows ``np.random.RandomState(0).permutation(70000)
  [:10000]`` of ``mnist.npz`` / ``fashion_mnist.npz`` (sorted, as ``run.py --subset
  10000`` takes them);
- ``coil20``: the 1,440 COIL-20 images downsampled from 128x128 to 32x32 by averaging 4x4
  blocks; ``coil20_128`` (not in the default list): at 128x128, ICAE's setting;
- ``cifar10_10k``: the rows ``np.random.RandomState(0).permutation(20000)[:10000]``
  (sorted) of ``cifar10_approx_part0.npz`` (RGB 32x32, the JPEG approximation of
  CIFAR-10). Not its first 10,000 rows: they hold only 7 of the 10 classes.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (REPO_ROOT, append_record, cpu_model, git_commit,  # noqa: E402
                    git_dirty, read_records)

sys.path.insert(0, str(REPO_ROOT))
from skdeepclust._registry import METHODS as SKDEEPCLUST_METHODS  # noqa: E402

DATASETS = ("digits", "coil20", "mnist_10k", "fashion_10k", "cifar10_10k", "coil20_128")
DEFAULT_DATASETS = DATASETS[:5]

#: method -> (library, class name). The order is the order of the runs on each dataset:
#: the cheap baselines first, so an interrupted suite has them everywhere.
METHODS = {
    "kmeans": ("sklearn", "KMeans"),
    "clustpy_dec": ("clustpy", "DEC"),
    "clustpy_idec": ("clustpy", "IDEC"),
    "clustpy_vade": ("clustpy", "VaDE"),
    "clustpy_ddc": ("clustpy", "DDC"),
    "clustpy_n2d": ("clustpy", "N2D"),
    # Every estimator of the library's registry (skdeepclust._registry), in its order.
    **{name: ("skdeepclust", cls) for name, cls in SKDEEPCLUST_METHODS.items()},
}
LIBRARIES = ("skdeepclust", "clustpy", "sklearn")
#: One seed for the ClustPy methods (each fit is long), three for the others.
DEFAULT_SEEDS = {"skdeepclust": (0, 1, 2), "sklearn": (0, 1, 2), "clustpy": (0,)}

#: Parameters the suite must set (everything else stays at the library's default).
#: KMeans: sklearn's default n_init is "auto" (1 run with k-means++); the papers use 10.
#: N2D: its default t-SNE manifold has n_components = n_clusters, and scikit-learn's
#: Barnes-Hut t-SNE refuses n_components >= 4, so every dataset here would fail.
REQUIRED_PARAMS = {
    "kmeans": {"n_init": 10},
    "clustpy_n2d": {"manifold_params": {"n_components": 2}},
}
#: --smoke budgets: the smallest that still runs every stage of each method.
SMOKE_PARAMS = {
    "icae": {"max_epochs": 1},
    "variational": {"max_epochs": 1},
    "dccs": {"max_epochs": 1},
    "ganim": {"gan_epochs": 1, "max_epochs": 2},
    "clustpy_dec": {"pretrain_epochs": 1, "clustering_epochs": 1},
    "clustpy_idec": {"pretrain_epochs": 1, "clustering_epochs": 1},
    "clustpy_vade": {"pretrain_epochs": 1, "clustering_epochs": 1},
    "clustpy_ddc": {"pretrain_epochs": 1},
    "clustpy_n2d": {"pretrain_epochs": 1},
}
SMOKE_SAMPLES = 300

DEFAULT_OUT = "benchmarks/results/suite/suite.jsonl"
SMOKE_OUT = "benchmarks/results/suite/smoke.jsonl"
DEFAULT_CLUSTPY_PYTHON = "/work/venv-clustpy/bin/python"
# Variables that cap the BLAS / OpenMP pools of numpy, scikit-learn and torch to 1 thread.
ONE_THREAD_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                         "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")}


# --------------------------------------------------------------------------- the plan
def config_key(dataset: str, method: str, seed: int, params: dict) -> str:
    """What makes two fits the same configuration (and a recorded one skippable)."""
    return f"{dataset}|{method}|{seed}|{json.dumps(params, sort_keys=True)}"


def record_key(record: dict) -> str:
    return config_key(record["dataset"], record["method"], record["seed"],
                      record.get("params") or {})


def effective_params(method: str, overrides: dict, smoke: bool) -> dict:
    """The non-default parameters of a fit: the required ones, the smoke budget, then the
    user's ``--param`` overrides (which win)."""
    params = dict(REQUIRED_PARAMS.get(method, {}))
    if smoke:
        params.update(SMOKE_PARAMS.get(method, {}))
    params.update(overrides.get(method, {}))
    return params


def build_plan(args, overrides: dict) -> list[dict]:
    plan = []
    for dataset in args.datasets:
        for method in args.methods:
            library = METHODS[method][0]
            seeds = args.seeds if args.seeds is not None else DEFAULT_SEEDS[library]
            params = effective_params(method, overrides, args.smoke)
            for seed in seeds:
                plan.append({"dataset": dataset, "method": method, "library": library,
                             "seed": seed, "params": params,
                             "overrides": overrides.get(method, {}),
                             "key": config_key(dataset, method, seed, params)})
    return plan


def recorded(out: Path, since: str | None = None) -> dict[str, dict]:
    """The last record of each configuration in ``out`` (a retried fit supersedes).

    With ``since`` (a commit), records made at a commit that does not contain it count as
    not recorded, so that a change to the library is measured again, resumably."""
    return {record_key(r): r for r in read_records(out)
            if since is None or _contains(r.get("commit"), since)}


@functools.lru_cache(maxsize=None)
def _contains(commit: str | None, since: str) -> bool:
    """Whether ``commit`` is ``since`` or a descendant of it (git ancestry; one git call
    per distinct commit, as many records share one)."""
    if not commit:
        return False
    done = subprocess.run(["git", "merge-base", "--is-ancestor", since, commit],
                          cwd=REPO_ROOT, capture_output=True)
    return done.returncode == 0


# --------------------------------------------------------------------------- the child
def load_dataset(name: str, data_dir: str, smoke: bool):
    """``(X, y, image_shape)``: ``X`` float32 in [0, 1], shape ``(n, H*W*C)`` channels-last,
    the same array for every method."""
    import numpy as np

    import run  # the benchmark runner's loaders

    if name == "digits":
        bunch = run._load_digits()
        X, y, shape = bunch.data / 16.0, bunch.target, (8, 8)
    elif name in ("mnist_10k", "fashion_10k"):
        source = {"mnist_10k": "mnist", "fashion_10k": "fashion_mnist"}[name]
        # run.load with seed 0: the rows RandomState(0).permutation(70000)[:10000], sorted.
        X, y, shape = run.load(source, data_dir, 10_000, seed=0)
        X = X / 255.0
    elif name in ("coil20", "coil20_128"):
        X, y, shape = run.load("coil20", data_dir, None, seed=0)
        if name == "coil20":
            n, (h, w) = len(X), shape[:2]
            # Area averaging: the mean of each 4x4 block, 128x128 -> 32x32.
            X = X.reshape(n, h // 4, 4, w // 4, 4).mean(axis=(2, 4)).reshape(n, -1)
            shape = (h // 4, w // 4, 1)
        X = X / 255.0
    elif name == "cifar10_10k":
        with np.load(Path(data_dir) / "cifar10_approx_part0.npz") as f:
            # Not the first 10,000 rows: part 0 is ordered by original position, and the
            # export it comes from is grouped by class, so its first 10,000 rows hold
            # only classes 0-6. A fixed random half of the (class-balanced) part instead.
            rows = np.sort(np.random.RandomState(0).permutation(len(f["y"]))[:10_000])
            X, y = f["X"][rows], f["y"][rows].astype(np.int64)
        shape = X.shape[1:]
        X = X.reshape(len(X), -1) / 255.0
    else:
        raise ValueError(f"unknown dataset {name!r}; choose from {DATASETS}")
    X = np.asarray(X, dtype=np.float32)
    if smoke and len(X) > SMOKE_SAMPLES:
        idx = np.sort(np.random.RandomState(0).permutation(len(X))[:SMOKE_SAMPLES])
        X, y = X[idx], y[idx]
    return X, np.asarray(y), tuple(int(s) for s in shape)


def _make_estimator(method: str, n_clusters: int, seed: int, image_shape, params: dict):
    library, name = METHODS[method]
    if library == "sklearn":
        from sklearn.cluster import KMeans

        return KMeans(n_clusters=n_clusters, random_state=seed, **params)
    if library == "clustpy":
        import clustpy.deep

        cls = getattr(clustpy.deep, name)
        # DDC finds the number of clusters itself (density peaks on a t-SNE embedding).
        kwargs = {} if name == "DDC" else {"n_clusters": n_clusters}
        return cls(random_state=seed, **kwargs, **params)
    import skdeepclust

    return getattr(skdeepclust, name)(n_clusters=n_clusters, random_state=seed,
                                      image_shape=image_shape, **params)


def _versions(library: str) -> dict:
    import numpy
    import sklearn
    import torch

    import skdeepclust

    out = {"python": sys.version.split()[0], "numpy": numpy.__version__,
           "scikit-learn": sklearn.__version__, "torch": torch.__version__,
           "skdeepclust": skdeepclust.__version__}
    if library == "clustpy":
        from importlib.metadata import version

        out["clustpy"] = version("clustpy")
    return out


def _record_training(record: dict, est) -> None:
    """What the fit's history says about its training (skdeepclust estimators): epochs
    run, the cluster-size entropy per epoch where the method records it, and the epoch
    whose entropy triggered a collapse guard (``None``: never)."""
    history = getattr(est, "history_", None)
    if history is None:
        return
    record["n_epochs"] = len(history)
    if "cluster_entropy" in history[-1]:
        record["cluster_entropy"] = [round(float(h.get("cluster_entropy", float("nan"))), 4)
                                     for h in history]
    guards = dict(est.net_.callbacks_).get("collapse_guard")
    if guards is not None:
        record["collapse_guard_epoch"] = guards.triggered_at_


def fit_one(spec: dict) -> dict:
    """Fit one configuration and return its record (the child's work)."""
    import numpy as np
    import torch

    from skdeepclust.metrics import clustering_report

    torch.set_num_threads(1)
    method, seed, params = spec["method"], spec["seed"], spec["params"]
    library = METHODS[method][0]
    record = {"dataset": spec["dataset"], "method": method, "library": library, "seed": seed,
              "params": params, "overrides": spec.get("overrides", {}),
              "smoke": bool(spec.get("smoke"))}
    try:
        record["versions"] = _versions(library)
        X, y, image_shape = load_dataset(spec["dataset"], spec["data_dir"], spec["smoke"])
        n_clusters = int(len(np.unique(y)))
        record.update(n_samples=int(len(X)), image_shape=list(image_shape),
                      n_clusters=n_clusters)
        est = _make_estimator(method, n_clusters, seed, image_shape, params)
        t, cpu = time.perf_counter(), time.process_time()
        est.fit(X)
        record["fit_seconds"] = time.perf_counter() - t
        # Process CPU seconds: barely changed by other jobs sharing the cores, unlike wall.
        record["fit_cpu_seconds"] = time.process_time() - cpu
        labels = np.asarray(est.labels_)
        record.update(clustering_report(y, labels))
        record["n_clusters_found"] = int(len(np.unique(labels)))
        _record_training(record, est)
        record["status"] = "ok"
    except Exception as exc:  # a failed fit is a result: record it, never crash the suite
        record["status"] = "failed"
        record["error"] = {"type": type(exc).__name__, "message": str(exc)[:2000],
                           "traceback": traceback.format_exc()[-3000:]}
    threads = torch.get_num_threads()
    record["threads"] = threads
    record["device"] = (torch.cuda.get_device_name(0) if torch.cuda.is_available()
                        else f"CPU ({cpu_model()}), {threads} thread" + "s" * (threads > 1))
    if not torch.cuda.is_available():
        # The vector instructions torch's CPU kernels use ("AVX2", "AVX512", ...). Virtual
        # machines often report only "AMD EPYC" as the model, and kernels for other
        # instruction sets may round differently. The same GANIM code and library
        # versions gave digits seed 0 ACC 0.934 on 2026-12-05 and 0.875 on 2026-12-06
        # on "AMD EPYC" machines; this field lets the next such case be told apart.
        record["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    return record


def child_main(spec_json: str) -> int:
    # Libraries (ClustPy above all) print progress to stdout: send fd 1 to stderr (the
    # fit's log) for the whole fit, and keep the real stdout for the one JSON line.
    sys.stdout.flush()
    real_stdout = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    record = fit_one(json.loads(spec_json))
    sys.stdout.flush()
    real_stdout.write(json.dumps(record) + "\n")
    real_stdout.flush()
    return 0


# --------------------------------------------------------------------------- the driver
def _log_path(log_dir: Path, cfg: dict) -> Path:
    digest = hashlib.sha1(cfg["key"].encode()).hexdigest()[:8]
    return log_dir / f"{cfg['dataset']}_{cfg['method']}_s{cfg['seed']}_{digest}.log"


def _tail(path: Path, n: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


class _Job:
    def __init__(self, cfg: dict, args, env: dict):
        self.cfg = cfg
        self.log = _log_path(args.log_dir, cfg)
        self.stdout_path = self.log.with_suffix(".json")
        python = args.clustpy_python if cfg["library"] == "clustpy" else args.main_python
        spec = {**{k: cfg[k] for k in ("dataset", "method", "seed", "params", "overrides")},
                "data_dir": args.data_dir, "smoke": args.smoke}
        self.stdout = self.stdout_path.open("w")
        self.stderr = self.log.open("w")
        self.start = time.monotonic()
        # Own session: a timeout kills the whole process group (t-SNE or data-loader
        # helpers included), and the driver's Ctrl-C does not reach it half-way.
        self.proc = subprocess.Popen(
            [python, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
            stdout=self.stdout, stderr=self.stderr, env=env, cwd=REPO_ROOT,
            start_new_session=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def result(self, timed_out: bool, timeout: float) -> dict:
        self.stdout.close()
        self.stderr.close()
        lines = [ln for ln in self.stdout_path.read_text().splitlines() if ln.startswith("{")]
        self.stdout_path.unlink(missing_ok=True)
        base = {k: self.cfg[k] for k in ("dataset", "method", "library", "seed", "params",
                                          "overrides")}
        if timed_out:
            return {**base, "status": "timeout", "fit_seconds": self.elapsed(),
                    "error": {"type": "Timeout",
                              "message": f"killed after {timeout:.0f} s (--timeout)"}}
        if lines:
            return json.loads(lines[-1])
        # The child died before it could report (killed for memory, a crash in C code).
        tail = _tail(self.log).strip()
        return {**base, "status": "failed",
                "error": {"type": "ChildProcessError",
                          "message": f"exit code {self.proc.returncode}"
                                     + (f"; log tail:\n{tail}" if tail else "")}}


def _summary(record: dict) -> str:
    if record.get("status") == "ok":
        return (f"ACC {record['acc']:.3f} NMI {record['nmi']:.3f} ARI {record['ari']:.3f}, "
                f"{record['n_clusters_found']} clusters, {record['fit_seconds']:.0f} s")
    err = record.get("error", {})
    return f"{record.get('status')}: {err.get('type')}: {str(err.get('message'))[:200]}"


def drive(plan: list[dict], args) -> int:
    out = Path(args.out)
    env = {**os.environ, **ONE_THREAD_ENV,
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT)] + (
               [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))}
    commit, dirty = git_commit(), git_dirty()
    args.log_dir.mkdir(parents=True, exist_ok=True)
    pending, running, n_done = list(plan), [], 0
    print(f"{len(plan)} fits to run, {args.jobs} at a time; records -> {out}; "
          f"logs -> {args.log_dir}", flush=True)
    try:
        while pending or running:
            while pending and len(running) < args.jobs:
                job = _Job(pending.pop(0), args, env)
                running.append(job)
                c = job.cfg
                print(f"[{_now()}] start {c['method']} on {c['dataset']}, seed {c['seed']} "
                      f"(pid {job.proc.pid})", flush=True)
            time.sleep(0.5)
            for job in list(running):
                timed_out = args.timeout is not None and job.elapsed() > args.timeout
                if timed_out:
                    job.kill()
                elif job.proc.poll() is None:
                    continue
                running.remove(job)
                record = job.result(timed_out, args.timeout or 0)
                record.update(commit=commit, commit_dirty=dirty, date=_now())
                append_record(out, record, echo=False)
                n_done += 1
                c = job.cfg
                print(f"[{_now()}] done {n_done}/{len(plan)} {c['method']} on {c['dataset']}, "
                      f"seed {c['seed']}: {_summary(record)}", flush=True)
    finally:
        # Interrupted (Ctrl-C, SIGTERM): the unfinished fits are not recorded, so a rerun
        # does them again; leave no orphan behind.
        for job in running:
            job.kill()
    return 0


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def dry_run(plan: list[dict], done: dict, args) -> int:
    n_run = 0
    for cfg in plan:
        r = done.get(cfg["key"])
        if r is None:
            state = "to run"
        elif r.get("status") == "ok":
            state = f"recorded: {_summary(r)}"
        else:
            state = f"recorded {_summary(r)}" + (" (to retry)" if args.retry_failed else "")
        to_run = r is None or (r.get("status") != "ok" and args.retry_failed)
        n_run += to_run
        extra = f" {json.dumps(cfg['params'])}" if cfg["params"] else ""
        print(f"{cfg['dataset']:<12} {cfg['method']:<13} seed {cfg['seed']}{extra}: {state}")
    print(f"\n{len(plan)} configurations, {len(plan) - n_run} recorded and skipped, "
          f"{n_run} to run; records in {args.out}")
    return 0


def _parse_params(items: list[str], parser) -> dict:
    import run  # noqa: PLC0415  (its JSON-or-string value parser)

    overrides: dict[str, dict] = {}
    for item in items:
        method, sep, rest = item.partition(":")
        key, eq, value = rest.partition("=")
        if not sep or not eq or not key:
            parser.error(f"--param {item!r}: expected METHOD:NAME=VALUE, e.g. "
                         "icae:max_epochs=50")
        if method not in METHODS:
            parser.error(f"--param {item!r}: unknown method {method!r}; choose from "
                         f"{', '.join(METHODS)}")
        overrides.setdefault(method, {})[key] = run._parse_value(value)
    return overrides


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(argv[1])
    p = argparse.ArgumentParser(
        description="The fixed benchmark suite: every method on the same arrays, resumable.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Methods: " + ", ".join(METHODS) + ". Datasets: " + ", ".join(DATASETS)
               + " (coil20_128 is not in the default list).")
    p.add_argument("--datasets", nargs="+", default=list(DEFAULT_DATASETS), choices=DATASETS)
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--only", nargs="+", choices=LIBRARIES + ("baselines",), default=None,
                   help="keep the methods of these libraries (baselines = sklearn + clustpy)")
    p.add_argument("--seeds", nargs="+", type=int, default=None,
                   help="seeds for every method (default: 0 1 2, and 0 for ClustPy)")
    p.add_argument("--jobs", type=int, default=2, help="fits at a time (default 2)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="kill a fit after this many seconds (its process start and data "
                        "loading included) and record a timeout")
    p.add_argument("--param", action="append", default=[], metavar="METHOD:NAME=VALUE",
                   help="estimator parameter (JSON value), repeatable; recorded with the fit")
    p.add_argument("--data-dir", default=None,
                   help="folder with NAME.npz (default: $SKDEEPCLUST_DATA, else "
                        "../shared/datasets from the repository root)")
    p.add_argument("--out", default=None,
                   help=f"JSON lines file (default {DEFAULT_OUT}; {SMOKE_OUT} with --smoke)")
    p.add_argument("--log-dir", type=Path, default=Path("/tmp/skdeepclust-suite-logs"),
                   help="each fit's stdout/stderr")
    p.add_argument("--main-python", default=sys.executable,
                   help="interpreter for the skdeepclust and KMeans fits (default: this one)")
    p.add_argument("--clustpy-python", default=DEFAULT_CLUSTPY_PYTHON,
                   help="interpreter of the environment with ClustPy")
    p.add_argument("--retry-failed", action="store_true",
                   help="run again the configurations recorded as failed or timed out")
    p.add_argument("--since", metavar="COMMIT",
                   help="run again the configurations recorded at commits that do not "
                        "contain COMMIT (after a change to the library)")
    p.add_argument("--dry-run", action="store_true",
                   help="list what would run and what is already recorded")
    p.add_argument("--smoke", action="store_true",
                   help=f"{SMOKE_SAMPLES} images a dataset, 1 epoch a stage; records go to "
                        f"{SMOKE_OUT}")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    if args.only:
        libs = set(args.only) | ({"sklearn", "clustpy"} if "baselines" in args.only else set())
        args.methods = [m for m in args.methods if METHODS[m][0] in libs]
    args.data_dir = str(Path(args.data_dir or os.environ.get("SKDEEPCLUST_DATA")
                             or REPO_ROOT.parent / "shared" / "datasets").resolve())
    if args.out is None:
        args.out = str(REPO_ROOT / (SMOKE_OUT if args.smoke else DEFAULT_OUT))
    overrides = _parse_params(args.param, p)
    plan = build_plan(args, overrides)
    done = recorded(Path(args.out), args.since)
    if args.dry_run:
        return dry_run(plan, done, args)
    todo = [c for c in plan if c["key"] not in done
            or (args.retry_failed and done[c["key"]].get("status") != "ok")]
    if any(c["library"] == "clustpy" for c in todo) and not Path(args.clustpy_python).exists():
        p.error(f"--clustpy-python {args.clustpy_python} does not exist: create the ClustPy "
                "environment (benchmarks/README.md) or leave out the clustpy methods")
    print(f"{len(plan) - len(todo)} of {len(plan)} configurations already recorded in "
          f"{args.out}", flush=True)
    return drive(todo, args)


if __name__ == "__main__":
    # SIGTERM (kill PID, nohup runs) ends the driver like Ctrl-C: children killed, none
    # half-recorded.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
