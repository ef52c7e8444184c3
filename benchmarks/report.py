"""Summarise benchmark JSON lines into Markdown (``RESULTS.md``, ``SPEED.md``) and a plot.

    python benchmarks/report.py benchmarks/results/*.jsonl \
        --scaling benchmarks/results/cpu/scaling.jsonl --plot benchmarks/accuracy_vs_time.png \
        --header benchmarks/results/HEADER.md --out benchmarks/RESULTS.md
    python benchmarks/report.py --speed benchmarks/results/speed/*.jsonl \
        --threads benchmarks/results/threads/*.jsonl \
        --header benchmarks/results/SPEED_HEADER.md --out benchmarks/SPEED.md

Accuracy runs are grouped by method, dataset, images, crop, device and epochs: mean +- std
over runs (seeds), the paper's figure beside it. Scaling runs (a fixed number of epochs on
growing subsets) give seconds per 1,000 images and epoch for each size: constant when fit
time grows linearly. Speed runs give one row per method and configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from papers import PAPER  # noqa: E402


def _fmt(values, digits=3):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} +- {np.std(values):.{digits}f}"


def _read(files) -> list[dict]:
    records = []
    for f in files:
        records += [json.loads(line) for line in Path(f).read_text().splitlines()
                    if line.strip()]
    return records


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _options(r: dict) -> str:
    """The speed options of a run that differ from the defaults ("-" when none)."""
    params = r.get("params") or {}
    opts = [params["precision"]] if params.get("precision", "float32") != "float32" else []
    opts += ["channels_last"] if params.get("channels_last") else []
    return "+".join(opts) or "-"


def summarise(records: list[dict]) -> str:
    """The accuracy table: one row per method, dataset, images, crop, device and epochs."""
    groups = defaultdict(list)
    for r in records:
        key = (r["method"], r["dataset"], r["n_samples"], r.get("crop") or "-",
               _options(r), r.get("device", "-"), r.get("epochs") or 0)
        groups[key].append(r)
    rows = []
    for (method, dataset, n, crop, options, device, _), rs in sorted(groups.items(), key=str):
        if any(r.get("status") == "missing" for r in rs):
            rows.append([method, dataset, n, crop, options, "-", "-", "missing"] + [""] * 6)
            continue
        paper = PAPER.get((method, dataset))
        paper_txt = f"{paper['acc']:.4g} ({paper['source']})" if paper else "-"
        epochs = sorted({r.get("epochs") for r in rs if r.get("epochs")})
        rows.append([
            method, dataset, n, crop, options, device, len(rs), _fmt([r["acc"] for r in rs]),
            _fmt([r["nmi"] for r in rs]), _fmt([r["ari"] for r in rs]),
            _fmt([r.get("fit_seconds") for r in rs], 1),
            _fmt([r.get("seconds_per_epoch") for r in rs], 2),
            ",".join(map(str, epochs)) or "-", paper_txt,
        ])
    return _table(["method", "dataset", "images", "crop", "options", "device", "runs", "ACC",
                   "NMI",
                   "ARI", "fit s", "s/epoch", "epochs", "paper ACC (source)"], rows)


def scaling(records: list[dict]) -> str:
    """Seconds per 1,000 images and epoch at each subset size, wall and process CPU."""
    by_method = defaultdict(dict)
    devices = set()
    for r in records:
        by_method[r["method"]][r["n_samples"]] = r
        devices.add(r.get("device", "-"))
    sizes = sorted({n for m in by_method.values() for n in m})
    rows = []
    for method, runs in sorted(by_method.items()):
        cells = []
        for n in sizes:
            r = runs.get(n)
            if r is None:
                cells.append("-")
                continue
            k = r["n_samples"] / 1000 * r["epochs"]
            cells.append(f"{r['fit_cpu_seconds'] / k:.1f} ({r['fit_seconds'] / k:.1f})")
        cpu = [runs[n]["fit_cpu_seconds"] / (runs[n]["n_samples"] * runs[n]["epochs"])
               for n in sizes if n in runs]
        ratio = max(cpu) / min(cpu) if cpu else float("nan")
        rows.append([method] + cells + [f"{ratio:.2f}"])
    head = ["method"] + [f"{n:,} images" for n in sizes] + ["max / min"]
    return (f"Device: {', '.join(sorted(devices))}. CPU seconds (wall seconds in brackets) "
            "per 1,000 images and epoch, fit included; *max / min* of the CPU column is 1 "
            "for perfectly linear growth.\n\n" + _table(head, rows))


def speed(records: list[dict]) -> str:
    """One row per method, dataset, device and configuration; the speed-up over float32 is
    from process CPU seconds on a CPU and from epoch seconds on a GPU."""
    rows = []
    base = {}
    for r in records:
        if r["config"] == "float32":
            base[(r["method"], r["dataset"], r["n_samples"], r["device"])] = r
    for r in sorted(records, key=lambda r: (r["device"], r["dataset"], r["method"])):
        ref = base.get((r["method"], r["dataset"], r["n_samples"], r["device"]))
        # On a CPU shared with other jobs wall time is noisy; process CPU seconds are not.
        key = "fit_cpu_seconds" if r["device"].startswith("CPU") else "seconds_per_epoch"
        gain = f"{ref[key] / r[key]:.2f}x" if ref else "-"
        stages = r.get("seconds_per_epoch_by_stage")
        stage_txt = (", ".join(f"{k} {v:.2f}" for k, v in stages.items()) if stages else "")
        util = r.get("gpu_utilization_mean")
        rows.append([
            r["method"], r["dataset"], r["n_samples"], r["device"], r["config"],
            f"{r['seconds_per_epoch']:.2f}" + (f" ({stage_txt})" if stage_txt else ""), gain,
            f"{r['fit_cpu_seconds']:.1f}", "-" if util is None else f"{util:.0f}%",
            f"{r['predict_images_per_second']:,.0f}", f"{r['peak_memory_mb']:,.0f}",
            r["epochs"], f"{r['acc']:.3f}",
        ])
    return _table(["method", "dataset", "images", "device", "config", "s/epoch (median)",
                   "speed-up", "CPU s", "GPU util", "predict img/s", "peak MB", "epochs",
                   "ACC"], rows)


def plot(records: list[dict], path: str) -> None:
    """ACC against fit seconds (log scale), one panel per dataset, one colour per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [r for r in records if r.get("acc") is not None and r.get("fit_seconds")]
    datasets = sorted({r["dataset"] for r in records})
    methods = sorted({r["method"] for r in records})
    colours = dict(zip(methods, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.5 * len(datasets), 3.6),
                             squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        rs = [r for r in records if r["dataset"] == dataset]
        for method in methods:
            pts = [(r["fit_seconds"], r["acc"]) for r in rs if r["method"] == method]
            if pts:
                x, y = zip(*pts)
                ax.scatter(x, y, label=method, color=colours[method], alpha=0.8)
        paper = {m: PAPER[(m, dataset)]["acc"] for m in methods if (m, dataset) in PAPER}
        for m, acc in paper.items():
            ax.axhline(acc, color=colours[m], ls=":", lw=1)
        n = sorted({r["n_samples"] for r in rs})
        devices = sorted({r.get("device", "-").split(" (")[0] for r in rs})
        ax.set(xscale="log", xlabel="fit seconds (log)", ylabel="ACC", ylim=(0, 1),
               title=f"{dataset} ({'/'.join(f'{v:,}' for v in n)} images; "
                     f"{', '.join(devices)})")
        ax.title.set_fontsize(9)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.text(0.01, 0.01, "dotted: the paper's ACC on the full dataset", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def threads(records: list[dict]) -> str:
    """One row per case: wall and CPU seconds with 1 thread and with torch's default."""
    by_case: dict[tuple, dict] = {}
    for r in records:
        key = (r["method"], r["dataset"], r["n_images"], json.dumps(r["params"]), r["device"])
        by_case.setdefault(key, {})[r["threads"]] = r
    rows = []
    for (method, dataset, n, params, device), runs in sorted(by_case.items()):
        one = runs.get(1)
        for t, r in sorted(runs.items()):
            ratio = f"{r['wall_s'] / one['wall_s']:.2f}x" if one else "-"
            rows.append([method, dataset, n, params, device, t, f"{r['wall_s']:.1f}",
                         f"{r['cpu_s']:.1f}", ratio])
    return _table(["method", "dataset", "images", "fit parameters", "device", "threads",
                   "wall s", "CPU s", "wall / 1 thread"], rows)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Summarise benchmark JSON lines.")
    p.add_argument("files", nargs="*", help="accuracy runs (benchmarks/run.py)")
    p.add_argument("--scaling", nargs="*", default=[], help="scaling runs (cpu_study.sh)")
    p.add_argument("--speed", nargs="*", default=[], help="speed runs (speed.py)")
    p.add_argument("--threads", nargs="*", default=[], help="thread runs (threads.py)")
    p.add_argument("--plot", default=None, help="write the accuracy-vs-time PNG here")
    p.add_argument("--header", default=None, help="Markdown file placed above the tables")
    p.add_argument("--out", default=None, help="write Markdown here (default: stdout)")
    args = p.parse_args(argv)
    parts = [Path(args.header).read_text().rstrip() + "\n"] if args.header else []
    if args.files:
        records = _read(args.files)
        parts.append("## Accuracy\n\n" + summarise(records))
        if args.plot:
            plot(records, args.plot)
            parts.append(f"![accuracy against fit time]({Path(args.plot).name})\n")
    if args.scaling:
        parts.append("## CPU: fit time against the number of images\n\n"
                     + scaling(_read(args.scaling)))
    if args.speed:
        parts.append("## Options, one at a time\n\n" + speed(_read(args.speed)))
    if args.threads:
        parts.append("## CPU threads: one against torch's default\n\n"
                     "The figures behind the estimators' `n_threads=1` default "
                     "(`benchmarks/threads.py`).\n\n" + threads(_read(args.threads)))
    text = "\n".join(parts)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
