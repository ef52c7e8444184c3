"""Make the README pictures with the library itself: ICAE on sklearn's digits.

    python docs/make_readme_images.py
"""

import matplotlib

matplotlib.use("Agg")

from sklearn.datasets import load_digits  # noqa: E402

from skdeepclust import ICAE  # noqa: E402
from skdeepclust.metrics import cluster_accuracy  # noqa: E402
from skdeepclust.plotting import plot_clusters, plot_samples  # noqa: E402

X, y = load_digits(return_X_y=True)
icae = ICAE(n_clusters=10, random_state=0).fit(X)
print("ACC", cluster_accuracy(y, icae.labels_))
plot_clusters(icae, X, n_per_cluster=12).savefig("docs/images/icae_digits_clusters.png", dpi=80)
plot_samples(icae, n_per_cluster=12).savefig("docs/images/icae_digits_samples.png", dpi=80)
