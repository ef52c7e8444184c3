"""Weights-only saving and loading: ``est.save(path)`` and :func:`skdeepclust.load`.

Loading a pickle runs code, so a pickled model is only as safe as its source. A model file
written here holds data only, and is read back with ``torch.load(..., weights_only=True)``:
PyTorch's restricted unpickler, which builds tensors, strings, numbers, lists and dicts and
nothing else. Classes are never named by the file: the estimator comes from the registry of
the four estimators (:mod:`skdeepclust._registry`), augmentations from the classes of
:mod:`skdeepclust.augment`.

The file is one ``torch.save`` of a dict (a zip archive)::

    format               "skdeepclust.model"
    format_version       FORMAT_VERSION (an int; newer files are refused with a clear error)
    skdeepclust_version  the package version that wrote the file
    torch_version        the PyTorch version that wrote the file
    class                the estimator's class name, e.g. "ICAE"
    params               get_params(deep=False) as JSON text
                         (a parameter added since the file was written gets the
                         value of the class's ``_former_defaults``, which builds the
                         networks the file holds)
    attributes           the fitted attributes as JSON text (arrays are references)
    arrays               {name: tensor}: the numeric arrays of the fitted attributes
    history              skorch's History (one dict per epoch) as JSON text
    net                  {"seed", "n_samples", "criterion_weights" (JSON text),
                          "state_dicts": {module name: state_dict}}

What the estimators set in ``fit`` and what happens to it:

- every estimator (``_check_X`` and ``_fit`` in ``_base.py``): ``n_features_in_``,
  ``feature_names_in_`` (with string column names), ``image_shape_``, ``_raw_shape``,
  ``_scaling`` (the learned value scaling), ``labels_`` are saved; ``net_`` is rebuilt
  from the parameters as ``fit`` builds it, then receives the saved ``state_dict`` of every
  skorch module (``module_``, and ``critic_``, ``discriminator_``, ``decoder_``,
  ``generator_`` where the method has them) and the criterion's loss weights;
  ``history_`` is saved as JSON;
- ICAE: ``centroids_``, ``cluster_centers_`` (also a buffer of ``module_``);
- VariationalClustering: ``likelihood_``, ``prior_means_``, ``prior_variances_``,
  ``cluster_centers_``;
- DCCS: nothing beyond the networks;
- GANIM: ``head_losses_``, ``best_head_``; the classifier's feature standardisation is a
  buffer of ``module_`` and the batch-norm statistics are buffers of the discriminator and
  generator; the training cache of features is not needed for inference.

Every other fitted attribute is saved generically (numbers, strings, tuples, arrays), so a
new attribute is either saved or makes :meth:`save` fail loudly; it is never dropped in
silence. Optimiser states are not saved: a loaded model predicts, transforms, scores and
samples like the original, and ``fit`` trains it again from scratch, as on any estimator.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
from skorch.history import History

from . import augment as _augment
from ._base import BaseDeepClusterer, _resolve_device, _torch_seeded
from ._data import InputSpec, Scaling
from ._net import WeightedLoss

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "load", "save"]

#: Written in every model file; a file without it is not a skdeepclust model.
FORMAT_NAME = "skdeepclust.model"
#: Version of the file layout. Raise it when the layout changes in a way that older
#: versions of skdeepclust cannot read; they then refuse the file with a clear error.
FORMAT_VERSION = 1

#: Augmentation classes that may be saved by name (user subclasses must be pickled).
_AUGMENTATIONS = {
    name: obj for name in _augment.__all__
    if isinstance(obj := getattr(_augment, name), type)
    and issubclass(obj, _augment.Augmentation) and obj is not _augment.Augmentation
}

_PICKLE_HINT = (
    "Save this model with pickle or joblib instead (``joblib.dump(est, path)``); they keep "
    "any Python object, but loading them runs code, so load only files you trust."
)


class _Unsaveable(TypeError):
    """A value that the JSON encoding cannot represent (carries where it was found)."""


# ---------------------------------------------------------------------- JSON encoding
# Every JSON object written is a tag with one key, so that decoding is unambiguous and
# tuples, dicts, arrays and augmentations come back as the same types.
def _encode(value, arrays: dict, where: str):
    """``value`` as JSON data; numeric arrays go to ``arrays`` and are referenced by name."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise _Unsaveable(f"{where} is a dict with keys that are not strings")
        return {"__dict__": {k: _encode(v, arrays, f"{where}[{k!r}]") for k, v in value.items()}}
    if isinstance(value, np.ndarray):
        if value.dtype == object and all(isinstance(v, str) for v in value.ravel()):
            # feature_names_in_: an object array of column names.
            return {"__str_array__": value.tolist()}
        try:
            tensor = torch.from_numpy(np.ascontiguousarray(value)).clone()
        except TypeError:
            raise _Unsaveable(f"{where} is an array of dtype {value.dtype}") from None
        name = f"a{len(arrays)}"
        arrays[name] = tensor
        return {"__array__": name}
    if isinstance(value, np.dtype):
        return {"__dtype__": value.str}
    if isinstance(value, Scaling):
        return {"__scaling__": {"offset": _encode(value.offset, arrays, where + ".offset"),
                                "scale": _encode(value.scale, arrays, where + ".scale"),
                                "dtype": _encode(np.dtype(value.dtype), arrays, where)}}
    if isinstance(value, _augment.Augmentation):
        name = type(value).__name__
        if _AUGMENTATIONS.get(name) is not type(value):
            raise _Unsaveable(
                f"{where} is an augmentation of class {type(value).__qualname__}, which is "
                "not one of skdeepclust.augment's classes")
        return {"__augmentation__": [name, _encode(value._params(), arrays, where)]}
    raise _Unsaveable(f"{where} is {_describe(value)}")


