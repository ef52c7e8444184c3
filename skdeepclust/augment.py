"""Batched, per-sample random augmentation on the batch's own device.

Every transform here draws *one set of parameters per sample* for a whole batch at once (an
affine ``theta`` per image through :func:`torch.nn.functional.affine_grid` and
:func:`~torch.nn.functional.grid_sample`), from an optional :class:`torch.Generator`, so that
augmentation costs a couple of kernel launches per batch and never a Python loop over images.
(torchvision's v2 random transforms draw one set of parameters for the whole batch.)

Inputs are float batches ``(N, C, H, W)`` scaled to [0, 1], as the estimators feed them, or
``(N, F)`` standardised features for :class:`GaussianNoise`.

Examples
--------
>>> import torch
>>> from skdeepclust.augment import preset
>>> aug = preset("digits")
>>> x = torch.rand(4, 1, 28, 28)
>>> aug(x, generator=torch.Generator().manual_seed(0)).shape
torch.Size([4, 1, 28, 28])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "Augmentation",
    "ChannelShuffle",
    "ColorJitter",
    "Compose",
    "GaussianNoise",
    "RandomAffine",
    "RandomBinarize",
    "RandomStroke",
    "RandomResizedCrop",
    "preset",
    "PRESETS",
    "to_grey",
]


def _uniform(n: int, low: float, high: float, like: Tensor, generator) -> Tensor:
    u = torch.rand(n, generator=generator, device=like.device, dtype=like.dtype)
    return low + (high - low) * u


def _as_range(value, name: str, center: float = 0.0) -> tuple[float, float]:
    """``v`` -> ``(center - v, center + v)``; a pair is returned as is."""
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"{name} must be non-negative, got {value}.")
        return (center - float(value), center + float(value))
    low, high = value
    return (float(low), float(high))


class Augmentation:
    """Base class: ``aug(x, generator=None)`` returns an augmented copy of the batch ``x``.

    Subclasses implement :meth:`__call__`. Parameters are stored unchanged so that
    augmentations print, compare, pickle and deep-copy like scikit-learn parameters.
    """

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        raise NotImplementedError

    def _params(self) -> dict:
        return dict(vars(self))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self._params() == other._params()

    def __hash__(self):
        return hash(repr(self))


def _check_images(x: Tensor, name: str) -> None:
    if x.ndim != 4:
        raise ValueError(f"{name} expects image batches (N, C, H, W), got shape {tuple(x.shape)}.")


class RandomAffine(Augmentation):
    """Per-sample random rotation, shear, shift, scale and horizontal flip.

    Parameters
    ----------
    degrees : float or (float, float), default=0
        Rotation range in degrees; a number ``d`` means ``(-d, d)``.
    translate : float, default=0
        Maximal shift as a fraction of the image size, in each direction.
    scale : (float, float), default=(1, 1)
        Range of the zoom factor.
    shear : float or (float, float), default=0
        Shear range in degrees (along x).
    hflip : float, default=0
        Probability of a horizontal flip.
    padding_mode : {"zeros", "border", "reflection"}, default="zeros"
        How pixels that come from outside the image are filled (zeros = the darkest value).
    """

    def __init__(self, degrees=0.0, translate=0.0, scale=(1.0, 1.0), shear=0.0, hflip=0.0,
                 padding_mode="zeros"):
        self.degrees = degrees
        self.translate = translate
        self.scale = scale
        self.shear = shear
        self.hflip = hflip
        self.padding_mode = padding_mode

    def theta(self, n: int, like: Tensor, generator=None) -> Tensor:
        """The ``(n, 2, 3)`` sampling matrices (output -> input coordinates)."""
        rot = torch.deg2rad(_uniform(n, *_as_range(self.degrees, "degrees"), like, generator))
        shear = torch.deg2rad(_uniform(n, *_as_range(self.shear, "shear"), like, generator))
        zoom = _uniform(n, *self.scale, like, generator)
        t = float(self.translate)
        tx = _uniform(n, -2 * t, 2 * t, like, generator)  # normalised coords span 2
        ty = _uniform(n, -2 * t, 2 * t, like, generator)
        cos, sin = torch.cos(rot), torch.sin(rot)
        sh = torch.tan(shear)
        # A = R(rot) @ Shear_x(sh) / zoom ; sampling with A^-1-like symmetric ranges.
        a = torch.stack([cos, cos * sh - sin, sin, sin * sh + cos], dim=1).view(n, 2, 2)
        a = a / zoom.view(n, 1, 1)
        if self.hflip:
            flip = torch.rand(n, generator=generator, device=like.device) < float(self.hflip)
            sign = torch.where(flip, -1.0, 1.0).to(like.dtype)
            a = a * torch.stack([sign, torch.ones_like(sign)], dim=1).view(n, 1, 2)
        return torch.cat([a, torch.stack([tx, ty], dim=1).view(n, 2, 1)], dim=2)

    def __call__(self, x, generator=None):
        _check_images(x, type(self).__name__)
        theta = self.theta(len(x), x, generator)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode=self.padding_mode,
                             align_corners=False)


class RandomResizedCrop(Augmentation):
    """Per-sample random crop of a random area and aspect ratio, resized to the input size.

    Parameters
    ----------
    scale : (float, float), default=(0.5, 1.0)
        Range of the cropped area as a fraction of the image.
    ratio : (float, float), default=(3/4, 4/3)
        Range of the crop's aspect ratio (log-uniform).
    """

    def __init__(self, scale=(0.5, 1.0), ratio=(3 / 4, 4 / 3)):
        self.scale = scale
        self.ratio = ratio

    def __call__(self, x, generator=None):
        _check_images(x, type(self).__name__)
        n = len(x)
        area = _uniform(n, *self.scale, x, generator)
        log_r = _uniform(n, math.log(self.ratio[0]), math.log(self.ratio[1]), x, generator)
        r = torch.exp(log_r)
        w = torch.sqrt(area * r).clamp(max=1.0)
        h = torch.sqrt(area / r).clamp(max=1.0)
        cx = (2 * torch.rand(n, generator=generator, device=x.device, dtype=x.dtype) - 1) * (1 - w)
        cy = (2 * torch.rand(n, generator=generator, device=x.device, dtype=x.dtype) - 1) * (1 - h)
        zero = torch.zeros_like(w)
        theta = torch.stack([w, zero, cx, zero, h, cy], dim=1).view(n, 2, 3)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


class ColorJitter(Augmentation):
    """Per-sample random brightness, contrast and saturation (as torchvision defines them).

    Parameters
    ----------
    brightness, contrast, saturation : float, default=0
        A value ``b`` draws a factor in ``[1 - b, 1 + b]``.
    """

    def __init__(self, brightness=0.0, contrast=0.0, saturation=0.0):
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation

    def __call__(self, x, generator=None):
        _check_images(x, type(self).__name__)
        n = len(x)
        shape = (n, 1, 1, 1)
        out = x
        if self.brightness:
            f = _uniform(n, *_as_range(self.brightness, "brightness", 1.0), x, generator)
            out = out * f.clamp(min=0).view(shape)
        if self.contrast:
            f = _uniform(n, *_as_range(self.contrast, "contrast", 1.0), x, generator)
            mean = to_grey(out).mean(dim=(1, 2, 3), keepdim=True)
            out = (out - mean) * f.clamp(min=0).view(shape) + mean
        if self.saturation and x.shape[1] == 3:
            f = _uniform(n, *_as_range(self.saturation, "saturation", 1.0), x, generator)
            grey = to_grey(out)
            out = (out - grey) * f.clamp(min=0).view(shape) + grey
        return out.clamp(0.0, 1.0)


def to_grey(x: Tensor) -> Tensor:
    """ITU-R 601 luma of an RGB batch ``(N, 3, H, W)``, keeping a channel axis.

    One-channel batches are returned as they are; other channel counts are averaged.
    Shared by the colour augmentations, DCCS's grey encoder input and GANIM's Sobel front-end.
    """
    if x.shape[1] != 3:
        return x.mean(dim=1, keepdim=True)
    w = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


class ChannelShuffle(Augmentation):
    """Per-sample random permutation of the colour channels, with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, x, generator=None):
        _check_images(x, type(self).__name__)
        n, c = x.shape[:2]
        perm = torch.rand(n, c, generator=generator, device=x.device).argsort(dim=1)
        keep = torch.rand(n, generator=generator, device=x.device) >= float(self.p)
        perm = torch.where(keep[:, None], torch.arange(c, device=x.device).expand(n, c), perm)
        idx = perm.view(n, c, 1, 1).expand_as(x)
        return torch.gather(x, 1, idx)


