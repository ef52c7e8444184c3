"""
Compare the four methods and KMeans
===================================

Fit :class:`~skdeepclust.ICAE`, :class:`~skdeepclust.VariationalClustering`,
:class:`~skdeepclust.DCCS`, :class:`~skdeepclust.GANIM` and
:class:`~sklearn.cluster.KMeans` on the same 600 digits, with the same API.

.. warning::

   The budgets here are tiny (a few seconds per method on one CPU thread), far below the
   defaults (``max_epochs="auto"``). The scores below show that the code runs, **not** how
   good the methods are: with their default budgets the deep methods beat KMeans on the
   digits (figures on each method's page and in :doc:`/benchmarks`).
"""

# %%
# Data: 600 digits, 8x8 pixels.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits

from skdeepclust import DCCS, GANIM, ICAE, VariationalClustering
from skdeepclust.metrics import clustering_report

X, y = load_digits(return_X_y=True)
X, y = X[:600], y[:600]

# %%
# Every estimator takes ``n_clusters`` and ``random_state``; the budgets are set per
# method. DCCS counts critic steps too, so it gets more (cheaper) epochs; GANIM's
# ``max_epochs`` includes its ``gan_epochs``.
models = {
    "KMeans": KMeans(n_clusters=10, n_init=10, random_state=0),
    "ICAE": ICAE(n_clusters=10, max_epochs=6, random_state=0),
    "VariationalClustering": VariationalClustering(n_clusters=10, max_epochs=8,
                                                   random_state=0),
    "DCCS": DCCS(n_clusters=10, max_epochs=30, random_state=0),
    "GANIM": GANIM(n_clusters=10, gan_epochs=6, max_epochs=20, random_state=0),
}

results = {}
for name, model in models.items():
    start = time.perf_counter()
    labels = model.fit_predict(X)
    seconds = time.perf_counter() - start
    results[name] = {**clustering_report(y, labels), "seconds": seconds}
    print(f"{name:<22} " + "  ".join(f"{k}={v:.3f}" for k, v in results[name].items()))

# %%
# The scores side by side (tiny budgets: not the methods' quality).
names = list(results)
metrics = ["acc", "nmi", "ari"]
fig, ax = plt.subplots(figsize=(8, 3.5))
width = 0.25
for i, metric in enumerate(metrics):
    ax.bar(np.arange(len(names)) + (i - 1) * width, [results[n][metric] for n in names],
           width, label=metric.upper())
ax.set_xticks(np.arange(len(names)), names, rotation=15)
ax.set_ylim(0, 1)
ax.set_title("600 digits, tiny training budgets")
ax.legend()
fig.tight_layout()

# %%
# Every fitted estimator works with :mod:`skdeepclust.plotting`; here GANIM's clusters,
# the most confident images first.
from skdeepclust.plotting import plot_clusters

fig = plot_clusters(models["GANIM"], X, n_per_cluster=6)
