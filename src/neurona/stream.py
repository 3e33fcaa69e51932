"""Training on data larger than memory: the file is read in record batches, every epoch.

The scheme
----------
1. **One scan first.** :meth:`FileStream.scan` reads the file once: it checks
   every cell (so a bad row stops the run before any training), learns the
   target's two classes, counts the rows of each part of the split and fits
   the scaler on the training rows (scikit-learn's ``partial_fit``).
2. **The split** is a per-row draw: row ``i`` is a test row when
   ``u(seed, i) < test_size``, with ``u`` a counter-based hash of the seed and
   the row's index (SplitMix64). It needs no memory, does not depend on how
   the file is cut into batches, and is the same every epoch. Each row is
   drawn independently of its class, so the class proportions of both parts
   equal the file's in expectation; the sizes are ``test_size`` of the rows
   in expectation, not exactly as with ``train_test_split``.
3. **Full-batch gradient descent** (``batch_size=None``):
   :func:`accumulate_gradient` sums ``forward_backward(..., reduction="sum")``
   over the batches and scales once by ``1/n`` for ``"mean"``, so an epoch
   takes exactly the step that in-memory training takes (equal to about
   1e-12 in float64: only the order of the additions differs).
4. **Mini-batch SGD** (``batch_size=B``): rows pass through a shuffle buffer
   of ``shuffle_buffer`` rows. Each record batch of ``m`` rows joins the
   buffer, and ``m`` rows drawn at random from the buffer leave it, grouped
   into mini-batches of ``B`` rows; at the end of the epoch the buffer is
   emptied in random order. Memory stays at one buffer plus one record batch;
   with a buffer at least as large as the file this is a full shuffle. Each
   mini-batch takes the plain step ``w -= eta * dL/dw`` of its own rows
   (summed or averaged by ``reduction``); the epoch's history row sums the
   values of the mini-batches' forward passes, each taken before its step.

Memory is one record batch (``readers.BATCH_ROWS`` rows, or one CSV block)
plus the shuffle buffer, whatever the file's size.
"""

from __future__ import annotations

import os
from typing import Iterable, Iterator

import numpy as np

from . import scaling
from .callbacks import Callback, History
from .data import check_constant, check_test_size, resolve_columns
from .errors import DataFileError, NeuronaError
from .losses import check_pair, check_reduction, reduction_scale
from .neuron import Neuron
from .readers import DataFile, Labels
from .training import forward_backward

SHUFFLE_BUFFER = 65_536   # rows held by the mini-batch shuffle buffer
SAMPLE_ROWS = 2_000       # rows kept for the figures of a streamed run

MEMORY_FRACTION = 4       # the default memory budget is 1/4 of the physical memory


