"""
A custom augmentation
=====================

``augmentation`` accepts a callable. It receives the training batch as the networks see
it, a float tensor ``(N, C, H, W)`` in [0, 1] on the training device, and returns a tensor
of the same shape, drawing different parameters for each image. Its randomness comes from
PyTorch's global generator, which ``fit`` forks and seeds from ``random_state``: fits stay
reproducible and the caller's random state is untouched.

Here: *cutout* (a random square of each image set to 0), alone and chained after the
built-in ``"digits"`` preset with :class:`skdeepclust.augment.Compose`.
"""

# %%
import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits

from skdeepclust import ICAE
from skdeepclust.augment import Compose, preset
from skdeepclust.metrics import cluster_accuracy


def cutout(x, size=3):
    """Zero a random size x size square in every image of the batch."""
    n, _, h, w = x.shape
    top = torch.randint(0, h - size + 1, (n, 1, 1), device=x.device)
    left = torch.randint(0, w - size + 1, (n, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    hole = (rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + size)
    return x * (~hole).unsqueeze(1)


digits_then_cutout = Compose([preset("digits"), cutout])

# %%
# What the network sees: digits scaled to [0, 1] (``load_digits`` pixels go up to 16),
# and three augmented views of each.
X, y = load_digits(return_X_y=True)
batch = torch.as_tensor(X[:6] / 16.0, dtype=torch.float32).view(6, 1, 8, 8)
torch.manual_seed(0)
views = [("original", batch), ("cutout", cutout(batch)),
         ("digits preset", preset("digits")(batch)),
         ("digits + cutout", digits_then_cutout(batch))]

fig, axes = plt.subplots(len(views), 6, figsize=(6, len(views) + 0.3))
for r, (name, images) in enumerate(views):
    for c in range(6):
        axes[r, c].imshow(images[c, 0], cmap="gray", vmin=0, vmax=1)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center")
fig.tight_layout()

# %%
# Train with it like with a preset (600 digits, 8 epochs: a tiny budget).
X, y = X[:600], y[:600]
for name, augmentation in [("digits preset", "digits"), ("cutout", cutout),
                           ("digits + cutout", digits_then_cutout)]:
    icae = ICAE(n_clusters=10, max_epochs=8, augmentation=augmentation, random_state=0)
    labels = icae.fit_predict(X)
    print(f"{name:<16} ACC {cluster_accuracy(y, labels):.3f}")
