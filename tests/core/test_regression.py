"""Regression as a task: the setting, its history (r2, mae), its checks, its resume, and
its optimum against scikit-learn's LinearRegression and Ridge."""

import json

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import neurona
from neurona import (Callback, EarlyStopping, Neuron, NeuronaError, NeuronRegressor,
                     TrainSpec, train)
from neurona.core.gradient import task_metrics
from neurona.core.spec import resolve_task
from neurona.errors import SettingError
from neurona.face.api import Trainer

REGRESSION_KEYS = ["epoch", "loss", "sse", "r2", "mae", "grad_norm", "learning_rate", "passes"]
CLASSIFIER_KEYS = ["epoch", "loss", "sse", "accuracy", "grad_norm", "learning_rate", "passes"]
LINEAR = dict(loss="squared_error", reduction="mean")


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def generated():
    """A well-conditioned linear problem with noise."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 5)) * [1.0, 2.0, 0.5, 1.5, 1.0]
    y = X @ [1.5, -0.7, 2.0, 0.3, -1.2] + 4.0 + 0.5 * rng.normal(size=400)
    return X, y


def unit(d):
    return Neuron(np.zeros(d), activation="identity")


def params(neuron):
    return np.r_[neuron.weights, neuron.bias]


def step_from_data(X, reduction="mean", l2=0.0, sample_weight=None):
    """``1 / L`` with ``L`` the curvature of the squared error's objective (bias included)."""
    s = np.ones(len(X)) if sample_weight is None else sample_weight
    A = np.c_[X, np.ones(len(X))]
    gram = (A * s[:, None]).T @ A / (s.sum() if reduction == "mean" else 1.0)
    return 1.0 / (2.0 * np.linalg.eigvalsh(gram).max() + l2)


def fit(X, y, epochs=2000, **settings):
    neuron = unit(X.shape[1])
    settings = {**LINEAR, "optimizer": "nesterov_restart",
                "learning_rate": step_from_data(X, settings.get("reduction", "mean"),
                                                settings.get("l2", 0.0),
                                                settings.get("sample_weight")), **settings}
    history = train(neuron, X, y, epochs=epochs, **settings)
    return neuron, history


# --- the setting -----------------------------------------------------------------------

def test_the_task_is_implied_by_the_activation_and_the_loss():
    assert resolve_task(None, "identity", "squared_error") == "regress"
    for activation in ("sigmoid", "tanh", "step"):
        assert resolve_task(None, activation, "squared_error") == "classify"
    assert resolve_task(None, "sigmoid", "log_loss") == "classify"
    assert resolve_task("classify", "identity", "squared_error") == "classify"
    assert resolve_task("regress", "tanh", "squared_error") == "regress"
    assert TrainSpec().task is None and TrainSpec(task="regress", **LINEAR).task == "regress"
    assert TrainSpec(task="regress", **LINEAR).to_dict()["task"] == "regress"


@pytest.mark.parametrize("settings,error,match", [
    (dict(task="predict"), NeuronaError, r"Unknown task 'predict'; choose one of classify, "
                                         r"regress\."),
    (dict(task="regress"), SettingError, r"task is 'regress', but the log loss is a "
                                         r"classifier's objective: use loss='squared_error'"),
    (dict(task="regress", loss="squared_error", class_weight="balanced"), SettingError,
     r"class_weight weights classes, and a regression has none: use sample_weight"),
])
def test_the_spec_refuses_what_a_regression_cannot_mean(settings, error, match):
    with pytest.raises(error, match=match) as info:
        TrainSpec(**settings)
    assert "\n" not in str(info.value)


def test_class_weights_are_refused_when_the_unit_regresses(generated):
    X, y = generated
    with pytest.raises(NeuronaError, match=r"class_weight weights classes, and a regression "
                                           r"has none .*task='classify' for 0/1 targets"):
        train(unit(5), X, y, class_weight="balanced", **LINEAR)
    # the same unit as a classifier of 0/1 targets takes them, as before
    history = train(unit(5), X, (y > 4) * 1.0, class_weight="balanced", task="classify",
                    epochs=3, learning_rate=1e-3, **LINEAR)
    assert history.keys == CLASSIFIER_KEYS


