"""Training that users control: optimizers, batches, penalties, validation, callbacks,
divergence and exact resume, through ``neurona.train``."""

import json

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight

import neurona
from neurona import (Callback, Checkpoint, DivergenceError, EarlyStopping, Neuron, NeuronaError, train)
from neurona.core import optimizers as optim
from neurona.core.activations import get_activation
from neurona.core.losses import get_loss
from neurona.face.api import Trainer
from neurona.core.gradient import penalty, penalty_gradient
from neurona.engines.memory import run_epoch
from neurona.data.split import VALIDATION_STREAM, row_uniform
from neurona.engines.memory import MemoryEngine


@pytest.fixture(scope="module")
def problem():
    X, y = make_classification(n_samples=120, n_features=3, n_informative=2, n_redundant=0,
                               flip_y=0.1, random_state=0)
    return StandardScaler().fit_transform(X), y


ALPHA = 0.05


def sklearn_optimum(X, y, C, sample_weight=None):
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=10_000)
    ref.fit(X, y, sample_weight=sample_weight)
    return np.r_[ref.coef_[0], ref.intercept_]


def params(neuron):
    return np.r_[neuron.weights, neuron.bias]


# Full batch, mean reduction, l2 = ALPHA: scikit-learn's C = 1 / (ALPHA * n_samples).
OPTIMIZER_SETTINGS = {
    "gd": dict(learning_rate=1.0, epochs=300),
    "momentum": dict(learning_rate=0.3, epochs=600),
    "nesterov": dict(learning_rate=0.3, epochs=300),
    "adagrad": dict(learning_rate=0.5, epochs=300),
    "rmsprop": dict(learning_rate=0.05, schedule="cosine", epochs=500),
    "adam": dict(learning_rate=0.1, epochs=600),
    "adamw": dict(learning_rate=0.1, weight_decay=0.0, epochs=600),
    "nesterov_restart": dict(learning_rate=0.3, epochs=300),
}


SCHEDULE_SETTINGS = {
    "constant": dict(learning_rate=1.0),
    "step": dict(learning_rate=1.0, decay_rate=0.5, decay_steps=100),
    "exponential": dict(learning_rate=1.0, decay_rate=0.5, decay_steps=100),
    "invscaling": dict(learning_rate=2.0, power_t=0.25),
    "cosine": dict(learning_rate=1.0),
}

# One table: every optimizer (with the constant schedule unless noted), then every
# schedule (with plain gradient descent), on the same problem.
TABLE = {
    **{f"optimizer={k}": dict(optimizer=k, **v) for k, v in OPTIMIZER_SETTINGS.items()},
    **{f"schedule={k}": dict(schedule=k, epochs=300, **v)
       for k, v in SCHEDULE_SETTINGS.items()},
}


def test_the_table_covers_every_optimizer_and_every_schedule():
    assert set(OPTIMIZER_SETTINGS) == set(optim.OPTIMIZERS)
    assert set(SCHEDULE_SETTINGS) == set(optim.SCHEDULES)


@pytest.mark.parametrize("entry", sorted(TABLE))
def test_every_entry_matches_scikit_learn_logistic_regression(problem, entry):
    X, y = problem
    n = Neuron(np.zeros(3))
    h = train(n, X, y, reduction="mean", l2=ALPHA, **TABLE[entry])
    np.testing.assert_allclose(params(n), sklearn_optimum(X, y, 1 / (ALPHA * len(y))),
                               atol=1e-4)
    assert h["learning_rate"][0] == TABLE[entry]["learning_rate"]


def test_sum_reduction_penalty_corresponds_to_c_equal_one_over_l2(problem):
    X, y = problem
    n = Neuron(np.zeros(3))
    train(n, X, y, epochs=400, learning_rate=0.02, reduction="sum", l2=2.0)
    np.testing.assert_allclose(params(n), sklearn_optimum(X, y, 1 / 2.0), atol=1e-4)


