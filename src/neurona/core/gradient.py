"""One pass over some rows, and one batch's step: the arithmetic every engine shares.

- :func:`numpy_pass`: the gradient of the objective over rows held as a NumPy
  array, and the pass's metrics (``loss``, ``sse``, and ``accuracy`` or a
  regression's sums), before any update. Engines call it on whatever rows
  they hold at a time (a whole array, a record batch, a partition); the Numba
  kernels are a faster mirror of it.
- The metrics of a task, decided here once for every engine: a classifier's
  pass reports ``accuracy``; a regression's pass reports additive sums
  (:data:`REGRESSION_SUMS`) that engines add up over batches and partitions,
  and :func:`task_metrics` turns any such sums into ``r2`` and ``mae``.
- :func:`penalty`, :func:`penalty_gradient`: the elastic-net penalty on the weights.
- :func:`batch_step`: one batch's update: its gradient, its share of the
  penalty, the optimizer step and the divergence guard (:class:`NonFinite`).
- :func:`minibatch_step`: one mini-batch of an epoch, its step and its share of
  the epoch's running sums (:func:`new_totals`, :func:`epoch_metrics`).
"""

from __future__ import annotations

import math

import numpy as np

from .losses import reduction_scale

#: A regression pass's additive sums, each over the pass's rows and weighted by the sample
#: weights (1 without): the weight, the target, its square, the loss (the squared error)
#: and the absolute error. Adding the sums of two sets of rows gives the sums of both.
REGRESSION_SUMS = ("sum_w", "sum_y", "sum_y2", "sum_e2", "sum_abs")


class NonFinite(Exception):
    """Raised inside an epoch: a batch's loss or the new parameters are not finite.

    It carries the last finite parameters and optimizer state, and the batch;
    the trainer turns it into a :class:`~neurona.core.trainer.DivergenceError`.
    """

    def __init__(self, params, opt_state, batch):
        super().__init__(batch)
        self.params, self.opt_state, self.batch = params, opt_state, batch


def forward(X, y, w, b, activation, loss, reduction="sum", threshold=0.5, sample_weight=None,
            task="classify"):
    """The forward pass over rows in memory: ``(z, a, reduction scale, metrics)``.

    It runs in float32 when ``X`` is float32 (``w`` cast to it, ``X`` never
    copied), else in float64. ``metrics`` holds ``loss`` and ``sse``, then
    ``accuracy`` (``task="classify"``) or the :data:`REGRESSION_SUMS`
    (``task="regress"``).
    """
    if X.dtype.char == "f":
        w, b = w.astype(np.float32), np.float32(b)
    z = np.dot(X, w)
    z += b
    a = activation.value(z)
    e = a - y
    values = loss.pointwise(y, z, a)
    if sample_weight is not None:
        values = values * sample_weight
    scale = reduction_scale(reduction, len(y), sample_weight)
    # np.add.reduce and count_nonzero: np.sum's and np.mean's numbers, without
    # their Python overhead, which is most of the cost of a small pass.
    if task == "regress":
        total = float(np.add.reduce(values))
        metrics = {"loss": total * scale, "sse": float(np.dot(e, e)),
                   **regression_sums(y, e, total, sample_weight)}
        return z, a, scale, metrics
    metrics = {
        "loss": float(np.add.reduce(values)) * scale,
        "sse": float(np.dot(e, e)),
        "accuracy": int(np.count_nonzero((a > threshold) == (y > threshold))) / len(y),
    }
    return z, a, scale, metrics


def regression_sums(y, e, loss_sum, sample_weight=None) -> dict:
    """The :data:`REGRESSION_SUMS` of rows with targets ``y`` and errors ``e = a - y``.

    ``loss_sum`` is the rows' summed (weighted) loss, the squared error's
    ``sum w e^2``, already computed by the pass.
    """
    if sample_weight is None:
        return {"sum_w": float(len(y)), "sum_y": float(np.add.reduce(y)),
                "sum_y2": float(np.dot(y, y)), "sum_e2": loss_sum,
                "sum_abs": float(np.add.reduce(np.abs(e)))}
    wy = sample_weight * y
    return {"sum_w": float(np.add.reduce(sample_weight)), "sum_y": float(np.add.reduce(wy)),
            "sum_y2": float(np.dot(wy, y)), "sum_e2": loss_sum,
            "sum_abs": float(np.dot(sample_weight, np.abs(e)))}


