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
   over the batches and scales once by ``1/n`` for ``"mean"``; the gradient
   (plus the penalty's) goes to the same optimizer that
   :class:`~neurona.training.Trainer` builds, so an epoch takes exactly the
   step that in-memory training takes, for every optimizer and schedule (equal
   to about 1e-12 in float64: only the order of the additions differs).
4. **Mini-batch training** (``batch_size=B``): rows pass through a shuffle
   buffer of ``shuffle_buffer`` rows. Each record batch of ``m`` rows joins the
   buffer, and ``m`` rows drawn at random from the buffer leave it, grouped
   into mini-batches of ``B`` rows; at the end of the epoch the buffer is
   emptied in random order. Memory stays at one buffer plus one record batch;
   with a buffer at least as large as the file this is a full shuffle. Each
   mini-batch takes one optimizer step on its own rows (with the plain ``gd``
   optimizer, SGD: ``w -= eta * dL/dw``); the epoch's history row combines the
   values of the mini-batches' forward passes, each taken before its step,
   as :func:`neurona.training.run_epoch` does.

Memory is one record batch (``readers.BATCH_ROWS`` rows, or one CSV block)
plus the shuffle buffer, whatever the file's size.
"""

from __future__ import annotations

import os
from typing import Iterable, Iterator

import numpy as np

from . import optimizers as optim
from .data import scaling
from .callbacks import Callback, History
from .data import check_constant, check_test_size, resolve_columns
from .errors import DataFileError, NeuronaError
from .losses import check_pair, check_reduction, reduction_scale
from .neuron import Neuron
from .readers import DataFile, Labels
from .training import Trainer, _NonFinite, forward_backward, penalty, penalty_gradient

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
        self.n_rows = {"train": stream.n_train, "test": stream.n_test,
                       "all": stream.n_rows}[which]

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


def _order(n: int, rng: np.random.Generator | None) -> np.ndarray:
    return np.arange(n) if rng is None else rng.permutation(n)


def shuffled_minibatches(batches: Iterable, batch_size: int, buffer_rows: int,
                         rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches of ``batch_size`` rows drawn through a shuffle buffer of ``buffer_rows``.

    See the module's notes for the scheme; the last mini-batch of a pass may
    be smaller. With ``rng=None`` the rows keep their order.
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
        order = _order(len(pool_y), rng)
        leave, stay = order[:len(pool_y) - buffer_rows], order[len(pool_y) - buffer_rows:]
        out_X.append(pool_X[leave])
        out_y.append(pool_y[leave])
        pending += len(leave)
        pool_X, pool_y = pool_X[stay], pool_y[stay]
        if pending >= batch_size:
            yield from drain(final=False)
    if pool_y is not None and len(pool_y):
        order = _order(len(pool_y), rng)
        out_X.append(pool_X[order])
        out_y.append(pool_y[order])
        pending += len(order)
    if pending:
        yield from drain(final=True)


class _Stopped(Exception):
    """A callback asked to stop in the middle of a streamed epoch."""


class StreamTrainer(Trainer):
    """Trains one neuron on batches read anew every epoch: a streamed ``Trainer``.

    It takes the training settings of ``Trainer`` that do not need the rows
    in memory (the optimizer and its hyperparameters, the learning-rate
    schedule, the ``l1``/``l2`` penalties, mini-batches), builds the same
    optimizer, and runs under ``Trainer``'s own loop (:meth:`Trainer.run`:
    callbacks, stopping, the divergence guard); only the epoch differs. So a
    full-batch streamed run takes exactly the steps that ``Trainer`` takes in
    memory, whatever the optimizer, and its history rows have the same keys.
    A stop asked during an epoch abandons that epoch; there are no
    checkpoints.

    Parameters
    ----------
    neuron : Neuron
        The starting point; trained on the features as the batches give them.
    batches : re-iterable of (X, y)
        Each iteration is one pass over the training rows, e.g.
        ``FileStream.part("train")`` or a list of arrays.
    batch_size : int, default=None
        None: full-batch gradient descent, one update per epoch. An integer:
        one update per mini-batch, the rows drawn through the shuffle buffer
        (in file order with ``shuffle=False``).
    shuffle_buffer : int, default=65536
        Rows the shuffle buffer holds.
    seed : int, default=None
        Seed of the shuffling.
    n_rows : int, default=None
        Training rows per epoch (known after ``FileStream.scan``; counted for a
        list). Mini-batch training needs it to share the penalty and to size
        the schedule's default decay.

    The other parameters are those of :func:`neurona.train`.
    """

    def __init__(self, neuron: Neuron, batches: Iterable, *, epochs: int = 100,
                 learning_rate: float = 0.01, loss="log_loss", reduction: str = "sum",
                 optimizer="gd", batch_size: int | None = None, shuffle: bool = True,
                 schedule: str = "constant", decay_rate: float | None = None,
                 decay_steps: int | None = None, power_t: float = 0.5,
                 end_learning_rate: float = 0.0, momentum: float = 0.9, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-8, rho: float = 0.9,
                 weight_decay: float = 0.01, l1: float = 0.0, l2: float = 0.0,
                 shuffle_buffer: int = SHUFFLE_BUFFER, seed: int | None = None,
                 n_rows: int | None = None, callbacks: Iterable[Callback] = ()):
        # Trainer.__init__ takes the rows in memory; the state its loop needs is set here.
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise NeuronaError(f"epochs must be a positive integer, got {epochs!r}.")
        if not (np.isfinite(learning_rate) and learning_rate > 0):
            raise NeuronaError(f"learning_rate must be a positive number, got "
                               f"{learning_rate!r}.")
        self.activation, self.loss = check_pair(neuron.activation, loss)
        self.reduction = check_reduction(reduction)
        for name, value in (("batch_size", batch_size), ("shuffle_buffer", shuffle_buffer)):
            if value is not None and (isinstance(value, bool) or value < 1):
                raise NeuronaError(f"{name} must be a positive integer, got {value!r}.")
        if n_rows is None:
            n_rows = getattr(batches, "n_rows", None)
        if n_rows is None and isinstance(batches, (list, tuple)):
            n_rows = sum(len(y) for _, y in batches)
        if batch_size is not None and n_rows is None:
            raise NeuronaError("mini-batch streaming needs n_rows, the training rows per "
                               "epoch.")
        self.neuron, self.batches = neuron, batches
        self.epochs, self.batch_size, self.shuffle = int(epochs), batch_size, bool(shuffle)
        self.shuffle_buffer, self.n_rows = shuffle_buffer, n_rows
        self.l1, self.l2 = float(l1), float(l2)
        self.rng = np.random.default_rng(seed)
        self.callbacks = list(callbacks)
        self.n_batches = 1 if batch_size is None else max(1, -(-n_rows // batch_size))
        if decay_rate is None:
            decay_rate = optim.DEFAULT_DECAY_RATE.get(schedule)
        if decay_steps is None:
            decay_steps = (self.n_batches * self.epochs if schedule == "cosine"
                           else self.n_batches * (10 if schedule == "step" else 1))
        self.learning_rate = float(learning_rate)
        self.resolved = {"decay_rate": decay_rate, "decay_steps": decay_steps}
        self._schedule_args = dict(schedule=schedule, power_t=power_t,
                                   end_learning_rate=end_learning_rate)
        self._optimizer_args = dict(optimizer=optimizer, momentum=momentum, beta_1=beta_1,
                                    beta_2=beta_2, epsilon=epsilon, rho=rho,
                                    weight_decay=weight_decay)
        self._build_optimizer()  # Trainer's: the same schedule and optimizer
        self.params = np.append(np.asarray(neuron.weights, dtype=np.float64),
                                np.float64(neuron.bias))
        self.opt_state = self.optimizer.init(self.params)
        self.epoch = self.batch = self.step = 0
        self.partial = None
        self.history = History()
        self.stop_training = False
        self.stop_reason: str | None = None
        self.status = "ready"

    def checkpoint(self) -> None:
        """Streamed runs keep no checkpoint (they cannot be resumed)."""
        return None

    def _rows(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for X, y in self.batches:
            if self.stop_training:
                raise _Stopped
            yield X, y

    def _update(self, grad: np.ndarray, loss_value: float, batch: int) -> None:
        step, state = self.optimizer.update(grad, self.opt_state, self.params)
        new = self.params + step
        if not np.isfinite(loss_value + float(np.add.reduce(new))):
            raise _NonFinite(self.params, self.opt_state, batch)  # Trainer.run reports it
        self.params, self.opt_state = new, state

    def _full_batch_epoch(self, on_batch_end) -> dict:
        w, b = self.params[:-1], self.params[-1]
        dw, db, m = accumulate_gradient(self._rows(), w, b, self.activation, self.loss,
                                        self.reduction, self.neuron.threshold)
        grad = np.append(dw, db)
        if self.l1 or self.l2:
            grad[:-1] += penalty_gradient(w, self.l1, self.l2)
            m["loss"] += penalty(w, self.l1, self.l2)
        self._update(grad, m["loss"], 0)
        if on_batch_end is not None:
            on_batch_end(0, {"batch": 0, "size": self.n_rows, **m})
        return dict(m, grad_norm=float(np.sqrt(grad @ grad)), updates=1)

    def _minibatch_epoch(self, on_batch_end) -> dict:
        rows = shuffled_minibatches(self._rows(), self.batch_size,
                                    self.shuffle_buffer if self.shuffle else 0,
                                    self.rng if self.shuffle else None)
        mean = self.reduction == "mean"
        loss_sum = sse = accuracy = 0.0
        grad_sum = np.zeros_like(self.params)
        n = j = 0
        for j, (X, y) in enumerate(rows):
            w = self.params[:-1]
            dw, db, m = forward_backward(X, y, w, self.params[-1], self.activation, self.loss,
                                         self.reduction, self.neuron.threshold)
            grad = np.append(dw, db)
            share = len(y) / self.n_rows  # as Trainer: a sum takes its share of the penalty
            batch_loss = m["loss"]
            if self.l1 or self.l2:
                grad[:-1] += (1.0 if mean else share) * penalty_gradient(w, self.l1, self.l2)
                batch_loss += (1.0 if mean else share) * penalty(w, self.l1, self.l2)
            self._update(grad, batch_loss, j)
            c = share if mean else 1.0
            loss_sum += c * batch_loss
            sse += m["sse"]
            accuracy += m["accuracy"] * len(y)
            grad_sum += c * grad
            n += len(y)
            if on_batch_end is not None:
                on_batch_end(j, {"batch": j, "size": len(y), "loss": batch_loss,
                                 "sse": m["sse"], "accuracy": m["accuracy"]})
        if n == 0:
            raise NeuronaError("the stream holds no rows to train on.")
        return {"loss": loss_sum, "sse": sse, "accuracy": accuracy / n,
                "grad_norm": float(np.sqrt(grad_sum @ grad_sum)), "updates": j + 1}

    def _one_epoch(self, hooks, on_batch_end) -> None:
        """One streamed epoch, in place of Trainer's in-memory one."""
        e, first = self.epoch, self.step
        for cb in hooks:
            cb.on_epoch_begin(e, {})
        try:
            if self.batch_size is None:
                metrics = self._full_batch_epoch(on_batch_end)
            else:
                metrics = self._minibatch_epoch(on_batch_end)
        except _Stopped:  # Trainer.run sees stop_training and ends the run
            return
        self.step += metrics.pop("updates")
        self._sync_neuron()
        self.epoch += 1
        logs = {"epoch": e, "loss": metrics["loss"], "sse": metrics["sse"],
                "accuracy": metrics["accuracy"], "grad_norm": metrics["grad_norm"],
                "learning_rate": float(self.schedule(first))}
        for cb in hooks:
            cb.on_epoch_end(e, logs)


def train_stream(neuron: Neuron, batches: Iterable, **settings) -> History:
    """Train ``neuron`` in place on batches streamed anew every epoch; return its history.

    A shortcut for ``StreamTrainer(neuron, batches, **settings).run()``; see
    :class:`StreamTrainer` for the settings.
    """
    return StreamTrainer(neuron, batches, **settings).run()


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
