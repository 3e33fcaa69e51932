"""A data file read into memory: features, targets, and the checks of its columns.

:func:`read_data` reads a CSV, Parquet or NumPy file (see
:mod:`neurona.readers` for the formats and the checks); a classifier's target's
two labels become 0 and 1 in sorted order, and are kept in ``classes``; a
regression's target is read as numbers (see :mod:`neurona.data.target`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import DataFileError, DataValueError, OptionError
from .readers import DataFile, quote_list
from .target import target_coder


@dataclass
class Dataset:
    """Features, targets and what they mean, as read from a file.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,)
        A classifier's: 0 or 1 (int64), the index of each row's label in
        ``classes``; a regression's: the target's numbers (float64).
    feature_names : list of str
    classes : list or None
        The original labels of 0 and 1; None for a regression.
    target : str
        The name of the target column.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    classes: list
    target: str
    path: str = ""
    n_rows: int = field(init=False)

    def __post_init__(self):
        self.n_rows = len(self.y)

    @property
    def labels(self) -> np.ndarray:
        """Each row's original label (a regression's targets as they are)."""
        return self.y if self.classes is None else np.asarray(self.classes)[self.y]




def parse_names(text: str | None) -> list[str] | None:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; None stays None."""
    if text is None:
        return None
    return [name.strip() for name in text.split(",")]


def resolve_columns(datafile: DataFile, target: str | None, features=None) -> list[str]:
    """The feature columns: ``features`` checked, or every column but the target and
    a stored pandas index (:attr:`DataFile.index_columns`)."""
    if target is None:
        raise OptionError(f"{datafile.path}: name the target column (--target); columns "
                          f"found: {quote_list(datafile.columns)}.")
    datafile.check_columns([target], what="target column")
    if features is None:
        features = [c for c in datafile.columns
                    if c != target and c not in datafile.index_columns]
        if not features:
            index = (f" (the stored index {quote_list(datafile.index_columns)} is a "
                     f"feature only when named in --features)" if datafile.index_columns
                     else "")
            raise DataFileError(f"{datafile.path}: no feature columns besides the target "
                                f"{target!r}{index}.", path=datafile.path)
    else:
        features = list(features)
        if not features or any(not f for f in features):
            raise OptionError(f"--features {','.join(features)!r} has an empty name; list "
                              f"the columns separated by commas.")
        twice = sorted({f for f in features if features.count(f) > 1})
        if twice:
            raise OptionError(f"--features names {quote_list(twice)} more than once.")
        if target in features:
            raise OptionError(f"the target {target!r} cannot also be a feature; remove it "
                              f"from --features.")
        datafile.check_columns(features, what="feature column")
    datafile.check_columns(features, numeric=features)
    return features


def check_constant(datafile: DataFile, X: np.ndarray, features: list[str],
                   low=None, high=None) -> None:
    """Refuse a feature that has the same value in every row (it carries no information)."""
    low = X.min(axis=0) if low is None else low
    high = X.max(axis=0) if high is None else high
    for j, name in enumerate(features):
        if low[j] == high[j]:
            others = [f for f in features if f != name]
            hint = (f"leave it out with --features {','.join(others)}" if others
                    else "add a feature that varies")
            raise DataValueError(
                f"{datafile.path}, column {name!r}: the feature is constant (every row holds "
                f"{low[j]:g}), so it carries no information; {hint}.", path=datafile.path,
                column=name)


def read_data(path, target: str, features: list[str] | None = None, *,
              delimiter: str | None = None, encoding: str | None = None,
              allow_constant: bool = False, task: str = "classify") -> Dataset:
    """Read a data file into memory: the feature matrix and the target.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``, ``.csv.gz``, ``.parquet``, ``.npy`` or ``.npz`` file.
    target : str
        The target column: for ``task="classify"``, 0/1, booleans or any two
        distinct values; for ``task="regress"``, numbers (not all equal).
    features : list of str, default=None
        The feature columns (default: every other column), all numeric.
    delimiter, encoding : str, default="," and "utf-8"
        For CSV files.
    allow_constant : bool, default=False
        Accept a feature that has one value in every row.
    task : {"classify", "regress"}, default="classify"

    Raises
    ------
    neurona.errors.DataError
        A subclass naming the file, column and line of the first problem.
    """
    datafile = DataFile(path, delimiter=delimiter, encoding=encoding)
    features = resolve_columns(datafile, target, features)
    coder = target_coder(datafile, target, task)
    blocks, targets = [], []
    for row0, table in datafile.batches([*features, target], numeric=features):
        blocks.append(datafile.features(table, features, row0))
        coder.observe(table, row0)
        targets.append((row0, table.select([target])))
    if not blocks or sum(len(b) for b in blocks) == 0:
        raise DataFileError(f"{datafile.path}: no data rows; add rows below the header.",
                            path=datafile.path)
    classes = coder.finish()
    X = np.concatenate(blocks)
    y = np.concatenate([coder.encode(t, row0) for row0, t in targets])
    if classes is not None:
        y = y.astype(np.int64)
    if not allow_constant:
        check_constant(datafile, X, features)
    return Dataset(X, y, features, classes, target, str(path))

