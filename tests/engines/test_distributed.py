"""Training on a Dask cluster gives what training in memory gives."""

import os
import signal
import socket
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="the dask extra is part of the test extra")
from distributed import Client, LocalCluster  # noqa: E402

import neurona  # noqa: E402
from neurona import Neuron, NeuronaError, train  # noqa: E402
from neurona.engines.dask import DaskEngine, connect  # noqa: E402

pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2400, 4)) * [1.0, 3.0, 0.5, 2.0]
    y = (X[:, 0] - X[:, 1] / 3 + 0.7 * rng.normal(size=2400) > 0).astype(float)
    sw = rng.uniform(0.5, 2.0, size=2400)
    return X, y, sw


def dask_of(*arrays, chunks=500):
    return [None if a is None else da.from_array(a, chunks=chunks) for a in arrays]


class Params(neurona.Callback):
    """Records the parameters after every epoch."""

    def __init__(self):
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(self.trainer.params.copy())


SETTINGS = [
    dict(),
    dict(reduction="mean", optimizer="adam", learning_rate=0.05, l2=0.01),
    dict(reduction="mean", optimizer="nesterov", learning_rate=0.1, l1=0.001,
         class_weight="balanced"),
    dict(loss="squared_error", learning_rate=0.001, schedule="exponential"),
]


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("weighted", [False, True])
def test_full_batch_equals_in_memory_after_every_epoch(client, problem, settings, weighted):
    X, y, sw = problem
    sw = sw if weighted else None
    memory, cluster = Params(), Params()
    h_mem = train(Neuron.random(4, 1), X, y, sample_weight=sw, epochs=15,
                  callbacks=[memory], **settings)
    Xd, yd, swd = dask_of(X, y, sw)
    h_dask = train(Neuron.random(4, 1), Xd, yd, sample_weight=swd, epochs=15,
                   callbacks=[cluster], **settings)
    assert len(cluster.seen) == 15
    for a, b in zip(memory.seen, cluster.seen):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    for key in h_mem.keys:
        np.testing.assert_allclose(h_dask[key], h_mem[key], rtol=1e-10, atol=1e-12)


def test_dask_dataframe_input(client, problem):
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    X, y, _ = problem
    frame = pd.DataFrame(X, columns=list("abcd")).assign(target=y)
    ddf = dd.from_pandas(frame, npartitions=3)
    n_mem, n_dask = Neuron.random(4, 2), Neuron.random(4, 2)
    train(n_mem, X, y, epochs=5)
    train(n_dask, ddf[list("abcd")], ddf["target"], epochs=5)
    np.testing.assert_allclose(n_dask.weights, n_mem.weights, rtol=1e-10)


def test_mini_batches_converge_like_in_memory(client, problem):
    X, y, _ = problem
    settings = dict(optimizer="adam", batch_size=32, reduction="mean", learning_rate=0.01,
                    epochs=8, random_state=3)
    n_mem, n_dask = Neuron.random(4, 0), Neuron.random(4, 0)
    start = neurona.objective(y, n_mem.net_input(X), "sigmoid", "log_loss", "mean")
    h_mem = train(n_mem, X, y, **settings)
    h_dask = train(n_dask, *dask_of(X, y), **settings)
    final = neurona.objective(y, n_dask.net_input(X), "sigmoid", "log_loss", "mean")
    assert final == pytest.approx(
        neurona.objective(y, n_mem.net_input(X), "sigmoid", "log_loss", "mean"), rel=0.01)
    assert final < 0.5 * start
    assert h_dask["loss"][-1] == pytest.approx(h_mem["loss"][-1], rel=0.02)
    assert np.mean(n_dask.predict(X) == y) == pytest.approx(np.mean(n_mem.predict(X) == y),
                                                            abs=0.01)
    # The scheme is seeded: the same run twice gives the same weights.
    again = Neuron.random(4, 0)
    train(again, *dask_of(X, y), **settings)
    np.testing.assert_array_equal(again.weights, n_dask.weights)


@pytest.mark.parametrize("batch_size", [None, 40])
def test_resume_on_dask_equals_one_long_run(client, problem, tmp_path, batch_size):
    X, y, _ = problem
    Xd, yd = dask_of(X, y)
    settings = dict(optimizer="adam", reduction="mean", learning_rate=0.05,
                    batch_size=batch_size, random_state=5)
    whole = Neuron.random(4, 0)
    h_whole = train(whole, Xd, yd, epochs=6, **settings)
    first = Neuron.random(4, 0)
    train(first, Xd, yd, epochs=3,
          callbacks=[neurona.Checkpoint(tmp_path / "ck.json")], **settings)
    resumed = Neuron.random(4, 0)
    h = train(resumed, Xd, yd, epochs=6, resume=tmp_path / "ck.json", **settings)
    np.testing.assert_array_equal(resumed.weights, whole.weights)
    assert h.rows == h_whole.rows


