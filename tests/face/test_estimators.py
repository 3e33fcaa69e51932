"""NeuronClassifier and NeuronRegressor: scikit-learn's own estimator checks, the
estimators' behaviour, their life inside scikit-learn code, and their quality against
scikit-learn's reference models."""

import json
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.base import clone
from sklearn.datasets import (load_breast_cancer, load_diabetes, load_iris, load_wine,
                              make_classification, make_regression)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import (check_dataframe_column_names_consistency,
                                            check_param_validation, parametrize_with_checks)

import neurona
from neurona import (Callback, DivergenceError, ModelFileError, Neuron, NeuronClassifier, NeuronRegressor)
from neurona.face.estimators import largest_eigenvalue


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), np.array(["setosa", "versicolor", "virginica"])[y]


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=150, n_features=4, n_informative=3, n_redundant=0,
                               n_clusters_per_class=1, flip_y=0.05, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def linear():
    X, y = make_regression(n_samples=120, n_features=3, noise=5.0, bias=3.0, random_state=0)
    return X, y


# --- scikit-learn's own checks ----------------------------------------------------------

@parametrize_with_checks([NeuronClassifier(), NeuronRegressor()])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("Estimator", [NeuronClassifier, NeuronRegressor])
def test_more_scikit_learn_checks(Estimator):
    # Two of scikit-learn's checks that parametrize_with_checks leaves to its own estimators.
    check_param_validation(Estimator.__name__, Estimator())
    check_dataframe_column_names_consistency(Estimator.__name__, Estimator())


def test_import_neurona_does_not_load_scikit_learn_estimator_machinery():
    code = "import sys, neurona; print('sklearn.base' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
    assert neurona.NeuronClassifier is NeuronClassifier


def test_docstring_examples_run():
    import doctest

    import neurona.face.estimators

    result = doctest.testmod(neurona.face.estimators)
    assert result.failed == 0 and result.attempted > 0


# --- parameters ---------------------------------------------------------------------------

def test_constructor_only_stores_and_fit_validates_in_scikit_learn_words(binary):
    X, y = binary
    clf = NeuronClassifier(learning_rate=-1.0, optimizer="sgd")  # no error yet
    assert clf.get_params()["learning_rate"] == -1.0
    with pytest.raises(InvalidParameterError,
                       match=r"The 'learning_rate' parameter of NeuronClassifier must be"):
        clf.fit(X, y)
    with pytest.raises(InvalidParameterError, match=r"'optimizer' parameter of NeuronRegressor"):
        NeuronRegressor(optimizer="sgd").fit(X, y.astype(float))


def test_log_loss_needs_the_sigmoid(binary):
    X, y = binary
    with pytest.raises(ValueError, match=r"loss='log_loss' is defined for activation 'sigmoid'"):
        NeuronClassifier(activation="tanh").fit(X, y)
    # with the squared error every activation trains, and the decision matches predict
    for activation in ("tanh", "identity", "step"):
        clf = NeuronClassifier(activation=activation, loss="squared_error").fit(X, y)
        assert clf.score(X, y) > 0.8
        assert not hasattr(clf, "predict_proba")
        np.testing.assert_array_equal(clf.predict(X), (clf.decision_function(X) > 0) * 1)


def test_callbacks_must_be_neurona_callbacks(binary):
    with pytest.raises(TypeError, match="callbacks must be neurona.Callback instances"):
        NeuronClassifier(callbacks=[print]).fit(*binary)


# --- the classifier ---------------------------------------------------------------------

@pytest.mark.parametrize("labels", [["no", "yes"], [False, True], [-1, 1], [1.0, 2.0]])
def test_binary_one_sigmoid_neuron_with_any_labels(binary, labels):
    X, y01 = binary
    y = np.array(labels, dtype=object if isinstance(labels[0], str) else None)[y01]
    clf = NeuronClassifier().fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.unique(y))
    assert clf.coef_.shape == (1, 4) and clf.intercept_.shape == (1,)
    z = X @ clf.coef_[0] + clf.intercept_[0]
    np.testing.assert_allclose(clf.decision_function(X), z)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], expit(z))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))
    pred = clf.predict(X)
    assert pred.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(pred, clf.classes_[(z > 0).astype(int)])
    assert clf.score(X, y) > 0.9