def task_metrics(sums: dict) -> dict:
    """A task's own history values from a pass's (or an epoch's) metrics.

    A classifier's: ``accuracy`` as it is. A regression's, from its
    :data:`REGRESSION_SUMS`: ``r2 = 1 - SSE_w / SST_w`` with ``SSE_w = sum w e^2``
    and ``SST_w = sum w y^2 - (sum w y)^2 / sum w`` (the weighted spread of the
    targets around their weighted mean), and ``mae = sum w |e| / sum w``.
    Targets that do not vary give ``r2 = 1`` when every error is 0, else 0
    (scikit-learn's ``r2_score`` rule).
    """
    if "sum_w" not in sums:
        return {"accuracy": sums["accuracy"]}
    weight = sums["sum_w"]
    if not weight > 0:
        return {"r2": 0.0, "mae": 0.0}
    sst = sums["sum_y2"] - sums["sum_y"] * sums["sum_y"] / weight
    if sst > 1e-12 * sums["sum_y2"]:
        r2 = 1.0 - sums["sum_e2"] / sst
    else:  # constant targets (to rounding)
        r2 = 1.0 if sums["sum_e2"] == 0 else 0.0
    return {"r2": r2, "mae": sums["sum_abs"] / weight}


def reported(metrics: dict) -> dict:
    """A pass's metrics as a history reports them: ``loss``, ``sse``, then :func:`task_metrics`."""
    if "sum_w" not in metrics:
        return metrics
    return {"loss": metrics["loss"], "sse": metrics["sse"], **task_metrics(metrics)}

def numpy_pass(X, y, w, b, activation, loss, reduction="sum", threshold=0.5,
               sample_weight=None, task="classify") -> tuple[np.ndarray, float, dict]:
    """One NumPy pass over ``(X, y)``: ``(dL_dw, dL_db, metrics)``.

    ``metrics`` holds ``loss`` (the objective), ``sse`` (the summed squared
    error ``sum((a - y)^2)``, the number the post prints) and ``accuracy``
    (of ``a > threshold``), or for ``task="regress"`` the
    :data:`REGRESSION_SUMS` instead of ``accuracy``. The pass runs in the
    dtype of ``X`` when it is float32 or float64 and in float64 otherwise;
    the gradient comes back in float64. ``X`` is never copied or converted here.
    """
    z, a, scale, metrics = forward(X, y, w, b, activation, loss, reduction, threshold,
                                   sample_weight, task)
    dl_dz = loss.dl_dz(y, z, a, activation)
    if sample_weight is not None:
        dl_dz = dl_dz * sample_weight
    db = float(np.add.reduce(dl_dz))
    # X^T dl/dz as np.dot(dl/dz, X): the same BLAS call as X.T @ dl/dz, with less
    # Python around it; in float32 for float32 X (no float64 copy of X).
    if X.dtype.char == "f":
        dw = np.dot(dl_dz.astype(np.float32), X).astype(np.float64)
    else:
        dw = np.dot(dl_dz, X)
    if scale != 1.0:  # "mean"; a sum's factor is 1.0, which would change nothing
        dw *= scale
        db *= scale
    return dw, db, metrics


def evaluate(X, y, w, b, activation, loss, reduction="sum", threshold=0.5,
             sample_weight=None, task="classify") -> dict:
    """The metrics of the rows at ``(w, b)``, no gradient: ``loss``, ``sse``, and
    ``accuracy`` or (``task="regress"``) ``r2`` and ``mae``."""
    return reported(forward(X, y, w, b, activation, loss, reduction, threshold, sample_weight,
                            task)[3])


# --- regularisation ----------------------------------------------------------------------

def penalty(w: np.ndarray, l1: float = 0.0, l2: float = 0.0) -> float:
    """The penalty on the weights (never the bias): ``l1 * sum|w| + l2 / 2 * sum w^2``.

    ``l1`` and ``l2`` together are the elastic net; scikit-learn's ``alpha``
    and ``l1_ratio`` are ``l1 = alpha * l1_ratio``, ``l2 = alpha * (1 - l1_ratio)``.
    """
    out = 0.0
    if l1:
        out += l1 * float(np.sum(np.abs(w)))
    if l2:
        out += 0.5 * l2 * float(w @ w)
    return out


def penalty_gradient(w: np.ndarray, l1: float = 0.0, l2: float = 0.0) -> np.ndarray:
    """The (sub)gradient of :func:`penalty`: ``l1 * sign(w) + l2 * w`` (``sign(0) = 0``)."""
    g = np.zeros_like(w)
    if l1:
        g = g + l1 * np.sign(w)
    if l2:
        g = g + l2 * w
    return g


# --- an epoch's sums and one batch's step ------------------------------------------------

def new_totals(n_params: int, task: str = "classify") -> dict:
    """Empty running sums of an epoch (updated in place by an engine's ``run_epoch``).

    ``batches``, ``loss``, ``sse``, then ``accuracy`` (a classifier) or the
    :data:`REGRESSION_SUMS` (a regression), and ``grad``.
    """
    if task == "regress":
        return {"batches": 0, "loss": 0.0, "sse": 0.0, **dict.fromkeys(REGRESSION_SUMS, 0.0),
                "grad": np.zeros(n_params, dtype=np.float64)}
    return {"batches": 0, "loss": 0.0, "sse": 0.0, "accuracy": 0.0,
            "grad": np.zeros(n_params, dtype=np.float64)}


