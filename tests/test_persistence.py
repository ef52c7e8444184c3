"""Weights-only saving (``est.save``) and loading (``skdeepclust.load``), and the CLI's use."""

import json
import pickle
import zipfile

import joblib
import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

import skdeepclust
from skdeepclust import DCCS, GANIM, ICAE, VariationalClustering, augment
from skdeepclust._data import Scaling
from skdeepclust._persist import FORMAT_NAME, FORMAT_VERSION

FAST = {
    "DCCS": lambda **kw: DCCS(**{"n_clusters": 4, "max_epochs": 1, "batch_size": 64,
                                 "random_state": 0, **kw}),
    "GANIM": lambda **kw: GANIM(**{"n_clusters": 4, "gan_epochs": 1, "max_epochs": 2,
                                   "batch_size": 64, "random_state": 0, **kw}),
    "ICAE": lambda **kw: ICAE(**{"n_clusters": 4, "max_epochs": 1, "batch_size": 64,
                                 "random_state": 0, **kw}),
    "VariationalClustering": lambda **kw: VariationalClustering(
        **{"n_clusters": 4, "max_epochs": 1, "batch_size": 64, "latent_dim": 8,
           "random_state": 0, **kw}),
}


@pytest.fixture(scope="module")
def X150(digits):
    return digits[0][:150]


@pytest.fixture(scope="module", params=sorted(FAST))
def fitted(request, X150):
    return FAST[request.param]().fit(X150)


def _assert_same_value(a, b, name):
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    elif isinstance(a, Scaling):
        np.testing.assert_array_equal(a.offset, b.offset)
        np.testing.assert_array_equal(a.scale, b.scale)
        assert a.dtype == b.dtype
    else:
        assert type(a) is type(b) and a == b, name


def _assert_same_model(est, loaded, X):
    """Same parameters, fitted attributes, weights and outputs (exactly, on the CPU)."""
    assert type(loaded) is type(est)
    assert loaded.get_params() == est.get_params()  # tuples stay tuples
    assert set(vars(loaded)) == set(vars(est))
    for name, value in vars(est).items():
        if name not in ("net_", "history_"):
            _assert_same_value(value, getattr(loaded, name), name)
    assert list(loaded.history_) == list(est.history_)
    for m in est.net_._modules:
        a = getattr(est.net_, m + "_").state_dict()
        b = getattr(loaded.net_, m + "_").state_dict()
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), m
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
    assert loaded.score(X) == est.score(X)
    for a, b in zip(est.sample(6), loaded.sample(6)):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- round trips
def test_round_trip_gives_identical_model(fitted, X150, tmp_path):
    path = tmp_path / "model.skdc"
    fitted.save(path)
    _assert_same_model(fitted, skdeepclust.load(path, device="cpu"), X150)


def test_default_device_and_caller_rng_untouched(X150, tmp_path):
    est = FAST["ICAE"]().fit(X150)
    est.save(tmp_path / "m.skdc")
    torch.manual_seed(5)
    state = torch.get_rng_state().clone()
    loaded = skdeepclust.load(tmp_path / "m.skdc")  # device="auto"
    assert torch.equal(torch.get_rng_state(), state)
    assert loaded.net_.device == ("cuda" if torch.cuda.is_available() else "cpu")


def test_raw_uint8_images_round_trip(tmp_path):
    # Raw (n, H, W) uint8 input: _raw_shape and the uint8 dtype of sample() are restored.
    X = (np.random.RandomState(0).rand(60, 8, 8) * 255).astype(np.uint8)
    est = FAST["ICAE"]().fit(X)
    est.save(tmp_path / "m.skdc")
    loaded = skdeepclust.load(tmp_path / "m.skdc", device="cpu")
    _assert_same_model(est, loaded, X)
    assert loaded.sample(2)[0].shape == (2, 8, 8) and loaded.sample(2)[0].dtype == np.uint8


@pytest.mark.parametrize("name", ["GANIM", "VariationalClustering"])
def test_tabular_dataframe_round_trip(name, tmp_path):
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.randn(80, 6), columns=[f"f{i}" for i in range(6)])
    est = FAST[name]().fit(X)
    est.save(tmp_path / "m.skdc")
    loaded = skdeepclust.load(tmp_path / "m.skdc", device="cpu")
    assert list(loaded.feature_names_in_) == list(X.columns)
    _assert_same_model(est, loaded, X)


