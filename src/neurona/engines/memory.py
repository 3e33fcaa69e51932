"""The in-memory engine: rows held as a NumPy array, with the Numba kernels as its fast path.

Two functions are the per-epoch seam, usable on their own:

- :func:`forward_backward`: one pass over some rows, the gradient of the
  objective and the pass's metrics (before any update): the fused Numba pass
  for large problems, :func:`neurona.core.gradient.numpy_pass` otherwise.
- :func:`run_epoch`: given the data, the parameters, the optimizer state and
  the epoch's row order, it runs the epoch's batches (forward, backward,
  penalty, optimizer step, divergence check) and returns the new parameters,
  the new state and the epoch's metrics. Everything that happens once per
  batch is inside it, so a compiled kernel can replace its inside without
  anything around it changing.

:class:`MemoryEngine` wraps them in the engine protocol of
:mod:`neurona.core.engine`.
"""

from __future__ import annotations

import functools

import numpy as np

from ..core import optimizers as optim
from ..core.activations import Activation
from ..core.checks import check_finite, check_sample_weight, check_targets
from ..core.engine import Engine, check_split
from ..core.gradient import (NonFinite, batch_step, epoch_metrics, evaluate, minibatch_step,
                             n_batches, new_totals, numpy_pass)
from ..core.losses import Loss
from ..core.neuron import check_features
from ..data.split import VALIDATION_STREAM, held_out
from ..errors import NeuronaError
from . import kernels


def forward_backward(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    activation: Activation,
    loss: Loss,
    reduction: str = "sum",
    threshold: float = 0.5,
    sample_weight: np.ndarray | None = None,
    task: str = "classify",
    *,
    kernel: str = "auto",
) -> tuple[np.ndarray, float, dict]:
    """One pass over ``(X, y)``: the gradient of the objective and the pass's metrics.

    Returns ``(dL_dw, dL_db, metrics)`` where ``metrics`` holds ``loss`` (the
    objective), ``sse`` (the summed squared error ``sum((a - y)^2)``, the
    number the post prints) and ``accuracy`` (of ``a > threshold``); with
    ``task="regress"`` the additive sums of
    :data:`neurona.core.gradient.REGRESSION_SUMS` instead of ``accuracy``.

    The pass runs in the dtype of ``X`` when it is float32 or float64 (the
    net input ``X w`` and ``X^T dl/dz`` in that dtype, ``w`` cast to it) and
    in float64 otherwise; the gradient comes back in float64. ``X`` is never
    copied or converted here.

    ``kernel`` picks the implementation: ``"numba"`` the fused pass of
    :mod:`neurona.engines.kernels` (one read of ``X``, all cores), ``"numpy"``
    the plain NumPy pass, ``"auto"`` (default) the fused pass when Numba is
    installed and ``X`` has at least :data:`neurona.engines.kernels.FUSED_MIN_SIZE`
    entries. Both give the same numbers to rounding.
    """
    if kernel != "numpy" and kernels.use_fused(X, activation, loss,
                                               kernels.check_kernel(kernel)):
        return kernels.fused_forward_backward(
            X, y, w, b, activation, loss, reduction, threshold, sample_weight, task)
    return numpy_pass(X, y, w, b, activation, loss, reduction, threshold, sample_weight, task)


