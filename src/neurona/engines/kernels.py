"""The fused training pass: forward, loss and gradient in one read of ``X``.

A full-batch epoch of one neuron is two matrix-vector products over ``X``
and a few element-wise passes. Done with NumPy it reads ``X`` twice and
makes several temporaries of length ``n_samples``; the fused pass, compiled
by Numba, reads each row once, computes ``z``, the activation, the loss and
``dl/dz`` while the row is in cache and adds its share of the gradient,
split over the cores with one partial gradient per chunk of rows.

Numba is optional. :func:`neurona.training.forward_backward` uses the fused
pass when Numba can be imported and the problem has at least
:data:`FUSED_MIN_SIZE` entries; otherwise, and for any activation or loss
that is not one of neurona's own, it uses NumPy. Both give the same numbers
(to 1e-12 relative in float64). Numba is imported only when a problem that
large is first trained, so small runs never pay its import time.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from ..core.activations import ACTIVATIONS, Activation
from ..core.checks import check_dtype
from ..core.spec import KERNELS
from .compiled_optimizers import adapter_for
from ..errors import NeuronaError
from ..core.gradient import REGRESSION_SUMS
from ..core.losses import LOSSES, Loss, reduction_scale

#: Below this many entries of ``X`` (n_samples * n_features) the NumPy path is
#: used: Numba's call and thread start-up cost about as much as the pass saves
#: (measured on 2 cores: NumPy always ahead below 1e4 entries, the fused pass
#: always ahead above 2e5, in between it depends on n_features and on how
#: busy the machine is), and Numba is never imported for small problems.
FUSED_MIN_SIZE = 50_000


# Codes shared with neurona._fused.
_ACTIVATION_CODES = {"sigmoid": 0, "tanh": 1, "identity": 2, "step": 3}
_LOSS_CODES = {"squared_error": 0, "log_loss": 1}

# Rows per chunk (the unit of work of a thread) and per block (the rows that
# stay in cache between the net-input and the gradient sweep over them).
_MAX_CHUNKS = 64
_MIN_CHUNK_ROWS = 1024
_ROW_BLOCK = 32           # C-ordered X: a few rows, swept row by row
_COLUMN_BLOCK_BYTES = 1 << 18   # F-ordered X: a block of every column

_numba_found: bool | None = None


def numba_available() -> bool:
    """Whether Numba is installed (checked once, without importing it)."""
    global _numba_found
    if _numba_found is None:
        _numba_found = importlib.util.find_spec("numba") is not None
    return _numba_found


def check_kernel(kernel: str) -> str:
    if kernel not in KERNELS:
        raise NeuronaError(f"Unknown kernel {kernel!r}; choose one of {', '.join(KERNELS)}.")
    if kernel == "numba" and not numba_available():
        raise NeuronaError(
            "kernel='numba' needs Numba, which is not installed; install it with "
            "'pip install numba' or use kernel='auto'.")
    return kernel


def as_training_array(X: np.ndarray, dtype="float64") -> np.ndarray:
    """``X`` in ``dtype``, C- or F-contiguous: itself when it already is, else one copy.

    The layout is kept (an F-ordered X stays F-ordered); an X that is
    neither C- nor F-contiguous (a strided view) becomes C-ordered.
    """
    X = X.astype(check_dtype(dtype), order="K", copy=False)
    if not (X.flags.c_contiguous or X.flags.f_contiguous):
        X = np.ascontiguousarray(X)
    return X


def fusable(X: np.ndarray, activation: Activation, loss: Loss) -> bool:
    """Whether the fused pass can take this problem as it is (no copy of ``X``)."""
    return (X.ndim == 2 and X.dtype in (np.float32, np.float64)
            and (X.flags.c_contiguous or X.flags.f_contiguous)
            and ACTIVATIONS.get(activation.name) is activation
            and LOSSES.get(loss.name) is loss)


def use_fused(X: np.ndarray, activation: Activation, loss: Loss, kernel: str = "auto") -> bool:
    """Whether ``kernel`` picks the fused pass for this problem."""
    if kernel == "numpy":
        return False
    if kernel == "numba":
        if not fusable(X, activation, loss):
            raise NeuronaError(
                "kernel='numba' takes a C- or F-contiguous float32 or float64 X and one of "
                "neurona's own activations and losses; use kernel='auto' for anything else.")
        return True
    return X.size >= FUSED_MIN_SIZE and fusable(X, activation, loss) and numba_available()


def threads() -> int:
    """Threads of the fused pass: Numba's setting (``NUMBA_NUM_THREADS``, or
    ``numba.set_num_threads``), by default the number of cores."""
    import numba

    return numba.get_num_threads()


def chunking(X: np.ndarray) -> tuple[int, int]:
    """``(chunk_rows, block_rows)`` of the fused pass over ``X``.

    Both depend on the shape and layout only, never on the number of
    threads, so the sums are the same bit for bit on any machine.
    """
    n, d = X.shape
    n_chunks = max(1, min(_MAX_CHUNKS, n // _MIN_CHUNK_ROWS))
    chunk_rows = max(1, -(-n // n_chunks))
    if X.flags.c_contiguous:
        return chunk_rows, _ROW_BLOCK
    return chunk_rows, max(64, min(4096, _COLUMN_BLOCK_BYTES // (d * X.itemsize)))


def _check_shapes(n: int, d: int, y, w, sample_weight=None, order=None) -> None:
    """The compiled loops trust their indices: check the shapes they rely on first."""
    for name, a, shape in (("y", y, (n,)), ("w", w, (d,)), ("sample_weight", sample_weight, (n,))):
        if a is not None and np.shape(a) != shape:
            raise NeuronaError(f"{name} has shape {np.shape(a)}, expected {shape} for an X of "
                               f"shape {(n, d)}.")
    if order is not None and np.ndim(order) != 1:  # any length: all of X's rows, or some
        raise NeuronaError(f"order has shape {np.shape(order)}, expected one row number a row.")
    if order is not None and len(order) and (np.min(order) < 0 or np.max(order) >= n):
        raise NeuronaError(f"order must hold row numbers 0 to {n - 1}, got values from "
                           f"{np.min(order)} to {np.max(order)}.")


def fused_forward_backward(X, y, w, b, activation: Activation, loss: Loss, reduction="sum",
                           threshold=0.5, sample_weight=None,
                           task="classify") -> tuple[np.ndarray, float, dict]:
    """:func:`neurona.engines.memory.forward_backward` by the fused pass (needs Numba).

    The same arguments and the same ``(dL_dw, dL_db, metrics)``; a regression's
    sums are added up in the same read of ``X``.

    ``X`` must be C- or F-contiguous, float32 or float64 (see :func:`fusable`);
    it is read as it is, never copied.
    """
    from . import _fused

    n, d = X.shape
    _check_shapes(n, d, y, w, sample_weight)
    y = np.ascontiguousarray(y, dtype=np.float64)
    wx = np.ascontiguousarray(w, dtype=X.dtype)
    sw = (np.empty(0) if sample_weight is None
          else np.ascontiguousarray(sample_weight, dtype=np.float64))
    chunk_rows, block_rows = chunking(X)
    transposed = not X.flags.c_contiguous  # F-ordered X is read as its C-ordered X.T
    regress = task == "regress"
    args = (X.T if transposed else X, y, wx, float(b), sw, _ACTIVATION_CODES[activation.name],
            _LOSS_CODES[loss.name], float(threshold))
    total = _fused.full_batch(*args, transposed, chunk_rows, block_rows, threads(),
                              True if regress else None).sum(axis=0)
    scale = reduction_scale(reduction, n, sample_weight)
    if regress:
        metrics = {"loss": float(total[d + _fused.LOSS]) * scale,
                   "sse": float(total[d + _fused.SSE]),
                   "sum_w": float(total[d + _fused.SUM_W]),
                   "sum_y": float(total[d + _fused.SUM_Y]),
                   "sum_y2": float(total[d + _fused.SUM_Y2]),
                   "sum_e2": float(total[d + _fused.LOSS]),
                   "sum_abs": float(total[d + _fused.SUM_ABS])}
        return total[:d] * scale, float(total[d + _fused.DB]) * scale, metrics
    metrics = {
        "loss": float(total[d + _fused.LOSS]) * scale,
        "sse": float(total[d + _fused.SSE]),
        "accuracy": float(total[d + _fused.CORRECT]) / n,
    }
    return total[:d] * scale, float(total[d + _fused.DB]) * scale, metrics


# --- the compiled mini-batch epoch --------------------------------------------------------

def use_compiled_epoch(X: np.ndarray, activation: Activation, loss: Loss, optimizer,
                       kernel: str = "auto") -> bool:
    """Whether ``kernel`` runs a mini-batch epoch with this optimizer as one compiled loop.

    It takes the optimizers that have a compiled adapter
    (:data:`neurona.compiled_optimizers.COMPILED_OPTIMIZERS`, found by their
    ``spec["name"]``), neurona's own activations and losses, and a C- or
    F-contiguous float32 or float64 X. Any other optimizer runs on the NumPy
    loop of :func:`neurona.training.run_epoch`, even with ``kernel="numba"``
    (whose batches then take the fused pass when they are large enough).
    """
    if kernel == "numpy" or adapter_for(optimizer) is None:
        return False
    return use_fused(X, activation, loss, kernel)


#: The epoch's running sums the compiled epoch keeps, in the order of its ``sums`` slots.
_EPOCH_SUMS = ("loss", "sse", "accuracy", *REGRESSION_SUMS)


def use_compiled_steps(entries: int, activation: Activation, loss: Loss, optimizer,
                       kernel: str = "auto") -> bool:
    """Whether ``kernel`` runs a streamed epoch's mini-batches as compiled loops.

    The rule of :func:`use_compiled_epoch`, for rows that arrive in chunks:
    ``entries`` is the epoch's rows times features (the chunks themselves are
    C-ordered float32 or float64 arrays).
    """
    if kernel == "numpy" or adapter_for(optimizer) is None:
        return False
    own = ACTIVATIONS.get(activation.name) is activation and LOSSES.get(loss.name) is loss
    if kernel == "numba":
        if not own:
            raise NeuronaError(
                "kernel='numba' takes one of neurona's own activations and losses; use "
                "kernel='auto' for anything else.")
        return True
    return own and entries >= FUSED_MIN_SIZE and numba_available()


def compiled_epoch(X, y, params, opt_state, order, *, optimizer, activation, loss,
                   reduction, threshold, sample_weight, batch_size, l1, l2, totals,
                   task="classify", n_rows=None, total_weight=None, skip=None):
    """A mini-batch epoch of :func:`neurona.training.run_epoch` in one compiled loop (Numba).

    Runs batches ``totals["batches"]`` to the last, updating ``totals`` in
    place as ``run_epoch`` does. Returns ``(params, opt_state, failed)``:
    ``failed`` is the batch whose loss or update was not finite (``params``
    and ``opt_state`` are then those before it), or ``None``. The numbers are
    those of the NumPy loop to rounding: each batch's gradient is summed row
    by row instead of by BLAS, and the updates are the same formulas.

    The rows are ``X[order]`` (default: all of ``X`` in its order): a
    permutation of ``X``'s rows, or some of them only (a streamed epoch's run
    of the shuffle buffer: its store, and the slots of the rows that leave it).
    Those may hold some of an epoch's batches only: ``n_rows`` and
    ``total_weight`` are then the epoch's (default: those of the rows), and
    ``skip`` the batches of the rows done already (default:
    ``totals["batches"]``), ``totals["batches"]`` counting on from where it is;
    ``failed`` counts the batches of the rows.
    """
    from . import _fused

    adapter = adapter_for(optimizer)
    if adapter is None:
        raise NeuronaError(
            f"optimizer {optimizer.name!r} has no compiled adapter (see "
            "neurona.compiled_optimizers); run its epoch with kernel='numpy'.")
    spec = optimizer.spec
    _check_shapes(*X.shape, y, np.asarray(params)[:-1], sample_weight, order)
    n, d = (X.shape[0] if order is None else len(order)), X.shape[1]
    p = d + 1
    mu, nu, adam_count, lr_count = adapter.unpack(opt_state, p)
    first = totals["batches"] if skip is None else skip
    n_batch = -(-n // batch_size)
    schedule = spec["schedule"]
    if hasattr(schedule, "constant"):
        lrs = np.full(n_batch - first, float(schedule.constant))
    else:
        lrs = np.array([schedule(lr_count + j) for j in range(n_batch - first)], dtype=float)
    hyper, mask = adapter.hyper(spec), adapter.mask(spec, p)
    if total_weight is None:
        some = order is not None and n < X.shape[0]  # some rows only (else all, permuted)
        total_weight = (float(n) if sample_weight is None else
                        float(np.sum(sample_weight[order] if some else sample_weight)))
    transposed = not X.flags.c_contiguous
    params = np.array(params, dtype=np.float64)
    sums = np.array([totals.get(key, 0.0) for key in _EPOCH_SUMS])
    regress = task == "regress"
    grad_sum = np.array(totals["grad"], dtype=np.float64)
    done, failed = _fused.minibatch_epoch(
        X.T if transposed else X, np.ascontiguousarray(y, dtype=np.float64),
        np.empty(0) if sample_weight is None
        else np.ascontiguousarray(sample_weight, dtype=np.float64),
        np.arange(n) if order is None else np.ascontiguousarray(order, dtype=np.int64),
        transposed, int(batch_size), int(first), params, mu, nu, int(adam_count), lrs,
        adapter.code, hyper, mask, _ACTIVATION_CODES[activation.name],
        _LOSS_CODES[loss.name], reduction == "mean", float(threshold), float(l1), float(l2),
        float(total_weight), sums, grad_sum, float(n if n_rows is None else n_rows),
        True if regress else None)
    keys = ("loss", "sse", *REGRESSION_SUMS) if regress else ("loss", "sse", "accuracy")
    totals.update({key: float(sums[_EPOCH_SUMS.index(key)]) for key in keys},
                  batches=totals["batches"] + done, grad=grad_sum)
    state = adapter.pack(mu, nu, adam_count + done, lr_count + done)
    return params, state, (None if failed < 0 else int(failed))