def test_multiclass_is_one_vs_rest_one_neuron_per_class(iris):
    X, y = iris
    clf = NeuronClassifier(tol=None, epochs=200).fit(X, y)
    assert clf.coef_.shape == (3, 4) and clf.intercept_.shape == (3,)
    # each row is the neuron a two-class fit of "this class against the rest" gives
    for k, label in enumerate(clf.classes_):
        alone = NeuronClassifier(tol=None, epochs=200).fit(X, y == label)
        np.testing.assert_allclose(clf.coef_[k], alone.coef_[0], rtol=1e-12)
        np.testing.assert_allclose(clf.intercept_[k], alone.intercept_[0], rtol=1e-12)
    z = X @ clf.coef_.T + clf.intercept_
    np.testing.assert_allclose(clf.decision_function(X), z)
    p = expit(z)
    np.testing.assert_allclose(clf.predict_proba(X), p / p.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(z, axis=1)])
    assert len(clf.history_) == 3 and len(clf.loss_curve_) == 3
    assert clf.n_iter_ == 200 and all(len(curve) == 200 for curve in clf.loss_curve_)


def test_one_class_is_refused_with_the_reason(binary):
    X, _ = binary
    clf = NeuronClassifier()
    with pytest.raises(ValueError, match="at least 2 classes.*only one class: 'a'"):
        clf.fit(X, np.array(["a"] * len(X)))
    with pytest.raises(ValueError, match="only one class: 'a'"):
        clf.partial_fit(X, np.array(["a"] * len(X)), classes=["a"])
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_probabilities_never_overflow():
    clf = NeuronClassifier().fit([[0.0], [1.0], [2.0]], ["a", "b", "c"])
    clf.coef_ = np.array([[1e6], [-1e6], [0.0]])
    X = np.array([[-1e3], [1e3]])
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), ["b", "a"])


# --- the regressor ----------------------------------------------------------------------

def test_regressor_is_linear_regression_by_gradient_descent(linear):
    X, y = linear
    reg = NeuronRegressor(tol=1e-12, epochs=5000).fit(X, y)
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=1e-6)
    assert reg.intercept_ == pytest.approx(ref.intercept_, rel=1e-6)
    assert reg.coef_.shape == (3,) and np.ndim(reg.intercept_) == 0
    np.testing.assert_allclose(reg.predict(X), X @ reg.coef_ + reg.intercept_)


def test_regressor_l2_is_ridge(linear):
    # mean (y - Xw - b)^2 + l2/2 |w|^2, times n: Ridge's objective with alpha = n * l2 / 2
    X, y = linear
    reg = NeuronRegressor(l2=0.5, tol=1e-12, epochs=5000).fit(X, y)
    ref = Ridge(alpha=len(y) * 0.5 / 2).fit(X, y)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=1e-6)


def test_classifier_l2_is_logistic_regression(binary):
    # with reduction="mean", l2 = alpha is LogisticRegression(C = 1 / (alpha * n))
    X, y = binary
    clf = NeuronClassifier(l2=0.01, tol=1e-12, epochs=5000).fit(X, y)
    ref = LogisticRegression(C=1 / (0.01 * len(y)), tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-5)
    np.testing.assert_allclose(clf.intercept_, ref.intercept_, rtol=1e-5)


def test_auto_learning_rate_is_one_over_the_curvature_bound(linear):
    X, y = linear
    Xt = np.column_stack((X, np.ones(len(X))))
    lam = np.linalg.eigvalsh(Xt.T @ Xt)[-1]
    # power iteration from below: within 1e-3, never above (the step is never too long)
    estimate = largest_eigenvalue(X, np.ones(len(X)))
    assert lam * (1 - 1e-3) < estimate <= lam * (1 + 1e-12)
    reg = NeuronRegressor(epochs=1, tol=None).fit(X, y)
    assert reg.learning_rate_ == pytest.approx(1 / (2 * lam / len(X)), rel=1e-3)
    clf = NeuronClassifier(epochs=1, tol=None).fit(X, y > 0)
    assert clf.learning_rate_ == pytest.approx(1 / (0.25 * lam / len(X) + 0.001), rel=1e-3)
    adam = NeuronClassifier(optimizer="adam", epochs=1, tol=None).fit(X, y > 0)
    assert adam.learning_rate_ == 0.01