class GaussianNoise(Augmentation):
    """Additive Gaussian noise of standard deviation ``std``, for tabular (standardised) data."""

    def __init__(self, std=0.1):
        self.std = std

    def __call__(self, x, generator=None):
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return x + float(self.std) * noise


class RandomStroke(Augmentation):
    """Thicker or thinner strokes: a random blend with a grey dilation or erosion.

    Each image is moved towards its 3x3 grey dilation (max filter) or, with the same
    probability, its erosion (min filter), by a fraction drawn uniformly from
    ``[0, strength]``. Stroke width is a nuisance of handwriting and line drawings, which a
    clustering should not split a class by. (On ``load_digits`` the fits that split the 1s
    and 8s over two mixed clusters split them by width, not by pen width:
    ``benchmarks/README.md``, "Would agreement pick better than score?".)

    Parameters
    ----------
    strength : float, default=0.5
        Largest blend fraction, in [0, 1].
    """

    def __init__(self, strength=0.5):
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength must be in [0, 1], got {strength}.")
        self.strength = strength

    def __call__(self, x, generator=None):
        _check_images(x, "RandomStroke")
        n = len(x)
        dilated = F.max_pool2d(x, 3, stride=1, padding=1)
        eroded = -F.max_pool2d(-x, 3, stride=1, padding=1)
        thicker = torch.rand(n, generator=generator, device=x.device) < 0.5
        target = torch.where(thicker.view(-1, 1, 1, 1), dilated, eroded)
        amount = _uniform(n, 0.0, float(self.strength), x, generator).view(-1, 1, 1, 1)
        return x + amount * (target - x)


