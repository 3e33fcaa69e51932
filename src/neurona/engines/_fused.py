"""The compiled loops (Numba): the full-batch pass and the mini-batch epoch.

Imported only by :mod:`neurona.kernels`, on demand. Importing it imports
Numba (a fraction of a second) and compiles nothing: each kernel compiles on
its first call for a given dtype of ``X`` and is cached on disk
(``cache=True``), so later processes only load it.

The full-batch pass reads each row of ``X`` once. Rows are cut into chunks
whose boundaries depend only on the shape of ``X`` (never on the number of
threads), each chunk keeps its own partial sums, and the partials are added
in chunk order at the end: the result is the same bit for bit whatever the
number of threads. The chunk kernels release the GIL, and
:func:`full_batch` shares the chunks among Python threads that each take
the next free chunk, so that a thread the operating system keeps waiting (a
busy machine) delays nobody: a fork-join loop such as ``prange`` would wait
for it at its end. Inside a chunk the rows are taken in blocks small enough
to stay in the core's cache between the net-input sweep and the gradient
sweep over the same block. ``X w`` and each block's gradient are summed in
the dtype of ``X`` (as BLAS does), everything else in float64.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# Codes for the activations and losses of neurona.activations / neurona.losses.
SIGMOID, TANH, IDENTITY, STEP = 0, 1, 2, 3
SQUARED_ERROR, LOG_LOSS = 0, 1
# Layout of a partial row: d gradient entries, then these. A regression's pass fills the
# weight, the (weighted) target, its square and the absolute error instead of CORRECT; its
# summed (weighted) squared error is LOSS.
DB, LOSS, SSE, CORRECT, SUM_W, SUM_Y, SUM_Y2, SUM_ABS = 0, 1, 2, 3, 4, 5, 6, 7
N_EXTRA = 8

# Reassociating sums lets LLVM vectorise the dot products; NaN and infinity
# keep their IEEE meaning (no 'nnan'/'ninf'), so a diverging run still shows.
_FASTMATH = {"reassoc", "contract"}


@intrinsic
def _prefetch(typingctx, a, i):
    """Hint the CPU to bring the cache line of ``a[i]`` (1-D array) into cache: LLVM's prefetch."""
    if not (isinstance(a, types.Array) and a.ndim == 1 and isinstance(i, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, signature.args[0], ary, [args[1]],
                                       wraparound=False)
        i32 = ir.IntType(32)
        fn = builder.module.declare_intrinsic(
            "llvm.prefetch", [ptr.type], ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32]))
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])  # read, keep in all levels, data
        return context.get_dummy_value()

    return types.void(a, i), codegen


@intrinsic
def _as_float(typingctx, i):
    """The float64 whose bits are those of the int64 ``i`` (a bit cast, as C's memcpy)."""
    if not (isinstance(i, types.Integer) and i.bitwidth == 64):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(i), codegen