def test_auto_learning_rate_trains_on_any_scale_where_a_fixed_one_diverges(linear):
    X, y = linear
    big = X * 1e3 + 5e3
    reg = NeuronRegressor(epochs=200, tol=None).fit(big, y)
    assert np.all(np.diff(reg.loss_curve_) < 0)  # the loss falls at every epoch
    with pytest.raises(DivergenceError, match=r"Floating-point under-/overflow occurred at "
                                              r"epoch #\d+"):
        NeuronRegressor(learning_rate=0.1, epochs=200, tol=None).fit(big, y)
    # with tol, the rising loss stops training first, and says why
    with pytest.warns(ConvergenceWarning, match=r"The training loss rose .* learning rate "
                                                r"\(0.1\) is probably too large"):
        diverging = NeuronRegressor(learning_rate=0.1, epochs=200).fit(big, y)
    assert diverging.n_iter_ == 11


# --- stopping, validation, warnings --------------------------------------------------------

def test_tol_stops_when_the_loss_stops_improving(binary):
    X, y = binary
    clf = NeuronClassifier(tol=1e-3, patience=5, epochs=500).fit(X, y)
    loss = clf.loss_curve_
    assert clf.n_iter_ == len(loss) < 500
    # the rule: the last 5 epochs each failed to beat the best before them by tol
    for i in range(len(loss) - 5, len(loss)):
        assert loss[i] > min(loss[:i]) - 1e-3
    assert clf.history_.rows[-1]["epoch"] == clf.n_iter_ - 1


def test_convergence_warning_when_the_epochs_run_out(binary):
    X, y = binary
    with pytest.warns(ConvergenceWarning, match=r"Maximum number of epochs \(3\) reached"):
        clf = NeuronClassifier(epochs=3).fit(X, y)
    assert clf.n_iter_ == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert NeuronClassifier(epochs=3, tol=None).fit(X, y).n_iter_ == 3


def test_early_stopping_keeps_the_best_validated_weights():
    X, y = make_classification(n_samples=60, n_features=10, n_informative=2, n_redundant=0,
                               n_clusters_per_class=1, flip_y=0.1, random_state=1)
    X = StandardScaler().fit_transform(X)  # few rows, many features: it overfits soon

    class Record(Callback):
        def __init__(self):
            self.params = []

        def on_epoch_end(self, epoch, logs=None):
            self.params.append(self.trainer.params.copy())

    record = Record()
    clf = NeuronClassifier(early_stopping=True, validation_fraction=0.3, patience=5, tol=0.0,
                           l2=0.0, random_state=0, callbacks=[record]).fit(X, y)
    val = clf.validation_loss_curve_
    assert len(val) == clf.n_iter_ == len(record.params) < 100
    best = int(np.argmin(val))
    assert best == clf.n_iter_ - 6  # then 5 epochs without improvement
    np.testing.assert_array_equal(np.r_[clf.coef_[0], clf.intercept_], record.params[best])
    assert "val_accuracy" in clf.history_.keys


def test_validation_fraction_records_a_validation_curve(linear):
    X, y = linear
    reg = NeuronRegressor(validation_fraction=0.25, random_state=0).fit(X, y)
    assert len(reg.validation_loss_curve_) == reg.n_iter_
    assert NeuronRegressor().fit(X, y).validation_loss_curve_ is None


