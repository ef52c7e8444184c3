"""Command line: ``skdeepclust demo`` (also ``python -m skdeepclust demo``)."""

from __future__ import annotations

import argparse
import sys
import time


def _demo(args: argparse.Namespace) -> int:
    from sklearn.cluster import KMeans
    from sklearn.datasets import load_digits

    from . import ICAE
    from .metrics import clustering_report

    X, y = load_digits(return_X_y=True)
    print(f"load_digits: {X.shape[0]} images of 8x8 pixels, 10 classes\n", flush=True)
    rows = []
    models = [
        ("KMeans", KMeans(n_clusters=10, n_init=10, random_state=args.seed)),
        ("ICAE", ICAE(n_clusters=10, random_state=args.seed, device=args.device,
                      verbose=args.verbose, max_epochs=args.max_epochs)),
    ]
    for name, model in models:
        print(f"fitting {name} ...", flush=True)
        t = time.perf_counter()
        labels = model.fit_predict(X)
        rows.append((name, clustering_report(y, labels), time.perf_counter() - t))
    print(f"\n{'method':<8} {'ACC':>6} {'NMI':>6} {'ARI':>6} {'seconds':>8}")
    for name, r, sec in rows:
        print(f"{name:<8} {r['acc']:6.3f} {r['nmi']:6.3f} {r['ari']:6.3f} {sec:8.1f}")
    if args.montage:
        try:
            import matplotlib

            matplotlib.use("Agg")
        except ImportError:
            print('\n(no montage: matplotlib is missing; pip install "skdeepclust[plot]")')
            return 0
        from .plotting import plot_clusters

        plot_clusters(models[1][1], X).savefig(args.montage, dpi=80)
        print(f"\nICAE's clusters, most confident images first: {args.montage}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skdeepclust", description="scikit-learn compatible deep image clustering."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="Fit ICAE and KMeans on sklearn's digits and compare ACC / NMI / ARI.",
        description="Fit ICAE and KMeans on sklearn's load_digits (ships with scikit-learn) "
        "and print ACC / NMI / ARI side by side.",
    )
    demo.add_argument("--seed", type=int, default=0, help="random_state of both models")
    demo.add_argument("--device", default="auto", help="torch device (default: auto)")
    demo.add_argument("--verbose", type=int, default=0, help="ICAE verbosity (0, 1, 2)")
    demo.add_argument("--max-epochs", type=lambda v: v if v == "auto" else int(v),
                      default="auto", help="ICAE's max_epochs (default: auto)")
    demo.add_argument("--montage", default="skdeepclust_demo_clusters.png",
                      help="PNG of ICAE's clusters (needs matplotlib; '' to skip)")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