def _describe(value) -> str:
    if isinstance(value, type):
        return f"the class {value.__module__}.{value.__qualname__}"
    if callable(value) and hasattr(value, "__qualname__"):
        return f"the function {getattr(value, '__module__', '?')}.{value.__qualname__}"
    return f"a {type(value).__module__}.{type(value).__qualname__} instance"


def _decode(data, arrays: dict):
    if isinstance(data, list):
        return [_decode(v, arrays) for v in data]
    if not isinstance(data, dict):
        return data
    if len(data) != 1:
        raise ValueError(f"unexpected JSON object with keys {sorted(data)}")
    (tag, body), = data.items()
    if tag == "__tuple__":
        return tuple(_decode(v, arrays) for v in body)
    if tag == "__dict__":
        return {k: _decode(v, arrays) for k, v in body.items()}
    if tag == "__array__":
        return arrays[body].numpy()
    if tag == "__str_array__":
        return np.asarray(body, dtype=object)
    if tag == "__dtype__":
        return np.dtype(body)
    if tag == "__scaling__":
        parts = {k: _decode(v, arrays) for k, v in body.items()}
        return Scaling(offset=parts["offset"], scale=parts["scale"], dtype=parts["dtype"])
    if tag == "__augmentation__":
        name, params = body
        if name not in _AUGMENTATIONS:
            raise ValueError(f"unknown augmentation class {name!r}")
        return _AUGMENTATIONS[name](**_decode(params, arrays))
    raise ValueError(f"unknown tag {tag!r}")


def _history_default(value):
    """JSON fallback for history entries: numbers from numpy / torch scalars, else text."""
    if isinstance(value, (np.generic, torch.Tensor)) and np.size(value) == 1:
        return value.item()
    return repr(value)


# ---------------------------------------------------------------------- save
def _registry():
    from ._registry import ESTIMATORS  # imported late: the estimators import _base

    return ESTIMATORS


