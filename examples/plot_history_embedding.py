"""
Training curves and the latent space
====================================

:func:`~skdeepclust.plotting.plot_history` draws every loss term recorded in
``history_``, one panel per term; :func:`~skdeepclust.plotting.plot_embedding` draws a
t-SNE of ``transform(X)``, coloured by cluster and, when labels are given, by class.

The model is :class:`~skdeepclust.DCCS` on 500 digits for 40 epochs (its default on all
the digits is 138 epochs). Its history holds the terms of the encoder steps (``mi``,
``aug``, ``adv``), of the critic steps (``critic``, ``gp``, ``w_estimate``) and of the
decoder (``decoder``), each unweighted.
"""

# %%
from sklearn.datasets import load_digits

from skdeepclust import DCCS
from skdeepclust.metrics import cluster_accuracy
from skdeepclust.plotting import plot_embedding, plot_history

X, y = load_digits(return_X_y=True)
X, y = X[:500], y[:500]

dccs = DCCS(n_clusters=10, max_epochs=40, random_state=0).fit(X)
print("ACC", round(cluster_accuracy(y, dccs.labels_), 3))
terms = ["mi", "aug", "adv", "critic", "gp", "w_estimate", "decoder"]
print("last epoch:", {k: round(float(dccs.history_[-1, k]), 3) for k in terms})

# %%
# ``w_estimate`` is the critic's estimate of the Wasserstein distance between the encoded
# data and the prior: it needs no labels, and it is what to monitor for early stopping
# (``EarlyStopping(monitor="w_estimate", lower_is_better=True)``).
fig = plot_history(dccs)

# %%
# ``transform`` returns ``[softmax category, style]`` (10 + 50 columns); its t-SNE, by
# cluster (left) and by digit (right).
fig = plot_embedding(dccs, X, y)
