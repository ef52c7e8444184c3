"""GANIM networks: a Sobel front-end, DCGAN generator/discriminator sized to the image,
MLP variants for tabular data, and the multi-head classifier (Ntelemis et al., 2021)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..augment import to_grey

from ..losses.sobel import sobel

__all__ = [
    "ConvDiscriminator",
    "ConvGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "MultiHeadClassifier",
    "SobelFrontEnd",
    "dcgan_blocks",
    "init_normal",
]

def init_normal(module: nn.Module, std: float = 0.02) -> None:
    """DCGAN initialisation: conv and linear weights N(0, std), biases 0 (paper III-A)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def dcgan_blocks(height: int, width: int, max_blocks: int = 3) -> int:
    """Number of stride-2 blocks for an image: the largest ``n <= max_blocks`` such that both
    sides are divisible by ``2**n`` and at least 2 after it (24 -> 3, 32 -> 3, 28 -> 2,
    8 -> 2). Sides that do not divide get as many halvings as keep them >= 2 (at least 1)."""
    best = 0
    for n in range(1, max_blocks + 1):
        f = 2 ** n
        if height % f == 0 and width % f == 0 and min(height, width) // f >= 2:
            best = n
    if best == 0:
        while best < max_blocks and min(height, width) // 2 ** (best + 1) >= 2:
            best += 1
    return max(best, 1)


class SobelFrontEnd(nn.Module):
    """Fixed Sobel edges beside the image: ``cat([dx, dy, x])``, ``C + 2`` channels.

    The input is in [-1, 1]; edges are computed on the [0, 1] grey image (luma weights for
    colour), by cross-correlation with the Sobel kernels and zero padding, as in the
    authors' code. No parameters.
    """

    def __init__(self, in_channels: int):
        super().__init__()
        self.in_channels = in_channels

    @property
    def out_channels(self) -> int:
        return self.in_channels + 2

    def forward(self, x: Tensor) -> Tensor:
        unit = (x + 1.0) / 2.0
        grey = to_grey(unit)
        dx, dy = sobel(grey)
        return torch.cat([dx, dy, x], dim=1)


def _dropout(h: Tensor, p: float) -> Tensor:
    return F.dropout(h, p, training=True) if p > 0 else h


class ConvDiscriminator(nn.Module):
    """DCGAN discriminator with a Sobel front-end (paper Table II/III).

    ``Sobel -> [Conv 4x4/2 -> BN -> LReLU(0.2) -> Dropout] x n_blocks -> M -> logit``.
    Channels ``base_channels * 2**i``. With ``feature_dim=None`` the feature layer M is the
    flattened last conv block, which then has no batch norm (the paper's grey-image
    network); an int adds ``Linear -> LReLU -> Dropout`` of that size (the colour network).

    ``forward(x, dropout=None)`` returns ``(M, a, logit)`` with ``a`` the pre-activation
    of M (for :func:`~skdeepclust.losses.feature_clip_penalty`). ``dropout`` overrides the
    rate at every dropout site, in any mode: ``0`` gives the clean features, ``0.1`` the
    paper's dropout features m' (Eq. 8).
    """

    def __init__(self, in_channels: int, image_size: tuple[int, int], base_channels: int = 32,
                 feature_dim: int | None = None, dropout: float = 0.2, sobel: bool = True):
        super().__init__()
        self.dropout = dropout
        self.front = SobelFrontEnd(in_channels) if sobel else nn.Identity()
        c = in_channels + 2 if sobel else in_channels
        h, w = image_size
        n = dcgan_blocks(h, w)
        self.convs, self.norms = nn.ModuleList(), nn.ModuleList()
        for i in range(n):
            c_out = base_channels * 2 ** i
            self.convs.append(nn.Conv2d(c, c_out, 4, 2, 1, bias=False))
            last_flat = i == n - 1 and feature_dim is None
            self.norms.append(nn.Identity() if last_flat else nn.BatchNorm2d(c_out))
            c, h, w = c_out, h // 2, w // 2
        flat = c * h * w
        self.fc = None if feature_dim is None else nn.Linear(flat, feature_dim)
        self.feature_dim = flat if feature_dim is None else int(feature_dim)
        self.out = nn.Linear(self.feature_dim, 1, bias=feature_dim is not None)
        init_normal(self)

    def forward(self, x: Tensor, dropout: float | None = None) -> tuple[Tensor, Tensor, Tensor]:
        p = (self.dropout if self.training else 0.0) if dropout is None else dropout
        h = self.front(x)
        n = len(self.convs)
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            a = norm(conv(h))
            if i == n - 1 and self.fc is None:
                a = a.flatten(1)
            h = _dropout(F.leaky_relu(a, 0.2), p)
        if self.fc is not None:
            a = self.fc(h.flatten(1))
            h = _dropout(F.leaky_relu(a, 0.2), p)
        return h, a, self.out(h).squeeze(1)


