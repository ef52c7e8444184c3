"""Behaviour every estimator shares (the shared base), parametrised over the estimators.

A new method joins by adding a cheap factory to ``FAST``.
"""

import pickle
import random
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from skorch.callbacks import Callback

from skdeepclust import DCCS, GANIM, ICAE, VariationalClustering
from skdeepclust._data import InputSpec
from skdeepclust.metrics import accuracy_scorer

FAST = {
    "DCCS": lambda **kw: DCCS(**{"n_clusters": 4, "max_epochs": 2, "batch_size": 64,
                                 "random_state": 0, **kw}),
    "GANIM": lambda **kw: GANIM(**{"n_clusters": 4, "gan_epochs": 2, "max_epochs": 10,
                                   "batch_size": 64, "random_state": 0, **kw}),
    "ICAE": lambda **kw: ICAE(**{"n_clusters": 4, "max_epochs": 2, "batch_size": 64,
                                 "random_state": 0, **kw}),
    "VariationalClustering": lambda **kw: VariationalClustering(
        **{"n_clusters": 4, "max_epochs": 2, "batch_size": 64, "latent_dim": 8,
           "random_state": 0, **kw}),
}


@pytest.fixture(params=sorted(FAST))
def make(request):
    return FAST[request.param]


def test_every_registered_estimator_is_tested_here():
    """A method added to the registry (CLI, load, benchmarks) must join these tests."""
    from skdeepclust._registry import ESTIMATORS

    assert set(FAST) == set(ESTIMATORS)


def _images(n=60, side=8, seed=0, dtype=np.uint8):
    rng = np.random.RandomState(seed)
    return (rng.rand(n, side, side) * 255).astype(dtype)


class Recorder(Callback):
    """Counts epochs; proves user callbacks reach skorch and are copied, not mutated."""

    def __init__(self):
        self.epochs = 0

    def on_epoch_end(self, net, **kwargs):
        self.epochs += 1


def bad_augmentation(x):
    return x * float("nan")


def shift_augmentation(x):
    return torch.roll(x, 1, dims=-1)


# ---------------------------------------------------------------- fit / predict
def test_fit_predict_labels_and_attributes(make, small_digits):
    X, _ = small_digits
    est = make()
    labels = est.fit_predict(X)
    assert labels.shape == (len(X),) and labels.dtype == np.int64
    np.testing.assert_array_equal(labels, est.labels_)
    np.testing.assert_array_equal(labels, est.predict(X))
    assert labels.min() >= 0 and labels.max() < est.n_clusters
    assert est.n_features_in_ == 64 and est.image_shape_ == (8, 8, 1)
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), est.n_clusters)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(1), labels)


def test_fit_transform_equals_transform(make, small_digits):
    X, _ = small_digits
    est = make()
    Z = est.fit_transform(X)
    assert Z.dtype == np.float32 and Z.shape[0] == len(X)
    np.testing.assert_allclose(Z, est.transform(X), rtol=1e-5, atol=1e-6)


def test_history_records_every_loss_term(make, small_digits):
    X, _ = small_digits
    est = make(max_epochs=3).fit(X)
    assert len(est.history_) == 3
    terms = set(est.net_.criterion_.weights)
    for epoch in est.history_:
        assert {"train_loss", "epoch", "dur"} <= set(epoch)
        present = terms & set(epoch)
        assert present, "no loss term recorded"
        assert all(np.isfinite(epoch[t]) for t in present)


def test_zero_weight_turns_a_term_off(make, small_digits):
    X, _ = small_digits
    weights = [p for p in make().get_params() if p.endswith("_weight")]
    name = weights[0]
    est = make(**{name: 0.0}).fit(X)
    assert name[: -len("_weight")] not in est.history_[-1]


