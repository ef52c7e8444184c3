"""Sobel filtering and the ICAE Sobel gradient-power loss (ICAE paper, Eq. 6)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["sobel", "sobel_power_loss", "SOBEL_X", "SOBEL_Y"]

#: Horizontal and vertical Sobel kernels (ICAE paper, Sec. 3.5).
SOBEL_X = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))
SOBEL_Y = ((-1.0, -2.0, -1.0), (0.0, 0.0, 0.0), (1.0, 2.0, 1.0))


def sobel(x: Tensor) -> tuple[Tensor, Tensor]:
    """Per-channel Sobel responses ``(G_x * x, G_y * x)`` of an image batch.

    A depthwise convolution with zero padding, so each output has the shape of ``x``
    ``(N, C, H, W)``.
    """
    c = x.shape[1]
    w = torch.tensor([SOBEL_X, SOBEL_Y], dtype=x.dtype, device=x.device)  # (2, 3, 3)
    w = w[:, None].repeat(c, 1, 1, 1)  # (2C, 1, 3, 3): x- and y-kernels for every channel
    out = F.conv2d(x, w, padding=1, groups=c)
    return out[:, 0::2], out[:, 1::2]


def sobel_power_loss(reconstruction: Tensor, target: Tensor) -> Tensor:
    """Eq. 6: mean over images of ``|MS(Gx*y) + MS(Gy*y) - MS(Gx*x) - MS(Gy*x)|``.

    ``MS`` is the mean square over an image. Only the average edge power has to match, not
    the edge positions, which keeps the decoding of noisy latents sharp.

    Parameters
    ----------
    reconstruction : Tensor of shape (N, C, H, W)
        Decoded images ``y``.
    target : Tensor of shape (N, C, H, W)
        Input images ``x``.

    Returns
    -------
    Tensor
        A scalar.
    """
    def power(img: Tensor) -> Tensor:
        gx, gy = sobel(img)
        return gx.pow(2).flatten(1).mean(1) + gy.pow(2).flatten(1).mean(1)

    return (power(reconstruction) - power(target)).abs().mean()