def test_mini_batches_approach_the_same_optimum(problem):
    X, y = problem
    n = Neuron(np.zeros(3))
    train(n, X, y, epochs=300, learning_rate=0.05, optimizer="adam", schedule="cosine",
          batch_size=16, reduction="mean", l2=ALPHA, random_state=0)
    np.testing.assert_allclose(params(n), sklearn_optimum(X, y, 1 / (ALPHA * len(y))),
                               atol=1e-2)


def test_sample_and_balanced_class_weights_match_scikit_learn(problem):
    X, y = problem
    y = y.copy()
    y[:30] = 1  # unbalance the classes
    sw = np.linspace(0.5, 1.5, len(y))
    cw = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    total = sw * cw[y]
    n = Neuron(np.zeros(3))
    train(n, X, y, epochs=400, learning_rate=1.0, reduction="mean", l2=ALPHA,
          sample_weight=sw, class_weight="balanced")
    # mean reduction divides by the total weight: C = 1 / (l2 * sum(weights))
    expected = sklearn_optimum(X, y, 1 / (ALPHA * total.sum()), sample_weight=total)
    np.testing.assert_allclose(params(n), expected, atol=1e-4)


def test_class_weight_mapping_equals_the_same_sample_weights(problem):
    X, y = problem
    a, b = Neuron(np.zeros(3)), Neuron(np.zeros(3))
    ha = train(a, X, y, epochs=5, class_weight={0: 1.0, 1: 3.0})
    hb = train(b, X, y, epochs=5, sample_weight=np.where(y == 1, 3.0, 1.0))
    np.testing.assert_array_equal(params(a), params(b))
    assert ha.rows == hb.rows
    with pytest.raises(NeuronaError, match=r"label\(s\) \[7.0\] that are not in y"):
        train(Neuron(np.zeros(3)), X, y, class_weight={7: 2.0})


def test_penalty_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    w = rng.normal(size=5)
    l1, l2 = 0.3, 0.7
    g = penalty_gradient(w, l1, l2)
    eps = 1e-6
    for i in range(5):
        d = np.zeros(5)
        d[i] = eps
        fd = (penalty(w + d, l1, l2) - penalty(w - d, l1, l2)) / (2 * eps)
        assert g[i] == pytest.approx(fd, rel=1e-6)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_epoch_gradient_includes_the_penalty_and_not_on_the_bias(reduction):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(float)
    p = np.array([0.4, -0.2, 0.3])
    act, loss = get_activation("sigmoid"), get_loss("log_loss")
    opt = optim.gd(1e-300)  # a negligible step: the epoch reports the gradient at p

    def objective(q):
        z = X @ q[:2] + q[2]
        v = np.sum(np.logaddexp(0, z) - y * z) / (len(y) if reduction == "mean" else 1)
        return v + penalty(q[:2], 0.1, 0.5)

    _, _, m = run_epoch(X, y, p, opt.init(p), optimizer=opt, activation=act, loss=loss,
                        reduction=reduction, l1=0.1, l2=0.5)
    assert m["loss"] == pytest.approx(objective(p), rel=1e-12)
    fd = [(objective(p + d) - objective(p - d)) / 2e-6 for d in np.eye(3) * 1e-6]
    assert m["grad_norm"] == pytest.approx(np.linalg.norm(fd), rel=1e-6)


def test_sum_reduction_mini_batches_add_up_to_the_full_objective():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(23, 2))
    y = (X[:, 1] > 0).astype(float)
    p = np.array([0.4, -0.2, 0.3])
    act, loss = get_activation("sigmoid"), get_loss("log_loss")
    opt = optim.gd(0.0 + 1e-300)
    kw = dict(optimizer=opt, activation=act, loss=loss, reduction="sum", l1=0.2, l2=0.3)
    _, _, full = run_epoch(X, y, p, opt.init(p), **kw)
    _, _, mini = run_epoch(X, y, p, opt.init(p), np.random.default_rng(0).permutation(23),
                           batch_size=5, **kw)
    for key in ("loss", "sse", "accuracy", "grad_norm"):
        assert mini[key] == pytest.approx(full[key], rel=1e-12)