def test_validation_and_early_stopping_on_dask(client, problem):
    X, y, _ = problem
    stop = neurona.EarlyStopping(monitor="val_loss", patience=2,
                                           restore_best_weights=True)
    h = train(Neuron.random(4, 0), *dask_of(X, y), epochs=200, learning_rate=0.5,
              reduction="mean", optimizer="momentum", validation_fraction=0.25,
              random_state=0, callbacks=[stop])
    assert {"val_loss", "val_accuracy", "val_sse"} <= set(h.keys)
    assert len(h) < 200
    assert h["val_accuracy"][-1] > 0.8


def test_a_killed_worker_changes_nothing(problem):
    X, y, _ = problem
    expected = Neuron.random(4, 0)
    train(expected, X, y, epochs=12, reduction="mean", learning_rate=0.5)

    class KillAWorker(neurona.Callback):
        killed = None

        def on_epoch_end(self, epoch, logs=None):
            if epoch == 4:
                pids = self.client.run(os.getpid)
                self.killed = sorted(pids.values())[0]
                os.kill(self.killed, signal.SIGKILL)

    killer = KillAWorker()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        killer.client = c
        Xd, yd = dask_of(X, y, chunks=300)
        got = Neuron.random(4, 0)
        train(got, Xd, yd, epochs=12, reduction="mean", learning_rate=0.5,
              callbacks=[killer])
        survivors = set(c.run(os.getpid).values())
    assert killer.killed is not None and killer.killed not in survivors
    np.testing.assert_allclose(got.weights, expected.weights, rtol=1e-10)
    assert got.bias == pytest.approx(expected.bias, rel=1e-10)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_a_clear_error_within_the_timeout():
    address = f"tcp://127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    with pytest.raises(NeuronaError, match="Could not reach the Dask scheduler at " + address):
        connect(address, timeout=2)
    assert time.monotonic() - start < 30


def test_daskdata_checks_its_input(client):
    with pytest.raises(NeuronaError, match="different numbers of samples"):
        DaskEngine(da.zeros((10, 2), chunks=5), da.zeros(9, chunks=5))
    with pytest.raises(NeuronaError, match="expecting 3 features"):
        train(Neuron.random(3, 0), da.zeros((10, 2), chunks=5), da.zeros(10, chunks=5))


@pytest.mark.parametrize("name", ["classifier", "multiclass", "regressor"])
def test_estimators_on_dask_equal_estimators_in_memory(client, problem, name):
    from neurona import NeuronClassifier, NeuronRegressor

    X, y, sw = problem
    if name == "regressor":
        model, target = NeuronRegressor(epochs=30, tol=None), X @ [1.0, -2.0, 0.5, 0.0] + 3
    elif name == "multiclass":
        model = NeuronClassifier(epochs=30, class_weight="balanced", tol=None, random_state=0)
        target = np.digitize(X[:, 0], [-0.5, 0.7]).astype(str)
    else:
        model, target = NeuronClassifier(epochs=30, tol=None, random_state=0), y
    memory = clone_of(model).fit(X, target, sample_weight=sw)
    Xd, td, swd = dask_of(X, target, sw)
    cluster = clone_of(model).fit(Xd, td, sample_weight=swd)
    np.testing.assert_allclose(cluster.coef_, memory.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(cluster.intercept_, memory.intercept_, rtol=1e-8, atol=1e-10)
    assert cluster.n_iter_ == memory.n_iter_
    assert cluster.learning_rate_ == pytest.approx(memory.learning_rate_, rel=1e-10)
    lazy = cluster.predict(Xd)
    assert isinstance(lazy, da.Array)
    if name == "regressor":
        np.testing.assert_allclose(lazy.compute(), memory.predict(X), rtol=1e-8)
    else:
        np.testing.assert_array_equal(lazy.compute(), memory.predict(X))


def clone_of(model):
    from sklearn.base import clone

    return clone(model)


@pytest.mark.parametrize("settings", [dict(validation_fraction=0.2),
                                      dict(early_stopping=True, patience=3,
                                           learning_rate=0.5, reduction="mean"),
                                      dict(validation_fraction=0.3, class_weight="balanced")])
def test_validation_rows_are_the_same_as_in_memory(client, problem, settings):
    # One split rule on every engine: the same validation rows, so the same run.
    X, y, _ = problem
    memory, cluster = Params(), Params()
    h_mem = train(Neuron.random(4, 1), X, y, epochs=12, random_state=5, callbacks=[memory],
                  **settings)
    Xd, yd = dask_of(X, y, chunks=700)
    h_dask = train(Neuron.random(4, 1), Xd, yd, epochs=12, random_state=5,
                   callbacks=[cluster], **settings)
    assert h_dask.keys == h_mem.keys and "val_loss" in h_mem.keys
    assert len(h_dask) == len(h_mem)
    for a, b in zip(memory.seen, cluster.seen):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    for key in h_mem.keys:
        np.testing.assert_allclose(h_dask[key], h_mem[key], rtol=1e-10, atol=1e-12)