def test_same_seed_same_labels_and_rng_untouched(make, small_digits):
    X, _ = small_digits
    np.random.seed(123)
    torch.manual_seed(123)
    random.seed(123)
    states = (np.random.get_state()[1].copy(), torch.get_rng_state().clone(), random.getstate())
    a = make(random_state=7).fit(X).labels_
    b = make(random_state=7).fit(X).labels_
    make(random_state=None).fit(X).sample(2)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.random.get_state()[1], states[0])
    assert torch.equal(torch.get_rng_state(), states[1])
    assert random.getstate() == states[2]


def test_pickle_round_trip(make, small_digits):
    X, _ = small_digits
    est = make().fit(X)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    np.testing.assert_allclose(loaded.transform(X), est.transform(X), rtol=1e-6)


def test_clone_gives_unfitted_copy(make, small_digits):
    X, _ = small_digits
    est = make(aug_weight=0.5) if "aug_weight" in make().get_params() else make()
    est.fit(X)
    c = clone(est)
    assert c.get_params() == est.get_params()
    assert not hasattr(c, "net_")


def test_pipeline_with_scaler(make, small_digits):
    X, _ = small_digits
    pipe = make_pipeline(MinMaxScaler(), make())
    labels = pipe.fit_predict(X)
    assert labels.shape == (len(X),)
    np.testing.assert_array_equal(pipe.predict(X), labels)


def test_grid_search_over_loss_weights(make, small_digits):
    X, y = small_digits
    weights = [p for p in make().get_params() if p.endswith("_weight")][:2]
    grid = {weights[0]: [0.5, 1.0]}
    if len(weights) > 1:
        grid[weights[1]] = [1.0]
    search = GridSearchCV(make(max_epochs=1), grid, scoring=accuracy_scorer, cv=2)
    search.fit(X, y)
    assert set(search.best_params_) == set(grid)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_unsupervised_score(make, small_digits):
    X, _ = small_digits
    est = make().fit(X)
    s = est.score(X)
    assert isinstance(s, float) and np.isfinite(s)


def test_n_init_keeps_the_fit_with_the_best_score(make, small_digits, monkeypatch):
    """n_init=3 is the plain fit, for each of its three seeds, of the highest score: the
    same labels, history and method attributes as that plain fit."""
    import skdeepclust._base as base

    X, _ = small_digits
    kept = make(n_init=3).fit(X)
    seeds = kept._init_seeds(base._draw_seed(0))
    assert len(set(seeds)) == 3 and seeds[0] == base._draw_seed(0)
    plain = []
    for s in seeds:
        monkeypatch.setattr(base, "_draw_seed", lambda random_state, s=s: s)
        plain.append(make().fit(X))
    monkeypatch.undo()
    np.testing.assert_array_equal(plain[0].labels_, make().fit(X).labels_)
    scores = [est.score(X) for est in plain]
    best = plain[int(np.argmax(scores))]
    assert kept.score(X) == max(scores)
    np.testing.assert_array_equal(kept.labels_, best.labels_)
    np.testing.assert_array_equal(kept.predict(X), best.labels_)
    assert kept.n_iter_ == best.n_iter_ == len(kept.history_)
    assert kept.history_[-1]["train_loss"] == best.history_[-1]["train_loss"]
    for name in ("cluster_centers_", "best_head_", "head_losses_", "prior_means_"):
        if hasattr(best, name):
            np.testing.assert_array_equal(getattr(kept, name), getattr(best, name))


def test_a_failing_fit_leaves_the_estimator_as_it_was(make, small_digits, monkeypatch):
    X, _ = small_digits
    est = make().fit(X)
    labels, net = est.labels_.copy(), est.net_
    calls = []

    def fail_on_second(self, X_t):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")

    monkeypatch.setattr(type(est), "_after_fit", fail_on_second)
    with pytest.raises(RuntimeError, match="boom"):
        est.set_params(n_init=2).fit(X[:100])
    assert est.net_ is net and est.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(est.labels_, labels)


# ---------------------------------------------------------------- input layouts
def test_raw_uint8_images(make):
    X = _images(60)
    est = make().fit(X)
    assert est.image_shape_ == (8, 8, 1) and est.n_features_in_ == 64
    np.testing.assert_array_equal(est.predict(X.reshape(60, -1)), est.labels_)
    Xs, ys = est.sample(5)
    assert Xs.shape == (5, 8, 8) and Xs.dtype == np.uint8
    assert ys.shape == (5,)


