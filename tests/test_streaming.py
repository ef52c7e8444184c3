"""Data that is not copied whole: torch Datasets, memory maps, image folders (streamed)."""

import csv

import numpy as np
import pytest
import torch

from skdeepclust import DCCS, GANIM, ICAE, VariationalClustering
from skdeepclust import _data, ganim
from skdeepclust._data import Scaling, StreamedData, fit_scaling_streamed, make_reader
from skdeepclust._net import DeviceBatches, batch_order
from skdeepclust.datasets import ImageFolderDataset

FAST = {
    "DCCS": lambda: DCCS(n_clusters=3, max_epochs=1, batch_size=32, random_state=0),
    "GANIM": lambda: GANIM(n_clusters=3, gan_epochs=1, max_epochs=2, batch_size=32,
                           gan_batch_size=32, random_state=0),
    "ICAE": lambda: ICAE(n_clusters=3, max_epochs=1, batch_size=32, random_state=0),
    "VariationalClustering": lambda: VariationalClustering(
        n_clusters=3, max_epochs=1, batch_size=32, latent_dim=4, random_state=0),
}


class ImageDataset(torch.utils.data.Dataset):
    """Items ``(C, H, W)`` tensors (or ``(image, label)`` tuples) of a channels-last array."""

    def __init__(self, X, tuples=False, as_array=False):
        self.X, self.tuples, self.as_array = X, tuples, as_array

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        x = self.X[i]
        x = x[None] if x.ndim == 2 else x.transpose(2, 0, 1)
        x = np.ascontiguousarray(x) if self.as_array else torch.from_numpy(np.array(x))
        return (x, -1) if self.tuples else x


@pytest.fixture(scope="module")
def images(small_digits):
    return small_digits[0][:90].reshape(-1, 8, 8).astype(np.float32)


@pytest.fixture
def memmap(images, tmp_path):
    path = tmp_path / "images.dat"
    mm = np.memmap(path, dtype=images.dtype, mode="w+", shape=images.shape)
    mm[:] = images
    mm.flush()
    return np.memmap(path, dtype=images.dtype, mode="r", shape=images.shape)


@pytest.mark.parametrize("name", sorted(FAST))
def test_dataset_fit_equals_array_fit(name, images):
    # Same batch order (one randperm from the net's generator), same scaling and the same
    # arithmetic per batch: a Dataset fit reproduces the array fit exactly.
    a = FAST[name]().fit(images)
    b = FAST[name]().fit(ImageDataset(images, tuples=True))
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(b.predict(ImageDataset(images)), b.labels_)
    # Inference on a fitted model: array and Dataset input give the same values exactly.
    ds = ImageDataset(images)
    np.testing.assert_array_equal(a.predict(images), a.predict(ds))
    np.testing.assert_array_equal(a.predict_proba(images), a.predict_proba(ds))
    np.testing.assert_array_equal(a.transform(images), a.transform(ds))
    assert a.score(images) == a.score(ds)
    assert b.image_shape_ == (8, 8, 1) and b.n_features_in_ == 64


def test_dataset_items_tensors_tuples_and_arrays(images):
    labels = [FAST["DCCS"]().fit_predict(ImageDataset(images, tuples=t, as_array=arr))
              for t, arr in ((False, False), (True, False), (False, True))]
    np.testing.assert_array_equal(labels[0], labels[1])
    np.testing.assert_array_equal(labels[0], labels[2])
    Z = FAST["DCCS"]().fit_transform(ImageDataset(images))
    assert Z.shape[0] == len(images) and Z.dtype == np.float32


def test_colour_dataset_items_are_channels_first(images):
    rgb = np.stack([images, images[:, ::-1], images.T.transpose(2, 0, 1)], axis=-1)
    a = FAST["ICAE"]().fit(rgb)
    b = FAST["ICAE"]().fit(ImageDataset(rgb))
    assert b.image_shape_ == (8, 8, 3)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    X, _ = b.sample(2)
    assert X.shape == (2, 8, 8, 3)  # sample() answers in numpy's channels-last layout


def test_dataloader_workers_give_the_same_fit(images):
    kw = {"iterator_train__num_workers": 2, "iterator_valid__num_workers": 2}
    a = FAST["DCCS"]().fit(ImageDataset(images))
    b = FAST["DCCS"]().set_params(net_kwargs=kw).fit(ImageDataset(images))
    np.testing.assert_array_equal(a.labels_, b.labels_)


