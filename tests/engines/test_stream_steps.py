"""Streamed mini-batches: the shuffle buffer's order, its runs trained in compiled loops."""

import numpy as np
import pytest

import neurona
from neurona.core.trainer import DivergenceError
from neurona.engines import kernels, stream
from neurona.engines.stream import StreamEngine
from neurona.errors import NeuronaError

needs_numba = pytest.mark.skipif(not kernels.numba_available(), reason="needs Numba")


def plain_scheme(batches, batch_size, buffer_rows, rng):
    """The shuffle buffer as the docs say it, written plainly: each batch joins the buffer,
    as many rows as it brought leave it, drawn at random, every ``batch_size`` of the rows
    leaving make a mini-batch, and at the end the buffer empties in random order."""
    pool, out = None, []

    def order(n):
        return np.arange(n) if rng is None else rng.permutation(n)

    for batch in batches:
        pool = list(batch) if pool is None else [np.concatenate([a, b])
                                                 for a, b in zip(pool, batch)]
        n = len(pool[0])
        if n > buffer_rows:
            perm = order(n)
            out.append([p[perm[:n - buffer_rows]] for p in pool])
            pool = [p[perm[n - buffer_rows:]] for p in pool]
    if pool is not None and len(pool[0]):
        perm = order(len(pool[0]))
        out.append([p[perm] for p in pool])
    rows = [np.concatenate(col) for col in zip(*out)]
    return [tuple(r[i:i + batch_size] for r in rows) for i in range(0, len(rows[0]), batch_size)]


@pytest.mark.parametrize("seed", range(40))
def test_the_shuffle_buffer_gives_the_order_of_its_plain_scheme(seed):
    rng = np.random.default_rng(seed)
    batches, start = [], 0
    for m in rng.integers(0, 300, size=rng.integers(1, 12)):
        X = rng.normal(size=(m, int(rng.integers(1, 4)) if not batches else
                             batches[0][0].shape[1]))
        y = np.arange(start, start + m, dtype=float)
        start += m
        batches.append((X, y) if seed % 2 else (X, y, 2 * y))
    if not start:
        return
    size, buffer = int(rng.integers(1, 70)), int(rng.integers(0, 500))
    shuffle = seed % 3 != 0
    got = list(stream.shuffled_minibatches(batches, size, buffer if shuffle else 0,
                                           np.random.default_rng(seed) if shuffle else None))
    expected = plain_scheme(batches, size, buffer if shuffle else 0,
                            np.random.default_rng(seed) if shuffle else None)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


@needs_numba
def test_rows_moved_by_compiled_loops_come_in_the_same_order():
    rng = np.random.default_rng(0)
    batches = [(rng.normal(size=(m, 5)), rng.normal(size=m)) for m in (700, 300, 1000, 5)]
    a = list(stream.shuffled_chunks(batches, 32, 900, np.random.default_rng(1)))
    b = list(stream.shuffled_chunks(batches, 32, 900, np.random.default_rng(1), compiled=True))
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert all(np.array_equal(p, q) for p, q in zip(u, v))


def _problem(n=6000, d=4, seed=0, regress=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1.0, 2.0, 0.5, 1.5][:d]
    z = X @ np.array([1.0, -0.5, 0.25, 0.8][:d])
    y = z + 0.1 * rng.normal(size=n) if regress else (z + rng.normal(size=n) > 0).astype(float)
    return [(X[i:i + 777], y[i:i + 777]) for i in range(0, n, 777)]


SETTINGS = [
    dict(optimizer="gd", learning_rate=0.05, reduction="mean"),
    dict(optimizer="adam", learning_rate=0.01, reduction="mean", l2=0.01),
    dict(optimizer="momentum", learning_rate=1e-3, reduction="sum", l1=0.001,
         schedule="step", decay_steps=20),
    dict(optimizer="rmsprop", learning_rate=0.01, reduction="mean", class_weight="balanced"),
]


@needs_numba
@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("shuffle", [True, False])
def test_compiled_runs_take_the_numpy_steps(settings, shuffle):
    batches = _problem()

    def trained(kernel):
        neuron = neurona.Neuron.random(4, 2)
        engine = StreamEngine(batches, shuffle_buffer=1500, kernel=kernel)
        history = neurona.train(neuron, engine, epochs=3, batch_size=50, shuffle=shuffle,
                                random_state=7, validation_fraction=0.2, **settings)
        return np.r_[neuron.weights, neuron.bias], history

    (pa, ha), (pb, hb) = trained("numba"), trained("numpy")
    np.testing.assert_allclose(pa, pb, rtol=1e-10, atol=1e-12)
    assert ha.keys == hb.keys
    for key in ha.keys:
        np.testing.assert_allclose(ha[key], hb[key], rtol=1e-9, atol=1e-12)