class ConvGenerator(nn.Module):
    """DCGAN generator mirroring :class:`ConvDiscriminator` (paper Table II/III).

    ``z -> Linear -> LReLU -> [ConvT 4x4/2 -> BN -> LReLU] x n_blocks -> Conv 3x3 -> tanh``,
    from ``base_channels * 2**n_blocks`` channels down to ``base_channels``. Sides that are
    not divisible by ``2**n_blocks`` are generated slightly larger and cropped.
    """

    def __init__(self, noise_dim: int, out_channels: int, image_size: tuple[int, int],
                 base_channels: int = 32):
        super().__init__()
        h, w = image_size
        n = dcgan_blocks(h, w)
        self.image_size = (h, w)
        self.start = (base_channels * 2 ** n, -(-h // 2 ** n), -(-w // 2 ** n))
        c, sh, sw = self.start
        self.fc = nn.Linear(noise_dim, c * sh * sw)
        layers: list[nn.Module] = [nn.LeakyReLU(0.2)]
        for _ in range(n):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2),
                       nn.LeakyReLU(0.2)]
            c //= 2
        layers += [nn.Conv2d(c, out_channels, 3, 1, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.noise_dim = noise_dim
        init_normal(self)

    def forward(self, z: Tensor) -> Tensor:
        x = self.net(self.fc(z).view(len(z), *self.start))
        h, w = self.image_size
        return x[:, :, :h, :w]


class MLPDiscriminator(nn.Module):
    """Discriminator for tabular data: ``Linear -> LReLU -> Dropout -> Linear (a) -> LReLU
    -> Dropout = M -> logit``. No batch norm (tiny batches); same ``forward`` as
    :class:`ConvDiscriminator`."""

    def __init__(self, n_features: int, hidden: int = 256, feature_dim: int = 128,
                 dropout: float = 0.2):
        super().__init__()
        self.dropout = dropout
        self.fc1 = nn.Linear(n_features, hidden)
        self.fc2 = nn.Linear(hidden, feature_dim)
        self.out = nn.Linear(feature_dim, 1)
        self.feature_dim = feature_dim
        init_normal(self)

    def forward(self, x: Tensor, dropout: float | None = None) -> tuple[Tensor, Tensor, Tensor]:
        p = (self.dropout if self.training else 0.0) if dropout is None else dropout
        h = _dropout(F.leaky_relu(self.fc1(x), 0.2), p)
        a = self.fc2(h)
        h = _dropout(F.leaky_relu(a, 0.2), p)
        return h, a, self.out(h).squeeze(1)


class MLPGenerator(nn.Module):
    """Generator for standardised tabular data: two ``Linear -> BN -> LReLU`` layers and a
    linear output."""

    def __init__(self, noise_dim: int, n_features: int, hidden: int = 256):
        super().__init__()
        self.noise_dim = noise_dim
        self.net = nn.Sequential(
            nn.Linear(noise_dim, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, n_features),
        )
        init_normal(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class MultiHeadClassifier(nn.Module):
    """The auxiliary classifier of paper III-B: a ReLU MLP trunk and softmax heads.

    Parameters
    ----------
    in_dim : int
        Size of the discriminator features M.
    head_sizes : sequence of int
        Outputs of each head (the cluster heads first, then the over-cluster heads).
    hidden_dims : sequence of int, default=(1024, 1024)
    init_std : float or None, default=None
        Weights N(0, init_std) and zero biases as in the paper; ``None`` keeps PyTorch's
        default initialisation.

    ``forward(m)`` returns the list of per-head probabilities. The input is first
    standardised with the fixed buffers ``input_mean`` and ``input_scale`` (identity until
    :meth:`set_input_stats` is called). The buffer ``best_head`` names the head that
    predicts clusters (:meth:`select_head`).
    """

    def __init__(self, in_dim: int, head_sizes, hidden_dims=(1024, 1024),
                 init_std: float | None = None):
        super().__init__()
        layers: list[nn.Module] = []
        d = in_dim
        for h in hidden_dims:
            layers += [nn.Linear(d, h), nn.ReLU()]
            d = h
        self.trunk = nn.Sequential(*layers)
        self.heads = nn.ModuleList(nn.Linear(d, k) for k in head_sizes)
        self.register_buffer("input_mean", torch.zeros(in_dim))
        self.register_buffer("input_scale", torch.ones(in_dim))
        self.register_buffer("best_head", torch.zeros((), dtype=torch.long))
        if init_std is not None:
            init_normal(self, init_std)

    @torch.no_grad()
    def set_input_stats(self, m: Tensor, scaling: str = "per_feature",
                        eps: float = 1e-6) -> None:
        """Centre inputs on the per-feature mean of ``m`` from now on, and scale them by the
        per-feature std (``scaling="per_feature"``) or by one number for all features, the
        root mean variance (``"global"``, which keeps the features' relative scales)."""
        mean = m.mean(0)
        var = m.var(0) if len(m) > 1 else torch.ones_like(mean)
        self.set_moments(mean, var, scaling, eps)

    @torch.no_grad()
    def set_moments(self, mean: Tensor, var: Tensor, scaling: str = "per_feature",
                    eps: float = 1e-6) -> None:
        """:meth:`set_input_stats` from per-feature means and (unbiased) variances."""
        if scaling not in ("per_feature", "global"):
            raise ValueError(f"scaling must be 'per_feature' or 'global', got {scaling!r}")
        self.input_mean.copy_(mean.to(self.input_mean.dtype))
        scale = var.mean().sqrt().expand_as(var) if scaling == "global" else var.sqrt()
        self.input_scale.copy_(scale.clamp_min(eps).to(self.input_scale.dtype))

    @torch.no_grad()
    def select_head(self, losses: Tensor) -> int:
        """Predict with the head of lowest ``losses`` (one value per candidate head, in
        order) from now on; returns its index."""
        best = int(torch.argmin(losses))
        self.best_head.fill_(best)
        return best

    def hidden(self, m: Tensor) -> Tensor:
        """Output of the trunk (shared by all heads)."""
        return self.trunk((m - self.input_mean) / self.input_scale)

    def forward(self, m: Tensor) -> list[Tensor]:
        z = self.hidden(m)
        return [torch.softmax(head(z), dim=1) for head in self.heads]
