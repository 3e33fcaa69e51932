"""``optimizer="lbfgs"`` on every engine: streamed from a file and on Dask it reaches
LogisticRegression's optimum as in memory, one engine pass per evaluation."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import neurona
from neurona import Neuron
from neurona.data import readers, scaling
from neurona.data.filestream import FileStream
from neurona.engines.memory import MemoryEngine
from neurona.engines.stream import StreamEngine


def _problem(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=[1.0, -2.0, 5.0], scale=[1.0, 3.0, 2.0], size=(n, 3))
    y = ((X - X.mean(axis=0)) @ [1.0, -0.5, 0.3] + rng.normal(size=n) > 0).astype(np.int64)
    return X, y


def _csv(tmp_path, X, y):
    path = tmp_path / "rows.csv"
    path.write_text("f0,f1,f2,y\n" + "".join(
        ",".join([*(repr(float(v)) for v in row), str(t)]) + "\n" for row, t in zip(X, y)))
    return path


def _reference(X, y, C, class_weight=None):
    model = LogisticRegression(C=C, tol=1e-12, max_iter=100_000, class_weight=class_weight)
    model.fit(X, y)
    return model.coef_[0], model.intercept_[0]


@pytest.mark.parametrize("scale, reduction, class_weight", [
    ("none", "mean", None), ("standard", "sum", None), ("none", "mean", "balanced")])
def test_streamed_lbfgs_equals_in_memory_and_logistic_regression(tmp_path, monkeypatch, scale,
                                                                 reduction, class_weight):
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 8192)  # many record batches per pass
    X, y = _problem()
    fs = FileStream(_csv(tmp_path, X, y), "y").scan(scale)
    scaler = scaling.fit(scale, X)
    X_fit = X if scaler is None else scaler.transform(X)
    C = 0.5
    l2 = 1.0 / C if reduction == "sum" else 1.0 / (C * len(y))  # balanced: S = n as well
    settings = dict(optimizer="lbfgs", epochs=200, l2=l2, reduction=reduction,
                    class_weight=class_weight)
    memory, streamed = Neuron(np.zeros(3)), Neuron(np.zeros(3))
    h_mem = neurona.train(memory, X_fit, y, **settings)
    passes = []  # every full pass over the file (a reweighted stream is another engine)
    full_pass = StreamEngine.forward_backward
    monkeypatch.setattr(StreamEngine, "forward_backward",
                        lambda self, *a, **k: passes.append(1) or full_pass(self, *a, **k))
    trainer = neurona.Trainer(streamed, StreamEngine(fs.part("train")), **settings)
    h_str = trainer.run()
    assert trainer.status == "converged"
    w_ref, b_ref = _reference(X_fit, y, C, class_weight)
    np.testing.assert_allclose(streamed.weights, w_ref, atol=1e-5, rtol=0)
    assert streamed.bias == pytest.approx(b_ref, abs=1e-5)
    np.testing.assert_allclose(streamed.weights, memory.weights, rtol=1e-8, atol=1e-10)
    assert h_str["loss"][-1] == pytest.approx(h_mem["loss"][-1], rel=1e-10)
    assert h_str.keys == h_mem.keys
    # Every evaluation is one streamed pass, loss and gradient together: the history says so.
    assert len(passes) == trainer.passes == h_str["passes"][-1] <= 60


def test_a_streamed_regression_reaches_ridges_closed_form():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(900, 3)) * [2.0, 0.5, 1.0] + [1.0, 0.0, -3.0]
    y = X @ [0.5, -2.0, 1.0] + 4.0 + 0.3 * rng.normal(size=900)
    chunks = [(X[i:i + 100], y[i:i + 100]) for i in range(0, 900, 100)]
    l2 = 0.05
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    w = np.linalg.solve(2 * Xc.T @ Xc + len(y) * l2 * np.eye(3), 2 * Xc.T @ yc)
    b = y.mean() - X.mean(axis=0) @ w
    neuron = Neuron(np.zeros(3), activation="identity")
    history = neurona.train(neuron, StreamEngine(chunks), optimizer="lbfgs",
                            loss="squared_error", reduction="mean", l2=l2, tol=1e-12)
    np.testing.assert_allclose(neuron.weights, w, rtol=1e-8)
    assert neuron.bias == pytest.approx(b, rel=1e-8)
    assert history["r2"][-1] > 0.9


def test_a_validation_split_is_the_same_on_a_stream():
    X, y = _problem(800, seed=2)
    chunks = [(X[i:i + 90], y[i:i + 90]) for i in range(0, 800, 90)]
    settings = dict(optimizer="lbfgs", epochs=40, l2=1.0, validation_fraction=0.25,
                    random_state=3)
    a, b = Neuron(np.zeros(3)), Neuron(np.zeros(3))
    h_mem = neurona.train(a, MemoryEngine(X, y.astype(float)), **settings)
    h_str = neurona.train(b, StreamEngine(chunks), **settings)
    np.testing.assert_allclose(b.weights, a.weights, rtol=1e-8)
    np.testing.assert_allclose(h_str["val_loss"], h_mem["val_loss"], rtol=1e-8)


@pytest.mark.dask
def test_lbfgs_on_dask_equals_in_memory_and_logistic_regression():
    da = pytest.importorskip("dask.array", reason="the dask extra is part of the test extra")
    from distributed import Client, LocalCluster

    X, y = _problem(2000, seed=4)
    sw = np.random.default_rng(5).uniform(0.5, 2.0, size=len(y))
    C = 2.0
    l2 = 1.0 / (C * sw.sum())
    settings = dict(optimizer="lbfgs", epochs=200, l2=l2, reduction="mean")
    memory, cluster = Neuron(np.zeros(3)), Neuron(np.zeros(3))
    h_mem = neurona.train(memory, X, y, sample_weight=sw, **settings)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as lc, Client(lc):
        Xd, yd, swd = (da.from_array(a, chunks=450) for a in (X, y, sw))
        h_dask = neurona.train(cluster, Xd, yd, sample_weight=swd, **settings)
    model = LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(cluster.weights, model.coef_[0], atol=1e-5, rtol=0)
    assert cluster.bias == pytest.approx(model.intercept_[0], abs=1e-5)
    np.testing.assert_allclose(cluster.weights, memory.weights, rtol=1e-8, atol=1e-10)
    assert h_dask["passes"][-1] == h_mem["passes"][-1] <= 60
    assert h_dask.keys == h_mem.keys
