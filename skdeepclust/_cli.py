"""Command line: ``skdeepclust demo | cluster | predict`` (also ``python -m skdeepclust``)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ._registry import METHODS


#: The demo's method: the best accuracy per second of fit on load_digits among the four
#: (benchmarks/SUITE.md); ``--method`` picks another.
DEMO_METHOD = "dccs"

#: The demo's epochs per method when ``--max-epochs`` is not given (``"auto"`` otherwise).
#: DCCS's default on the digits is 138 epochs (4,000 steps); 120 keeps the whole command
#: under a minute on a 2-core CPU (idle: the fit took 41 s against 50-55 s, the command
#: 48 s against 57-62 s) for the same quality on the demo's seed (ACC 0.956 against
#: 0.954). With the balance warm-up (15 of the 120 epochs) seeds 0 / 1 / 2 gave 0.955 /
#: 0.885 / 0.947, the seed-0 fit in 38 s (AMD EPYC, idle, 2026-12-05).
DEMO_EPOCHS = {"dccs": 120}


def _demo(args: argparse.Namespace) -> int:
    from sklearn.cluster import KMeans
    from sklearn.datasets import load_digits

    from ._data import InputSpec
    from ._registry import estimator_class
    from .metrics import clustering_report

    X, y = load_digits(return_X_y=True)
    cls = estimator_class(args.method)
    name = cls.__name__
    epochs = args.max_epochs
    print(f"load_digits: {X.shape[0]} images of 8x8 pixels, 10 classes (labels used only "
          f"to score)", flush=True)
    if epochs is None:
        epochs = DEMO_EPOCHS.get(args.method, "auto")
        if epochs != "auto":
            spec = InputSpec(X.shape[1], (8, 8, 1), len(X))
            auto = cls(n_clusters=10)._auto_max_epochs(spec)
            print(f"{name} trains {epochs} epochs here, a shortened fit that keeps the demo "
                  f"under a minute (its default on this data is {auto}: --max-epochs auto)",
                  flush=True)
    print(flush=True)
    rows = []
    models = [
        ("KMeans", KMeans(n_clusters=10, n_init=10, random_state=args.seed)),
        (name, cls(n_clusters=10, random_state=args.seed, device=args.device,
                   verbose=args.verbose, max_epochs=epochs)),
    ]
    for label, model in models:
        print(f"fitting {label} ...", flush=True)
        t = time.perf_counter()
        labels = model.fit_predict(X)
        rows.append((label, clustering_report(y, labels), time.perf_counter() - t))
    width = max(len(label) for label, _ in models)
    print(f"\n{'method':<{width}} {'ACC':>6} {'NMI':>6} {'ARI':>6} {'seconds':>8}")
    for label, r, sec in rows:
        print(f"{label:<{width}} {r['acc']:6.3f} {r['nmi']:6.3f} {r['ari']:6.3f} {sec:8.1f}")
    gain = rows[1][1]["acc"] - rows[0][1]["acc"]
    print(f"\n{name} vs KMeans on the pixels: {100 * gain:+.1f} points of accuracy "
          "(ACC: share of images in the cluster matched to their class).")
    if args.montage:
        try:
            import matplotlib

            matplotlib.use("Agg")
        except ImportError:
            print('\n(no montage: matplotlib is missing; pip install "skdeepclust[plot]")')
            return 0
        from .plotting import plot_clusters

        plot_clusters(models[1][1], X).savefig(args.montage, dpi=80)
        print(f"{name}'s clusters, most confident images first: {args.montage}")
    return 0


#: File name of the model written by ``cluster`` (the weights-only format of ``est.save``).
MODEL_FILE = "model.skdc"


def _read_input(path: str, size: tuple[int, int] | None, channels: int | None = None):
    """``(images, names)`` from a folder of images or a .npy/.npz array.

    A folder becomes an :class:`~skdeepclust.datasets.ImageFolderDataset` of uint8 images
    (the pixel values an image array would hold), which the estimators stream: only a batch
    of decoded images is in memory at a time. A .npy file is memory-mapped (streamed too).
    Unreadable image files are reported on stderr and skipped.
    """
    import numpy as np

    src = Path(path)
    if src.is_file() and src.suffix in (".npy", ".npz"):
        if src.suffix == ".npy":
            X = np.load(src, mmap_mode="r")
        else:
            with np.load(src) as f:
                X = f["X"] if "X" in f.files else f[f.files[0]]
        return X, [f"{src.name}[{i}]" for i in range(len(X))]
    if not src.is_dir():
        raise SystemExit(f"error: {path} is neither a folder of images nor a .npy/.npz file")
    from .datasets import ImageFolderDataset

    try:
        ds = ImageFolderDataset(src, size=size, channels=channels, dtype="uint8")
    except ValueError as exc:
        raise SystemExit(f"error: no readable image (PNG, JPEG, ...) in {path}") from exc
    for f, why in ds.skipped:
        print(f"skipped {f}: {why}", file=sys.stderr)
    return ds, ds.names


def _images(X, indices):
    """The images ``indices`` of ``X`` (an array or an image folder) as one uint8 array."""
    import numpy as np

    if hasattr(X, "read_array"):
        return np.stack([X.read_array(int(i)) for i in indices])
    return np.asarray(X[np.asarray(indices)])


def _shape(X) -> tuple[int, ...]:
    return tuple(X.image_shape) if hasattr(X, "image_shape") else tuple(X.shape[1:])


def _montage_png(images, path: Path, n_max: int = 64) -> None:
    """A square-ish grid of up to ``n_max`` images, written with Pillow."""
    import math

    import numpy as np
    from PIL import Image

    images = np.asarray(images)[:n_max]
    if images.dtype != np.uint8:
        lo, hi = float(images.min()), float(images.max())
        images = ((images - lo) / (hi - lo if hi > lo else 1.0) * 255).astype(np.uint8)
    n, h, w = images.shape[:3]
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.zeros((rows * (h + 2), cols * (w + 2)) + images.shape[3:], dtype=np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        grid[r * (h + 2):r * (h + 2) + h, c * (w + 2):c * (w + 2) + w] = img
    Image.fromarray(grid.squeeze()).save(path)


def _write_labels(path: Path, names, labels, proba) -> None:
    import csv

    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "cluster", "confidence"])
        for name, k, p in zip(names, labels, proba.max(axis=1)):
            writer.writerow([name, int(k), f"{p:.4f}"])


def _cluster(args: argparse.Namespace) -> int:
    import numpy as np

    from ._registry import estimator_class

    X, names = _read_input(args.input, args.size)
    cls = estimator_class(args.method)
    model = cls(n_clusters=args.n_clusters, random_state=args.seed, device=args.device,
                max_epochs=args.epochs, n_init=args.n_init, verbose=0 if args.quiet else 2)
    print(f"{len(X)} images of shape {_shape(X)}: fitting {cls.__name__} ...", flush=True)
    labels = model.fit_predict(X)
    proba = model.predict_proba(X)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _write_labels(out / "labels.csv", names, labels, proba)
    for k in range(args.n_clusters):
        members = np.flatnonzero(labels == k)
        if len(members):
            order = members[np.argsort(-proba[members, k], kind="stable")]
            # Only the images of the montage are decoded (at most 64 per cluster).
            _montage_png(_images(X, order[:64]), out / f"cluster_{k:02d}.png")
    model.save(out / MODEL_FILE)
    sizes = np.bincount(labels, minlength=args.n_clusters)
    print(f"cluster sizes: {sizes.tolist()}")
    print(f"wrote {out / 'labels.csv'}, cluster_*.png and {out / MODEL_FILE}")
    return 0


def _load_model(path: str, device: str, allow_pickle: bool):
    """The model in ``path``: a weights-only model file, or a pickle when allowed."""
    import zipfile

    from ._base import BaseDeepClusterer
    from ._persist import load

    if not Path(path).is_file():
        raise SystemExit(f"error: {path} is not a file")
    if zipfile.is_zipfile(path) or not allow_pickle:
        try:
            return load(path, device=device)
        except ValueError as exc:
            hint = ("\nIf it is a pickle written by an older 'skdeepclust cluster' "
                    "(model.pkl) and you trust it, pass --allow-pickle: loading a pickle "
                    "runs code." if not zipfile.is_zipfile(path) else "")
            raise SystemExit(f"error: {exc}{hint}") from None
    import joblib  # reads plain pickles and joblib files

    model = joblib.load(path)  # runs code from the file: only with --allow-pickle
    if not isinstance(model, BaseDeepClusterer):
        raise SystemExit(f"error: {path} holds a {type(model).__name__}, not a fitted "
                         "skdeepclust estimator")
    print(f"note: {path} is a pickle; save the model once with model.save('{MODEL_FILE}') "
          "to use the weights-only format, which runs no code when loaded", file=sys.stderr)
    return model


def _predict(args: argparse.Namespace) -> int:
    model = _load_model(args.model, args.device, args.allow_pickle)
    size = model.image_shape_[:2] if getattr(model, "image_shape_", None) else None
    channels = model.image_shape_[2] if getattr(model, "image_shape_", None) else None
    X, names = _read_input(args.input, size, channels)
    if model.image_shape_ and model.image_shape_[2] == 1 and getattr(X, "ndim", 0) == 4:
        X = X.mean(axis=-1).astype(X.dtype)  # colour files for a grey model
    proba = model.predict_proba(X)
    out = Path(args.out) if args.out else None
    if out:
        _write_labels(out, names, proba.argmax(1), proba)
        print(f"wrote {out}")
    else:
        print("file,cluster,confidence")
        for name, p in zip(names, proba):
            print(f"{name},{int(p.argmax())},{p.max():.4f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skdeepclust", description="scikit-learn compatible deep image clustering."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="Fit a deep clustering method and KMeans on sklearn's digits and "
        "compare ACC / NMI / ARI.",
        description="Fit a deep clustering method (default: %s, the best accuracy per "
        "second on this data) and KMeans on sklearn's load_digits (ships with scikit-learn) "
        "and print ACC / NMI / ARI side by side." % METHODS[DEMO_METHOD],
    )
    demo.add_argument("--method", choices=sorted(METHODS), default=DEMO_METHOD,
                      help=f"method to fit beside KMeans (default: {DEMO_METHOD})")
    demo.add_argument("--seed", type=int, default=0, help="random_state of both models")
    demo.add_argument("--device", default="auto", help="torch device (default: auto)")
    demo.add_argument("--verbose", type=int, default=1,
                      help="0 silent, 1 a progress bar (default), 2 a table per epoch")
    demo.add_argument("--max-epochs", type=lambda v: v if v == "auto" else int(v),
                      default=None, help="the method's max_epochs (default: %s, shortened "
                      "fits that keep the demo under a minute; auto for the others)"
                      % ", ".join(f"{e} for {METHODS[m]}" for m, e in DEMO_EPOCHS.items()))
    demo.add_argument("--montage", default="skdeepclust_demo_clusters.png",
                      help="PNG of the clusters found (needs matplotlib; '' to skip)")
    demo.set_defaults(func=_demo)

    cl = sub.add_parser(
        "cluster", help="Cluster a folder of images (or a .npy/.npz array).",
        description="Fit a deep clustering model on INPUT, a folder of images (PNG, JPEG, "
        "... read with Pillow and resized to --size) or a .npy/.npz array, then write "
        "labels.csv (file, cluster, confidence), one montage PNG per cluster (most "
        f"confident first) and the fitted model ({MODEL_FILE}, read by 'skdeepclust "
        "predict' and skdeepclust.load) to --out.",
    )
    cl.add_argument("input", help="folder of images, or a .npy / .npz array")
    cl.add_argument("--method", choices=sorted(METHODS), default="icae")
    cl.add_argument("--n-clusters", type=int, required=True)
    cl.add_argument("--out", default="skdeepclust_out", help="output folder")
    cl.add_argument("--size", type=int, nargs=2, metavar=("H", "W"), default=None,
                    help="resize images to H x W (default: the first image's size)")
    cl.add_argument("--epochs", type=lambda v: v if v == "auto" else int(v), default="auto",
                    help="max_epochs (default: auto)")
    cl.add_argument("--seed", type=int, default=0, help="random_state")
    cl.add_argument("--n-init", type=int, default=1,
                    help="fits with different seeds; the one of best score is kept (default 1)")
    cl.add_argument("--device", default="auto", help="torch device (default: auto)")
    cl.add_argument("--quiet", action="store_true", help="no progress bar")
    cl.set_defaults(func=_cluster)

    pr = sub.add_parser(
        "predict", help="Assign new images to the clusters of a saved model.",
        description=f"Load MODEL (a {MODEL_FILE} written by 'skdeepclust cluster' or "
        "est.save) and print or write file,cluster,confidence for the images in INPUT.",
    )
    pr.add_argument("model", help=f"{MODEL_FILE} (or, with --allow-pickle, a pickle)")
    pr.add_argument("input", help="folder of images, or a .npy / .npz array")
    pr.add_argument("--out", default=None, help="CSV file (default: print to stdout)")
    pr.add_argument("--device", default="auto", help="torch device (default: auto)")
    pr.add_argument("--allow-pickle", action="store_true",
                    help="also accept a pickle or joblib file (e.g. the model.pkl of older "
                    "versions). Loading a pickle runs code: only for files you trust")
    pr.set_defaults(func=_predict)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
