"""The stream engine: training rows read anew every epoch, batch by batch, in bounded memory.

The rows come from a *source*: a part of a
:class:`~neurona.data.filestream.FileStream` (a file read in record batches),
or :class:`Batches` (a list of arrays, for tests and small experiments). The
engine answers the protocol of :mod:`neurona.core.engine`:

- **Full-batch gradient descent** (``batch_size=None``): each record batch
  contributes its summed gradient; the sums are scaled once (``1/n`` for
  ``"mean"``) and the same optimizer as in memory takes the step, so an
  epoch equals in-memory training's to rounding (only the order of the
  additions differs), for every optimizer and schedule.
- **Mini-batches** (``batch_size=B``): rows pass through a shuffle buffer of
  ``shuffle_buffer`` rows. Each record batch joins the buffer, and as many
  rows drawn at random from the buffer leave it, grouped into mini-batches of
  ``B`` rows; at the end of the epoch the buffer is emptied in random order.
  With a buffer at least as large as the data this is a full shuffle. The
  buffer's generator is seeded by a number the run's generator draws each
  epoch, so an epoch cut short is finished exactly by replaying it and
  skipping the batches already done. The buffer keeps its rows in slots and
  their order as a list of slots (a row is copied in once); each run of
  whole mini-batches that leaves it takes its steps in one compiled loop
  that reads the rows where they lie
  (:func:`neurona.engines.kernels.compiled_epoch`) where the
  memory engine would compile its epoch (:func:`~neurona.engines.kernels.use_compiled_steps`),
  else one NumPy step per mini-batch: the same numbers to rounding.
- **Validation** rows are a per-row draw on the rows' file positions (the
  rule of every engine); **class weights** weight each row by its label.

Memory is one record batch plus the shuffle buffer, whatever the file's size.
"""

from __future__ import annotations

import functools
from typing import Iterable, Iterator

import numpy as np

from ..core.engine import Engine, check_split
from ..core.gradient import (REGRESSION_SUMS, NonFinite, batch_logs, batch_step, epoch_metrics,
                             forward,
                             minibatch_step, new_totals, numpy_pass, reported)
from ..core.scores import add_sums, error_sums
from ..data.split import VALIDATION_STREAM, held_out
from ..errors import NeuronaError, SettingError
from . import kernels
from .memory import forward_backward

SHUFFLE_BUFFER = 65_536   # rows held by the mini-batch shuffle buffer


class Batches:
    """A re-iterable source of ``(X, y)`` batches held in memory, for :class:`StreamEngine`.

    Row positions count the rows in order, from 0.
    """

    def __init__(self, batches: Iterable):
        self.batches = [(np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64))
                        for X, y in batches]
        if not self.batches:
            raise NeuronaError("the stream holds no batches to train on.")
        self.n_rows = sum(len(y) for _, y in self.batches)
        self.n_features = self.batches[0][0].shape[1]

    def with_rows(self):
        row0 = 0
        for X, y in self.batches:
            yield X, y, np.arange(row0, row0 + len(y))
            row0 += len(y)

    def positions(self):
        yield np.arange(self.n_rows)


