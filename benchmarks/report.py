"""Summarise benchmark JSON lines into a Markdown table (``benchmarks/RESULTS.md``).

    python benchmarks/report.py benchmarks/results/*.jsonl --out benchmarks/RESULTS.md

Groups runs by method, dataset, images, crop, device and epochs; reports mean +- std over runs (seeds)
with the paper's figure beside it.
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


def _fmt(values):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} +- {np.std(values):.3f}"


def summarise(records: list[dict]) -> str:
    groups = defaultdict(list)
    for r in records:
        key = (r["method"], r["dataset"], r["n_samples"], r.get("crop") or "-",
               r.get("device", "-"), r.get("epochs") or 0)
        groups[key].append(r)
    lines = [
        "| method | dataset | images | crop | device | runs | ACC | NMI | ARI | fit s | s/epoch "
        "| epochs | paper ACC (source) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (method, dataset, n, crop, device, _), rs in sorted(groups.items(), key=str):
        if any(r.get("status") == "missing" for r in rs):
            lines.append(f"| {method} | {dataset} | {n} | {crop} | - | - | missing "
                         "| | | | | | |")
            continue
        paper = PAPER.get((method, dataset))
        paper_txt = f"{paper['acc']:.4g} ({paper['source']})" if paper else "-"
        epochs = sorted({r.get("epochs") for r in rs if r.get("epochs")})
        lines.append(
            f"| {method} | {dataset} | {n} | {crop} | {device} | {len(rs)} | "
            f"{_fmt([r['acc'] for r in rs])} | {_fmt([r['nmi'] for r in rs])} | "
            f"{_fmt([r['ari'] for r in rs])} | {_fmt([r.get('fit_seconds') for r in rs])} | "
            f"{_fmt([r.get('seconds_per_epoch') for r in rs])} | "
            f"{','.join(map(str, epochs)) or '-'} | {paper_txt} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Summarise benchmark JSON lines.")
    p.add_argument("files", nargs="+")
    p.add_argument("--out", default=None, help="write Markdown here (default: stdout)")
    p.add_argument("--header", default="", help="text placed above the table")
    args = p.parse_args(argv)
    records = []
    for f in args.files:
        records += [json.loads(line) for line in Path(f).read_text().splitlines() if line.strip()]
    text = (args.header + "\n\n" if args.header else "") + summarise(records)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