@pytest.mark.parametrize("sample_weight", [None, np.linspace(0.5, 2.0, 23)])
def test_one_full_batch_in_any_row_order_takes_the_same_step(sample_weight):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(23, 2))
    y = (X[:, 0] > 0).astype(float)
    p = np.array([0.4, -0.2, 0.3])
    opt = optim.adam(0.1)
    kw = dict(optimizer=opt, activation=get_activation("sigmoid"),
              loss=get_loss("log_loss"), sample_weight=sample_weight, l2=0.1)
    p_as_is, _, as_is = run_epoch(X, y, p, opt.init(p), **kw)
    p_shuffled, _, shuffled = run_epoch(X, y, p, opt.init(p), rng.permutation(23), **kw)
    np.testing.assert_allclose(p_shuffled, p_as_is, rtol=1e-12)
    for key in ("loss", "sse", "accuracy", "grad_norm"):
        assert shuffled[key] == pytest.approx(as_is[key], rel=1e-12)


def test_history_has_the_new_keys_in_order():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    h = train(Neuron([0.0]), X, y, epochs=3, validation_data=(X, y))
    assert h.keys == ["epoch", "loss", "sse", "accuracy", "grad_norm", "learning_rate",
                      "passes", "val_loss", "val_sse", "val_accuracy"]
    assert list(h["learning_rate"]) == [0.01] * 3


def test_batch_size_one_is_stochastic_and_shuffles_from_the_seed_only():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X.sum(axis=1) > 0).astype(int)
    runs = []
    for seed in (1, 1, 2):
        np.random.seed(seed + 100)  # the global state must not matter
        n = Neuron(np.zeros(2))
        train(n, X, y, epochs=3, batch_size=1, learning_rate=0.1, random_state=seed)
        runs.append(params(n))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    n = Neuron(np.zeros(2))
    train(n, X, y, epochs=3, batch_size=1, learning_rate=0.1, shuffle=False)
    m = Neuron(np.zeros(2))
    train(m, X, y, epochs=3, batch_size=1, learning_rate=0.1, shuffle=False, random_state=9)
    np.testing.assert_array_equal(params(n), params(m))


def test_full_batch_with_batch_size_at_least_n_is_the_default_run():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    a, b = Neuron([0.1], 0.2), Neuron([0.1], 0.2)
    ha = train(a, X, y, epochs=4)
    hb = train(b, X, y, epochs=4, batch_size=10, random_state=3)
    assert ha.rows == hb.rows


def test_validation_split_is_a_seeded_per_row_draw_and_disjoint():
    # One rule on every engine: row i validates when its draw is below the fraction.
    X = np.arange(40.0).reshape(-1, 1)
    y = np.array([0.0] * 30 + [1.0] * 10)
    train_rows, val_rows = MemoryEngine(X, y).split(0.2, 7)
    expected = np.flatnonzero(row_uniform(np.arange(40), 7, VALIDATION_STREAM) < 0.2)
    np.testing.assert_array_equal(val_rows.X[:, 0], expected)
    assert sorted([*train_rows.X[:, 0], *val_rows.X[:, 0]]) == list(range(40))
    again = MemoryEngine(X, y).split(0.2, 7)[1]
    np.testing.assert_array_equal(again.X, val_rows.X)
    assert not np.array_equal(MemoryEngine(X, y).split(0.2, 8)[1].X, val_rows.X)
    # the rows keep their positions: a second split of the training rows is the same draw
    part = MemoryEngine(X[5:], y[5:], rows=np.arange(5, 40)).split(0.2, 7)[1]
    np.testing.assert_array_equal(part.X[:, 0], expected[expected >= 5])
    with pytest.raises(NeuronaError, match="both must be at least 1"):
        MemoryEngine(np.zeros((1, 1)), np.array([1.0])).split(0.5, 0)