def default_memory_budget() -> int:
    """A quarter of the machine's physical memory, in bytes (1 GiB if unknown)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // MEMORY_FRACTION
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX
        return 1 << 30


_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def row_uniform(rows: np.ndarray, seed: int, stream: int = 0) -> np.ndarray:
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
        The probability that a row is a test row (see the module's notes).
    random_state : int, default=1
        The seed of the per-row split.
    classes : list, default=None
        Known classes (e.g. a model's); None: learned by :meth:`scan`.
    """

    def __init__(self, path, target: str, features=None, *, delimiter=None, encoding=None,
                 test_size: float = 0.0, random_state: int = 1, classes=None):
        self.file = DataFile(path, delimiter=delimiter, encoding=encoding)
        self.features = resolve_columns(self.file, target, features)
        self.target = target
        self.labels = Labels(self.file, target, classes)
        self.test_size = check_test_size(test_size)
        self.random_state = 1 if random_state is None else int(random_state)
        self.classes = None if classes is None else list(self.labels.classes)
        self.scaler: scaling.Scaler | None = None
        self.n_rows = self.n_train = self.n_test = 0

    def test_mask(self, row0: int, n: int) -> np.ndarray:
        """Which of the rows ``row0 .. row0 + n - 1`` are test rows."""
        if self.test_size == 0:
            return np.zeros(n, dtype=bool)
        return row_uniform(np.arange(row0, row0 + n), self.random_state) < self.test_size

    def _tables(self):
        return self.file.batches([*self.features, self.target], numeric=self.features)

    def scan(self, scale: str = "none", allow_constant: bool = False) -> "FileStream":
        """Read the file once: check it, learn the classes, count the parts, fit the scaler."""
        fit = scaling.StreamingFit(scale)
        low = np.full(len(self.features), np.inf)
        high = np.full(len(self.features), -np.inf)
        n = n_test = 0
        for row0, table in self._tables():
            X = self.file.features(table, self.features, row0)
            self.labels.observe(table, row0)
            test = self.test_mask(row0, len(X))
            fit.update(X[~test])
            if len(X):
                np.minimum(low, X.min(axis=0), out=low)
                np.maximum(high, X.max(axis=0), out=high)
            n += len(X)
            n_test += int(test.sum())
        if n == 0:
            raise DataFileError(f"{self.file.path}: no data rows; add rows below the header.",
                                path=self.file.path)
        self.classes = self.labels.finish()
        if not allow_constant:
            check_constant(self.file, None, self.features, low, high)
        if n - n_test == 0:
            raise NeuronaError(f"{self.file.path}: the split left no training rows "
                               f"({n} rows, test_size={self.test_size}); lower --test-size.")
        self.n_rows, self.n_test, self.n_train = n, n_test, n - n_test
        self.scaler = fit.result()
        return self

    def part(self, which: str = "train", scaled: bool = True) -> "Pass":
        """A re-iterable pass over ``"train"``, ``"test"`` or ``"all"`` rows, as ``(X, y)``."""
        if which not in ("train", "test", "all"):
            raise ValueError(f"part must be 'train', 'test' or 'all', got {which!r}")
        if self.classes is None:
            raise NeuronaError("call scan() before reading the stream's parts")
        return Pass(self, which, scaled)


