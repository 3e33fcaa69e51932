"""A regression trains alike on every engine: in memory (NumPy and the Numba kernels),
streamed and on Dask, with the same weights, r2 and mae, and resumes exactly on each."""

import json

import numpy as np
import pytest

from neurona import Callback, Neuron, train
from neurona.core.activations import ACTIVATIONS
from neurona.core.gradient import REGRESSION_SUMS, epoch_metrics, new_totals
from neurona.core.losses import LOSSES
from neurona.engines import kernels
from neurona.engines.memory import forward_backward
from neurona.engines.stream import Batches, StreamEngine
from neurona.face.api import Trainer

needs_numba = pytest.mark.skipif(not kernels.numba_available(), reason="Numba not installed")
LINEAR = dict(loss="squared_error", reduction="mean")
KEYS = ["epoch", "loss", "sse", "r2", "mae", "grad_norm", "learning_rate", "passes"]


def _problem(n=1200, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.linspace(0.5, 2.0, d)
    y = X @ rng.normal(size=d) + 3.0 + 0.4 * rng.normal(size=n)
    sw = rng.uniform(0.2, 2.0, size=n)
    return X, y, sw


def unit(d):
    return Neuron(np.linspace(-0.2, 0.3, d), 0.1, activation="identity")


class Params(Callback):
    def __init__(self):
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(self.trainer.params.copy())


def _assert_same_run(a, b, rtol=1e-10):
    (pa, ha), (pb, hb) = a, b
    assert ha.keys == hb.keys
    for x, y in zip(pa.seen, pb.seen):
        np.testing.assert_allclose(y, x, rtol=rtol, atol=1e-12)
    for key in ha.keys:
        np.testing.assert_allclose(hb[key], ha[key], rtol=rtol, atol=1e-12, err_msg=key)


def _roundtrip(doc):
    return json.loads(json.dumps(doc, allow_nan=False))


def _resumes_exactly(make, n=8, k=3):
    """``make(epochs, resume)`` -> Trainer; k epochs then a resume to n equal n at once."""
    once = make(n, None)
    once.run()
    first = make(k, None)
    first.run()
    rest = make(n, _roundtrip(first.checkpoint()))
    rest.run()
    np.testing.assert_array_equal(rest.params, once.params)
    assert rest.history.rows == once.history.rows
    assert once.history.keys[:len(KEYS)] == KEYS


# --- in memory: the NumPy pass and the Numba kernels ----------------------------------

@needs_numba
@pytest.mark.parametrize("dtype,order", [(np.float64, "C"), (np.float64, "F"),
                                         (np.float32, "C"), (np.float32, "F")])
@pytest.mark.parametrize("activation", ["identity", "tanh"])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_fused_pass_adds_up_a_regressions_sums_like_numpy(dtype, order, activation,
                                                              weighted):
    X, y, sw = _problem(3001, 6, seed=1)
    X = np.asarray(X, dtype=dtype, order=order)
    y = np.tanh(y / 4) if activation == "tanh" else y
    sw = sw if weighted else None
    args = (X, y, np.full(6, 0.1), 0.2, ACTIVATIONS[activation], LOSSES["squared_error"],
            "mean", 0.5, sw, "regress")
    fused = forward_backward(*args, kernel="numba")
    plain = forward_backward(*args, kernel="numpy")
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert list(fused[2]) == list(plain[2]) == ["loss", "sse", *REGRESSION_SUMS]
    for key in plain[2]:
        np.testing.assert_allclose(fused[2][key], plain[2][key], rtol=rtol, err_msg=key)
    np.testing.assert_allclose(fused[0], plain[0], rtol=rtol * 10, atol=rtol)
    # the classifier's pass of the same rows reports its accuracy, as before
    classify = forward_backward(*args[:-1], kernel="numba")
    assert list(classify[2]) == ["loss", "sse", "accuracy"]


@needs_numba
@pytest.mark.parametrize("batch_size", [None, 50])
@pytest.mark.parametrize("optimizer", ["adam", "nesterov_restart"])
@pytest.mark.parametrize("weighted", [False, True])
def test_numba_and_numpy_train_a_regression_alike(batch_size, optimizer, weighted):
    X, y, sw = _problem()
    runs = []
    for kernel in ("numpy", "numba"):
        seen = Params()
        history = train(unit(4), X, y, sample_weight=sw if weighted else None, epochs=6,
                        learning_rate=0.05, optimizer=optimizer, batch_size=batch_size,
                        random_state=2, validation_fraction=0.25, kernel=kernel,
                        callbacks=[seen], **LINEAR)
        runs.append((seen, history))
    assert runs[0][1].keys == KEYS + ["val_loss", "val_sse", "val_r2", "val_mae"]
    _assert_same_run(*runs, rtol=1e-11)


@needs_numba
def test_the_compiled_epoch_keeps_a_regressions_running_sums(monkeypatch):
    from neurona.core import optimizers
    from neurona.engines.memory import run_epoch

    X, y, sw = _problem(900, 3)
    calls = []
    real = kernels.compiled_epoch
    monkeypatch.setattr(kernels, "compiled_epoch",
                        lambda *a, **k: calls.append(k["task"]) or real(*a, **k))
    opt = optimizers.get_optimizer("adam", 0.05)
    params = np.array([0.1, -0.2, 0.3, 0.0])
    order = np.random.default_rng(0).permutation(900)
    common = dict(optimizer=opt, activation=ACTIVATIONS["identity"],
                  loss=LOSSES["squared_error"], reduction="mean", sample_weight=sw,
                  batch_size=64, task="regress")
    ends = {}
    for kernel in ("numpy", "numba"):
        totals = new_totals(4, "regress")
        ends[kernel] = run_epoch(X, y, params, opt.init(params), order, totals=totals,
                                 kernel=kernel, **common)[2], totals
    assert calls == ["regress"]
    (m0, t0), (m1, t1) = ends["numpy"], ends["numba"]
    assert set(t1) == set(t0) and list(m1) == list(m0) == ["loss", "sse", "r2", "mae",
                                                            "grad_norm"]
    assert t0["sum_w"] == pytest.approx(sw.sum(), rel=1e-12)
    assert t0["sum_y"] == pytest.approx(sw @ y, rel=1e-12)
    for key in ("loss", "sse", *REGRESSION_SUMS):
        np.testing.assert_allclose(t1[key], t0[key], rtol=1e-12, err_msg=key)
    assert m1 == pytest.approx(m0, rel=1e-11) and m0 == epoch_metrics(t0)


@pytest.mark.parametrize("kernel", ["numpy"] + (["numba"] if kernels.numba_available()
                                                else []))
@pytest.mark.parametrize("batch_size", [None, 64])
def test_a_regression_in_memory_resumes_exactly(kernel, batch_size):
    X, y, sw = _problem()

    def make(epochs, resume):
        return Trainer(unit(4), X, y, sample_weight=sw, epochs=epochs, resume=resume,
                       optimizer="adam", learning_rate=0.05, batch_size=batch_size,
                       random_state=5, validation_fraction=0.2, kernel=kernel, **LINEAR)

    _resumes_exactly(make)


# --- streamed ---------------------------------------------------------------------------

def _batches(X, y, size=250):
    return Batches([(X[i:i + size], y[i:i + size]) for i in range(0, len(y), size)])


@pytest.mark.parametrize("settings", [dict(), dict(optimizer="nesterov", learning_rate=0.02,
                                                   l2=0.05, validation_fraction=0.2),
                                      dict(reduction="sum", learning_rate=1e-4, l1=0.1)])
def test_a_streamed_regression_equals_the_one_in_memory(settings):
    X, y, _ = _problem()
    runs = []
    for data in (X, StreamEngine(_batches(X, y))):
        seen = Params()
        kw = {**LINEAR, "learning_rate": 0.05, "random_state": 1, **settings}
        history = train(unit(4), data, y if data is X else None, epochs=10, callbacks=[seen],
                        **kw)
        runs.append((seen, history))
    assert "r2" in runs[1][1].keys and "accuracy" not in runs[1][1].keys
    _assert_same_run(*runs)


@pytest.mark.parametrize("batch_size", [None, 64])
def test_a_streamed_regression_resumes_exactly(batch_size):
    X, y, _ = _problem()
    source = _batches(X, y)

    def make(epochs, resume):
        return Trainer(unit(4), StreamEngine(source, shuffle_buffer=300), epochs=epochs,
                       resume=resume, optimizer="adam", learning_rate=0.05,
                       batch_size=batch_size, random_state=5, validation_fraction=0.2,
                       **LINEAR)

    _resumes_exactly(make)


def test_a_streamed_mini_batch_regression_records_the_r2_of_its_passes():
    X, y, _ = _problem()
    logs = []

    class Batch(Callback):
        def on_batch_end(self, batch, l=None):
            logs.append(l)

    history = train(unit(4), StreamEngine(_batches(X, y)), epochs=1, batch_size=100,
                    learning_rate=0.05, random_state=0, callbacks=[Batch()], **LINEAR)
    sse = sum(b["sse"] for b in logs)
    assert history.rows[0]["r2"] == pytest.approx(1 - sse / np.sum((y - y.mean()) ** 2),
                                                  rel=1e-10)


# --- on Dask ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client():
    pytest.importorskip("dask.array")
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


def _dask(*arrays, chunks=300):
    import dask.array as da

    return [None if a is None else da.from_array(a, chunks=chunks) for a in arrays]


@pytest.mark.dask
@pytest.mark.parametrize("weighted", [False, True])
def test_a_dask_regression_equals_the_one_in_memory(client, weighted):
    X, y, sw = _problem()
    sw = sw if weighted else None
    runs = []
    for data in ((X, y, sw), _dask(X, y, sw)):
        seen = Params()
        history = train(unit(4), data[0], data[1], sample_weight=data[2], epochs=8,
                        optimizer="nesterov", learning_rate=0.03, validation_fraction=0.2,
                        random_state=2, callbacks=[seen], **LINEAR)
        runs.append((seen, history))
    assert runs[1][1].keys == KEYS + ["val_loss", "val_sse", "val_r2", "val_mae"]
    _assert_same_run(*runs)


@pytest.mark.dask
@pytest.mark.parametrize("batch_size", [None, 64])
def test_a_dask_regression_resumes_exactly(client, batch_size):
    X, y, sw = _problem()
    Xd, yd, swd = _dask(X, y, sw)

    def make(epochs, resume):
        return Trainer(unit(4), Xd, yd, sample_weight=swd, epochs=epochs, resume=resume,
                       optimizer="adam", learning_rate=0.05, batch_size=batch_size,
                       random_state=5, **LINEAR)

    _resumes_exactly(make, n=5, k=2)


@pytest.mark.dask
def test_dask_mini_batches_combine_the_partitions_sums(client):
    """Unshuffled, each partition's mini-batches are the in-memory epoch's batches in the same
    order: the epoch's r2 and mae, combined from the partitions' sums, are the same."""
    X, y, sw = _problem(400, 3)
    Xd, yd, swd = _dask(X, y, sw, chunks=200)
    runs = []
    for data in ((Xd, yd, swd), (X, y, sw)):
        seen = Params()
        history = train(unit(3), data[0], data[1], sample_weight=data[2], epochs=3,
                        batch_size=50, shuffle=False, learning_rate=0.05, callbacks=[seen],
                        **LINEAR)
        runs.append((seen, history))
    assert runs[0][1].keys == KEYS
    _assert_same_run(*runs, rtol=1e-12)
