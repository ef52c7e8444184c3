"""Loss functions as small pure functions over tensors.

Each cites the equation of the paper it implements; each is tested against a plain
reference implementation and with ``torch.autograd.gradcheck`` in float64. Divergences
between categorical distributions have one vocabulary (:mod:`.divergence`):
:func:`categorical_kl` and :func:`kl_to_uniform`, with an explicit ``inputs=`` convention
(logits, log-probabilities or probabilities).
"""

from .adversarial import (
    gradient_penalty,
    jsd_mi_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from .consistency import latent_consistency
from .divergence import categorical_kl, kl_to_uniform, log_marginal
from .gaussian import (
    augmentation_loss,
    bernoulli_log_likelihood,
    elbo_terms,
    gaussian_kl_diag,
    gaussian_log_likelihood,
    w2_squared_diag_gaussian,
)
from .information import (
    conditional_entropy,
    dropout_consistency_loss,
    feature_clip_penalty,
    gan_discriminator_loss,
    gan_generator_loss,
    information_maximization_loss,
    information_terms,
    marginal_kl,
)
from .mmd import mmd, multi_gaussian_kernel, pairwise_sq_dists
from .sobel import sobel, sobel_power_loss
from .vat import vat_loss, virtual_adversarial_perturbation

__all__ = [
    "augmentation_loss",
    "bernoulli_log_likelihood",
    "categorical_kl",
    "conditional_entropy",
    "dropout_consistency_loss",
    "elbo_terms",
    "feature_clip_penalty",
    "gradient_penalty",
    "gan_discriminator_loss",
    "gan_generator_loss",
    "gaussian_kl_diag",
    "gaussian_log_likelihood",
    "information_maximization_loss",
    "information_terms",
    "jsd_mi_loss",
    "kl_to_uniform",
    "latent_consistency",
    "log_marginal",
    "marginal_kl",
    "mmd",
    "multi_gaussian_kernel",
    "pairwise_sq_dists",
    "sobel",
    "sobel_power_loss",
    "vat_loss",
    "virtual_adversarial_perturbation",
    "w2_squared_diag_gaussian",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]
