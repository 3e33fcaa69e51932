"""The training loop: epochs of gradient descent with a per-epoch history.

Each history row holds the values of that epoch's forward pass, computed
before the epoch's update, as the tutorial post records its losses.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from . import kernels
from .activations import Activation
from .callbacks import Callback, History
from .errors import NeuronaError
from .losses import Loss, check_pair, check_reduction, reduction_scale
from .neuron import Neuron, check_features


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
    engine: str = "auto",
) -> tuple[np.ndarray, float, dict]:
    """One pass over ``(X, y)``: the gradient of the objective and the pass's metrics.

    Returns ``(dL_dw, dL_db, metrics)`` where ``metrics`` holds ``loss`` (the
    objective), ``sse`` (the summed squared error ``sum((a - y)^2)``, the
    number the post prints) and ``accuracy`` (of ``a > threshold``).

    The pass runs in the dtype of ``X`` when it is float32 or float64 (the
    net input ``X w`` and ``X^T dl/dz`` in that dtype, ``w`` cast to it) and
    in float64 otherwise; the gradient comes back in float64. ``X`` is never
    copied or converted here.

    ``engine`` picks the implementation: ``"numba"`` the fused pass of
    :mod:`neurona.kernels` (one read of ``X``, all cores), ``"numpy"`` the
    plain NumPy pass, ``"auto"`` (default) the fused pass when Numba is
    installed and ``X`` has at least :data:`neurona.kernels.FUSED_MIN_SIZE`
    entries. Both give the same numbers to rounding.
    """
    if engine != "numpy" and kernels.use_fused(X, activation, loss,
                                               kernels.check_engine(engine)):
        return kernels.fused_forward_backward(
            X, y, w, b, activation, loss, reduction, threshold, sample_weight)
    floating = X.dtype in (np.float32, np.float64)
    if floating:  # keep X w and X^T dl/dz in X's dtype: no float64 copy of X
        w, b = w.astype(X.dtype, copy=False), X.dtype.type(b)
    z = X @ w + b
    a = activation.value(z)
    e = a - y
    values = loss.pointwise(y, z, a)
    dl_dz = loss.dl_dz(y, z, a, activation)
    if sample_weight is not None:
        values = values * sample_weight
        dl_dz = dl_dz * sample_weight
    scale = reduction_scale(reduction, len(y), sample_weight)
    db = float(np.sum(dl_dz)) * scale
    metrics = {
        "loss": float(np.sum(values)) * scale,
        "sse": float(e @ e),
        "accuracy": float(np.mean((a > threshold) == (y > threshold))),
    }
    if floating:
        dl_dz = dl_dz.astype(X.dtype, copy=False)
    dL_dw = (X.T @ dl_dz) * scale
    return dL_dw.astype(np.float64, copy=False), db, metrics


def _check_targets(y, n_samples: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise NeuronaError(f"y must be 1-D (n_samples,), got shape {y.shape}.")
    if y.shape[0] != n_samples:
        raise NeuronaError(
            f"X and y have different numbers of samples: {n_samples} and {y.shape[0]}."
        )
    if y.dtype.kind not in "fiub":
        raise NeuronaError(
            f"y must be numeric (0/1 for classification), got dtype {y.dtype}."
        )
    return y.astype(np.float64)


def _check_finite(name: str, a: np.ndarray) -> None:
    if not np.all(np.isfinite(a)):
        what = "NaN" if np.isnan(a).any() else "infinity"
        raise NeuronaError(f"Input {name} contains {what}.")


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
    dtype: str = "float64",
    engine: str = "auto",
) -> History:
    """Train ``neuron`` in place by full-batch gradient descent; return its history.

    Each epoch computes the gradient of the objective on all of ``(X, y)``
    and takes the step ``w -= learning_rate * dL_dw``, ``b -= learning_rate *
    dL_db``. With the defaults this is exactly the tutorial post's loop.

    Parameters
    ----------
    neuron : Neuron
        The neuron to train; its weights and bias are the starting point.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Targets, 0/1 for classification.
    epochs : int, default=100
    learning_rate : float, default=0.01
    loss : {"log_loss", "squared_error"}, default="log_loss"
    reduction : {"sum", "mean"}, default="sum"
    sample_weight : array-like of shape (n_samples,), default=None
    callbacks : iterable of Callback, default=()
        Called at the start and end of training and of each epoch.
    dtype : {"float64", "float32"}, default="float64"
        The floating type of the pass over ``X`` (see :func:`forward_backward`).
        float32 halves the memory read per epoch; float64 is exact to
        rounding and is what reproduces the post. The weights and the update
        stay float64. ``X`` is converted once, and only if its dtype differs
        or it is neither C- nor F-contiguous.
    engine : {"auto", "numba", "numpy"}, default="auto"
        The implementation of the pass (see :func:`forward_backward`).

    Returns
    -------
    History
        One row per epoch: ``epoch``, ``loss``, ``sse``, ``accuracy``.
    """
    X = kernels.as_training_array(check_features(X, neuron.n_features), dtype)
    kernels.check_engine(engine)
    y = _check_targets(y, X.shape[0])
    _check_finite("X", X)
    _check_finite("y", y)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != y.shape:
            raise NeuronaError(
                f"sample_weight has shape {sample_weight.shape}, expected {y.shape}."
            )
        _check_finite("sample_weight", sample_weight)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise NeuronaError(f"epochs must be a positive integer, got {epochs!r}.")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise NeuronaError(f"learning_rate must be a positive number, got {learning_rate!r}.")
    activation, loss = check_pair(neuron.activation, loss)
    check_reduction(reduction)

    history = History()
    hooks = [history, *callbacks]
    for cb in hooks:
        cb.on_train_begin()
    w, b = neuron.weights, neuron.bias
    for epoch in range(int(epochs)):
        for cb in hooks:
            cb.on_epoch_begin(epoch)
        dw, db, metrics = forward_backward(
            X, y, w, b, activation, loss, reduction, neuron.threshold, sample_weight,
            engine=engine)
        w = w - learning_rate * dw
        b = b - learning_rate * db
        neuron.weights, neuron.bias = w, b
        logs = {"epoch": epoch, **metrics}
        for cb in hooks:
            cb.on_epoch_end(epoch, logs)
    for cb in hooks:
        cb.on_train_end()
    return history
