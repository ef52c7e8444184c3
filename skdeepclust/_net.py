"""The shared skorch machinery: one ``NeuralNet`` subclass that all methods train through.

What the methods share lives here: batches sliced from a tensor that already sits on the
training device, a criterion that adds up named loss terms with their weights, the per-epoch
record of every term in ``history`` and a clear error when a term becomes NaN. A method subclasses :class:`ClusterNet` and writes ``compute_terms``
(and ``train_step`` when it alternates between several optimisers, e.g. a critic); every
update, whatever its optimiser, goes through :meth:`ClusterNet.optimizer_step`, which is
also where a distributed fit averages the gradients (see :mod:`skdeepclust._distributed`).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager

import torch
from skorch import NeuralNet
from skorch.dataset import Dataset, unpack_data
from torch import Tensor, nn

from . import _distributed as _dist
from .augment import Augmentation
from .losses import kl_to_uniform, log_marginal

__all__ = ["ClusterNet", "DeviceBatches", "StreamBatches", "WeightedLoss", "batch_order",
           "shard_order"]


def shard_order(order: Tensor, rank: int = 0, world_size: int = 1) -> Tensor:
    """The part of an epoch's sample ``order`` that process ``rank`` of ``world_size`` trains on.

    ``DistributedSampler`` semantics: ``order`` (the same on every rank: drawn from the same
    seeded generator) is padded by repeating its first entries up to a multiple of
    ``world_size``, then rank ``r`` takes every ``world_size``-th entry from position ``r``.
    Every rank gets ``ceil(n / world_size)`` indices, so every rank runs the same number of
    batches (a rank with one batch more would hang the others' collectives). Strided rather
    than contiguous: rank ``r``'s ``k``-th batch of ``b`` samples is then its part of
    ``order[k * b * world_size:(k + 1) * b * world_size]``, so the ranks' ``k``-th batches
    together are the ``k``-th batch a single process would draw with batch size
    ``b * world_size``.

    Parameters
    ----------
    order : Tensor of shape (n,)
        Indices of one epoch, in training order.
    rank, world_size : int
        This process and the number of processes.

    Returns
    -------
    Tensor of shape (ceil(n / world_size),)
        ``order`` itself when ``world_size`` is 1.
    """
    if world_size == 1:
        return order
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, {world_size - 1}], got {rank}.")
    n = len(order)
    if n == 0:
        raise ValueError("Cannot shard an empty order.")
    pad = -n % world_size
    if pad:
        order = torch.cat([order, order[:pad].repeat(-(-pad // n))[:pad]])
    return order[rank::world_size]


def normalised_entropy(sizes: Tensor) -> float:
    """Entropy of the cluster-size distribution ``sizes / sizes.sum()`` over ``log K``: 1
    when all ``K`` clusters are equal, 0 when one holds everything (0 also for K = 1)."""
    p = sizes.double() / sizes.sum().clamp_min(1)
    k = p.numel()
    if k < 2:
        return 0.0
    return float(-(p * p.clamp_min(1e-300).log()).sum() / math.log(k))


class DeviceBatches:
    """Mini-batches sliced from a tensor that already lives on the training device.

    No ``DataLoader`` workers, no per-sample ``__getitem__`` and no host-to-device copy per
    batch: each epoch draws one permutation (from ``generator``) on the device and slices it.
    A last batch of a single sample is skipped when shuffling, because batch norm cannot
    train on one sample; with a fresh permutation every epoch every sample is still seen.

    In a distributed fit (``world_size`` > 1) each process slices only its shard of the
    epoch's order (:func:`shard_order`); ``generator`` must then draw the same permutation on
    every rank and ``batch_size`` is the per-rank batch size.

    Yields ``(X_batch, indices)`` so that a method can keep per-sample state if it needs to.
    """

    def __init__(self, X: Tensor, batch_size: int, shuffle: bool, generator=None,
                 rank: int = 0, world_size: int = 1):
        self.X = X
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator
        self.rank = int(rank)
        self.world_size = int(world_size)

    def __len__(self) -> int:
        n, bs = -(-len(self.X) // self.world_size), self.batch_size  # samples of this rank
        n_batches = -(-n // bs)
        if self.shuffle and n > 1 and n % bs == 1:
            n_batches -= 1
        return n_batches

    def _order(self) -> list[Tensor]:
        return batch_order(len(self.X), self.batch_size, self.shuffle, self.generator,
                           self.rank, self.world_size, device=self.X.device)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        for idx in self._order():
            yield self.X[idx], idx


def batch_order(n: int, batch_size: int, shuffle: bool,
                generator: torch.Generator | None = None, rank: int = 0,
                world_size: int = 1, device=None) -> list[Tensor]:
    """The index batches of one epoch over ``n`` samples: the one place that decides
    which samples an epoch visits, for in-memory and streamed data alike.

    One ``randperm`` from ``generator`` when shuffling (``arange`` otherwise), this
    process's shard of it in a distributed fit (:func:`shard_order`), split into batches
    of ``batch_size``; a last batch of one sample is dropped when shuffling (batch norm
    cannot train on it; with a fresh permutation every epoch every sample is still seen).
    The indices live on ``device`` (by default the generator's, else the CPU).
    """
    if device is None:
        device = generator.device if generator is not None else torch.device("cpu")
    if shuffle:
        order = torch.randperm(n, device=device, generator=generator)
    else:
        order = torch.arange(n, device=device)
    order = shard_order(order, rank, world_size)
    batches = list(order.split(int(batch_size)))
    if shuffle and len(order) > 1 and len(batches[-1]) == 1:
        batches.pop()
    return batches


class StreamBatches(DeviceBatches):
    """Mini-batches read, converted and moved to the device one at a time.

    The streaming counterpart of :class:`DeviceBatches` for data that is never copied
    whole (a memory map, a ``torch.utils.data.Dataset``): ``X`` is the estimator's
    internal ``StreamedData``, whose ``iter_batches`` turns index batches into
    network-space tensors on the device. The order comes from :func:`batch_order` (the same
    batches an in-memory fit draws, sharded the same way). Yields ``(X_batch, indices)``
    like :class:`DeviceBatches`, ``indices`` on the device.
    """

    def _order(self) -> list[Tensor]:
        return batch_order(len(self.X), self.batch_size, self.shuffle, self.generator,
                           self.rank, self.world_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        batches = self._order()
        host = [b.cpu().numpy() for b in batches]
        for idx, xb in zip(batches, self.X.iter_batches(host)):
            yield xb, idx


class WeightedLoss(nn.Module):
    """The training criterion: a weighted sum of named loss terms.

    Parameters
    ----------
    weights : dict of str to float
        Weight of each term; a term without an entry has weight 1. Callbacks such as
        :class:`LossWeightSchedule` change these during training.
    """

    def __init__(self, weights: Mapping[str, float] | None = None):
        super().__init__()
        self.weights = dict(weights or {})

    def weight(self, name: str) -> float:
        return float(self.weights.get(name, 1.0))

    def forward(self, terms: Mapping[str, Tensor]) -> Tensor:
        total = None
        for name, value in terms.items():
            w = self.weight(name)
            if w == 0.0:
                continue
            value = value.float()  # bfloat16 terms under autocast: add them up in float32
            total = value * w if total is None else total + value * w
        if total is None:
            raise ValueError(
                "Every loss weight is zero, so there is nothing to train. Set at least one "
                "*_weight parameter to a positive value."
            )
        return total


class ClusterNet(NeuralNet):
    """``NeuralNet`` for unsupervised training on a device-resident tensor.

    Subclasses implement :meth:`compute_terms`, which returns the *unweighted* loss terms of
    a batch; the criterion (:class:`WeightedLoss`) weights and adds them. Terms whose weight
    is zero should not be computed at all (check :meth:`weight`).

    Parameters
    ----------
    module : torch.nn.Module
        The network(s) of the method.
    augmentation : callable or None
        Maps a batch to an augmented batch. Instances of
        :class:`skdeepclust.augment.Augmentation` draw from the net's generator; any other
        callable (a torchvision v2 pipeline, say) uses torch's RNG, which the estimator has
        forked and seeded, so fits stay reproducible.
    seed : int
        Seed of the net's ``torch.Generator`` (batch order and built-in augmentation).
    precision : {"float32", "bfloat16"}
        ``"bfloat16"``: forward passes run under :func:`torch.autocast` (see
        :meth:`autocast`); parameters and optimiser states stay float32.
    channels_last : bool
        Convert the 4-D parameters of every module (and, through :meth:`to_memory_format`,
        the inference batches) to the channels-last memory format.
    distributed : bool
        Train data-parallel over the default ``torch.distributed`` process group (the
        estimator initialises it): each rank trains on its shard of every epoch with a
        per-rank batch of ``batch_size // world_size``, gradients are averaged in
        :meth:`optimizer_step`, batch norm statistics and logged terms at each epoch's end.
        Ignored when no group is active or it has one process.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(self, module, *args, criterion=WeightedLoss, augmentation=None, seed=0,
                 precision="float32", channels_last=False, distributed=False, **kwargs):
        kwargs.setdefault("train_split", None)
        super().__init__(module, criterion, *args, **kwargs)
        self.augmentation = augmentation
        self.seed = seed
        self.precision = precision
        self.channels_last = channels_last
        self.distributed = distributed

    # ------------------------------------------------------------------ set-up
    def fit_loop(self, X, y=None, **fit_params):
        self.interrupted_ = False
        try:
            return super().fit_loop(X, y, **fit_params)
        except KeyboardInterrupt:
            # skorch ends training quietly on Ctrl-C (partial_fit swallows this); remember
            # it, so that an estimator fitting several times (n_init) stops there too.
            self.interrupted_ = True
            raise

    def initialize(self):
        self._param_names = {}  # optimisers are rebuilt: forget their parameter names
        world = _dist.world_size() if self.distributed else 1
        self._rank, self._world = (_dist.rank(), world) if world > 1 else (0, 1)
        super().initialize()
        # Per-sample randomness (augmentation, noise, prior draws) differs between ranks,
        # which see different samples; the epoch's order comes from a generator seeded the
        # same on every rank, so that the shards partition it. A single process keeps one
        # generator for both, as before distributed training existed.
        self._generator = torch.Generator(device=self.device).manual_seed(
            int(self.seed) + self._rank)
        self._order_generator = self._generator if self._world == 1 else torch.Generator(
            device=self.device).manual_seed(int(self.seed))
        if self.channels_last:
            # Every registered module (module_, critic_, discriminator_ ...): only 4-D
            # tensors (conv weights) change layout.
            for name in self._modules:
                getattr(self, name + "_").to(memory_format=torch.channels_last)
        if self._world > 1:
            # Same start everywhere; identical averaged gradients keep it so.
            _dist.broadcast_modules(self.all_modules())
        return self

    # ------------------------------------------------------------------ distributed
    @property
    def world_size(self) -> int:
        """Number of processes training this net (1 unless fitted distributed)."""
        return getattr(self, "_world", 1)

    def all_modules(self) -> list[nn.Module]:
        """Every registered module (``module_``, ``critic_``, ``discriminator_`` ...)."""
        return [getattr(self, name + "_") for name in self._modules]

    def local_batch_size(self, batch_size: int) -> int:
        """Per-rank batch size for a global ``batch_size`` (itself in a single process):
        the global batch, all ranks together, is what one process would train on."""
        return max(1, int(batch_size) // self.world_size)

    def gather_batch(self, t: Tensor) -> Tensor:
        """``t`` of every rank concatenated (rank order), differentiable: for loss terms
        that are functions of the whole batch. ``t`` itself in a single process."""
        return _dist.all_gather_with_grad(t) if self.world_size > 1 else t

    def balance_term(self, logits: Tensor) -> Tensor:
        """``KL(mean_i softmax(logits_i) || U_K)`` over the global batch: the balance term
        that VariationalClustering and DCCS add to their papers' losses (0 for balanced
        assignments, ``log K`` when every sample goes to one cluster)."""
        return kl_to_uniform(log_marginal(self.gather_batch(logits)), inputs="log_probs")

    def autocast(self) -> AbstractContextManager:
        """Context for forward passes: bfloat16 autocast when ``precision="bfloat16"``.

        Methods wrap only their forward computations and losses in it, never ``backward``
        (as PyTorch's autocast guide recommends); the loss terms come out float32.
        """
        return torch.autocast(device_type=torch.device(self.device).type,
                              dtype=torch.bfloat16, enabled=self.precision == "bfloat16")

    def to_memory_format(self, X: Tensor) -> Tensor:
        """``X`` in channels-last layout when that option is on and ``X`` is an image batch."""
        if self.channels_last and X.ndim == 4:
            return X.contiguous(memory_format=torch.channels_last)
        return X

    def __getstate__(self):
        # torch.Generator cannot be pickled; it is only needed while training.
        state = super().__getstate__()
        state.pop("_generator", None)
        state.pop("_term_sums", None)
        state.pop("_term_counts", None)
        state.pop("_param_names", None)
        state.pop("_order_generator", None)
        state.pop("_rank", None)  # a training setting: an unpickled net is one process
        state.pop("_world", None)
        return state

    def get_iterator(self, dataset, training: bool = False):
        X = dataset.X if isinstance(dataset, Dataset) else dataset
        streamed = hasattr(X, "iter_batches")  # read batch by batch, never copied whole
        if streamed:
            # DataLoader workers for a Dataset, the skorch way:
            # net_kwargs={"iterator_train__num_workers": 4} (0, the default: none).
            X.num_workers = self.stream_workers(training)
        elif not isinstance(X, Tensor):
            raise TypeError("ClusterNet trains on a torch.Tensor already on its device, or "
                            "on streamed data (skdeepclust._data.StreamedData).")
        cls = StreamBatches if streamed else DeviceBatches
        if not training:
            return cls(X, self.batch_size, shuffle=False)
        return cls(X, self.local_batch_size(self.batch_size), shuffle=True,
                   generator=getattr(self, "_order_generator", None),
                   rank=getattr(self, "_rank", 0), world_size=self.world_size)

    def stream_workers(self, training: bool) -> int:
        """DataLoader workers that read a streamed Dataset: the net's
        ``iterator_train__num_workers`` (training) or ``iterator_valid__num_workers``
        (inference) parameter, 0 when unset."""
        prefix = "iterator_train" if training else "iterator_valid"
        return int(self.get_params_for(prefix).get("num_workers", 0))

    # ------------------------------------------------------------------ inference
    # What a trained method answers, on a network-space batch; the estimator calls these in
    # eval mode without autograd and batches the data, so they never see a whole data set.
    def cluster_proba(self, x: Tensor) -> Tensor:
        """Soft cluster assignments ``(n, n_clusters)``; rows sum to one."""
        raise NotImplementedError

    def embed(self, x: Tensor) -> Tensor:
        """The latent features that ``transform`` returns."""
        raise NotImplementedError

    def sample_score(self, x: Tensor) -> Tensor:
        """Per-sample values whose mean is the estimator's ``score``; by default the largest
        cluster probability."""
        return self.cluster_proba(x).max(dim=1).values

    def generate(self, clusters: Tensor, generator: torch.Generator | None = None,
                 cluster: int | None = None) -> Tensor | tuple[Tensor, Tensor]:
        """Network-space samples, one per entry of ``clusters`` (the caller's ``cluster``
        is ``None`` when they are spread over all clusters). May return ``(x, labels)``
        when the model labels what it generates."""
        raise NotImplementedError

    # ------------------------------------------------------------------ losses
    def weight(self, name: str) -> float:
        """Current weight of loss term ``name`` (terms with weight 0 need not be computed)."""
        return self.criterion_.weight(name)

    def augment(self, X: Tensor) -> Tensor | None:
        """An augmented copy of the batch, or ``None`` when augmentation is off."""
        aug = self.augmentation
        if aug is None:
            return None
        if isinstance(aug, Augmentation):
            return aug(X, generator=self._generator)
        out = aug(X)
        if not isinstance(out, Tensor) or out.shape != X.shape:
            raise ValueError(
                "The augmentation callable must return a tensor of the same shape as its "
                f"input batch {tuple(X.shape)}, got {getattr(out, 'shape', type(out))}."
            )
        return out

    def compute_terms(self, X: Tensor, indices: Tensor) -> dict[str, Tensor]:
        """The unweighted loss terms of one training batch."""
        raise NotImplementedError

    def total_loss(self, terms: Mapping[str, Tensor]) -> Tensor:
        """Weight and add ``terms``, record them, and stop with a clear error on NaN/inf."""
        loss = self.get_loss(terms, None, training=True)
        if not torch.isfinite(loss):
            self._diverged(terms)
        self.record_terms(terms)
        return loss

    def _diverged(self, terms: Mapping[str, Tensor], where: str = "") -> None:
        bad = [k for k, v in terms.items() if not torch.isfinite(v).all()]
        epoch = len(self.history)
        raise FloatingPointError(
            f"Training diverged at epoch {epoch}{where}: the loss term(s) "
            f"{bad or list(terms)} became NaN or infinite. Lower `lr`, reduce the "
            "corresponding *_weight, or check the input for extreme values."
        )

    def get_loss(self, y_pred, y_true=None, X=None, training=False):
        # y_pred is the dict of loss terms; there is no target in clustering.
        return self.criterion_(y_pred)

    def record_terms(self, terms: Mapping[str, Tensor]) -> None:
        """Accumulate terms on the device; averaged into ``history`` at the epoch's end.

        Each term is averaged over the steps that computed it, so methods whose steps
        compute different terms (a critic step, an encoder step) get per-term means.
        """
        sums, counts = self._term_sums, self._term_counts
        for name, value in terms.items():
            v = value.detach().float()
            sums[name] = v if name not in sums else sums[name] + v
            counts[name] = counts.get(name, 0) + 1

    def record_assignments(self, logits: Tensor) -> None:
        """Count the batch's argmax clusters; at the epoch's end ``history`` gets
        ``cluster_entropy``, the entropy of the epoch's cluster sizes over ``log K``
        (1 for equal sizes, 0 when one cluster takes every sample). Free of host syncs:
        the counts stay on the device until the epoch ends."""
        labels = logits.detach().argmax(dim=1)
        if self._cluster_sizes is None:  # one buffer per epoch, added into in place
            self._cluster_sizes = labels.new_zeros(logits.shape[1])
        # index_add_ rather than bincount / one_hot, which sync with the host on a GPU.
        self._cluster_sizes.index_add_(0, labels, torch.ones_like(labels))

    def on_epoch_begin(self, net, **kwargs):
        super().on_epoch_begin(net, **kwargs)
        self._term_sums: dict[str, Tensor] = {}
        self._term_counts: dict[str, int] = {}
        self._cluster_sizes: Tensor | None = None

    def on_epoch_end(self, net, **kwargs):
        # One host sync per epoch for all terms, rather than one per term and batch.
        if self.world_size > 1:
            self._sync_epoch()
        if self._term_sums:
            names = list(self._term_sums)
            means = torch.stack([self._term_sums[k] / self._term_counts[k] for k in names])
            if self.world_size > 1:  # every rank logs (and early-stops on) the same values
                means = _dist.all_reduce_mean(means)
            for name, value in zip(names, means.tolist()):
                self.history.record(name, value)
        if self._cluster_sizes is not None:
            sizes = self._cluster_sizes.double()
            if self.world_size > 1:  # the sizes over every rank's shard
                sizes = _dist.all_reduce_mean(sizes)
            self.history.record("cluster_entropy", normalised_entropy(sizes))
        super().on_epoch_end(net, **kwargs)

    def _sync_epoch(self) -> None:
        """End of a distributed epoch: the same batch norm statistics and the same batch
        losses on every rank, so that weights, ``history`` and any callback reading it
        (``EarlyStopping`` on ``train_loss``, say) agree; a rank that stopped alone
        would hang the others."""
        _dist.average_batch_norm_stats(self.all_modules())
        batches = self.history[-1]["batches"]
        if batches and all("train_loss" in b for b in batches):
            losses = torch.tensor([float(b["train_loss"]) for b in batches],
                                  device=self.device)
            for b, v in zip(batches, _dist.all_reduce_mean(losses).tolist()):
                b["train_loss"] = v

    # ------------------------------------------------------------------ optimisers
    def make_optimizer(self, name: str, module: nn.Module, **defaults) -> torch.optim.Optimizer:
        """Create the optimiser ``<name>_`` for ``module`` the skorch way.

        Arguments come from ``defaults`` overridden by the net's ``<name>__*`` parameters
        (``optimizer_critic__lr=1e-4`` in ``net_kwargs``, say), so ``set_params`` reaches
        every optimiser of a method, not only the main one. The class is Adam unless the net
        has an attribute ``<name>`` holding an optimiser class.
        """
        args, kwargs = self.get_params_for_optimizer(name, module.named_parameters())
        # skorch fills in the net's ``lr`` when no ``<name>__lr`` was given; the method's
        # own default for this optimiser (a GAN's lr, say) comes before it.
        explicit = self.get_params_for(name)
        cls = getattr(self, name, None)
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
            cls = torch.optim.Adam
        accepted = inspect.signature(cls).parameters
        for key, value in defaults.items():
            if key not in explicit and key in accepted:
                kwargs[key] = value
        opt = cls(*args, **kwargs)
        setattr(self, name + "_", opt)  # skorch registers it (device moves, set_params)
        return opt

    def _named_params_of(self, opt: torch.optim.Optimizer) -> list[tuple[str, Tensor]]:
        """``(name, parameter)`` pairs of what ``opt`` updates, named as in the net's modules
        (``critic.0.weight``); built once per optimiser."""
        cache = self.__dict__.setdefault("_param_names", {})
        if id(opt) not in cache:
            names = {id(p): n for m in self._modules
                     for n, p in getattr(self, m + "_").named_parameters(prefix=m)}
            cache[id(opt)] = [(names.get(id(p), "param"), p)
                              for g in opt.param_groups for p in g["params"]]
        return cache[id(opt)]

    def optimizer_step(self, terms: Mapping[str, Tensor], optimizer: str = "optimizer",
                       batch=None) -> Tensor:
        """The one place where every method's parameters are updated.

        ``zero_grad`` -> weighted sum of ``terms`` (recorded, checked for NaN) ->
        ``backward`` -> ``on_grad_computed`` (gradient clipping, logging callbacks) ->
        ``step`` of the optimiser ``<optimizer>_``. Critic, GAN and decoder updates go
        through here as well as the main one, so a gradient callback hooks a single
        method, and so does data-parallel training: in a distributed fit the gradients of
        the optimiser's parameters are averaged over the processes after ``backward``.

        Returns
        -------
        loss : Tensor
            The weighted loss, detached.
        """
        opt = getattr(self, optimizer + "_")
        opt.zero_grad(set_to_none=True)
        if self.world_size == 1:
            loss = self.total_loss(terms)
            loss.backward()
        else:
            # Data-parallel: average the gradients over the ranks here, between backward
            # and on_grad_computed / step, rather than by wrapping the modules in
            # DistributedDataParallel: the methods use their modules in several roles per
            # step (a critic inside a gradient-penalty double backward, a discriminator
            # inside the generator's loss, encoders on [x, T(x)]), which DDP's autograd
            # hooks handle badly (pytorch/pytorch#47562, #63812). An all-reduce mean of
            # the gradients is the arithmetic DDP does, and this is the one method every
            # optimiser goes through (Horovod's DistributedOptimizer hooks the same spot).
            # The loss's finiteness rides along in the same reduction, so that every rank
            # stops together when one diverges (a lone raise would hang the others).
            loss = self.get_loss(terms, None, training=True)
            loss.backward()
            bad = (~torch.isfinite(loss.detach())).float().reshape(1)
            bad = _dist.all_reduce_gradients([p for _, p in self._named_params_of(opt)], bad)
            if bad.item() > 0:
                self._diverged(terms, " on at least one process")
            self.record_terms(terms)
        self.notify("on_grad_computed", named_parameters=self._named_params_of(opt),
                    batch=batch)
        opt.step()
        return loss.detach()

    # ------------------------------------------------------------------ training
    #: Name of the current training stage (set by :class:`~skdeepclust.callbacks.
    #: TrainingStages`); ``None`` for methods trained in one stage.
    stage_: str | None = None

    def begin_stage(self, stage: str, dataset=None) -> None:
        """Called by :class:`~skdeepclust.callbacks.TrainingStages` before the first batch
        of stage ``stage`` (``dataset`` is the training data); prepare what the stage needs
        here (switch batch sizes, cache features ...)."""

    def train_step(self, batch, **fit_params):
        """One optimiser step on the terms of :meth:`compute_terms` (methods with several
        optimisers override this and call :meth:`optimizer_step` once per update)."""
        self._set_training(True)
        X, indices = unpack_data(batch)
        with self.autocast():
            terms = self.compute_terms(X, indices)
        return {"loss": self.optimizer_step(terms, batch=batch), "y_pred": None}