class Pass:
    """One pass over part of a :class:`FileStream` per iteration: ``(X, y, rows)`` batches."""

    def __init__(self, stream: FileStream, which: str, scaled: bool):
        self.stream, self.which, self.scaled = stream, which, scaled

    def with_rows(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Like iterating, with the 0-based file row index of every row as a third array."""
        s = self.stream
        for row0, table in s._tables():
            X = s.file.features(table, s.features, row0)
            y = s.labels.encode(table, row0)
            rows = np.arange(row0, row0 + len(y))
            if self.which != "all":
                test = s.test_mask(row0, len(y))
                keep = test if self.which == "test" else ~test
                X, y, rows = X[keep], y[keep], rows[keep]
            if self.scaled and s.scaler is not None:
                X = s.scaler.transform(X)
            if len(y):
                yield X, y, rows

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for X, y, _ in self.with_rows():
            yield X, y


# --- gradients and training --------------------------------------------------------

def accumulate_gradient(batches: Iterable, w: np.ndarray, b: float, activation, loss,
                        reduction: str = "sum", threshold: float = 0.5
                        ) -> tuple[np.ndarray, float, dict]:
    """The full-batch gradient over a stream of ``(X, y)`` batches, and the pass's metrics.

    Each batch contributes ``forward_backward(..., reduction="sum")``; the
    sums are scaled once, by ``1/n`` for ``"mean"``. Returns ``(dL_dw,
    dL_db, metrics)`` as :func:`neurona.training.forward_backward` does for
    the whole data at once.
    """
    dw = np.zeros_like(w, dtype=np.float64)
    db = 0.0
    total = {"loss": 0.0, "sse": 0.0, "correct": 0.0}
    n = 0
    for X, y in batches:
        gw, gb, m = forward_backward(X, y, w, b, activation, loss, "sum", threshold)
        dw += gw
        db += gb
        total["loss"] += m["loss"]
        total["sse"] += m["sse"]
        total["correct"] += round(m["accuracy"] * len(y))
        n += len(y)
    if n == 0:
        raise NeuronaError("the stream holds no rows to train on.")
    scale = reduction_scale(reduction, n)
    metrics = {"loss": total["loss"] * scale, "sse": total["sse"],
               "accuracy": total["correct"] / n}
    return dw * scale, db * scale, metrics


def shuffled_minibatches(batches: Iterable, batch_size: int, buffer_rows: int,
                         rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches of ``batch_size`` rows drawn through a shuffle buffer of ``buffer_rows``.

    See the module's notes for the scheme; the last mini-batch of a pass may
    be smaller.
    """
    pool_X = pool_y = None
    out_X: list[np.ndarray] = []
    out_y: list[np.ndarray] = []
    pending = 0

    def drain(final: bool):
        nonlocal out_X, out_y, pending
        X, y = np.concatenate(out_X), np.concatenate(out_y)
        stop = len(y) if final else len(y) - len(y) % batch_size
        for i in range(0, stop, batch_size):
            yield X[i:i + batch_size], y[i:i + batch_size]
        out_X, out_y = [X[stop:]], [y[stop:]]
        pending = len(y) - stop

    for X, y in batches:
        pool_X = X if pool_X is None else np.concatenate([pool_X, X])
        pool_y = y if pool_y is None else np.concatenate([pool_y, y])
        if len(pool_y) <= buffer_rows:
            continue
        order = rng.permutation(len(pool_y))
        leave, stay = order[:len(pool_y) - buffer_rows], order[len(pool_y) - buffer_rows:]
        out_X.append(pool_X[leave])
        out_y.append(pool_y[leave])
        pending += len(leave)
        pool_X, pool_y = pool_X[stay], pool_y[stay]
        if pending >= batch_size:
            yield from drain(final=False)
    if pool_y is not None and len(pool_y):
        order = rng.permutation(len(pool_y))
        out_X.append(pool_X[order])
        out_y.append(pool_y[order])
        pending += len(order)
    if pending:
        yield from drain(final=True)


def _check_steps(epochs, learning_rate) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise NeuronaError(f"epochs must be a positive integer, got {epochs!r}.")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise NeuronaError(f"learning_rate must be a positive number, got {learning_rate!r}.")


def _diverged(epoch: int) -> NeuronaError:
    return NeuronaError(
        f"Training diverged at epoch {epoch}: the weights are no longer finite. Lower the "
        f"learning rate, or scale the features (--scale standard).")


def train_stream(
    neuron: Neuron,
    batches: Iterable,
    *,
    epochs: int = 100,
    learning_rate: float = 0.01,
    loss: str = "log_loss",
    reduction: str = "sum",
    batch_size: int | None = None,
    shuffle_buffer: int = SHUFFLE_BUFFER,
    seed: int | None = None,
    callbacks: Iterable[Callback] = (),
) -> History:
    """Train ``neuron`` in place on batches streamed anew every epoch; return its history.

    Parameters
    ----------
    neuron : Neuron
        The starting point; trained on the features as the batches give them.
    batches : re-iterable of (X, y)
        Each iteration is one pass over the training data, e.g.
        ``FileStream.part("train")`` or a list of arrays.
    epochs, learning_rate, loss, reduction :
        As in :func:`neurona.train`.
    batch_size : int, default=None
        None: full-batch gradient descent, one step per epoch, equal to
        in-memory training. An integer: plain SGD steps on mini-batches
        drawn through the shuffle buffer.
    shuffle_buffer : int, default=65536
        Rows held by the shuffle buffer (mini-batch training only).
    seed : int, default=None
        Seed of the shuffling.
    callbacks : iterable of Callback
        Called as by :func:`neurona.train`; the history rows have the same keys.
    """
    _check_steps(epochs, learning_rate)
    activation, loss = check_pair(neuron.activation, loss)
    check_reduction(reduction)
    if batch_size is not None and (isinstance(batch_size, bool) or batch_size < 1):
        raise NeuronaError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if shuffle_buffer < 1:
        raise NeuronaError(f"shuffle_buffer must be a positive integer, got {shuffle_buffer!r}.")
    rng = np.random.default_rng(seed)
    history = History()
    hooks = [history, *callbacks]
    for cb in hooks:
        cb.on_train_begin()
    w, b = neuron.weights.astype(np.float64), float(neuron.bias)
    for epoch in range(int(epochs)):
        for cb in hooks:
            cb.on_epoch_begin(epoch)
        # Overflow shows as non-finite weights, refused below with a clear message.
        with np.errstate(over="ignore", invalid="ignore"):
            if batch_size is None:
                dw, db, metrics = accumulate_gradient(batches, w, b, activation, loss,
                                                      reduction, neuron.threshold)
                w, b = w - learning_rate * dw, b - learning_rate * db
            else:
                w, b, metrics = _sgd_epoch(shuffled_minibatches(batches, batch_size,
                                                                shuffle_buffer, rng),
                                           w, b, activation, loss, reduction,
                                           neuron.threshold, learning_rate)
        if not (np.all(np.isfinite(w)) and np.isfinite(b) and np.isfinite(metrics["loss"])):
            raise _diverged(epoch)
        neuron.weights, neuron.bias = w, b
        logs = {"epoch": epoch, **metrics}
        for cb in hooks:
            cb.on_epoch_end(epoch, logs)
    for cb in hooks:
        cb.on_train_end()
    return history


def _sgd_epoch(minibatches, w, b, activation, loss, reduction, threshold, learning_rate):
    total_loss = sse = correct = 0.0
    n = 0
    for X, y in minibatches:
        dw, db, m = forward_backward(X, y, w, b, activation, loss, reduction, threshold)
        w, b = w - learning_rate * dw, b - learning_rate * db
        total_loss += m["loss"] / reduction_scale(reduction, len(y))
        sse += m["sse"]
        correct += round(m["accuracy"] * len(y))
        n += len(y)
    if n == 0:
        raise NeuronaError("the stream holds no rows to train on.")
    return w, b, {"loss": total_loss * reduction_scale(reduction, n), "sse": sse,
                  "accuracy": correct / n}


# --- the test part of a streamed run -------------------------------------------------

def test_pass(neuron: Neuron, stream: FileStream, sample_rows: int = SAMPLE_ROWS):
    """Confusion counts of ``neuron`` on the test rows, and a small sample of rows.

    ``neuron`` takes raw features (its scaler attached) and returns 0/1.
    Returns ``(confusion, sample)``: ``confusion[t, p]`` counts the test rows
    of class ``t`` predicted ``p``; ``sample`` is ``(X, y, is_test)`` for about
    ``sample_rows`` rows drawn at random from the whole file, for figures.
    """
    confusion = np.zeros((2, 2), dtype=np.int64)
    keep = min(1.0, sample_rows / max(stream.n_rows, 1))
    sample_X, sample_y, sample_test = [], [], []
    for X, y, rows in stream.part("all", scaled=False).with_rows():
        test = stream.test_mask(int(rows[0]), len(rows)) if len(rows) else rows.astype(bool)
        if test.any():
            pred = neuron.predict(X[test])
            np.add.at(confusion, (y[test].astype(np.int64), pred.astype(np.int64)), 1)
        chosen = row_uniform(rows, stream.random_state, stream=1) < keep
        sample_X.append(X[chosen])
        sample_y.append(y[chosen].astype(np.int64))
        sample_test.append(test[chosen])
    return confusion, (np.concatenate(sample_X), np.concatenate(sample_y),
                       np.concatenate(sample_test))