def test_verbose_prints_epoch_lines_and_quiet_prints_nothing(iris, capsys):
    X, y = iris
    NeuronClassifier(epochs=3, tol=None).fit(X, y)
    assert capsys.readouterr().out == ""
    NeuronClassifier(epochs=3, tol=None, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 9
    assert lines[0].startswith("[0] setosa log_loss: 0.693147")
    assert lines[5].startswith("[2] versicolor log_loss:")


def test_callbacks_see_each_neuron_in_turn(iris):
    X, y = iris

    class Count(Callback):
        def __init__(self):
            self.trainings, self.epochs = 0, 0

        def on_train_begin(self, logs=None):
            self.trainings += 1

        def on_epoch_end(self, epoch, logs=None):
            self.epochs += 1

    count = Count()
    NeuronClassifier(epochs=7, tol=None, callbacks=[count]).fit(X, y)
    assert (count.trainings, count.epochs) == (3, 21)


# --- continuing: partial_fit and warm_start ---------------------------------------------

@pytest.mark.parametrize("optimizer,batch_size", [("nesterov", None), ("adam", 32), ("gd", 16)])
def test_partial_fit_epochs_equal_one_fit(iris, optimizer, batch_size):
    X, y = iris
    settings = dict(optimizer=optimizer, batch_size=batch_size, tol=None, random_state=4)
    whole = NeuronClassifier(epochs=25, **settings).fit(X, y)
    parts = NeuronClassifier(**settings)
    for _ in range(25):
        parts.partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_array_equal(parts.coef_, whole.coef_)
    np.testing.assert_array_equal(parts.intercept_, whole.intercept_)
    assert parts.n_iter_ == 25 and parts.loss_curve_ == whole.loss_curve_


def test_partial_fit_needs_the_classes_first_and_streams_chunks(iris):
    X, y = iris
    clf = NeuronClassifier()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    order = np.random.default_rng(0).permutation(len(y))
    for epoch in range(30):
        for chunk in np.array_split(order, 5):  # a chunk may miss some classes
            clf.partial_fit(X[chunk], y[chunk], classes=np.unique(y))
    assert clf.n_iter_ == 150 and clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match=r"label\(s\) \['rose'\] that are not in classes_"):
        clf.partial_fit(X[:2], np.array(["setosa", "rose"]))
    reg = NeuronRegressor()
    for _ in range(3):
        reg.partial_fit(X, X[:, 0] * 2)
    assert reg.n_iter_ == 3
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported"):
        NeuronClassifier(class_weight="balanced").partial_fit(X, y, classes=np.unique(y))


@pytest.mark.parametrize("settings", [
    dict(),
    dict(optimizer="adam", batch_size=16, schedule="cosine", decay_steps=200),
    dict(validation_fraction=0.2, optimizer="rmsprop"),
])
def test_warm_start_equals_one_long_fit(iris, settings):
    X, y = iris
    long = NeuronClassifier(epochs=40, tol=None, random_state=1, **settings).fit(X, y)
    warm = NeuronClassifier(epochs=15, tol=None, random_state=1, warm_start=True, **settings)
    warm.fit(X, y).set_params(epochs=25).fit(X, y)
    np.testing.assert_array_equal(warm.coef_, long.coef_)
    assert warm.n_iter_ == 40
    assert [h.rows for h in warm.history_] == [h.rows for h in long.history_]


def test_warm_start_with_new_settings_continues_from_the_weights(binary):
    X, y = binary
    clf = NeuronClassifier(random_state=0, warm_start=True).fit(X, y)
    first = clf.n_iter_
    clf.set_params(optimizer="gd", learning_rate=0.01, epochs=5, tol=None).fit(X, y)
    assert clf.n_iter_ == first + 5
    assert [r["epoch"] for r in clf.history_.rows] == list(range(first + 5))
    # the new run starts where the old one ended, not from zero weights
    assert clf.loss_curve_[first] < clf.loss_curve_[0] / 2
    with pytest.raises(ValueError, match="X has 3 features, but NeuronClassifier is expecting 4"):
        clf.fit(X[:, :3], y)
    with pytest.raises(ValueError, match=r"y has the classes \[0, 1, 2\], but the model being "
                                         r"continued \(warm_start=True\) has \[0, 1\]"):
        clf.fit(X, np.arange(len(y)) % 3)
    cold = clf.set_params(warm_start=False).fit(X, y)
    assert cold.loss_curve_[0] == pytest.approx(np.log(2))


# --- weights ---------------------------------------------------------------------------

def test_integer_sample_weights_equal_repeated_rows(iris):
    X, y = iris
    w = np.random.default_rng(0).integers(0, 4, size=len(y))
    weighted = NeuronClassifier(tol=None, epochs=50).fit(X, y, sample_weight=w)
    repeated = NeuronClassifier(tol=None, epochs=50).fit(np.repeat(X, w, axis=0),
                                                         np.repeat(y, w))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9)


def test_class_weight_multiplies_the_sample_weights(iris):
    X, y = iris
    cw = {"setosa": 1.0, "versicolor": 3.0, "virginica": 0.5}
    by_class = NeuronClassifier(class_weight=cw, tol=None, epochs=30).fit(X, y)
    by_row = NeuronClassifier(tol=None, epochs=30).fit(
        X, y, sample_weight=np.vectorize(cw.get)(y))
    np.testing.assert_allclose(by_class.coef_, by_row.coef_, rtol=1e-12)
    sub = np.r_[0:50, 50:60, 100:150]  # few versicolor: balanced weighs them up
    plain = NeuronClassifier().fit(X[sub], y[sub])
    balanced = NeuronClassifier(class_weight="balanced").fit(X[sub], y[sub])
    recall = [np.mean(m.predict(X[50:100]) == "versicolor") for m in (plain, balanced)]
    assert recall[1] > recall[0]


