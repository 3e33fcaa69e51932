"""A data file read in record batches, with its split, target coding and scaling.

1. **One scan first.** :meth:`FileStream.scan` reads the file once: it checks
   every cell (so a bad row stops the run before any training), learns the
   target's two classes (a regression: checks its numbers), counts the rows of
   each part of the split and fits the scalers on the training rows
   (scikit-learn's ``partial_fit``).
2. **The split** is the per-row rule of :mod:`neurona.data.split`: row ``i``
   is a test row when ``row_uniform(i, seed) < test_size``, the same rows as
   a file loaded into memory or read by Dask.
3. **Passes**: :meth:`FileStream.part` gives a re-iterable pass over the
   training, test or all rows, batch by batch, each row with its position in
   the file; :class:`neurona.engines.stream.StreamEngine` trains on it.

Memory is one record batch (``readers.BATCH_ROWS`` rows, or one CSV block),
whatever the file's size.
"""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np

from ..errors import DataFileError, DataValueError, NeuronaError
from .readers import DataFile
from . import scaling
from .split import TEST_STREAM, check_class_rows, check_test_size, held_out
from .table import TableReading, check_constant, resolve_columns

MEMORY_FRACTION = 4       # the default memory budget is 1/4 of the physical memory
#: Rows per chunk when the rows of a part are counted (no data is read for it).
COUNT_CHUNK = 1 << 20


