import pickle

import pytest
import torch

from skdeepclust import augment


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _blob():
    x = torch.zeros(8, 1, 16, 16)
    x[:, :, 4:8, 4:8] = 1.0  # an off-centre square
    return x


@pytest.mark.parametrize("name", sorted(augment.PRESETS))
def test_presets_keep_shape_and_are_reproducible(name):
    aug = augment.preset(name)
    x = torch.rand(6, 3, 12, 12) if name != "tabular" else torch.randn(6, 5)
    a, b = aug(x, generator=_gen(1)), aug(x, generator=_gen(1))
    assert a.shape == x.shape
    assert torch.equal(a, b)
    assert not torch.equal(a, aug(x, generator=_gen(2)))


def test_affine_draws_per_sample_parameters():
    x = _blob()
    out = augment.RandomAffine(degrees=30, translate=0.2)(x, generator=_gen())
    # identical inputs, different outputs: one draw per sample, not per batch
    assert len({tuple(o.flatten().tolist()) for o in out}) == len(x)


def test_identity_affine_is_exact():
    x = torch.rand(4, 2, 9, 11)
    out = augment.RandomAffine()(x, generator=_gen())
    torch.testing.assert_close(out, x, atol=1e-5, rtol=0)


def test_hflip_mirrors():
    x = torch.rand(5, 1, 6, 6)
    out = augment.RandomAffine(hflip=1.0)(x, generator=_gen())
    torch.testing.assert_close(out, x.flip(-1), atol=1e-5, rtol=0)


def test_translation_moves_mass():
    x = _blob()
    out = augment.RandomAffine(translate=0.25)(x, generator=_gen())
    cols = torch.arange(16.0)
    centre = (out.sum(dim=(1, 2)) * cols).sum(1) / out.sum(dim=(1, 2, 3))
    assert centre.std() > 0.5


def test_color_jitter_range_and_channel_shuffle_permutes():
    x = torch.rand(16, 3, 4, 4)
    out = augment.ColorJitter(0.5, 0.5, 0.5)(x, generator=_gen())
    assert out.min() >= 0 and out.max() <= 1
    sh = augment.ChannelShuffle(p=1.0)(x, generator=_gen())
    torch.testing.assert_close(sh.sum(1), x.sum(1))
    assert torch.equal(augment.ChannelShuffle(p=0.0)(x, generator=_gen()), x)


def test_crop_resize_zooms_in():
    x = _blob()
    out = augment.RandomResizedCrop(scale=(0.25, 0.25), ratio=(1, 1))(x, generator=_gen())
    assert out.shape == x.shape
    assert not torch.allclose(out, x)


def test_augmentations_pickle_compare_and_repr():
    aug = augment.preset("natural")
    clone = pickle.loads(pickle.dumps(aug))
    assert clone == aug and repr(clone) == repr(aug)
    assert "RandomResizedCrop" in repr(aug)


def test_unknown_preset_and_bad_input():
    with pytest.raises(ValueError, match="preset"):
        augment.preset("nope")
    with pytest.raises(ValueError, match="N, C, H, W"):
        augment.RandomAffine(degrees=3)(torch.rand(4, 10))


def test_random_binarize_is_bernoulli_of_the_pixel_value():
    from skdeepclust.augment import RandomBinarize

    x = torch.tensor([0.0, 0.25, 0.75, 1.0]).view(1, 1, 1, 4).expand(20000, 1, 1, 4)
    out = RandomBinarize()(x, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape and set(out.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(out.mean(dim=(0, 1, 2)), torch.tensor([0.0, 0.25, 0.75, 1.0]),
                               atol=0.02, rtol=0)
    again = RandomBinarize()(x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    with pytest.raises(ValueError, match="RandomBinarize"):
        RandomBinarize()(torch.rand(4, 10))


def test_random_stroke_thickens_or_thins_within_the_dilation_erosion_band():
    import torch.nn.functional as F

    from skdeepclust.augment import RandomStroke

    x = torch.zeros(64, 1, 8, 8)
    x[:, :, 2:6, 3:5] = 1.0  # a vertical bar
    g = torch.Generator().manual_seed(0)
    out = RandomStroke(strength=1.0)(x, generator=g)
    dil = F.max_pool2d(x, 3, 1, 1)
    ero = -F.max_pool2d(-x, 3, 1, 1)
    assert out.shape == x.shape
    # Every image lies between its erosion and its dilation, and both directions occur.
    assert torch.all(out >= ero - 1e-6) and torch.all(out <= dil + 1e-6)
    mass = out.sum(dim=(1, 2, 3))
    assert (mass > x[0].sum() + 1e-3).any() and (mass < x[0].sum() - 1e-3).any()
    # Reproducible from the generator; strength 0 is the identity.
    again = RandomStroke(strength=1.0)(x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    assert torch.equal(RandomStroke(strength=0.0)(x, generator=g), x)
    with pytest.raises(ValueError, match="strength"):
        RandomStroke(strength=1.5)