def test_validation_fraction_records_val_keys(problem):
    X, y = problem
    h = train(Neuron(np.zeros(3)), X, y, epochs=20, learning_rate=0.5, reduction="mean",
              validation_fraction=0.25, random_state=0)
    assert h["val_loss"][-1] < h["val_loss"][0]
    assert 0.0 <= h["val_accuracy"][-1] <= 1.0
    with pytest.raises(NeuronaError, match="not both"):
        train(Neuron(np.zeros(3)), X, y, validation_fraction=0.2, validation_data=(X, y))


def test_early_stopping_stops_restores_best_and_needs_its_key(problem):
    X, y = problem
    stopper = EarlyStopping(monitor="val_loss", patience=3)
    n = Neuron(np.zeros(3))
    h = train(n, X, y, epochs=500, learning_rate=0.5, validation_fraction=0.3,
              random_state=0, callbacks=[stopper])
    assert len(h) < 500 and stopper.stopped_epoch == len(h) - 1
    best = int(np.argmin(h["val_loss"]))
    assert stopper.best_epoch == best and len(h) == best + 4
    # the restored weights give the best epoch's validation loss
    np.testing.assert_array_equal(params(n), stopper.best_weights)
    with pytest.raises(NeuronaError, match="monitors 'val_loss', which is not in the history"):
        train(Neuron(np.zeros(3)), X, y, epochs=3, callbacks=[EarlyStopping()])


def test_early_stopping_modes_and_min_delta():
    stopper = EarlyStopping(monitor="val_accuracy", min_delta=0.1, patience=2)
    assert stopper.greater_is_better
    assert stopper._improved(0.5)
    stopper.best = 0.5
    assert not stopper._improved(0.55) and stopper._improved(0.61)
    assert not EarlyStopping(monitor="loss").greater_is_better
    assert EarlyStopping(monitor="loss", mode="max").greater_is_better
    with pytest.raises(NeuronaError, match="patience must be a positive integer"):
        EarlyStopping(patience=0)


def test_callback_hooks_run_in_order_and_batch_end_sees_every_batch():
    events = []

    class Spy(Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(("epoch_begin", epoch))

        def on_batch_end(self, batch, logs=None):
            events.append(("batch", batch, logs["size"]))

        def on_epoch_end(self, epoch, logs=None):
            events.append(("epoch_end", epoch))

        def on_train_end(self, logs=None):
            events.append(("train_end", logs["status"]))

    X = np.arange(10, dtype=float).reshape(-1, 1)
    y = (X[:, 0] > 4).astype(int)
    train(Neuron([0.0]), X, y, epochs=2, batch_size=4, random_state=0, callbacks=[Spy()])
    epoch = [("batch", 0, 4), ("batch", 1, 4), ("batch", 2, 2)]
    assert events == ["train_begin", ("epoch_begin", 0), *epoch, ("epoch_end", 0),
                      ("epoch_begin", 1), *epoch, ("epoch_end", 1), ("train_end", "finished")]


def test_a_callback_can_stop_training_with_the_flag():
    class StopAt(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                self.trainer.stop_training = True

    X = np.array([[0.0], [1.0]])
    h = train(Neuron([0.0]), X, [0, 1], epochs=10, callbacks=[StopAt()])
    assert len(h) == 3


def test_divergence_stops_at_once_with_last_finite_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2)) * 10
    y = X @ [1.0, 2.0]
    n = Neuron(np.zeros(2), activation="identity")
    with pytest.raises(DivergenceError, match=r"Floating-point under-/overflow occurred at "
                                              r"epoch #(\d+)\. .*smaller learning rate") as e:
        train(n, X, y, epochs=1000, learning_rate=1.0, loss="squared_error")
    assert len(e.value.history) == e.value.epoch
    assert np.isfinite(params(n)).all()
    assert np.isfinite(e.value.history["loss"]).all()
    assert isinstance(e.value, ValueError)


