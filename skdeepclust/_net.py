"""The shared skorch machinery: one ``NeuralNet`` subclass that all methods train through.

What the methods share lives here: batches sliced from a tensor that already sits on the
training device, a criterion that adds up named loss terms with their weights, the per-epoch
record of every term in ``history`` and a clear error when a term becomes NaN. A method subclasses :class:`ClusterNet` and writes ``compute_terms``
(and ``train_step`` when it alternates between several optimisers, e.g. a critic); every
update, whatever its optimiser, goes through :meth:`ClusterNet.optimizer_step`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager

import torch
from skorch import NeuralNet
from skorch.dataset import Dataset, unpack_data
from torch import Tensor, nn

from .augment import Augmentation

__all__ = ["ClusterNet", "DeviceBatches", "StreamBatches", "WeightedLoss", "batch_order"]


class DeviceBatches:
    """Mini-batches sliced from a tensor that already lives on the training device.

    No ``DataLoader`` workers, no per-sample ``__getitem__`` and no host-to-device copy per
    batch: each epoch draws one permutation (from ``generator``) on the device and slices it.
    A last batch of a single sample is skipped when shuffling, because batch norm cannot
    train on one sample; with a fresh permutation every epoch every sample is still seen.

    Yields ``(X_batch, indices)`` so that a method can keep per-sample state if it needs to.
    """

    def __init__(self, X: Tensor, batch_size: int, shuffle: bool, generator=None):
        self.X = X
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self) -> int:
        n, bs = len(self.X), self.batch_size
        n_batches = -(-n // bs)
        if self.shuffle and n > 1 and n % bs == 1:
            n_batches -= 1
        return n_batches

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        n = len(self.X)
        if self.shuffle:
            order = torch.randperm(n, device=self.X.device, generator=self.generator)
        else:
            order = torch.arange(n, device=self.X.device)
        for start in range(0, n, self.batch_size):
            idx = order[start:start + self.batch_size]
            if self.shuffle and len(idx) == 1 and n > 1:
                break
            yield self.X[idx], idx


def batch_order(n: int, batch_size: int, shuffle: bool,
                generator: torch.Generator | None = None) -> list[Tensor]:
    """The index batches of one epoch over ``n`` streamed samples.

    The same order as :class:`DeviceBatches` draws for a tensor of ``n`` rows (one
    ``randperm`` from ``generator`` on its device when shuffling), so a streamed fit and an
    in-memory fit see the same batches; a last batch of one sample is dropped when
    shuffling (batch norm cannot train on it). The one place that decides which samples an
    epoch visits, so that a distributed engine can shard it.
    """
    device = generator.device if generator is not None else torch.device("cpu")
    if shuffle:
        order = torch.randperm(n, device=device, generator=generator)
    else:
        order = torch.arange(n, device=device)
    batches = list(order.split(int(batch_size)))
    if shuffle and n > 1 and len(batches[-1]) == 1:
        batches.pop()
    return batches


class StreamBatches:
    """Mini-batches read, converted and moved to the device one at a time.

    The streaming counterpart of :class:`DeviceBatches` for data that is never copied
    whole (a memory map, a ``torch.utils.data.Dataset``): ``X`` is the estimator's
    internal ``StreamedData``, whose ``iter_batches`` turns index batches into
    network-space tensors on the device. The order comes from :func:`batch_order`. Yields
    ``(X_batch, indices)`` like :class:`DeviceBatches`, ``indices`` on the device.
    """

    def __init__(self, X, batch_size: int, shuffle: bool, generator=None):
        self.X = X
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self) -> int:
        n, bs = len(self.X), self.batch_size
        n_batches = -(-n // bs)
        if self.shuffle and n > 1 and n % bs == 1:
            n_batches -= 1
        return n_batches

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        batches = batch_order(len(self.X), self.batch_size, self.shuffle, self.generator)
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
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(self, module, *args, criterion=WeightedLoss, augmentation=None, seed=0,
                 precision="float32", channels_last=False, **kwargs):
        kwargs.setdefault("train_split", None)
        super().__init__(module, criterion, *args, **kwargs)
        self.augmentation = augmentation
        self.seed = seed
        self.precision = precision
        self.channels_last = channels_last

    # ------------------------------------------------------------------ set-up
    def initialize(self):
        self._param_names = {}  # optimisers are rebuilt: forget their parameter names
        super().initialize()
        self._generator = torch.Generator(device=self.device).manual_seed(int(self.seed))
        if self.channels_last:
            # Every registered module (module_, critic_, discriminator_ ...): only 4-D
            # tensors (conv weights) change layout.
            for name in self._modules:
                getattr(self, name + "_").to(memory_format=torch.channels_last)
        return self

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
        return state

    def get_iterator(self, dataset, training: bool = False):
        X = dataset.X if isinstance(dataset, Dataset) else dataset
        if hasattr(X, "iter_batches"):  # streamed data: read batch by batch
            # DataLoader workers for a Dataset, the skorch way:
            # net_kwargs={"iterator_train__num_workers": 4} (0, the default: none).
            X.num_workers = self.stream_workers(training)
            return StreamBatches(X, self.batch_size, shuffle=training,
                                 generator=getattr(self, "_generator", None))
        if not isinstance(X, Tensor):
            raise TypeError("ClusterNet trains on a torch.Tensor already on its device, or "
                            "on streamed data (skdeepclust._data.StreamedData).")
        return DeviceBatches(X, self.batch_size, shuffle=training,
                             generator=getattr(self, "_generator", None))

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
            bad = [k for k, v in terms.items() if not torch.isfinite(v).all()]
            epoch = len(self.history)
            raise FloatingPointError(
                f"Training diverged at epoch {epoch}: the loss term(s) {bad or list(terms)} "
                "became NaN or infinite. Lower `lr`, reduce the corresponding *_weight, or "
                "check the input for extreme values."
            )
        self.record_terms(terms)
        return loss

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

    def on_epoch_begin(self, net, **kwargs):
        super().on_epoch_begin(net, **kwargs)
        self._term_sums: dict[str, Tensor] = {}
        self._term_counts: dict[str, int] = {}

    def on_epoch_end(self, net, **kwargs):
        # One host sync per epoch for all terms, rather than one per term and batch.
        if self._term_sums:
            names = list(self._term_sums)
            means = torch.stack([self._term_sums[k] / self._term_counts[k] for k in names])
            for name, value in zip(names, means.tolist()):
                self.history.record(name, value)
        super().on_epoch_end(net, **kwargs)

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
        through here as well as the main one, so a distributed engine or a gradient
        callback has to hook a single method.

        Returns
        -------
        loss : Tensor
            The weighted loss, detached.
        """
        opt = getattr(self, optimizer + "_")
        opt.zero_grad(set_to_none=True)
        loss = self.total_loss(terms)
        loss.backward()
        self.notify("on_grad_computed", named_parameters=self._named_params_of(opt),
                    batch=batch)
        opt.step()
        return loss.detach()

    # ------------------------------------------------------------------ training
    def train_step(self, batch, **fit_params):
        """One optimiser step on the terms of :meth:`compute_terms` (methods with several
        optimisers override this and call :meth:`optimizer_step` once per update)."""
        self._set_training(True)
        X, indices = unpack_data(batch)
        with self.autocast():
            terms = self.compute_terms(X, indices)
        return {"loss": self.optimizer_step(terms, batch=batch), "y_pred": None}
