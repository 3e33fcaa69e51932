"""The fused pass (neurona.engines.kernels) gives the NumPy path's numbers, for every case it takes.

Sums are compared relative to the sum of their terms' magnitudes, the scale
that bounds a sum's rounding error whatever the order of its terms: in
float64 the two paths agree to 1e-12 of it. In float32 (eps 1.2e-7) both
round ``X w``, ``dl/dz`` and partial sums in float32, in different orders
(BLAS against row blocks), so they agree to a few hundred eps of that scale;
1e-4 leaves a margin and still catches any wrong formula, whose error is of
order one.

Numba is in the ``test`` extra, so the comparison always runs in the test
suite; a run without it must say so with NEURONA_TEST_WITHOUT_NUMBA=1, and
then checks the NumPy path alone against the reference below.
"""

import json
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from scipy.special import expit

from neurona import Neuron, train
from neurona.engines import compiled_optimizers, kernels
from neurona.core import optimizers
from neurona.core.activations import ACTIVATIONS, Activation
from neurona.errors import NeuronaError
from neurona.core.losses import LOSSES
from neurona.engines.memory import forward_backward

PAIRS = [("sigmoid", "log_loss"), ("sigmoid", "squared_error"), ("tanh", "squared_error"),
         ("identity", "squared_error"), ("step", "squared_error")]
HAVE_NUMBA = kernels.numba_available()
KERNEL_CHOICES = ["numpy", "numba"] if HAVE_NUMBA else ["numpy"]
RTOL = {np.float64: 1e-12, np.float32: 1e-4}
needs_numba = pytest.mark.skipif(
    not HAVE_NUMBA, reason="Numba not installed (allowed by NEURONA_TEST_WITHOUT_NUMBA=1)")


def test_numba_is_installed_for_the_test_suite():
    if os.environ.get("NEURONA_TEST_WITHOUT_NUMBA") == "1":
        assert not HAVE_NUMBA, "NEURONA_TEST_WITHOUT_NUMBA=1 but Numba is installed"
    else:
        assert HAVE_NUMBA, ("Numba is in the 'test' extra and the fused pass is compared with "
                            "NumPy only when it is installed; install it, or set "
                            "NEURONA_TEST_WITHOUT_NUMBA=1 to test the NumPy path alone")


def _problem(n, d, dtype, order, seed=0):
    rng = np.random.default_rng(seed)
    X = np.asarray(rng.standard_normal((n, d)), dtype=dtype, order=order)
    y = (rng.random(n) < 0.5).astype(np.float64)
    w = rng.normal(scale=0.5, size=d)
    sw = rng.uniform(0.0, 2.0, size=n)
    return X, y, w, 0.3, sw


def _reference(X, y, w, b, activation, loss, sample_weight):
    """Per-sample terms in float64, written from the maths and not from neurona."""
    X = X.astype(np.float64)
    z = X @ w + b
    a = {"sigmoid": expit(z), "tanh": np.tanh(z), "identity": z,
         "step": (z > 0).astype(float)}[activation]
    da = {"sigmoid": a * (1 - a), "tanh": 1 - a * a, "identity": 1.0, "step": 1.0}[activation]
    if loss == "log_loss":
        terms = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - y * z
        magnitude = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) + np.abs(y * z)
        dl = a - y
    else:
        terms = magnitude = (a - y) ** 2
        dl = 2 * (a - y) * da
    s = np.ones_like(y) if sample_weight is None else sample_weight
    return X, z, a, terms * s, magnitude * s, dl * s


def _check(got, want, magnitude, rtol, what):
    err = np.abs(np.asarray(got) - np.asarray(want))
    bound = rtol * np.asarray(magnitude)
    assert np.all(err <= bound), f"{what}: error {err} above {bound}"