def test_augmentation_objects_are_saved_by_name(X150, tmp_path):
    aug = augment.Compose([augment.RandomAffine(degrees=5, scale=(0.9, 1.1)),
                           augment.ColorJitter(brightness=0.2), augment.RandomBinarize()])
    est = FAST["ICAE"](augmentation=aug).fit(X150)
    est.save(tmp_path / "m.skdc")
    loaded = skdeepclust.load(tmp_path / "m.skdc", device="cpu")
    assert loaded.augmentation == aug and loaded.augmentation is not aug
    assert loaded.augmentation.transforms[0].scale == (0.9, 1.1)


def test_pickle_and_joblib_still_work(X150, tmp_path):
    est = FAST["DCCS"]().fit(X150)
    joblib.dump(est, tmp_path / "m.joblib")
    for loaded in (pickle.loads(pickle.dumps(est)), joblib.load(tmp_path / "m.joblib")):
        np.testing.assert_array_equal(loaded.predict_proba(X150), est.predict_proba(X150))


# ---------------------------------------------------------------- the file holds data only
def _only_plain_data(obj) -> bool:
    if isinstance(obj, dict):
        return all(isinstance(k, str) and _only_plain_data(v) for k, v in obj.items())
    if isinstance(obj, list):
        return all(_only_plain_data(v) for v in obj)
    return obj is None or type(obj) in (str, int, float, bool, torch.Tensor)


def test_file_is_plain_data_for_weights_only_torch_load(X150, tmp_path):
    est = FAST["GANIM"]().fit(X150)
    est.save(tmp_path / "m.skdc")
    payload = torch.load(tmp_path / "m.skdc", weights_only=True)
    assert _only_plain_data(payload)
    assert payload["format"] == FORMAT_NAME and payload["format_version"] == FORMAT_VERSION
    assert payload["class"] == "GANIM" and payload["skdeepclust_version"] == skdeepclust.__version__
    assert json.loads(payload["params"])["n_clusters"] == 4
    assert {"module", "generator", "discriminator"} <= set(payload["net"]["state_dicts"])


_CALLS = []


def _record_call():
    _CALLS.append(1)
    return {}


class _RunsCodeWhenUnpickled:
    def __reduce__(self):
        return (_record_call, ())


def test_loader_never_runs_code_from_the_file(tmp_path):
    # A torch archive with a model header whose contents would run a function if unpickled.
    torch.save({"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "class": "ICAE",
                "params": _RunsCodeWhenUnpickled()}, tmp_path / "evil.skdc")
    with pytest.raises(ValueError, match="not a skdeepclust model file"):
        skdeepclust.load(tmp_path / "evil.skdc")
    assert _CALLS == []


# ---------------------------------------------------------------- errors
def _write_other_files(folder):
    (folder / "random.bin").write_bytes(np.random.RandomState(0).bytes(300))
    (folder / "model.pkl").write_bytes(pickle.dumps({"a": np.arange(3)}))
    (folder / "model.json").write_text(json.dumps({"format": FORMAT_NAME}))
    (folder / "empty").write_bytes(b"")
    torch.save({"weight": torch.zeros(3)}, folder / "state_dict.pt")
    with zipfile.ZipFile(folder / "other.zip", "w") as z:
        z.writestr("a.txt", "not a model")
    return ["random.bin", "model.pkl", "model.json", "empty", "state_dict.pt", "other.zip"]


def test_files_that_are_not_models(tmp_path):
    for name in _write_other_files(tmp_path):
        with pytest.raises(ValueError, match="is not a skdeepclust model file"):
            skdeepclust.load(tmp_path / name)
    with pytest.raises(FileNotFoundError):
        skdeepclust.load(tmp_path / "missing.skdc")


def _edited(tmp_path, X, **changes):
    est = FAST["ICAE"]().fit(X)
    est.save(tmp_path / "m.skdc")
    payload = torch.load(tmp_path / "m.skdc", weights_only=True)
    for key, value in changes.items():
        if callable(value):
            value(payload)
        else:
            payload[key] = value
    torch.save(payload, tmp_path / "edited.skdc")
    return tmp_path / "edited.skdc"


