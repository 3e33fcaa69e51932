"""Training on Dask: full-batch gradient descent as a map-reduce over partitions.

Each partition computes its partial sums (the gradient of the summed loss,
the summed loss, the squared error, the number of correct predictions, the
number of rows and their total weight); the client adds them up in partition
order, so the result does not depend on which worker finished first, and
takes the step. Only the parameters travel to the workers each epoch; the
data stay where they are (persisted in the workers' memory by default).

Dask is an optional dependency: ``pip install neurona[dask]``.
"""

from __future__ import annotations

import numpy as np

from .activations import get_activation
from .errors import NeuronaError
from .losses import get_loss
from .training import forward_backward


def _require_dask():
    try:
        import dask
        import dask.array as da
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise NeuronaError(
            "Training on Dask needs the dask extra: pip install 'neurona[dask]'.") from None
    return dask, da


def partition_sums(X, y, sample_weight, w, b, activation, loss, threshold) -> np.ndarray:
    """The additive statistics of one partition, as one vector.

    Layout: ``[dL_dw (d values), dL_db, loss, sse, n_correct, n_rows, weight_sum]``,
    all with ``reduction="sum"``; adding the vectors of all partitions gives
    the statistics of the whole dataset.
    """
    activation, loss = get_activation(activation), get_loss(loss)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    n = X.shape[0]
    if n == 0:
        return np.zeros(X.shape[1] + 6)
    dw, db, m = forward_backward(X, y, w, b, activation, loss, "sum", threshold, sw)
    weight_sum = float(n) if sw is None else float(np.sum(sw))
    return np.r_[dw, db, m["loss"], m["sse"], round(m["accuracy"] * n), n, weight_sum]


class DaskData:
    """A dataset held by Dask, row-partitioned: ``X`` (n, d), ``y`` (n,), optional weights.

    Parameters
    ----------
    X : dask array or dask DataFrame
        Features; a DataFrame is converted with known partition lengths.
    y : dask array or dask Series
        Targets (0/1 for classification), partitioned like ``X``.
    sample_weight : dask array or dask Series, default=None
    persist : bool, default=True
        Keep the data in the workers' memory between epochs (otherwise each
        epoch reads them again from their source).
    """

    def __init__(self, X, y, sample_weight=None, persist: bool = True):
        dask, da = _require_dask()
        X, y = _as_array(X, da), _as_array(y, da)
        if X.ndim != 2:
            raise NeuronaError(f"X must be 2-D (n_samples, n_features), got {X.ndim}-D.")
        if X.numblocks[1] != 1:
            X = X.rechunk({1: -1})
        y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
        if y.ndim != 1:
            raise NeuronaError(f"y must be 1-D (n_samples,), got {y.ndim}-D.")
        y = y.rechunk((X.chunks[0],))
        if sample_weight is not None:
            sample_weight = _as_array(sample_weight, da).rechunk((X.chunks[0],))
        if persist:
            X, y = dask.persist(X, y)
            if sample_weight is not None:
                (sample_weight,) = dask.persist(sample_weight)
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.n_features = X.shape[1]

    @property
    def n_partitions(self) -> int:
        return self.X.numblocks[0]

    def sums(self, w, b, activation, loss, threshold=0.5) -> np.ndarray:
        """Every partition's :func:`partition_sums`, added in partition order."""
        dask, _ = _require_dask()
        xs = self.X.to_delayed().ravel()
        ys = self.y.to_delayed().ravel()
        sws = (self.sample_weight.to_delayed().ravel() if self.sample_weight is not None
               else [None] * len(xs))
        act, lo = get_activation(activation).name, get_loss(loss).name
        w = np.asarray(w, dtype=np.float64)
        tasks = [dask.delayed(partition_sums, pure=True)(xb, yb, sb, w, float(b), act, lo,
                                                          float(threshold))
                 for xb, yb, sb in zip(xs, ys, sws)]
        parts = dask.compute(*tasks)
        total = np.zeros_like(parts[0])
        for p in parts:  # fixed order: the sum is the same whatever finished first
            total += p
        return total

    def forward_backward(self, w, b, activation, loss, reduction="sum", threshold=0.5):
        """The distributed counterpart of :func:`neurona.training.forward_backward`."""
        s = self.sums(w, b, activation, loss, threshold)
        d = self.n_features
        dw, db, loss_sum, sse, correct, n, weight_sum = s[:d], s[d], *s[d + 1:]
        scale = 1.0 if reduction == "sum" else 1.0 / weight_sum
        metrics = {"loss": float(loss_sum * scale), "sse": float(sse), "accuracy": float(correct / n)}
        return dw * scale, float(db * scale), metrics


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
        cluster = LocalCluster(**cluster_kwargs)
        return Client(cluster)
    try:
        return Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as exc:
        raise NeuronaError(
            f"Could not reach the Dask scheduler at {address} within {timeout:g} s ({exc}); "
            "check the address, or leave out --scheduler to start a local cluster.") from None