def _assert_pass_matches(result, X, y, w, b, activation, loss, sample_weight, rtol,
                         reduction="sum", threshold=0.5):
    dw, db, metrics = result
    X64, z, a, terms, magnitude, dl = _reference(X, y, w, b, activation, loss, sample_weight)
    scale = 1.0 if reduction == "sum" else 1.0 / (
        len(y) if sample_weight is None else sample_weight.sum())
    assert dw.dtype == np.float64 and dw.shape == w.shape
    _check(dw, X64.T @ dl * scale, np.abs(X64).T @ np.abs(dl) * scale, rtol, "dL/dw")
    _check(db, dl.sum() * scale, np.abs(dl).sum() * scale, rtol, "dL/db")
    _check(metrics["loss"], terms.sum() * scale, magnitude.sum() * scale, rtol, "loss")
    _check(metrics["sse"], ((a - y) ** 2).sum(), ((a - y) ** 2).sum(), rtol, "sse")
    # A sample within rounding of the threshold may fall either side of it.
    borderline = np.mean(np.abs(a - threshold) <= 1e3 * rtol * (1 + np.abs(z)))
    want = np.mean((a > threshold) == (y > threshold))
    assert abs(metrics["accuracy"] - want) <= borderline


@pytest.mark.parametrize("kernel", KERNEL_CHOICES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("activation,loss", PAIRS)
@pytest.mark.parametrize("weighted", [False, True])
def test_each_kernel_matches_the_reference(kernel, dtype, order, activation, loss, weighted):
    X, y, w, b, sw = _problem(3001, 5, dtype, order)
    sw = sw if weighted else None
    result = forward_backward(X, y, w, b, ACTIVATIONS[activation], LOSSES[loss],
                              sample_weight=sw, kernel=kernel)
    _assert_pass_matches(result, X, y, w, b, activation, loss, sw, RTOL[dtype])


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("activation,loss", PAIRS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(2500, 40), (37, 1), (5000, 3)])
def test_fused_pass_equals_numpy_path(dtype, order, activation, loss, weighted, shape):
    X, y, w, b, sw = _problem(*shape, dtype, order, seed=shape[0])
    sw = sw if weighted else None
    reduction = "mean" if weighted else "sum"
    args = (X, y, w, b, ACTIVATIONS[activation], LOSSES[loss], reduction, 0.4, sw)
    fused = forward_backward(*args, kernel="numba")
    plain = forward_backward(*args, kernel="numpy")
    X64, z, a, terms, magnitude, dl = _reference(X, y, w, b, activation, loss, sw)
    scale = 1.0 if reduction == "sum" else 1.0 / sw.sum()
    rtol = RTOL[dtype]
    _check(fused[0], plain[0], np.abs(X64).T @ np.abs(dl) * scale, rtol, "dL/dw")
    _check(fused[1], plain[1], np.abs(dl).sum() * scale, rtol, "dL/db")
    _check(fused[2]["loss"], plain[2]["loss"], magnitude.sum() * scale, rtol, "loss")
    _check(fused[2]["sse"], plain[2]["sse"], ((a - y) ** 2).sum(), rtol, "sse")
    if dtype == np.float64:
        assert fused[2]["accuracy"] == plain[2]["accuracy"]
    _assert_pass_matches(fused, X, y, w, b, activation, loss, sw, rtol, reduction, 0.4)


@needs_numba
def test_compiled_exp_and_log1p_are_within_two_ulps_of_numpy():
    from numba import njit

    from neurona.engines import _fused

    @njit
    def both(x, t, ex, lg):
        for i in range(x.shape[0]):
            ex[i] = _fused._exp_nonpositive(x[i])
            lg[i] = _fused._log1p_unit(t[i])

    rng = np.random.default_rng(0)
    x = -np.concatenate([rng.uniform(0.0, 708.0, 100_000), rng.uniform(0.0, 1.0, 100_000),
                         10.0 ** rng.uniform(-300, 0, 10_000), [0.0, 708.0, np.log(2.0) / 2]])
    t = np.concatenate([np.exp(x[:-3]), [0.0, 1.0, 1e-300]])
    ex, lg = np.empty_like(x), np.empty_like(t)
    both(x, t, ex, lg)
    assert np.all(np.abs(ex - np.exp(x)) <= 2 * np.spacing(np.exp(x)))
    assert np.all(np.abs(lg - np.log1p(t)) <= 2 * np.spacing(np.log1p(t)))
    # Below -708 e^x is subnormal or 0: it is taken as 0; infinities and NaN pass through.
    edge = np.array([-708.5, -745.2, -1e300, -np.inf, np.nan])
    ex = np.empty_like(edge)
    both(edge, np.zeros(5), ex, np.empty(5))
    assert ex[:4].tolist() == [0.0] * 4 and np.isnan(ex[4])


