"""Consistency between the latents of an image and of its augmentation."""

from __future__ import annotations

from torch import Tensor

__all__ = ["latent_consistency"]


def latent_consistency(z: Tensor, z_aug: Tensor) -> Tensor:
    """ICAE Eq. 1: ``(1/m) sum_i ||z_i - z_aug_i||^2``, the squared distance averaged over the batch."""
    return (z - z_aug).pow(2).sum(dim=1).mean()
