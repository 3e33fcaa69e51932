"""The training loop: batches, epochs, optimizers, validation, callbacks, divergence guard.

Three layers, each usable on its own:

- :func:`forward_backward`: one pass over some rows, the gradient of the
  objective and the pass's metrics (before any update).
- :func:`run_epoch`: **the per-epoch seam**. Given the data, the parameters,
  the optimizer state and the epoch's row order, it runs the epoch's batches
  (forward, backward, penalty, optimizer step, divergence check) and returns
  the new parameters, the new state and the epoch's metrics. Everything that
  happens once per batch is inside it, so a compiled kernel can replace its
  inside without anything around it changing.
- :class:`Trainer` (and the function :func:`train`): epochs, shuffling from a
  seeded generator, the validation split, class weights, the history,
  callbacks, stopping, checkpoints and resume.

Each history row describes one epoch: ``loss``, ``sse`` and ``accuracy`` come
from the epoch's forward passes, each batch's taken before that batch's
update (with one full batch, exactly the tutorial post's record);
``grad_norm`` is the norm of the epoch's gradient; ``learning_rate`` the rate
of the epoch's first update; the ``val_`` keys are measured on the validation
rows with the parameters at the end of the epoch.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Iterable

import numpy as np

from . import kernels
from . import optimizers as optim
from .activations import Activation
from .callbacks import Callback, History, load_checkpoint, overrides
from .core.checks import (check_finite, check_positive_int, check_real, check_sample_weight,
                     check_targets, class_weights, is_int, is_real, normalise_class_weight,
                     row_weights)
from .errors import NeuronaError
from .losses import Loss, check_pair, check_reduction, reduction_scale
from .neuron import Neuron, check_features


class DivergenceError(NeuronaError):
    """Training produced a NaN or infinite loss or weight and was stopped.

    The neuron keeps the weights of the last finite step. ``epoch`` is the
    epoch in which it happened (as numbered in the history), ``history`` the
    history of the epochs completed before it.
    """

    def __init__(self, message: str, epoch: int, history: History):
        super().__init__(message)
        self.epoch = epoch
        self.history = history


class _NonFinite(Exception):
    """Raised inside an epoch: the batch's loss or the new parameters are not finite."""

    def __init__(self, params, opt_state, batch):
        super().__init__(batch)
        self.params, self.opt_state, self.batch = params, opt_state, batch


# --- one pass: gradient and metrics ----------------------------------------------------

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
    *,
    kernel: str = "auto",
) -> tuple[np.ndarray, float, dict]:
    """One pass over ``(X, y)``: the gradient of the objective and the pass's metrics.

    Returns ``(dL_dw, dL_db, metrics)`` where ``metrics`` holds ``loss`` (the
    objective), ``sse`` (the summed squared error ``sum((a - y)^2)``, the
    number the post prints) and ``accuracy`` (of ``a > threshold``).

    The pass runs in the dtype of ``X`` when it is float32 or float64 (the
    net input ``X w`` and ``X^T dl/dz`` in that dtype, ``w`` cast to it) and
    in float64 otherwise; the gradient comes back in float64. ``X`` is never
    copied or converted here.

    ``kernel`` picks the implementation: ``"numba"`` the fused pass of
    :mod:`neurona.kernels` (one read of ``X``, all cores), ``"numpy"`` the
    plain NumPy pass, ``"auto"`` (default) the fused pass when Numba is
    installed and ``X`` has at least :data:`neurona.kernels.FUSED_MIN_SIZE`
    entries. Both give the same numbers to rounding.
    """
    if kernel != "numpy" and kernels.use_fused(X, activation, loss,
                                               kernels.check_kernel(kernel)):
        return kernels.fused_forward_backward(
            X, y, w, b, activation, loss, reduction, threshold, sample_weight)
    z, a, scale, metrics = _forward(X, y, w, b, activation, loss, reduction, threshold,
                                    sample_weight)
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


def evaluate(X, y, w, b, activation: Activation, loss: Loss, reduction: str = "sum",
             threshold: float = 0.5, sample_weight=None) -> dict:
    """The metrics of :func:`forward_backward` (``loss``, ``sse``, ``accuracy``), no gradient."""
    return _forward(X, y, w, b, activation, loss, reduction, threshold, sample_weight)[3]