@needs_numba
def test_a_compiled_regression_takes_the_numpy_steps():
    batches = _problem(regress=True)

    def trained(kernel):
        neuron = neurona.Neuron.random(4, 2, activation="identity")
        engine = StreamEngine(batches, shuffle_buffer=1000, kernel=kernel)
        history = neurona.train(neuron, engine, epochs=3, batch_size=64, loss="squared_error",
                                reduction="mean", learning_rate=0.05, random_state=1)
        return np.r_[neuron.weights, neuron.bias], history

    (pa, ha), (pb, hb) = trained("numba"), trained("numpy")
    np.testing.assert_allclose(pa, pb, rtol=1e-10)
    for key in ("loss", "r2", "mae"):
        np.testing.assert_allclose(ha[key], hb[key], rtol=1e-9)


def test_large_streams_run_compiled_and_small_ones_on_numpy(monkeypatch):
    """``auto`` compiles the runs of a stream as large as the memory engine compiles."""
    used = []
    for name in ("_compiled_run", "_numpy_run"):
        real = getattr(StreamEngine, name)

        def spy(self, *args, real=real, name=name, **kwargs):
            used.append(name)
            return real(self, *args, **kwargs)

        monkeypatch.setattr(StreamEngine, name, spy)
    settings = dict(epochs=1, batch_size=50, learning_rate=0.01, optimizer="adam")
    neurona.train(neurona.Neuron.random(4, 0), StreamEngine(_problem(n=1000)), **settings)
    assert set(used) == {"_numpy_run"}
    used.clear()
    neurona.train(neurona.Neuron.random(4, 0), StreamEngine(_problem(n=20_000)), **settings)
    assert set(used) == ({"_compiled_run"} if kernels.numba_available() else {"_numpy_run"})


class _Stopping:
    """A source that asks its trainer to stop after ``after`` batches of epoch ``epoch``."""

    def __init__(self, batches, epoch, after):
        self.source = stream.Batches(batches)
        self.n_rows, self.n_features = self.source.n_rows, self.source.n_features
        self.epoch, self.after, self.trainer, self.passes = epoch, after, None, 0

    def with_rows(self):
        self.passes += 1
        for k, item in enumerate(self.source.with_rows()):
            if self.trainer is not None and self.trainer.epoch == self.epoch and k == self.after:
                self.trainer.stop("interrupted")
            yield item

    def positions(self):
        return self.source.positions()


@needs_numba
@pytest.mark.parametrize("kernel", ["numba", "numpy"])
def test_a_streamed_epoch_cut_short_is_finished_exactly_on_resume(kernel):
    batches = _problem(n=8000)
    settings = dict(epochs=4, learning_rate=0.02, batch_size=40, optimizer="adam",
                    random_state=3, reduction="mean")

    def trainer(source, **kw):
        return neurona.Trainer(neurona.Neuron.random(4, 1),
                               StreamEngine(source, shuffle_buffer=1200, kernel=kernel),
                               **settings, **kw)

    once = trainer(batches)
    once.run()
    source = _Stopping(batches, epoch=2, after=5)
    first = trainer(source)
    source.trainer = first
    first.run()
    assert first.status == "interrupted" and first.epoch == 2 and 0 < first.batch
    rest = trainer(batches, resume=first.checkpoint())
    rest.run()
    np.testing.assert_array_equal(rest.params, once.params)
    assert rest.history.rows == once.history.rows


@needs_numba
def test_a_compiled_run_that_diverges_names_its_batch():
    neuron = neurona.Neuron.random(4, 0, activation="identity")
    engine = StreamEngine(_problem(n=20_000, regress=True), kernel="numba")
    with pytest.raises(DivergenceError, match="overflow occurred at epoch #"):
        neurona.train(neuron, engine, epochs=50, batch_size=64, learning_rate=50.0,
                      loss="squared_error")
    assert np.all(np.isfinite(neuron.weights))


def test_a_stream_refuses_a_dtype_its_features_are_not_in():
    with pytest.raises(NeuronaError, match="dtype is 'float32', but the stream's features "
                                           "are float64"):
        neurona.train(neurona.Neuron.random(4, 0), StreamEngine(_problem(n=100)), epochs=1,
                      dtype="float32")


def test_the_kernel_setting_reaches_a_streamed_part(tmp_path, monkeypatch):
    from neurona.data.filestream import FileStream

    path = tmp_path / "d.csv"
    X, y = np.concatenate([b[0] for b in _problem(n=20_000)]), np.concatenate(
        [b[1] for b in _problem(n=20_000)])
    path.write_text("a,b,c,d,y\n" + "".join(",".join(map(repr, [*row.tolist(), int(t)])) + "\n"
                                             for row, t in zip(X, y)))
    used = []
    real = StreamEngine._compiled_run
    monkeypatch.setattr(StreamEngine, "_compiled_run",
                        lambda self, *a, **k: used.append(1) or real(self, *a, **k))
    part = FileStream(path, "y").scan().part("train")
    settings = dict(epochs=1, batch_size=100, learning_rate=0.01, optimizer="adam")
    neurona.train(neurona.Neuron.random(4, 0), part, kernel="numpy", **settings)
    assert used == []
    if kernels.numba_available():
        neurona.train(neurona.Neuron.random(4, 0), part, **settings)
        assert used
