"""Input handling shared by every estimator: layout, image shape and intensity scaling.

Data too big to copy (a ``numpy.memmap``, a ``torch.utils.data.Dataset``, a very large
array) is not converted here: :class:`StreamedData` reads, scales and converts it one batch
at a time, with the scaling learned in one streaming pass (:func:`fit_scaling_streamed`).

sklearn counts ``X.shape[1]`` as the number of features, so the canonical input is 2-D
``(n_samples, n_features)`` and images are described by ``image_shape``. Raw image arrays
``(n, H, W)`` and ``(n, H, W, C)`` (numpy / PIL layout) are accepted as a convenience and
flattened here, once, at the edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import check_array, validate_data

__all__ = ["InputSpec"]

#: Below this side length a perfect-square number of features is treated as tabular data:
#: a 2x2 or 4x4 "image" is more likely a small feature vector than a picture.
MIN_INFERRED_IMAGE_SIDE = 8


@dataclass(frozen=True)
class InputSpec:
    """What a method needs to know about the data to build its networks.

    Attributes
    ----------
    n_features : int
        Number of features of a flattened sample.
    image_shape : tuple of int or None
        ``(height, width, channels)`` for images, ``None`` for tabular data.
    n_samples : int
        Number of training samples (some defaults scale with it).
    """

    n_features: int
    image_shape: tuple[int, int, int] | None
    n_samples: int

    @property
    def is_image(self) -> bool:
        return self.image_shape is not None

    @property
    def channels(self) -> int:
        return self.image_shape[2] if self.image_shape else 0

    @property
    def tensor_shape(self) -> tuple[int, ...]:
        """Shape of one sample as the networks see it: ``(C, H, W)`` or ``(F,)``."""
        if self.image_shape is None:
            return (self.n_features,)
        h, w, c = self.image_shape
        return (c, h, w)


def _check_image_shape_param(image_shape, n_features: int) -> tuple[int, int, int] | None:
    """Validate the ``image_shape`` parameter against the number of features."""
    if image_shape is None:
        side = math.isqrt(n_features)
        if side * side == n_features and side >= MIN_INFERRED_IMAGE_SIDE:
            return (side, side, 1)
        return None
    if isinstance(image_shape, str):
        if image_shape == "tabular":
            return None
        raise ValueError(
            f"image_shape={image_shape!r} is not understood: use None (infer), 'tabular', "
            "(height, width) or (height, width, channels)."
        )
    try:
        dims = tuple(image_shape)
    except TypeError:
        raise TypeError(
            f"image_shape must be None, 'tabular' or a tuple of ints, got {image_shape!r}."
        ) from None
    if len(dims) not in (2, 3) or not all(
        isinstance(d, Integral) and not isinstance(d, bool) and d >= 1 for d in dims
    ):
        raise ValueError(
            f"image_shape must be (height, width) or (height, width, channels) with positive "
            f"ints, got {image_shape!r}."
        )
    dims = tuple(int(d) for d in dims)
    if len(dims) == 2:
        dims = dims + (1,)
    if math.prod(dims) != n_features:
        raise ValueError(
            f"image_shape={tuple(image_shape)!r} describes {math.prod(dims)} values per "
            f"sample, but X has {n_features} features. Pass the shape of one image as "
            "(height, width) or (height, width, channels), channels last."
        )
    return dims


def check_input(estimator, X, *, reset: bool, image_shape=None
                ) -> tuple[np.ndarray, tuple[int, ...] | None]:
    """Validate ``X`` and flatten it to 2-D.

    ``image_shape`` is the fitted ``(H, W, C)`` (when ``reset=False``): image arrays must
    match it. Returns the 2-D numeric array (dtype kept, so uint8 stays uint8) and the raw per-sample
    shape when ``X`` was given as an image array (``None`` for 2-D input).
    """
    if sp.issparse(X):
        raise TypeError(
            "Sparse input is not supported: deep clustering needs dense arrays. "
            "Convert it with X.toarray()."
        )
    ndim = getattr(X, "ndim", None)
    if ndim is None:  # lists and array-likes: let check_array report what is wrong
        try:
            ndim = np.asarray(X).ndim
        except (ValueError, TypeError):
            ndim = 2
    if ndim <= 2:
        X2 = validate_data(
            estimator, X, reset=reset, dtype="numeric", ensure_min_samples=1 if not reset else 2
        )
        return X2, None
    if ndim > 4:
        raise ValueError(
            f"X has {ndim} dimensions. Pass (n_samples, n_features), (n_samples, height, "
            "width) or (n_samples, height, width, channels)."
        )
    X = check_array(
        X, allow_nd=True, dtype="numeric", ensure_min_samples=2 if reset else 1
    )
    if ndim == 4 and X.shape[-1] > 4 and X.shape[1] <= 4:
        raise ValueError(
            f"X has shape {X.shape}, which looks channels-first (N, C, H, W). Images are "
            "expected channels-last (N, H, W, C), as numpy and PIL give them: pass "
            "X.transpose(0, 2, 3, 1)."
        )
    raw_shape = X.shape[1:]
    if image_shape is not None:
        h, w, c = image_shape
        if tuple(raw_shape) not in {(h, w, c)} | ({(h, w)} if c == 1 else set()):
            raise ValueError(
                f"X holds images of shape {tuple(raw_shape)}, but the estimator was fitted "
                f"on images of shape {tuple(image_shape)} (H, W, C)."
            )
    X2 = validate_data(
        estimator, X.reshape(len(X), -1), reset=reset, dtype="numeric",
        ensure_min_samples=2 if reset else 1,
    )
    return X2, raw_shape


def resolve_image_shape(image_shape, n_features: int, raw_shape) -> tuple[int, int, int] | None:
    """The ``(H, W, C)`` the estimator will use, from the parameter and the input layout."""
    if raw_shape is None:
        return _check_image_shape_param(image_shape, n_features)
    inferred = tuple(raw_shape) + ((1,) if len(raw_shape) == 2 else ())
    if image_shape is not None:
        given = _check_image_shape_param(image_shape, n_features)
        if given != inferred:
            raise ValueError(
                f"image_shape={image_shape!r} does not match the images in X, whose shape "
                f"is {tuple(raw_shape)!r}. Leave image_shape=None for image arrays."
            )
    return inferred


@dataclass(frozen=True)
class Scaling:
    """The affine map between the caller's values and the networks' inputs.

    Images use one global ``(low, high)`` range mapped to [0, 1], so pixel intensities keep
    their relative scale; tabular data is standardised per feature.

    :meth:`fit` learns it from an array in memory; for streamed data (a memory map, a
    Dataset) :func:`fit_scaling_streamed` learns it in one pass over chunks: the same
    minimum and maximum exactly, the same means and standard deviations up to rounding.
    """

    offset: np.ndarray
    scale: np.ndarray
    dtype: np.dtype

    @classmethod
    def fit(cls, X: np.ndarray, is_image: bool) -> "Scaling":
        Xf = X.astype(np.float64, copy=False)
        if is_image:
            low, high = float(Xf.min()), float(Xf.max())
            span = high - low if high > low else 1.0
            offset, scale = np.array([low]), np.array([span])
        else:
            offset = Xf.mean(axis=0)
            scale = Xf.std(axis=0)
            scale[scale < 1e-12] = 1.0
        return cls(offset=offset, scale=scale, dtype=X.dtype)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Caller's values -> network values, float32 (always a copy)."""
        out = (X.astype(np.float64, copy=False) - self.offset) / self.scale
        return out.astype(np.float32)

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """Network values -> caller's values and dtype (integers are rounded and clipped)."""
        X = Z.astype(np.float64) * self.scale + self.offset
        if np.issubdtype(self.dtype, np.integer):
            info = np.iinfo(self.dtype)
            return np.clip(np.rint(X), info.min, info.max).astype(self.dtype)
        if np.issubdtype(self.dtype, np.floating):
            return X.astype(self.dtype)
        return X


