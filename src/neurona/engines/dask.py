"""The Dask engine: training rows in a Dask collection, on a Dask cluster.

Full-batch gradient descent is a map-reduce over partitions: each partition
computes its partial sums (the gradient of the summed loss, the summed loss,
the squared error, the number of correct predictions, the number of rows and
their total weight); the client adds them up in partition order, so the
result does not depend on which worker finished first, and takes the step.
Only the parameters travel to the workers each epoch; the data stay where
they are (persisted in the workers' memory by default). Mini-batches visit
the partitions in a seeded order, each running its rows' mini-batch epoch on
the worker that holds it.

Each row keeps its position (its row number in the collection, or in the
files it was read from), so the validation split is the per-row draw every
engine makes: the same rows as in memory or streamed.

Dask is an optional dependency: ``pip install neurona[dask]``.
"""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path

import numpy as np

from ..core.activations import get_activation
from ..core.engine import Engine, check_split
from ..core.gradient import (REGRESSION_SUMS, NonFinite, add_pass, batch_step, epoch_metrics,
                             new_totals, reported)
from ..core.losses import get_loss
from ..core.scores import ERROR_SUMS
from ..data.split import (SAMPLE_ROWS, TEST_STREAM, VALIDATION_STREAM, check_class_rows,
                          held_out)
from ..errors import NeuronaError
from .memory import forward_backward, run_epoch


def _require_dask():
    try:
        import dask
        import dask.array as da
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise NeuronaError(
            "Training on Dask needs the dask extra: pip install 'neurona[dask]'.") from None
    return dask, da


def partition_sums(X, y, sample_weight, w, b, activation, loss, threshold,
                   task="classify") -> np.ndarray:
    """The additive statistics of one partition, as one vector.

    Layout: ``[dL_dw (d values), dL_db, loss, sse, n_correct, n_rows, weight_sum]``,
    all with ``reduction="sum"``, and for ``task="regress"`` the
    :data:`~neurona.core.gradient.REGRESSION_SUMS` after them (``n_correct``
    is then 0); adding the vectors of all partitions gives the statistics of
    the whole dataset.
    """
    activation, loss = get_activation(activation), get_loss(loss)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    n = X.shape[0]
    regress = task == "regress"
    if n == 0:
        return np.zeros(X.shape[1] + 6 + (len(REGRESSION_SUMS) if regress else 0))
    dw, db, m = forward_backward(X, y, w, b, activation, loss, "sum", threshold, sw, task)
    weight_sum = float(n) if sw is None else float(np.sum(sw))
    if regress:
        return np.r_[dw, db, m["loss"], m["sse"], 0, n, weight_sum,
                     [m[key] for key in REGRESSION_SUMS]]
    return np.r_[dw, db, m["loss"], m["sse"], round(m["accuracy"] * n), n, weight_sum]


def _positions(y, offsets, block_info=None):
    """The row numbers of one partition: its offset, then one row after another."""
    k = block_info[0]["chunk-location"][0]
    return np.arange(offsets[k], offsets[k] + len(y), dtype=np.int64)


def _held_out(rows, seed, fraction, stream):
    return held_out(rows, seed, fraction, stream)


def row_positions(y):
    """A Dask array of each row's number, 0 to n - 1, partitioned like ``y``."""
    offsets = np.cumsum([0, *y.chunks[0][:-1]]).astype(np.int64)
    return y.map_blocks(_positions, offsets, dtype=np.int64, block_info=True)


