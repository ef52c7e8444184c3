"""
Your own encoder
================

:class:`~skdeepclust.ICAE`, :class:`~skdeepclust.VariationalClustering` and
:class:`~skdeepclust.DCCS` take an ``encoder`` parameter: a network mapping a batch
``(N, C, H, W)`` to features ``(N, F)``, or a callable that builds one from the shape of
one sample. The method adds its own layers after it; ICAE maps the features linearly to
its ``latent_dim`` latent, projects that onto the unit sphere and decodes it with its
default decoder.
"""

# %%
from sklearn.datasets import load_digits
from torch import nn

from skdeepclust import ICAE
from skdeepclust.metrics import cluster_accuracy
from skdeepclust.plotting import plot_clusters


class SmallEncoder(nn.Module):
    """(N, C, H, W) -> (N, 256)."""

    def __init__(self, in_channels):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.AdaptiveAvgPool2d(2), nn.Flatten(),
        )

    def forward(self, x):
        return self.net(x)


# %%
# ``encoder`` is a plain parameter, so ``clone``, ``set_params`` and ``GridSearchCV`` work
# as before; the network is built inside ``fit`` (here from the sample shape, channels
# first) and initialised from ``random_state``.
X, y = load_digits(return_X_y=True)
X, y = X[:600], y[:600]

model = ICAE(n_clusters=10, max_epochs=8, random_state=0,
             encoder=lambda shape: SmallEncoder(in_channels=shape[0]))
labels = model.fit_predict(X)
print(type(model.net_.module_.encoder[0]).__name__)
print("ACC", round(cluster_accuracy(y, labels), 3), "(600 digits, 8 epochs)")

# %%
fig = plot_clusters(model, X, n_per_cluster=8)
