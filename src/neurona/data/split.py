"""Train/test and validation splits.

Two rules. The built-in datasets (the post's experiment among them) are split
by scikit-learn's ``train_test_split``, so the post's numbers are its own.
Data read from a file, and every validation split, are split **per row**: row
``i`` goes to the held-out part when ``row_uniform(i, seed) < fraction``, a
counter-based hash of the seed and the row's position in the file
(SplitMix64). The rule needs no memory and does not depend on how the rows are
cut into batches or partitions, so a file loaded into memory, streamed in
record batches or read by Dask is split into the same rows for the same seed.
Each row is drawn independently of its class: class proportions are kept in
expectation, and the sizes are ``fraction`` of the rows in expectation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataValueError, OptionError

SPLIT_DEFAULTS = dict(test_size=0.3, random_state=1)
#: Streams of :func:`row_uniform`: one per use, so the draws are independent.
TEST_STREAM, SAMPLE_STREAM, VALIDATION_STREAM = 0, 1, 2
#: Rows kept of data too large to keep, for a run's figures (about this many).
SAMPLE_ROWS = 2_000

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def row_uniform(rows: np.ndarray, seed: int, stream: int = TEST_STREAM) -> np.ndarray:
    """A uniform number in [0, 1) for each row index: SplitMix64 of the seed and the index.

    The same ``(seed, stream, row)`` always gives the same number, whatever
    the batches the rows arrive in.
    """
    key = np.random.SeedSequence([int(seed) & (2**63 - 1), stream]).generate_state(1, np.uint64)
    z = (np.asarray(rows, dtype=np.uint64) + np.uint64(1)) * _GAMMA + key
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def held_out(rows: np.ndarray, seed: int, fraction: float,
             stream: int = TEST_STREAM) -> np.ndarray:
    """Which of the rows (by position) fall in the held-out part: ``row_uniform < fraction``."""
    if not fraction:
        return np.zeros(len(rows), dtype=bool)
    return row_uniform(rows, seed, stream) < fraction


@dataclass
class Split:
    """A train/test split of a dataset, with the feature names.

    ``classes`` holds the original labels of 0 and 1 when the data had others.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    classes: list | None = None
    #: The training rows' positions in their file (the per-row split), or None.
    rows_train: np.ndarray | None = None
    #: How a file's raw columns became the features, and how many rows were left out for
    #: missing values (see :mod:`neurona.data.encoding`); None for arrays.
    encoding: object = None
    n_dropped: int = 0


def check_test_size(test_size: float) -> float:
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) \
            or not (0 <= test_size < 1):
        raise OptionError(f"test_size must be a fraction in [0, 1), got {test_size!r}; "
                          f"0 trains on every row.")
    return float(test_size)


def split(X, y, test_size: float = 0.3, random_state: int | None = 1,
          feature_names: list[str] | None = None, *, stratify: bool = False,
          classes: list | None = None) -> Split:
    """Split ``(X, y)`` with scikit-learn's ``train_test_split``.

    ``test_size=0`` keeps every row for training (the test arrays are
    empty); ``stratify=True`` keeps the class proportions in both parts.
    """
    from sklearn.model_selection import train_test_split

    names = list(feature_names or [f"x{i}" for i in range(np.shape(X)[1])])
    if check_test_size(test_size) == 0:
        X, y = np.asarray(X), np.asarray(y)
        return Split(X, X[:0], y, y[:0], names, classes)
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=test_size, random_state=random_state,
            stratify=y if stratify else None)
    except ValueError as exc:
        raise OptionError(f"cannot split {len(y)} rows with test_size={test_size}"
                          f"{' and stratify' if stratify else ''}: {exc}") from None
    return Split(X_train, X_test, y_train, y_test, names, classes)




def split_rows(X, y, test_size: float = 0.3, random_state: int | None = 1,
               feature_names: list[str] | None = None, *, classes: list | None = None,
               rows: np.ndarray | None = None) -> Split:
    """Split ``(X, y)`` by the per-row rule: row ``i`` is a test row when its draw is below ``test_size``.

    ``rows`` are the rows' positions in their file (default ``0 .. n-1``).
    """
    names = list(feature_names or [f"x{i}" for i in range(np.shape(X)[1])])
    X, y = np.asarray(X), np.asarray(y)
    rows = np.arange(len(y)) if rows is None else rows
    test = held_out(rows, 1 if random_state is None else random_state,
                    check_test_size(test_size))
    return Split(X[~test], X[test], y[~test], y[test], names, classes, rows[~test])


def check_class_rows(train: dict, test: dict, classes, test_size: float, path) -> None:
    """Refuse a split that leaves a class without training rows, or the test part empty.

    ``train`` and ``test`` count the rows of each class (by label) in each part; a
    regression's (``classes=None``) count its rows under the key None.
    """
    if classes is None and not sum(train.values()):
        raise DataValueError(
            f"{path}: the split leaves no training rows ({sum(test.values())} test rows); "
            f"lower --test-size or add rows.", path=path)
    for label in classes or ():
        if not train.get(label):
            total = train.get(label, 0) + test.get(label, 0)
            raise DataValueError(
                f"{path}: the split leaves no training row of class {label!r} ({total} "
                f"row(s) of it in all); a classifier needs rows of both classes to train: "
                f"lower --test-size, change --random-state or add rows of that class.",
                path=path)
    if test_size and not sum(test.values()):
        raise DataValueError(
            f"{path}: the split leaves no test rows (test_size={test_size}); raise "
            f"--test-size, or pass --test-size 0 to train on every row without a test "
            f"report.", path=path)


class RowSample:
    """About ``size`` rows of a pass whose length is known only at its end: the rows whose
    draw (:func:`row_uniform`, :data:`SAMPLE_STREAM`) is below ``size / n``.

    Those are the rows a second pass would choose once ``n`` is known. While the rows
    come, a row is kept while its draw is below ``size / (rows seen so far)``, a bound
    that only falls, so the kept rows always hold the final ones (about ``size`` of
    them, whatever the pass's length); :meth:`result` keeps those below ``size / n``.
    """

    def __init__(self, size: int, seed: int):
        self.size, self.seed = size, seed
        self.seen = 0
        self._draws = np.empty(0)
        self._parts: list | None = None

    def __len__(self) -> int:
        """The rows kept so far."""
        return len(self._draws)

    def add(self, rows: np.ndarray, *arrays: np.ndarray) -> None:
        """Offer the rows at positions ``rows``, each array holding their values in order."""
        self.seen += len(rows)
        draws = row_uniform(rows, self.seed, SAMPLE_STREAM)
        chosen = draws < self._bound(self.seen)
        new = [a[chosen] for a in arrays]
        if self._parts is None:
            self._parts = new
            self._draws = draws[chosen]
        else:
            self._parts = [np.concatenate([old, a]) for old, a in zip(self._parts, new)]
            self._draws = np.concatenate([self._draws, draws[chosen]])
        self._keep(self._bound(self.seen))

    def _bound(self, n: int) -> float:
        return min(1.0, self.size / max(n, 1))

    def _keep(self, bound: float) -> None:
        if len(self._draws) and self._draws.max() >= bound:
            kept = self._draws < bound
            self._draws = self._draws[kept]
            self._parts = [a[kept] for a in self._parts]

    def result(self, n: int) -> list:
        """The arrays of the rows chosen from a pass of ``n`` rows, in the order they came."""
        if self._parts is None:
            raise ValueError("no rows were offered")
        self._keep(self._bound(n))
        return list(self._parts)
