"""The one registry of the estimators: read by :func:`skdeepclust.load` and the command line.

Class names are what a saved model records (see :mod:`skdeepclust._persist`); the short
method names are the command line's ``--method`` values.
"""

from __future__ import annotations

from .dccs import DCCS
from .ganim import GANIM
from .icae import ICAE
from .variational import VariationalClustering

__all__ = ["ESTIMATORS", "METHODS", "estimator_class"]

#: Class name -> estimator class, for every public estimator.
ESTIMATORS = {cls.__name__: cls for cls in (DCCS, GANIM, ICAE, VariationalClustering)}

#: Short method name (the command line's ``--method``) -> class name.
METHODS = {"dccs": "DCCS", "ganim": "GANIM", "icae": "ICAE",
           "variational": "VariationalClustering"}


def estimator_class(name: str) -> type:
    """The estimator class called ``name`` (a class name or a short method name).

    Raises
    ------
    ValueError
        If no estimator has that name.
    """
    cls = ESTIMATORS.get(METHODS.get(name, name))
    if cls is None:
        raise ValueError(
            f"Unknown estimator {name!r}; known estimators: {sorted(ESTIMATORS)} "
            f"(or the method names {sorted(METHODS)})."
        )
    return cls
