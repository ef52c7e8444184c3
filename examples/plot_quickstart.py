"""
Quick start: ICAE on the digits
===============================

Fit :class:`~skdeepclust.ICAE` on scikit-learn's 8x8 digits, score the clusters against
the labels, and look at them with :mod:`skdeepclust.plotting`.

The budget is tiny (600 images, 8 epochs) so that the example runs in seconds; with the
default budget (``max_epochs="auto"``, 41 epochs on all 1,797 digits) ICAE reaches an
accuracy of about 0.8 (see :doc:`/methods/icae`).
"""

# %%
# Fit and predict, as with :class:`sklearn.cluster.KMeans`. The 64 features are recognised
# as 8x8 one-channel images (64 is a perfect square of at least 8x8).
from sklearn.datasets import load_digits

from skdeepclust import ICAE
from skdeepclust.metrics import clustering_report

X, y = load_digits(return_X_y=True)
X, y = X[:600], y[:600]

icae = ICAE(n_clusters=10, max_epochs=8, random_state=0)
labels = icae.fit_predict(X)
print(icae.image_shape_)
print({k: round(v, 3) for k, v in clustering_report(y, labels).items()})

# %%
# One row per cluster, the images the model is most confident about first; the number in
# brackets is the cluster's size.
from skdeepclust.plotting import plot_clusters, plot_samples

fig = plot_clusters(icae, X, n_per_cluster=8)

# %%
# Images generated for each cluster: ICAE decodes its fixed centroids plus a little noise
# (``noise_scale``), through :meth:`~skdeepclust.ICAE.sample`.
fig = plot_samples(icae, n_per_cluster=8)