# exp and log1p in plain arithmetic, so that LLVM can vectorise the loops that
# call them: loops that call libm's scalar functions cannot be (the llvmlite on
# PyPI has no vector math library), and those calls made the sigmoid and its
# log loss cost more than reading the row at d = 20. Both are within 2 units
# in the last place of NumPy's (tests/test_kernels.py).
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10  # ln 2 = HI + LO
_LOG2_E = 1.4426950408889634


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _exp_nonpositive(x):
    """``e^x`` for ``x <= 0`` (0.0 below -708, where it would be subnormal), without branches.

    ``x = n ln 2 + r`` with ``|r| <= ln(2) / 2`` (Cody and Waite's two-part
    ``ln 2`` keeps ``r`` exact), then ``e^r`` by its Taylor polynomial and
    ``2^n`` written straight into the exponent bits.
    """
    xc = max(x, -708.0)
    n = math.floor(xc * _LOG2_E + 0.5)
    r = (xc - n * _LN2_HI) - n * _LN2_LO
    # Taylor to r^13 / 13!, within 1e-18 of e^r. Written out: a loop here would
    # be an inner loop, and LLVM vectorises innermost loops only.
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    return 0.0 if x < -708.0 else p * _as_float((np.int64(n) + 1023) << 52)


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _log1p_unit(t):
    """``log(1 + t)`` for ``0 <= t <= 1``, without branches: ``2 atanh(t / (2 + t))``."""
    s = t / (2.0 + t)
    s2 = s * s
    # atanh(s) = s + s^3 (1/3 + s^2/5 + ... + s^32/35): within 1e-17, as s^2 <= 1/9.
    p = 1.0 / 35.0
    p = p * s2 + 1.0 / 33.0
    p = p * s2 + 1.0 / 31.0
    p = p * s2 + 1.0 / 29.0
    p = p * s2 + 1.0 / 27.0
    p = p * s2 + 1.0 / 25.0
    p = p * s2 + 1.0 / 23.0
    p = p * s2 + 1.0 / 21.0
    p = p * s2 + 1.0 / 19.0
    p = p * s2 + 1.0 / 17.0
    p = p * s2 + 1.0 / 15.0
    p = p * s2 + 1.0 / 13.0
    p = p * s2 + 1.0 / 11.0
    p = p * s2 + 1.0 / 9.0
    p = p * s2 + 1.0 / 7.0
    p = p * s2 + 1.0 / 5.0
    p = p * s2 + 1.0 / 3.0
    u = 2.0 * s
    return u + u * (s2 * p)  # the small correction added last: less rounding


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _pointwise(z, y, activation, loss):
    """``(a, l, dl_dz)`` for one sample: the activation, the loss and its derivative."""
    if activation == SIGMOID:
        t = _exp_nonpositive(-abs(z))  # never overflows; a and the log loss both use it
        a = 1.0 / (1.0 + t) if z >= 0.0 else t / (1.0 + t)
    elif activation == TANH:
        t = 0.0
        a = math.tanh(z)
    elif activation == IDENTITY:
        t = 0.0
        a = z
    else:
        t = 0.0
        a = 1.0 if z > 0.0 else 0.0
    e = a - y
    if loss == LOG_LOSS:  # log(1 + e^z) - y z, computed from the logit
        return a, max(z, 0.0) + _log1p_unit(t) - y * z, e
    if activation == SIGMOID:
        da_dz = a * (1.0 - a)
    elif activation == TANH:
        da_dz = 1.0 - a * a
    else:  # identity, and the perceptron's surrogate derivative for step
        da_dz = 1.0
    return a, e * e, 2.0 * e * da_dz


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _block_sums(y, sample_weight, weighted, activation, loss, threshold, b, s, m, zb, dlb):
    """``dl/dz`` of the block's rows into ``dlb[:m]``; returns ``(db, loss, sse, correct)``."""
    db = 0.0
    total = 0.0
    sse = 0.0
    correct = 0.0
    for i in range(m):
        yi = y[s + i]
        a, li, di = _pointwise(np.float64(zb[i]) + b, yi, activation, loss)
        e = a - yi
        sse += e * e
        correct += 1.0 if (a > threshold) == (yi > threshold) else 0.0  # a select, no branch
        if weighted:
            li *= sample_weight[s + i]
            di *= sample_weight[s + i]
        total += li
        db += di
        dlb[i] = di
    return db, total, sse, correct


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _block_pointwise(y, sample_weight, activation, loss, threshold, b, s, m, zb, dlb, acc, d):
    """Turn the block's ``X w`` (``zb[:m]``) into ``dl/dz`` (``dlb[:m]``); add its sums.

    The classifier's pair (sigmoid, log loss; weighted or not) and the
    unweighted regressor (identity) get loops of their own, the pair and the
    weighting fixed, which LLVM vectorises: it does not split a loop that
    could take any pair. Every other case takes the general loop, a row at a
    time. Each loop of its own adds about a second to the first compilation.
    """
    weighted = sample_weight.shape[0] > 0
    if activation == SIGMOID and loss == LOG_LOSS and weighted:
        sums = _block_sums(y, sample_weight, True, SIGMOID, LOG_LOSS,
                           threshold, b, s, m, zb, dlb)
    elif activation == SIGMOID and loss == LOG_LOSS:
        sums = _block_sums(y, sample_weight, False, SIGMOID, LOG_LOSS,
                           threshold, b, s, m, zb, dlb)
    elif activation == IDENTITY and not weighted:
        sums = _block_sums(y, sample_weight, False, IDENTITY, SQUARED_ERROR,
                           threshold, b, s, m, zb, dlb)
    else:
        sums = _block_sums(y, sample_weight, weighted, activation, loss,
                           threshold, b, s, m, zb, dlb)
    acc[d + DB] += sums[0]
    acc[d + LOSS] += sums[1]
    acc[d + SSE] += sums[2]
    acc[d + CORRECT] += sums[3]


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _block_regression_sums(y, sample_weight, weighted, activation, loss, b, s, m, zb, dlb):
    """As :func:`_block_sums` for a regression: returns ``(db, loss, sse, weight,
    sum w y, sum w y^2, sum w |e|)``."""
    db = 0.0
    total = 0.0
    sse = 0.0
    weight = 0.0
    sum_y = 0.0
    sum_y2 = 0.0
    sum_abs = 0.0
    for i in range(m):
        yi = y[s + i]
        a, li, di = _pointwise(np.float64(zb[i]) + b, yi, activation, loss)
        e = a - yi
        sse += e * e
        wi = sample_weight[s + i] if weighted else 1.0
        li *= wi
        di *= wi
        weight += wi
        sum_y += wi * yi
        sum_y2 += (wi * yi) * yi
        sum_abs += wi * abs(e)
        total += li
        db += di
        dlb[i] = di
    return db, total, sse, weight, sum_y, sum_y2, sum_abs