def test_memmap_is_streamed_not_copied(images, memmap, monkeypatch):
    est = FAST["DCCS"]()
    assert isinstance(est._check_X(memmap, reset=True), StreamedData)
    sizes = []
    convert = StreamedData.convert

    def spy(self, raw):
        sizes.append(len(raw))
        return convert(self, raw)

    monkeypatch.setattr(StreamedData, "convert", spy)
    monkeypatch.setattr(DCCS, "_inference_batch_size", 40)
    b = FAST["DCCS"]().fit(memmap)
    # One training batch, or one inference batch (labels_), at a time.
    assert sizes == [32, 32, 26] + [40, 40, 10]
    sizes.clear()
    labels = b.predict(memmap)
    assert sizes == [40, 40, 10]
    monkeypatch.undo()
    a = FAST["DCCS"]().fit(images)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(labels, b.labels_)
    np.testing.assert_array_equal(a.predict(memmap), a.predict(images))


def test_large_arrays_stream_like_memmaps(images, monkeypatch):
    a = FAST["ICAE"]().fit(images)
    monkeypatch.setattr(_data, "STREAM_FLOAT32_BYTES", images.size * 4 - 1)
    assert _data.is_streamed(images)
    b = FAST["ICAE"]().fit(images)
    np.testing.assert_array_equal(a.labels_, b.labels_)