def save(estimator: BaseDeepClusterer, path) -> None:
    """Write a fitted estimator to ``path`` in the weights-only format (see module doc).

    The implementation of :meth:`BaseDeepClusterer.save`.
    """
    name = type(estimator).__name__
    if _registry().get(name) is not type(estimator):
        raise TypeError(
            f"save() supports the skdeepclust estimators {sorted(_registry())}, not "
            f"{type(estimator).__qualname__} (a subclass may build other networks). "
            + _PICKLE_HINT
        )
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "net_")
    arrays: dict[str, torch.Tensor] = {}
    params = estimator.get_params(deep=False)
    try:
        params_json = {k: _encode(v, arrays, k) for k, v in params.items()}
    except _Unsaveable as exc:
        raise TypeError(
            f"{name}.save() stores the parameters as JSON data, but the parameter {exc} "
            "(callables, classes, callbacks, modules and RandomState instances cannot be "
            "stored as data; augmentation presets and skdeepclust.augment objects can). "
            + _PICKLE_HINT
        ) from None
    skip = set(params) | {"net_", "history_"}
    try:
        attributes = {k: _encode(v, arrays, k) for k, v in vars(estimator).items()
                      if k not in skip}
    except _Unsaveable as exc:
        raise TypeError(f"{name}.save() cannot store the fitted attribute {exc}. "
                        + _PICKLE_HINT) from None
    net = estimator.net_
    state_dicts = {
        m: {k: v.detach().cpu() for k, v in getattr(net, m + "_").state_dict().items()}
        for m in list(net._modules) + list(net._criteria)
    }
    weights = {c: dict(crit.weights) for c in net._criteria
               if isinstance(crit := getattr(net, c + "_"), WeightedLoss)}
    from . import __version__

    payload = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "skdeepclust_version": __version__,
        "torch_version": str(torch.__version__),
        "class": name,
        "params": json.dumps(params_json),
        "attributes": json.dumps(attributes),
        "arrays": arrays,
        "history": json.dumps(list(estimator.history_), default=_history_default),
        "net": {
            "seed": int(net.seed),
            "n_samples": int(len(estimator.labels_)),
            "criterion_weights": json.dumps(weights),
            "state_dicts": state_dicts,
        },
    }
    # Written to memory first: a failure leaves no half-written file at ``path``.
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    Path(path).write_bytes(buffer.getvalue())


# ---------------------------------------------------------------------- load
def _not_a_model(path, why: str) -> ValueError:
    return ValueError(
        f"{os.fspath(path)!s} is not a skdeepclust model file ({why}). Model files are "
        "written by est.save(path) or 'skdeepclust cluster'; a pickle or joblib file is "
        "read with joblib.load (which runs code: only for files you trust)."
    )


