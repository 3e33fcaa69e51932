"""Streamed training equals in-memory training; the split, the shuffle buffer, the hooks."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import neurona
from neurona.data import readers
from neurona.core.trainer import DivergenceError
from neurona.data import scaling
from neurona.data.filestream import FileStream
from neurona.data.split import SAMPLE_ROWS, SAMPLE_STREAM, row_uniform
from neurona.engines import stream
from neurona.engines.stream import StreamEngine


def train_stream(neuron, source, *, shuffle_buffer=stream.SHUFFLE_BUFFER, seed=None,
                 **settings):
    """Train on ``source`` read anew every epoch: the stream engine under the one loop."""
    return neurona.train(neuron, StreamEngine(source, shuffle_buffer=shuffle_buffer),
                         random_state=seed, **settings)


def _problem(n=2500, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=[1.0, -2.0, 50.0][:d], scale=[1.0, 3.0, 10.0][:d], size=(n, d))
    y = ((X - X.mean(axis=0)) @ np.array([1.0, -0.5, 0.05][:d])
         + rng.normal(size=n) > 0).astype(np.int64)
    return X, y


def _write(tmp_path, X, y, kind):
    names = [f"f{j}" for j in range(X.shape[1])]
    if kind == "csv":
        path = tmp_path / "s.csv"
        path.write_text(",".join([*names, "y"]) + "\n" + "".join(
            ",".join([*(repr(float(v)) for v in row), str(t)]) + "\n" for row, t in zip(X, y)))
    else:
        path = tmp_path / "s.parquet"
        pq.write_table(pa.table({**{n: X[:, j] for j, n in enumerate(names)}, "y": y}), path,
                       row_group_size=300)
    return path


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 8192)
    monkeypatch.setattr(readers, "BATCH_ROWS", 211)


@pytest.mark.parametrize("dtype", ["float16", "int64", "double precision"])
def test_a_stream_refuses_other_dtypes_as_the_core_does(tmp_path, dtype):
    """The data layer keeps its own dtype check (it does not import the core): the two say
    the same."""
    from neurona.core.checks import check_dtype
    from neurona.errors import OptionError

    path = _write(tmp_path, *_problem(20), "csv")
    with pytest.raises(OptionError) as core:
        check_dtype(dtype)
    with pytest.raises(OptionError) as data:
        FileStream(path, target="y", dtype=dtype)
    assert str(data.value) == str(core.value) == (
        f"Unknown dtype {dtype!r}; choose one of float64, float32.")


def test_row_draws_do_not_depend_on_batches():
    rows = np.arange(10_000)
    u = row_uniform(rows, 7)
    pieces = np.concatenate([row_uniform(rows[i:i + 333], 7) for i in range(0, 10_000, 333)])
    np.testing.assert_array_equal(u, pieces)
    assert np.all((u >= 0) & (u < 1))
    assert abs(u.mean() - 0.5) < 0.01 and abs((u < 0.3).mean() - 0.3) < 0.015
    assert not np.array_equal(u, row_uniform(rows, 8))
    assert not np.array_equal(u, row_uniform(rows, 7, stream=1))


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("loss,reduction,scale", [("log_loss", "sum", "none"),
                                                  ("log_loss", "mean", "standard"),
                                                  ("squared_error", "mean", "minmax")])
def test_full_batch_streaming_equals_in_memory_training(tmp_path, small_batches, kind, loss,
                                                        reduction, scale):
    X, y = _problem()
    path = _write(tmp_path, X, y, kind)
    fs = FileStream(path, "y").scan(scale)
    assert len(list(fs.file.batches(["y"]))) > 5  # really several batches

    scaler = scaling.fit(scale, X)
    X_fit = X if scaler is None else scaler.transform(X)
    lr = 1e-4 if reduction == "sum" else 0.5
    a = neurona.Neuron.random(3, 4)
    b = a.copy()
    h_mem = neurona.train(a, X_fit, y, epochs=15, learning_rate=lr, loss=loss,
                          reduction=reduction)
    h_str = train_stream(b, fs.part("train"), epochs=15, learning_rate=lr, loss=loss,
                                reduction=reduction)
    np.testing.assert_allclose(b.weights, a.weights, rtol=1e-10, atol=1e-12)
    assert b.bias == pytest.approx(a.bias, rel=1e-10, abs=1e-12)
    for key in ("loss", "sse", "accuracy"):
        np.testing.assert_allclose(h_str[key], h_mem[key], rtol=1e-10)
    assert h_str.keys == h_mem.keys


def test_a_full_batch_epoch_over_chunks_equals_one_pass():
    X, y = _problem(500)
    chunks = [(X[i:i + 64], y[i:i + 64]) for i in range(0, 500, 64)]
    a, b = neurona.Neuron([0.3, -0.2, 0.01], 0.1), neurona.Neuron([0.3, -0.2, 0.01], 0.1)
    h_mem = neurona.train(a, X, y, epochs=1, learning_rate=0.1, reduction="mean")
    h_str = train_stream(b, chunks, epochs=1, learning_rate=0.1, reduction="mean")
    np.testing.assert_allclose(np.r_[b.weights, b.bias], np.r_[a.weights, a.bias], rtol=1e-12)
    for key in ("loss", "sse", "accuracy", "grad_norm"):
        assert h_str[key][0] == pytest.approx(h_mem[key][0], rel=1e-12)


def test_the_split_is_a_per_row_draw(tmp_path, small_batches):
    X, y = _problem(4000)
    fs = FileStream(_write(tmp_path, X, y, "parquet"), "y", test_size=0.25,
                           random_state=5).scan()
    expected = row_uniform(np.arange(4000), 5) < 0.25
    assert fs.n_test == expected.sum() and fs.n_train == 4000 - expected.sum()
    assert abs(fs.n_test / 4000 - 0.25) < 0.03
    rows = np.concatenate([r for _, _, r in fs.part("test").with_rows()])
    np.testing.assert_array_equal(rows, np.flatnonzero(expected))
    train_y = np.concatenate([t for _, t in fs.part("train")])
    np.testing.assert_array_equal(train_y, y[~expected])


def test_scaler_is_fitted_on_the_training_rows_only(tmp_path, small_batches):
    X, y = _problem(3000)
    fs = FileStream(_write(tmp_path, X, y, "csv"), "y", test_size=0.3).scan("standard")
    train = ~(row_uniform(np.arange(3000), 1) < 0.3)
    whole = scaling.fit("standard", X[train])
    np.testing.assert_allclose(fs.scaler.center, whole.center, rtol=1e-12)
    np.testing.assert_allclose(fs.scaler.scale, whole.scale, rtol=1e-12)


def test_shuffle_buffer_emits_every_row_once_in_bounded_batches():
    rows = np.arange(1000, dtype=float)
    batches = [(rows[i:i + 90, None], rows[i:i + 90]) for i in range(0, 1000, 90)]
    rng = np.random.default_rng(0)
    out = list(stream.shuffled_minibatches(batches, 32, 100, rng))
    sizes = [len(yb) for _, yb in out]
    assert all(s == 32 for s in sizes[:-1]) and 0 < sizes[-1] <= 32
    seen = np.concatenate([yb for _, yb in out])
    np.testing.assert_array_equal(np.sort(seen), rows)
    np.testing.assert_array_equal(np.concatenate([xb[:, 0] for xb, _ in out]), seen)
    assert not np.array_equal(seen, rows)  # shuffled
    # A row cannot leave before it arrives, nor wait longer than the buffer allows.
    position = np.empty(1000, int)
    position[seen.astype(int)] = np.arange(1000)
    assert np.all(position >= rows - 100 - 90)
    again = np.concatenate([yb for _, yb in stream.shuffled_minibatches(batches, 32, 100, rng)])
    assert not np.array_equal(again, seen)  # a new order every epoch


def test_minibatch_sgd_streaming_learns(tmp_path, small_batches):
    X, y = _problem(3000)
    fs = FileStream(_write(tmp_path, X, y, "parquet"), "y").scan("standard")
    n = neurona.Neuron.random(3, 0)
    h = train_stream(n, fs.part("train"), epochs=5, learning_rate=0.05,
                            reduction="mean", batch_size=64, shuffle_buffer=500, seed=3)
    assert len(h) == 5 and h["loss"][-1] < h["loss"][0]
    n.scaler = fs.scaler
    assert np.mean(n.predict(X) == y) > 0.8
    m = neurona.Neuron.random(3, 0)
    train_stream(m, fs.part("train"), epochs=5, learning_rate=0.05, reduction="mean",
                        batch_size=64, shuffle_buffer=500, seed=3)
    np.testing.assert_array_equal(m.weights, n.weights)  # seeded: reproducible


def test_callbacks_see_the_same_hooks_as_train():
    seen = []

    class Spy(neurona.Callback):
        def on_train_begin(self, logs=None):
            seen.append("begin")

        def on_epoch_begin(self, epoch, logs=None):
            seen.append(("start", epoch))

        def on_epoch_end(self, epoch, logs=None):
            seen.append(("end", epoch, sorted(logs)))

        def on_train_end(self, logs=None):
            seen.append("end")

    X, y = _problem(100)
    train_stream(neurona.Neuron.random(3, 0), [(X, y)], epochs=2, learning_rate=1e-3,
                        callbacks=[Spy()])
    keys = ["accuracy", "epoch", "grad_norm", "learning_rate", "loss", "passes", "sse"]
    assert seen == ["begin", ("start", 0), ("end", 0, keys), ("start", 1), ("end", 1, keys),
                    "end"]


def test_divergence_is_a_clear_error():
    X, y = _problem(200)
    neuron = neurona.Neuron.random(3, 0, activation="identity")
    with pytest.raises(DivergenceError, match="overflow occurred at epoch #"):
        train_stream(neuron, [(X, y)], epochs=1000, learning_rate=10.0,
                            loss="squared_error")


@pytest.mark.parametrize("kwargs,match", [
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(learning_rate=-1.0), "learning_rate must be a positive number"),
    (dict(batch_size=0), "batch_size must be a positive integer"),
    (dict(reduction="max"), "Unknown reduction 'max'"),
])
def test_bad_options_raise(kwargs, match):
    X, y = _problem(10)
    with pytest.raises(neurona.NeuronaError, match=match):
        train_stream(neurona.Neuron.random(3, 0), [(X, y)], **kwargs)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_test_pass_counts_and_samples(tmp_path, small_batches, kind, cache_dir):
    X, y = _problem(3000)
    path = _write(tmp_path, X, y, kind)
    n = neurona.Neuron([1.0, -0.5, 0.05], -0.5)
    is_test = row_uniform(np.arange(3000), 1) < 0.3
    pred = n.predict(X[is_test])
    expected = np.zeros((2, 2), int)
    np.add.at(expected, (y[is_test], pred), 1)
    # the rows a pass knowing the file's length draws, whether the scan parsed the file
    # or read its cache
    chosen = row_uniform(np.arange(3000), 1, SAMPLE_STREAM) < SAMPLE_ROWS / 3000
    for state in ("written", "read"):
        fs = FileStream(path, "y", test_size=0.3).scan()
        assert fs.cache_state == state
        confusion, (Xs, ys, test) = stream.test_pass(n, fs)
        np.testing.assert_array_equal(confusion, expected)
        np.testing.assert_array_equal(Xs, X[chosen])
        np.testing.assert_array_equal(ys, y[chosen])
        assert ys.dtype == np.int64
        np.testing.assert_array_equal(test, is_test[chosen])


def test_the_sample_of_a_regression_is_in_the_targets_units(tmp_path, small_batches):
    X, _ = _problem(1000)
    target = 100.0 + 10.0 * X[:, 0]
    path = _write(tmp_path, X, target, "parquet")
    fs = FileStream(path, "y", task="regress", target_scaler=None).scan(
        scale_target="standard")
    _, (Xs, ys, _) = stream.test_pass(neurona.Neuron([0.0] * 3, 0.0), fs)
    chosen = row_uniform(np.arange(1000), 1, SAMPLE_STREAM) < 1.0
    np.testing.assert_array_equal(ys, target[chosen])
    np.testing.assert_array_equal(Xs, X[chosen])


@pytest.mark.parametrize("settings", [
    dict(optimizer="adam", learning_rate=0.05, reduction="mean"),
    dict(optimizer="momentum", learning_rate=1e-4, schedule="step", decay_steps=3, l2=0.5),
    dict(optimizer="rmsprop", learning_rate=0.01, reduction="mean", l1=0.01,
         schedule="cosine"),
])
def test_streamed_optimizers_take_the_trainers_steps(tmp_path, small_batches, settings):
    X, y = _problem(1500)
    fs = FileStream(_write(tmp_path, X, y, "parquet"), "y").scan("standard")
    X_fit = scaling.fit("standard", X).transform(X)
    a = neurona.Neuron.random(3, 2)
    b = a.copy()
    h_mem = neurona.train(a, X_fit, y, epochs=12, **settings)
    h_str = train_stream(b, fs.part("train"), epochs=12, **settings)
    np.testing.assert_allclose(np.r_[b.weights, b.bias], np.r_[a.weights, a.bias],
                               rtol=1e-10, atol=1e-12)
    assert h_str.keys == h_mem.keys
    for key in h_mem.keys:
        np.testing.assert_allclose(h_str[key], h_mem[key], rtol=1e-9, atol=1e-12)


def test_unshuffled_mini_batches_equal_the_trainers(tmp_path, small_batches):
    X, y = _problem(1000)
    fs = FileStream(_write(tmp_path, X, y, "csv"), "y").scan()
    settings = dict(epochs=4, learning_rate=0.01, batch_size=64, shuffle=False,
                    reduction="mean", l2=0.1, optimizer="adam")
    a = neurona.Neuron.random(3, 5)
    b = a.copy()
    h_mem = neurona.train(a, X, y, **settings)
    h_str = train_stream(b, fs.part("train"), **settings)
    np.testing.assert_allclose(np.r_[b.weights, b.bias], np.r_[a.weights, a.bias],
                               rtol=1e-10)
    np.testing.assert_allclose(h_str["loss"], h_mem["loss"], rtol=1e-10)
    np.testing.assert_allclose(h_str["grad_norm"], h_mem["grad_norm"], rtol=1e-9)


def test_a_callback_can_stop_a_streamed_run():
    class StopAfterTwo(neurona.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.trainer.stop("enough")

    X, y = _problem(100)
    trainer = neurona.Trainer(neurona.Neuron.random(3, 0), StreamEngine([(X, y)]), epochs=10,
                              learning_rate=1e-3, callbacks=[StopAfterTwo()])
    history = trainer.run()
    assert len(history) == 2 and trainer.status == "enough" and trainer.epoch == 2


def test_a_streamed_epoch_cut_short_is_finished_exactly_on_resume(tmp_path, small_batches):
    class StopAtBatch(neurona.Callback):
        def on_batch_end(self, batch, logs=None):
            if len(self.trainer.history) == 2 and batch == 5:
                self.trainer.stop("interrupted")

    X, y = _problem(1200)
    fs = FileStream(_write(tmp_path, X, y, "parquet"), "y", test_size=0.2).scan("standard")
    settings = dict(epochs=5, learning_rate=0.05, batch_size=50, optimizer="adam",
                    validation_fraction=0.25, random_state=3, reduction="mean")

    def trainer(**kw):
        return neurona.Trainer(neurona.Neuron.random(3, 1),
                               StreamEngine(fs.part("train"), shuffle_buffer=300),
                               **settings, **kw)

    once = trainer()
    once.run()
    first = trainer(callbacks=[StopAtBatch()])
    first.run()
    assert first.status == "interrupted" and (first.epoch, first.batch) == (2, 6)
    rest = trainer(resume=first.checkpoint())
    rest.run()
    np.testing.assert_array_equal(rest.params, once.params)
    assert rest.history.rows == once.history.rows
