"""Summarise the benchmark suite's JSON lines into ``SUITE.md`` and an ACC-vs-time plot.

    python benchmarks/suite_report.py

reads ``benchmarks/results/suite/suite.jsonl`` (or the files given), keeps the last record
of each configuration (a retried fit supersedes the failed one), and writes, per dataset
and method: ACC / NMI / ARI mean and min over seeds, the max - min ACC spread, clusters
found, wall and process CPU seconds a fit, and the ratio of the mean ACC to the best
ClustPy method's and to KMeans' on the same data; failed and timed-out fits are listed
below each table. ``--smoke`` reports the smoke records instead (never both together).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT, read_records  # noqa: E402
from report import _table  # noqa: E402
from suite import (DATASETS, DEFAULT_OUT, METHODS, SMOKE_OUT,  # noqa: E402
                   record_key)

DATASET_TITLES = {
    "digits": "digits (scikit-learn's load_digits, 8x8)",
    "coil20": "COIL-20 (downsampled to 32x32)",
    "coil20_128": "COIL-20 (128x128)",
    "mnist_10k": "MNIST-10k (28x28)",
    "fashion_10k": "Fashion-MNIST-10k (28x28)",
    "cifar10_10k": "CIFAR-10-10k (JPEG approximation, RGB 32x32)",
}
MARKERS = {"skdeepclust": "o", "clustpy": "s", "sklearn": "^"}


def latest(records: list[dict], smoke: bool) -> list[dict]:
    """The last record of each configuration on each device, smoke or real ones only."""
    keep = {}
    for r in records:
        if bool(r.get("smoke")) == smoke:
            keep[(record_key(r), r.get("device", "-"))] = r
    return list(keep.values())


def set_primary_device(records: list[dict]) -> None:
    """The device of most records: rows measured on another one name theirs."""
    global _primary_device
    counts = Counter(r.get("device", "-") for r in records if r.get("device", "-") != "-")
    _primary_device = counts.most_common(1)[0][0] if counts else None


#: The device of most records; rows measured on another one name theirs (set in main).
_primary_device: str | None = None


def label(r: dict) -> str:
    """The method, with the user's overrides when the run was tuned, and the device when
    it is not the report's main one (seeds measured on two machines are not one cell:
    float rounding differs between CPUs, and with it the fit)."""
    over = r.get("overrides") or {}
    name = r["method"]
    if over:
        name += " [" + ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(over.items())) + "]"
    device = r.get("device", "-")
    if _primary_device is not None and device not in ("-", _primary_device):
        name += f" (on {_short_device(device)})"
    return name


def _short_device(device: str) -> str:
    """``CPU (Intel(R) Xeon(R) Processor), 1 thread`` -> ``Intel Xeon Processor``."""
    match = re.fullmatch(r"CPU \((.*)\), \d+ threads?", device)
    return (match.group(1) if match else device).replace("(R)", "").replace("(TM)", "")


def _order(r: dict) -> tuple:
    methods = list(METHODS)
    return (methods.index(r["method"]) if r["method"] in methods else len(methods), label(r))


def _mean_min(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} ({min(values):.3f})"


def _seconds(values: list[float]) -> str:
    if not values:
        return "-"
    mean = float(np.mean(values))
    return f"{mean:.1f}" if mean < 10 else f"{mean:,.0f}"


def dataset_section(dataset: str, records: list[dict]) -> str:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in sorted(records, key=_order):
        groups[label(r)].append(r)
    ok = {name: [r for r in rs if r.get("status") == "ok"] for name, rs in groups.items()}
    mean_acc = {name: float(np.mean([r["acc"] for r in rs])) for name, rs in ok.items() if rs}
    # The references: default configurations only (a tuned baseline is not the baseline).
    clustpy = {n: a for n, a in mean_acc.items()
               if groups[n][0]["library"] == "clustpy" and not groups[n][0].get("overrides")}
    best_clustpy = max(clustpy, key=clustpy.get) if clustpy else None
    kmeans = mean_acc.get("kmeans")
    rows, failures = [], []
    for name, rs in groups.items():
        good = ok[name]
        acc = [r["acc"] for r in good]
        found = sorted({r["n_clusters_found"] for r in good})
        rows.append([
            name, rs[0]["library"], f"{len(good)}/{len(rs)}", _mean_min(acc),
            _mean_min([r["nmi"] for r in good]), _mean_min([r["ari"] for r in good]),
            f"{max(acc) - min(acc):.3f}" if len(acc) > 1 else "-",
            "/".join(map(str, found)) or "-",
            _seconds([r["fit_seconds"] for r in good]),
            _seconds([r["fit_cpu_seconds"] for r in good]),
            f"{mean_acc[name] / clustpy[best_clustpy]:.2f}" if name in mean_acc and best_clustpy
            else "-",
            f"{mean_acc[name] / kmeans:.2f}" if name in mean_acc and kmeans else "-",
        ])
        for r in rs:
            if r.get("status") != "ok":
                err = r.get("error") or {}
                msg = str(err.get("message", "")).strip().splitlines()
                failures.append(f"- {name}, seed {r['seed']}: **{r.get('status')}** "
                                f"({err.get('type')}: {msg[-1][:200] if msg else ''})")
    n = sorted({r["n_samples"] for r in records if r.get("n_samples")})
    head = f"## {DATASET_TITLES.get(dataset, dataset)}\n\n"
    refs = []
    if best_clustpy:
        refs.append(f"best ClustPy method: {best_clustpy} (ACC {clustpy[best_clustpy]:.3f})")
    if kmeans is not None:
        refs.append(f"KMeans: ACC {kmeans:.3f}")
    if n:
        refs.append(f"{'/'.join(f'{v:,}' for v in n)} images")
    text = head + ("; ".join(refs) + ".\n\n" if refs else "")
    text += _table(["method", "library", "seeds ok", "ACC mean (min)", "NMI mean (min)",
                    "ARI mean (min)", "ACC max-min", "clusters found", "wall s / fit",
                    "CPU s / fit", "ACC / best ClustPy", "ACC / KMeans"], rows)
    if failures:
        text += "\nFailed or timed out:\n\n" + "\n".join(failures) + "\n"
    return text


def plot(by_dataset: dict[str, list[dict]], path: str) -> None:
    """ACC against fit seconds (log), one panel per dataset, one point per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = [d for d in by_dataset if any(r.get("status") == "ok" for r in by_dataset[d])]
    if not datasets:
        return
    names = sorted({label(r) for rs in by_dataset.values() for r in rs},
                   key=lambda n: _order({"method": n.split(" [")[0], "overrides": None}) + (n,))
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    colours = {n: cmap(i % cmap.N) for i, n in enumerate(names)}
    ncols = min(3, len(datasets))
    nrows = -(-len(datasets) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.7 * nrows), squeeze=False)
    for ax, dataset in zip(axes.flat, datasets):
        for name in names:
            pts = [r for r in by_dataset[dataset]
                   if label(r) == name and r.get("status") == "ok"]
            if pts:
                ax.scatter([max(r["fit_seconds"], 1e-2) for r in pts], [r["acc"] for r in pts],
                           color=colours[name], marker=MARKERS.get(pts[0]["library"], "o"),
                           label=name, alpha=0.85, edgecolors="none")
        ax.set(xscale="log", xlabel="fit seconds (log)", ylabel="ACC", ylim=(0, 1),
               title=DATASET_TITLES.get(dataset, dataset))
        ax.title.set_fontsize(8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(datasets):]:
        ax.axis("off")
    handles = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles.keys()), fontsize=7, loc="lower right",
               ncol=2 if len(handles) > 6 else 1,
               title="circle skdeepclust, square ClustPy, triangle scikit-learn",
               title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def render(records: list[dict], command: str, plot_name: str | None) -> str:
    by_dataset: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_dataset[r["dataset"]].append(r)
    order = [d for d in DATASETS if d in by_dataset] + sorted(set(by_dataset) - set(DATASETS))
    devices = sorted({r.get("device", "-") for r in records} - {"-"}) or ["-"]
    commits = sorted({(r.get("commit") or "-")[:10] + ("+dirty" if r.get("commit_dirty")
                                                        else "") for r in records})
    versions: dict[str, set] = defaultdict(set)
    for r in records:
        for k, v in (r.get("versions") or {}).items():
            versions[k].add(v)
    parts = [
        "<!-- Generated file: do not edit. -->\n# Benchmark suite\n",
        f"Generated by `{command}` from the records of `benchmarks/suite.py` (see "
        "`benchmarks/README.md`); edit the code, not this file.\n",
        "Every method is fitted on the same arrays (pixels scaled to [0, 1], flattened), "
        "with `n_clusters` = number of classes (ClustPy's DDC finds its own number), its "
        "library's default parameters and one torch thread a fit; labels only score the "
        "final labels. The skdeepclust methods and KMeans (`n_init=10`) use seeds 0, 1, 2, "
        "the ClustPy methods seed 0. Only parameters the suite had to set are named: N2D "
        "gets `manifold_params={\"n_components\": 2}`, because its default t-SNE manifold "
        "has n_components = n_clusters and scikit-learn's Barnes-Hut t-SNE refuses 4 or "
        "more. *mean (min)* is over the seeds that finished; *ACC / best ClustPy* and "
        "*ACC / KMeans* divide a method's mean ACC by the reference's on the same data.\n",
        f"Device: {'; '.join(devices)}"
        + (f" (rows whose name does not say \"on\" another CPU: {_primary_device})"
           if len(devices) > 1 else "")
        + ". Wall seconds depend on what else ran on the "
        "machine (two fits at a time on two shared cores); CPU seconds barely do.\n",
        f"Commits: {', '.join(commits)}. Versions: "
        + "; ".join(f"{k} {', '.join(sorted(v))}" for k, v in sorted(versions.items())) + ".\n",
    ]
    if plot_name:
        parts.append(f"![ACC against fit seconds, one panel per dataset]({plot_name})\n")
    parts += [dataset_section(d, by_dataset[d]) for d in order]
    return "\n".join(parts)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description="Summarise the benchmark suite's records.")
    p.add_argument("files", nargs="*", help=f"JSON lines (default {DEFAULT_OUT}; "
                                            f"{SMOKE_OUT} with --smoke)")
    p.add_argument("--smoke", action="store_true", help="report the smoke records")
    p.add_argument("--out", default="benchmarks/SUITE.md")
    p.add_argument("--plot", default="benchmarks/suite_acc_vs_time.png",
                   help="the ACC-vs-time PNG, written beside --out ('' for none)")
    args = p.parse_args(argv)
    files = args.files or [REPO_ROOT / (SMOKE_OUT if args.smoke else DEFAULT_OUT)]
    records = latest(read_records(*files), smoke=args.smoke)
    set_primary_device(records)
    if not records:
        p.error(f"no {'smoke ' if args.smoke else ''}records in {', '.join(map(str, files))}")
    command = " ".join(["python benchmarks/suite_report.py", *argv])
    plot_name = None
    if args.plot:
        by_dataset: dict[str, list[dict]] = defaultdict(list)
        for r in records:
            by_dataset[r["dataset"]].append(r)
        plot(by_dataset, args.plot)
        plot_name = os.path.relpath(args.plot, Path(args.out).resolve().parent)
    Path(args.out).write_text(render(records, command, plot_name))
    print(f"wrote {args.out}" + (f" and {args.plot}" if args.plot else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