def load(path, device="auto") -> BaseDeepClusterer:
    """Load a model written by :meth:`~skdeepclust.ICAE.save` (any estimator's ``save``).

    The file is read with ``torch.load(..., weights_only=True)`` and JSON: loading never
    runs code from the file, unlike :mod:`pickle` or :mod:`joblib`. The estimator is rebuilt
    with its saved parameters, its networks are built as ``fit`` builds them (without
    training) and receive the saved weights, and the fitted attributes are restored, so
    ``predict``, ``predict_proba``, ``transform``, ``score`` and ``sample`` give the results
    of the saved model.

    Parameters
    ----------
    path : str or path-like
        A file written by ``save``.
    device : str, default="auto"
        Torch device to load the networks on, as the estimators' ``device`` parameter:
        ``"auto"`` uses CUDA when it is available, else the CPU. A model trained on a GPU
        loads on the CPU. The estimator's ``device`` parameter keeps its saved value (it is
        what a new ``fit`` uses).

    Returns
    -------
    estimator : ICAE, VariationalClustering, DCCS or GANIM
        The fitted estimator. Its ``history_`` is restored; optimiser states are not saved.

    Raises
    ------
    ValueError
        If ``path`` is not a skdeepclust model file (for example a pickle), was written by
        a newer version of the file format, names an unknown estimator, or holds weights
        that do not fit the estimator's networks.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_digits
    >>> import skdeepclust
    >>> X = load_digits().data[:200]
    >>> icae = skdeepclust.ICAE(n_clusters=10, max_epochs=1, random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "icae.skdc")
    >>> icae.save(path)
    >>> loaded = skdeepclust.load(path, device="cpu")
    >>> bool((loaded.predict(X) == icae.predict(X)).all())
    True
    """
    dev = _resolve_device(device)
    with open(path, "rb") as f:  # a missing file raises the usual FileNotFoundError
        raw = f.read()
    # torch.save writes zip archives; anything else (a pickle, JSON, random bytes) is
    # refused before torch.load, whose legacy path would otherwise try to unpickle it.
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise _not_a_model(path, "it is not an archive written by torch.save; it may be a "
                                 "pickle")
    try:
        # CPU first: the weights are copied into networks already on ``dev``, and the
        # arrays of the fitted attributes are needed on the host anyway.
        payload = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for foreign archives
        reason = ("it holds Python objects other than tensors and plain data"
                  if "Weights only load failed" in str(exc) else
                  "it is a zip archive but not one written by torch.save")
        raise _not_a_model(path, reason) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise _not_a_model(path, "it has no skdeepclust model header")
    version = payload.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _not_a_model(path, f"invalid format version {version!r}")
    written_by = payload.get("skdeepclust_version", "unknown")
    if version > FORMAT_VERSION:
        from . import __version__

        raise ValueError(
            f"{os.fspath(path)!s} uses model format version {version} (written by "
            f"skdeepclust {written_by}), but this skdeepclust ({__version__}) reads format "
            f"versions up to {FORMAT_VERSION}. Upgrade skdeepclust to load it."
        )
    name = payload.get("class")
    cls = _registry().get(name)
    if cls is None:
        raise ValueError(
            f"{os.fspath(path)!s} holds a model of class {name!r}, which is not a "
            f"skdeepclust estimator of this version ({sorted(_registry())})."
        )
    try:
        arrays = payload["arrays"]
        params = {k: _decode(v, arrays) for k, v in json.loads(payload["params"]).items()}
        attributes = {k: _decode(v, arrays)
                      for k, v in json.loads(payload["attributes"]).items()}
        history = json.loads(payload["history"])
        net_info = payload["net"]
        weights = json.loads(net_info["criterion_weights"])
        state_dicts = net_info["state_dicts"]
        seed, n_samples = int(net_info["seed"]), int(net_info["n_samples"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _not_a_model(path, f"its contents are damaged: {exc}") from exc

    # A file written before a parameter existed builds its networks as that parameter's
    # former behaviour did, not as today's default would.
    params = {**cls._former_defaults, **params}
    unknown = sorted(set(params) - set(cls().get_params(deep=False)))
    if unknown:
        raise ValueError(
            f"{os.fspath(path)!s} was written by skdeepclust {written_by} with parameters "
            f"{unknown} that {name} of this version does not have; load it with the version "
            "that wrote it."
        )
    est = cls(**params)
    for key, value in attributes.items():
        setattr(est, key, value)
    spec = InputSpec(est.n_features_in_, est.image_shape_, n_samples)
    # Built exactly as _fit builds it, under the same seeded, forked RNG (module builders
    # may draw from torch's RNG; the caller's state stays untouched), but not trained.
    with _torch_seeded(seed, dev):
        net = est._make_net(spec, seed, dev)
        net.initialize()
    try:
        if sorted(state_dicts) != sorted(list(net._modules) + list(net._criteria)):
            raise RuntimeError(
                f"the file has networks {sorted(state_dicts)}, the estimator "
                f"{sorted(list(net._modules) + list(net._criteria))}")
        for module_name, state in state_dicts.items():
            getattr(net, module_name + "_").load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(
            f"The weights in {os.fspath(path)!s} (written by skdeepclust {written_by}) do not "
            f"fit the networks {name} builds from its parameters in this version (or a "
            f"parameter that sizes the networks was changed with set_params after fit): {exc}"
        ) from exc
    for crit_name, crit_weights in weights.items():
        getattr(net, crit_name + "_").weights = dict(crit_weights)
    net.history = History(history)
    est.net_ = net
    est.history_ = net.history
    return est