def test_colour_images_channels_last(make):
    rng = np.random.RandomState(0)
    X = rng.rand(40, 12, 12, 3).astype(np.float32)
    est = make().fit(X)
    assert est.image_shape_ == (12, 12, 3)
    Xs, _ = est.sample(3, cluster=1)
    assert Xs.shape == (3, 12, 12, 3)
    assert Xs.min() >= X.min() - 1e-6 and Xs.max() <= X.max() + 1e-6


def test_flat_input_with_image_shape(make):
    X = _images(40, side=10).reshape(40, -1).astype(float)  # 100 features
    est = make(image_shape=(10, 10)).fit(X)
    assert est.image_shape_ == (10, 10, 1)
    tab = make(image_shape="tabular").fit(X)
    assert tab.image_shape_ is None
    Xs, _ = tab.sample(2)
    assert Xs.shape == (2, 100)


def test_non_square_features_are_tabular(make):
    X = np.random.RandomState(0).randn(50, 7)
    est = make().fit(X)
    assert est.image_shape_ is None
    assert est.predict(X).shape == (50,)


def test_sample_shapes_labels_and_reproducibility(make, small_digits):
    X, _ = small_digits
    est = make().fit(X)
    Xs, ys = est.sample(8)
    assert Xs.shape == (8, 64)
    assert ys.dtype == np.int64 and ys.min() >= 0 and ys.max() < est.n_clusters
    Xk, yk = est.sample(3, cluster=2)
    assert Xk.shape == (3, 64) and (yk == 2).all()
    Xs2, _ = est.sample(8)
    np.testing.assert_array_equal(Xs, Xs2)
    assert Xs.min() >= X.min() and Xs.max() <= X.max()
    with pytest.raises(ValueError, match="n_samples"):
        est.sample(0)
    with pytest.raises(ValueError, match="cluster"):
        est.sample(2, cluster=est.n_clusters)


def test_one_cluster_gives_all_zeros(make, small_digits):
    X, _ = small_digits
    est = make(n_clusters=1).fit(X)
    assert (est.labels_ == 0).all()
    np.testing.assert_allclose(est.predict_proba(X), 1.0)


# ---------------------------------------------------------------- options
def test_user_callbacks_are_used_and_not_mutated(make, small_digits):
    X, _ = small_digits
    rec = Recorder()
    est = make(callbacks=[rec], max_epochs=2).fit(X)
    assert rec.epochs == 0
    copies = [cb for _, cb in est.net_.callbacks_ if isinstance(cb, Recorder)]
    assert copies and copies[0].epochs == 2


def test_callable_augmentation_and_none(make, small_digits):
    X, _ = small_digits
    est = make(augmentation=shift_augmentation).fit(X)
    assert est.net_.augmentation is shift_augmentation
    est = make(augmentation=None).fit(X)
    assert est.net_.augmentation is None


def test_nan_loss_stops_with_clear_error(make, small_digits):
    X, _ = small_digits
    est = make(augmentation=bad_augmentation)
    with pytest.raises(FloatingPointError, match="epoch 1"):
        est.fit(X)
    assert not hasattr(est, "net_")


def test_verbose_levels(make, small_digits, capsys):
    X, _ = small_digits
    make(verbose=0).fit(X)
    assert capsys.readouterr() == ("", "")
    est = make(verbose=1).fit(X)
    out, err = capsys.readouterr()
    assert out == "" and f"{type(est).__name__}: 100%" in err and "epoch" in err
    pickle.loads(pickle.dumps(est))  # the closed bar does not stay in the model
    make(verbose=2).fit(X)
    assert "train_loss" in capsys.readouterr().out