def run_epoch(
    X: np.ndarray,
    y: np.ndarray,
    params: np.ndarray,
    opt_state: tuple,
    order: np.ndarray | None = None,
    *,
    optimizer: optim.GradientTransformation,
    activation: Activation,
    loss: Loss,
    reduction: str = "sum",
    threshold: float = 0.5,
    sample_weight: np.ndarray | None = None,
    batch_size: int | None = None,
    l1: float = 0.0,
    l2: float = 0.0,
    totals: dict | None = None,
    on_batch_end=None,
    should_stop=None,
    kernel: str = "auto",
    task: str = "classify",
) -> tuple[np.ndarray, tuple, dict | None]:
    """One epoch: every batch's forward pass, gradient, penalty and optimizer step.

    This is the seam of the training loop: given the data, the parameters, the
    optimizer state and the batch order, it returns ``(params, opt_state,
    metrics)``. Nothing outside it runs per batch, so it can be replaced by a
    compiled kernel that gives the same numbers.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    params : ndarray of shape (n_features + 1,)
        The weights, then the bias.
    opt_state : tuple
        The optimizer's state (see :mod:`neurona.core.optimizers`).
    order : ndarray of int of shape (n_samples,), default=None
        The row order of the epoch (a permutation); ``None``: the rows as they
        are. Batch ``j`` is ``order[j * batch_size:(j + 1) * batch_size]``.
    optimizer : GradientTransformation
    activation, loss : Activation, Loss
    reduction : {"sum", "mean"}, default="sum"
        How each batch reduces its per-sample losses.
    threshold : float, default=0.5
    sample_weight : ndarray of shape (n_samples,), default=None
        Per-row weights (class weights already multiplied in).
    batch_size : int, default=None
        Rows per batch; ``None`` (or ``>= n_samples``): one full batch.
    l1, l2 : float, default=0.0
        The penalty ``l1 * |w|_1 + l2 / 2 * |w|^2`` on the weights (not the
        bias). With ``reduction="mean"`` each batch adds the whole penalty (its
        mean loss estimates the full mean); with ``"sum"`` each batch adds its
        share, its fraction of the total sample weight (the batches' sums add
        up to the full sum). Either way the epoch's objective is
        ``reduced loss + penalty``, and with one batch it is exact.
    totals : dict, default=None
        Running sums of the epoch (:func:`neurona.core.gradient.new_totals`),
        updated in place. ``totals["batches"]`` batches are taken as done
        already: pass the totals of an epoch that was cut short to finish it.
    on_batch_end : callable, default=None
        ``on_batch_end(batch, logs)`` after each batch, with the batch's
        ``loss``, ``sse``, ``accuracy`` and ``size``.
    should_stop : callable, default=None
        Asked after each batch; when it returns True before the last batch,
        the epoch is cut short.
    kernel : {"auto", "numba", "numpy"}, default="auto"
        The implementation of each batch's pass (see :func:`forward_backward`).
        With mini-batches, an optimizer that has a compiled adapter
        (:mod:`neurona.engines.compiled_optimizers`) and no ``on_batch_end``,
        the Numba kernel runs the whole epoch, every batch's pass and update,
        as one compiled loop (:func:`neurona.engines.kernels.compiled_epoch`):
        the same numbers to rounding, and ``should_stop`` is then asked only
        at the end of the epoch.
    task : {"classify", "regress"}, default="classify"
        Which metrics the epoch reports besides ``loss``, ``sse`` and
        ``grad_norm``: ``accuracy``, or a regression's ``r2`` and ``mae``
        (see :func:`neurona.core.gradient.task_metrics`).

    Returns
    -------
    params, opt_state
        After the epoch's updates.
    metrics : dict or None
        ``loss`` (the objective, penalty included: summed over batches for
        ``"sum"``, their weighted mean for ``"mean"``), ``sse`` (summed),
        ``accuracy`` (over all rows) or ``r2`` and ``mae`` (from the batches'
        summed statistics) and ``grad_norm`` (the Euclidean norm of
        the batches' objective gradients combined the same way as the loss).
        ``None`` when the epoch was cut short; ``totals`` then says how far it got.

    Raises
    ------
    neurona.core.gradient.NonFinite
        When a batch's loss or the updated parameters are not finite; it
        carries the last finite parameters and optimizer state, and the batch.
        Floating-point warnings are not silenced here: the trainer runs
        epochs under ``np.errstate`` that ignores them, since this guard
        reports the outcome.
    """
    n = len(y)
    if totals is None:
        totals = new_totals(params.shape[0], task)
    nb = n_batches(n, batch_size)
    if nb > 1 and on_batch_end is None and kernels.use_compiled_epoch(
            X, activation, loss, optimizer, kernels.check_kernel(kernel)):
        params, opt_state, failed = kernels.compiled_epoch(
            X, y, params, opt_state, order, optimizer=optimizer, activation=activation,
            loss=loss, reduction=reduction, threshold=threshold,
            sample_weight=sample_weight, batch_size=batch_size, l1=l1, l2=l2, totals=totals,
            task=task)
        if failed is not None:
            raise NonFinite(params, opt_state, failed)
        return params, opt_state, epoch_metrics(totals)
    gradient = forward_backward if kernel == "auto" and task == "classify" else \
        functools.partial(forward_backward, task=task, kernel=kernel)
    if nb == 1 and order is None and not totals["batches"]:
        # The post's epoch: all rows as they are, one step. The epoch's sums are
        # the batch's own numbers (every factor below is 1.0), so they are set directly:
        # at the post's size the loop's bookkeeping costs more than its arithmetic.
        params, opt_state, grad, batch_loss, m = batch_step(
            X, y, sample_weight, params, opt_state, 1.0, 0, optimizer, activation, loss,
            reduction, threshold, l1, l2, gradient)
        totals.update(m, batches=1, loss=batch_loss, grad=grad)
        return params, opt_state, epoch_metrics(totals)
    size = n if nb == 1 else batch_size
    total_weight = float(n) if sample_weight is None else float(np.sum(sample_weight))
    for j in range(totals["batches"], nb):
        rows = slice(j * size, (j + 1) * size)
        if order is not None:
            rows = order[rows]
        params, opt_state = minibatch_step(
            X[rows], y[rows], None if sample_weight is None else sample_weight[rows], params,
            opt_state, j, totals, total_weight=total_weight, n_rows=n, optimizer=optimizer,
            activation=activation, loss=loss, reduction=reduction, threshold=threshold,
            l1=l1, l2=l2, gradient=gradient, on_batch_end=on_batch_end)
        if should_stop is not None and j + 1 < nb and should_stop():
            return params, opt_state, None
    return params, opt_state, epoch_metrics(totals)


