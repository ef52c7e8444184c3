"""scikit-learn's own estimator checks over every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skdeepclust import DCCS, GANIM, ICAE, VariationalClustering

# Cheap settings: enough epochs for check_clustering (ARI > 0.4 on three blobs), no more.
CHEAP = dict(max_epochs=30, batch_size=64, random_state=0)

ESTIMATORS = [
    ICAE(**CHEAP),
    GANIM(gan_epochs=5, max_epochs=40, batch_size=64, random_state=0),
    VariationalClustering(max_epochs=30, batch_size=16, latent_dim=4, random_state=0),
    DCCS(max_epochs=60, batch_size=16, random_state=0),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