def test_the_trainer_records_the_resolved_task(generated):
    X, y = generated
    trainer = Trainer(unit(5), X, y, epochs=1, **LINEAR)
    assert trainer.task == "regress" and trainer.settings["task"] == "regress"
    trainer = Trainer(Neuron(np.zeros(5), activation="tanh"), X, (y > 4) * 1.0, epochs=1,
                      **LINEAR)
    assert trainer.settings["task"] == "classify"
    trainer = Trainer(Neuron(np.zeros(5)), X, (y > 4) * 1.0, epochs=1)
    assert trainer.settings["task"] == "classify"


def test_a_regression_takes_any_finite_target_and_refuses_others(generated):
    X, y = generated
    history = train(unit(5), X, 1e3 * y - 7.5, epochs=3, learning_rate=1e-3, **LINEAR)
    assert history.keys == REGRESSION_KEYS
    with pytest.raises(NeuronaError, match="Input y contains NaN"):
        train(unit(5), X, np.r_[y[:-1], np.nan], **LINEAR)
    with pytest.raises(NeuronaError, match="the log loss needs targets 0 and 1"):
        train(Neuron(np.zeros(5)), X, y)  # the classifier's check stays


# --- the history -----------------------------------------------------------------------

class Params(Callback):
    """The parameters at the start of every epoch (what its forward pass sees)."""

    def __init__(self):
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append(self.trainer.params.copy())


def test_a_regression_records_r2_and_mae_of_each_epochs_pass(generated):
    X, y = generated
    rng = np.random.default_rng(1)
    sw = rng.uniform(0.2, 3.0, size=len(y))
    for weights in (None, sw):
        seen = Params()
        neuron = Neuron(rng.normal(size=5), 0.5, activation="identity")
        history = train(neuron, X, y, sample_weight=weights, epochs=4, learning_rate=0.01,
                        callbacks=[seen], **LINEAR)
        assert history.keys == REGRESSION_KEYS
        for row, p in zip(history.rows, seen.seen):
            pred = X @ p[:-1] + p[-1]
            assert row["r2"] == pytest.approx(r2_score(y, pred, sample_weight=weights),
                                              rel=1e-12)
            assert row["mae"] == pytest.approx(
                mean_absolute_error(y, pred, sample_weight=weights), rel=1e-12)
            assert row["sse"] == pytest.approx(np.sum((pred - y) ** 2), rel=1e-12)


def test_a_regression_validates_with_r2_and_mae(generated):
    X, y = generated
    X_val, y_val = X[:100] + 0.1, y[:100]
    neuron = unit(5)
    history = train(neuron, X, y, validation_data=(X_val, y_val), epochs=5,
                    learning_rate=0.05, **LINEAR)
    assert history.keys == REGRESSION_KEYS + ["val_loss", "val_sse", "val_r2", "val_mae"]
    pred = X_val @ neuron.weights + neuron.bias
    last = history.rows[-1]
    assert last["val_r2"] == pytest.approx(r2_score(y_val, pred), rel=1e-12)
    assert last["val_mae"] == pytest.approx(mean_absolute_error(y_val, pred), rel=1e-12)
    assert last["val_loss"] == pytest.approx(np.mean((pred - y_val) ** 2), rel=1e-12)