class _Pool:
    """The rows of the shuffle buffer: stored in slots of growing arrays (one per column),
    their order in the buffer kept as a list of slots, so a row is copied in once, whatever
    the buffer's size, and read where it lies when it leaves. ``compiled`` copies the rows
    of 2-D float arrays in with a compiled loop of :mod:`neurona.engines._fused` (Numba)."""

    def __init__(self, compiled: bool = False, capacity: int = 0):
        self.capacity = capacity  # rows to hold from the start (the buffer, and batches)
        self.put = None
        if compiled:
            from ._fused import put_rows

            self.put = put_rows
        self.store: list[np.ndarray] | None = None
        self.order = np.empty(0, dtype=np.int64)   # the buffer's rows, as slots
        self.free = np.empty(0, dtype=np.int64)    # slots to reuse
        self.used = 0                              # slots ever handed out

    def __len__(self) -> int:
        return len(self.order)

    def add(self, batch) -> None:
        """Put a batch's rows at the end of the buffer."""
        m = len(batch[0])
        if self.store is None:
            rows = max(self.capacity + 2 * m, 1)
            self.store = [np.empty((rows,) + a.shape[1:], dtype=a.dtype) for a in batch]
        reused = self.free[:m]
        fresh = np.arange(self.used, self.used + m - len(reused))
        self.used += len(fresh)
        if self.used > len(self.store[0]):
            grown = max(self.used, 2 * len(self.store[0]))
            self.store = [np.concatenate([s, np.empty((grown - len(s),) + s.shape[1:],
                                                      dtype=s.dtype)]) for s in self.store]
        slots = np.concatenate([reused, fresh]) if len(fresh) else reused
        self.free = self.free[m:]
        for s, a in zip(self.store, batch):
            if s.ndim == 2 and self.put is not None:
                self.put(s, slots, np.ascontiguousarray(a, dtype=s.dtype))
            elif s.ndim == 2:  # whole rows at once (NumPy copies a row of bytes per index)
                row = np.dtype((np.void, s.shape[1] * s.itemsize))
                s.view(row).reshape(-1)[slots] = np.ascontiguousarray(
                    a, dtype=s.dtype).view(row).reshape(-1)
            else:
                s[slots] = a
        self.order = np.concatenate([self.order, slots])

    def release(self, slots: np.ndarray) -> None:
        """The rows in ``slots`` have left: their slots take new rows."""
        self.free = np.concatenate([self.free, slots])


def shuffled_runs(batches: Iterable, batch_size: int, buffer_rows: int,
                  rng: np.random.Generator | None, compiled: bool = False) -> Iterator[tuple]:
    """The rows of :func:`shuffled_minibatches` in the same order, in runs of whole
    mini-batches (the last run may end with a smaller one), where they lie: for each run
    ``(store, slots)``, its rows being ``[column[slots] for column in store]``, until the
    next run is asked for. ``compiled``: rows are copied in by a compiled loop (needs
    Numba)."""
    pool = _Pool(compiled, buffer_rows + batch_size)
    carry = np.empty(0, dtype=np.int64)  # slots of the rows short of a whole mini-batch

    def run_of(slots, final: bool):
        nonlocal carry
        slots = np.concatenate([carry, slots]) if len(carry) else slots
        stop = len(slots) if final else len(slots) - len(slots) % batch_size
        carry = slots[stop:]
        return slots[:stop]

    def order(n):
        return np.arange(n) if rng is None else rng.permutation(n)

    for batch in batches:
        if not len(batch[0]):
            continue
        pool.add(batch)
        n = len(pool)
        if n <= buffer_rows:
            continue
        perm = order(n)
        leave, stay = perm[:n - buffer_rows], perm[n - buffer_rows:]
        run = run_of(pool.order[leave], final=False)
        pool.order = pool.order[stay]
        if len(run):
            yield pool.store, run
            pool.release(run)
    run = run_of(pool.order[order(len(pool))] if len(pool) else pool.order, final=True)
    if len(run):
        yield pool.store, run


def shuffled_chunks(batches: Iterable, batch_size: int, buffer_rows: int,
                    rng: np.random.Generator | None, compiled: bool = False) -> Iterator[list]:
    """The runs of :func:`shuffled_runs` as new arrays: one list of arrays per run."""
    for store, slots in shuffled_runs(batches, batch_size, buffer_rows, rng, compiled):
        yield [np.take(column, slots, axis=0) for column in store]


def shuffled_minibatches(batches: Iterable, batch_size: int, buffer_rows: int,
                         rng: np.random.Generator | None) -> Iterator[tuple]:
    """Mini-batches of ``batch_size`` rows drawn through a shuffle buffer of ``buffer_rows``.

    ``batches`` yields tuples of arrays of equal length (``(X, y)``, or
    ``(X, y, w)``); so does the result. See the module's notes for the
    scheme; the last mini-batch of a pass may be smaller. With ``rng=None``
    the rows keep their order.
    """
    for run in shuffled_chunks(batches, batch_size, buffer_rows, rng):
        for i in range(0, len(run[0]), batch_size):
            yield tuple(a[i:i + batch_size] for a in run)


