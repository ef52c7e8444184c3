"""Encoders and decoders sized to the input: conv ResNets for images, MLPs for tabular data."""

from __future__ import annotations

import math

from torch import Tensor, nn

from .blocks import ResidualBlock, UpResidualBlock, mlp

__all__ = ["ConvEncoder", "ConvDecoder", "MLPEncoder", "MLPDecoder", "downsampling_plan", "l2_normalize"]


def downsampling_plan(
    height: int, width: int, base_channels: int = 32, max_channels: int = 512, min_size: int = 2
) -> list[tuple[int, tuple[int, int]]]:
    """Channels and spatial size after each stride-2 stage.

    Stages halve the size (rounding up) until the smaller side reaches ``min_size``, and
    double the channels from ``base_channels`` up to ``max_channels``: for 32x32 that is the
    ICAE paper's Table 1 (32 -> 64@16 -> 128@8 -> 256@4 -> 512@2); 28x28 gives the same
    with 14, 7, 4, 2; 8x8 gives 64@4, 128@2; 128x128 two more stages at 512.
    """
    plan = []
    h, w, c = height, width, base_channels
    while min(h, w) > min_size:
        h, w = math.ceil(h / 2), math.ceil(w / 2)
        c = min(c * 2, max_channels)
        plan.append((c, (h, w)))
    return plan


class ConvEncoder(nn.Module):
    """Residual conv encoder: 3x3 stem, stride-2 residual stages, a linear output layer.

    Parameters
    ----------
    in_channels : int
    image_size : (int, int)
        Height and width of the input.
    out_dim : int
        Size of the output (latent) vector.
    base_channels : int, default=32
        Width of the stem; doubled at each stage up to ``max_channels``.
    max_channels : int, default=512
    """

    def __init__(self, in_channels: int, image_size: tuple[int, int], out_dim: int,
                 base_channels: int = 32, max_channels: int = 512):
        super().__init__()
        self.plan = downsampling_plan(*image_size, base_channels, max_channels)
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, base_channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(base_channels),
            nn.ReLU(inplace=True),
        ]
        c = base_channels
        for c_out, _ in self.plan:
            layers.append(ResidualBlock(c, c_out, stride=2))
            c = c_out
        self.features = nn.Sequential(*layers)
        h, w = self.plan[-1][1] if self.plan else tuple(image_size)
        self.feature_shape = (c, h, w)
        self.fc = nn.Linear(c * h * w, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x).flatten(1))


class ConvDecoder(nn.Module):
    """Mirror of a :class:`ConvEncoder`: linear layer, stride-2 transposed residual stages,
    a 3x3 output conv.

    Parameters
    ----------
    encoder : ConvEncoder
        The encoder to mirror (its plan and sizes; no weights are shared).
    in_dim : int
        Size of the latent vector.
    out_channels : int
    image_size : (int, int)
    output_activation : nn.Module or None, default=None
        E.g. ``nn.Sigmoid()`` for [0, 1] images or ``nn.Tanh()`` for [-1, 1].
    """

    def __init__(self, encoder: ConvEncoder, in_dim: int, out_channels: int,
                 image_size: tuple[int, int], output_activation: nn.Module | None = None):
        super().__init__()
        c, h, w = encoder.feature_shape
        self.feature_shape = (c, h, w)
        self.fc = nn.Sequential(nn.Linear(in_dim, c * h * w), nn.ReLU(inplace=True))
        sizes = [tuple(image_size)] + [s for _, s in encoder.plan]
        chans = [encoder.features[0].out_channels] + [ch for ch, _ in encoder.plan]
        blocks = []
        for i in range(len(encoder.plan), 0, -1):
            blocks.append(UpResidualBlock(chans[i], chans[i - 1], sizes[i - 1]))
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.Conv2d(chans[0], out_channels, 3, 1, 1)
        self.output_activation = output_activation or nn.Identity()

    def forward(self, z: Tensor) -> Tensor:
        x = self.fc(z).view(len(z), *self.feature_shape)
        return self.output_activation(self.out(self.blocks(x)))


def _hidden_sizes(in_dim: int) -> tuple[int, ...]:
    """Hidden widths for tabular data: wide enough for small inputs, capped for large ones."""
    width = int(min(512, max(64, 2 ** math.ceil(math.log2(max(in_dim, 2))))))
    return (width, width)


class MLPEncoder(nn.Module):
    """MLP encoder for tabular (flattened) inputs."""

    def __init__(self, in_dim: int, out_dim: int, hidden: tuple[int, ...] | None = None):
        super().__init__()
        self.hidden = tuple(hidden or _hidden_sizes(in_dim))
        self.net = mlp((in_dim, *self.hidden, out_dim))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class MLPDecoder(nn.Module):
    """MLP decoder mirroring :class:`MLPEncoder`; linear output (standardised features)."""

    def __init__(self, in_dim: int, out_dim: int, hidden: tuple[int, ...] | None = None):
        super().__init__()
        hidden = tuple(hidden or _hidden_sizes(out_dim))
        self.net = mlp((in_dim, *hidden[::-1], out_dim))

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


def l2_normalize(z: Tensor, eps: float = 1e-8) -> Tensor:
    """Project rows onto the unit sphere."""
    return z / z.norm(dim=1, keepdim=True).clamp(min=eps)