@njit(cache=True, fastmath=_FASTMATH, error_model="numpy", inline="always")
def _block_regression(y, sample_weight, activation, loss, b, s, m, zb, dlb, acc, d):
    """:func:`_block_pointwise` for a regression: ``dl/dz`` into ``dlb[:m]``, its sums into
    ``acc``. The unweighted linear unit gets a loop of its own (vectorised)."""
    weighted = sample_weight.shape[0] > 0
    if activation == IDENTITY and not weighted:
        sums = _block_regression_sums(y, sample_weight, False, IDENTITY, SQUARED_ERROR,
                                      b, s, m, zb, dlb)
    else:
        sums = _block_regression_sums(y, sample_weight, weighted, activation, loss,
                                      b, s, m, zb, dlb)
    acc[d + DB] += sums[0]
    acc[d + LOSS] += sums[1]
    acc[d + SSE] += sums[2]
    acc[d + SUM_W] += sums[3]
    acc[d + SUM_Y] += sums[4]
    acc[d + SUM_Y2] += sums[5]
    acc[d + SUM_ABS] += sums[6]


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def _rows(X, y, wx, b, sample_weight, activation, loss, threshold, r0, r1, block_rows, out,
          regression=None):
    """Add rows ``r0:r1`` of a C-ordered X into ``out`` (gradient, then DB, LOSS, SSE, CORRECT).

    ``wx`` is ``w`` in X's dtype: ``X w`` and each block's gradient are
    summed in that dtype (vectorised, as BLAS does), the blocks in float64.
    Rows go four at a time, so that each load of ``w`` and each load and
    store of the gradient serve four rows.

    ``regression``: ``None`` for a classifier; ``True`` adds a regression's
    sums instead of CORRECT. Numba compiles each case apart (the branch on
    ``None`` is removed before compiling), so a classifier's pass never
    carries, nor compiles, a regression's loops.
    """
    d = X.shape[1]
    zb = np.empty(block_rows, dtype=X.dtype)
    dlb = np.empty(block_rows, dtype=X.dtype)
    gb = np.empty(d, dtype=X.dtype)
    acc = np.zeros(d + N_EXTRA)
    for s in range(r0, r1, block_rows):
        m = min(r1, s + block_rows) - s
        m4 = m - m % 4
        Xb = X[s:s + m]
        for i in range(0, m4, 4):  # X w
            x0, x1, x2, x3 = Xb[i], Xb[i + 1], Xb[i + 2], Xb[i + 3]
            w0 = wx[0]
            z0, z1, z2, z3 = x0[0] * w0, x1[0] * w0, x2[0] * w0, x3[0] * w0
            for j in range(1, d):
                wj = wx[j]
                z0 += x0[j] * wj
                z1 += x1[j] * wj
                z2 += x2[j] * wj
                z3 += x3[j] * wj
            zb[i], zb[i + 1], zb[i + 2], zb[i + 3] = z0, z1, z2, z3
        for i in range(m4, m):
            xi = Xb[i]
            zi = xi[0] * wx[0]
            for j in range(1, d):
                zi += xi[j] * wx[j]
            zb[i] = zi
        if regression is None:
            _block_pointwise(y, sample_weight, activation, loss, threshold, b, s, m, zb, dlb,
                             acc, d)
        else:
            _block_regression(y, sample_weight, activation, loss, b, s, m, zb, dlb, acc, d)
        gb[:] = 0  # X^T dl/dz while the block is still in cache
        for i in range(0, m4, 4):
            x0, x1, x2, x3 = Xb[i], Xb[i + 1], Xb[i + 2], Xb[i + 3]
            d0, d1, d2, d3 = dlb[i], dlb[i + 1], dlb[i + 2], dlb[i + 3]
            for j in range(d):
                gb[j] += x0[j] * d0 + x1[j] * d1 + x2[j] * d2 + x3[j] * d3
        for i in range(m4, m):
            xi = Xb[i]
            di = dlb[i]
            for j in range(d):
                gb[j] += xi[j] * di
        for j in range(d):
            acc[j] += gb[j]
    out[:] = acc