def _forward(X, y, w, b, activation, loss, reduction, threshold, sample_weight):
    """The forward pass of the NumPy path: ``(z, a, reduction scale, metrics)``.

    It runs in float32 when ``X`` is float32 (``w`` cast to it, ``X`` never
    copied), else in float64.
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
    metrics = {
        "loss": float(np.add.reduce(values)) * scale,
        "sse": float(np.dot(e, e)),
        "accuracy": int(np.count_nonzero((a > threshold) == (y > threshold))) / len(y),
    }
    return z, a, scale, metrics


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


# --- the per-epoch seam -----------------------------------------------------------------------

def new_totals(n_params: int) -> dict:
    """Empty running sums of an epoch, for :func:`run_epoch`."""
    return {"batches": 0, "loss": 0.0, "sse": 0.0, "accuracy": 0.0,
            "grad": np.zeros(n_params, dtype=np.float64)}


def n_batches(n_samples: int, batch_size: int | None) -> int:
    """How many batches an epoch of ``n_samples`` rows has (the last one may be short)."""
    if batch_size is None or batch_size >= n_samples:
        return 1
    return -(-n_samples // batch_size)


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
        The optimizer's state (see :mod:`neurona.optimizers`).
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
        Running sums of the epoch (:func:`new_totals`), updated in place.
        ``totals["batches"]`` batches are taken as done already: pass the
        totals of an epoch that was cut short to finish it.
    on_batch_end : callable, default=None
        ``on_batch_end(batch, logs)`` after each batch, with the batch's
        ``loss``, ``sse``, ``accuracy`` and ``size``.
    should_stop : callable, default=None
        Asked after each batch; when it returns True before the last batch,
        the epoch is cut short.
    kernel : {"auto", "numba", "numpy"}, default="auto"
        The implementation of each batch's pass (see :func:`forward_backward`).
        With mini-batches, a named optimizer and no ``on_batch_end``, the
        Numba kernel runs the whole epoch, every batch's pass and update, as
        one compiled loop (:func:`neurona.kernels.compiled_epoch`): the same
        numbers to rounding, and ``should_stop`` is then asked only at the
        end of the epoch.

    Returns
    -------
    params, opt_state
        After the epoch's updates.
    metrics : dict or None
        ``loss`` (the objective, penalty included: summed over batches for
        ``"sum"``, their weighted mean for ``"mean"``), ``sse`` (summed),
        ``accuracy`` (over all rows) and ``grad_norm`` (the Euclidean norm of
        the batches' objective gradients combined the same way as the loss).
        ``None`` when the epoch was cut short; ``totals`` then says how far it got.

    Raises
    ------
    _NonFinite
        When a batch's loss or the updated parameters are not finite; it
        carries the last finite parameters and optimizer state, and the batch.
        Floating-point warnings are not silenced here: :class:`Trainer` runs
        epochs under ``np.errstate`` that ignores them, since this guard
        reports the outcome.
    """
    n = len(y)
    if totals is None:
        totals = new_totals(params.shape[0])
    nb = n_batches(n, batch_size)
    if nb > 1 and on_batch_end is None and kernels.use_compiled_epoch(
            X, activation, loss, optimizer, kernels.check_kernel(kernel)):
        params, opt_state, failed = kernels.compiled_epoch(
            X, y, params, opt_state, order, optimizer=optimizer, activation=activation,
            loss=loss, reduction=reduction, threshold=threshold,
            sample_weight=sample_weight, batch_size=batch_size, l1=l1, l2=l2, totals=totals)
        if failed is not None:
            raise _NonFinite(params, opt_state, failed)
        return params, opt_state, _epoch_metrics(totals)
    gradient = forward_backward if kernel == "auto" else functools.partial(
        forward_backward, kernel=kernel)
    if nb == 1 and order is None and not totals["batches"]:
        # The post's epoch: all rows as they are, one step. The epoch's sums are
        # the batch's own numbers (every factor below is 1.0), so they are set directly:
        # at the post's size the loop's bookkeeping costs more than its arithmetic.
        params, opt_state, grad, batch_loss, m = _batch_step(
            X, y, sample_weight, params, opt_state, 1.0, 0, optimizer, activation, loss,
            reduction, threshold, l1, l2, gradient)
        totals.update(batches=1, loss=batch_loss, sse=m["sse"], accuracy=m["accuracy"],
                      grad=grad)
        return params, opt_state, _epoch_metrics(totals)
    size = n if nb == 1 else batch_size
    mean = reduction == "mean"
    total_weight = float(n) if sample_weight is None else float(np.sum(sample_weight))
    loss_sum, sse_sum, acc_sum = totals["loss"], totals["sse"], totals["accuracy"]
    grad_sum = totals["grad"]
    for j in range(totals["batches"], nb):
        rows = slice(j * size, (j + 1) * size)
        if order is not None:
            rows = order[rows]
        Xb, yb = X[rows], y[rows]
        swb = None if sample_weight is None else sample_weight[rows]
        frac = (len(yb) if swb is None else float(np.sum(swb))) / total_weight
        params, opt_state, grad, batch_loss, m = _batch_step(
            Xb, yb, swb, params, opt_state, 1.0 if mean else frac, j, optimizer, activation,
            loss, reduction, threshold, l1, l2, gradient)
        # Combine like the objective: sums add up, means are weighted by their share.
        # With one batch every factor is exactly 1.0, so the metrics are the batch's own.
        c = frac if mean else 1.0
        loss_sum += c * batch_loss
        sse_sum += m["sse"]
        acc_sum += (len(yb) / n) * m["accuracy"]
        grad_sum = grad_sum + c * grad
        totals.update(batches=j + 1, loss=loss_sum, sse=sse_sum, accuracy=acc_sum,
                      grad=grad_sum)
        if on_batch_end is not None:
            on_batch_end(j, {"batch": j, "size": len(yb), "loss": batch_loss,
                             "sse": m["sse"], "accuracy": m["accuracy"]})
        if should_stop is not None and j + 1 < nb and should_stop():
            return params, opt_state, None
    return params, opt_state, _epoch_metrics(totals)