def test_net_kwargs_escape_hatch(make, small_digits):
    X, _ = small_digits
    est = make(net_kwargs={"optimizer": torch.optim.SGD}).fit(X)
    assert isinstance(est.net_.optimizer_, torch.optim.SGD)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "X, match",
    [
        (np.full((20, 64), np.nan), "NaN"),
        (np.full((20, 64), np.inf), "infinity"),
        (np.zeros((0, 64)), "0 sample"),
        (np.zeros((1, 64)), "1 sample"),
        (np.zeros(64), "2D array"),
        (np.zeros((3, 2, 2, 2, 2)), "dimensions"),
        (np.array([["a", "b"], ["c", "d"]]), "string|float"),
        (np.zeros((10, 3, 28, 28)), "channels-first"),
    ],
)
def test_bad_fit_input(make, X, match):
    with pytest.raises(ValueError, match=match):
        make().fit(X)


def test_sparse_input_is_rejected(make):
    with pytest.raises(TypeError, match="toarray"):
        make().fit(sp.random(20, 64, density=0.5, format="csr"))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_clusters": 0}, "n_clusters"),
        ({"n_init": 0}, "n_init"),
        ({"n_clusters": 1000}, "n_clusters=1000 is larger"),
        ({"n_clusters": 2.5}, "n_clusters"),
        ({"max_epochs": 0}, "max_epochs"),
        ({"max_epochs": "forever"}, "max_epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": -1.0}, "lr"),
        ({"image_shape": (7, 7)}, "image_shape"),
        ({"image_shape": "square"}, "image_shape"),
        ({"augmentation": "unknown"}, "augmentation"),
        ({"device": "no-such-device"}, "device"),
        ({"precision": "float16"}, "precision"),
        ({"n_threads": 0}, "n_threads"),
        ({"n_threads": "all"}, "n_threads"),
    ],
)
def test_bad_params(make, small_digits, params, match):
    X, _ = small_digits
    with pytest.raises(ValueError, match=match):
        make(**params).fit(X)


def test_negative_loss_weight_and_bad_augmentation_type(make, small_digits):
    X, _ = small_digits
    name = [p for p in make().get_params() if p.endswith("_weight")][0]
    with pytest.raises(ValueError, match=name):
        make(**{name: -1.0}).fit(X)
    with pytest.raises(TypeError, match="augmentation"):
        make(augmentation=3).fit(X)


def test_predict_errors(make, small_digits):
    from sklearn.exceptions import NotFittedError

    X, _ = small_digits
    with pytest.raises(NotFittedError):
        make().predict(X)
    est = make().fit(X)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :10])
    with pytest.raises(ValueError, match="shape"):
        est.predict(np.zeros((3, 9, 9)))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_request_without_cuda(make, small_digits):
    X, _ = small_digits
    with pytest.raises(ValueError, match="CUDA"):
        make(device="cuda").fit(X)


def test_no_warnings_on_clean_fit(make, small_digits):
    X, _ = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make().fit(X).predict(X)


# ---------------------------------------------------------------- speed options
def _conv_dtypes(est, X):
    """dtypes of the outputs of every Conv2d of the fitted nets while predicting ``X``."""
    seen, hooks = [], []
    for name in est.net_._modules:
        for m in getattr(est.net_, name + "_").modules():
            if isinstance(m, torch.nn.Conv2d):
                hooks.append(m.register_forward_hook(lambda m, i, o: seen.append(o.dtype)))
    try:
        est.predict(X)
    finally:
        for h in hooks:
            h.remove()
    return set(seen)


def test_bfloat16_precision_runs_convolutions_in_bfloat16(make, small_digits):
    X, _ = small_digits
    est = make(precision="bfloat16").fit(X)
    assert _conv_dtypes(est, X) == {torch.bfloat16}
    # Parameters stay float32; every recorded loss term is finite.
    assert all(p.dtype == torch.float32 for p in est.net_.module_.parameters())
    for row in est.history_:
        assert all(np.isfinite(v) for k, v in row.items() if isinstance(v, float))
    proba = est.predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-2)
    X_new, _ = est.sample(3)
    assert X_new.shape == (3, 64) and np.isfinite(X_new).all()
    assert torch.bfloat16 not in _conv_dtypes(make().fit(X), X)