def test_mini_batch_r2_combines_the_batches_passes(generated):
    """Over mini-batches, r2 = 1 - (the batches' SSE before their updates) / the epoch's SST."""
    X, y = generated
    batches = []

    class Batches(Callback):
        def on_batch_end(self, batch, logs=None):
            batches.append(logs)

    history = train(unit(5), X, y, epochs=2, batch_size=64, learning_rate=0.02,
                    random_state=0, callbacks=[Batches()], **LINEAR)
    per_epoch = len(batches) // 2
    assert per_epoch == 7 and list(batches[0]) == ["batch", "size", "loss", "sse", "r2", "mae"]
    sst = np.sum((y - y.mean()) ** 2)
    for e, row in enumerate(history.rows):
        mine = batches[e * per_epoch:(e + 1) * per_epoch]
        sse = sum(b["sse"] for b in mine)
        assert row["sse"] == pytest.approx(sse, rel=1e-12)
        assert row["r2"] == pytest.approx(1 - sse / sst, rel=1e-10)
        assert row["mae"] == pytest.approx(sum(b["mae"] * b["size"] for b in mine) / len(y),
                                           rel=1e-10)


def test_r2_of_constant_targets_follows_r2_score():
    sums = dict(sum_w=3.0, sum_y=6.0, sum_y2=12.0, sum_abs=0.0)
    assert task_metrics({**sums, "sum_e2": 0.0}) == {"r2": 1.0, "mae": 0.0}
    assert task_metrics({**sums, "sum_e2": 1.0, "sum_abs": 1.5})["r2"] == \
        r2_score([2.0, 2.0, 2.0], [2.0, 2.0, 3.0]) == 0.0


def test_a_classifier_keeps_its_history_keys(generated):
    X, y = generated
    t = (y > 4) * 1.0
    assert train(Neuron(np.zeros(5)), X, t, epochs=2).keys == CLASSIFIER_KEYS
    for activation in ("tanh", "step", "sigmoid"):
        neuron = Neuron(np.zeros(5), activation=activation)
        assert train(neuron, X, t, epochs=2, **LINEAR).keys == CLASSIFIER_KEYS
    assert train(unit(5), X, t, epochs=2, task="classify", learning_rate=1e-3,
                 **LINEAR).keys == CLASSIFIER_KEYS


def test_early_stopping_takes_the_largest_val_r2(generated):
    X, y = generated
    assert EarlyStopping(monitor="val_r2").greater_is_better
    assert EarlyStopping(monitor="r2").greater_is_better
    assert not EarlyStopping(monitor="val_mae").greater_is_better
    neuron, seen = unit(5), Params()
    history = train(neuron, X, y, epochs=60, optimizer="momentum", learning_rate=0.15,
                    early_stopping=True, monitor="val_r2", patience=5, random_state=0,
                    callbacks=[seen], **LINEAR)
    r2 = history["val_r2"]
    assert len(history) < 60  # momentum's ripples make val_r2 fall back: it stops
    best = int(np.argmax(r2))
    assert best == len(history) - 1 - 5
    # the weights kept are those at the end of the epoch with the largest val_r2
    np.testing.assert_array_equal(params(neuron), seen.seen[best + 1])


# --- resume ----------------------------------------------------------------------------

def _roundtrip(doc):
    return json.loads(json.dumps(doc, allow_nan=False))


def _regression_trainer(X, y, epochs, callbacks=(), *, resume=None, **settings):
    kw = dict(LINEAR, optimizer="adam", learning_rate=0.05, random_state=3,
              validation_fraction=0.2)
    kw.update(settings)
    return Trainer(unit(X.shape[1]), X, y, epochs=epochs, resume=resume,
                   callbacks=list(callbacks), **kw)


@pytest.mark.parametrize("batch_size", [None, 32])
def test_resume_of_a_regression_is_exact(generated, batch_size):
    X, y = generated
    once = _regression_trainer(X, y, 10, batch_size=batch_size)
    once.run()
    first = _regression_trainer(X, y, 4, batch_size=batch_size)
    first.run()
    rest = _regression_trainer(X, y, 10, batch_size=batch_size,
                               resume=_roundtrip(first.checkpoint()))
    rest.run()
    np.testing.assert_array_equal(rest.params, once.params)
    assert rest.history.rows == once.history.rows
    assert "val_r2" in once.history.keys


