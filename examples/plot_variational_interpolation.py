r"""
Latent interpolation between clusters (Variational Clustering)
==============================================================

The Variational Clustering paper (Prasad et al., 2020, Fig. 7a) shows that the learned
prior is smooth: take latents :math:`z_1 \sim p(z \mid k_1)` and
:math:`z_2 \sim p(z \mid k_2)` of two clusters, decode
:math:`\alpha z_1 + (1 - \alpha) z_2` for :math:`\alpha` from 0 to 1, and the images
change smoothly from one cluster to the other.

The fitted prior is public (``prior_means_``, ``prior_variances_``) and the decoder is
``net_.module_.mean``, which maps latents to images in the networks' layout
``(N, C, H, W)``, in [0, 1]. The model is trained for 20 epochs on the 1,797 digits (the
default is 61 epochs), so the images are blurry and some clusters mix digits.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits

from skdeepclust import VariationalClustering

X, y = load_digits(return_X_y=True)
vc = VariationalClustering(n_clusters=10, max_epochs=20, random_state=0).fit(X)

# %%
# Draw one latent per cluster from its prior Gaussian, then interpolate between pairs of
# clusters and decode.
rng = np.random.RandomState(0)
std = np.sqrt(vc.prior_variances_)
z = vc.prior_means_ + std * rng.standard_normal(vc.prior_means_.shape)

pairs = [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]
alphas = np.linspace(0.0, 1.0, 8)
decoder = vc.net_.module_
rows = []
with torch.no_grad():
    for k1, k2 in pairs:
        path = np.stack([a * z[k2] + (1 - a) * z[k1] for a in alphas])
        images = decoder.mean(torch.as_tensor(path, dtype=torch.float32))
        rows.append(images[:, 0].numpy())  # (8, 8, 8): one channel

fig, axes = plt.subplots(len(pairs), len(alphas), figsize=(len(alphas), len(pairs) + 0.4))
for r, (k1, k2) in enumerate(pairs):
    for c in range(len(alphas)):
        ax = axes[r, c]
        ax.imshow(rows[r][c], cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[r, 0].set_ylabel(f"{k1} -> {k2}", rotation=0, ha="right", va="center")
_ = fig.suptitle("z-interpolation between clusters (left: cluster k1, right: k2)")