def _convs(est):
    return [m for name in est.net_._modules for m in getattr(est.net_, name + "_").modules()
            if isinstance(m, torch.nn.Conv2d)]


def test_channels_last(make, small_digits):
    X, _ = small_digits
    est = make(channels_last=True).fit(X)
    assert _convs(est) and all(
        c.weight.is_contiguous(memory_format=torch.channels_last) for c in _convs(est))
    assert est.predict(X).shape == (len(X),)
    # The layout changes no result: a float32 model converted to channels-last predicts the
    # same (training runs differ in the last bits, which batch norm amplifies over epochs).
    ref = make().fit(X)
    proba = ref.predict_proba(X)
    ref.net_.channels_last = True
    for name in ref.net_._modules:
        getattr(ref.net_, name + "_").to(memory_format=torch.channels_last)
    np.testing.assert_allclose(ref.predict_proba(X), proba, atol=1e-5)
    with pytest.raises(TypeError, match="channels_last"):
        make(channels_last="yes").fit(X)


def test_channels_last_auto_follows_the_device_and_input(make, small_digits):
    X, _ = small_digits
    # On a CPU, "auto" is channels-last for images ...
    est = make(channels_last="auto").fit(X)
    assert _convs(est) and all(
        c.weight.is_contiguous(memory_format=torch.channels_last) for c in _convs(est))
    assert est.net_.channels_last
    # ... and, like True, it is never applied to tabular data.
    tab = make(channels_last="auto", image_shape="tabular").fit(X)
    assert not tab.net_.channels_last
    # On a GPU "auto" leaves the default layout (decided without running one).
    spec = est._spec(len(X))
    assert not est._channels_last(spec, torch.device("cuda", 0))
    assert est._channels_last(spec, torch.device("cpu"))


class ThreadProbe(Callback):
    """Records torch's intra-op thread count while training runs."""

    def __init__(self):
        self.seen = []

    def on_batch_begin(self, net, **kwargs):
        self.seen.append(torch.get_num_threads())


@pytest.mark.parametrize("n_threads", [1, None])
def test_n_threads_applies_during_fit_and_is_restored(make, small_digits, n_threads):
    X, _ = small_digits
    before = torch.get_num_threads()
    probe = ThreadProbe()
    try:
        torch.set_num_threads(2)
        # The shortest fit that trains every stage: two threads cost much more than one.
        short = ({"gan_epochs": 1, "max_epochs": 2} if "gan_epochs" in make().get_params()
                 else {"max_epochs": 1})
        est = make(n_threads=n_threads, callbacks=[probe], **short).fit(X[:120])
        expected = 1 if n_threads == 1 else 2
        # The copied callback ran inside fit: read its record from the fitted net.
        seen = {s for cb in est.net_.callbacks_ if isinstance(cb[1], ThreadProbe)
                for s in cb[1].seen}
        assert seen == {expected}
        assert torch.get_num_threads() == 2  # the caller's setting is back
        est.predict(X[:10])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


class GradProbe(Callback):
    """Records which modules' gradients reached ``on_grad_computed``."""

    def __init__(self):
        self.modules = set()
        self.calls = 0

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.calls += 1
        for name, p in named_parameters:
            if p.grad is not None:
                self.modules.add(name.split(".")[0])


# Every module a method trains, each updated through ClusterNet.optimizer_step.
TRAINED_MODULES = {
    "DCCS": {"module", "discriminator", "critic", "decoder"},
    "GANIM": {"module", "discriminator", "generator"},
    "ICAE": {"module"},
    "VariationalClustering": {"module"},
}


def test_every_update_goes_through_the_one_optimizer_step(make, small_digits):
    X, _ = small_digits
    est = make(callbacks=[GradProbe()]).fit(X[:150])
    probe = [cb for _, cb in est.net_.callbacks_ if isinstance(cb, GradProbe)][0]
    name = type(est).__name__
    assert probe.modules == TRAINED_MODULES[name]
    assert probe.calls >= len(est.history_)


