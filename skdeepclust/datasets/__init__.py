"""Image clustering benchmark datasets, as scikit-learn style ``Bunch`` objects.

Each loader first looks for ``NAME.npz`` in the data home (``data_home=``, else the
``SKDEEPCLUST_DATA`` environment variable, else ``~/skdeepclust_data``), in the format
below; otherwise, with ``download=True``, it downloads the canonical files (through
torchvision where it has the dataset), converts them once to ``NAME.npz`` and loads that.
Machines without internet access can therefore copy the ``.npz`` files into the data home.

``NAME.npz`` holds ``X`` (uint8 images ``(N, H, W)`` or ``(N, H, W, 3)``), ``y`` (int labels
``0..K-1``) and optionally ``n_train`` (the first rows are the official training split).
Clustering papers use all rows (train + test), and so do these loaders.

:class:`ImageFolderDataset` reads your own images from a folder, one file at a time, as a
``torch.utils.data.Dataset`` that every estimator streams.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._folder import IMAGE_EXTENSIONS, ImageFolderDataset

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageFolderDataset",
    "get_data_home",
    "load_cifar10",
    "load_coil20",
    "load_fashion_mnist",
    "load_mnist",
    "load_stl10",
    "load_usps",
]

_DESCR = {
    "mnist": "MNIST handwritten digits, 70,000 28x28 grey images, 10 classes.",
    "fashion_mnist": "Fashion-MNIST, 70,000 28x28 grey images of clothes, 10 classes.",
    "coil20": "COIL-20 (processed), 1,440 128x128 grey images of 20 objects, 72 poses each.",
    "usps": "USPS handwritten digits, 9,298 16x16 grey images, 10 classes.",
    "cifar10": "CIFAR-10, 60,000 32x32 colour images, 10 classes.",
    "stl10": "STL-10 labelled part, 13,000 96x96 colour images, 10 classes.",
}

_TARGET_NAMES = {
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                      "Shirt", "Sneaker", "Bag", "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                "ship", "truck"],
    "stl10": ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship",
              "truck"],
}


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """The folder the loaders read from and download to (created if missing).

    ``data_home`` if given, else ``$SKDEEPCLUST_DATA``, else ``~/skdeepclust_data``.
    """
    path = data_home or os.environ.get("SKDEEPCLUST_DATA") or "~/skdeepclust_data"
    path = Path(path).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _read_npz(home: Path, name: str) -> dict | None:
    """``NAME.npz``, or (CIFAR-10) ``NAME_approx_part*.npz`` concatenated in original order."""
    file = home / f"{name}.npz"
    if file.exists():
        with np.load(file) as f:
            return {k: f[k] for k in f.files}
    parts = sorted(home.glob(f"{name}_approx_part*.npz"))
    if parts:
        loaded = []
        for p in parts:
            with np.load(p) as f:
                loaded.append({k: f[k] for k in f.files})
        out = {k: np.concatenate([d[k] for d in loaded]) for k in ("X", "y")}
        if all("index" in d for d in loaded):
            order = np.argsort(np.concatenate([d["index"] for d in loaded]), kind="stable")
            out = {k: v[order] for k, v in out.items()}
        out["approximate"] = np.array(True)
        return out
    return None


def _torchvision_download(name: str, home: Path) -> dict:
    import torchvision.datasets as tvd  # imported lazily: only the download path needs it

    root = home / "torchvision"
    if name == "stl10":
        splits = [tvd.STL10(root, split=s, download=True) for s in ("train", "test")]
        X = np.concatenate([d.data.transpose(0, 2, 3, 1) for d in splits])
        y = np.concatenate([d.labels for d in splits])
    else:
        cls = {"mnist": tvd.MNIST, "fashion_mnist": tvd.FashionMNIST, "usps": tvd.USPS,
               "cifar10": tvd.CIFAR10}[name]
        splits = [cls(root, train=t, download=True) for t in (True, False)]
        X = np.concatenate([np.asarray(d.data) for d in splits])
        y = np.concatenate([np.asarray(d.targets) for d in splits])
    if X.dtype != np.uint8:  # USPS comes as floats in [0, 255]
        X = np.clip(np.rint(X), 0, 255).astype(np.uint8)
    return {"X": X, "y": y.astype(np.int64), "n_train": np.array(len(splits[0].data))}


def _coil20_download(home: Path) -> dict:
    import io
    import re
    import urllib.request
    import zipfile

    from PIL import Image

    url = "https://www.cs.columbia.edu/CAVE/databases/SLAM_coil-20_coil-100/coil-20/coil-20-proc.zip"
    with urllib.request.urlopen(url, timeout=60) as r:  # noqa: S310 (fixed https URL)
        archive = zipfile.ZipFile(io.BytesIO(r.read()))
    images, labels, poses = [], [], []
    for member in sorted(archive.namelist()):
        m = re.search(r"obj(\d+)__(\d+)\.png$", member)
        if m:
            images.append(np.asarray(Image.open(archive.open(member)).convert("L")))
            labels.append(int(m.group(1)) - 1)
            poses.append(int(m.group(2)))
    return {"X": np.stack(images), "y": np.array(labels, dtype=np.int64),
            "pose": np.array(poses, dtype=np.int64)}


def _load(name: str, data_home, download: bool, return_X_y: bool):
    home = get_data_home(data_home)
    arrays = _read_npz(home, name)
    if arrays is None:
        if not download:
            raise FileNotFoundError(
                f"{name}.npz was not found in {home} and download=False. Put the file there "
                "(keys X, y; see skdeepclust.datasets), set SKDEEPCLUST_DATA, or pass "
                "download=True."
            )
        arrays = _coil20_download(home) if name == "coil20" else _torchvision_download(name, home)
        np.savez_compressed(home / f"{name}.npz", **arrays)
    images = arrays["X"]
    target = arrays["y"].astype(np.int64)
    data = images.reshape(len(images), -1)
    if return_X_y:
        return data, target
    shape = images.shape[1:] + ((1,) if images.ndim == 3 else ())
    descr = _DESCR[name]
    if arrays.get("approximate") is not None:
        descr += " Loaded from a JPEG approximation of the original pixels."
    bunch = Bunch(data=data, images=images, target=target, image_shape=tuple(shape),
                  DESCR=descr)
    bunch.target_names = _TARGET_NAMES.get(name, [str(k) for k in range(target.max() + 1)])
    if "n_train" in arrays:
        bunch.n_train = int(arrays["n_train"])
    if "pose" in arrays:
        bunch.pose = arrays["pose"]
    return bunch


def _make_loader(name: str, title: str):
    def loader(data_home=None, *, download: bool = True, return_X_y: bool = False):
        return _load(name, data_home, download, return_X_y)

    loader.__name__ = f"load_{name}"
    loader.__qualname__ = loader.__name__
    loader.__doc__ = f"""Load {title}: {_DESCR[name]}

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``{name}.npz``; see :func:`get_data_home`.
    download : bool, default=True
        Download and convert the dataset when ``{name}.npz`` is missing.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    bunch : :class:`~sklearn.utils.Bunch`
        ``data`` (n_samples, n_features) uint8, flattened channels-last; ``images`` (the
        image array); ``target``; ``image_shape`` ``(H, W, C)``; ``target_names``;
        ``DESCR``; ``n_train`` where the source has a split.
    """
    return loader


load_mnist = _make_loader("mnist", "MNIST")
load_fashion_mnist = _make_loader("fashion_mnist", "Fashion-MNIST")
load_coil20 = _make_loader("coil20", "COIL-20")
load_usps = _make_loader("usps", "USPS")
load_cifar10 = _make_loader("cifar10", "CIFAR-10")
load_stl10 = _make_loader("stl10", "STL-10")