class DaskEngine(Engine):
    """A dataset held by Dask, row-partitioned: ``X`` (n, d), ``y`` (n,), optional weights.

    :func:`neurona.train` (and the estimators) wrap Dask input in one of these
    themselves; build one directly to choose ``persist``.

    Parameters
    ----------
    X : dask array or dask DataFrame
        Features; a DataFrame is converted with known partition lengths.
    y : dask array or dask Series
        Targets (0/1 for classification), partitioned like ``X``.
    sample_weight : dask array or dask Series, default=None
    rows : dask array of int, default=None
        Each row's position (for the per-row validation split); default its
        row number in ``X``.
    persist : bool, default=True
        Keep the data in the workers' memory between epochs (otherwise each
        epoch reads them again from their source).
    """

    name = "Dask"
    unsupported = {"dtype": "a Dask dataset is trained in float64.",
                   "kernel": "a Dask dataset's partitions take the NumPy pass."}

    def __init__(self, X, y, sample_weight=None, *, rows=None, persist: bool = True):
        dask, da = _require_dask()
        X, y = _as_array(X, da), _as_array(y, da)
        if X.ndim != 2:
            raise NeuronaError(f"X must be 2-D (n_samples, n_features), got {X.ndim}-D.")
        if X.numblocks[1] != 1:
            X = X.rechunk({1: -1})
        y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
        if y.ndim != 1:
            raise NeuronaError(f"y must be 1-D (n_samples,), got {y.ndim}-D.")
        if any(math.isnan(c) for c in X.chunks[0]):
            X = X.compute_chunk_sizes()
        if any(math.isnan(c) for c in y.chunks[0]):
            y = y.compute_chunk_sizes()
        if y.shape[0] != X.shape[0]:
            raise NeuronaError(f"X and y have different numbers of samples: {X.shape[0]} "
                               f"and {y.shape[0]}.")
        y = y.rechunk((X.chunks[0],))
        sample_weight = _aligned(sample_weight, X, da)
        rows = row_positions(y) if rows is None else _aligned(rows, X, da)
        if persist:
            X, y, sample_weight, rows = dask.persist(X, y, sample_weight, rows)
        self.X, self.y, self.sample_weight, self.rows = X, y, sample_weight, rows
        self.persist = persist
        self.n_rows, self.n_features = int(X.shape[0]), int(X.shape[1])
        self.weighted = sample_weight is not None
        if self.n_rows == 0:
            raise NeuronaError("The Dask data have no rows.")

    # -- the pieces, in partition order --

    @property
    def n_partitions(self) -> int:
        return self.X.numblocks[0]

    def _blocks(self):
        xs = self.X.to_delayed().ravel()
        ys = self.y.to_delayed().ravel()
        sws = (self.sample_weight.to_delayed().ravel() if self.sample_weight is not None
               else [None] * len(xs))
        return list(zip(xs, ys, sws))

    def n_batches(self, batch_size: int | None) -> int:
        """Updates per epoch: one (full batch), or the partitions' mini-batches added up."""
        if batch_size is None or batch_size >= self.n_rows:
            return 1
        return sum(-(-int(n) // batch_size) for n in self.X.chunks[0])

    # -- the protocol --

    def split(self, fraction, seed):
        mask = self.rows.map_blocks(_held_out, seed, fraction, VALIDATION_STREAM, dtype=bool)
        pick = lambda a, m: None if a is None else a[m]  # noqa: E731
        train = DaskEngine(self.X[~mask], self.y[~mask], pick(self.sample_weight, ~mask),
                           rows=self.rows[~mask], persist=self.persist)
        val = DaskEngine(self.X[mask], self.y[mask], pick(self.sample_weight, mask),
                         rows=self.rows[mask], persist=self.persist)
        check_split(train.n_rows, val.n_rows, fraction)
        return train, val

    def label_counts(self):
        dask, da = _require_dask()
        labels, counts = dask.compute(*da.unique(self.y, return_counts=True))
        return dict(zip(map(float, labels), map(int, counts)))

    def reweighted(self, mapping):
        labels = np.array(list(mapping), dtype=np.float64)
        weights = np.array(list(mapping.values()), dtype=np.float64)
        cw = self.y.map_blocks(_row_weights, labels, weights, dtype=np.float64)
        sw = cw if self.sample_weight is None else self.sample_weight * cw
        return DaskEngine(self.X, self.y, sw, rows=self.rows, persist=self.persist)

    def draw_order(self, rng: np.random.Generator):
        """An epoch's mini-batch order: a permutation of the partitions and a row seed."""
        return rng.permutation(self.n_partitions), int(rng.integers(2**63))

    def run_epoch(self, params, opt_state, order=None, *, optimizer, activation, loss,
                  reduction="sum", threshold=0.5, batch_size=None,
                  l1=0.0, l2=0.0, totals=None, on_batch_end=None, should_stop=None,
                  task="classify"):
        """One epoch on the cluster, with the contract of :meth:`Engine.run_epoch`.

        Full batch: one map-reduce of the gradient, then the step on the
        client. Mini-batches: the partitions in ``order`` (a seeded
        permutation), each running its own rows' mini-batch epoch on the worker
        that holds it, passing the parameters and optimizer state on to the
        next. An epoch is not cut short (``should_stop`` is asked between
        epochs) and ``on_batch_end`` is not called.
        """
        if totals is None:
            totals = new_totals(params.shape[0], task)
        if self.n_batches(batch_size) == 1:
            def gradient(X, y, w, b, act, lo, red, thr, sw):
                return self._pass(w, b, act, lo, red, thr, task)

            params, opt_state, grad, batch_loss, m = batch_step(
                None, None, None, params, opt_state, 1.0, 0, optimizer, activation, loss,
                reduction, threshold, l1, l2, gradient=gradient)
            totals.update(m, batches=1, loss=batch_loss, grad=grad)
            return params, opt_state, epoch_metrics(totals)
        dask, _ = _require_dask()
        blocks = self._blocks()
        perm, seed = order if order is not None else (range(len(blocks)), None)
        weights = self._partition_weights()
        total = float(sum(weights))
        state = (params, opt_state, None)
        outs = []
        for k in perm:
            xb, yb, sb = blocks[k]
            share = 1.0 if reduction == "mean" else weights[k] / total
            state = dask.delayed(_partition_epoch, pure=True, nout=3)(
                xb, yb, sb, state[0], state[1], state[2], seed, int(k), optimizer,
                activation, loss, reduction, threshold, batch_size, l1 * share, l2 * share,
                task)
            outs.append((k, state[2]))
        params, opt_state, _ = state
        params, opt_state, parts = dask.compute(params, opt_state, [o for _, o in outs])
        failed = next((p for p in parts if p.get("diverged")), None)
        if failed is not None:
            raise NonFinite(np.asarray(failed["params"]), failed["opt_state"], failed["batch"])
        _combine(totals, parts, [weights[k] for k, _ in outs],
                 [int(self.X.chunks[0][k]) for k, _ in outs], reduction, self.n_rows)
        totals.update(batches=self.n_batches(batch_size))
        return params, opt_state, epoch_metrics(totals)

    def _partition_weights(self) -> list[float]:
        if self.sample_weight is None:
            return [float(n) for n in self.X.chunks[0]]
        dask, _ = _require_dask()
        sums = [dask.delayed(np.sum)(b) for b in self.sample_weight.to_delayed().ravel()]
        return [float(v) for v in dask.compute(*sums)]

    def evaluate(self, w, b, activation, loss, reduction="sum", threshold=0.5,
                 task="classify") -> dict:
        """The metrics of the data at ``(w, b)`` (no gradient is needed, but one is cheap)."""
        return reported(self._pass(w, b, activation, loss, reduction, threshold, task)[2])

    # -- the map-reduce --

    def sums(self, w, b, activation, loss, threshold=0.5, task="classify") -> np.ndarray:
        """Every partition's :func:`partition_sums`, added in partition order."""
        dask, _ = _require_dask()
        act, lo = get_activation(activation).name, get_loss(loss).name
        w = np.asarray(w, dtype=np.float64)
        tasks = [dask.delayed(partition_sums, pure=True)(xb, yb, sb, w, float(b), act, lo,
                                                          float(threshold), task)
                 for xb, yb, sb in self._blocks()]
        parts = dask.compute(*tasks)
        total = np.zeros_like(parts[0])
        for p in parts:  # fixed order: the sum is the same whatever finished first
            total += p
        return total

    def forward_backward(self, w, b, activation, loss, reduction="sum", threshold=0.5,
                         task="classify"):
        """The distributed counterpart of :func:`neurona.engines.memory.forward_backward`."""
        return self._pass(w, b, activation, loss, reduction, threshold, task)

    def _pass(self, w, b, activation, loss, reduction, threshold, task):
        s = self.sums(w, b, activation, loss, threshold, task)
        d = self.n_features
        dw, db, loss_sum, sse, correct, n, weight_sum = s[:d], s[d], *s[d + 1:d + 6]
        scale = 1.0 if reduction == "sum" else 1.0 / weight_sum
        metrics = {"loss": float(loss_sum * scale), "sse": float(sse)}
        if task == "regress":
            metrics.update(zip(REGRESSION_SUMS, map(float, s[d + 6:])))
        else:
            metrics["accuracy"] = float(correct / n)
        return dw * scale, float(db * scale), metrics


def _aligned(a, X, da):
    """``a`` (a Dask array or Series, or None) partitioned like ``X``."""
    if a is None:
        return None
    a = _as_array(a, da)
    if any(math.isnan(c) for c in a.chunks[0]):
        a = a.compute_chunk_sizes()
    return a.rechunk((X.chunks[0],))


def _row_weights(y, labels, weights):
    out = np.ones(len(y))
    for label, weight in zip(labels, weights):
        out[y == label] = weight
    return out


def _partition_epoch(X, y, sw, params, opt_state, previous, seed, k, optimizer, activation,
                     loss, reduction, threshold, batch_size, l1, l2, task="classify"):
    """One partition's share of a mini-batch epoch, run where the partition lives."""
    if previous is not None and previous.get("diverged"):
        return params, opt_state, previous  # an earlier partition diverged: pass it on
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    sw = None if sw is None else np.asarray(sw, dtype=np.float64).ravel()
    order = None if seed is None else np.random.default_rng([seed, k]).permutation(len(y))
    totals = new_totals(params.shape[0], task)
    try:
        params, opt_state, m = run_epoch(
            X, y, params, opt_state, order, optimizer=optimizer,
            activation=get_activation(activation), loss=get_loss(loss), reduction=reduction,
            threshold=threshold, sample_weight=sw, batch_size=batch_size, l1=l1, l2=l2,
            totals=totals, task=task)
    except NonFinite as nf:
        return nf.params, nf.opt_state, {"diverged": True, "params": nf.params,
                                         "opt_state": nf.opt_state, "batch": nf.batch}
    del totals["batches"]
    return params, opt_state, totals


def _combine(totals, parts, weights, sizes, reduction, n) -> None:
    """An epoch's sums from its partitions' (``totals``, set in place), combined the way the
    objective is: the loss and gradient weighted by each partition's share for ``"mean"``."""
    total = float(sum(weights))
    c = [w / total if reduction == "mean" else 1.0 for w in weights]
    grad = sum(ci * p["grad"] for ci, p in zip(c, parts))
    sums = {key: 0.0 for key in totals if key not in ("batches", "loss", "grad")}
    for s, p in zip(sizes, parts):
        add_pass(sums, p, s / n)
    totals.update(sums, loss=float(sum(ci * p["loss"] for ci, p in zip(c, parts))), grad=grad)


def as_dask_array(obj):
    """A Dask array from a Dask array, DataFrame or Series (lengths computed)."""
    return _as_array(obj, _require_dask()[1])


def _as_array(obj, da):
    if isinstance(obj, da.Array):
        return obj
    if hasattr(obj, "to_dask_array"):
        return obj.to_dask_array(lengths=True)
    raise NeuronaError(
        f"Expected a dask array or dask DataFrame/Series, got {type(obj).__name__}; "
        "wrap in-memory data with dask.array.from_array or train in memory.")


def connect(address: str | None = None, timeout: float = 10.0, **cluster_kwargs):
    """A ``distributed.Client``: to the scheduler at ``address``, or a new ``LocalCluster``.

    An unreachable scheduler raises :class:`NeuronaError` after ``timeout`` seconds.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover
        raise NeuronaError(
            "Training on Dask needs the dask extra: pip install 'neurona[dask]'.") from None
    if address is None:
        cluster_kwargs.setdefault("dashboard_address", ":0")  # any free port, never a clash
        # A task that fails on bad data raises a neurona error, which the client reports
        # in one line; the workers need not log it too.
        cluster_kwargs.setdefault("silence_logs", logging.CRITICAL)
        cluster = LocalCluster(**cluster_kwargs)
        return Client(cluster)
    try:
        return Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as exc:
        raise NeuronaError(
            f"Could not reach the Dask scheduler at {address} within {timeout:g} s ({exc}); "
            "check the address, or leave out --scheduler to start a local cluster.") from None


# --- files on a cluster ----------------------------------------------------------------

#: How a CSV file's columns of each kind are read (other kinds: as text), as in memory.
_CSV_DTYPES = {"number": "float64", "boolean": "boolean"}


class DaskFiles:
    """CSV or Parquet files (a path or a glob) read by Dask, partition by partition.

    Reads the columns, learns the two classes of ``target`` (ordered as in
    memory: numbers and booleans ascending, then text; the first becomes 0),
    encodes the feature columns (:mod:`neurona.data.encoding`: text columns
    one-hot or hashed, missing values dropped or filled in, as ``rules``
    say) and splits off test rows (the per-row rule of
    :mod:`neurona.data.split` on each row's position in the files, the same
    rows as in memory or streamed).

    The columns' kinds are those of a file read in memory: the first file's
    (its Parquet schema, or what pyarrow infers from a CSV file's first
    block), and a CSV cell is missing when pyarrow would call it so. When the
    encoding needs statistics (categories, fill values), one pass learns them
    from the training rows, partition by partition: the rows that are not
    test rows, less those whose target is missing (unless missing values are
    errors) and, with ``missing="drop"``, those missing a feature; the
    partitions' fits are merged in partition order (a mean's sum may then
    differ from memory's in its last bits; a median is exact, but brings every
    training value of its column to the client). Numeric columns taken as
    they are need no such pass.

    Attributes
    ----------
    encoding : neurona.data.encoding.Encoding
        How the feature columns become the neuron's features.
    features : list of str
        The raw feature columns; :attr:`feature_names` are the encoded features.
    n_read, n_rows : int
        The rows in the files, and those kept (less the rows left out for
        missing values); :meth:`scan` sets ``n_train`` and ``n_test``.
    """

    def __init__(self, path: str, target: str | None, features=None, *, delimiter=None,
                 encoding=None, test_size: float = 0.0, random_state: int = 1,
                 task: str = "classify", rules=None):
        dask, da = _require_dask()

        from ..data.encoding import ColumnRules, RowPlace
        from ..data.readers import label_value, quote_list, sort_labels
        from ..errors import ColumnError, DataFileError, DataValueError, OptionError, TargetError

        text = str(path)
        csv = {"delimiter": delimiter, "encoding": encoding}
        frame, index_columns = _read_frame(text, **csv)
        columns = [str(c) for c in frame.columns]
        if target is None or target not in columns:
            raise ColumnError(f"{text}: target column {target!r} not found; the columns are "
                              f"{quote_list(columns)}; pass --target COLUMN.", path=text,
                              column=target)
        features = list(features) if features else [
            c for c in columns if c != target and c not in index_columns]
        missing = [c for c in features if c not in columns]
        if missing:
            raise ColumnError(f"{text}: feature column(s) {quote_list(missing)} not found; "
                              f"the columns are {quote_list(columns)}.", path=text,
                              column=missing[0])
        if target in features:
            raise OptionError(f"the target {target!r} cannot also be a feature; remove it "
                              f"from --features.")
        rules = rules or ColumnRules()
        place = RowPlace()
        place.path = text
        kinds = _column_kinds(text, frame, features, **csv)
        fit = rules.fit(kinds, place)  # refuses dates, other types, unknown --hash columns
        self.encoding = None if rules.needs_fit(kinds) else fit.result()
        if _is_csv(text):  # each column read as pyarrow reads its kind in memory
            frame, _ = _read_frame(text, **csv, dtypes={
                c: _CSV_DTYPES.get(kinds[c], "string") for c in features})
        if task == "regress":
            kind = frame[target].dtype.kind
            if kind not in "iuf":
                what = "booleans, which are two classes" if kind == "b" else \
                    f"{frame[target].dtype} values, not numbers"
                raise ColumnError(f"{text}: the target column {target!r} holds {what}; a "
                                  f"regression's target must be numbers (--task classify "
                                  f"trains a classifier).", path=text, column=target)
        seed = 1 if random_state is None else int(random_state)

        def coding(raw):
            """A classifier's two classes, from the target's distinct values, and the code
            of each value (0 or 1); a regression's: None."""
            if task == "regress":
                return None, None
            labels = {}
            for value in raw:
                labels.setdefault(label_value(value), []).append(value)
            classes = sort_labels(labels)
            if len(classes) != 2:
                raise TargetError(f"{text}: target column {target!r} has {len(classes)} "
                                  f"class(es) {quote_list(classes)}; binary training needs "
                                  f"exactly two.", path=text, column=target)
            return classes, {v: float(i) for i, c in enumerate(classes) for v in labels[c]}

        if self.encoding is not None and self.encoding.plain and all(
                frame[c].dtype.kind in "biuf" for c in features):
            # Numbers as they are: no fit, no row left out, one array of features and target.
            if task == "regress":
                self.classes, coded = None, frame[target].astype("f8")
            else:
                # Each partition's distinct labels (no shuffle), merged here.
                raw, = _compute(text, frame[target].dropna().map_partitions(
                    lambda s: s.drop_duplicates()))
                self.classes, code = coding(set(raw.tolist()))
                coded = frame[target].map(code, meta=(target, "f8")).astype("f8")
            # Features and coded target as one array, so that they share one partitioning:
            # the optimizer may merge small Parquet files into fewer partitions depending on
            # the columns read, so X and y read apart can come out cut differently.
            key = "__target__"
            while key in features:
                key += "_"
            table = frame[features].astype("f8").assign(**{key: coded})
            # The row counts are taken from the array's own blocks; a frame's npartitions is
            # the count before that merging, so to_dask_array(lengths=True) may refuse it.
            Xy = table.to_dask_array()
            Xy.compute_chunk_sizes()
            Xy = Xy.rechunk({1: -1})
            X, y = Xy[:, :-1], Xy[:, -1]
            rows = row_positions(y)
            self.n_read = int(y.shape[0])
        else:
            # One list of partitions for every pass, so that each pass sees the same rows.
            parts = frame[[*features, target]].to_delayed()
            kept = KeptRows(target, fit.kinds, rules.missing)
            sizes = _compute(text, *[dask.delayed(_partition_rows, pure=True)(
                p, kept, task != "regress") for p in parts])
            offsets = np.cumsum([0, *(n for n, _, _ in sizes[:-1])]).astype(np.int64)
            self.n_read = int(sum(n for n, _, _ in sizes))
            if self.n_read == 0:
                raise DataFileError(f"{text}: no data rows; add rows below the header.",
                                    path=text)
            if not any(m for _, m, _ in sizes):
                raise DataValueError(f"{text}: every row misses a value (--missing "
                                     f"{rules.missing} left none); fill the cells in or "
                                     f"choose other columns.", path=text)
            if self.encoding is None:  # learned on the training rows, in partition order
                for part in _compute(text, *[dask.delayed(_partition_fit, pure=True)(
                        p, int(k), kept, rules, kinds, place, seed, test_size)
                        for p, k in zip(parts, offsets)]):
                    fit.merge(part)
                self.encoding = fit.result()
            self.classes, code = coding({v for _, _, labels in sizes for v in labels})
            # Each partition's features, target and positions as the columns of one block
            # (positions are exact in float64 up to 2**53 rows).
            d = self.encoding.n_features
            Xy = da.concatenate([
                da.from_delayed(dask.delayed(_partition_encode, pure=True)(
                    p, int(k), kept, self.encoding, place, code), (m, d + 2), np.float64)
                for p, k, (_, m, _) in zip(parts, offsets, sizes) if m])
            X, y, rows = Xy[:, :d], Xy[:, d], Xy[:, d + 1].astype(np.int64)
        self.path, self.target, self.features, self.place = text, target, features, place
        self.test_size, self.task = test_size, task
        self.n_rows = int(y.shape[0])
        test = rows.map_blocks(_held_out, seed, test_size, TEST_STREAM, dtype=bool)
        self.X, self.y, self.test, self.rows = X, y, test, rows
        self.target_scaler = None

    @property
    def feature_names(self) -> list[str]:
        """The neuron's features: the encoding's names (``island=Biscoe``)."""
        return self.encoding.feature_names

    def scan(self, scale: str, scale_target: str = "none"):
        """One pass: counts, non-finite and constant features, a missing label, the scalers'
        statistics (``scale_target``: a regression's target, on its training rows)."""
        _, da = _require_dask()
        from ..data.scaling import Scaler, check_kind
        from ..data.table import check_constant
        from ..errors import DataValueError, TargetError

        check_kind(scale)
        train = ~self.test
        Xt = self.X[train]
        stats = dict(n=self.y.shape[0], n_test=self.test.sum(),
                     bad=(~da.isfinite(self.X)).any(axis=0), no_label=da.isnan(self.y).any(),
                     low=self.X.min(axis=0), high=self.X.max(axis=0))
        if self.task == "regress":
            stats.update(y_bad=da.isinf(self.y).any(), y_low=da.nanmin(self.y),
                         y_high=da.nanmax(self.y))
            if scale_target == "standard":
                stats.update(y_mean=self.y[train].mean(), y_std=self.y[train].std())
        else:
            codes = da.where(da.isnan(self.y), 0, self.y).astype(np.int64)  # NaN: below
            stats.update(train_counts=da.bincount(codes[train], minlength=2),
                         test_counts=da.bincount(codes[self.test], minlength=2))
        if scale != "none":
            stats.update(largest=abs(Xt).max(axis=0))
        if scale == "standard":
            stats.update(center=Xt.mean(axis=0), spread=Xt.std(axis=0))
        elif scale == "minmax":
            stats.update(center=Xt.min(axis=0), spread=Xt.max(axis=0) - Xt.min(axis=0))
        keys = list(stats)
        values = dict(zip(keys, _compute(self.path, *stats.values())))
        if values["no_label"] or values.get("y_bad"):
            what = "a missing value" if values["no_label"] else "an infinite value"
            leave = (", or pass --missing drop (or mean, median, most_frequent) to leave such "
                     "rows out" if values["no_label"] else "")
            raise DataValueError(f"{self.path}: the target column {self.target!r} has "
                                 f"{what}; every row needs a "
                                 f"{'number' if self.task == 'regress' else 'label'}: fix the "
                                 f"cell or drop the row{leave}.", path=self.path,
                                 column=self.target)
        bad = [f for f, b in zip(self.feature_names, values["bad"]) if b]
        if bad:
            raise DataValueError(f"{self.path}: column {bad[0]!r} holds NaN, empty or "
                                 f"infinite values; every feature needs a finite number.",
                                 path=self.path, column=bad[0])
        check_constant(self.place, None, self.feature_names, values["low"], values["high"])
        if scale != "none":  # a column too large to scale, as in memory
            from ..data.scaling import check_magnitude

            check_magnitude(values["largest"][None, :], self.feature_names, self.path)
        n_test = int(values["n_test"])
        if self.task == "regress":
            if values["y_low"] == values["y_high"]:
                raise TargetError(f"{self.path}, column {self.target!r}: the target is constant "
                                  f"(every row holds {values['y_low']:g}), so there is nothing "
                                  f"to learn; choose another target column.", path=self.path,
                                  column=self.target)
            counts = ({None: int(values["n"]) - n_test}, {None: n_test})
            if scale_target == "standard":
                self.target_scaler = Scaler("standard", [values["y_mean"]],
                                            [values["y_std"] if values["y_std"] > 0 else 1.0])
        else:
            counts = ({c: int(k) for c, k in zip(self.classes, values[part])}
                      for part in ("train_counts", "test_counts"))
        check_class_rows(*counts, self.classes, self.test_size, self.path)
        self.n_test = n_test
        self.n_train = int(values["n"]) - self.n_test
        self.scaler = None
        if scale != "none":
            spread = np.where(values["spread"] > 0, values["spread"], 1.0)
            self.scaler = Scaler(scale, values["center"], spread)
        return self

    def training_data(self) -> DaskEngine:
        """The (scaled) training rows, their targets (0/1, or a regression's, scaled if
        asked) and their positions, as an engine."""
        train = ~self.test
        X, y = self.X[train], self.y[train]
        if self.scaler is not None:
            X = (X - self.scaler.center) / self.scaler.scale
        if self.target_scaler is not None:
            y = (y - self.target_scaler.center[0]) / self.target_scaler.scale[0]
        return DaskEngine(X, y, rows=self.rows[train])

    def test_view(self, neuron):
        """The test rows' tally, and a sample of rows for the figures.

        The tally is a classifier's 2x2 confusion counts, or a regression's
        :data:`~neurona.core.scores.ERROR_SUMS` in the target's units. Returns
        ``(tally, (X, y, is_test))`` like :func:`neurona.engines.stream.test_pass`.
        """
        dask, da = _require_dask()
        regress = self.task == "regress"

        def predict(block):
            out = neuron.predict(block)  # the neuron takes raw features
            return np.asarray(out, dtype=np.float64)

        pred = self.X.map_blocks(predict, drop_axis=1, dtype=np.float64)
        t = self.test
        if regress:
            y, e = self.y[t], pred[t] - self.y[t]
            tally = [t.sum(), y.sum(), (y * y).sum(), e.sum(), (e * e).sum(),
                     abs(e).sum()]
        else:
            tally = [(t & (self.y == i) & (pred == j)).sum() for i in (0, 1) for j in (0, 1)]
        n = self.y.shape[0]
        step = max(1, n // SAMPLE_ROWS)
        sample = (self.X[::step], self.y[::step], self.test[::step])
        values = dask.compute(*tally, *sample)
        X, y, is_test = values[len(tally):]
        if regress:
            return dict(zip(ERROR_SUMS, map(float, values[:len(tally)]))), (X, y, is_test)
        confusion = np.array(values[:4], dtype=np.int64).reshape(2, 2)
        return confusion, (X, y.astype(np.int64), is_test)


def _parquet_index_columns(path: str) -> tuple[list[str], list[str]]:
    """The stored pandas index columns ``(unnamed, named)`` of a Parquet path or glob,
    from the schema of its first file, as :func:`neurona.readers.parquet_index_columns`."""
    import pyarrow.dataset as pads
    from fsspec.core import get_fs_token_paths

    from ..data.readers import parquet_index_columns

    fs, _, paths = get_fs_token_paths(path)
    if not paths:
        return [], []
    source = paths if len(paths) > 1 else paths[0]  # a list of files, or one file or folder
    return parquet_index_columns(pads.dataset(source, filesystem=fs, format="parquet").schema)


# --- reading the files, partition by partition -----------------------------------------

def _is_csv(text: str) -> bool:
    return text.lower().endswith((".csv", ".csv.gz", ".txt"))


def _read_frame(text: str, *, delimiter=None, encoding=None, dtypes=None):
    """The files at ``text`` as a Dask DataFrame, and the pandas index columns stored in
    them by name; ``dtypes`` types a CSV file's columns."""
    import dask.dataframe as dd

    from ..errors import DataFileError

    try:
        if text.endswith((".parquet", ".pq")) or Path(text).is_dir():
            # index=False: a stored pandas index stays a column (dropped below when
            # unnamed), as DataFile reads it. Building the frame from a named index
            # calls a pandas method with an argument pandas deprecates; that notice
            # is dask's, not the user's.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "The inplace keyword", DeprecationWarning)
                frame = dd.read_parquet(text, index=False)
            unnamed, index_columns = _parquet_index_columns(text)
            return frame.drop(columns=[c for c in unnamed if c in frame.columns]), index_columns
        if _is_csv(text):
            # The cells pyarrow reads as missing in memory, and no others.
            frame = dd.read_csv(text, sep=delimiter or ",", encoding=encoding or "utf-8",
                                blocksize=None if text.endswith(".gz") else "64MB",
                                dtype=dtypes, keep_default_na=False, na_values=_csv_nulls())
            return frame, []
    except (OSError, ValueError) as exc:
        if isinstance(exc, NeuronaError):
            raise
        raise DataFileError(f"{text}: cannot be read by Dask ({_one_line(exc)}); check "
                            f"the path or glob.", path=text) from None
    raise DataFileError(f"{text}: the Dask engine reads .csv, .csv.gz and .parquet files "
                        f"(or a glob of them).", path=text)


def _csv_nulls() -> list[str]:
    """The cells pyarrow's CSV reader takes for a missing value (``""``, ``NA``, ...)."""
    import pyarrow.csv as pacsv

    return list(pacsv.ConvertOptions().null_values)


def _first_file(text: str) -> str | None:
    """The first file of a path, a glob or a folder of Parquet files (None if none is
    found here, e.g. on a remote file system)."""
    import glob

    found = sorted(glob.glob(str(Path(text) / "*.parquet")) if Path(text).is_dir()
                   else glob.glob(text))
    return found[0] if found else None


def _column_kinds(text: str, frame, features: list[str], *, delimiter=None,
                  encoding=None) -> dict:
    """Each feature column's kind (:func:`neurona.data.encoding.kind_of`), as the first
    file read in memory has it (:meth:`neurona.data.readers.DataFile.column_kinds`); from
    the frame's dtypes when that file cannot be opened here."""
    from ..data.readers import SUFFIXES, DataFile

    first = _first_file(text)
    if first is not None and first.lower().endswith(tuple(
            s for s, kind in SUFFIXES.items() if kind in ("csv", "parquet"))):
        return DataFile(first, delimiter=delimiter, encoding=encoding).column_kinds(features)
    return {c: _dtype_kind(frame[c].dtype) for c in features}


def _dtype_kind(dtype) -> str:
    """The kind of a pandas column of this dtype (as :func:`~neurona.data.encoding.kind_of`
    names a pyarrow type's)."""
    import pandas as pd
    from pandas.api import types

    if types.is_bool_dtype(dtype):
        return "boolean"
    if types.is_numeric_dtype(dtype):
        return "number"
    if isinstance(dtype, pd.CategoricalDtype) or types.is_string_dtype(dtype):
        return "category"
    if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype) \
            or isinstance(dtype, pd.PeriodDtype):
        return "datetime"
    return "other"


def _compute(path: str, *collections):
    """``dask.compute`` of ``collections``; a file the workers cannot read or parse is a
    one-line error naming ``path``."""
    dask, _ = _require_dask()
    from ..errors import DataFileError

    try:
        return dask.compute(*collections)
    except (OSError, ValueError) as exc:
        if isinstance(exc, NeuronaError):
            raise
        raise DataFileError(f"{path}: cannot be read by Dask ({_one_line(exc)[:300]}).",
                            path=path) from None


class KeptRows:
    """Which rows of a partition the features are made of, as
    :class:`~neurona.data.table.TableReading` keeps them: all but those whose
    target is missing (unless ``missing`` is ``"error"``) and, with
    ``missing="drop"``, those missing a feature.

    Parameters
    ----------
    target : str
    kinds : dict
        The feature columns' kinds in the encoding (``"hash"`` for a hashed column).
    missing : str
        The missing-value rule (:class:`~neurona.data.encoding.ColumnRules`).
    """

    def __init__(self, target: str, kinds: dict, missing: str):
        self.target, self.kinds, self.missing = target, dict(kinds), missing

    def table(self, df):
        """The partition's feature columns as a pyarrow Table."""
        import pyarrow as pa

        return pa.Table.from_pandas(df[list(self.kinds)], preserve_index=False)

    def mask(self, df, table) -> np.ndarray:
        """The kept rows of the partition ``df`` (``table``: its feature columns)."""
        from ..data.encoding import missing_rows

        keep = np.ones(len(df), dtype=bool)
        if self.missing != "error":
            keep &= df[self.target].notna().to_numpy(dtype=bool)
        if self.missing == "drop":
            keep &= ~missing_rows(table, self.kinds)
        return keep


def _partition_rows(df, kept: KeptRows, labels: bool) -> tuple:
    """One partition's rows, its kept rows, and (``labels``) their distinct targets."""
    keep = kept.mask(df, kept.table(df))
    found = df[kept.target][keep].dropna().drop_duplicates().tolist() if labels else []
    return len(df), int(keep.sum()), found


def _partition_fit(df, offset: int, kept: KeptRows, rules, kinds: dict, place, seed: int,
                   test_size: float):
    """The :class:`~neurona.data.encoding.EncodingFit` of one partition's training rows
    (its first row at position ``offset`` in the files)."""
    import pyarrow as pa

    table = kept.table(df)
    keep = kept.mask(df, table)
    keep &= ~held_out(offset + np.arange(len(df)), seed, test_size, TEST_STREAM)
    fit = rules.fit(kinds, place)
    fit.update(table.filter(pa.array(keep)))
    return fit


def _partition_encode(df, offset: int, kept: KeptRows, encoding, place, code) -> np.ndarray:
    """One partition's kept rows as the columns ``[X, y, rows]``: the encoded features, the
    target (a classifier's ``code`` of each label, a regression's numbers) and the rows'
    positions in the files."""
    import pyarrow as pa

    table = kept.table(df)
    keep = kept.mask(df, table)
    rows = (offset + np.arange(len(df), dtype=np.int64))[keep]
    if not keep.all():
        table = table.filter(pa.array(keep))
    X, _ = encoding.transform(table, place, rows, training=True)
    target = df[kept.target][keep]
    if code is not None:
        target = target.map(code)
    y = target.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.column_stack([X, y, rows.astype(np.float64)])


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class cluster_client:
    """A context manager: a ``distributed.Client`` to ``address`` (or a new local
    cluster, closed on exit), made the default scheduler while it is open."""

    def __init__(self, address: str | None = None, timeout: float = 10.0):
        self.address, self.timeout = address, timeout

    def __enter__(self):
        self.client = connect(self.address, self.timeout)
        return self.client

    def __exit__(self, *exc):
        cluster = self.client.cluster if self.address is None else None
        self.client.close()
        if cluster is not None:
            cluster.close()
        return False