@pytest.mark.parametrize("name, opt, lr", [("DCCS", "optimizer_critic", 3e-5),
                                          ("DCCS", "optimizer_decoder", 2e-5),
                                          ("GANIM", "optimizer_disc", 3e-5),
                                          ("GANIM", "optimizer_gen", 2e-5)])
def test_every_optimizer_is_reachable_through_net_kwargs(small_digits, name, opt, lr):
    X, _ = small_digits
    est = FAST[name](max_epochs=1 if name == "DCCS" else 2, **({"gan_epochs": 1} if name == "GANIM" else {}))
    est.set_params(net_kwargs={f"{opt}__lr": lr, f"{opt}__betas": (0.1, 0.2)}).fit(X[:100])
    group = getattr(est.net_, opt + "_").param_groups[0]
    assert group["lr"] == lr and group["betas"] == (0.1, 0.2)
    # The main optimiser keeps the estimator's lr.
    assert est.net_.optimizer_.param_groups[0]["lr"] == est.lr


def test_inference_does_not_depend_on_the_batch_size(make, small_digits):
    # A sample predicted alone or with a few others gets the same bits (batches under 256
    # rows are padded and run on PyTorch's native kernels); with the whole set (full
    # batches on oneDNN) it agrees to float32 rounding and has the same label.
    X, _ = small_digits
    est = make().fit(X)
    full_z, full_p, labels = est.transform(X), est.predict_proba(X), est.predict(X)
    est._inference_batch_size = 1
    alone_z, alone_p = est.transform(X), est.predict_proba(X)
    np.testing.assert_allclose(alone_z, full_z, rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(alone_p, full_p, rtol=1e-5, atol=2e-6)
    for bs in (3, 5, 64):
        est._inference_batch_size = bs
        np.testing.assert_array_equal(est.transform(X), alone_z, err_msg=f"batch size {bs}")
        np.testing.assert_array_equal(est.predict_proba(X), alone_p,
                                      err_msg=f"batch size {bs}")
        np.testing.assert_array_equal(est.predict(X), labels, err_msg=f"batch size {bs}")


# ---------------------------------------------------------------- epoch budgets
@pytest.mark.parametrize("cls, digits_epochs, mnist10k_epochs", [
    # (estimator, "auto" epochs on 1,797 8x8 digits, on 10,000 28x28 images); the rules are
    # in each estimator's ``max_epochs`` entry (GANIM: GAN epochs + classifier epochs).
    (DCCS, 138, 120),  # about 4,000 steps, at least 120 epochs
    (ICAE, 41, 16),  # about 1,200 steps, at least 16 epochs
    (VariationalClustering, 61, 26),  # about 3,500 steps of 32, at least 26 epochs
    (GANIM, 5 + 120, 1 + 40),  # about 75 GAN steps, then about 960 classifier steps
])
def test_auto_epoch_budget_follows_the_data_size(cls, digits_epochs, mnist10k_epochs):
    est = cls(n_clusters=10)
    assert est._auto_max_epochs(InputSpec(64, (8, 8, 1), 1797)) == digits_epochs
    assert est._auto_max_epochs(InputSpec(784, (28, 28, 1), 10000)) == mnist10k_epochs


def test_ganim_gan_stage_is_longer_for_colour_images():
    # About 75 GAN steps for grey images and tabular data, about 400 for colour images
    # (gan_epochs in GANIM's docstring); an explicit gan_epochs is kept as given.
    est = GANIM(n_clusters=10)
    assert est._gan_epochs(InputSpec(784, (28, 28, 1), 10000)) == 1
    assert est._gan_epochs(InputSpec(3072, (32, 32, 3), 10000)) == 5
    assert est._gan_epochs(InputSpec(3072, (32, 32, 3), 1797)) == 27
    assert est._gan_epochs(InputSpec(13, None, 10000)) == 1
    assert GANIM(gan_epochs=2)._gan_epochs(InputSpec(3072, (32, 32, 3), 10000)) == 2