def test_newer_format_version_names_both_versions(X150, tmp_path):
    path = _edited(tmp_path, X150, format_version=FORMAT_VERSION + 1)
    with pytest.raises(ValueError, match=rf"version {FORMAT_VERSION + 1}.*up to {FORMAT_VERSION}"):
        skdeepclust.load(path)


def test_unknown_class_and_parameters(X150, tmp_path):
    with pytest.raises(ValueError, match="'KMeans', which is not a skdeepclust estimator"):
        skdeepclust.load(_edited(tmp_path, X150, **{"class": "KMeans"}))

    def add_param(payload):
        params = json.loads(payload["params"])
        params["removed_option"] = 1
        payload["params"] = json.dumps(params)

    with pytest.raises(ValueError, match="removed_option"):
        skdeepclust.load(_edited(tmp_path, X150, params=add_param))


def test_file_from_before_a_parameter_existed_loads_as_written(X150, tmp_path):
    # VariationalClustering files written before hidden_dim hold 256-unit layers, while
    # today's default for images is 128: the loader fills in the former value.
    est = FAST["VariationalClustering"](hidden_dim=256).fit(X150)
    est.save(tmp_path / "m.skdc")
    payload = torch.load(tmp_path / "m.skdc", weights_only=True)
    params = json.loads(payload["params"])
    del params["hidden_dim"]
    payload["params"] = json.dumps(params)
    torch.save(payload, tmp_path / "old.skdc")
    loaded = skdeepclust.load(tmp_path / "old.skdc")
    assert loaded.hidden_dim == 256
    _assert_same_model(est, loaded, X150)


def test_weights_that_do_not_fit(X150, tmp_path):
    def drop_weight(payload):
        state = payload["net"]["state_dicts"]["module"]
        state.pop(next(iter(state)))

    with pytest.raises(ValueError, match="do not fit the networks ICAE builds"):
        skdeepclust.load(_edited(tmp_path, X150, net=drop_weight))


def _shift(x):
    return torch.roll(x, 1, dims=-1)


class _MyICAE(ICAE):
    pass


@pytest.mark.parametrize("kwargs, match", [
    ({"augmentation": _shift}, "augmentation is the function .*_shift"),
    ({"random_state": np.random.RandomState(0)}, "random_state is a .*RandomState instance"),
    ({"net_kwargs": {"optimizer": torch.optim.AdamW}},
     r"net_kwargs\['optimizer'\] is the class torch.optim.adamw.AdamW"),
])
def test_parameters_that_are_not_data_need_pickle(kwargs, match, X150, tmp_path):
    est = FAST["ICAE"](**kwargs).fit(X150)
    with pytest.raises(TypeError, match=match) as exc:
        est.save(tmp_path / "m.skdc")
    assert "pickle or joblib" in str(exc.value)
    assert not (tmp_path / "m.skdc").exists()


def test_subclasses_and_unfitted_models_are_refused(X150, tmp_path):
    with pytest.raises(TypeError, match="_MyICAE.*pickle or joblib"):
        _MyICAE(n_clusters=4, max_epochs=1, random_state=0).fit(X150).save(tmp_path / "m")
    with pytest.raises(NotFittedError):
        ICAE().save(tmp_path / "m")


# ---------------------------------------------------------------- command line
def _npz(tmp_path, X):
    path = tmp_path / "X.npz"
    np.savez(path, X=X)
    return path


def test_cli_predict_reads_saved_model_and_refuses_pickles(X150, tmp_path, capsys):
    from skdeepclust._cli import main

    est = FAST["ICAE"]().fit(X150.reshape(-1, 8, 8))
    data = _npz(tmp_path, X150.reshape(-1, 8, 8)[:20])
    est.save(tmp_path / "model.skdc")
    assert main(["predict", str(tmp_path / "model.skdc"), str(data), "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[1:]
    assert [int(line.split(",")[1]) for line in lines] == est.predict(X150[:20]).tolist()

    with open(tmp_path / "model.pkl", "wb") as f:
        pickle.dump(est, f)
    with pytest.raises(SystemExit, match="--allow-pickle"):
        main(["predict", str(tmp_path / "model.pkl"), str(data)])
    assert main(["predict", str(tmp_path / "model.pkl"), str(data), "--allow-pickle"]) == 0
    captured = capsys.readouterr()
    assert "is a pickle" in captured.err
    assert captured.out.strip().splitlines()[1:] == lines
