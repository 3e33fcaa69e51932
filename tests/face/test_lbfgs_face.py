"""``--optimizer lbfgs`` from the command line, and ``optimizer="lbfgs"`` in the estimators:
LogisticRegression's and Ridge's optima, exact resume, clear refusals."""

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import (check_dataframe_column_names_consistency,
                                            check_param_validation, parametrize_with_checks)

from neurona import NeuronClassifier, NeuronRegressor
from neurona.face.cli import main
from run_files import history as _history  # noqa: E402

C = 0.5


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A CSV file of 700 rows, three features and a 0/1 target, and its arrays."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(700, 3)) * [1.0, 2.0, 0.5] + [0.5, -1.0, 2.0]
    y = (X @ [1.0, -0.5, 2.0] - 3.0 + rng.normal(size=700) > 0).astype(int)
    path = tmp_path_factory.mktemp("lbfgs") / "rows.csv"
    path.write_text("a,b,c,y\n" + "".join(
        ",".join([*(repr(float(v)) for v in row), str(t)]) + "\n" for row, t in zip(X, y)))
    return path, X, y


def _reference(X, y):
    return LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(X, y)


def _log_loss_objective(X, y, w, b, l2):
    z = X @ w + b
    return float(np.mean(np.logaddexp(0, z) - y * z) + 0.5 * l2 * w @ w)


def _train(*argv):
    return main(["train", *map(str, argv)])


def _model(run):
    return json.loads((run / "model.json").read_text())


LBFGS = ["--target", "y", "--test-size", "0", "--optimizer", "lbfgs", "--reduction", "mean",
         "--epochs", "200", "--no-plots", "--quiet"]


@pytest.mark.parametrize("where", [["--no-stream"], ["--stream"]])
def test_the_command_line_reaches_logistic_regressions_optimum(table, tmp_path, capsys, where):
    path, X, y = table
    l2 = 1.0 / (C * len(y))
    assert _train("--data", path, *LBFGS, *where, "--l2", repr(l2), "--out", tmp_path / "r",
                  "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    model, ref = _model(tmp_path / "r"), _reference(X, y)
    np.testing.assert_allclose(model["weights"], ref.coef_[0], atol=1e-5, rtol=0)
    assert model["bias"] == pytest.approx(ref.intercept_[0], abs=1e-5)
    best = _log_loss_objective(X, y, ref.coef_[0], ref.intercept_[0], l2)
    assert summary["final_loss"] == pytest.approx(best, rel=1e-6)
    assert summary["status"] == "converged"
    history = _history(tmp_path / "r")
    assert summary["passes"] == history["passes"][-1] <= 60
    assert summary["epochs"] == len(history["epoch"])
    assert json.loads((tmp_path / "r" / "config.json").read_text())["status"] == "converged"


def test_the_command_line_says_when_lbfgs_converged(table, tmp_path, capsys):
    path, _, _ = table
    assert _train("--data", path, *LBFGS[:-1], "--out", tmp_path / "r") == 0
    out = capsys.readouterr().out
    rows = len(_history(tmp_path / "r")["epoch"])
    passes = int(_history(tmp_path / "r")["passes"][-1])
    assert f"lbfgs converged after {rows} iterations ({passes} passes over the training " \
           f"rows)." in out


def test_a_resumed_lbfgs_run_equals_the_run_in_one_go(table, tmp_path, capsys):
    path, _, _ = table
    common = ["--data", path, *LBFGS[:-4], "--tol", "1e-12", "--no-plots", "--quiet"]
    assert _train(*common, "--epochs", "30", "--out", tmp_path / "whole") == 0
    assert _train(*common, "--epochs", "5", "--out", tmp_path / "part") == 0
    assert _train("--resume", tmp_path / "part", "--epochs", "30", "--out", tmp_path / "rest",
                  "--no-plots", "--quiet") == 0
    a, b = _model(tmp_path / "whole"), _model(tmp_path / "rest")
    assert a["weights"] == b["weights"] and a["bias"] == b["bias"]
    assert (tmp_path / "whole" / "history.csv").read_text() == \
        (tmp_path / "rest" / "history.csv").read_text()


@pytest.mark.parametrize("argv, match", [
    (["--batch-size", "16"], "--batch-size is 16, but the lbfgs optimizer takes every row"),
    (["--schedule", "step"], "--schedule is 'step', which does nothing with the lbfgs"),
    (["--l1", "0.1"], "--l1 is 0.1, but the lbfgs optimizer needs a smooth objective"),
])
def test_the_command_line_refuses_what_lbfgs_cannot_use(table, tmp_path, capsys, argv, match):
    path, _, _ = table
    assert _train("--data", path, *LBFGS, *argv, "--out", tmp_path / "r") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err
    assert not (tmp_path / "r").exists()


def test_tol_without_lbfgs_is_refused(tmp_path, capsys):
    assert _train("--tol", "1e-3", "--out", tmp_path / "r") == 2
    assert "--tol is 0.001, but it is the stopping rule of the lbfgs optimizer only" in \
        capsys.readouterr().err


@pytest.mark.dask
def test_the_command_line_on_dask_reaches_logistic_regressions_optimum(table, tmp_path,
                                                                      capsys):
    pytest.importorskip("distributed", reason="the dask extra is part of the test extra")
    path, X, y = table
    l2 = 1.0 / (C * len(y))
    assert _train("--engine", "dask", "--data", path, *LBFGS, "--l2", repr(l2), "--out",
                  tmp_path / "d") == 0
    assert _train("--data", path, *LBFGS, "--l2", repr(l2), "--out", tmp_path / "m") == 0
    ref = _reference(X, y)
    dask_model = _model(tmp_path / "d")
    np.testing.assert_allclose(dask_model["weights"], ref.coef_[0], atol=1e-5, rtol=0)
    assert dask_model["bias"] == pytest.approx(ref.intercept_[0], abs=1e-5)
    np.testing.assert_allclose(dask_model["weights"], _model(tmp_path / "m")["weights"],
                               rtol=1e-9)
    assert _history(tmp_path / "d")["passes"][-1] == _history(tmp_path / "m")["passes"][-1]


# --- the estimators --------------------------------------------------------------------

def test_the_classifier_with_lbfgs_is_logistic_regression(table):
    _, X, y = table
    labels = np.where(y == 1, "yes", "no")
    clf = NeuronClassifier(optimizer="lbfgs", l2=1.0 / (C * len(y)), tol=1e-10).fit(X, labels)
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(X, labels)
    np.testing.assert_allclose(clf.coef_, ref.coef_, atol=1e-5, rtol=0)
    np.testing.assert_allclose(clf.intercept_, ref.intercept_, atol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    assert clf.learning_rate_ is None and clf.n_iter_ == len(clf.history_) < 60
    assert clf.history_["passes"][-1] <= 60
    # The default tol stops earlier, still close.
    quick = NeuronClassifier(optimizer="lbfgs", l2=1.0 / (C * len(y))).fit(X, labels)
    np.testing.assert_allclose(quick.coef_, ref.coef_, atol=1e-3)
    assert quick.n_iter_ < clf.n_iter_


def test_each_one_vs_rest_neuron_is_a_binary_logistic_regression():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 3))
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=600), [-0.5, 0.6])
    clf = NeuronClassifier(optimizer="lbfgs", l2=1.0 / (C * len(y)), tol=1e-10).fit(X, y)
    assert clf.coef_.shape == (3, 3)
    for k in range(3):
        ref = LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(X, y == k)
        np.testing.assert_allclose(clf.coef_[k], ref.coef_[0], atol=1e-5, rtol=0)
        assert clf.intercept_[k] == pytest.approx(ref.intercept_[0], abs=1e-5)


