"""scikit-learn transformer conventions: ``get_feature_names_out``, ``set_output``, ``n_iter_``.

Each estimator is fitted for one or two epochs on 120 digits: these tests check plumbing
(names, containers, counters), not clustering quality.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from skorch.callbacks import EarlyStopping
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks

from skdeepclust import GANIM, ICAE, _registry, load

N_SAMPLES = 120


def make_estimator(cls, **params):
    """A tiny, seeded estimator of ``cls``; GANIM gets one GAN epoch and one classifier
    epoch so that both stages run."""
    base = dict(n_clusters=4, max_epochs=1, batch_size=64, random_state=0)
    if cls is GANIM:
        base.update(gan_epochs=1, max_epochs=2, gan_batch_size=64)
    base.update(params)
    return cls(**base)


ESTIMATORS = list(_registry.ESTIMATORS.values())  # the library's one list of methods
IDS = [cls.__name__ for cls in ESTIMATORS]


@pytest.fixture(scope="module")
def X(digits):
    return digits[0][:N_SAMPLES]


@pytest.fixture(scope="module")
def frame(X):
    pd = pytest.importorskip("pandas")
    # A non-default index (shuffled labels) that a container must keep.
    index = pd.Index([f"img{i}" for i in np.random.RandomState(0).permutation(len(X))])
    return pd.DataFrame(X, index=index, columns=[f"pixel{i}" for i in range(X.shape[1])])


def expected_names(est, n):
    prefix = type(est).__name__.lower()
    return np.asarray([f"{prefix}{i}" for i in range(n)], dtype=object)


# ---------------------------------------------------------------------- get_feature_names_out
@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_feature_names_out_name_transform_columns(cls, X):
    est = make_estimator(cls)
    with pytest.raises(NotFittedError):
        est.get_feature_names_out()
    Z = est.fit(X).transform(X)
    names = est.get_feature_names_out()
    assert names.dtype == object
    np.testing.assert_array_equal(names, expected_names(est, Z.shape[1]))
    # Validated against the input features seen in fit, as scikit-learn's transformers do.
    with pytest.raises(ValueError):
        est.get_feature_names_out(["a", "b"])


def test_feature_names_out_follow_ganim_transform_mode(X):
    est = make_estimator(GANIM, transform_mode="proba").fit(X)
    np.testing.assert_array_equal(est.get_feature_names_out(), expected_names(est, 4))
    assert est.transform(X).shape == (N_SAMPLES, 4)
    # transform_mode is read at transform time, so the names must follow set_params.
    est.set_params(transform_mode="features")
    Z = est.transform(X)
    assert Z.shape[1] == est.net_.discriminator_.feature_dim != 4
    np.testing.assert_array_equal(est.get_feature_names_out(), expected_names(est, Z.shape[1]))


def test_feature_names_out_follow_fitted_model_not_params(X):
    est = make_estimator(ICAE, latent_dim=6).fit(X)
    est.set_params(latent_dim=9)  # not refitted: transform still returns 6 columns
    assert len(est.get_feature_names_out()) == est.transform(X).shape[1] == 6


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_pipeline_with_pca_names_its_output(cls, X):
    pipe = make_pipeline(PCA(n_components=16, random_state=0),
                         make_estimator(cls, image_shape="tabular"))
    Z = pipe.fit(X).transform(X)
    names = pipe.get_feature_names_out()
    np.testing.assert_array_equal(names, expected_names(pipe[-1], Z.shape[1]))


def test_column_transformer_with_a_deep_clusterer(frame):
    pd = pytest.importorskip("pandas")
    ct = ColumnTransformer(
        [("deep", make_estimator(ICAE, latent_dim=5), list(frame.columns[:32])),
         ("raw", "passthrough", ["pixel40"])],
    ).set_output(transform="pandas")
    out = ct.fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == [f"deep__icae{i}" for i in range(5)] + ["raw__pixel40"]
    assert out.index.equals(frame.index)


# ---------------------------------------------------------------------- sklearn's own checks
# scikit-learn 1.9's parametrize_with_checks (tests/test_common.py) does not yield its
# feature-name and set_output checks, so they run here, on the tiny estimators.
SKLEARN_CHECKS = [
    "check_get_feature_names_out_error",
    "check_transformer_get_feature_names_out",
    "check_transformer_get_feature_names_out_pandas",
    "check_set_output_transform",
    "check_set_output_transform_pandas",
    "check_global_output_transform_pandas",
    "check_set_output_transform_polars",
    "check_global_set_output_transform_polars",
]


# The checks themselves fit on arrays and transform DataFrames (and the reverse).
@pytest.mark.filterwarnings("ignore:X (does not have valid|has) feature names:UserWarning")
@pytest.mark.parametrize("check", SKLEARN_CHECKS)
@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_sklearn_set_output_checks(cls, check):
    if "pandas" in check:
        pytest.importorskip("pandas")
    if "polars" in check:
        pytest.importorskip("polars")
    getattr(estimator_checks, check)(cls.__name__, make_estimator(cls))


# ---------------------------------------------------------------------- set_output
@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_set_output_pandas_keeps_index(cls, frame):
    pd = pytest.importorskip("pandas")
    est = make_estimator(cls).set_output(transform="pandas")
    Z_fit = est.fit_transform(frame)  # fit_transform must be wrapped too
    assert isinstance(Z_fit, pd.DataFrame)
    assert Z_fit.index.equals(frame.index)
    np.testing.assert_array_equal(Z_fit.columns, est.get_feature_names_out())
    Z = est.transform(frame)
    assert isinstance(Z, pd.DataFrame)
    assert Z.index.equals(frame.index)
    np.testing.assert_array_equal(Z.columns, est.get_feature_names_out())
    # The container changes, not the values (nor their float32 dtype).
    Z_np = est.set_output(transform="default").transform(frame)
    assert isinstance(Z_np, np.ndarray)
    assert (Z.dtypes == np.float32).all()
    assert_allclose(Z.to_numpy(), Z_np)
    assert_allclose(Z_fit.to_numpy(), Z_np, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_set_output_polars(cls, X):
    pl = pytest.importorskip("polars")
    est = make_estimator(cls).set_output(transform="polars")
    Z_fit = est.fit_transform(X)
    Z = est.transform(X)
    for out in (Z_fit, Z):
        assert isinstance(out, pl.DataFrame)
        assert out.columns == est.get_feature_names_out().tolist()
    assert_allclose(Z.to_numpy(), est.set_output(transform="default").transform(X))


# ---------------------------------------------------------------------- n_iter_
@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_n_iter_counts_epochs_run(cls, X):
    est = make_estimator(cls, max_epochs=3)
    assert not hasattr(est, "n_iter_")
    est.fit(X)
    assert est.n_iter_ == 3 == len(est.history_)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_n_iter_counts_early_stopping(cls, X):
    # No epoch can beat the first by 1e9, so training stops after the second.
    stop = EarlyStopping(monitor="train_loss", patience=1, threshold=1e9,
                         threshold_mode="abs")
    est = make_estimator(cls, max_epochs=5, callbacks=[stop]).fit(X)
    assert est.n_iter_ == 2 == len(est.history_)
    assert est.n_iter_ < est.max_epochs


# ---------------------------------------------------------------------- persistence
@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_save_load_keeps_names_and_n_iter(cls, X, tmp_path):
    params = {"transform_mode": "proba"} if cls is GANIM else {}
    est = make_estimator(cls, max_epochs=3, **params).fit(X)
    est.save(tmp_path / "model.skdc")
    loaded = load(tmp_path / "model.skdc", device="cpu")
    assert loaded.n_iter_ == est.n_iter_ == 3
    np.testing.assert_array_equal(loaded.get_feature_names_out(), est.get_feature_names_out())
    Z = loaded.set_output(transform="default").transform(X)
    assert Z.shape[1] == len(loaded.get_feature_names_out())


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_every_parameter_has_a_constraint(cls):
    # scikit-learn skips parameters missing from _parameter_constraints: a new parameter
    # without one would go unvalidated.
    assert set(cls._parameter_constraints) == set(cls().get_params(deep=False))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_invalid_parameter_names_parameter_and_estimator(cls, X):
    with pytest.raises(ValueError, match=rf"'batch_size' parameter of {cls.__name__} must"):
        cls(batch_size=0).fit(X)
    with pytest.raises(TypeError, match="'net_kwargs' parameter"):
        cls(net_kwargs=[("lr", 1.0)]).fit(X)