@njit(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
def _columns(XT, y, wx, b, sample_weight, activation, loss, threshold, r0, r1, block_rows, out,
             regression=None):
    """As :func:`_rows` for an F-ordered X, passed as its C-ordered transpose ``XT``.

    Columns go four at a time, so that each load and store of ``z`` and
    each load of ``dl/dz`` serve four columns.
    """
    d = XT.shape[0]
    d4 = d - d % 4
    zb = np.empty(block_rows, dtype=XT.dtype)
    dlb = np.empty(block_rows, dtype=XT.dtype)
    acc = np.zeros(d + N_EXTRA)
    for s in range(r0, r1, block_rows):
        m = min(r1, s + block_rows) - s
        zm = zb[:m]
        zm[:] = 0
        for j in range(0, d4, 4):  # X w
            x0, x1 = XT[j, s:s + m], XT[j + 1, s:s + m]
            x2, x3 = XT[j + 2, s:s + m], XT[j + 3, s:s + m]
            w0, w1, w2, w3 = wx[j], wx[j + 1], wx[j + 2], wx[j + 3]
            for i in range(m):
                zm[i] += x0[i] * w0 + x1[i] * w1 + x2[i] * w2 + x3[i] * w3
        for j in range(d4, d):
            xj = XT[j, s:s + m]
            wj = wx[j]
            for i in range(m):
                zm[i] += xj[i] * wj
        if regression is None:
            _block_pointwise(y, sample_weight, activation, loss, threshold, b, s, m, zb, dlb,
                             acc, d)
        else:
            _block_regression(y, sample_weight, activation, loss, b, s, m, zb, dlb, acc, d)
        dm = dlb[:m]
        for j in range(0, d4, 4):  # X^T dl/dz while the block is still in cache
            x0, x1 = XT[j, s:s + m], XT[j + 1, s:s + m]
            x2, x3 = XT[j + 2, s:s + m], XT[j + 3, s:s + m]
            g0 = g1 = g2 = g3 = dm[0] * 0
            for i in range(m):
                di = dm[i]
                g0 += x0[i] * di
                g1 += x1[i] * di
                g2 += x2[i] * di
                g3 += x3[i] * di
            acc[j] += g0
            acc[j + 1] += g1
            acc[j + 2] += g2
            acc[j + 3] += g3
        for j in range(d4, d):
            xj = XT[j, s:s + m]
            g = dm[0] * 0
            for i in range(m):
                g += xj[i] * dm[i]
            acc[j] += g
    out[:] = acc


def full_batch(X, y, wx, b, sample_weight, activation, loss, threshold, transposed,
               chunk_rows, block_rows, threads, regression=None):
    """Partial sums of one pass over all of X: shape (n_chunks, d + N_EXTRA), in chunk order.

    ``regression=True`` adds a regression's sums (see :func:`_rows`).

    ``X`` is C-ordered, of shape (n_samples, n_features), or with
    ``transposed`` the C-ordered transpose of an F-ordered X. The chunks are
    shared by ``threads`` threads, each taking the next chunk not yet taken
    until none is left; the calling thread is one of them and never waits
    for a helper that has not started (on a busy machine a helper thread may
    not get a core for milliseconds: then the caller does its chunks too),
    and then waits only for the chunks a helper is still running.
    """
    n = X.shape[1] if transposed else X.shape[0]
    d = X.shape[0] if transposed else X.shape[1]
    n_chunks = (n + chunk_rows - 1) // chunk_rows
    partial = np.zeros((n_chunks, d + N_EXTRA))
    kernel = _columns if transposed else _rows
    lock = threading.Lock()
    finished = threading.Event()
    state = {"next": 0, "done": 0, "error": None}

    def work():
        while True:
            with lock:
                c = state["next"]
                state["next"] = c + 1
            if c >= n_chunks:
                return
            r0 = c * chunk_rows
            try:
                kernel(X, y, wx, b, sample_weight, activation, loss, threshold, r0,
                       min(n, r0 + chunk_rows), block_rows, partial[c], regression)
            except BaseException as exc:  # pragma: no cover - reported to the caller
                state["error"] = exc
            with lock:
                state["done"] += 1
                if state["done"] == n_chunks:
                    finished.set()

    for _ in range(min(threads, n_chunks) - 1):
        _helpers(threads - 1).submit(work)
    work()
    finished.wait()
    if state["error"] is not None:  # pragma: no cover
        raise state["error"]
    return partial


_pool: ThreadPoolExecutor | None = None


def _helpers(count: int) -> ThreadPoolExecutor:
    """The helper threads of :func:`full_batch` (created on first use, kept)."""
    global _pool
    if _pool is None or _pool._max_workers < count:
        _pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="neurona-pass")
    return _pool