@needs_numba
@pytest.mark.parametrize("activation,loss", PAIRS)
def test_fused_pass_equals_numpy_path_for_huge_logits(activation, loss):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3000, 4)) * 300.0  # |z| up to a few thousand: e^-|z| underflows
    y = (rng.random(3000) < 0.5).astype(np.float64)
    args = (X, y, np.array([1.0, -0.5, 0.25, 2.0]), 0.3, ACTIVATIONS[activation],
            LOSSES[loss], "sum", 0.5, None)
    fused = forward_backward(*args, kernel="numba")
    plain = forward_backward(*args, kernel="numpy")
    np.testing.assert_allclose(fused[0], plain[0], rtol=1e-12)
    assert fused[1] == pytest.approx(plain[1], rel=1e-12)
    for key in ("loss", "sse", "accuracy"):
        assert fused[2][key] == pytest.approx(plain[2][key], rel=1e-12)


@needs_numba
def test_fused_pass_is_the_same_whatever_the_number_of_threads():
    import numba

    X, y, w, b, sw = _problem(20_000, 7, np.float64, "C")
    args = (X, y, w, b, ACTIVATIONS["sigmoid"], LOSSES["log_loss"], "sum", 0.5, sw)
    before = numba.get_num_threads()
    try:
        results = []
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            results.append(forward_backward(*args, kernel="numba"))
    finally:
        numba.set_num_threads(before)
    for dw, db, metrics in results[1:]:
        np.testing.assert_array_equal(dw, results[0][0])
        assert (db, metrics) == (results[0][1], results[0][2])


@needs_numba
def test_auto_takes_the_fused_pass_for_large_problems_only(monkeypatch):
    calls = []
    real = kernels.fused_forward_backward
    monkeypatch.setattr(kernels, "fused_forward_backward",
                        lambda *a, **k: calls.append(a[0].shape) or real(*a, **k))
    act, loss = ACTIVATIONS["sigmoid"], LOSSES["log_loss"]
    n_large = kernels.FUSED_MIN_SIZE // 4 + 1
    for n in (350, n_large):
        X, y, w, b, _ = _problem(n, 4, np.float64, "C")
        forward_backward(X, y, w, b, act, loss)
    assert calls == [(n_large, 4)]
    X, y, w, b, _ = _problem(n_large, 4, np.float64, "C")
    forward_backward(X[::2], y[::2], w, b, act, loss)        # strided: NumPy, no copy
    forward_backward(X, y, w, b, act, loss, kernel="numpy")
    own = Activation("sigmoid", act.value, act.derivative)  # not neurona's own object
    forward_backward(X, y, w, b, own, loss)
    assert calls == [(n_large, 4)]


def test_kernel_is_checked(monkeypatch):
    X, y, w, b, _ = _problem(10, 2, np.float64, "C")
    act, loss = ACTIVATIONS["sigmoid"], LOSSES["log_loss"]
    with pytest.raises(NeuronaError, match="Unknown kernel 'jit'"):
        forward_backward(X, y, w, b, act, loss, kernel="jit")
    monkeypatch.setattr(kernels, "_numba_found", False)
    with pytest.raises(NeuronaError, match="pip install numba"):
        forward_backward(X, y, w, b, act, loss, kernel="numba")
    # Without Numba, auto is the NumPy path.
    X, y, w, b, _ = _problem(kernels.FUSED_MIN_SIZE, 2, np.float64, "C")
    dw, db, m = forward_backward(X, y, w, b, act, loss)
    _assert_pass_matches((dw, db, m), X, y, w, b, "sigmoid", "log_loss", None, 1e-12)


@needs_numba
def test_numba_kernel_refuses_what_it_cannot_read_without_a_copy():
    X, y, w, b, _ = _problem(100, 4, np.float64, "C")
    with pytest.raises(NeuronaError, match="C- or F-contiguous"):
        forward_backward(X[::2], y[::2], w, b, ACTIVATIONS["tanh"], LOSSES["squared_error"],
                         kernel="numba")


