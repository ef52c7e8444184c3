"""Residual building blocks (He et al., 2016) and a plain MLP."""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ResidualBlock", "UpResidualBlock", "mlp"]


class ResidualBlock(nn.Module):
    """Basic residual block: two 3x3 convs with batch norm; a 1x1 projection when the
    shape changes (the ICAE authors' ``BasicBlock``)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.skip = (
            nn.Identity() if stride == 1 and in_channels == out_channels
            else nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)
        )

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.skip(x), inplace=True)


class UpResidualBlock(nn.Module):
    """Mirror of :class:`ResidualBlock` with stride-2 transposed convolutions.

    The output size is fixed at construction (``output_size``), so odd sizes such as
    28 -> 14 -> 7 -> 4 are undone exactly (4 -> 7 -> 14 -> 28).
    """

    def __init__(self, in_channels: int, out_channels: int, output_size: tuple[int, int]):
        super().__init__()
        self.output_size = tuple(output_size)
        self.deconv = nn.ConvTranspose2d(in_channels, out_channels, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.skip = nn.ConvTranspose2d(in_channels, out_channels, 1, 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.deconv(x, output_size=self.output_size)), inplace=True)
        out = self.bn2(self.conv(out))
        return F.relu(out + self.skip(x, output_size=self.output_size), inplace=True)


def mlp(sizes: Sequence[int], batch_norm: bool = True, activation=nn.ReLU,
        last_activation: bool = False) -> nn.Sequential:
    """``Linear -> [BatchNorm] -> activation`` for each consecutive pair of ``sizes``.

    The last layer is linear unless ``last_activation``.
    """
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        layers.append(nn.Linear(a, b))
        if not last or last_activation:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(activation())
    return nn.Sequential(*layers)
