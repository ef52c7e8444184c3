"""Data-parallel training (``distributed=True``): sharding, gradient averaging, and 2-process
fits of every method on the CPU with the gloo backend.

The multi-process tests start ``tests/dist_worker.py`` once per rank with torchrun's
environment variables, so ``fit`` initialises the process group itself, as under torchrun.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from skdeepclust import DCCS, GANIM, ICAE, VariationalClustering
from skdeepclust._net import DeviceBatches, shard_order
from skdeepclust.metrics import cluster_accuracy

WORKER = Path(__file__).with_name("dist_worker.py")
ROOT = Path(__file__).resolve().parents[1]


def _gloo_available() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_gloo_available()


needs_gloo = pytest.mark.skipif(
    not _gloo_available(),
    reason="torch.distributed or its gloo backend is not available in this PyTorch build",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cfg: dict, tmp_path: Path, world: int = 2, timeout: float = 600) -> list[dict]:
    """Run the worker as ``world`` ranks (or one plain process for ``world=0``)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    procs = []
    for r in range(max(world, 1)):
        env = dict(os.environ, OMP_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
            env.pop(key, None)
        if world:
            env.update(RANK=str(r), WORLD_SIZE=str(world), LOCAL_RANK=str(r),
                       MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        procs.append(subprocess.Popen(
            [sys.executable, str(WORKER), json.dumps(cfg), str(tmp_path / f"{r}.pt")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = []
    try:
        for p in procs:
            out, _ = p.communicate(timeout=timeout)
            outputs.append(out)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, out in zip(procs, outputs):
        assert p.returncode == 0, f"worker failed:\n{out[-3000:]}"
    return [torch.load(tmp_path / f"{r}.pt", weights_only=False) for r in range(max(world, 1))]


# ---------------------------------------------------------------------- sharding
@pytest.mark.parametrize("n", [1, 7, 10, 64, 101])
@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_shard_order_partitions_the_epoch(n, world):
    order = torch.randperm(n, generator=torch.Generator().manual_seed(n))
    shards = [shard_order(order, r, world) for r in range(world)]
    size = -(-n // world)
    assert all(len(s) == size for s in shards)  # same number of batches on every rank
    counts = np.bincount(torch.cat(shards).numpy(), minlength=n)
    assert (counts >= 1).all()  # every index at least once
    assert counts.sum() - n == -n % world  # and the padding is the only repetition
    if world == 1:
        assert shards[0] is order


def test_shard_order_rejects_a_bad_rank():
    with pytest.raises(ValueError, match="rank"):
        shard_order(torch.arange(4), 2, 2)


@pytest.mark.parametrize("world", [2, 4])
def test_ranks_batches_together_are_the_single_process_batches(world):
    X = torch.arange(96.0)[:, None]
    local = 8

    def batches(rank, w, bs):
        gen = torch.Generator().manual_seed(0)
        return list(DeviceBatches(X, bs, shuffle=True, generator=gen, rank=rank, world_size=w))

    single = batches(0, 1, local * world)
    per_rank = [batches(r, world, local) for r in range(world)]
    assert {len(b) for b in per_rank} == {len(single)}
    assert all(len(DeviceBatches(X, local, True, rank=r, world_size=world)) == len(single)
               for r in range(world))
    for k, (xb, idx) in enumerate(single):
        union = torch.cat([per_rank[r][k][1] for r in range(world)])
        assert sorted(union.tolist()) == sorted(idx.tolist())


# ---------------------------------------------------------------------- single process
def test_distributed_without_torchrun_is_a_plain_fit(small_digits, monkeypatch):
    for key in ("WORLD_SIZE", "RANK"):
        monkeypatch.delenv(key, raising=False)
    X = small_digits[0][:120]
    kw = dict(n_clusters=5, max_epochs=1, batch_size=32, latent_dim=8, base_channels=8,
              random_state=0)
    a = ICAE(distributed=True, **kw).fit(X)
    b = ICAE(**kw).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert not torch.distributed.is_initialized()


@pytest.mark.parametrize("Est", [ICAE, VariationalClustering, DCCS, GANIM])
def test_distributed_must_be_a_bool(Est, small_digits):
    with pytest.raises(TypeError, match="'distributed' parameter of .* must be an instance of 'bool'"):
        Est(n_clusters=3, max_epochs=1, distributed="yes").fit(small_digits[0][:50])


def test_missing_rendezvous_variables_are_reported(small_digits, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    for key in ("RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RuntimeError, match="torchrun"):
        ICAE(n_clusters=3, max_epochs=1, distributed=True).fit(small_digits[0][:50])


# ---------------------------------------------------------------------- two processes
@needs_gloo
def test_gradients_are_averaged_as_on_the_global_batch(tmp_path):
    outs = _run({"method": "grad_step"}, tmp_path)
    a, b = outs
    for k in a["state"]:  # same weights and batch norm statistics on both ranks
        torch.testing.assert_close(a["state"][k], b["state"][k], rtol=0, atol=0)
    # The unused layer's gradient stays None (Adam would move a zero gradient).
    assert a["grads"]["3.weight"] is None and b["grads"]["3.weight"] is None
    # Reference: one process, rank 0's initial weights, the mean of the ranks' losses.
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3),
                              torch.nn.Linear(3, 2), torch.nn.Linear(2, 2))
    hs = [net[:3](o["x"]) for o in outs]  # batch norm normalises each rank's shard
    g = torch.cat(hs)
    loss = sum(h.pow(2).mean() + g.var(dim=0).sum() for h in hs) / len(hs)
    loss.backward()
    for k, p in net.named_parameters():
        if k.startswith("3."):
            continue
        torch.testing.assert_close(a["grads"][k], p.grad, rtol=1e-5, atol=1e-6)


FAST = {
    "ICAE": dict(latent_dim=10, base_channels=8, batch_size=32),
    "VariationalClustering": dict(latent_dim=5, batch_size=32),
    "DCCS": dict(style_dim=5, batch_size=32, n_critic=1),
    "GANIM": dict(gan_epochs=1, batch_size=64, gan_batch_size=32, base_channels=8,
                  hidden_dims=(32,), n_heads=2),
}


@needs_gloo
@pytest.mark.parametrize("method", list(FAST))
def test_two_process_fit_is_identical_on_both_ranks_and_deterministic(method, tmp_path):
    params = dict(FAST[method], n_clusters=10, max_epochs=2, random_state=0,
                  distributed=True)
    cfg = {"method": method, "n": 240, "params": params, "repeat": True,
           "check_errors": method in ("ICAE", "GANIM")}
    a, b = _run(cfg, tmp_path)
    np.testing.assert_array_equal(a["labels"], b["labels"])
    assert set(a["states"]) == set(b["states"])  # every module: critics, GANs, decoders
    for module in a["states"]:
        for k, v in a["states"][module].items():
            torch.testing.assert_close(v, b["states"][module][k], rtol=0, atol=0,
                                       msg=f"{module}.{k} differs between ranks")
    assert a["history"] == b["history"]  # terms and train_loss averaged over the ranks
    # A second fit in the same processes (the group left initialised) gives the same model.
    np.testing.assert_array_equal(a["labels"], a["labels_again"])
    if method == "GANIM":
        np.testing.assert_array_equal(a["head_losses"], b["head_losses"])
    if cfg["check_errors"]:
        assert "smaller than the number of processes" in a["error"]
        assert "same data" in a["data_error"]


# ---------------------------------------------------------------------- quality (opt-in)
@needs_gloo
@pytest.mark.slow
@pytest.mark.parametrize("method", ["ICAE", "VariationalClustering", "DCCS", "GANIM"])
def test_two_processes_cluster_digits_as_well_as_one(method, tmp_path):
    """Full load_digits, default parameters: the 2-process fit (global batch = the
    1-process batch) is within 0.05 ACC of the 1-process fit.

    Measured once (shared 2-core CPU, 26 min for the four): ICAE 0.824 / 0.837,
    VariationalClustering 0.844 / 0.893, DCCS 0.960 / 0.900 (then 10,000 steps; it failed
    by 0.010), GANIM 0.818 / 0.839. DCCS with its 4,000-step budget: 0.954 / 0.926
    (2026-12-03, 139 s).
    """
    cfg = {"method": method, "n": None,
           "params": {"n_clusters": 10, "random_state": 0, "distributed": True}}
    (one,) = _run(cfg, tmp_path / "one", world=0, timeout=3600)
    two = _run(cfg, tmp_path / "two", world=2, timeout=3600)[0]
    acc1 = cluster_accuracy(one["y"], one["labels"])
    acc2 = cluster_accuracy(two["y"], two["labels"])
    print(f"{method}: ACC 1 process {acc1:.3f}, 2 processes {acc2:.3f}")
    assert abs(acc1 - acc2) <= 0.05, (acc1, acc2)