def test_resume_of_a_regression_from_the_middle_of_an_epoch_is_exact(generated):
    X, y = generated

    class StopAtBatch(Callback):
        def on_batch_end(self, batch, logs=None):
            if len(self.trainer.history) == 2 and batch == 3:
                self.trainer.stop("interrupted")

    once = _regression_trainer(X, y, 5, batch_size=32)
    once.run()
    first = _regression_trainer(X, y, 5, [StopAtBatch()], batch_size=32)
    first.run()
    doc = _roundtrip(first.checkpoint())
    assert (doc["epoch"], doc["batch"]) == (2, 4) and doc["partial"]["sum_w"] == 128
    rest = _regression_trainer(X, y, 5, batch_size=32, resume=doc)
    rest.run()
    np.testing.assert_array_equal(rest.params, once.params)
    assert rest.history.rows == once.history.rows


def test_a_checkpoint_of_one_task_does_not_resume_the_other(generated):
    X, y = generated
    first = _regression_trainer(X, y, 2)
    first.run()
    with pytest.raises(NeuronaError, match="task='regress' there, 'classify' here"):
        _regression_trainer(X, y, 4, task="classify", resume=_roundtrip(first.checkpoint()))


def test_a_checkpoint_written_before_the_task_was_a_setting_resumes(generated):
    """Such a run recorded a classifier's metrics; its settings may now imply a regression.

    It resumes either way (the steps are the same); a checkpoint whose settings imply a
    classifier does not resume as a regression.
    """
    X, y = generated
    once = _regression_trainer(X, y, 6)
    once.run()
    first = _regression_trainer(X, y, 3)
    first.run()
    old = _roundtrip(first.checkpoint())
    del old["settings"]["task"]
    rest = _regression_trainer(X, y, 6, resume=old)
    rest.run()
    np.testing.assert_array_equal(rest.params, once.params)
    assert rest.history.rows[3:] == once.history.rows[3:]
    as_classifier = _regression_trainer(X, y, 6, task="classify", resume=old)
    as_classifier.run()
    np.testing.assert_array_equal(as_classifier.params, once.params)

    t = (y > 4) * 1.0
    tanh = Trainer(Neuron(np.zeros(5), activation="tanh"), X, t, epochs=2, **LINEAR)
    tanh.run()
    old = _roundtrip(tanh.checkpoint())
    del old["settings"]["task"]
    with pytest.raises(NeuronaError, match="task='classify' there, 'regress' here"):
        Trainer(Neuron(np.zeros(5), activation="tanh"), X, t, epochs=4, task="regress",
                resume=old, **LINEAR)


