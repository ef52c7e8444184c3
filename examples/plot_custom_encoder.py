"""
Your own encoder
================

There is no parameter for a user network: subclass an estimator and override the hook
``_build_module(self, spec)`` that the base class documents. It receives a description of
the data (``spec.is_image``, ``spec.tensor_shape``, ...) and returns the module skorch
trains.

:class:`~skdeepclust.ICAE`'s module has an ``encoder`` attribute mapping a batch
``(N, C, H, W)`` to ``(N, latent_dim)``; ICAE projects its output onto the unit sphere,
compares it with the fixed centroids and decodes it. Replace it after building the
default module. The hook is private, so it may change between versions.
"""

# %%
from sklearn.base import clone
from sklearn.datasets import load_digits
from torch import nn

from skdeepclust import ICAE
from skdeepclust.metrics import cluster_accuracy
from skdeepclust.plotting import plot_clusters


class SmallEncoder(nn.Module):
    """(N, C, H, W) -> (N, latent_dim)."""

    def __init__(self, in_channels, latent_dim):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.AdaptiveAvgPool2d(2), nn.Flatten(),
            nn.Linear(64 * 2 * 2, latent_dim),
        )

    def forward(self, x):
        return self.net(x)


class SmallEncoderICAE(ICAE):
    def _build_module(self, spec):
        module = super()._build_module(spec)  # encoder, decoder and PEDCC centroids
        if spec.is_image:
            channels = spec.tensor_shape[0]
            module.encoder = SmallEncoder(channels, self.latent_dim)
        return module


# %%
# The subclass keeps ICAE's parameters, so ``clone``, ``set_params`` and ``GridSearchCV``
# work as before; the encoder is initialised inside ``fit``, from ``random_state``.
X, y = load_digits(return_X_y=True)
X, y = X[:600], y[:600]

model = SmallEncoderICAE(n_clusters=10, max_epochs=8, random_state=0)
print(clone(model).get_params()["latent_dim"])
labels = model.fit_predict(X)
print(type(model.net_.module_.encoder).__name__)
print("ACC", round(cluster_accuracy(y, labels), 3), "(600 digits, 8 epochs)")

# %%
fig = plot_clusters(model, X, n_per_cluster=8)
