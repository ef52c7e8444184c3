"""The public ``encoder=`` parameter of the methods whose paper has an encoder."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch import nn

from skdeepclust import DCCS, ICAE, VariationalClustering
from skdeepclust._data import InputSpec

METHODS = [ICAE, DCCS, VariationalClustering]


class SmallTrunk(nn.Module):
    """(N, C, 8, 8) -> (N, 32)."""

    def __init__(self, in_channels=1):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(in_channels, 8, 3, stride=2, padding=1), nn.ReLU(),
                                 nn.Flatten(), nn.Linear(8 * 4 * 4, 32))

    def forward(self, x):
        return self.net(x)


@pytest.mark.parametrize("cls", METHODS)
def test_module_encoder_is_copied_and_trained(cls, small_digits):
    X, _ = small_digits
    enc = SmallTrunk()
    before = [p.detach().clone() for p in enc.parameters()]
    est = cls(n_clusters=4, max_epochs=2, random_state=0, encoder=enc).fit(X[:150])
    used = [m for m in est.net_.module_.modules() if isinstance(m, SmallTrunk)]
    assert len(used) == 1 and used[0] is not enc  # a copy went into the network
    # The copy was trained; the caller's module was not touched.
    assert any(not torch.equal(a, b) for a, b in zip(before, used[0].parameters()))
    assert all(torch.equal(a, b) for a, b in zip(before, enc.parameters()))
    assert est.predict(X[:20]).shape == (20,)
    assert clone(est).get_params()["encoder"] is not enc  # clone copies the module


@pytest.mark.parametrize("cls", METHODS)
def test_callable_encoder_gets_the_sample_shape(cls):
    shapes = []

    def build(shape):
        shapes.append(shape)
        return nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(shape)), 16), nn.ReLU())

    rng = np.random.RandomState(0)
    cls(n_clusters=3, max_epochs=1, random_state=0, encoder=build).fit(rng.rand(60, 6, 6, 3))
    cls(n_clusters=3, max_epochs=1, random_state=0, encoder=build).fit(rng.rand(60, 5))
    # DCCS converts colour to grey before its encoder (grayscale=True).
    assert set(shapes) == {(1 if cls is DCCS else 3, 6, 6), (5,)}


def test_dccs_keeps_the_weights_of_a_pretrained_encoder():
    enc = SmallTrunk()
    spec = InputSpec(64, (8, 8, 1), 100)
    module = DCCS(n_clusters=4, encoder=enc)._build_module(spec)
    for a, b in zip(enc.parameters(), module.trunk.parameters()):
        assert torch.equal(a, b)  # no re-initialisation of the user's layers


@pytest.mark.parametrize("encoder, error, match", [
    (3, TypeError, "'encoder' parameter of ICAE must be a callable or None"),
    (lambda shape: "not a module", TypeError, "must return a torch.nn.Module"),
    (nn.Identity(), ValueError, r"features of shape \(N, F\)"),
])
def test_bad_encoders(small_digits, encoder, error, match):
    X, _ = small_digits
    with pytest.raises(error, match=match):
        ICAE(n_clusters=4, max_epochs=1, encoder=encoder).fit(X[:60])


def test_save_refuses_a_user_encoder(small_digits, tmp_path):
    X, _ = small_digits
    est = ICAE(n_clusters=4, max_epochs=1, random_state=0, encoder=SmallTrunk()).fit(X[:60])
    with pytest.raises(TypeError, match="pickle"):
        est.save(tmp_path / "m.skdc")