# --- the mini-batch epoch ------------------------------------------------------------------

# The update rules' codes and the slots of ``hyper``: neurona.compiled_optimizers' RULES and
# HYPER_SLOTS name them (tests/test_kernels.py checks that the two agree).
GD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM, ADAMW = 0, 1, 2, 3, 4, 5, 6
H_MOMENTUM, H_EPSILON, H_RHO, H_BETA_1, H_BETA_2, H_WEIGHT_DECAY = 0, 1, 2, 3, 4, 5
# Slots of ``sums``: the epoch's running totals, as neurona.engines.memory.run_epoch keeps
# them (a classifier's accuracy, or a regression's sums: neurona.core.gradient.REGRESSION_SUMS).
S_LOSS, S_SSE, S_ACCURACY, S_W, S_Y, S_Y2, S_E2, S_ABS = 0, 1, 2, 3, 4, 5, 6, 7


@njit(cache=True)
def _optimizer_step(g, params, mu, nu, count, lr, optimizer, hyper, decay_mask,
                    new_params, new_mu, new_nu):
    """One update of a named optimizer, into ``new_params``, ``new_mu``, ``new_nu``.

    ``mu`` holds the momentum trace, or Adam's first moment; ``nu`` AdaGrad's
    sum of squares, RMSProp's or Adam's second moment; ``count`` Adam's step
    count before this update. The formulas are those of neurona.optimizers,
    term for term and without contraction into fused multiply-adds, so given
    the same gradient the step is the same bit for bit.
    """
    p = params.shape[0]
    if optimizer == ADAM or optimizer == ADAMW:
        t = float(count + 1)
        b1, b2 = hyper[H_BETA_1], hyper[H_BETA_2]
        c1 = 1.0 - b1 ** t
        c2 = 1.0 - b2 ** t
    for k in range(p):
        gk = g[k]
        if optimizer == GD:
            u = gk
        elif optimizer == MOMENTUM or optimizer == NESTEROV:
            m = hyper[H_MOMENTUM]
            v = m * mu[k] + gk
            new_mu[k] = v
            u = gk + m * v if optimizer == NESTEROV else v
        elif optimizer == ADAGRAD:
            s = nu[k] + gk * gk
            new_nu[k] = s
            u = gk / (math.sqrt(s) + hyper[H_EPSILON])
        elif optimizer == RMSPROP:
            r = hyper[H_RHO]
            s = r * nu[k] + (1.0 - r) * (gk * gk)
            new_nu[k] = s
            u = gk / (math.sqrt(s) + hyper[H_EPSILON])
        else:
            m1 = b1 * mu[k] + (1.0 - b1) * gk
            m2 = b2 * nu[k] + (1.0 - b2) * (gk * gk)
            new_mu[k] = m1
            new_nu[k] = m2
            u = (m1 / c1) / (math.sqrt(m2 / c2) + hyper[H_EPSILON])
            if optimizer == ADAMW and decay_mask[k]:
                u = u + hyper[H_WEIGHT_DECAY] * params[k]
        new_params[k] = params[k] + -lr * u


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def minibatch_epoch(X, y, sample_weight, order, transposed, batch_size, first_batch,
                    params, mu, nu, count, lrs, optimizer, hyper, decay_mask,
                    activation, loss, mean, threshold, l1, l2, total_weight, sums, grad_sum,
                    n_rows, regression=None):
    """Batches ``first_batch`` to the last of one epoch, each with its optimizer update.

    ``params``, ``mu``, ``nu`` and ``sums``/``grad_sum`` are updated in place
    after each batch that stays finite; ``lrs[j - first_batch]`` is batch
    ``j``'s learning rate. Returns ``(batches_done, failed)``: ``failed`` is
    the batch whose loss or new parameters were not finite (its update is not
    applied), or -1. The epoch's rows are ``X``'s rows ``order`` (a permutation
    of them all, or some of them: a streamed shuffle buffer's store and the
    rows leaving it); ``X`` is C-ordered, or with
    ``transposed`` the C-ordered transpose of an F-ordered X. ``n_rows`` is the
    epoch's rows (each batch's accuracy counts by its share of them: ``X`` may
    hold only some of the epoch's batches). ``regression=True`` keeps a
    regression's sums instead of the accuracy (compiled apart, as in
    :func:`_rows`).
    """
    n = order.shape[0]
    d = X.shape[0] if transposed else X.shape[1]
    p = d + 1
    weighted = sample_weight.shape[0] > 0
    n_batch = (n + batch_size - 1) // batch_size
    g = np.empty(p)
    new_params = np.empty(p)
    new_mu = mu.copy()
    new_nu = nu.copy()
    zb = np.empty(batch_size)
    flat = X.reshape(-1)
    line = 64 // X.itemsize
    for j in range(first_batch, n_batch):
        r0 = j * batch_size
        r1 = min(n, r0 + batch_size)
        if not transposed:
            # Rows come in a random order, which no hardware prefetcher
            # foresees: ask for the next batch's rows now, so that their
            # cache misses overlap with this batch's work.
            for q in range(r1, min(n, r1 + batch_size)):
                base = order[q] * d
                for k in range(0, d, line):
                    _prefetch(flat, base + k)
        for q in range(r0, r1):  # z of every row first: their loads overlap
            r = order[q]
            zi = 0.0
            if transposed:
                for k in range(d):
                    zi += X[k, r] * params[k]
            else:
                xr = X[r]
                for k in range(d):
                    zi += xr[k] * params[k]
            zb[q - r0] = zi + params[d]
        g[:] = 0.0
        total = 0.0
        sse = 0.0
        correct = 0.0
        weight = 0.0
        sum_y = 0.0
        sum_y2 = 0.0
        sum_abs = 0.0
        for q in range(r0, r1):
            r = order[q]
            yi = y[r]
            a, li, di = _pointwise(zb[q - r0], yi, activation, loss)
            e = a - yi
            sse += e * e
            if regression is None:
                if (a > threshold) == (yi > threshold):
                    correct += 1.0
            else:
                wi = sample_weight[r] if weighted else 1.0
                sum_y += wi * yi
                sum_y2 += (wi * yi) * yi
                sum_abs += wi * abs(e)
            if weighted:
                li *= sample_weight[r]
                di *= sample_weight[r]
                weight += sample_weight[r]
            total += li
            g[d] += di
            if transposed:
                for k in range(d):
                    g[k] += X[k, r] * di
            else:
                xr = X[r]
                for k in range(d):
                    g[k] += xr[k] * di
        size = r1 - r0
        if not weighted:
            weight = float(size)
        scale = 1.0 / weight if mean else 1.0
        frac = weight / total_weight
        share = 1.0 if mean else frac
        batch_loss = total * scale
        for k in range(p):
            g[k] *= scale
        if l1 != 0.0 or l2 != 0.0:
            pen = 0.0
            for k in range(d):
                wk = params[k]
                sign = 1.0 if wk > 0.0 else (-1.0 if wk < 0.0 else 0.0)
                g[k] += share * (l1 * sign + l2 * wk)
                pen += l1 * abs(wk) + 0.5 * l2 * wk * wk
            batch_loss += share * pen
        _optimizer_step(g, params, mu, nu, count, lrs[j - first_batch], optimizer, hyper,
                        decay_mask, new_params, new_mu, new_nu)
        check = batch_loss
        for k in range(p):
            check += new_params[k]
        if not math.isfinite(check):
            return j - first_batch, j
        params[:] = new_params
        mu[:] = new_mu
        nu[:] = new_nu
        count += 1
        c = frac if mean else 1.0
        sums[S_LOSS] += c * batch_loss
        sums[S_SSE] += sse
        if regression is None:
            sums[S_ACCURACY] += (size / n_rows) * (correct / size)
        else:
            sums[S_W] += weight
            sums[S_Y] += sum_y
            sums[S_Y2] += sum_y2
            sums[S_E2] += total
            sums[S_ABS] += sum_abs
        for k in range(p):
            grad_sum[k] += c * g[k]
    return n_batch - first_batch, -1


# --- rows moved in and out of the streamed shuffle buffer -----------------------------------

@njit(cache=True, nogil=True)
def put_rows(store, slots, rows):
    """``store[slots[i]] = rows[i]`` for 2-D C-ordered arrays, row by row."""
    d = store.shape[1]
    for i in range(slots.shape[0]):
        r = slots[i]
        for k in range(d):
            store[r, k] = rows[i, k]