def test_the_regressor_with_lbfgs_is_ridge():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 4)) * [1.0, 3.0, 0.2, 1.5]
    y = X @ [2.0, -1.0, 4.0, 0.5] + 1.0 + rng.normal(size=400)
    alpha = 3.0
    reg = NeuronRegressor(optimizer="lbfgs", l2=2 * alpha / len(y), tol=1e-12).fit(X, y)
    ref = Ridge(alpha=alpha).fit(X, y)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=1e-8)
    assert reg.intercept_ == pytest.approx(ref.intercept_, rel=1e-8)


def test_partial_fit_is_not_offered_with_lbfgs():
    for est in (NeuronClassifier(optimizer="lbfgs"), NeuronRegressor(optimizer="lbfgs")):
        assert not hasattr(est, "partial_fit")
        with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
            est.partial_fit
        assert "each of its iterations needs every training row; use fit" in \
            str(info.value.__cause__)
    assert hasattr(NeuronClassifier(), "partial_fit")


def test_a_warm_start_continues_from_the_weights_and_counts_on(table, tmp_path):
    _, X, y = table
    clf = NeuronClassifier(optimizer="lbfgs", epochs=4, tol=1e-12, warm_start=True)
    with pytest.warns(Warning, match="lbfgs's gradient had not fallen to tol=1e-12"):
        clf.fit(X, y)
    first = clf.history_["passes"][-1]
    clf.set_params(epochs=200)
    clf.fit(X, y)
    passes = clf.history_["passes"]
    assert passes[3] == first and np.all(np.diff(passes) >= 1)
    assert list(clf.history_["epoch"]) == list(range(len(passes)))
    clf.save(tmp_path / "clf.json")
    again = NeuronClassifier.load(tmp_path / "clf.json")
    np.testing.assert_array_equal(again.coef_, clf.coef_)
    assert again.learning_rate_ is None and again.optimizer == "lbfgs"


def test_the_estimators_refuse_what_lbfgs_cannot_use(table):
    _, X, y = table
    with pytest.raises(ValueError, match="learning_rate is 0.1, which does nothing with the "
                                         "lbfgs"):
        NeuronClassifier(optimizer="lbfgs", learning_rate=0.1).fit(X, y)
    with pytest.raises(ValueError, match="batch_size is 10, but the lbfgs optimizer"):
        NeuronRegressor(optimizer="lbfgs", batch_size=10).fit(X, y)
    with pytest.raises(ValueError, match="perceptron rule"):
        NeuronClassifier(optimizer="lbfgs", activation="step", loss="squared_error").fit(X, y)


@parametrize_with_checks([NeuronClassifier(optimizer="lbfgs"),
                          NeuronRegressor(optimizer="lbfgs")])
def test_scikit_learn_estimator_checks_with_lbfgs(estimator, check):
    check(estimator)


@pytest.mark.parametrize("Estimator", [NeuronClassifier, NeuronRegressor])
def test_more_scikit_learn_checks_with_lbfgs(Estimator):
    check_param_validation(Estimator.__name__, Estimator(optimizer="lbfgs"))
    check_dataframe_column_names_consistency(Estimator.__name__, Estimator(optimizer="lbfgs"))



def test_the_passes_column_is_a_counter_not_a_curve():
    from neurona import History
    from neurona.show.curves import learning_curve_panels
    from neurona.show.i18n import messages

    history = History([{"epoch": i, "loss": 1.0 / (i + 1), "learning_rate": 1.0,
                        "passes": 2 * i + 1} for i in range(4)])
    assert [p for p, _ in learning_curve_panels(history)] == ["loss", "learning_rate"]
    assert messages("es").column("passes") == "pasadas"