def as_rows(X, y, n_features: int | None = None, *, dtype="float64", name: str = "X"):
    """``(X, y)`` checked for training: 2-D numeric ``X`` in ``dtype`` (C- or F-contiguous),
    0/1 or numeric float64 ``y`` of the same length, both finite."""
    X = np.asarray(X)
    X = kernels.as_training_array(
        check_features(X, X.shape[1] if n_features is None and X.ndim == 2 else n_features),
        dtype)
    y = check_targets(y, X.shape[0])
    if X.shape[0] == 0:
        raise NeuronaError(f"{name} has no rows; training needs at least one row.")
    check_finite(name, X)
    check_finite("y" if name == "X" else f"y{name[1:]}", y)
    return X, y


class MemoryEngine(Engine):
    """Training rows held in memory as NumPy arrays.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Float32 or float64, C- or F-contiguous (see :func:`as_rows`).
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,), default=None
    rows : ndarray of int of shape (n_samples,), default=None
        Each row's position in its source (a file's row number), for the
        per-row validation split; default ``0 .. n-1``.
    kernel : {"auto", "numba", "numpy"}, default="auto"
        How each pass is computed (see :func:`run_epoch`).
    """

    name = "in-memory"

    def __init__(self, X, y, sample_weight=None, *, rows=None, kernel: str = "auto"):
        self.X, self.y = X, y
        self.sample_weight = check_sample_weight(sample_weight, y)
        self.rows = np.arange(len(y)) if rows is None else np.asarray(rows)
        self.kernel = kernels.check_kernel(kernel)
        self.n_rows, self.n_features = int(X.shape[0]), int(X.shape[1])
        self.weighted = self.sample_weight is not None

    def n_batches(self, batch_size):
        return n_batches(self.n_rows, batch_size)

    def draw_order(self, rng):
        return rng.permutation(self.n_rows)

    def run_epoch(self, params, opt_state, order=None, **settings):
        return run_epoch(self.X, self.y, params, opt_state, order,
                         sample_weight=self.sample_weight, kernel=self.kernel, **settings)

    def bind_epoch(self, **settings):
        return functools.partial(run_epoch, self.X, self.y, sample_weight=self.sample_weight,
                                 kernel=self.kernel, **settings)

    def evaluate(self, w, b, activation, loss, reduction="sum", threshold=0.5,
                 task="classify"):
        return evaluate(self.X, self.y, w, b, activation, loss, reduction, threshold,
                        self.sample_weight, task)

    def forward_backward(self, w, b, activation, loss, reduction="sum", threshold=0.5,
                         task="classify"):
        return forward_backward(self.X, self.y, w, b, activation, loss, reduction, threshold,
                                self.sample_weight, task, kernel=self.kernel)

    def _take(self, keep: np.ndarray) -> "MemoryEngine":
        sw = None if self.sample_weight is None else self.sample_weight[keep]
        return MemoryEngine(self.X[keep], self.y[keep], sw, rows=self.rows[keep],
                            kernel=self.kernel)

    def split(self, fraction, seed):
        val = held_out(self.rows, seed, fraction, VALIDATION_STREAM)
        check_split(int((~val).sum()), int(val.sum()), fraction)
        return self._take(~val), self._take(val)

    def label_counts(self):
        labels, counts = np.unique(self.y, return_counts=True)
        return dict(zip(map(float, labels), map(int, counts)))

    def reweighted(self, mapping):
        w = np.ones(self.n_rows)
        for label, weight in mapping.items():
            w[self.y == label] = weight
        sw = w if self.sample_weight is None else self.sample_weight * w
        return MemoryEngine(self.X, self.y, sw, rows=self.rows, kernel=self.kernel)


__all__ = ["MemoryEngine", "NonFinite", "as_rows", "forward_backward", "run_epoch"]