class _Abandoned(Exception):
    """A stop was asked in the middle of a full-batch pass: the pass is dropped."""


class StreamEngine(Engine):
    """Training rows read from ``source`` every epoch (see the module's notes).

    Parameters
    ----------
    source : FileStream part or Batches
        Yields ``(X, y, rows)`` batches from ``with_rows()`` and the row
        positions from ``positions()``; ``n_rows`` and ``n_features``.
    shuffle_buffer : int, default=65536
        Rows the mini-batch shuffle buffer holds.
    """

    name = "streamed"

    def __init__(self, source, *, shuffle_buffer: int = SHUFFLE_BUFFER, kernel: str = "auto",
                 _keep=None, _mapping=None):
        if isinstance(source, (list, tuple)):
            source = Batches(source)
        if isinstance(shuffle_buffer, bool) or not isinstance(shuffle_buffer, int) \
                or shuffle_buffer < 1:
            raise NeuronaError(f"shuffle_buffer must be a positive integer, got "
                               f"{shuffle_buffer!r}.")
        self.source, self.shuffle_buffer = source, shuffle_buffer
        self.kernel = kernels.check_kernel(kernel)
        self.dtype = getattr(source, "dtype", "float64")
        self._keep_rule, self.mapping = _keep, _mapping
        self.n_features = int(source.n_features)
        self.n_rows = source.n_rows if _keep is None else sum(
            int(self._keep(p).sum()) for p in source.positions())
        self.weighted = _mapping is not None
        self.total_weight = float(self.n_rows)

    def _like(self, keep=None, mapping=None) -> "StreamEngine":
        return StreamEngine(self.source, shuffle_buffer=self.shuffle_buffer, kernel=self.kernel,
                            _keep=keep if keep is not None else self._keep_rule,
                            _mapping=mapping if mapping is not None else self.mapping)

    def _keep(self, rows: np.ndarray) -> np.ndarray:
        seed, fraction, validation = self._keep_rule
        val = held_out(rows, seed, fraction, VALIDATION_STREAM)
        return val if validation else ~val

    def _weights(self, y: np.ndarray) -> np.ndarray | None:
        if self.mapping is None:
            return None
        w = np.ones(len(y))
        for label, weight in self.mapping.items():
            w[y == label] = weight
        return w

    def batches(self, should_stop=None) -> Iterator[tuple]:
        """This engine's rows, batch by batch: ``(X, y, weights or None)``."""
        for X, y, rows in self.source.with_rows():
            if should_stop is not None and should_stop():
                raise _Abandoned
            if self._keep_rule is not None:
                keep = self._keep(rows)
                X, y = X[keep], y[keep]
            if len(y):
                yield X, y, self._weights(y)

    # -- the protocol --

    def refuse(self, spec) -> None:
        if spec.dtype != self.dtype:
            raise SettingError("dtype", f"is {spec.dtype!r}, but the stream's features are "
                                        f"{self.dtype}: read the file in {spec.dtype} "
                                        f"(FileStream(..., dtype={spec.dtype!r})).")

    def n_batches(self, batch_size):
        if batch_size is None or batch_size >= self.n_rows:
            return 1
        return -(-self.n_rows // batch_size)

    def draw_order(self, rng):
        return int(rng.integers(2**63))

    def _sums(self, w, b, activation, loss, threshold, gradient: bool, should_stop=None,
              task="classify"):
        """Summed gradient and metrics over every row: ``(dw, db, metrics, weight)``.

        ``metrics`` holds the summed ``loss`` and ``sse``, then the
        ``accuracy`` of all rows or a regression's summed statistics.
        """
        dw = np.zeros(len(w))
        db = total = sse = correct = weight = 0.0
        regress = task == "regress"
        sums = dict.fromkeys(REGRESSION_SUMS, 0.0)
        for X, y, sw in self.batches(should_stop):
            if gradient:
                gw, gb, m = forward_backward(X, y, w, b, activation, loss, "sum", threshold, sw,
                                             task)
                dw += gw
                db += gb
            else:
                m = forward(X, y, w, b, activation, loss, "sum", threshold, sw, task)[3]
            total += m["loss"]
            sse += m["sse"]
            if regress:
                for key in REGRESSION_SUMS:
                    sums[key] += m[key]
            else:
                correct += round(m["accuracy"] * len(y))
            weight += len(y) if sw is None else float(np.sum(sw))
        if weight == 0:
            raise NeuronaError("the stream holds no rows to train on.")
        metrics = {"loss": total, "sse": sse}
        metrics.update(sums if regress else {"accuracy": correct / self.n_rows})
        return dw, db, metrics, weight

    def _scale(self, reduction, weight):
        return 1.0 if reduction == "sum" else 1.0 / weight

    def run_epoch(self, params, opt_state, order=None, *, optimizer, activation, loss,
                  reduction="sum", threshold=0.5, batch_size=None, l1=0.0, l2=0.0,
                  totals=None, on_batch_end=None, should_stop=None, task="classify"):
        if totals is None:
            totals = new_totals(params.shape[0], task)
        if self.n_batches(batch_size) == 1:
            return self._full_batch(params, opt_state, optimizer, activation, loss, reduction,
                                    threshold, l1, l2, totals, on_batch_end, should_stop, task)
        rng = None if order is None else np.random.default_rng(order)
        rows = (b if b[2] is not None else b[:2] for b in self.batches())
        nb = self.n_batches(batch_size)
        compiled = on_batch_end is None and kernels.use_compiled_steps(
            self.n_rows * self.n_features, activation, loss, optimizer, self.kernel)
        runs = shuffled_runs(rows, batch_size, self.shuffle_buffer if rng is not None else 0,
                             rng, compiled=compiled)
        done = totals["batches"]
        settings = dict(optimizer=optimizer, activation=activation, loss=loss,
                        reduction=reduction, threshold=threshold, l1=l1, l2=l2)
        step = self._compiled_run if compiled else self._numpy_run
        j = 0  # the epoch's batch that the run starts with
        for store, slots in runs:
            size = -(-len(slots) // batch_size)
            if j + size > done:  # else the run of an epoch cut short was done before
                params, opt_state, stopped = step(
                    store, slots, params, opt_state, j, max(0, done - j), batch_size, nb,
                    totals, task, settings, on_batch_end, should_stop)
                if stopped:
                    return params, opt_state, None
            j += size
        return params, opt_state, epoch_metrics(totals)

    def _numpy_run(self, store, slots, params, opt_state, j0, skip, batch_size, nb, totals,
                   task, settings, on_batch_end, should_stop):
        """The mini-batches of one run of the shuffle buffer (batches ``j0 + skip`` on),
        each a NumPy step (:func:`~neurona.core.gradient.minibatch_step`), a stop asked
        after each but the epoch's last; returns ``(params, opt_state, stopped)``."""
        gradient = numpy_pass if task == "classify" else functools.partial(numpy_pass,
                                                                           task=task)
        Xr, yr, *wr = [np.take(column, slots[skip * batch_size:], axis=0) for column in store]
        j0, skip = j0 + skip, 0
        for k in range(skip, -(-len(yr) // batch_size)):
            rows = slice(k * batch_size, (k + 1) * batch_size)
            params, opt_state = minibatch_step(
                Xr[rows], yr[rows], wr[0][rows] if wr else None, params, opt_state, j0 + k,
                totals, total_weight=self.total_weight, n_rows=self.n_rows,
                gradient=gradient, on_batch_end=on_batch_end, **settings)
            if should_stop is not None and j0 + k + 1 < nb and should_stop():
                return params, opt_state, True
        return params, opt_state, False

    def _compiled_run(self, store, slots, params, opt_state, j0, skip, batch_size, nb, totals,
                      task, settings, on_batch_end, should_stop):
        """The mini-batches of one run of the shuffle buffer in one compiled loop
        (:func:`neurona.engines.kernels.compiled_epoch`), its rows read where they lie in
        the buffer's store, a stop asked after the run (unless it ends the epoch); returns
        ``(params, opt_state, stopped)``."""
        X, y, *w = store
        params, opt_state, failed = kernels.compiled_epoch(
            X, y, params, opt_state, slots, sample_weight=w[0] if w else None,
            batch_size=batch_size, totals=totals, task=task, n_rows=self.n_rows,
            total_weight=self.total_weight, skip=skip, **settings)
        if failed is not None:
            raise NonFinite(params, opt_state, j0 + failed)
        stop = should_stop is not None and totals["batches"] < nb and should_stop()
        return params, opt_state, stop

    def _full_batch(self, params, opt_state, optimizer, activation, loss, reduction,
                    threshold, l1, l2, totals, on_batch_end, should_stop, task):
        def gradient(X, y, w, b, act, lo, red, thr, sw):
            return self.forward_backward(w, b, act, lo, red, thr, task, should_stop)

        try:
            params, opt_state, grad, batch_loss, m = batch_step(
                None, None, None, params, opt_state, 1.0, 0, optimizer, activation, loss,
                reduction, threshold, l1, l2, gradient)
        except _Abandoned:
            return params, opt_state, None
        totals.update(m, batches=1, loss=batch_loss, grad=grad)
        if on_batch_end is not None:
            on_batch_end(0, batch_logs(0, self.n_rows, batch_loss, m))
        return params, opt_state, epoch_metrics(totals)

    def forward_backward(self, w, b, activation, loss, reduction="sum", threshold=0.5,
                         task="classify", should_stop=None):
        """One streamed pass: the summed gradients of the record batches, scaled once.

        ``should_stop`` is asked before each record batch; when it is true the
        pass is dropped (a private exception that :meth:`run_epoch` catches).
        """
        dw, db, metrics, weight = self._sums(w, b, activation, loss, threshold, True,
                                             should_stop, task)
        scale = self._scale(reduction, weight)
        metrics["loss"] *= scale
        return dw * scale, db * scale, metrics

    def evaluate(self, w, b, activation, loss, reduction="sum", threshold=0.5,
                 task="classify"):
        _, _, metrics, weight = self._sums(w, b, activation, loss, threshold, False, task=task)
        metrics["loss"] *= self._scale(reduction, weight)
        return reported(metrics)

    def split(self, fraction, seed):
        train = self._like(keep=(seed, fraction, False))
        val = self._like(keep=(seed, fraction, True))
        check_split(train.n_rows, val.n_rows, fraction)
        return train, val

    def label_counts(self):
        counts: dict[float, int] = {}
        for _, y, _ in self.batches():
            labels, n = np.unique(y, return_counts=True)
            for label, k in zip(labels, n):
                counts[float(label)] = counts.get(float(label), 0) + int(k)
        return counts

    def binary_targets(self):
        # A file's labels are coded 0 and 1 when it is scanned: no pass is needed.
        return True if hasattr(self.source, "stream") else super().binary_targets()

    def reweighted(self, mapping):
        engine = self._like(mapping=dict(mapping))
        counts = self.label_counts()
        engine.total_weight = float(sum(k * mapping.get(label, 1.0)
                                        for label, k in counts.items()))
        return engine


# --- the test part of a streamed run -------------------------------------------------

def test_pass(neuron, stream):
    """The test rows' tally of ``neuron``, and the stream's sample of rows.

    ``neuron`` takes raw features (its scaler attached) and returns 0/1 (a
    classifier) or numbers in the target's units (a regression). Returns
    ``(tally, sample)``. A classifier's tally is its confusion counts:
    ``confusion[t, p]`` counts the test rows of class ``t`` predicted ``p``; a
    regression's, the :data:`~neurona.core.scores.ERROR_SUMS` of its test rows.
    ``sample`` is the ``(X, y, is_test)`` the scan drew from the whole file, for
    figures (:attr:`neurona.data.filestream.FileStream.sample`). Only the test rows are
    read, and nothing when there are none.
    """
    regress = stream.task == "regress"
    tally = None if regress else np.zeros((2, 2), dtype=np.int64)
    if stream.n_test:
        for X, y in stream.part("test", scaled=False):
            pred = neuron.predict(X)
            if regress:
                tally = add_sums(tally, error_sums(y, pred))
            else:
                np.add.at(tally, (y.astype(np.int64), pred.astype(np.int64)), 1)
    return tally, stream.sample
