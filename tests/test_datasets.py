import numpy as np
import pytest

from skdeepclust import datasets


def _write(path, **arrays):
    np.savez_compressed(path, **arrays)


def test_offline_npz_is_loaded_as_bunch(tmp_path):
    X = np.arange(5 * 4 * 4, dtype=np.uint8).reshape(5, 4, 4)
    _write(tmp_path / "mnist.npz", X=X, y=np.arange(5), n_train=np.array(3))
    b = datasets.load_mnist(data_home=tmp_path, download=False)
    assert b.data.shape == (5, 16) and b.images.shape == (5, 4, 4)
    assert b.image_shape == (4, 4, 1) and b.n_train == 3
    np.testing.assert_array_equal(b.target, np.arange(5))
    assert "MNIST" in b.DESCR
    Xf, y = datasets.load_mnist(data_home=tmp_path, download=False, return_X_y=True)
    np.testing.assert_array_equal(Xf, X.reshape(5, -1))


def test_env_variable_sets_data_home(tmp_path, monkeypatch):
    X = np.zeros((3, 2, 2, 3), dtype=np.uint8)
    _write(tmp_path / "stl10.npz", X=X, y=np.zeros(3, dtype=np.int64))
    monkeypatch.setenv("SKDEEPCLUST_DATA", str(tmp_path))
    b = datasets.load_stl10(download=False)
    assert b.image_shape == (2, 2, 3) and b.data.shape == (3, 12)
    assert b.target_names[0] == "airplane"


def test_cifar_parts_are_concatenated_in_original_order(tmp_path):
    for part, idx in enumerate([[4, 0], [2, 5], [1, 3]]):
        idx = np.array(idx)
        X = np.repeat(idx, 2 * 2 * 3).reshape(2, 2, 2, 3).astype(np.uint8)
        _write(tmp_path / f"cifar10_approx_part{part}.npz", X=X, y=idx, index=idx)
    b = datasets.load_cifar10(data_home=tmp_path, download=False)
    np.testing.assert_array_equal(b.target, np.arange(6))
    np.testing.assert_array_equal(b.images[:, 0, 0, 0], np.arange(6))
    assert "approximation" in b.DESCR


def test_missing_file_without_download_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="coil20.npz"):
        datasets.load_coil20(data_home=tmp_path, download=False)