def _epoch_metrics(totals: dict) -> dict:
    grad = totals["grad"]
    return {"loss": totals["loss"], "sse": totals["sse"], "accuracy": totals["accuracy"],
            "grad_norm": math.sqrt(np.dot(grad, grad))}


def _batch_step(X, y, sample_weight, params, opt_state, share, batch, optimizer, activation,
                loss, reduction, threshold, l1, l2, gradient=forward_backward):
    """One batch: gradient, ``share`` of the penalty, optimizer step, divergence guard.

    ``gradient`` computes the batch's gradient and metrics with the signature of
    :func:`forward_backward` (a partitioned dataset passes its own map-reduce).
    Returns ``(params, opt_state, grad, batch_loss, metrics)``.
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
        raise _NonFinite(params, opt_state, batch)
    return new_params, new_state, grad, batch_loss, m


# --- the rows: in memory or on a cluster; the validation split ---------------------------
# (the checks of the arguments are in neurona.checks)

def _partitioned(X, y, sample_weight, n_features):
    """A :class:`neurona.distributed.DaskData` for Dask input, or None for in-memory data."""
    module = type(X).__module__ or ""
    if not (module.startswith("dask") or module.startswith("neurona.distributed")):
        return None
    from .distributed import DaskData

    data = X if isinstance(X, DaskData) else DaskData(X, y, sample_weight)
    if isinstance(X, DaskData) and (y is not None or sample_weight is not None):
        raise NeuronaError("A DaskData holds its own y and sample_weight; pass y=None.")
    if data.n_features != n_features:
        raise NeuronaError(f"X has {data.n_features} features, but the neuron is expecting "
                           f"{n_features} features as input.")
    return data


def validation_split(y: np.ndarray, fraction: float, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation row indices (each sorted), drawn from ``rng``.

    0/1 targets are split per class (stratified), with ``round(fraction *
    count)`` validation rows from each; other targets take the first
    ``ceil(fraction * n)`` rows of a random permutation.
    """
    n = len(y)
    perm = rng.permutation(n)
    if np.isin(y, (0.0, 1.0)).all():
        parts = []
        for label in (0.0, 1.0):
            rows = perm[y[perm] == label]
            parts.append(rows[:int(round(fraction * len(rows)))])
        val = np.concatenate(parts)
    else:
        val = perm[:math.ceil(fraction * n)]
    val = np.sort(val)
    train = np.setdiff1d(np.arange(n), val, assume_unique=True)
    if len(val) == 0 or len(train) == 0:
        raise NeuronaError(
            f"validation_fraction={fraction} leaves {len(train)} training and {len(val)} "
            f"validation rows out of {n}; both must be at least 1.")
    return train, val


# --- the trainer ---------------------------------------------------------------------------

_CHECKED_SETTINGS = (
    "activation", "loss", "reduction", "threshold", "optimizer", "learning_rate", "schedule",
    "decay_rate", "decay_steps", "power_t", "end_learning_rate", "momentum", "beta_1",
    "beta_2", "epsilon", "rho", "weight_decay", "batch_size", "shuffle", "l1", "l2",
    "class_weight", "validation_fraction", "validation_data", "random_state",
    "n_samples", "n_features", "sample_weight", "dtype",
)


def _json_normal(obj):
    return json.loads(json.dumps(obj))