def test_streaming_scaling_equals_in_memory(images):
    rng = np.random.RandomState(0)
    for X in (images, (images * 3).astype(np.uint8), images.reshape(len(images), -1)):
        flat = X.reshape(len(X), -1)
        is_image = X.ndim == 3
        ref = Scaling.fit(flat, is_image)
        got = fit_scaling_streamed(make_reader(X), is_image, chunk_rows=7)
        assert got.dtype == ref.dtype
        if is_image:  # min and max: exactly
            np.testing.assert_array_equal(got.offset, ref.offset)
            np.testing.assert_array_equal(got.scale, ref.scale)
        else:  # merged means and variances: equal up to rounding
            np.testing.assert_allclose(got.offset, ref.offset, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(got.scale, ref.scale, rtol=1e-12)
    T = rng.normal(5, 3, size=(50, 6)) * np.arange(1, 7)
    T[:, 2] = 4.0  # a constant feature keeps scale 1
    ref = Scaling.fit(T, False)
    got = fit_scaling_streamed(make_reader(np.asarray(T)), False, chunk_rows=9)
    np.testing.assert_allclose(got.offset, ref.offset, rtol=1e-12)
    np.testing.assert_allclose(got.scale, ref.scale, rtol=1e-12)
    assert got.scale[2] == 1.0
    # A Dataset of (C, H, W) items: the scaling of the same images as an array.
    ds = fit_scaling_streamed(make_reader(ImageDataset(images)), True, chunk_rows=16)
    assert (ds.offset[0], ds.scale[0]) == (images.min(), images.max() - images.min())


def test_batch_order_is_the_device_batches_order():
    X = torch.arange(23.0)[:, None]
    for shuffle in (True, False):
        g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
        dev = [idx for _, idx in DeviceBatches(X, 5, shuffle, g1)]
        ours = batch_order(23, 5, shuffle, g2)
        assert len(dev) == len(ours)
        for a, b in zip(dev, ours):
            assert torch.equal(a, b)
    assert len(batch_order(21, 5, True, torch.Generator())) == 4  # a last single is dropped


class Items(torch.utils.data.Dataset):
    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def test_dataset_validation_errors(images):
    est = FAST["DCCS"]()
    with pytest.raises(ValueError, match="empty"):
        est.fit(Items([]))
    with pytest.raises(ValueError, match=r"items must be images \(C, H, W\)"):
        est.fit(Items([torch.zeros(1, 1, 8, 8)] * 4))
    with pytest.raises(ValueError, match="channels-last"):
        est.fit(Items([torch.zeros(8, 8, 3)] * 4))
    with pytest.raises(TypeError, match="image tensor or array"):
        est.fit(Items(["a.png", "b.png"]))
    with pytest.raises(ValueError, match=r"item 2 has shape \(1, 9, 9\).*same shape"):
        est.fit(Items([torch.zeros(1, 8, 8)] * 2 + [torch.zeros(1, 9, 9)]))
    with pytest.raises(ValueError, match="at least 2"):
        est.fit(Items([torch.zeros(1, 8, 8)]))
    with pytest.raises(ValueError, match="NaN or infinity"):
        est.fit(Items([torch.zeros(1, 8, 8), torch.full((1, 8, 8), float("nan"))]))
    fitted = FAST["DCCS"]().fit(ImageDataset(images))
    with pytest.raises(ValueError, match="features"):
        fitted.predict(Items([torch.zeros(1, 9, 9)] * 3))
    with pytest.raises(ValueError, match="fitted on images of shape"):
        fitted.predict(Items([torch.zeros(1, 4, 16)] * 3))


def test_ganim_without_feature_cache(images, monkeypatch):
    # Above FEATURE_CACHE_BYTES, streamed data gets its discriminator features per batch.
    seen = []
    compute = ganim.GANIMNet.compute_terms

    def spy(self, X, indices):
        seen.append(self._features is None)
        return compute(self, X, indices)

    monkeypatch.setattr(ganim.GANIMNet, "compute_terms", spy)
    cached = FAST["GANIM"]().fit(ImageDataset(images))
    assert seen and not any(seen)
    seen.clear()
    monkeypatch.setattr(ganim, "FEATURE_CACHE_BYTES", 0)
    est = FAST["GANIM"]().fit(ImageDataset(images))
    assert seen and all(seen)
    # Eval-mode features do not depend on the batch: the same model up to float rounding.
    clf, ref = est.net_.module_, cached.net_.module_
    torch.testing.assert_close(clf.input_mean, ref.input_mean, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(clf.input_scale, ref.input_scale, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(est.head_losses_, cached.head_losses_, rtol=1e-3)
    assert (est.labels_ == cached.labels_).mean() > 0.95


def _write_pngs(folder, n=12):
    from PIL import Image

    rng = np.random.RandomState(0)
    arrays = []
    for i in range(n):
        img = rng.randint(0, 255, (6, 5, 3) if i % 4 == 0 else (6, 5)).astype(np.uint8)
        sub = folder / ("a" if i % 2 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(sub / f"{i:02d}.png")
        arrays.append(img)
    (folder / "notes.png").write_bytes(b"not an image")
    (folder / "readme.txt").write_text("ignored")
    return arrays


def test_image_folder_dataset(tmp_path):
    _write_pngs(tmp_path)
    ds = ImageFolderDataset(tmp_path)
    assert len(ds) == 12 and ds.names[0] == "a/01.png"  # recursive, sorted
    assert [p for p, _ in ds.skipped] == [str(tmp_path / "notes.png")]
    assert ds.channels == 3 and ds.image_shape == (6, 5, 3)  # one colour file: RGB
    x = ds[0]
    assert x.shape == (3, 6, 5) and x.dtype == torch.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    from PIL import Image

    with Image.open(ds.files[0]) as im:
        ref = np.asarray(im.convert("RGB"))
    np.testing.assert_array_equal(ds.read_array(0), ref)
    torch.testing.assert_close(x, torch.from_numpy(ref.transpose(2, 0, 1) / 255.0).float())
    grey = ImageFolderDataset(tmp_path, size=(4, 3), channels=1, dtype="uint8")
    assert grey[0].shape == (1, 4, 3) and grey[0].dtype == torch.uint8
    k = grey.names.index("b/00.png")  # a colour file: averaged over R, G, B
    with Image.open(grey.files[k]) as im:
        assert im.mode == "RGB"
        rgb = np.asarray(im.resize((3, 4), Image.BILINEAR))
    np.testing.assert_array_equal(grey.read_array(k), rgb.mean(-1).astype(np.uint8))
    labels = DCCS(n_clusters=2, max_epochs=1, batch_size=8, random_state=0).fit_predict(grey)
    assert labels.shape == (12,)
    with pytest.raises(ValueError, match="No readable image"):
        ImageFolderDataset(tmp_path, extensions=(".jpg",))
    with pytest.raises(ValueError, match="channels"):
        ImageFolderDataset(tmp_path, channels=2)


def test_cli_cluster_streams_a_folder_with_the_array_results(tmp_path, monkeypatch):
    from skdeepclust import _cli

    folder = tmp_path / "imgs"
    _write_pngs(folder)
    X, names = _cli._read_input(str(folder), None)
    assert isinstance(X, ImageFolderDataset)  # streamed, never one array
    decoded = []
    read = ImageFolderDataset.read_array
    monkeypatch.setattr(ImageFolderDataset, "read_array",
                        lambda self, i: decoded.append(i) or read(self, i))
    out = tmp_path / "out"
    assert _cli.main(["cluster", str(folder), "--n-clusters", "2", "--out", str(out),
                      "--epochs", "1", "--method", "dccs", "--quiet"]) == 0
    monkeypatch.undo()
    rows = list(csv.DictReader((out / "labels.csv").open()))
    assert [r["file"] for r in rows] == names
    # What the command did before streaming: one uint8 array of the images.
    arrays = np.stack([X.read_array(i) for i in range(len(X))])
    ref = DCCS(n_clusters=2, max_epochs=1, random_state=0).fit_predict(arrays)
    assert [int(r["cluster"]) for r in rows] == ref.tolist()
    assert decoded and list(out.glob("cluster_*.png"))
