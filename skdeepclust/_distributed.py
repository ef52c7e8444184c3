"""Data-parallel training through ``torch.distributed``: the few collectives the methods use.

With ``distributed=True`` every process (one per GPU, started by ``torchrun``) fits the same
estimator on the same data. Each process trains on its shard of every epoch's batches
(:func:`skdeepclust._net.shard_order`); the gradients of every optimiser are averaged in
:meth:`ClusterNet.optimizer_step <skdeepclust._net.ClusterNet.optimizer_step>`
(:func:`all_reduce_gradients`), so every process takes the same step and all copies of the
networks stay identical. Loss terms that are functions of the whole batch (a marginal over
the batch, an MMD against the centroids, negatives drawn from the batch) see the global
batch through :func:`all_gather_with_grad`.

Why not ``DistributedDataParallel``: DDP averages gradients from autograd hooks that fire
once per parameter and per backward of a forward in which the wrapped module ran. Every
method here uses its modules in several roles per step (the DCCS critic inside a
gradient-penalty double backward, pytorch/pytorch#47562 and #63812; GANIM's discriminator
inside the generator loss; encoders run on ``[x, T(x)]`` and frozen in some steps), which
DDP's hooks handle badly (``find_unused_parameters``, "marked ready twice" errors, no
double backward support). The arithmetic DDP does is an all-reduce mean of the gradients
after ``backward`` and before ``step``; doing exactly that in the one method all optimisers
go through (as Horovod's ``DistributedOptimizer`` does) covers every method and every
optimiser, with one coalesced all-reduce per step.

Every helper is a no-op (or the identity) when no process group is active, so the
single-process code path is unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import torch
from torch import Tensor, nn

__all__ = [
    "all_gather_with_grad",
    "all_reduce_gradients",
    "average_batch_norm_stats",
    "broadcast_modules",
    "env_world_size",
    "init_process_group",
    "rank",
    "world_size",
]


def _dist():
    import torch.distributed as dist

    return dist


def is_active() -> bool:
    """Whether a process group is initialised (and torch.distributed is available)."""
    dist = _dist()
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    """Number of processes of the default group; 1 when not distributed."""
    return _dist().get_world_size() if is_active() else 1


def rank() -> int:
    """Rank of this process in the default group; 0 when not distributed."""
    return _dist().get_rank() if is_active() else 0


def env_world_size() -> int:
    """``WORLD_SIZE`` as set by ``torchrun`` (1 when unset)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise ValueError(
            f"The environment variable WORLD_SIZE={os.environ['WORLD_SIZE']!r} is not an "
            "integer; start the script with torchrun, which sets it."
        ) from None


def local_rank() -> int:
    """``LOCAL_RANK`` as set by ``torchrun`` (0 when unset): the GPU of this process."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def init_process_group(device: torch.device) -> bool:
    """Initialise the default process group from ``torchrun``'s environment if needed.

    Returns whether the fit runs distributed: ``True`` when a group is (now) active with
    more than one process, ``False`` for a single process (no ``WORLD_SIZE`` or
    ``WORLD_SIZE=1`` and no group), which then trains exactly as ``distributed=False``.
    A group created here is left initialised (the script may fit again or use it; call
    ``torch.distributed.destroy_process_group()`` at its end).
    """
    dist = _dist()
    if is_active():
        return dist.get_world_size() > 1
    if env_world_size() <= 1:
        return False
    if not dist.is_available():
        raise RuntimeError(
            "distributed=True under torchrun (WORLD_SIZE > 1), but this PyTorch build has no "
            "torch.distributed support."
        )
    missing = [v for v in ("RANK", "MASTER_ADDR", "MASTER_PORT") if v not in os.environ]
    if missing:
        raise RuntimeError(
            f"distributed=True with WORLD_SIZE={env_world_size()}, but {missing} are not set. "
            "Start the script with torchrun (e.g. `torchrun --nproc-per-node 2 script.py`), "
            "or initialise torch.distributed yourself before calling fit."
        )
    backend = "nccl" if device.type == "cuda" else "gloo"
    if backend == "gloo" and not dist.is_gloo_available():
        raise RuntimeError("distributed=True on the CPU needs the gloo backend, which this "
                           "PyTorch build lacks.")
    dist.init_process_group(backend=backend)
    return dist.get_world_size() > 1


def check_backend(device: torch.device) -> None:
    """A clear error when the active group's backend cannot reduce tensors on ``device``."""
    backend = str(_dist().get_backend()).lower()
    if device.type == "cpu" and backend == "nccl":
        raise ValueError(
            "The process group uses the nccl backend, which only reduces CUDA tensors, but "
            "the estimator trains on the CPU. Use device='auto' or 'cuda', or initialise the "
            "group with backend='gloo' (or 'cpu:gloo,cuda:nccl')."
        )


def broadcast_ints(values: Sequence[int], device: torch.device, src: int = 0) -> list[int]:
    """Rank ``src``'s ``values`` on every rank (``values`` when not distributed).

    Through a tensor on the training ``device`` rather than ``broadcast_object_list``, whose
    NCCL path uses the current CUDA device (cuda:0 on every rank unless the script set it).
    """
    if not is_active():
        return list(values)
    t = torch.tensor(list(values), dtype=torch.int64, device=device)
    _dist().broadcast(t, src=src)
    return t.tolist()