class Trainer:
    """Trains one neuron; holds every piece of the run's state explicitly.

    Most users call :func:`train`, which builds a ``Trainer`` and runs it; the
    parameters are those of :func:`train`. Callbacks see the trainer as their
    ``trainer`` attribute.

    Attributes
    ----------
    neuron : Neuron
        The neuron being trained; its weights follow ``params`` after every epoch.
    params : ndarray of shape (n_features + 1,)
        The current weights, then the bias.
    opt_state : tuple
        The optimizer's state.
    rng : numpy.random.Generator
        The run's generator (validation split, then one shuffle per epoch).
    epoch : int
        Epochs completed.
    batch : int
        Batches completed within epoch ``epoch`` (nonzero only after a stop
        in the middle of an epoch).
    step : int
        Optimizer updates made.
    history : History
    stop_training : bool
        Set it (or call :meth:`stop`) to stop after the current batch.
    status : str
        ``"running"``, then ``"finished"``, ``"early_stopping"``,
        ``"interrupted"``, ``"stopped"`` or ``"diverged"``.
    """

    def __init__(self, neuron: Neuron, X, y, *, epochs: int = 100,
                 learning_rate: float = 0.01, loss: str | Loss = "log_loss",
                 reduction: str = "sum", sample_weight=None,
                 callbacks: Iterable[Callback] = (), optimizer="gd",
                 batch_size: int | None = None, shuffle: bool = True,
                 schedule: str = "constant", decay_rate: float | None = None,
                 decay_steps: int | None = None, power_t: float = 0.5,
                 end_learning_rate: float = 0.0, momentum: float = 0.9, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-8, rho: float = 0.9,
                 weight_decay: float = 0.01, l1: float = 0.0, l2: float = 0.0,
                 class_weight=None, validation_fraction: float | None = None,
                 validation_data=None, random_state=None, resume=None,
                 dtype: str = "float64", kernel: str = "auto"):
        self.kernel = kernels.check_kernel(kernel)
        partitioned = _partitioned(X, y, sample_weight, neuron.n_features)
        if partitioned is None:
            X = kernels.as_training_array(check_features(X, neuron.n_features), dtype)
            y = check_targets(y, X.shape[0])
            check_finite("X", X)
            check_finite("y", y)
            sample_weight = check_sample_weight(sample_weight, y)
            n_samples = X.shape[0]
        else:
            if kernels.check_dtype(dtype) != np.float64:
                raise NeuronaError(f"dtype={dtype!r} applies to data in memory; a Dask "
                                   f"dataset is trained in float64.")
            n_samples = partitioned.n_samples
        if not is_int(epochs) or epochs < 1:
            raise NeuronaError(f"epochs must be a positive integer, got {epochs!r}.")
        if not (is_real(learning_rate) and learning_rate > 0):
            raise NeuronaError(
                f"learning_rate must be a positive number, got {learning_rate!r}.")
        activation, loss = check_pair(neuron.activation, loss)
        check_reduction(reduction)
        batch_size = check_positive_int("batch_size", batch_size, allow_none=True)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise NeuronaError(f"shuffle must be True or False, got {shuffle!r}.")
        if schedule not in optim.SCHEDULES:
            raise NeuronaError(
                f"Unknown schedule {schedule!r}; choose one of {', '.join(optim.SCHEDULES)}.")
        check_real("decay_rate", decay_rate, 0.0, low_open=True, allow_none=True)
        decay_steps = check_positive_int("decay_steps", decay_steps, allow_none=True)
        check_real("power_t", power_t, 0.0)
        check_real("end_learning_rate", end_learning_rate, 0.0)
        check_real("momentum", momentum, 0.0, 1.0)
        check_real("beta_1", beta_1, 0.0, 1.0)
        check_real("beta_2", beta_2, 0.0, 1.0)
        check_real("epsilon", epsilon, 0.0, low_open=True)
        check_real("rho", rho, 0.0, 1.0)
        check_real("weight_decay", weight_decay, 0.0)
        check_real("l1", l1, 0.0)
        check_real("l2", l2, 0.0)
        class_weight = normalise_class_weight(class_weight)
        check_real("validation_fraction", validation_fraction, 0.0, 1.0, low_open=True,
                    allow_none=True)
        if validation_fraction is not None and validation_data is not None:
            raise NeuronaError("Pass validation_fraction or validation_data, not both.")
        if not isinstance(optimizer, optim.GradientTransformation):
            optim.optimizer_parameters(optimizer)  # raises for an unknown name
        if isinstance(random_state, np.random.Generator):
            rng, seed_record = random_state, "generator"
        elif random_state is None or is_int(random_state):
            rng = np.random.default_rng(random_state)
            seed_record = None if random_state is None else int(random_state)
        else:
            raise NeuronaError(f"random_state must be an int, a numpy Generator or None, "
                               f"got {random_state!r}.")

        self.neuron = neuron
        self.activation, self.loss = activation, loss
        self.reduction = reduction
        self.epochs = int(epochs)
        self.callbacks = list(callbacks)
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.l1, self.l2 = float(l1), float(l2)
        self.rng = rng
        self._rng_initial = rng.bit_generator.state
        self.settings = _json_normal({
            "activation": activation.name, "loss": loss.name, "reduction": reduction,
            "threshold": neuron.threshold,
            "optimizer": optimizer.name if isinstance(optimizer, optim.GradientTransformation)
            else optimizer,
            "learning_rate": float(learning_rate), "schedule": schedule,
            "decay_rate": decay_rate, "decay_steps": decay_steps, "power_t": power_t,
            "end_learning_rate": end_learning_rate, "momentum": momentum, "beta_1": beta_1,
            "beta_2": beta_2, "epsilon": epsilon, "rho": rho, "weight_decay": weight_decay,
            "batch_size": batch_size, "shuffle": self.shuffle, "l1": l1, "l2": l2,
            "class_weight": None if class_weight is None else class_weight
            if class_weight == "balanced" else {repr(k): v for k, v in class_weight.items()},
            "validation_fraction": validation_fraction,
            "validation_data": validation_data is not None, "random_state": seed_record,
            "n_samples": int(n_samples), "n_features": int(neuron.n_features),
            "sample_weight": sample_weight is not None, "dtype": kernels.check_dtype(dtype).name,
        })

        # The rows: the validation split comes first from the generator.
        val = None
        self.partitioned = partitioned is not None
        if self.partitioned:
            X, y, sample_weight, val = partitioned.prepare(
                validation_fraction, validation_data, class_weight, rng)
        elif validation_fraction is not None:
            train_rows, val_rows = validation_split(y, validation_fraction, rng)
            val = (X[val_rows], y[val_rows],
                   None if sample_weight is None else sample_weight[val_rows])
            X, y = X[train_rows], y[train_rows]
            sample_weight = None if sample_weight is None else sample_weight[train_rows]
        elif validation_data is not None:
            try:
                X_val, y_val = validation_data[:2]
            except (TypeError, ValueError):
                raise NeuronaError("validation_data must be a pair (X_val, y_val).") from None
            X_val = kernels.as_training_array(check_features(X_val, neuron.n_features), dtype)
            y_val = check_targets(y_val, X_val.shape[0])
            check_finite("X_val", X_val)
            check_finite("y_val", y_val)
            val = (X_val, y_val, None)
        if class_weight is not None and not self.partitioned:
            mapping = class_weights(y, class_weight)
            cw = row_weights(y, mapping)
            sample_weight = cw if sample_weight is None else sample_weight * cw
            if val is not None:
                vw = row_weights(val[1], mapping)
                val = (val[0], val[1], vw if val[2] is None else val[2] * vw)
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.validation = val
        self.n_batches = X.n_batches(batch_size) if self.partitioned else \
            n_batches(len(y), batch_size)

        # The schedule; unset lengths and rates are resolved here and recorded.
        if decay_rate is None:
            decay_rate = optim.DEFAULT_DECAY_RATE.get(schedule)
        if decay_steps is None:
            decay_steps = (self.n_batches * self.epochs if schedule == "cosine"
                           else self.n_batches * (10 if schedule == "step" else 1))
        self.resolved = {"decay_rate": decay_rate, "decay_steps": decay_steps}
        self.settings["resolved"] = dict(self.resolved)
        self.learning_rate = float(learning_rate)
        self._schedule_args = dict(schedule=schedule, power_t=power_t,
                                   end_learning_rate=end_learning_rate)
        self._optimizer_args = dict(optimizer=optimizer, momentum=momentum, beta_1=beta_1,
                                    beta_2=beta_2, epsilon=epsilon, rho=rho,
                                    weight_decay=weight_decay)
        self._build_optimizer()

        self.params = np.append(np.asarray(neuron.weights, dtype=np.float64),
                                np.float64(neuron.bias))
        self.opt_state = self.optimizer.init(self.params)
        self.epoch = self.batch = self.step = 0
        self.partial: dict | None = None
        self._rng_epoch_state = rng.bit_generator.state
        self.history = History()
        self.stop_training = False
        self.stop_reason: str | None = None
        self.status = "ready"
        if resume is not None:
            self._resume(resume)
        # What every epoch passes on, bound once: at the post's size, building these
        # arguments each epoch would cost a good part of the epoch's own arithmetic.
        self._epoch = functools.partial(
            self.X.run_epoch if self.partitioned else functools.partial(
                run_epoch, self.X, self.y, kernel=self.kernel),
            optimizer=self.optimizer, activation=self.activation, loss=self.loss,
            reduction=self.reduction, threshold=self.neuron.threshold,
            sample_weight=self.sample_weight, batch_size=self.batch_size, l1=self.l1,
            l2=self.l2, should_stop=lambda: self.stop_training)

    def _build_optimizer(self) -> None:
        sched = self._schedule_args
        self.schedule = optim.make_schedule(
            sched["schedule"], self.learning_rate, power_t=sched["power_t"],
            end_learning_rate=sched["end_learning_rate"], **self.resolved)
        args = dict(self._optimizer_args)
        name = args.pop("optimizer")
        mask = np.ones(self.neuron.n_features + 1, dtype=bool)
        mask[-1] = False  # weight decay leaves the bias alone, like the penalties
        self.optimizer = optim.get_optimizer(name, self.schedule, decay_mask=mask, **args)

    # -- stopping --

    def stop(self, reason: str = "stopped") -> None:
        """Stop after the current batch (the epoch is finished first with one full batch)."""
        self.stop_training = True
        if self.stop_reason is None:
            self.stop_reason = reason

    # -- the loop --

    def _sync_neuron(self) -> None:
        self.neuron.weights = self.params[:-1].copy()
        self.neuron.bias = float(self.params[-1])

    def _hooks(self) -> list[Callback]:
        user = [cb for cb in self.callbacks if not cb.run_last]
        last = [cb for cb in self.callbacks if cb.run_last]
        return [self.history, *user, *last]

    def run(self) -> History:
        """Train until ``epochs`` epochs are done or something stops the run; return the history."""
        hooks = self._hooks()
        for cb in hooks:
            cb.set_trainer(self)
        batch_hooks = [cb for cb in hooks if overrides(cb, "on_batch_end")]

        def each_batch_end(j, logs):
            for cb in batch_hooks:
                cb.on_batch_end(j, logs)

        # Per-batch calls only when some callback wants them (a kernel can skip them).
        on_batch_end = each_batch_end if batch_hooks else None
        self.stop_training, self.stop_reason = False, None
        self.status = "running"
        for cb in hooks:
            cb.on_train_begin({"epoch": self.epoch, "epochs": self.epochs})
        error = None
        try:
            # Overflow to inf/NaN is reported by the divergence guard, not as warnings.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                while self.epoch < self.epochs and not self.stop_training:
                    self._one_epoch(hooks, on_batch_end)
            self.status = ("finished" if self.epoch >= self.epochs
                           else self.stop_reason or "stopped")
        except _NonFinite as nf:
            self.params, self.opt_state = nf.params, nf.opt_state
            self._sync_neuron()
            self.status = "diverged"
            lr = self.schedule(self.step + nf.batch - self.batch)
            error = DivergenceError(
                f"Floating-point under-/overflow occurred at epoch #{self.epoch}. The loss or "
                f"the weights became NaN or infinite, so training stopped with the weights "
                f"of the last finite step. A smaller learning rate (it was {lr:g}), or "
                f"scaling the input data (for example with StandardScaler), might help.",
                self.epoch, self.history)
        except BaseException:
            self.status = "failed"
            raise
        finally:
            for cb in hooks:
                cb.on_train_end({"status": self.status, "epoch": self.epoch})
        if error is not None:
            raise error
        return self.history

    def _one_epoch(self, hooks, on_batch_end) -> None:
        e = self.epoch
        draws = self.n_batches > 1 and self.shuffle
        if self.batch == 0:
            if draws:
                self._rng_epoch_state = self.rng.bit_generator.state
            for cb in hooks:
                cb.on_epoch_begin(e, {})
        elif draws:  # finishing an epoch cut short: the same order again
            self.rng.bit_generator.state = self._rng_epoch_state
        first = e * self.n_batches
        totals = self.partial if self.partial is not None else new_totals(self.params.shape[0])
        done_before = totals["batches"]
        if draws:
            order = (self.X.draw_order(self.rng) if self.partitioned
                     else self.rng.permutation(len(self.y)))
        else:
            order = None
        params, opt_state, metrics = self._epoch(self.params, self.opt_state, order,
                                                 totals=totals, on_batch_end=on_batch_end)
        self.params, self.opt_state = params, opt_state
        self.step += totals["batches"] - done_before
        self._sync_neuron()
        if metrics is None:  # cut short after a batch
            self.batch, self.partial = totals["batches"], totals
            return
        self.batch, self.partial = 0, None
        self.epoch += 1
        if draws:
            self._rng_epoch_state = self.rng.bit_generator.state
        logs = {"epoch": e, "loss": metrics["loss"], "sse": metrics["sse"],
                "accuracy": metrics["accuracy"], "grad_norm": metrics["grad_norm"],
                "learning_rate": float(self.schedule(first))}
        if self.validation is not None:
            Xv, yv, swv = self.validation
            measure = Xv.evaluate if self.partitioned else functools.partial(evaluate, Xv, yv)
            m = measure(self.params[:-1], self.params[-1], self.activation, self.loss,
                        self.reduction, self.neuron.threshold, swv)
            m["loss"] += penalty(self.params[:-1], self.l1, self.l2)
            logs.update({f"val_{k}": v for k, v in m.items()})
        for cb in hooks:
            cb.on_epoch_end(e, logs)

    # -- checkpoints --

    def _callback_states(self) -> dict:
        states, seen = {}, {}
        for cb in self.callbacks:
            if not hasattr(cb, "get_state"):
                continue
            name = type(cb).__name__
            seen[name] = seen.get(name, 0) + 1
            states[name if seen[name] == 1 else f"{name}#{seen[name]}"] = cb
        return states

    def checkpoint(self) -> dict:
        """The run's whole state as JSON-ready data (what :class:`Checkpoint` writes)."""
        from .callbacks import CHECKPOINT_FORMAT, CHECKPOINT_VERSION

        partial = None
        if self.partial is not None:
            partial = {k: ([float(x) for x in v] if isinstance(v, np.ndarray) else v)
                       for k, v in self.partial.items()}
        return {
            "format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_VERSION,
            "status": self.status, "epoch": self.epoch, "batch": self.batch,
            "step": self.step, "params": [float(v) for v in self.params],
            "optimizer_state": optim.state_to_json(self.opt_state),
            "rng_initial": self._rng_initial, "rng": self._rng_epoch_state,
            "partial": partial,
            "history": [dict(row) for row in self.history.rows],
            "callbacks": {k: cb.get_state() for k, cb in self._callback_states().items()},
            "settings": self.settings,
        }

    def _resume(self, doc) -> None:
        if not isinstance(doc, dict):
            doc = load_checkpoint(doc)
        # Checkpoints written before the dtype option trained in float64.
        recorded = {"dtype": "float64", **doc["settings"]}
        diffs = [f"{k}={recorded.get(k)!r} there, {self.settings.get(k)!r} here"
                 for k in _CHECKED_SETTINGS if recorded.get(k) != self.settings.get(k)]
        if diffs:
            raise NeuronaError(
                "This checkpoint was written with other settings (" + "; ".join(diffs)
                + "); resume with the run's own settings (only epochs may change).")
        params = np.array(doc["params"], dtype=np.float64)
        if params.shape != self.params.shape:
            raise NeuronaError(f"The checkpoint has {params.shape[0]} parameters, expected "
                               f"{self.params.shape[0]}.")
        # The schedule keeps the lengths the run started with.
        self.resolved = dict(recorded["resolved"])
        self.settings["resolved"] = dict(self.resolved)
        self._build_optimizer()
        self.params = params
        self.opt_state = optim.state_from_json(doc["optimizer_state"])
        # The validation split was drawn from the initial state: redraw it identically.
        self._rng_initial = doc["rng_initial"]
        self._rng_epoch_state = doc["rng"]
        self.rng.bit_generator.state = doc["rng"]
        self.epoch, self.batch, self.step = int(doc["epoch"]), int(doc["batch"]), \
            int(doc["step"])
        partial = doc["partial"]
        if partial is not None:
            partial = dict(partial)
            partial["grad"] = np.array(partial["grad"], dtype=np.float64)
        self.partial = partial
        self.history = History([dict(r) for r in doc["history"]])
        states = doc["callbacks"]
        for key, cb in self._callback_states().items():
            if key in states and hasattr(cb, "set_state"):
                cb.set_state(states[key])
        self._sync_neuron()