# --- inside scikit-learn code ----------------------------------------------------------------

def test_clone_copies_parameters_not_fit(binary):
    clf = NeuronClassifier(l2=0.1, optimizer="adam").fit(*binary)
    twin = clone(clf)
    assert twin.get_params() == clf.get_params()
    assert not hasattr(twin, "coef_")


def test_pipeline_grid_search_and_cross_validation():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()), ("neuron", NeuronClassifier())])
    search = GridSearchCV(pipe, {"neuron__learning_rate": [0.05, "auto"],
                                 "neuron__optimizer": ["gd", "nesterov"]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["neuron__optimizer"] in ("gd", "nesterov")
    assert search.best_score_ > 0.95
    assert len(search.cv_results_["mean_test_score"]) == 4
    scores = cross_val_score(make_pipeline(StandardScaler(), NeuronRegressor()),
                             *load_diabetes(return_X_y=True), cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.4


def test_dataframes_and_feature_names(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=["sepal_l", "sepal_w", "petal_l", "petal_w"])
    clf = NeuronClassifier().fit(frame, pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        np.testing.assert_array_equal(clf.predict(frame), clf.predict(X))
    with pytest.raises(ValueError, match="Feature names unseen at fit time"):
        clf.predict(frame.rename(columns={"petal_w": "petal_width"}))
    assert not hasattr(NeuronClassifier().fit(X, y), "feature_names_in_")


def test_set_output_pandas_carries_the_feature_names(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=list("abcd"))
    pipe = make_pipeline(StandardScaler(), NeuronClassifier()).set_output(transform="pandas")
    pipe.fit(frame, y)
    np.testing.assert_array_equal(pipe[-1].feature_names_in_, list("abcd"))
    assert pipe.score(frame, y) > 0.9


# --- saving -------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda X, y: NeuronClassifier(class_weight={"setosa": 2.0}).fit(X, y),
    lambda X, y: NeuronClassifier().fit(X, y == "setosa"),
    lambda X, y: NeuronClassifier(random_state=np.random.RandomState(0)).fit(
        X, (y == "setosa").astype(int) * 3),
    lambda X, y: NeuronRegressor(validation_fraction=0.2, random_state=0).fit(X, X[:, 0]),
])
def test_model_json_round_trip(iris, tmp_path, make):
    X, y = iris
    model = make(X, y)
    model.save(tmp_path / "model.json")
    again = type(model).load(tmp_path / "model.json")
    assert again.get_params().keys() == model.get_params().keys()
    for method in ("predict", "predict_proba", "decision_function"):
        if hasattr(model, method):
            np.testing.assert_array_equal(getattr(again, method)(X), getattr(model, method)(X))
    if hasattr(model, "classes_"):
        np.testing.assert_array_equal(again.classes_, model.classes_)
        assert again.classes_.dtype == model.classes_.dtype
        assert again.class_weight == model.class_weight
    assert again.n_iter_ == model.n_iter_ and again.loss_curve_ == model.loss_curve_
    assert again.validation_loss_curve_ == model.validation_loss_curve_
    doc = json.loads((tmp_path / "model.json").read_text())
    assert doc["format"] == "neurona-estimator"
    assert all(n["format"] == "neurona-model" for n in doc["neurons"])
    if isinstance(model.random_state, np.random.RandomState):
        assert doc["params_not_saved"] == ["random_state"] and again.random_state is None


def test_feature_names_are_saved(iris, tmp_path):
    X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    NeuronClassifier().fit(frame, y).save(tmp_path / "model.json")
    again = NeuronClassifier.load(tmp_path / "model.json")
    np.testing.assert_array_equal(again.feature_names_in_, ["a", "b", "c", "d"])
    doc = json.loads((tmp_path / "model.json").read_text())
    assert doc["neurons"][0]["feature_names"] == ["a", "b", "c", "d"]


def test_a_plain_neurona_model_file_loads_as_an_estimator(tmp_path):
    neuron = Neuron([1.5, -2.0], bias=0.25)
    neurona.save(neuron, tmp_path / "model.json")
    clf = NeuronClassifier.load(tmp_path / "model.json")
    X = np.random.default_rng(0).normal(size=(20, 2))
    np.testing.assert_array_equal(clf.predict(X), neuron.predict(X))
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], neuron.predict_proba(X))
    with pytest.raises(ModelFileError, match="is not a NeuronRegressor"):
        NeuronRegressor.load(tmp_path / "model.json")
    # and an estimator's neurons are model documents a neurona user can read
    clf.save(tmp_path / "estimator.json")
    doc = json.loads((tmp_path / "estimator.json").read_text())
    assert doc["neurons"][0]["weights"] == [1.5, -2.0]