def default_memory_budget() -> int:
    """A quarter of the machine's physical memory, in bytes (1 GiB if unknown)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // MEMORY_FRACTION
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX
        return 1 << 30


class FileStream:
    """A data file read in record batches, with its split, label coding and scaling.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``, ``.csv.gz``, ``.parquet``, ``.npy`` or ``.npz`` file.
    target : str
        The target column.
    features : list of str, default=None
        The feature columns (default: every other column).
    delimiter, encoding : str, default=None
        For CSV files (see :class:`neurona.readers.DataFile`).
    test_size : float, default=0.0
        The probability that a row is a test row (see :mod:`neurona.data.split`).
    random_state : int, default=1
        The seed of the per-row split.
    classes : list, default=None
        Known classes (e.g. a model's); None: learned by :meth:`scan`.
    task : {"classify", "regress"}, default="classify"
        A regression's target is read as numbers (:class:`neurona.data.target.Numbers`).
    target_scaler : neurona.data.scaling.Scaler, default=None
        A regression's known target scaling (e.g. a model's); else fitted by
        :meth:`scan` when asked.
    rules : neurona.data.encoding.ColumnRules, default=ColumnRules()
        How text columns and missing values become features; the encoding is
        learned on the training rows by a first pass of :meth:`scan` when it
        needs statistics (categories, fill values), unless ``column_encoding``
        gives it (e.g. a model's).
    """

    def __init__(self, path, target: str, features=None, *, delimiter=None, encoding=None,
                 test_size: float = 0.0, random_state: int = 1, classes=None,
                 task: str = "classify", target_scaler=None, rules=None,
                 column_encoding=None):
        self.file = DataFile(path, delimiter=delimiter, encoding=encoding)
        self.features = resolve_columns(self.file, target, features)
        self.target, self.task = target, task
        self.reading = TableReading(self.file, target, self.features, task=task, rules=rules,
                                    classes=classes, encoding=column_encoding)
        self.labels = self.reading.coder
        if target_scaler is not None:
            self.labels.scaler = target_scaler
        self.test_size = check_test_size(test_size)
        self.random_state = 1 if random_state is None else int(random_state)
        self.classes = None if classes is None else list(self.labels.classes)
        self.scaler: scaling.Scaler | None = None
        self.n_rows = self.n_train = self.n_test = 0
        self.n_read = 0  # rows in the file, those left out for missing values included
        self.dropped = np.empty(0, dtype=np.int64)  # their positions
        self._scanned = False

    @property
    def encoding(self):
        """How the feature columns become the neuron's features (learned by :meth:`scan`)."""
        return self.reading.encoding

    @property
    def feature_names(self) -> list[str]:
        """The neuron's features: the encoding's names (``island=Biscoe``)."""
        return self.reading.encoding.feature_names

    @property
    def target_scaler(self) -> "scaling.Scaler | None":
        """A regression's target scaling (None for a classifier, or unscaled targets)."""
        return getattr(self.labels, "scaler", None)

    def is_test(self, rows: np.ndarray) -> np.ndarray:
        """Which of the rows at positions ``rows`` are test rows."""
        return held_out(rows, self.random_state, self.test_size, TEST_STREAM)

    def _tables(self):
        return self.reading.tables()

    def batches(self):
        """``(X, table, rows)`` of every kept row, batch by batch: the encoded features
        (not scaled), the batch's kept rows and their positions."""
        for row0, table in self._tables():
            yield self.reading.encode(table, row0)

    def scan(self, scale: str = "none", allow_constant: bool = False,
             scale_target: str = "none") -> "FileStream":
        """Read the file once: check it, learn the classes, count the parts, fit the scalers
        (``scale_target``: a regression's target, on its training rows)."""
        where = str(self.file.path)
        if self.reading.encoding is None:  # a first pass learns the categories and fills
            self.reading.fit(self._tables(), self.is_test)
        names = self.feature_names
        fit = scaling.StreamingFit(scale, names, where)
        fit_target = scaling.StreamingFit(scale_target, [self.target], where)
        low = np.full(len(names), np.inf)
        high = np.full(len(names), -np.inf)
        n = n_test = n_read = 0
        dropped = []
        counts: dict = {"train": {}, "test": {}}
        for row0, table in self._tables():
            size = table.num_rows
            n_read += size
            X, table, rows = self.reading.encode(table, row0)
            if len(rows) < size:  # rows left out for a missing value
                dropped.append(np.setdiff1d(np.arange(row0, row0 + size), rows))
            self.labels.observe(table, rows)
            test = self.is_test(rows)
            for part, keep in (("train", ~test), ("test", test)):
                for label, k in self.labels.count(table, keep).items():
                    counts[part][label] = counts[part].get(label, 0) + k
            fit.update(X[~test])
            if scale_target != "none":
                fit_target.update(self.labels.encode(table, rows, scaled=False)[~test, None])
            if len(X):
                np.minimum(low, X.min(axis=0), out=low)
                np.maximum(high, X.max(axis=0), out=high)
            n += len(X)
            n_test += int(test.sum())
        if n_read == 0:
            raise DataFileError(f"{self.file.path}: no data rows; add rows below the header.",
                                path=self.file.path)
        if n == 0:
            raise DataValueError(f"{self.file.path}: every row misses a value (--missing "
                                 f"{self.reading.rules.missing} left none); fill the cells in "
                                 f"or choose other columns.", path=self.file.path)
        self.n_read = n_read
        self.dropped = np.concatenate(dropped) if dropped else np.empty(0, dtype=np.int64)
        self.classes = self.labels.finish()
        check_class_rows(counts["train"], counts["test"], self.classes, self.test_size,
                         self.file.path)
        if not allow_constant:
            check_constant(self.file, None, names, low, high)
        self.n_rows, self.n_test, self.n_train = n, n_test, n - n_test
        self.scaler = fit.result()
        if scale_target != "none":
            self.labels.scaler = fit_target.result()
        self._scanned = True
        return self

    def part(self, which: str = "train", scaled: bool = True) -> "Pass":
        """A re-iterable pass over ``"train"``, ``"test"`` or ``"all"`` rows, as ``(X, y)``."""
        if which not in ("train", "test", "all"):
            raise ValueError(f"part must be 'train', 'test' or 'all', got {which!r}")
        if not self._scanned and self.classes is None:
            raise NeuronaError("call scan() before reading the stream's parts")
        return Pass(self, which, scaled)


class Pass:
    """One pass over part of a :class:`FileStream` per iteration: ``(X, y, rows)`` batches."""

    def __init__(self, stream: FileStream, which: str, scaled: bool):
        self.stream, self.which, self.scaled = stream, which, scaled
        self.n_rows = {"train": stream.n_train, "test": stream.n_test,
                       "all": stream.n_rows}[which]
        self.n_features = len(stream.feature_names)

    def _keep(self, rows: np.ndarray) -> np.ndarray | None:
        if self.which == "all":
            return None
        test = self.stream.is_test(rows)
        return test if self.which == "test" else ~test

    def with_rows(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Like iterating, with the 0-based file row index of every row as a third array."""
        s = self.stream
        for X, table, rows in s.batches():
            y = s.labels.encode(table, rows, scaled=self.scaled)
            keep = self._keep(rows)
            if keep is not None:
                X, y, rows = X[keep], y[keep], rows[keep]
            if self.scaled and s.scaler is not None:
                X = s.scaler.transform(X)
            if len(y):
                yield X, y, rows

    def positions(self) -> Iterator[np.ndarray]:
        """The file row indices of this part, in chunks, without reading the file (the
        rows left out for missing values excluded)."""
        total, dropped = self.stream.n_read, self.stream.dropped
        for row0 in range(0, total, COUNT_CHUNK):
            rows = np.arange(row0, min(row0 + COUNT_CHUNK, total))
            if len(dropped):
                rows = rows[~np.isin(rows, dropped)]
            keep = self._keep(rows)
            yield rows if keep is None else rows[keep]

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for X, y, _ in self.with_rows():
            yield X, y
