"""skdeepclust: scikit-learn compatible deep image clustering.

Estimators
----------
DCCS
    Category-style latents: a mutual-information discriminator, an augmentation KL and a
    WGAN-GP critic matching a one-hot x Gaussian prior.
GANIM
    Sobel-augmented DCGAN features and a multi-head information-maximising classifier.
ICAE
    Auto-encoder with predefined evenly-distributed class centroids and an MMD loss.
VariationalClustering
    VAE with a jointly learned Gaussian-mixture prior and a 2-Wasserstein augmentation loss.

Saving: ``est.save(path)`` writes a fitted estimator as data only (JSON and weights, no
pickle); :func:`load` reads it back.

Submodules: :mod:`skdeepclust.metrics`, :mod:`skdeepclust.datasets`,
:mod:`skdeepclust.augment`, :mod:`skdeepclust.losses`, :mod:`skdeepclust.nn`.
"""

from .dccs import DCCS
from .ganim import GANIM
from .icae import ICAE
from .variational import VariationalClustering
from ._persist import load

__version__ = "0.1.0"

__all__ = ["DCCS", "GANIM", "ICAE", "VariationalClustering", "load", "__version__"]
