"""
Grid search over a loss weight
==============================

Every loss weight is an ``__init__`` parameter, so
:class:`~sklearn.model_selection.GridSearchCV` can search it. Here: ICAE's ``aug_weight``
(``a`` in the paper's Eq. 7; the paper uses 0.01, the default is 1.0), scored

- with labels, by :data:`skdeepclust.metrics.accuracy_scorer` (clustering accuracy of
  ``predict`` on the held-out fold);
- without labels, by the estimator's own ``score`` (for ICAE, the mean cosine between each
  latent and its closest centroid).

The budget is tiny (400 digits, 5 epochs per fit), so the numbers only illustrate the API.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from skdeepclust import ICAE
from skdeepclust.metrics import accuracy_scorer

X, y = load_digits(return_X_y=True)
X, y = X[:400], y[:400]

grid = {"aug_weight": [0.01, 0.1, 1.0]}
estimator = ICAE(n_clusters=10, max_epochs=5, random_state=0)

# %%
# With labels: ``y`` reaches the scorer only; ``fit`` ignores it.
supervised = GridSearchCV(estimator, grid, scoring=accuracy_scorer, cv=2).fit(X, y)
print("best (accuracy):", supervised.best_params_, round(supervised.best_score_, 3))

# %%
# Without labels: no ``scoring``, so ``ICAE.score`` ranks the settings. ``refit=False``
# skips refitting the best setting on all the data.
unsupervised = GridSearchCV(estimator, grid, cv=2, refit=False).fit(X)
print("best (score):", unsupervised.best_params_)

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 3))
for ax, search, title in [(axes[0], supervised, "held-out accuracy"),
                          (axes[1], unsupervised, "held-out ICAE.score")]:
    mean = search.cv_results_["mean_test_score"]
    std = search.cv_results_["std_test_score"]
    ax.errorbar(np.arange(len(mean)), mean, yerr=std, marker="o", capsize=3)
    ax.set_xticks(np.arange(len(mean)), [str(w) for w in grid["aug_weight"]])
    ax.set_xlabel("aug_weight")
    ax.set_title(title)
fig.tight_layout()