class RandomBinarize(Augmentation):
    """Stochastic binarisation: each pixel becomes 1 with probability equal to its value.

    The Variational Clustering paper's Fashion-MNIST view is brightness +-0.2 followed by
    this: ``Compose([ColorJitter(brightness=0.2), RandomBinarize()])``. Pixels are clamped
    to [0, 1] first.
    """

    def __call__(self, x, generator=None):
        _check_images(x, "RandomBinarize")
        u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (u < x.clamp(0.0, 1.0)).to(x.dtype)


class Compose(Augmentation):
    """Apply several augmentations in order."""

    def __init__(self, transforms: Sequence[Augmentation]):
        self.transforms = list(transforms)

    def __call__(self, x, generator=None):
        for t in self.transforms:
            x = t(x, generator=generator) if isinstance(t, Augmentation) else t(x)
        return x


def _digits():
    return RandomAffine(degrees=10, translate=0.1, scale=(0.9, 1.1), shear=10)


def _objects():
    return RandomAffine(degrees=10, translate=0.1, scale=(0.9, 1.1), shear=10, hflip=0.5)


def _natural():
    return Compose([
        RandomResizedCrop(scale=(0.6, 1.0)),
        RandomAffine(hflip=0.5),
        ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4),
    ])


def _tabular():
    return GaussianNoise(std=0.1)


#: Named presets: digits (geometric, no flips), objects (geometric and horizontal flips,
#: e.g. Fashion-MNIST, COIL-20), natural (crop, flip, colour; CIFAR-like), tabular (noise).
PRESETS = {"digits": _digits, "objects": _objects, "natural": _natural, "tabular": _tabular}


def preset(name: str) -> Augmentation:
    """A new augmentation from a preset name (see :data:`PRESETS`)."""
    try:
        return PRESETS[name]()
    except KeyError:
        raise ValueError(
            f"Unknown augmentation preset {name!r}; choose one of {sorted(PRESETS)}, None, "
            "or pass a callable."
        ) from None