def test_divergence_inside_mini_batches_is_caught_too():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2)) * 10
    n = Neuron(np.zeros(2), activation="identity")
    with pytest.raises(DivergenceError):
        train(n, X, X @ [1.0, 2.0], epochs=1000, learning_rate=1.0, loss="squared_error",
              batch_size=8, random_state=0)
    assert np.isfinite(params(n)).all()


@pytest.mark.parametrize("kwargs,match", [
    (dict(optimizer="sgdx"), "Unknown optimizer 'sgdx'"),
    (dict(schedule="linear"), "Unknown schedule 'linear'"),
    (dict(batch_size=0), "batch_size must be a positive integer"),
    (dict(momentum=1.5), r"momentum must be a number in \[0, 1\)"),
    (dict(l2=-1.0), "l2 must be a number"),
    (dict(validation_fraction=1.0), "validation_fraction must be a number in"),
    (dict(class_weight="even"), "class_weight must be 'balanced'"),
    (dict(random_state="x"), "random_state must be an int"),
    (dict(sample_weight=[1.0, -1.0]), "negative"),
])
def test_bad_settings_raise_clear_errors(kwargs, match):
    with pytest.raises(NeuronaError, match=match):
        train(Neuron([0.0]), np.array([[0.0], [1.0]]), [0, 1], **kwargs)


# --- exact resume ------------------------------------------------------------------------

RESUME_DATA = np.random.default_rng(7).normal(size=(37, 2))
RESUME_Y = (RESUME_DATA @ [1.0, -1.0] + 0.3 * np.random.default_rng(8).normal(size=37) > 0)


def _trainer(epochs, callbacks=(), resume=None, **kw):
    settings = dict(learning_rate=0.05, random_state=11, l2=0.01, reduction="mean",
                    validation_fraction=0.2, schedule="cosine", decay_steps=200)
    settings.update(kw)
    return Trainer(Neuron([0.3, -0.1], 0.2), RESUME_DATA, RESUME_Y.astype(int),
                   epochs=epochs, callbacks=list(callbacks), resume=resume, **settings)


def _roundtrip(doc):
    return json.loads(json.dumps(doc, allow_nan=False))


@pytest.mark.parametrize("batch_size", [None, 5])
@pytest.mark.parametrize("optimizer", sorted(optim.OPTIMIZERS))
def test_k_epochs_then_resume_equals_n_at_once_bit_for_bit(optimizer, batch_size):
    once = _trainer(12, optimizer=optimizer, batch_size=batch_size)
    once.run()
    first = _trainer(5, optimizer=optimizer, batch_size=batch_size)
    first.run()
    doc = _roundtrip(first.checkpoint())
    rest = _trainer(12, optimizer=optimizer, batch_size=batch_size, resume=doc)
    rest.run()
    np.testing.assert_array_equal(rest.params, once.params)
    assert rest.neuron.bias == once.neuron.bias
    assert rest.history.rows == once.history.rows
    assert optim.state_to_json(rest.opt_state) == optim.state_to_json(once.opt_state)


def test_resume_from_the_middle_of_an_epoch_is_exact():
    class StopAtBatch(Callback):
        def on_batch_end(self, batch, logs=None):
            if len(self.trainer.history) == 3 and batch == 2:
                self.trainer.stop("interrupted")

    once = _trainer(6, optimizer="adam", batch_size=4)
    once.run()
    first = _trainer(6, [StopAtBatch()], optimizer="adam", batch_size=4)
    first.run()
    assert first.status == "interrupted" and (first.epoch, first.batch) == (3, 3)
    rest = _trainer(6, optimizer="adam", batch_size=4, resume=_roundtrip(first.checkpoint()))
    rest.run()
    np.testing.assert_array_equal(rest.params, once.params)
    assert rest.history.rows == once.history.rows