@pytest.mark.parametrize("kernel", KERNEL_CHOICES)
@pytest.mark.parametrize("order", ["C", "F"])
def test_a_float32_pass_makes_no_float64_copy_of_X(kernel, order):
    X, y, w, b, _ = _problem(100_000, 20, np.float32, order)
    act, loss = ACTIVATIONS["sigmoid"], LOSSES["log_loss"]
    forward_backward(X, y, w, b, act, loss, kernel=kernel)  # compile outside the trace
    tracemalloc.start()
    try:
        forward_backward(X, y, w, b, act, loss, kernel=kernel)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 2, f"{peak} bytes allocated for an X of {X.nbytes}"


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_training_arrays_are_taken_as_they_are(order, dtype):
    X = np.asarray(np.ones((30, 4)), dtype=dtype, order=order)
    assert kernels.as_training_array(X, np.dtype(dtype).name) is X
    other = "float32" if dtype == np.float64 else "float64"
    converted = kernels.as_training_array(X, other)
    assert converted.dtype == np.dtype(other) and converted.flags[f"{order}_CONTIGUOUS"]
    strided = kernels.as_training_array(X[::3], np.dtype(dtype).name)
    assert strided.flags.c_contiguous and np.array_equal(strided, X[::3])


def test_train_in_float32_follows_float64(tmp_path):
    X, y, w, b, _ = _problem(400, 3, np.float64, "C")
    runs = {}
    for dtype in ("float64", "float32"):
        neuron = Neuron(w, b)
        runs[dtype] = (train(neuron, X, y, epochs=20, learning_rate=0.002, dtype=dtype), neuron)
    np.testing.assert_allclose(runs["float32"][0]["loss"], runs["float64"][0]["loss"], rtol=1e-5)
    np.testing.assert_allclose(runs["float32"][1].weights, runs["float64"][1].weights, rtol=1e-5)
    assert runs["float32"][1].weights.dtype == np.float64


@pytest.mark.parametrize("dtype", ["float16", "int64", "double precision"])
def test_train_refuses_other_dtypes(dtype):
    X, y, w, b, _ = _problem(10, 2, np.float64, "C")
    with pytest.raises(NeuronaError, match="choose one of float64, float32"):
        train(Neuron(w, b), X, y, epochs=1, dtype=dtype)


@pytest.mark.parametrize("kernel", KERNEL_CHOICES)
def test_train_gives_the_same_history_with_either_kernel(kernel):
    X, y, w, b, sw = _problem(6000, 5, np.float64, "F")
    neuron = Neuron(w, b)
    history = train(neuron, X, y, epochs=5, learning_rate=1e-4, sample_weight=sw, kernel=kernel)
    reference = Neuron(w, b)
    expected = train(reference, X, y, epochs=5, learning_rate=1e-4, sample_weight=sw,
                     kernel="numpy")
    np.testing.assert_allclose(history["loss"], expected["loss"], rtol=1e-12)
    np.testing.assert_allclose(neuron.weights, reference.weights, rtol=1e-12)


