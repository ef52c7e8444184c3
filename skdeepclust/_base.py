"""The shared scikit-learn estimator that every method builds on.

:class:`BaseDeepClusterer` is a plain scikit-learn estimator. It validates input once, at the
edge, derives all randomness from ``random_state`` without touching the caller's global RNGs,
builds a skorch :class:`~skdeepclust._net.ClusterNet` inside ``fit`` and trains it on a tensor
that stays on the training device, or, for data too big to copy (a ``numpy.memmap``, a
``torch.utils.data.Dataset``), on batches read and converted one at a time
(:class:`~skdeepclust._data.StreamedData`). ``predict``, ``predict_proba``, ``transform``, ``sample``
and ``score`` share the same plumbing; a method supplies its networks, its net class, its loss
weights and a few hooks. ``get_feature_names_out`` (hence ``set_output``) follows
scikit-learn's class-name-prefix convention (``icae0``, ``icae1``, ...).
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Callable
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import torch
from skorch.callbacks import Callback, ProgressBar
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state

# scikit-learn's own constraint vocabulary (what its estimators declare in
# ``_parameter_constraints``; ``BaseEstimator._validate_params`` checks them).
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import Tensor

from . import _distributed
from . import augment as _augment
from ._data import (
    InputSpec,
    Scaling,
    StreamedData,
    check_input,
    fit_scaling_streamed,
    is_streamed,
    make_reader,
    reader_raw_shape,
    from_network_layout,
    resolve_image_shape,
    consecutive_batches,
    to_network_space,
)
from ._net import ClusterNet
from .callbacks import EpochProgress, LossWeightSchedule

__all__ = ["BaseDeepClusterer"]

#: Values of the ``precision`` parameter: plain float32, or bfloat16 autocast.
PRECISIONS = ("float32", "bfloat16")

# Constraints shared by the methods' ``_parameter_constraints``.
#: An int >= 1 (sizes, counts).
POSITIVE_INT = Interval(Integral, 1, None, closed="left")
#: An int >= 0.
NON_NEGATIVE_INT = Interval(Integral, 0, None, closed="left")
#: A number > 0 (learning rates, scales).
POSITIVE_REAL = Interval(Real, 0, None, closed="neither")
#: A number >= 0: every loss weight unless its method says otherwise (0 turns a term off).
WEIGHT = Interval(Real, 0, None, closed="left")
#: A probability-like rate in [0, 1).
RATE = Interval(Real, 0, 1, closed="left")
#: The ``encoder`` parameter of the methods whose paper has an encoder.
ENCODER = [callable, None]


def _draw_seed(random_state) -> int:
    """A 31-bit seed from ``random_state``.

    ``None`` draws from fresh OS entropy rather than from numpy's global generator, so that
    fitting never advances the caller's global random state.
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@contextmanager
def _torch_seeded(seed: int, device: torch.device):
    """Seed torch inside a forked RNG state, restored on exit.

    Module initialisation, dropout and user augmentation callables draw from torch's global
    generator; forking it keeps fits reproducible and leaves the caller's state unchanged.
    """
    devices = list(range(torch.cuda.device_count())) if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.random.manual_seed(seed)  # inside fork_rng: the caller's state is restored
        yield


@contextmanager
def _torch_threads(n_threads: int | None, device: torch.device):
    """Run torch's CPU kernels with ``n_threads`` intra-op threads, restored on exit.

    ``torch.set_num_threads`` is process-wide, so the caller's setting is put back even when
    the body raises. Nothing changes on a GPU or when ``n_threads`` is ``None``.
    """
    old = torch.get_num_threads()
    if n_threads is None or device.type != "cpu" or old == n_threads:
        yield
        return
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _resolve_device(device, distributed: bool = False) -> torch.device:
    """The training device; with ``distributed`` a bare ``"auto"`` / ``"cuda"`` means this
    process's GPU, ``cuda:LOCAL_RANK`` (torchrun starts one process per GPU)."""
    if distributed and torch.cuda.is_available() and (device is None or device in (
            "auto", "cuda")):
        return torch.device("cuda", _distributed.local_rank())
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu' or 'cuda'."
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but CUDA is not available; use 'auto'.")
    return dev


#: Rows of a full inference batch, on every device (on a CPU faster than 1,024: 0.46 s
#: against 0.78 s for DCCS's ``transform`` of 2,000 28x28 images, one thread; not timed on
#: a GPU).
_INFERENCE_ROWS = 256
#: A shorter batch runs in blocks of this many rows, the last one padded (see
#: :func:`_rows_exact`).
_EXACT_ROWS = 16