def test_bad_model_files_are_refused_with_the_reason(binary, tmp_path):
    path = tmp_path / "model.json"
    NeuronClassifier().fit(*binary).save(path)
    with pytest.raises(ModelFileError, match="not a neurona model file .*'neurona-estimator'"):
        neurona.load(path)
    with pytest.raises(ModelFileError, match="holds a NeuronClassifier, not a NeuronRegressor"):
        NeuronRegressor.load(path)
    doc = json.loads(path.read_text())
    for key in ("weights", "feature_names"):
        doc["neurons"][0][key] = doc["neurons"][0][key][:2]
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="n_features_in=4 weights"):
        NeuronClassifier.load(path)
    path.write_text('{"format": "neurona-estimator", "format_version": 1, "format": 2}')
    with pytest.raises(ModelFileError, match="duplicate key 'format'"):
        NeuronClassifier.load(path)
    with pytest.raises(ModelFileError, match="no such model file"):
        NeuronClassifier.load(tmp_path / "missing.json")


def test_pickle_round_trip(iris):
    X, y = iris
    clf = NeuronClassifier(warm_start=True, epochs=10, tol=None).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    # the pickled run goes on exactly as the original would
    np.testing.assert_array_equal(again.fit(X, y).coef_, clf.fit(X, y).coef_)


# --- quality against scikit-learn's reference models --------------------------------------

@pytest.mark.parametrize("load,margin", [(load_breast_cancer, 0.01), (load_iris, 0.02),
                                         (load_wine, 0.02)])
def test_default_classifier_matches_logistic_regression(load, margin):
    X, y = load(return_X_y=True)
    ours = cross_val_score(make_pipeline(StandardScaler(), NeuronClassifier()), X, y, cv=5)
    ref = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression()), X, y, cv=5)
    assert abs(ours.mean() - ref.mean()) <= margin


def test_default_regressor_matches_linear_regression():
    X, y = load_diabetes(return_X_y=True)
    ours = cross_val_score(make_pipeline(StandardScaler(), NeuronRegressor()), X, y, cv=5)
    ref = cross_val_score(LinearRegression(), X, y, cv=5)
    assert abs(ours.mean() - ref.mean()) <= 0.01


def test_a_regressors_file_says_regress_and_a_cli_regression_loads_into_it(tmp_path):
    from neurona.face.cli import main

    X, y = neurona.data.plane(n_samples=200, random_state=2)
    reg = NeuronRegressor(epochs=50, learning_rate=0.001, tol=None).fit(X, y)
    reg.save(tmp_path / "reg.json")
    doc = json.loads((tmp_path / "reg.json").read_text())
    assert [n["task"] for n in doc["neurons"]] == ["regress"]
    run = tmp_path / "run"
    assert main(["train", "--task", "regress", "--out", str(run), "--no-plots", "-q"]) == 0
    loaded = NeuronRegressor.load(run / "model.json")
    X, _ = neurona.data.plane(n_samples=20, random_state=3)
    np.testing.assert_allclose(loaded.predict(X), neurona.load(run / "model.json").predict(X))
    with pytest.raises(neurona.ModelFileError, match="task is 'regress'; load it with "
                                                     "NeuronRegressor"):
        NeuronClassifier.load(run / "model.json")
    scaled = tmp_path / "scaled"
    assert main(["train", "--task", "regress", "--scale-target", "standard", "--out",
                 str(scaled), "--no-plots", "-q"]) == 0
    with pytest.raises(neurona.ModelFileError, match="trained on scaled targets"):
        NeuronRegressor.load(scaled / "model.json")
