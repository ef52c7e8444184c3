"""Networks of DCCS (Zhao et al., ECCV 2020): a category-style encoder with a feature output,
MLP critics / discriminators without normalisation, and a small decoder."""

from __future__ import annotations

from functools import partial

import torch
from torch import Tensor, nn

from ..augment import to_grey

from .autoencoder import ConvEncoder
from .blocks import mlp

__all__ = ["CategoryStyleEncoder", "Grayscale", "dccs_trunk", "latent_mlp", "xavier_init"]


def _lrelu() -> nn.Module:
    return nn.LeakyReLU(0.2, inplace=True)


def xavier_init(module: nn.Module) -> None:
    """The authors' initialisation: Xavier-normal conv / linear weights, zero biases."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class Grayscale(nn.Module):
    """ITU-R 601 luma of an RGB batch, keeping a channel axis (the paper's grey inputs)."""

    def forward(self, x: Tensor) -> Tensor:
        return to_grey(x)


#: Image side (pixels) from which DCCS uses the residual trunk and the authors' widths of
#: C, D and the encoder's hidden layer; below it, the Encoder28 trunk and narrow layers.
RESIDUAL_FROM = 48


def dccs_trunk(in_channels: int, image_size: tuple[int, int]) -> tuple[nn.Module, int]:
    """The convolutional trunk for an image size, and the size of its flattened output.

    - smaller than 16 pixels (e.g. 8x8 digits): 3x3 conv (32) then a stride-2 4x4 conv (64);
    - 16 to 47 (MNIST 28x28, COIL-20 and CIFAR-10 at 32x32): the authors' Encoder28 trunk,
      two stride-2 4x4 convs (64, 128) without padding (28 -> 13 -> 5, 32 -> 15 -> 6);
    - 48 and larger: a residual trunk (:class:`~skdeepclust.nn.ConvEncoder` with 64 base
      channels), standing in for the authors' ResNet encoders.

    The residual trunk is not used at 32x32 (where the authors use their ResNet Encoder32)
    because of its cost on a CPU: a DCCS step on 32x32 COIL-20 images took 0.82 s with it
    and 0.048 s with the Encoder28 trunk (one thread), so the default 4,000 steps would
    have taken about 55 minutes. ``DCCS(encoder=...)`` takes a larger trunk.
    """
    h, w = image_size
    side = min(h, w)
    if side < 16:
        trunk = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), _lrelu(),
            nn.Conv2d(32, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), _lrelu(),
            nn.Flatten(),
        )
    elif side < RESIDUAL_FROM:
        trunk = nn.Sequential(
            nn.Conv2d(in_channels, 64, 4, 2, 0, bias=False), nn.BatchNorm2d(64), _lrelu(),
            nn.Conv2d(64, 128, 4, 2, 0, bias=False), nn.BatchNorm2d(128), _lrelu(),
            nn.Flatten(),
        )
    else:
        enc = ConvEncoder(in_channels, (h, w), 1, base_channels=64)
        trunk = nn.Sequential(enc.features, nn.Flatten())
    with torch.no_grad():
        trunk.eval()
        dim = trunk(torch.zeros(1, in_channels, h, w)).shape[1]
        trunk.train()
    return trunk, int(dim)


class CategoryStyleEncoder(nn.Module):
    """Encoder Q of DCCS: ``x -> (category logits, style zs, features)``.

    The trunk's flattened output is the feature vector the mutual-information
    discriminator sees (the authors' ``act``); a hidden layer with batch norm and one linear
    layer with ``n_clusters + style_dim`` outputs follow. ``zc = softmax(logits)``; ``zs``
    is linear.

    Parameters
    ----------
    trunk : nn.Module or None
        Maps the input to a flat feature vector of size ``feature_dim``; ``None`` means an
        MLP trunk for tabular data (``in_dim -> hidden``, batch norm, LeakyReLU).
    feature_dim : int
        Size of the trunk's output (for tabular data: the input size).
    n_clusters, style_dim : int
    hidden : int
        Width of the hidden layer.
    grayscale : bool, default=False
        Convert RGB input to grey first (the paper's colour setting).
    init_trunk : bool, default=True
        Apply the authors' Xavier initialisation to ``trunk`` too; ``False`` keeps a
        user's (possibly pretrained) weights and initialises only the layers built here.
    """

    def __init__(self, trunk: nn.Module | None, feature_dim: int, n_clusters: int,
                 style_dim: int, hidden: int, grayscale: bool = False,
                 init_trunk: bool = True):
        super().__init__()
        self.n_clusters = int(n_clusters)
        self.style_dim = int(style_dim)
        self.grey = Grayscale() if grayscale else nn.Identity()
        if trunk is None:  # tabular: the first hidden layer is the feature output
            trunk = nn.Sequential(nn.Linear(feature_dim, hidden, bias=False),
                                  nn.BatchNorm1d(hidden), _lrelu())
            feature_dim = hidden
        self.trunk = trunk
        self.feature_dim = int(feature_dim)
        self.head = nn.Sequential(
            nn.Linear(feature_dim, hidden, bias=False), nn.BatchNorm1d(hidden), _lrelu(),
            nn.Linear(hidden, self.n_clusters + self.style_dim),
        )
        if init_trunk:
            xavier_init(self)
        else:
            xavier_init(self.head)

    @property
    def latent_dim(self) -> int:
        return self.n_clusters + self.style_dim

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        features = self.trunk(self.grey(x))
        out = self.head(features)
        return out[:, : self.n_clusters], out[:, self.n_clusters:], features


def latent_mlp(in_dim: int, hidden: tuple[int, int]) -> nn.Sequential:
    """Critic C / discriminator D: ``in -> h1 -> h2 -> 1`` with LeakyReLU(0.2), no
    normalisation (the gradient penalty needs per-sample gradients), Xavier init."""
    net = mlp((in_dim, *hidden, 1), batch_norm=False, activation=partial(nn.LeakyReLU, 0.2))
    xavier_init(net)
    return net