def test_resume_continues_early_stopping_state(tmp_path):
    def stopper():
        return EarlyStopping(monitor="val_loss", patience=50)

    once = _trainer(30, [stopper()], learning_rate=0.5)
    once.run()
    path = tmp_path / "ck.json"
    first = _trainer(10, [stopper(), Checkpoint(path, every=4)], learning_rate=0.5)
    first.run()
    saved = json.loads(path.read_text())
    assert saved["epoch"] == 10 and "EarlyStopping" in saved["callbacks"]
    second_stopper = stopper()
    rest = _trainer(30, [second_stopper], learning_rate=0.5, resume=path)
    rest.run()
    assert rest.history.rows == once.history.rows
    assert second_stopper.best_epoch == once.callbacks[0].best_epoch
    np.testing.assert_array_equal(rest.neuron.weights, once.neuron.weights)


def test_checkpoint_every_k_epochs_is_written_atomically(tmp_path):
    path = tmp_path / "ck.json"
    writes = []

    class Watch(Callback):
        def on_epoch_end(self, epoch, logs=None):
            writes.append(json.loads(path.read_text())["epoch"] if path.exists() else None)

    # Watch runs before Checkpoint (checkpoints run last), so it sees the previous write
    _trainer(7, [Checkpoint(path, every=3), Watch()]).run()
    assert writes == [None, None, None, 3, 3, 3, 6]
    assert json.loads(path.read_text())["epoch"] == 7
    assert [p.name for p in tmp_path.iterdir()] == ["ck.json"]


def test_resume_refuses_other_settings():
    first = _trainer(3)
    first.run()
    with pytest.raises(NeuronaError, match="learning_rate=0.05 there, 0.1 here"):
        _trainer(6, learning_rate=0.1, resume=_roundtrip(first.checkpoint()))


def test_resume_from_python_with_train_and_a_checkpoint_file(tmp_path):
    X, y = RESUME_DATA, RESUME_Y.astype(int)
    kw = dict(optimizer="nesterov", batch_size=8, random_state=4, learning_rate=0.1)
    once = Neuron([0.0, 0.0])
    h_once = train(once, X, y, epochs=8, **kw)
    part = Neuron([0.0, 0.0])
    train(part, X, y, epochs=3, callbacks=[Checkpoint(tmp_path / "c.json")], **kw)
    again = Neuron([0.0, 0.0])
    h = train(again, X, y, epochs=8, resume=tmp_path / "c.json", **kw)
    assert h.rows == h_once.rows
    np.testing.assert_array_equal(params(again), params(once))
    assert neurona.load_checkpoint(tmp_path / "c.json")["status"] == "finished"


@pytest.mark.parametrize("X,y,match", [
    (np.zeros((0, 1)), [], "X has no rows"),
    (np.array([[0.0], [1.0], [2.0]]), [0, 1, 2], "y holds 2: the log loss needs targets 0 and 1"),
    (np.array([[0.0], [1.0]]), [-1, 1], "y holds -1: the log loss needs targets 0 and 1"),
])
def test_targets_the_log_loss_cannot_mean_are_refused_before_training(X, y, match):
    # Once trained silently (the log loss went negative) or failed with ZeroDivisionError.
    seen = []

    class Spy(Callback):
        def on_train_begin(self, logs=None):
            seen.append("began")

    with pytest.raises(NeuronaError, match=match):
        train(Neuron([0.0]), X, y, callbacks=[Spy()])
    assert seen == []
    if len(y):  # the same targets are fine for the squared error
        train(Neuron([0.0], activation="identity"), X, y, loss="squared_error", epochs=2)


@pytest.mark.parametrize("activation,threshold,match", [
    ("sigmoid", 1.5, r"threshold must be in \[0, 1\], the range of the sigmoid's output"),
    ("sigmoid", float("nan"), "threshold must be in"),
    ("tanh", -2.0, r"threshold must be in \[-1, 1\]"),
    ("identity", float("inf"), "threshold must be a finite number"),
])
def test_a_threshold_outside_the_outputs_range_is_refused(activation, threshold, match):
    with pytest.raises(NeuronaError, match=match):
        Neuron([1.0], activation=activation, threshold=threshold)
    with pytest.raises(NeuronaError, match=match):
        Neuron([1.0], activation=activation).predict(np.zeros((1, 1)), threshold=threshold)