def test_seed_size_training_never_imports_numba(tmp_path):
    code = ("import sys; from neurona.face.cli import main; "
            f"main(['train', '--quiet', '--no-plots', '--out', {str(tmp_path / 'r')!r}]); "
            "print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# --- the compiled mini-batch epoch ----------------------------------------------------------

# Every optimizer with a compiled adapter, so that a new adapter is compared too.
OPTIMIZERS = list(compiled_optimizers.COMPILED_OPTIMIZERS)
EXTRAS = {
    "plain": {},
    "weighted, mean, elastic net, cosine": dict(reduction="mean", l1=0.01, l2=0.1,
                                                schedule="cosine"),
    "tanh, squared error, step schedule": dict(loss="squared_error", schedule="step",
                                               decay_steps=20),
}


def _minibatch_runs(optimizer, dtype, order, extra, epochs=2, choices=("numpy", "numba"),
                    callbacks=()):
    X, y, w, b, sw = _problem(1500, 5, np.float64, order, seed=7)
    extra = dict(extra)
    activation = "tanh" if extra.get("loss") == "squared_error" else "sigmoid"
    if extra.get("reduction") == "mean":
        extra["sample_weight"] = sw
    runs = {}
    for kernel in choices:
        neuron = Neuron(w, b, activation=activation)
        history = train(neuron, X, y, epochs=epochs, learning_rate=0.01, optimizer=optimizer,
                        batch_size=32, random_state=3, dtype=dtype, kernel=kernel,
                        callbacks=callbacks, **extra)
        runs[kernel] = (np.append(neuron.weights, neuron.bias), history)
    return runs


@needs_numba
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("dtype,order", [("float64", "C"), ("float64", "F"), ("float32", "C")])
@pytest.mark.parametrize("extra", list(EXTRAS))
def test_compiled_minibatch_epoch_equals_the_numpy_loop(optimizer, dtype, order, extra):
    runs = _minibatch_runs(optimizer, dtype, order, EXTRAS[extra])
    (p0, h0), (p1, h1) = runs["numpy"], runs["numba"]
    # Each batch's gradient is summed in another order, then the same update
    # follows: float64 stays within 1e-12 of the parameters' scale after 94 updates.
    rtol = 1e-12 if dtype == "float64" else 1e-4
    scale = np.max(np.abs(p0))
    assert np.max(np.abs(p1 - p0)) <= rtol * scale
    assert h1.keys == h0.keys
    for key in ("loss", "sse", "accuracy", "grad_norm", "learning_rate"):
        np.testing.assert_allclose(h1[key], h0[key], rtol=rtol, err_msg=key)


@needs_numba
@pytest.mark.parametrize("weighted", [False, True])
def test_a_compiled_epoch_over_some_rows_of_a_store_is_the_epoch_over_them_copied(weighted):
    """The streamed shuffle buffer's run: the rows ``X[slots]`` read where they lie give the
    numbers of the same rows copied out first, bit for bit."""
    from neurona.core import optimizers
    from neurona.core.gradient import new_totals

    X, y, w, b, sw = _problem(900, 4, np.float64, "C", seed=2)
    slots = np.random.default_rng(0).permutation(900)[:500]
    opt = optimizers.get_optimizer("adam", 0.05)
    settings = dict(optimizer=opt, activation=ACTIVATIONS["sigmoid"], loss=LOSSES["log_loss"],
                    reduction="mean", threshold=0.5, batch_size=32, l1=0.0, l2=0.01)
    results = []
    for X_, y_, sw_, order in ((X, y, sw, slots), (X[slots], y[slots], sw[slots], None)):
        params = np.append(w, b)
        totals = new_totals(5)
        out = kernels.compiled_epoch(X_, y_, params, opt.init(params), order,
                                     sample_weight=sw_ if weighted else None, totals=totals,
                                     **settings)
        results.append((out, totals))
    (a, ta), (b_, tb) = results
    np.testing.assert_array_equal(a[0], b_[0])
    assert a[2] is None and b_[2] is None and ta["batches"] == tb["batches"] == 16
    assert {k: v for k, v in ta.items() if k != "grad"} == {
        k: v for k, v in tb.items() if k != "grad"}


@needs_numba
def test_compiled_epoch_runs_only_without_per_batch_callbacks(monkeypatch):
    from neurona import Callback

    calls = []
    real = kernels.compiled_epoch
    monkeypatch.setattr(kernels, "compiled_epoch",
                        lambda *a, **k: calls.append(1) or real(*a, **k))

    class Batches(Callback):
        def __init__(self):
            self.sizes = []

        def on_batch_end(self, batch, logs=None):
            self.sizes.append(logs["size"])

    seen = Batches()
    runs = _minibatch_runs("adam", "float64", "C", {}, epochs=1, choices=("numba",),
                           callbacks=[seen])
    assert calls == [] and seen.sizes == [32] * 46 + [28]
    _minibatch_runs("adam", "float64", "C", {}, epochs=1, choices=("numba",))
    assert calls == [1]
    assert len(runs["numba"][1]) == 1


@needs_numba
def test_compiled_epoch_stops_on_divergence_like_the_numpy_loop():
    from neurona import DivergenceError

    X, y, w, b, _ = _problem(1500, 5, np.float64, "C", seed=7)
    X = X * 1e150
    out = {}
    for kernel in ("numpy", "numba"):
        neuron = Neuron(w, b, activation="identity")
        with pytest.raises(DivergenceError) as info:
            train(neuron, X, y, epochs=3, learning_rate=1.0, loss="squared_error",
                  optimizer="gd", batch_size=32, random_state=0, kernel=kernel)
        out[kernel] = (info.value.epoch, len(info.value.history),
                       np.append(neuron.weights, neuron.bias))
    assert out["numba"][:2] == out["numpy"][:2]
    np.testing.assert_allclose(out["numba"][2], out["numpy"][2], rtol=1e-12)


@needs_numba
def test_compiled_epoch_finishes_an_epoch_that_was_cut_short():
    from neurona.core import optimizers
    from neurona.core.gradient import new_totals
    from neurona.engines.memory import run_epoch

    X, y, w, b, sw = _problem(1000, 4, np.float64, "C", seed=2)
    opt = optimizers.get_optimizer("rmsprop", 0.05)
    params = np.append(w, b)
    order = np.random.default_rng(0).permutation(1000)
    common = dict(optimizer=opt, activation=ACTIVATIONS["sigmoid"], loss=LOSSES["log_loss"],
                  sample_weight=sw, batch_size=50)
    totals = new_totals(5)
    asked = []
    p, s, m = run_epoch(X, y, params, opt.init(params), order, totals=totals, kernel="numpy",
                        should_stop=lambda: asked.append(1) or len(asked) == 7, **common)
    assert m is None and totals["batches"] == 7
    ends = {}
    for kernel in ("numpy", "numba"):
        t = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in totals.items()}
        ends[kernel] = run_epoch(X, y, p, s, order, totals=t, kernel=kernel, **common)
    (p0, s0, m0), (p1, s1, m1) = ends["numpy"], ends["numba"]
    np.testing.assert_allclose(p1, p0, rtol=1e-12)
    assert s1[1] == s0[1] == {"count": 20}
    np.testing.assert_allclose(s1[0]["nu"], s0[0]["nu"], rtol=1e-12)
    for key in m0:
        assert m1[key] == pytest.approx(m0[key], rel=1e-12)


