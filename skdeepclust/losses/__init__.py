"""Loss functions as small pure functions over tensors.

Each cites the equation of the paper it implements; each is tested against a plain
reference implementation and with ``torch.autograd.gradcheck`` in float64.
"""

from .adversarial import (
    categorical_kl,
    gradient_penalty,
    jsd_mi_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from .consistency import latent_consistency
from .information import (
    conditional_entropy,
    dropout_consistency_loss,
    feature_clip_penalty,
    gan_discriminator_loss,
    gan_generator_loss,
    information_maximization_loss,
    information_terms,
    kl_divergence,
    marginal_kl,
)
from .mmd import mmd, multi_gaussian_kernel, pairwise_sq_dists
from .sobel import sobel, sobel_power_loss
from .vat import vat_loss, virtual_adversarial_perturbation

__all__ = [
    "categorical_kl",
    "conditional_entropy",
    "dropout_consistency_loss",
    "feature_clip_penalty",
    "gradient_penalty",
    "gan_discriminator_loss",
    "gan_generator_loss",
    "information_maximization_loss",
    "information_terms",
    "jsd_mi_loss",
    "kl_divergence",
    "latent_consistency",
    "marginal_kl",
    "mmd",
    "multi_gaussian_kernel",
    "pairwise_sq_dists",
    "sobel",
    "sobel_power_loss",
    "vat_loss",
    "virtual_adversarial_perturbation",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]
