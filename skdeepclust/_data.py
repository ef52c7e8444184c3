"""Input handling shared by every estimator: layout, image shape and intensity scaling.

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


def from_network_layout(Z: np.ndarray, spec: InputSpec, raw_shape) -> np.ndarray:
    """Inverse of :func:`to_network_layout`, back to the layout the caller used in ``fit``."""
    if spec.image_shape is not None:
        Z = Z.transpose(0, 2, 3, 1)  # (n, H, W, C)
    if raw_shape is None:
        return Z.reshape(len(Z), -1)
    return Z.reshape((len(Z),) + tuple(raw_shape))