def to_network_layout(X2: np.ndarray, spec: InputSpec) -> np.ndarray:
    """Flattened channels-last rows -> ``(n, C, H, W)`` (images) or ``(n, F)`` (tabular)."""
    if spec.image_shape is None:
        return np.ascontiguousarray(X2)
    h, w, c = spec.image_shape
    return np.ascontiguousarray(X2.reshape(len(X2), h, w, c).transpose(0, 3, 1, 2))


def to_network_space(X2: np.ndarray, scaling: "Scaling", spec: InputSpec,
                     image_range: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """Validated ``(n, F)`` rows -> float32 network input: scaled, images mapped to
    ``image_range`` and laid out ``(n, C, H, W)``. The one conversion of in-memory and
    streamed data, so both give bit-identical batches."""
    Xn = scaling.transform(X2)
    if spec.is_image:
        lo, hi = image_range
        if (lo, hi) != (0.0, 1.0):
            Xn = Xn * (hi - lo) + lo
    return to_network_layout(Xn, spec)


def merge_moments(count: int, mean, m2, batch):
    """Fold ``batch`` (rows) into running per-column ``(count, mean, m2)`` (Chan et al.'s
    parallel variance; ``m2`` is the sum of squared deviations). Works on NumPy arrays and
    torch tensors alike; start with ``(0, None, None)``."""
    k = len(batch)
    b_mean = batch.mean(0)
    b_m2 = ((batch - b_mean) ** 2).sum(0)
    if mean is None:
        return k, b_mean, b_m2
    delta = b_mean - mean
    total = count + k
    return (total, mean + delta * (k / total),
            m2 + b_m2 + delta ** 2 * (count * k / total))


def from_network_layout(Z: np.ndarray, spec: InputSpec, raw_shape) -> np.ndarray:
    """Inverse of :func:`to_network_layout`, back to the layout the caller used in ``fit``."""
    if spec.image_shape is not None:
        Z = Z.transpose(0, 2, 3, 1)  # (n, H, W, C)
    if raw_shape is None:
        return Z.reshape(len(Z), -1)
    return Z.reshape((len(Z),) + tuple(raw_shape))


# ---------------------------------------------------------------------------- streaming
#: Plain in-memory arrays whose float32 network copy would exceed this many bytes are
#: streamed like memory maps instead of being copied whole (NumPy memory maps and torch
#: Datasets always stream, whatever their size).
STREAM_FLOAT32_BYTES = 2 << 30

#: The one streaming pass that learns the scaling reads chunks of at most this many rows
#: and about this many float64 bytes.
SCALING_CHUNK_ROWS = 4096
SCALING_CHUNK_BYTES = 32 << 20


def is_streamed(X) -> bool:
    """Whether ``X`` is read batch by batch rather than copied into one float32 array."""
    if isinstance(X, np.memmap):
        return True
    if isinstance(X, torch.utils.data.Dataset):
        return True
    if isinstance(X, np.ndarray) and X.ndim >= 2 and X.dtype.kind in "biuf":
        return X.size * 4 > STREAM_FLOAT32_BYTES
    return False


def _first_of(item):
    """The image of a Dataset item: the item itself or the first element of a tuple."""
    if isinstance(item, (tuple, list)):
        if not item:
            raise ValueError("Dataset items must be an image or an (image, ...) tuple; got "
                             "an empty tuple.")
        item = item[0]
    return item


class _ArrayReader:
    """Rows of a (memory-mapped) array in the caller's layout: ``(n, F)``, ``(n, H, W)`` or
    ``(n, H, W, C)``. Reads contiguous row ranges as slices (sequential file reads for a
    memory map) and other index sets by fancy indexing."""

    channels_first = False

    def __init__(self, X: np.ndarray):
        self.X = X
        self.dtype = X.dtype
        self.item_shape = tuple(X.shape[1:])

    def __len__(self) -> int:
        return len(self.X)

    def read(self, idx) -> np.ndarray:
        if isinstance(idx, slice):
            return np.asarray(self.X[idx])
        idx = np.asarray(idx)
        if len(idx) and idx[-1] - idx[0] + 1 == len(idx) and np.all(np.diff(idx) == 1):
            return np.asarray(self.X[idx[0]:idx[-1] + 1])
        return np.asarray(self.X[idx])


def _item_array(item, i: int) -> np.ndarray:
    x = _first_of(item)
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    elif not isinstance(x, np.ndarray):
        raise TypeError(
            f"Dataset item {i} is a {type(x).__name__}; items must be an image tensor or "
            "array of shape (C, H, W) (or (H, W), or (n_features,)), or a tuple whose first "
            "element is one. Add a transform that returns a tensor (e.g. "
            "torchvision.transforms.v2.ToImage / PILToTensor)."
        )
    if x.dtype.kind not in "biuf":
        raise TypeError(f"Dataset item {i} has dtype {x.dtype}; items must be numeric.")
    return x


class _DatasetReader:
    """Items of a ``torch.utils.data.Dataset`` stacked into a batch, channels first."""

    channels_first = True

    def __init__(self, dataset):
        self.dataset = dataset
        try:
            n = len(dataset)
        except TypeError:
            raise TypeError(
                "The Dataset has no len(): pass a map-style torch.utils.data.Dataset "
                "(with __len__ and __getitem__), not an IterableDataset."
            ) from None
        if n == 0:
            raise ValueError("The Dataset is empty: it must hold at least one sample.")
        first = _item_array(dataset[0], 0)
        if first.ndim not in (1, 2, 3):
            raise ValueError(
                f"Dataset item 0 has shape {first.shape}; items must be images (C, H, W) or "
                "(H, W), or feature vectors (n_features,)."
            )
        if first.ndim == 3 and first.shape[0] > 4 and first.shape[-1] <= 4:
            raise ValueError(
                f"Dataset item 0 has shape {first.shape}, which looks channels-last "
                "(H, W, C). Dataset items are expected channels-first (C, H, W), as torch "
                "gives them: return x.permute(2, 0, 1) (or use ToImage / PILToTensor)."
            )
        self.n = n
        self.dtype = first.dtype
        self.item_shape = tuple(first.shape)

    def __len__(self) -> int:
        return self.n

    def stack(self, items, indices) -> np.ndarray:
        arrays = []
        for item, i in zip(items, indices):
            x = _item_array(item, int(i))
            if x.shape != self.item_shape:
                raise ValueError(
                    f"Dataset item {int(i)} has shape {tuple(x.shape)}, but item 0 has shape "
                    f"{self.item_shape}: every item must have the same shape. Resize the "
                    "images to one size (ImageFolderDataset(size=...) does this)."
                )
            arrays.append(x)
        out = np.stack(arrays)
        return out if out.dtype == self.dtype else out.astype(self.dtype)

    def read(self, idx) -> np.ndarray:
        idx = range(len(self))[idx] if isinstance(idx, slice) else np.asarray(idx)
        return self.stack([self.dataset[int(i)] for i in idx], idx)


def make_reader(X):
    """A reader of ``X`` (Dataset, memory map or large array), validated."""
    if isinstance(X, torch.utils.data.Dataset):
        return _DatasetReader(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X has dtype {X.dtype}; deep clustering needs numeric data.")
    if X.ndim not in (2, 3, 4):
        raise ValueError(
            f"X has shape {X.shape}. Pass (n_samples, n_features), (n_samples, height, "
            "width) or (n_samples, height, width, channels)."
        )
    if X.ndim == 4 and X.shape[-1] > 4 and X.shape[1] <= 4:
        raise ValueError(
            f"X has shape {X.shape}, which looks channels-first (N, C, H, W). Images are "
            "expected channels-last (N, H, W, C), as numpy and PIL give them: pass "
            "X.transpose(0, 2, 3, 1)."
        )
    if len(X) == 0:
        raise ValueError("X is empty: it must hold at least one sample.")
    return _ArrayReader(X)


def reader_raw_shape(reader) -> tuple[int, ...] | None:
    """The caller-layout per-sample shape (as :func:`check_input` returns it): ``None``
    for flat samples, ``(H, W)`` or ``(H, W, C)`` for images."""
    shape = reader.item_shape
    if len(shape) == 1:
        return None
    if reader.channels_first:
        if len(shape) == 2:
            return shape
        c, h, w = shape
        return (h, w) if c == 1 else (h, w, c)
    return shape


def _flat_rows(reader, raw: np.ndarray) -> np.ndarray:
    """Rows read from ``reader`` -> flattened channels-last ``(n, F)``."""
    if reader.channels_first and raw.ndim == 4:
        raw = raw.transpose(0, 2, 3, 1)
    return raw.reshape(len(raw), -1)


def _check_finite(rows: np.ndarray) -> None:
    if rows.dtype.kind == "f" and not np.isfinite(rows).all():
        raise ValueError("Input contains NaN or infinity; remove or impute those values.")


def fit_scaling_streamed(reader, is_image: bool,
                         chunk_rows: int | None = None) -> Scaling:
    """:meth:`Scaling.fit` in one pass over chunks of ``chunk_rows`` rows.

    Images: the global minimum and maximum, exactly those of the whole array. Tabular data:
    per-feature means and (population) standard deviations merged chunk by chunk in float64
    (Chan et al.'s parallel variance), equal to the in-memory values up to rounding.
    """
    n = len(reader)
    if chunk_rows is None:
        row_bytes = 8 * max(1, math.prod(reader.item_shape))
        chunk_rows = max(1, min(SCALING_CHUNK_ROWS, SCALING_CHUNK_BYTES // row_bytes))
    low, high = np.inf, -np.inf
    count, mean, m2 = 0, None, None
    for start in range(0, n, chunk_rows):
        rows = _flat_rows(reader, reader.read(slice(start, min(n, start + chunk_rows))))
        _check_finite(rows)
        if is_image:  # exact in the data's own dtype: no float64 copy
            low, high = min(low, float(rows.min())), max(high, float(rows.max()))
            continue
        count, mean, m2 = merge_moments(count, mean, m2, rows.astype(np.float64, copy=False))
    if is_image:
        span = high - low if high > low else 1.0
        offset, scale = np.array([low]), np.array([span])
    else:
        offset, scale = mean, np.sqrt(m2 / count)
        scale[scale < 1e-12] = 1.0
    return Scaling(offset=offset, scale=scale, dtype=np.dtype(reader.dtype))


class StreamedData(torch.utils.data.Dataset):
    """Network-space batches of data that is never copied whole (internal).

    Wraps a reader (a NumPy array or memory map, or a ``torch.utils.data.Dataset``) with
    the fitted scaling: each batch is read, flattened, scaled, converted to the network
    layout, made a float32 tensor and moved to ``device``. Only one batch is decoded at a
    time (``num_workers`` DataLoader workers prefetch a few more for a Dataset).

    ``ClusterNet.get_iterator`` trains on it through :class:`~skdeepclust._net.StreamBatches`;
    the estimator's inference plumbing reads it in order with :meth:`iter_batches`.
    """

    def __init__(self, reader, scaling: Scaling, spec: InputSpec,
                 image_range: tuple[float, float] = (0.0, 1.0), device="cpu",
                 channels_last: bool = False, num_workers: int = 0,
                 check_finite: bool = True):
        self.reader = reader
        # False when a full pass (fit's scaling pass) has checked every row already, so
        # that training does not re-check every batch of every epoch.
        self.check_finite = check_finite
        self.scaling = scaling
        self.spec = spec
        self.image_range = image_range
        self.device = device
        self.channels_last = channels_last
        self.num_workers = num_workers

    def __len__(self) -> int:
        return len(self.reader)

    def convert(self, raw: np.ndarray):
        """Raw rows -> network-space float32 CPU tensor (same arithmetic as the in-memory
        path, so values are bit-identical)."""
        rows = _flat_rows(self.reader, raw)
        if self.check_finite:
            _check_finite(rows)
        return torch.from_numpy(to_network_space(rows, self.scaling, self.spec,
                                                 self.image_range))

    def _to_device(self, x):
        x = x.to(self.device, non_blocking=True)
        if self.channels_last and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def iter_batches(self, index_batches):
        """Yield the network-space batch of each entry of ``index_batches`` (slices or
        integer index arrays), in order, on the device."""
        reader = self.reader
        if isinstance(reader, _ArrayReader):
            for idx in index_batches:
                yield self._to_device(self.convert(reader.read(idx)))
            return
        batches = [np.arange(len(self))[b] if isinstance(b, slice) else np.asarray(b)
                   for b in index_batches]
        # A DataLoader over the user's Dataset: the batch sampler is the order drawn by the
        # net (so fits are reproducible) and collation stacks, checks and scales the items.
        loader = torch.utils.data.DataLoader(
            _IndexedDataset(reader.dataset), batch_sampler=[b.tolist() for b in batches],
            collate_fn=self._collate, num_workers=self.num_workers,
            # Its own generator: a DataLoader draws a base seed for its workers each epoch,
            # which would otherwise advance torch's global RNG (dropout, user augmentation)
            # and make a Dataset fit differ from the same fit on an array.
            generator=torch.Generator().manual_seed(0))
        for xb in loader:
            yield self._to_device(xb)

    def _collate(self, pairs):
        indices = [i for i, _ in pairs]
        return self.convert(self.reader.stack([item for _, item in pairs], indices))

    def __getitem__(self, i):
        return self.convert(self.reader.read([int(i)]))[0]


class _IndexedDataset(torch.utils.data.Dataset):
    """``(index, item)`` pairs of a Dataset, so that collation can name a bad item."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        return i, self.dataset[i]


def consecutive_batches(X, batch_size: int):
    """Consecutive batches of ``X`` in order: slices of an array or tensor, or the
    network-space batches of a :class:`StreamedData` (on its device). The one batching of
    inference and of the full-data passes of training (GANIM's features and head losses)."""
    starts = range(0, len(X), batch_size)
    if isinstance(X, StreamedData):
        return X.iter_batches([slice(s, s + batch_size) for s in starts])
    return (X[s:s + batch_size] for s in starts)
