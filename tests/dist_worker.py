"""One process of a distributed test fit (run by tests/test_distributed.py, not collected).

Usage: ``python dist_worker.py SCENARIO OUT_FILE`` with torchrun's environment variables
(RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) set by the test. Writes what the
test compares (state dicts, labels ...) to ``OUT_FILE`` with ``torch.save``.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import torch

torch.set_num_threads(1)


def _digits(n):
    from sklearn.datasets import load_digits

    d = load_digits()
    if n is None:
        return d.data, d.target
    rng = np.random.RandomState(0)
    idx = rng.choice(len(d.data), n, replace=False)
    return d.data[idx], d.target[idx]


def _states(net):
    return {name: {k: v.detach().cpu().clone() for k, v in
                   getattr(net, name + "_").state_dict().items()}
            for name in net._modules}


def fit(cfg):
    import skdeepclust

    X, y = _digits(cfg.get("n"))
    est = getattr(skdeepclust, cfg["method"])(**cfg["params"])
    est.fit(X)
    out = {"labels": est.labels_, "states": _states(est.net_), "y": y,
           "history": [{k: v for k, v in row.items() if k not in ("batches", "dur")}
                       for row in est.history_]}
    if cfg["method"] == "GANIM":
        out["head_losses"] = est.head_losses_
    if cfg.get("repeat"):  # a second fit in the same processes, the group still there
        out["labels_again"] = getattr(skdeepclust, cfg["method"])(**cfg["params"]).fit(X).labels_
    if cfg.get("check_errors"):
        rank = int(os.environ["RANK"])
        for key, params, data in [
            ("data_error", cfg["params"], X[: len(X) - rank]),
            ("error", dict(cfg["params"], batch_size=1), X),
        ]:
            try:
                getattr(skdeepclust, cfg["method"])(**params).fit(data)
                out[key] = ""
            except ValueError as exc:
                out[key] = str(exc)
    return out


def grad_step(cfg):
    """One ClusterNet.optimizer_step on different data per rank, then the parameters."""
    import torch.distributed as dist

    from skdeepclust import _distributed

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    torch.manual_seed(rank)  # different initial weights: the broadcast must fix them
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3),
                              torch.nn.Linear(3, 2), torch.nn.Linear(2, 2))
    _distributed.broadcast_modules([net])
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(100 + rank))
    # A per-sample term and a term of the global batch (variance of the gathered outputs);
    # the last layer is unused: its gradient must stay None.
    h = net[:3](x)
    g = _distributed.all_gather_with_grad(h)
    loss = h.pow(2).mean() + g.var(dim=0).sum()
    loss.backward()
    _distributed.all_reduce_gradients(list(net.parameters()))
    grads = {k: (None if p.grad is None else p.grad.clone()) for k, p in net.named_parameters()}
    opt.step()
    _distributed.average_batch_norm_stats([net])
    return {"state": {k: v.clone() for k, v in net.state_dict().items()}, "grads": grads,
            "x": x}


def main():
    cfg = json.loads(sys.argv[1])
    out = grad_step(cfg) if cfg["method"] == "grad_step" else fit(cfg)
    out["rank"] = int(os.environ.get("RANK", 0))
    torch.save(out, sys.argv[2])


if __name__ == "__main__":
    main()