def _rows_exact(fn: Callable[[Tensor], Tensor], xb: Tensor) -> Tensor:
    """``fn(xb)``, where a batch of fewer than ``_INFERENCE_ROWS`` rows runs without oneDNN,
    in blocks of ``_EXACT_ROWS`` rows (the last padded by repeating its last row, the
    padding's outputs dropped), so that a row's outputs do not depend on the rows around it.

    float32 CPU kernels round differently with the shape of a batch and with a sample's
    place in it: a matrix product runs with other kernels for other numbers of rows (a
    matrix-vector product for one), and oneDNN's convolutions tile the pixels of the whole
    batch together, so the same image gets other last bits at another position.
    scikit-learn's ``check_methods_subset_invariance`` predicts one sample at a time and
    allows 1e-7; padding short batches to 8 rows passed it on an AMD EPYC, but on an Intel
    Xeon DCCS's outputs still moved by 8.3e-7. PyTorch's native convolutions compute each
    sample on its own, and blocks of one size keep the matrix kernels the same, so a
    sample gets the same bits alone, in a few or in 255 (``tests/test_base.py``), with no
    float64 copy of the model. Full batches keep oneDNN, about 4x faster on 28x28
    convolutions (one thread), and agree with the short-batch path to float32 rounding.
    """
    n = len(xb)
    if n >= _INFERENCE_ROWS:
        return fn(xb)
    k = _EXACT_ROWS
    if n % k:
        channels_last = (xb.ndim == 4 and not xb.is_contiguous()
                         and xb.is_contiguous(memory_format=torch.channels_last))
        xb = torch.cat([xb, xb[-1:].expand(k - n % k, *xb.shape[1:])])
        if channels_last:  # torch.cat returns the default layout; keep the net's
            xb = xb.contiguous(memory_format=torch.channels_last)
    with _native_cpu_kernels(xb.device):
        return torch.cat([fn(xb[i:i + k]) for i in range(0, len(xb), k)])[:n]


_onednn_lock = threading.Lock()
_onednn_users = 0
_onednn_saved = True


@contextmanager
def _native_cpu_kernels(device: torch.device):
    """PyTorch's own CPU kernels instead of oneDNN's inside the block (CPU only).

    ``torch.backends.mkldnn.enabled`` is a process-wide switch: it is restored when the
    last thread inside such a block leaves it (a counted lock, so that concurrent
    predictions in several threads cannot leave it off). Other torch work running in the
    process at the same time also runs without oneDNN meanwhile (slower, same results).
    """
    global _onednn_users, _onednn_saved
    if device.type != "cpu":
        yield
        return
    with _onednn_lock:
        if _onednn_users == 0:
            _onednn_saved = torch.backends.mkldnn.enabled
            torch.backends.mkldnn.enabled = False
        _onednn_users += 1
    try:
        yield
    finally:
        with _onednn_lock:
            _onednn_users -= 1
            if _onednn_users == 0:
                torch.backends.mkldnn.enabled = _onednn_saved