def test_an_old_checkpoint_cut_mid_epoch_resumes_as_the_classifier_it_was(generated):
    X, y = generated

    class StopAtBatch(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 2:
                self.trainer.stop("interrupted")

    first = _regression_trainer(X, y, 3, [StopAtBatch()], batch_size=32, task="classify")
    first.run()
    old = _roundtrip(first.checkpoint())
    del old["settings"]["task"]
    assert "accuracy" in old["partial"]
    with pytest.raises(NeuronaError, match="in the middle of epoch 0 without the running sums "
                                           "of task 'regress'; resume it with task='classify'"):
        _regression_trainer(X, y, 3, batch_size=32, resume=old)
    _regression_trainer(X, y, 3, batch_size=32, task="classify", resume=old).run()


# --- against scikit-learn ------------------------------------------------------------------

def _coefficients(model):
    return np.r_[model.coef_, model.intercept_]


@pytest.mark.parametrize("data", ["diabetes", "generated"])
def test_the_linear_unit_converges_to_least_squares(request, data):
    X, y = request.getfixturevalue(data)
    neuron, history = fit(X, y)
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(params(neuron), _coefficients(ref), rtol=1e-6)
    assert history.rows[-1]["r2"] == pytest.approx(ref.score(X, y), rel=1e-9)
    # plain gradient descent with the step from the data reaches it too
    neuron, _ = fit(X, y, epochs=20_000 if data == "diabetes" else 3000, optimizer="gd")
    np.testing.assert_allclose(params(neuron), _coefficients(ref), rtol=1e-6)


@pytest.mark.parametrize("data", ["diabetes", "generated"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_l2_is_ridge_with_alpha_from_the_mapping(request, data, reduction):
    """mean: 1/n sum (a - y)^2 + l2/2 |w|^2, times n, is Ridge's objective with alpha = n l2 / 2
    (the squared error has no 1/2); sum: alpha = l2 / 2."""
    X, y = request.getfixturevalue(data)
    n, alpha = len(y), 25.0
    l2 = 2 * alpha / n if reduction == "mean" else 2 * alpha
    neuron, _ = fit(X, y, l2=l2, reduction=reduction)
    ref = Ridge(alpha=alpha, solver="cholesky").fit(X, y)
    np.testing.assert_allclose(params(neuron), _coefficients(ref), rtol=1e-6)
    # the mapping matters: alpha = n * l2 (forgetting the squared error's missing 1/2) is
    # another optimum
    other = Ridge(alpha=2 * alpha, solver="cholesky").fit(X, y)
    assert np.max(np.abs(params(neuron) - _coefficients(other))
                  / np.abs(_coefficients(other))) > 1e-3


def test_weighted_l2_is_weighted_ridge(generated):
    X, y = generated
    sw = np.random.default_rng(2).uniform(0.5, 2.0, size=len(y))
    alpha = 10.0
    neuron, _ = fit(X, y, l2=2 * alpha / sw.sum(), sample_weight=sw)
    ref = Ridge(alpha=alpha, solver="cholesky").fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(params(neuron), _coefficients(ref), rtol=1e-6)


def test_five_fold_r2_on_diabetes_matches_linear_regression():
    X, y = load_diabetes(return_X_y=True)
    folds = KFold(5, shuffle=True, random_state=0)
    ref = cross_val_score(make_pipeline(StandardScaler(), LinearRegression()), X, y, cv=folds)
    ours = cross_val_score(make_pipeline(StandardScaler(), NeuronRegressor(random_state=0)),
                           X, y, cv=folds)
    assert abs(ours.mean() - ref.mean()) < 0.005
    np.testing.assert_allclose(ours, ref, atol=0.005)
    reg = NeuronRegressor(random_state=0).fit(StandardScaler().fit_transform(X), y)
    assert reg.history_.keys == REGRESSION_KEYS


def test_the_regressor_with_a_bounded_output_is_a_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = np.tanh(X @ [0.8, -0.5] + 0.1)
    reg = NeuronRegressor(activation="tanh", tol=None, epochs=300).fit(X, y)
    assert reg.history_.keys == REGRESSION_KEYS
    assert reg.history_.rows[-1]["r2"] == pytest.approx(reg.score(X, y), rel=1e-6)


def test_the_trained_neuron_answers_in_its_runs_task():
    from neurona.data.scaling import Scaler

    X, y = neurona.data.plane(n_samples=300, random_state=4)
    neuron = Neuron([0.0, 0.0], activation="identity")
    assert neuron.task == "classify"  # until it learns a regression
    neurona.train(neuron, X, y, loss="squared_error", reduction="mean", epochs=300,
                  learning_rate=0.1)
    assert neuron.task == "regress"
    np.testing.assert_allclose(neuron.predict(X), neuron.forward(X))
    classifier = Neuron([0.0, 0.0], activation="identity", task="regress",
                        target_scaler=Scaler("standard", [1.0], [2.0]))
    with pytest.raises(neurona.NeuronaError, match="train it with task='regress'"):
        neurona.train(classifier, X, (y > 0).astype(float), loss="squared_error",
                      task="classify")
