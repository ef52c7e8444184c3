"""Loss functions as small pure functions over tensors.

Each cites the equation of the paper it implements; each is tested against a plain
reference implementation and with ``torch.autograd.gradcheck`` in float64.
"""

from .consistency import latent_consistency
from .mmd import mmd, multi_gaussian_kernel, pairwise_sq_dists
from .sobel import sobel, sobel_power_loss

__all__ = [
    "latent_consistency",
    "mmd",
    "multi_gaussian_kernel",
    "pairwise_sq_dists",
    "sobel",
    "sobel_power_loss",
]