@needs_numba
def test_optimizers_without_a_spec_use_the_numpy_loop(monkeypatch):
    from neurona.core import optimizers

    monkeypatch.setattr(kernels, "compiled_epoch", None)  # would fail if called
    X, y, w, b, _ = _problem(3000, 8, np.float64, "C")
    custom = optimizers.chain(optimizers.scale_by_learning_rate(0.01))
    train(Neuron(w, b), X, y, epochs=1, optimizer=custom, batch_size=64, random_state=0)


def test_every_named_optimizer_with_a_spec_has_an_adapter_and_nothing_else_does():
    assert set(OPTIMIZERS) >= {"gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam",
                               "adamw"}
    for name, factory in optimizers.OPTIMIZERS.items():
        opt = optimizers.get_optimizer(name, 0.1)
        adapter = compiled_optimizers.adapter_for(opt)
        if opt.spec is None:
            assert adapter is None, name
        else:
            assert adapter is compiled_optimizers.COMPILED_OPTIMIZERS[name], name
    assert compiled_optimizers.adapter_for(optimizers.nesterov_restart(0.1)) is None
    custom = optimizers.chain(optimizers.scale_by_learning_rate(0.1))
    assert compiled_optimizers.adapter_for(custom) is None


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_adapter_reads_the_state_its_optimizer_keeps(name):
    adapter = compiled_optimizers.COMPILED_OPTIMIZERS[name]
    opt = optimizers.get_optimizer(name, 0.1, decay_mask=np.array([True, True, False]))
    params = np.array([0.5, -1.0, 0.25])
    state = opt.init(params)
    rng = np.random.default_rng(0)
    for _ in range(3):
        step, state = opt.update(rng.standard_normal(3), state, params)
        params = optimizers.apply_updates(params, step)
    kept = compiled_optimizers.RULES[adapter.rule].state
    mu, nu, count, lr_count = adapter.unpack(state, 3)
    assert lr_count == 3 and count == (3 if "count" in kept else 0)
    again = adapter.pack(mu, nu, count, lr_count)
    # The same parts, keys in the same order and the same values: a checkpoint is unchanged.
    assert optimizers.state_to_json(again) == optimizers.state_to_json(state)
    for slot, value in (("mu", mu), ("nu", nu)):
        if slot in kept:
            assert not any(value is v for part in state for v in part.values())  # a copy
        else:
            assert not value.any()