class BaseDeepClusterer(ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin,
                        BaseEstimator):
    """Base class of the deep clustering estimators (not for direct use).

    Subclasses define ``__init__`` with the common parameters (``n_clusters``,
    ``max_epochs``, ``batch_size``, ``lr``, ``device``, ``precision``, ``channels_last``,
    ``random_state``, ``n_init``, ``n_threads``, ``verbose``, ``callbacks``, ``image_shape``,
    ``augmentation``, ``distributed``, ``net_kwargs``) plus their own, and
    implement:

    - ``_net_class`` : the :class:`ClusterNet` subclass;
    - ``_build_module(spec)`` : the network(s) for an :class:`InputSpec`;
    - ``_net_params(spec)`` : extra keyword arguments of the net (loss weights, optimiser);
    - ``_auto_max_epochs(spec)`` : the epoch budget for ``max_epochs="auto"``;
    - ``_n_transform_features()`` : the number of columns ``transform`` returns (it names
      them); by default the module's ``latent_dim``.

    Inference belongs to the trained net (:class:`~skdeepclust._net.ClusterNet`'s
    ``cluster_proba``, ``embed``, ``sample_score``, ``generate``): the estimator batches the
    data and converts the results, and keeps no second model.
    """

    #: scikit-learn's declaration of the valid parameter values, checked once at the start
    #: of ``fit``; each method extends it with its own parameters (as ``KMeans`` extends
    #: ``_BaseKMeans``'s). Rules that involve the data (``n_clusters`` against the number
    #: of samples, ``image_shape`` against the features) are checked with the data.
    _parameter_constraints: dict = {
        "n_clusters": [POSITIVE_INT],
        "max_epochs": [POSITIVE_INT, StrOptions({"auto"})],
        "batch_size": [POSITIVE_INT],
        "lr": [POSITIVE_REAL],
        "augmentation": [StrOptions({"auto", *_augment.PRESETS}), callable, None],
        "image_shape": [tuple, list, StrOptions({"tabular"}), None],
        "device": [str, torch.device, None],
        "precision": [StrOptions(set(PRECISIONS))],
        "channels_last": ["boolean", StrOptions({"auto"})],
        "random_state": ["random_state"],
        "n_threads": [POSITIVE_INT, None],
        "n_init": [POSITIVE_INT],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
        "net_kwargs": [dict, None],
        "distributed": ["boolean"],
    }

    _net_class: type[ClusterNet] = ClusterNet
    #: Parameters added after model files may have been written, each with the value that
    #: builds the networks those files hold (``skdeepclust.load`` fills them in when a file
    #: lacks them, so an older file still loads as the model it was).
    _former_defaults: dict = {}
    #: Value range of image inputs as the networks see them.
    _image_range: tuple[float, float] = (0.0, 1.0)
    #: Batch size used for inference.
    _inference_batch_size: int = _INFERENCE_ROWS

    # ------------------------------------------------------------------ hooks
    def _build_module(self, spec: InputSpec) -> torch.nn.Module:
        raise NotImplementedError

    def _net_params(self, spec: InputSpec) -> dict:
        return {}

    def _auto_max_epochs(self, spec: InputSpec) -> int:
        raise NotImplementedError

    def _default_augmentation(self, spec: InputSpec):
        if not spec.is_image:
            return _augment.preset("tabular")
        return _augment.preset("digits" if spec.channels == 1 else "natural")

    # Inference belongs to the trained net (ClusterNet.cluster_proba, embed, sample_score,
    # generate); the estimator only batches the data, sets eval mode and converts.
    def _proba(self, x: Tensor) -> Tensor:
        return self.net_.cluster_proba(x)

    def _embed(self, x: Tensor) -> Tensor:
        return self.net_.embed(x)

    def _n_transform_features(self) -> int:
        # Read from the fitted module rather than from a parameter (set_params after fit
        # must not change the names) and without running the network.
        return int(self.net_.module_.latent_dim)

    def _generate(self, n: int, clusters: Tensor, generator: torch.Generator,
                  cluster: int | None) -> Tensor | tuple[Tensor, Tensor]:
        return self.net_.generate(clusters, generator, cluster)

    def _score_batch(self, x: Tensor) -> Tensor:
        return self.net_.sample_score(x)

    def _user_encoder(self, spec: InputSpec,
                      shape: tuple[int, ...] | None = None) -> tuple[torch.nn.Module, int] | None:
        """The user's ``encoder`` parameter as ``(network, feature size)``, or ``None``.

        A module is deep-copied (each fit trains its own copy and the parameter stays
        untouched, as scikit-learn expects); a callable is called with the shape of one
        network-space sample, ``(C, H, W)`` for images or ``(n_features,)`` for tabular
        data (``shape`` when the method feeds the encoder something else, e.g. grey images).
        The feature size comes from one forward pass on zeros in eval mode.
        """
        enc = getattr(self, "encoder", None)
        if enc is None:
            return None
        shape = tuple(spec.tensor_shape if shape is None else shape)
        if isinstance(enc, torch.nn.Module):
            module = copy.deepcopy(enc)
        elif callable(enc):
            module = enc(shape)
            if not isinstance(module, torch.nn.Module):
                raise TypeError(
                    "encoder, when a callable, must return a torch.nn.Module built for the "
                    f"input shape it receives; got {type(module).__name__}."
                )
        else:
            raise TypeError(
                "encoder must be None, a torch.nn.Module or a callable that builds one from "
                f"the input shape; got {type(enc).__name__}."
            )
        was = module.training
        module.eval()  # batch norm: no running-statistics update from the probe
        with torch.no_grad():
            out = module(torch.zeros((2, *shape)))
        module.train(was)
        if not isinstance(out, Tensor) or out.ndim != 2:
            raise ValueError(
                f"encoder must map a batch of shape (N, *{shape}) to "
                f"features of shape (N, F); got {getattr(out, 'shape', type(out))}."
            )
        return module, int(out.shape[1])

    def _after_fit(self, X_net: Tensor) -> None:
        """Set method-specific fitted attributes (``cluster_centers_`` ...)."""

    def _validate_method_params(self, spec: InputSpec) -> None:
        """Check what ``_parameter_constraints`` cannot say (rules between parameters or
        with the data); called in ``fit`` after the constraints."""

    # ------------------------------------------------------------------ validation
    def _validate_common_params(self, n_samples: int) -> None:
        # InvalidParameterError (a ValueError and a TypeError) naming the parameter, the
        # estimator and the accepted values.
        self._validate_params()
        if self.n_clusters > n_samples >= 1:
            raise ValueError(
                f"n_clusters={self.n_clusters} is larger than the number of samples "
                f"({n_samples}). Use fewer clusters or more data."
            )

    def _resolve_augmentation(self, spec: InputSpec):
        aug = self.augmentation
        if aug is None:
            return None
        if isinstance(aug, str):
            if aug == "auto":
                return self._default_augmentation(spec)
            return _augment.preset(aug)
        if callable(aug):
            return copy.deepcopy(aug) if isinstance(aug, _augment.Augmentation) else aug
        raise TypeError(
            "augmentation must be 'auto', a preset name, None, or a callable mapping a "
            f"batch tensor to an augmented batch; got {type(aug).__name__}."
        )

    def _check_X(self, X, *, reset: bool) -> np.ndarray | StreamedData:
        """Validate ``X`` and return it in network layout and scale (float32, a copy).

        Data too big to copy (a ``torch.utils.data.Dataset``, a ``numpy.memmap``, an array
        whose float32 copy would be huge) comes back as a :class:`StreamedData` instead,
        which converts one batch at a time.
        """
        if is_streamed(X):
            return self._check_streamed(X, reset=reset)
        X2, raw_shape = check_input(
            self, X, reset=reset, image_shape=None if reset else self.image_shape_
        )
        if reset:
            image_shape = resolve_image_shape(self.image_shape, X2.shape[1], raw_shape)
            self.image_shape_ = image_shape
            self._raw_shape = raw_shape
            spec = InputSpec(X2.shape[1], image_shape, len(X2))
            self._scaling = Scaling.fit(X2, spec.is_image)
        else:
            spec = self._spec(len(X2))
        return to_network_space(X2, self._scaling, spec, self._image_range)

    def _check_streamed(self, X, *, reset: bool) -> StreamedData:
        """:meth:`_check_X` for streamed data: validate the layout and learn the scaling in
        one pass over chunks (``fit``), without ever holding the whole data set."""
        reader = make_reader(X)
        raw_shape = reader_raw_shape(reader)
        n_features = math.prod(reader.item_shape)
        if reset:
            if len(reader) < 2:
                raise ValueError(
                    f"Found {len(reader)} sample(s), but fitting needs at least 2."
                )
            for attr in ("feature_names_in_",):  # a Dataset has no column names
                if hasattr(self, attr):
                    delattr(self, attr)
            self.n_features_in_ = n_features
            image_shape = resolve_image_shape(self.image_shape, n_features, raw_shape)
            self.image_shape_ = image_shape
            self._raw_shape = raw_shape
            spec = InputSpec(n_features, image_shape, len(reader))
            self._scaling = fit_scaling_streamed(reader, spec.is_image)
        else:
            if n_features != self.n_features_in_:
                raise ValueError(
                    f"X has {n_features} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
            if raw_shape is not None and self.image_shape_ is not None:
                h, w, c = self.image_shape_
                if tuple(raw_shape) not in {(h, w, c)} | ({(h, w)} if c == 1 else set()):
                    raise ValueError(
                        f"X holds images of shape {tuple(reader.item_shape)}, but the "
                        f"estimator was fitted on images of shape {tuple(self.image_shape_)} "
                        "(H, W, C)."
                    )
            spec = self._spec(len(reader))
        device = self.net_.device if hasattr(self, "net_") and not reset else "cpu"
        # In fit, the scaling pass has checked every row for NaN / inf; the device and the
        # layout are set once the fit has resolved the device.
        return StreamedData(reader, self._scaling, spec, self._image_range, device=device,
                            channels_last=self._channels_last(spec, device),
                            check_finite=not reset)

    def _channels_last(self, spec: InputSpec, device) -> bool:
        """Whether image batches and convolution weights use the channels-last layout:
        never for tabular data; with ``"auto"``, for images on a CPU, where oneDNN's
        convolutions ran faster in it (``benchmarks/results/cpu/channels_last.jsonl``);
        on a GPU ``"auto"`` keeps the default layout (not measured there)."""
        if not spec.is_image:
            return False
        if isinstance(self.channels_last, str):  # "auto"
            return torch.device(device).type == "cpu"
        return bool(self.channels_last)

    def _spec(self, n_samples: int) -> InputSpec:
        return InputSpec(self.n_features_in_, self.image_shape_, n_samples)

    # ------------------------------------------------------------------ fit
    def _method_callbacks(self, spec: InputSpec,
                          max_epochs: int) -> list[tuple[str, Callback]]:
        """The method's own ``(name, callback)`` pairs (training stages, weight schedules),
        run before the user's callbacks so that those see the epoch's stage and weights."""
        return []

    def _weight_schedules(self, max_epochs: int) -> dict[str, list[tuple[int, float]]]:
        """Loss weights that change during the fit: ``{term: [(first_epoch, weight), ...]}``
        (epochs counted from 1, the first pair at epoch 1), each applied by a
        :class:`~skdeepclust.callbacks.LossWeightSchedule` named ``"<term>_schedule"``."""
        return {}

    def _make_net(self, spec: InputSpec, seed: int, device: torch.device,
                  world_size: int = 1) -> ClusterNet:
        max_epochs = (
            self._auto_max_epochs(spec) if self.max_epochs == "auto" else int(self.max_epochs)
        )
        schedules = self._weight_schedules(max_epochs)
        callbacks = [(f"{term}_schedule", LossWeightSchedule(term, milestones))
                     for term, milestones in schedules.items()]
        callbacks += self._method_callbacks(spec, max_epochs)
        callbacks += [copy.deepcopy(cb) for cb in (self.callbacks or [])]
        # verbose 1: one bar over the epochs; 2: skorch's table of every loss term per
        # epoch; 3: the table and a bar over the batches of each epoch. In a distributed
        # fit only rank 0 prints (the others would print the same, averaged, values).
        verbose = int(self.verbose) if _distributed.rank() == 0 or world_size == 1 else 0
        if verbose == 1:
            callbacks.append(EpochProgress(desc=type(self).__name__))
        if verbose >= 3:
            callbacks.append(ProgressBar())
        params = dict(
            module=self._build_module(spec),
            augmentation=self._resolve_augmentation(spec),
            seed=seed,
            max_epochs=max_epochs,
            batch_size=min(int(self.batch_size), spec.n_samples),
            lr=float(self.lr),
            optimizer=torch.optim.Adam,
            device=str(device),
            precision=self.precision,
            channels_last=self._channels_last(spec, device),
            verbose=int(verbose >= 2),  # skorch prints its epoch table when verbose
            callbacks=callbacks,
            distributed=world_size > 1,
        )
        params.update(self._net_params(spec))
        if schedules:  # the first epoch's weights, so that the net starts from them
            params["criterion__weights"] = {
                **params.get("criterion__weights", {}),
                **{term: milestones[0][1] for term, milestones in schedules.items()}}
        params.update(self.net_kwargs or {})
        return self._net_class(**params)

    def _setup_distributed(self, spec: InputSpec, device: torch.device) -> int:
        """Join (or create) the process group when ``distributed=True``; the world size.

        1 for a single process (``distributed=False``, or no torchrun / ``WORLD_SIZE=1``):
        the fit is then exactly a non-distributed one.
        """
        if not self.distributed or not _distributed.init_process_group(device):
            return 1
        _distributed.check_backend(device)
        world = _distributed.world_size()
        # Every rank must train on the same data: each takes its shard of the same
        # permutation, and a rank with other data (or more batches) would hang the others.
        shapes = [tuple(v) for v in _distributed.all_gather_ints(
            (spec.n_samples, spec.n_features), device)]
        if len(set(shapes)) > 1:
            raise ValueError(
                "With distributed=True every process must call fit with the same data (each "
                "trains on its own shard of it); the processes got (n_samples, n_features) "
                f"= {shapes}."
            )
        sizes = {"batch_size": self.batch_size}
        sizes.update({k: v for k, v in self._distributed_batch_sizes().items()})
        for name, size in sizes.items():
            if min(int(size), spec.n_samples) < world:
                raise ValueError(
                    f"{name}={size} (on {spec.n_samples} samples) is smaller than the number "
                    f"of processes ({world}): {name} is the global batch, split evenly over "
                    f"the processes. Use {name} >= {world}, ideally a multiple of it."
                )
        return world

    def _distributed_batch_sizes(self) -> dict[str, int]:
        """Other global batch sizes of the method, split over the processes like
        ``batch_size`` (checked against the world size)."""
        return {}

    def _init_seeds(self, seed: int) -> list[int]:
        """One seed per initialisation: ``seed`` first (so ``n_init=1`` is the plain fit),
        then seeds drawn from it (the same on every rank, as ``seed`` is)."""
        extra = np.random.RandomState(seed).randint(0, 2**31 - 1, size=int(self.n_init) - 1)
        return [seed, *(int(s) for s in extra)]

    def _fit(self, X) -> Tensor:
        """Fit and return the training data as a network-space tensor on the device."""
        # A fit that raises leaves the estimator as it was (fitted or not), whichever of
        # its n_init fits failed.
        previous = dict(vars(self))
        try:
            return self._fit_inits(X)
        except BaseException:
            vars(self).clear()
            vars(self).update(previous)
            raise

    def _fit_inits(self, X) -> Tensor:
        X_net = self._check_X(X, reset=True)
        spec = self._spec(len(X_net))
        self._validate_common_params(spec.n_samples)
        self._validate_method_params(spec)
        device = _resolve_device(self.device, bool(self.distributed))
        world = self._setup_distributed(spec, device)
        seed = _draw_seed(self.random_state)
        if world > 1:
            # random_state=None draws fresh entropy on each rank: take rank 0's, so that all
            # ranks initialise alike and shard the same permutations.
            seed = _distributed.broadcast_ints([seed], device)[0]
        if isinstance(X_net, StreamedData):
            X_t = X_net  # read batch by batch, never copied whole
            X_t.device = device
            X_t.channels_last = self._channels_last(spec, device)
        else:
            X_t = torch.from_numpy(X_net).to(device)
            if self._channels_last(spec, device) and X_t.ndim == 4:
                # Converted once: batches sliced from it keep the format (no copy per batch).
                X_t = X_t.contiguous(memory_format=torch.channels_last)
        best, best_score = None, -math.inf
        for init_seed in self._init_seeds(seed):
            with _torch_seeded(init_seed, device), _torch_threads(self.n_threads, device):
                net = self._make_net(spec, init_seed, device, world)
                if world > 1:
                    # The networks are built (and rank 0's copied to all at the start); from
                    # here torch's RNG serves per-sample draws (dropout, augmentation
                    # callables), which should differ between ranks, as the net's own
                    # generator does.
                    torch.random.manual_seed(init_seed + _distributed.rank())
                net.fit(X_t)
                interrupted = bool(getattr(net, "interrupted_", False))
                if best is not None and interrupted:
                    break  # Ctrl-C: keep the best finished fit and stop
                self.net_ = net
                self._after_fit(X_t)
                if self.n_init == 1 or interrupted:
                    break
                # KMeans' rule: keep the fit with the best objective, here score() on the
                # training data (label-free, higher is better; NaN counts as the worst).
                score = self._mean_score(X_t)
                score = -math.inf if math.isnan(score) else score
                better = best is None or score > best_score
                # Rank 0 decides, so that every rank keeps the same fit even where their
                # scores differ in the last bits.
                better = bool(_distributed.broadcast_ints([int(better)], device)[0])
            if better:
                # The fitted attributes, net_ and what _after_fit set: restored as they are
                # rather than recomputed.
                best, best_score = {k: v for k, v in vars(self).items() if k.endswith("_")}, score
            else:
                vars(self).update(best)  # drop this net now: at most two nets at a time
        if best is not None:
            vars(self).update(best)
        with _torch_threads(self.n_threads, device):
            self.history_ = self.net_.history
            # One history row per epoch run, so this counts early-stopped fits correctly.
            self.n_iter_ = len(self.history_)
            self.labels_ = self._predict_net(X_t)
        return X_t

    def fit(self, X, y=None):
        """Fit the model to ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, H, W) or \
                (n_samples, H, W, C), numpy.memmap or torch.utils.data.Dataset
            Training data: flattened samples (see ``image_shape``) or an image array.
            Any numeric dtype and value range; the scaling is learned here. A memory map
            (or an array whose float32 copy would exceed 2 GiB) and a ``Dataset`` whose
            items are ``(C, H, W)`` images (tensors or arrays; or ``(image, anything)``
            tuples) are streamed batch by batch, never copied whole (see "Large data" in
            the user guide).
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._fit(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit the model to ``X`` and return its latent features.

        Same result as ``fit(X).transform(X)``, but ``X`` is validated and moved to the
        device only once.

        Parameters
        ----------
        X : array-like, numpy.memmap or torch.utils.data.Dataset
            Training data, as in :meth:`fit`.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features_out)
            Latent features, float32 (a DataFrame after ``set_output(transform="pandas")``).
        """
        X_t = self._fit(X)
        return self._apply(X_t, self._embed, dtype=np.float32)

    # ------------------------------------------------------------------ inference
    def _apply(self, X: Tensor | np.ndarray | StreamedData, fn: Callable[[Tensor], Tensor],
               dtype) -> np.ndarray:
        """Run ``fn`` over ``X`` in large batches, in eval mode, without autograd."""
        net = self.net_
        device = torch.device(net.device)
        net._set_training(False)
        outs = []
        if isinstance(X, StreamedData):
            X.device = device
            X.num_workers = net.stream_workers(training=False)
        batches = consecutive_batches(X, self._inference_batch_size)
        with torch.inference_mode(), net.autocast(), _torch_threads(self.n_threads, device):
            for xb in batches:
                xb = net.to_memory_format(torch.as_tensor(xb).to(device, non_blocking=True))
                outs.append(_rows_exact(fn, xb).float().cpu())
        return torch.cat(outs).numpy().astype(dtype, copy=False)

    def _predict_net(self, X: Tensor | np.ndarray) -> np.ndarray:
        return self._apply(X, lambda x: self._proba(x).argmax(dim=1), dtype=np.int64)

    def _check_fitted_X(self, X) -> np.ndarray:
        check_is_fitted(self, "net_")
        return self._check_X(X, reset=False)

    def predict(self, X):
        """Cluster index of each sample.

        Parameters
        ----------
        X : array-like, numpy.memmap or torch.utils.data.Dataset
            New data, in any input type :meth:`fit` accepts, with images of the fitted
            shape.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Index of the cluster each sample belongs to.
        """
        return self._predict_net(self._check_fitted_X(X))

    def predict_proba(self, X):
        """Soft cluster assignments.

        Parameters
        ----------
        X : array-like, numpy.memmap or torch.utils.data.Dataset
            New data, in any input type :meth:`fit` accepts, with images of the fitted
            shape.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_clusters)
            Rows sum to one; ``predict`` is their argmax.
        """
        return self._apply(self._check_fitted_X(X), self._proba, dtype=np.float64)

    def transform(self, X):
        """Latent features of ``X`` (what the method clusters in).

        Parameters
        ----------
        X : array-like, numpy.memmap or torch.utils.data.Dataset
            New data, in any input type :meth:`fit` accepts, with images of the fitted
            shape.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features_out)
            Latent features, float32 (a DataFrame after ``set_output(transform="pandas")``);
            :meth:`get_feature_names_out` names the columns.
        """
        return self._apply(self._check_fitted_X(X), self._embed, dtype=np.float32)

    @property
    def _n_features_out(self) -> int:
        """Number of columns of :meth:`transform`, read by ``get_feature_names_out``.

        A property rather than an attribute set in ``fit``: what ``transform`` returns can
        change after fitting (GANIM's ``transform_mode`` through ``set_params``). Before
        ``fit`` it raises ``NotFittedError`` (an ``AttributeError``), which is how
        scikit-learn's ``check_is_fitted(self, "_n_features_out")`` sees it as missing.
        """
        check_is_fitted(self, "net_")
        return int(self._n_transform_features())

    def score(self, X, y=None):
        """Unsupervised goodness of fit on ``X``; higher is better.

        What it measures is method-specific and documented in each estimator's ``Notes``;
        it never uses ``y`` and does not depend on the loss weights, so ``GridSearchCV``
        can compare settings with it. When labels are available, prefer a labelled scorer
        such as ``skdeepclust.metrics.accuracy_scorer``.

        Parameters
        ----------
        X : array-like, numpy.memmap or torch.utils.data.Dataset
            Data to score.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        score : float
        """
        return self._mean_score(self._check_fitted_X(X))

    def _mean_score(self, X_net) -> float:
        """``score`` of validated, network-space data (also what ``n_init`` ranks by)."""
        return float(self._apply(X_net, self._score_batch, dtype=np.float64).mean())

    def sample(self, n_samples: int = 1, cluster: int | None = None):
        """Generate samples from the fitted model.

        Draws are reproducible for an integer ``random_state`` (as with
        :meth:`sklearn.mixture.GaussianMixture.sample`).

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples to generate.
        cluster : int or None, default=None
            Generate from this cluster only; ``None`` spreads the samples evenly over the
            clusters.

        Returns
        -------
        X : ndarray
            Generated samples in the layout (2-D or image array), value range and dtype of
            the data given to ``fit``.
        y : ndarray of shape (n_samples,)
            Cluster of each sample.
        """
        check_is_fitted(self, "net_")
        if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
        k = self.n_clusters
        if cluster is not None and (
            not isinstance(cluster, Integral) or isinstance(cluster, bool)
            or not 0 <= cluster < k
        ):
            raise ValueError(f"cluster must be None or an int in [0, {k - 1}], got {cluster!r}.")
        device = torch.device(self.net_.device)
        seed = _draw_seed(self.random_state)
        gen = torch.Generator(device=device).manual_seed(seed)
        if cluster is None:
            clusters = torch.arange(n_samples, device=device) % k
        else:
            clusters = torch.full((n_samples,), int(cluster), device=device)
        self.net_._set_training(False)
        with (_torch_seeded(seed, device), torch.inference_mode(), self.net_.autocast(),
              _torch_threads(self.n_threads, device)):
            out = self._generate(n_samples, clusters, gen, cluster)
            if isinstance(out, tuple):  # methods that label what they generate
                x, clusters = out
            else:
                x = out
        x = x.float().cpu().numpy()
        spec = self._spec(n_samples)
        if spec.is_image:
            lo, hi = self._image_range
            x = (x - lo) / (hi - lo)
            x = np.clip(x, 0.0, 1.0)
        X = self._scaling.inverse_transform(from_network_layout(x, spec, None))
        if self._raw_shape is not None:
            X = X.reshape((n_samples,) + tuple(self._raw_shape))
        return X, clusters.cpu().numpy().astype(np.int64)

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Save the fitted model to ``path`` as data only; read it with
        :func:`skdeepclust.load`.

        Unlike a pickle, the file runs no code when it is loaded: it holds the parameters
        and fitted attributes as JSON and the networks' weights as tensors, read with
        ``torch.load(..., weights_only=True)``. Pickle and joblib keep working as well, for
        models this format cannot hold.

        Parameters
        ----------
        path : str or path-like
            File to write (replaced if it exists); the command line uses ``model.skdc``.

        Raises
        ------
        TypeError
            If a parameter is not plain data (a callable augmentation, ``callbacks``, classes
            in ``net_kwargs``, a ``RandomState`` instance ...) or the estimator is a
            subclass: such models must be saved with pickle or joblib.

        See Also
        --------
        skdeepclust.load : Read the file back.
        """
        from ._persist import save

        save(self, path)

    # ------------------------------------------------------------------ sklearn
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.input_tags.three_d_array = True
        return tags

    @staticmethod
    def _sized_base_channels(spec: InputSpec, base_channels: int | None) -> int:
        """A conv trunk's first width, with ``None`` sized to the image: 32 under 16 pixels
        (8x8 digits), 16 from 16 pixels, where the full-resolution layers dominate a step
        (measured for ICAE and VariationalClustering on MNIST; see their parameters)."""
        if base_channels is not None:
            return int(base_channels)
        return 32 if spec.is_image and min(spec.image_shape[:2]) < 16 else 16

    @staticmethod
    def _epochs_for_steps(spec: InputSpec, batch_size: int, steps: int, low: int,
                          high: int) -> int:
        """Epochs that give about ``steps`` optimiser steps, clipped to ``[low, high]``."""
        per_epoch = max(1, math.ceil(spec.n_samples / max(1, min(batch_size, spec.n_samples))))
        return int(min(high, max(low, round(steps / per_epoch))))