def train(
    neuron: Neuron,
    X,
    y,
    *,
    epochs: int = 100,
    learning_rate: float = 0.01,
    loss: str | Loss = "log_loss",
    reduction: str = "sum",
    sample_weight=None,
    callbacks: Iterable[Callback] = (),
    optimizer: str | optim.GradientTransformation = "gd",
    batch_size: int | None = None,
    shuffle: bool = True,
    schedule: str = "constant",
    decay_rate: float | None = None,
    decay_steps: int | None = None,
    power_t: float = 0.5,
    end_learning_rate: float = 0.0,
    momentum: float = 0.9,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-8,
    rho: float = 0.9,
    weight_decay: float = 0.01,
    l1: float = 0.0,
    l2: float = 0.0,
    class_weight=None,
    validation_fraction: float | None = None,
    validation_data=None,
    random_state=None,
    resume=None,
    dtype: str = "float64",
    kernel: str = "auto",
) -> History:
    """Train ``neuron`` in place by gradient descent; return its history.

    With the defaults this is exactly the tutorial post's loop: one full batch
    per epoch, ``w -= learning_rate * dL_dw`` and ``b -= learning_rate * dL_db``
    with the summed log loss.

    Parameters
    ----------
    neuron : Neuron
        The neuron to train; its weights and bias are the starting point.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Targets, 0/1 for classification.
    epochs : int, default=100
        The total number of epochs (passes over the training rows). When
        resuming, the total including the epochs already done.
    learning_rate : float, default=0.01
        The step size ``eta``, or the starting value of the schedule.
    loss : {"log_loss", "squared_error"}, default="log_loss"
    reduction : {"sum", "mean"}, default="sum"
        How each batch reduces its per-sample losses.
    sample_weight : array-like of shape (n_samples,), default=None
        Per-sample weights (multiplied by the class weights, if any).
    callbacks : iterable of Callback, default=()
        Hooks called at the start and end of training, of each epoch and after
        each batch; see :mod:`neurona.callbacks`.
    optimizer : {"gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"} \
or GradientTransformation, default="gd"
        ``"gd"`` is the post's plain gradient descent. See :mod:`neurona.optimizers`.
    batch_size : int, default=None
        Rows per update: ``None`` is one full batch per epoch (the post), 1 is
        stochastic gradient descent, ``k`` mini-batches of ``k`` rows (the
        last one may be shorter).
    shuffle : bool, default=True
        With mini-batches, reshuffle the rows each epoch from the run's
        generator (``random_state``). A full batch is never shuffled.
    schedule : {"constant", "step", "exponential", "invscaling", "cosine"}, default="constant"
        The learning rate as a function of the update count ``t`` (one update
        per batch): constant ``eta``; step ``eta * decay_rate ** (t //
        decay_steps)``; exponential ``eta * decay_rate ** (t / decay_steps)``;
        invscaling ``eta / (t + 1) ** power_t``; cosine from ``eta`` down to
        ``end_learning_rate`` over ``decay_steps`` updates.
    decay_rate : float, default=None
        Factor of the step (default 0.5) and exponential (default 0.96) schedules.
    decay_steps : int, default=None
        Updates per decay period. Defaults: ten epochs' updates (step), one
        epoch's (exponential), the whole run's (cosine). The value used is
        kept in checkpoints, so a resumed run keeps its schedule.
    power_t : float, default=0.5
        Exponent of the invscaling schedule.
    end_learning_rate : float, default=0.0
        Where the cosine schedule ends.
    momentum : float, default=0.9
        Of the ``"momentum"`` and ``"nesterov"`` optimizers.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's (and AdamW's) moment decay rates.
    epsilon : float, default=1e-8
        Added to the denominators of AdaGrad, RMSProp, Adam and AdamW.
    rho : float, default=0.9
        RMSProp's decay rate of its mean squared gradient.
    weight_decay : float, default=0.01
        AdamW's decoupled weight decay (the bias is not decayed).
    l1, l2 : float, default=0.0
        Penalty ``l1 * sum|w| + l2 / 2 * sum w^2`` on the weights, never the
        bias (both: the elastic net). It is part of the objective and of the
        history's ``loss``. With ``reduction="mean"`` and ``l2 = alpha``, the
        minimiser is scikit-learn's ``LogisticRegression(C=1 / (alpha *
        n_samples))``; with ``reduction="sum"``, ``C=1 / alpha``.
    class_weight : dict or "balanced", default=None
        Weights per label, multiplied into the sample weights; ``"balanced"``
        is scikit-learn's ``n_samples / (n_classes * count(label))``, computed
        on the training rows. Labels missing from a dict get weight 1.
    validation_fraction : float in (0, 1), default=None
        Hold out this fraction of the rows (per class for 0/1 targets), drawn
        from the run's generator, and record ``val_loss``, ``val_sse`` and
        ``val_accuracy`` after every epoch.
    validation_data : tuple (X_val, y_val), default=None
        Validate on these rows instead.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the run's generator, the only source of randomness
        (validation split, shuffles); the global NumPy state is never used.
    resume : dict or path, default=None
        A checkpoint (see :class:`neurona.callbacks.Checkpoint`) to continue
        from: parameters, optimizer state, generator state, epoch, history.
        The other arguments must be those of the run that wrote it, except
        ``epochs``. Training ``k`` epochs and resuming to ``n`` gives the same
        weights and history, bit for bit, as training ``n`` at once.
    dtype : {"float64", "float32"}, default="float64"
        The floating type of the passes over ``X`` (see :func:`forward_backward`).
        float32 halves the memory read per epoch; float64 is exact to
        rounding and is what reproduces the post. The weights, the optimizer
        and its state stay float64. ``X`` is converted once, and only if its
        dtype differs or it is neither C- nor F-contiguous.
    kernel : {"auto", "numba", "numpy"}, default="auto"
        The implementation of each pass over data in memory (see
        :func:`forward_backward` and :func:`run_epoch`); a Dask dataset
        ignores it. Not the command line's ``--engine``, which says where
        the data lives.

    Returns
    -------
    History
        One row per epoch: ``epoch``, ``loss``, ``sse``, ``accuracy``,
        ``grad_norm``, ``learning_rate``, and ``val_loss``, ``val_sse``,
        ``val_accuracy`` when validating.

    Raises
    ------
    DivergenceError
        When the loss or the weights become NaN or infinite; the neuron keeps
        the last finite weights and the error carries the history so far.

    Examples
    --------
    >>> import numpy as np
    >>> from neurona import Neuron, train
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> h = train(Neuron([0.0]), X, y, epochs=50, learning_rate=0.5, optimizer="adam",
    ...           batch_size=2, random_state=0)
    >>> h.keys[:6]
    ['epoch', 'loss', 'sse', 'accuracy', 'grad_norm', 'learning_rate']
    """
    return Trainer(
        neuron, X, y, epochs=epochs, learning_rate=learning_rate, loss=loss,
        reduction=reduction, sample_weight=sample_weight, callbacks=callbacks,
        optimizer=optimizer, batch_size=batch_size, shuffle=shuffle, schedule=schedule,
        decay_rate=decay_rate, decay_steps=decay_steps, power_t=power_t,
        end_learning_rate=end_learning_rate, momentum=momentum, beta_1=beta_1,
        beta_2=beta_2, epsilon=epsilon, rho=rho, weight_decay=weight_decay, l1=l1, l2=l2,
        class_weight=class_weight, validation_fraction=validation_fraction,
        validation_data=validation_data, random_state=random_state, resume=resume,
        dtype=dtype, kernel=kernel,
    ).run()