def all_gather_ints(values: Sequence[int], device: torch.device) -> list[list[int]]:
    """Every rank's ``values`` (the same length on every rank), in rank order."""
    if not is_active():
        return [list(values)]
    t = torch.tensor(list(values), dtype=torch.int64, device=device)
    parts = [torch.empty_like(t) for _ in range(world_size())]
    _dist().all_gather(parts, t)
    return [p.tolist() for p in parts]


def _coalesced(tensors: Sequence[Tensor]) -> Iterable[list[Tensor]]:
    """``tensors`` grouped by (device, dtype), each group flattened into one buffer."""
    groups: dict[tuple, list[Tensor]] = {}
    for t in tensors:
        groups.setdefault((t.device, t.dtype), []).append(t)
    return groups.values()


def broadcast_modules(modules: Iterable[nn.Module], src: int = 0) -> None:
    """Copy every parameter and buffer of ``modules`` from rank ``src`` to all ranks."""
    if not is_active():
        return
    from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

    dist = _dist()
    tensors = [t for m in modules for t in (*m.parameters(), *m.buffers())]
    with torch.no_grad():
        for group in _coalesced(tensors):
            flat = _flatten_dense_tensors([t.detach() for t in group])
            dist.broadcast(flat, src=src)
            for t, v in zip(group, _unflatten_dense_tensors(flat, group)):
                t.copy_(v)


def all_reduce_gradients(params: Sequence[Tensor], flags: Tensor | None = None) -> Tensor | None:
    """Average the gradients of ``params`` over all ranks, in one buffer per dtype.

    A parameter without a gradient counts as zeros, so that every rank reduces buffers of
    the same size (a mismatch would hang the collective); after the reduction it gets the
    averaged gradient if any rank had one, and stays ``None`` if none had (an optimiser
    such as Adam still moves a parameter whose gradient is a zero tensor).

    ``flags`` (a float tensor on the gradients' device) rides along in the same reduction
    and comes back summed over the ranks: the finiteness check of the loss costs no extra
    collective. Returns the summed flags (``None`` when none were given).
    """
    if not is_active():
        return flags
    from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

    dist = _dist()
    w = dist.get_world_size()
    params = [p for p in params if p.requires_grad or p.grad is not None]
    groups = list(_coalesced(params))
    out_flags = flags
    with torch.no_grad():
        if not groups and flags is not None:
            out_flags = flags.detach().clone()
            dist.all_reduce(out_flags)
        for i, group in enumerate(groups):
            ref = group[0]
            grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in group]
            has = torch.tensor([p.grad is not None for p in group], dtype=ref.dtype,
                               device=ref.device)
            parts = grads + [has]
            if i == 0 and flags is not None:
                parts.append(flags.detach().to(ref.device, ref.dtype).reshape(-1))
            flat = _flatten_dense_tensors(parts)
            dist.all_reduce(flat)
            views = _unflatten_dense_tensors(flat, parts)
            if i == 0 and flags is not None:
                out_flags = views[-1].to(flags.device, flags.dtype)
            for p, g, c in zip(group, views[:len(group)], views[len(group)].tolist()):
                if c == 0:
                    p.grad = None
                elif p.grad is None:
                    p.grad = g.div_(w)
                else:
                    p.grad.copy_(g).div_(w)
    return out_flags


def average_batch_norm_stats(modules: Iterable[nn.Module]) -> None:
    """Average the running mean and variance of every batch norm over all ranks.

    Each rank normalises its own shard of the batch, so the running statistics drift apart;
    averaging them (at every epoch's end) gives every rank the same weights. Only these
    buffers are averaged: the others (``num_batches_tracked``, fixed centroids ...) are
    identical on every rank already, and averaging could change their last bit.
    """
    if not is_active():
        return
    from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

    dist = _dist()
    stats = [b for m in modules for bn in m.modules()
             if isinstance(bn, nn.modules.batchnorm._BatchNorm)
             for b in (bn.running_mean, bn.running_var) if b is not None]
    w = dist.get_world_size()
    with torch.no_grad():
        for group in _coalesced(stats):
            flat = _flatten_dense_tensors(group)
            dist.all_reduce(flat)
            for b, v in zip(group, _unflatten_dense_tensors(flat, group)):
                b.copy_(v.div_(w))


def all_reduce_mean(t: Tensor) -> Tensor:
    """The mean of ``t`` over the ranks (``t`` itself when not distributed)."""
    if not is_active():
        return t
    out = t.detach().clone()
    _dist().all_reduce(out)
    return out / world_size()


class _AllGather(torch.autograd.Function):
    """``cat`` of every rank's tensor along dim 0; the backward sums the gradient that every
    rank's loss sends to each slot (all-reduce) and returns this rank's slot."""

    @staticmethod
    def forward(ctx, t: Tensor) -> Tensor:
        dist = _dist()
        ctx.rank, ctx.n = dist.get_rank(), t.shape[0]
        parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, t.contiguous())
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        grad = grad.contiguous()
        _dist().all_reduce(grad)
        return grad[ctx.rank * ctx.n:(ctx.rank + 1) * ctx.n]


def all_gather_with_grad(t: Tensor) -> Tensor:
    """Every rank's ``t`` concatenated along dim 0 (rank order), differentiable.

    For loss terms that are functions of the whole batch. Every rank must call it with a
    tensor of the same shape (the batches are of equal size on every rank). The gradient
    reaching this rank's rows is the sum of what every rank's loss sends them; after the
    mean over ranks in :func:`all_reduce_gradients` the parameters get the gradient of the
    term computed on the global batch, as a single process would. The identity when not
    distributed.
    """
    if not is_active() or world_size() == 1:
        return t
    return _AllGather.apply(t)