@needs_numba
def test_adapter_codes_and_slots_are_the_kernels():
    from neurona.engines import _fused

    for name, rule in compiled_optimizers.RULES.items():
        assert rule.code == getattr(_fused, name.upper()), name
    for i, slot in enumerate(compiled_optimizers.HYPER_SLOTS):
        assert getattr(_fused, "H_" + slot.upper()) == i, slot


def _rmsprop_momentum(learning_rate, rho=0.9, epsilon=1e-8, momentum=0.9):
    """RMSProp whose scaled gradients feed a momentum trace: a new optimizer, made as
    neurona.optimizers' docstring says, from existing transformations and with a spec."""
    return optimizers.chain(
        optimizers.scale_by_rms(rho, epsilon), optimizers.trace(momentum),
        optimizers.scale_by_learning_rate(learning_rate), name="rmsprop_momentum",
        spec=optimizers.make_spec("rmsprop_momentum", learning_rate, rho=rho, epsilon=epsilon,
                                  momentum=momentum))


@pytest.mark.parametrize("optimizer", ["rmsprop_momentum", "nesterov_restart"])
def test_an_optimizer_without_an_adapter_trains_on_the_numpy_loop(monkeypatch, optimizer):
    monkeypatch.setitem(optimizers.OPTIMIZERS, "rmsprop_momentum", _rmsprop_momentum)
    calls = []
    real = kernels.compiled_epoch
    monkeypatch.setattr(kernels, "compiled_epoch",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    X, y, w, b, _ = _problem(kernels.FUSED_MIN_SIZE // 4, 4, np.float64, "C", seed=5)
    assert X.size >= kernels.FUSED_MIN_SIZE
    runs = {}
    for kernel in KERNEL_CHOICES + ["auto"]:
        neuron = Neuron(w, b)
        history = train(neuron, X, y, epochs=2, learning_rate=0.01, optimizer=optimizer,
                        schedule="step", batch_size=64, random_state=1, kernel=kernel,
                        momentum=0.8)
        runs[kernel] = (np.append(neuron.weights, neuron.bias), history)
    assert calls == []
    (p0, h0), (p1, h1) = runs["numpy"], runs["auto"]
    np.testing.assert_array_equal(p1, p0)
    for key in ("loss", "sse", "accuracy", "grad_norm", "learning_rate"):
        np.testing.assert_array_equal(h1[key], h0[key], err_msg=key)
    if HAVE_NUMBA:  # each batch through the fused pass, the updates by NumPy
        p2, h2 = runs["numba"]
        assert np.max(np.abs(p2 - p0)) <= 1e-12 * np.max(np.abs(p0))
        np.testing.assert_allclose(h2["loss"], h0["loss"], rtol=1e-12)
    assert np.any(p0 != np.append(w, b)) and h0["loss"][-1] < h0["loss"][0]


def _heavy_ball(learning_rate, beta=0.7):
    """Momentum under another name and with another hyperparameter name."""
    return optimizers.chain(
        optimizers.trace(beta), optimizers.scale_by_learning_rate(learning_rate),
        name="heavy_ball", spec=optimizers.make_spec("heavy_ball", learning_rate, beta=beta))


@needs_numba
def test_a_registered_adapter_runs_a_new_optimizer_compiled(monkeypatch):
    monkeypatch.setitem(optimizers.OPTIMIZERS, "heavy_ball", _heavy_ball)
    adapter = compiled_optimizers.CompiledOptimizer(
        "heavy_ball", "momentum", {"momentum": "beta"},
        ((("trace", "mu"),), (("count", "lr_count"),)))
    monkeypatch.setitem(compiled_optimizers.COMPILED_OPTIMIZERS, "heavy_ball", adapter)
    calls = []
    real = kernels.compiled_epoch
    monkeypatch.setattr(kernels, "compiled_epoch",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    runs = _minibatch_runs("heavy_ball", "float64", "C", EXTRAS["plain"])
    assert calls == [1, 1]  # one compiled loop per epoch
    (p0, h0), (p1, h1) = runs["numpy"], runs["numba"]
    assert np.max(np.abs(p1 - p0)) <= 1e-12 * np.max(np.abs(p0))
    np.testing.assert_allclose(h1["loss"], h0["loss"], rtol=1e-12)
    # beta, not the settings' momentum, is the rule's momentum: it differs from momentum's.
    momentum = _minibatch_runs("momentum", "float64", "C", EXTRAS["plain"], choices=("numpy",))
    assert np.max(np.abs(momentum["numpy"][0] - p0)) > 1e-6


@pytest.mark.parametrize("args,message", [
    (("x", "lion", {}, ()), "unknown rule 'lion'"),
    (("x", "momentum", {}, ((("trace", "mu"),), (("count", "lr_count"),))),
     "reads the hyperparameters momentum"),
    (("x", "adam", {"beta_1": "b1", "beta_2": "b2", "epsilon": "e"},
      ((("mu", "mu"), ("nu", "nu")), (("count", "lr_count"),))),
     "keeps the state slots mu, nu, count, lr_count"),
    (("x", "gd", {}, ((("count", "lr_count"),),), "mask"), "reads no decay mask"),
])
def test_a_wrong_adapter_is_refused_when_made(args, message):
    with pytest.raises(NeuronaError, match=message):
        compiled_optimizers.CompiledOptimizer(*args)


def test_an_adapter_name_is_registered_once():
    taken = compiled_optimizers.CompiledOptimizer("adam", "gd", {}, ((("count", "lr_count"),),))
    with pytest.raises(NeuronaError, match="'adam' is registered already"):
        compiled_optimizers.register(taken)
    assert compiled_optimizers.COMPILED_OPTIMIZERS["adam"].rule == "adam"


@needs_numba
def test_compiled_loops_refuse_shapes_they_would_read_past():
    from neurona.core import optimizers
    from neurona.engines.memory import run_epoch

    X, y, w, b, sw = _problem(200, 3, np.float64, "C")
    act, loss = ACTIVATIONS["sigmoid"], LOSSES["log_loss"]
    with pytest.raises(NeuronaError, match=r"y has shape \(199,\), expected \(200,\)"):
        forward_backward(X, y[:-1], w, b, act, loss, kernel="numba")
    with pytest.raises(NeuronaError, match="sample_weight has shape"):
        forward_backward(X, y, w, b, act, loss, sample_weight=sw[:10], kernel="numba")
    opt = optimizers.get_optimizer("adam", 0.1)
    params = np.append(w, b)
    order = np.arange(200)
    order[5] = 200
    with pytest.raises(NeuronaError, match="order must hold row numbers 0 to 199"):
        run_epoch(X, y, params, opt.init(params), order, optimizer=opt, activation=act,
                  loss=loss, batch_size=16, kernel="numba")


@pytest.mark.parametrize("kernel", KERNEL_CHOICES)
def test_metrics_are_plain_python_floats(kernel):
    X, y, w, b, _ = _problem(3000, 4, np.float64, "C")
    dw, db, metrics = forward_backward(X, y, w, b, ACTIVATIONS["sigmoid"], LOSSES["log_loss"],
                                       kernel=kernel)
    assert type(db) is float and all(type(v) is float for v in metrics.values()), metrics


def test_dtype_float32_is_refused_for_a_dask_dataset():
    da = pytest.importorskip("dask.array", reason="the dask extra is part of the test extra")
    X, y, w, b, _ = _problem(100, 2, np.float64, "C")
    with pytest.raises(NeuronaError, match="a Dask dataset is trained in float64"):
        train(Neuron(w, b), da.from_array(X, chunks=50), da.from_array(y, chunks=50),
              dtype="float32", epochs=1)


def test_a_checkpoint_from_before_the_dtype_option_resumes_in_float64(tmp_path):
    from neurona import Checkpoint

    X, y, w, b, _ = _problem(300, 3, np.float64, "C")
    path = tmp_path / "checkpoint.json"
    train(Neuron(w, b), X, y, epochs=2, callbacks=[Checkpoint(path)])
    doc = json.loads(path.read_text())
    del doc["settings"]["dtype"]  # as written before dtype was recorded
    neuron = Neuron(w, b)
    history = train(neuron, X, y, epochs=4, resume=doc)
    assert len(history) == 4
    with pytest.raises(NeuronaError, match="dtype='float64' there, 'float32' here"):
        train(Neuron(w, b), X, y, epochs=4, resume=doc, dtype="float32")