def add_pass(totals: dict, m: dict, rows_share: float) -> None:
    """Add a pass's ``sse`` and its task's sums into an epoch's ``totals``.

    ``accuracy`` counts each pass by its share of the epoch's rows
    (``rows_share``); a regression's sums are added as they are.
    """
    totals["sse"] = totals["sse"] + m["sse"]
    if "sum_w" in m:
        for key in REGRESSION_SUMS:
            totals[key] = totals[key] + m[key]
    else:
        totals["accuracy"] = totals["accuracy"] + rows_share * m["accuracy"]


def n_batches(n_samples: int, batch_size: int | None) -> int:
    """How many batches an epoch of ``n_samples`` rows has (the last one may be short)."""
    if batch_size is None or batch_size >= n_samples:
        return 1
    return -(-n_samples // batch_size)


def epoch_metrics(totals: dict) -> dict:
    """An epoch's history values from its running sums."""
    grad = totals["grad"]
    return {"loss": totals["loss"], "sse": totals["sse"], **task_metrics(totals),
            "grad_norm": math.sqrt(np.dot(grad, grad))}


def batch_step(X, y, sample_weight, params, opt_state, share, batch, optimizer, activation,
               loss, reduction, threshold, l1, l2, gradient=numpy_pass):
    """One batch: gradient, ``share`` of the penalty, optimizer step, divergence guard.

    ``gradient`` computes the batch's gradient and metrics with the signature of
    :func:`numpy_pass` (an engine passes its own: the fused kernel, a sum over
    record batches, a map-reduce over partitions), its task bound (the
    metrics it returns say which task they are). Returns ``(params,
    opt_state, grad, batch_loss, metrics)``; raises :class:`NonFinite` when the
    loss or the new parameters are not finite.
    """
    w = params[:-1]
    dw, db, m = gradient(X, y, w, params[-1], activation, loss, reduction, threshold,
                         sample_weight)
    grad = np.empty(len(params))  # (dw, db), as np.concatenate would, in half its time
    grad[:-1] = dw
    grad[-1] = db
    batch_loss = m["loss"]
    if l1 or l2:
        grad[:-1] += share * penalty_gradient(w, l1, l2)
        batch_loss += share * penalty(w, l1, l2)
    step, new_state = optimizer.update(grad, opt_state, params)
    new_params = params + step
    # A sum is NaN or infinite when any term is (or when weights near 1e308 overflow it,
    # which is divergence all the same); cheaper than np.isfinite(...).all().
    if not math.isfinite(batch_loss + float(np.add.reduce(new_params))):
        raise NonFinite(params, opt_state, batch)
    return new_params, new_state, grad, batch_loss, m


def minibatch_step(X, y, sample_weight, params, opt_state, batch, totals, *, total_weight,
                   n_rows, optimizer, activation, loss, reduction, threshold, l1, l2,
                   gradient=numpy_pass, on_batch_end=None):
    """One mini-batch of an epoch: :func:`batch_step`, then its values added to ``totals``.

    The penalty is the batch's share of it (all of it for ``"mean"``, its fraction
    of the ``total_weight`` for ``"sum"``), and the epoch's sums combine the batches
    like the objective: sums add up, means are weighted by their share (with one
    batch every factor is exactly 1.0). ``on_batch_end(batch, logs)`` follows.
    Returns ``(params, opt_state)``.
    """
    mean = reduction == "mean"
    frac = (len(y) if sample_weight is None else float(np.sum(sample_weight))) / total_weight
    params, opt_state, grad, batch_loss, m = batch_step(
        X, y, sample_weight, params, opt_state, 1.0 if mean else frac, batch, optimizer,
        activation, loss, reduction, threshold, l1, l2, gradient)
    c = frac if mean else 1.0
    add_pass(totals, m, len(y) / n_rows)
    totals.update(batches=batch + 1, loss=totals["loss"] + c * batch_loss,
                  grad=totals["grad"] + c * grad)
    if on_batch_end is not None:
        on_batch_end(batch, batch_logs(batch, len(y), batch_loss, m))
    return params, opt_state


def batch_logs(batch: int, size: int, batch_loss: float, m: dict) -> dict:
    """What ``on_batch_end`` receives: ``batch``, ``size``, then the batch's reported metrics
    with ``loss`` its objective (penalty share included)."""
    logs = {"batch": batch, "size": size, **reported(m)}
    logs["loss"] = batch_loss
    return logs
