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
from .encoding import ColumnRules, Encoding, arrow_mask, missing_rows, nulls
from .readers import DataFile, quote_list
from .split import TEST_STREAM, held_out
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
    #: How the raw columns became the features (see :mod:`neurona.data.encoding`).
    encoding: Encoding | None = None
    #: The kept rows' positions in the file, and how many rows were left out (missing values).
    rows: np.ndarray | None = None
    n_dropped: int = 0

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


class TableReading:
    """A data file's rows as the neuron's features and targets, batch by batch.

    The target is coded by :func:`~neurona.data.target.target_coder`, the
    feature columns encoded by an :class:`~neurona.data.encoding.Encoding`
    (given, e.g. a model's, or learned by :meth:`fit` on the training rows).
    Unless ``rules.missing`` is ``"error"``, a row whose target is missing is
    left out, as is, with ``"drop"``, a row missing a feature; every row keeps
    its position in the file, which the split and the messages use.

    Parameters
    ----------
    datafile : DataFile
    target : str
    features : list of str
    task : {"classify", "regress"}
    rules : neurona.data.encoding.ColumnRules, default=ColumnRules()
    classes : list, default=None
        A classifier's known classes.
    encoding : Encoding, default=None
        A known encoding; None: learned by :meth:`fit`.
    """

    def __init__(self, datafile: DataFile, target: str, features: list[str], *,
                 task: str = "classify", rules: ColumnRules | None = None, classes=None,
                 encoding: Encoding | None = None):
        self.file, self.target, self.features = datafile, target, list(features)
        self.rules = rules or ColumnRules()
        self.kinds = encoding.kinds if encoding is not None else \
            datafile.column_kinds(self.features)
        self.coder = target_coder(datafile, target, task, classes)
        self.encoding = encoding
        if encoding is None and not self.rules.needs_fit(self.kinds):
            self.encoding = self.rules.fit(self.kinds, datafile).result()

    def tables(self):
        """``(row0, table)`` batches of the feature and target columns, raw."""
        return self.file.batches([*self.features, self.target], kinds=self.kinds)

    def present(self, table, row0: int) -> tuple:
        """``(table, rows)``: the batch without the rows whose target is missing (unless
        missing values are errors), and the kept rows' positions."""
        rows = np.arange(row0, row0 + table.num_rows)
        if self.rules.missing == "error" or not table.column(self.target).null_count:
            return table, rows
        keep = ~nulls(table.column(self.target))
        return table.filter(arrow_mask(keep)), rows[keep]

    def fit(self, batches, is_test) -> Encoding:
        """Learn the encoding from the training rows of ``batches`` (``(row0, table)``
        pairs); ``is_test(rows)`` marks the test rows by position."""
        fit = self.rules.fit(self.kinds, self.file)
        for row0, table in batches:
            table, rows = self.present(table, row0)
            keep = ~is_test(rows)
            if self.rules.missing == "drop":
                keep &= ~missing_rows(table, self.kinds)
            fit.update(table if keep.all() else table.filter(arrow_mask(keep)))
        self.encoding = fit.result()
        return self.encoding

    def encode(self, table, row0: int) -> tuple:
        """``(X, table, rows)``: the batch's features, the batch's kept rows (their target
        column for the coder) and their positions."""
        table, rows = self.present(table, row0)
        X, keep = self.encoding.transform(table, self.file, rows, training=True)
        if not keep.all():
            table, rows = table.filter(arrow_mask(keep)), rows[keep]
        return X, table, rows


def read_data(path, target: str, features: list[str] | None = None, *,
              delimiter: str | None = None, encoding: str | None = None,
              allow_constant: bool = False, task: str = "classify",
              rules: ColumnRules | None = None, test_size: float = 0.0,
              random_state: int | None = 1) -> Dataset:
    """Read a data file into memory: the feature matrix and the target.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``, ``.csv.gz``, ``.parquet``, ``.npy`` or ``.npz`` file.
    target : str
        The target column: for ``task="classify"``, 0/1, booleans or any two
        distinct values; for ``task="regress"``, numbers (not all equal).
    features : list of str, default=None
        The feature columns (default: every other column): numbers, booleans,
        text or categories (see :mod:`neurona.data.encoding`).
    delimiter, encoding : str, default="," and "utf-8"
        For CSV files.
    allow_constant : bool, default=False
        Accept a feature that has one value in every row.
    task : {"classify", "regress"}, default="classify"
    rules : neurona.data.encoding.ColumnRules, default=ColumnRules()
        Missing values, unknown categories, hashed columns.
    test_size, random_state : float and int
        The per-row split (:mod:`neurona.data.split`) whose training rows the
        encoding learns from; the test rows are read but never learned from.

    Raises
    ------
    neurona.errors.DataError
        A subclass naming the file, column and line of the first problem.
    """
    datafile = DataFile(path, delimiter=delimiter, encoding=encoding)
    features = resolve_columns(datafile, target, features)
    reading = TableReading(datafile, target, features, task=task, rules=rules)
    tables = list(reading.tables())
    n_read = sum(t.num_rows for _, t in tables)
    if n_read == 0:
        raise DataFileError(f"{datafile.path}: no data rows; add rows below the header.",
                            path=datafile.path)
    seed = 1 if random_state is None else random_state
    if reading.encoding is None:
        reading.fit(tables, lambda rows: held_out(rows, seed, test_size, TEST_STREAM))
    coder = reading.coder
    blocks, kept = [], []
    for row0, table in tables:
        X, table, rows = reading.encode(table, row0)
        coder.observe(table, rows)
        blocks.append(X)
        kept.append((table, rows))
    positions = np.concatenate([rows for _, rows in kept])
    if len(positions) == 0:
        raise DataValueError(f"{datafile.path}: every row misses a value (--missing "
                             f"{reading.rules.missing} left none); fill the cells in or choose "
                             f"other columns.", path=datafile.path)
    classes = coder.finish()
    X = np.concatenate(blocks)
    y = np.concatenate([coder.encode(t, rows) for t, rows in kept])
    if classes is not None:
        y = y.astype(np.int64)
    names = reading.encoding.feature_names
    if not allow_constant:
        check_constant(datafile, X, names)
    return Dataset(X, y, names, classes, target, str(path), encoding=reading.encoding,
                   rows=positions, n_dropped=n_read - len(positions))
