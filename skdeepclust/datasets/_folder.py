"""A folder of image files as a streaming ``torch.utils.data.Dataset``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

#: File name endings read by :class:`ImageFolderDataset` (case-insensitive).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class ImageFolderDataset(torch.utils.data.Dataset):
    """The image files under a folder, decoded and resized when an item is read.

    Only file names and image headers are read up front; each ``dataset[i]`` opens, decodes
    and resizes one file (Pillow, imported on first use). Passed to ``fit``, ``predict`` and
    the other estimator methods, it is streamed: at most one batch of decoded images is in
    memory at a time (``batch_size`` images while training, 1,024 for inference).

    Parameters
    ----------
    root : str or path-like
        Folder searched recursively for files ending in one of ``extensions``, in sorted
        order of their path.
    size : (int, int) or None, default=None
        ``(height, width)`` every image is resized to (bilinear); ``None``: the size of the
        first image.
    channels : {1, 3} or None, default=None
        ``1``: grey images (colour files are averaged over R, G and B); ``3``: RGB;
        ``None``: RGB when any file is not a plain grey image, else grey.
    dtype : {"float32", "uint8"}, default="float32"
        ``"float32"``: values in [0, 1]; ``"uint8"``: the pixel values 0-255 (what the
        command line uses, so that its models see the same values as from an image array).
    extensions : sequence of str, default=IMAGE_EXTENSIONS
        File name endings to read (case-insensitive).

    Attributes
    ----------
    files : list of pathlib.Path
        The image files, one per item.
    names : list of str
        Their paths relative to ``root``.
    skipped : list of (str, str)
        Files whose header could not be read, with the reason; they are not items.
    image_shape : tuple of int
        Shape of one image as a NumPy array: ``(H, W)`` (grey) or ``(H, W, 3)``.

    Examples
    --------
    >>> from skdeepclust import DCCS
    >>> from skdeepclust.datasets import ImageFolderDataset
    >>> ds = ImageFolderDataset("photos/", size=(64, 64))  # doctest: +SKIP
    >>> labels = DCCS(n_clusters=5).fit_predict(ds)  # doctest: +SKIP
    """

    def __init__(self, root, size: tuple[int, int] | None = None, channels: int | None = None,
                 dtype: str = "float32", extensions=IMAGE_EXTENSIONS):
        from PIL import Image

        root = Path(root)
        if not root.is_dir():
            raise ValueError(f"{os.fspath(root)!r} is not a folder.")
        if channels not in (None, 1, 3):
            raise ValueError(f"channels must be None, 1 or 3, got {channels!r}.")
        if dtype not in ("float32", "uint8"):
            raise ValueError(f"dtype must be 'float32' or 'uint8', got {dtype!r}.")
        if size is not None:
            size = tuple(size)
            if len(size) != 2 or not all(isinstance(s, (int, np.integer)) and s >= 1
                                         for s in size):
                raise ValueError(f"size must be (height, width) positive ints, got {size!r}.")
        ext = {e.lower() for e in extensions}
        candidates = sorted(p for p in root.rglob("*") if p.suffix.lower() in ext
                            and p.is_file())
        self.files: list[Path] = []
        self.skipped: list[tuple[str, str]] = []
        modes, first_size = set(), None
        for f in candidates:
            try:
                with Image.open(f) as im:  # reads the header only
                    modes.add(im.mode)
                    if first_size is None:
                        first_size = im.size[::-1]
            except (OSError, ValueError) as exc:
                self.skipped.append((str(f), str(exc)))
                continue
            self.files.append(f)
        if not self.files:
            raise ValueError(
                f"No readable image ({', '.join(sorted(ext))}) under {os.fspath(root)!r}."
            )
        self.root = root
        self.names = [str(f.relative_to(root)) for f in self.files]
        self.size = (int(size[0]), int(size[1])) if size is not None else tuple(first_size)
        if channels is None:
            channels = 1 if modes <= {"L"} else 3
        self.channels = channels
        self.dtype = dtype
        h, w = self.size
        self.image_shape = (h, w) if channels == 1 else (h, w, 3)

    def __len__(self) -> int:
        return len(self.files)

    def read_array(self, i: int) -> np.ndarray:
        """Image ``i`` as a uint8 array of shape :attr:`image_shape` (channels last)."""
        from PIL import Image

        f = self.files[i]
        with Image.open(f) as im:
            if im.mode not in ("L", "RGB"):
                im = im.convert("RGB")
            if self.channels == 1 and im.mode == "RGB":
                rgb = np.asarray(im.resize(self.size[::-1], Image.BILINEAR))
                return rgb.mean(axis=-1).astype(np.uint8)
            im = im.convert("L" if self.channels == 1 else "RGB")
            return np.asarray(im.resize(self.size[::-1], Image.BILINEAR))

    def __getitem__(self, i: int) -> torch.Tensor:
        """Image ``i`` as a ``(C, H, W)`` tensor (float32 in [0, 1], or uint8)."""
        a = self.read_array(int(i))
        a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
        a = np.ascontiguousarray(a)
        if not a.flags.writeable:  # a view of Pillow's buffer
            a = a.copy()
        if self.dtype == "float32":
            a = a.astype(np.float32) / np.float32(255.0)
        return torch.from_numpy(a)
