"""Feature scaling, ``x' = (x - center) / scale``, fitted on the training split only.

The statistics come from scikit-learn's ``StandardScaler`` and
``MinMaxScaler`` (``fit`` in memory, ``partial_fit`` batch by batch when
streaming); neurona keeps only the two vectors, which is all a model file
needs to apply the same scaling at prediction. A feature with zero variance
(or zero range) gets ``scale = 1``, as scikit-learn does, so it is shifted
but never divided by zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import DataValueError, ModelFileError, OptionError

KINDS = ("none", "standard", "minmax")
#: The largest magnitude a scaled column may hold: its square (the variance's terms) and
#: its range must stay finite floats.
LARGEST = 1e150


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise OptionError(f"Unknown scaling {kind!r}; choose one of {', '.join(KINDS)}.")
    return kind


@dataclass
class Scaler:
    """An affine scaling of each feature: ``(X - center) / scale``.

    Parameters
    ----------
    kind : {"standard", "minmax"}
        How the vectors were fitted: mean and standard deviation, or minimum
        and range.
    center, scale : array-like of shape (n_features,)
        ``scale`` is positive; 1 for a feature that was constant.
    """

    kind: str
    center: np.ndarray
    scale: np.ndarray

    def __post_init__(self):
        self.center = np.asarray(self.center, dtype=np.float64)
        self.scale = np.asarray(self.scale, dtype=np.float64)

    @property
    def n_features(self) -> int:
        return self.center.shape[0]

    def transform(self, X) -> np.ndarray:
        """The scaled features (a new array)."""
        return (np.asarray(X, dtype=np.float64) - self.center) / self.scale

    def to_dict(self) -> dict:
        return {"kind": self.kind, "center": [float(c) for c in self.center],
                "scale": [float(s) for s in self.scale]}

    @classmethod
    def from_dict(cls, doc, n_features: int, where: str = "scaler") -> "Scaler":
        """Rebuild a scaler from a model file's ``scaler`` field, checking every value."""
        def fail(msg):
            raise ModelFileError(f"{where}: {msg}")

        if not isinstance(doc, dict):
            fail("scaler must be a JSON object.")
        if doc.get("kind") not in KINDS[1:]:
            fail(f"scaler kind {doc.get('kind')!r} is unknown; expected one of "
                 f"{', '.join(KINDS[1:])}.")
        vectors = {}
        for key in ("center", "scale"):
            v = doc.get(key)
            if (not isinstance(v, list) or len(v) != n_features
                    or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                               and math.isfinite(x) for x in v)):
                fail(f"scaler {key} must be a list of {n_features} finite numbers "
                     f"(one per feature).")
            vectors[key] = v
        if any(s <= 0 for s in vectors["scale"]):
            fail("scaler scale values must be positive.")
        return cls(doc["kind"], vectors["center"], vectors["scale"])


def _estimator(kind: str):
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    return StandardScaler() if kind == "standard" else MinMaxScaler()


def _from_estimator(kind: str, est) -> Scaler:
    if kind == "standard":
        return Scaler(kind, est.mean_, est.scale_)
    # MinMaxScaler maps x to x * scale_ + min_, with scale_ = 1 / range (range 0 -> 1).
    return Scaler(kind, est.data_min_, 1.0 / est.scale_)


#: Rows per slab of :func:`column_range`'s first reduction.
FOLD = 64


def column_range(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and the largest value of each column of the 2-D array ``X``.

    The numbers of ``X.min(axis=0)`` and ``X.max(axis=0)`` (an extreme is one of the
    values, whatever the order it is looked for in), found faster on a tall C-ordered
    array: its rows are cut into :data:`FOLD` slabs of consecutive rows, which are reduced
    element by element (long contiguous runs, where NumPy's reduction down the columns
    of a narrow array goes row by row); the slabs' result is then reduced the usual way.
    """
    n = len(X) // FOLD * FOLD
    if n == 0 or X.ndim != 2 or not X.flags.c_contiguous:
        return X.min(axis=0), X.max(axis=0)
    slabs = X[:n].reshape(FOLD, -1)
    low = slabs.min(axis=0).reshape(-1, X.shape[1]).min(axis=0)
    high = slabs.max(axis=0).reshape(-1, X.shape[1]).max(axis=0)
    if n < len(X):
        np.minimum(low, X[n:].min(axis=0), out=low)
        np.maximum(high, X[n:].max(axis=0), out=high)
    return low, high


def check_magnitude(X, names, where: str, largest=None) -> None:
    """Refuse a column whose values are too large to scale (beyond :data:`LARGEST`).

    ``largest``, when known, is each column's largest magnitude over the rows of ``X``.
    """
    if not len(X):
        return
    if largest is None:
        low, high = column_range(np.asarray(X))
        largest = np.maximum(-low, high)
    big = largest > LARGEST
    if big.any():
        j = int(np.argmax(big))
        raise DataValueError(
            f"{where}, column {names[j]!r}: values as large as {np.abs(X[:, j]).max():.3g} "
            f"cannot be scaled (their squares overflow a float); divide the column by a power "
            f"of ten, or train without scaling.", path=where, column=names[j])


def fit(kind: str, X, names=None, where: str = "the data") -> Scaler | None:
    """Fit a scaler of ``kind`` on ``X`` (the training split); None for ``"none"``.

    A column beyond :data:`LARGEST` is refused, naming ``where`` and its name in
    ``names`` (default ``x0``, ``x1``, ...).
    """
    if check_kind(kind) == "none":
        return None
    X = np.asarray(X, dtype=np.float64)
    check_magnitude(X, names or [f"x{j}" for j in range(X.shape[1])], where)
    return _from_estimator(kind, _estimator(kind).fit(X))


class StreamingFit:
    """Fit a scaler batch by batch (``partial_fit``), for data read in record batches.

    ``names`` and ``where`` name a column too large to scale (see :func:`fit`).
    """

    def __init__(self, kind: str, names=None, where: str = "the data"):
        self.kind = check_kind(kind)
        self._est = None if kind == "none" else _estimator(kind)
        self._fitted = False
        self.names, self.where = names, where

    def update(self, X: np.ndarray, largest=None) -> None:
        """Add the rows ``X``; ``largest``, when known, is each column's largest magnitude
        over them (see :func:`check_magnitude`)."""
        if self._est is not None and len(X):
            check_magnitude(X, self.names or [f"x{j}" for j in range(X.shape[1])], self.where,
                            largest)
            self._est.partial_fit(X)
            self._fitted = True

    def result(self) -> Scaler | None:
        if self._est is None or not self._fitted:
            return None
        return _from_estimator(self.kind, self._est)
