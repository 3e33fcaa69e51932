"""Regression from the command line: a numeric target on every engine, the task chosen from
the data, the target's scaling in the model, predict and evaluate in the target's units,
and clear errors before any work."""

import json

import numpy as np
import pytest

import neurona
from neurona.face.cli import main
from run_files import history as _history  # noqa: E402

# A linear function of three features with noise, in units far from 1 (a price).
COEF, INTERCEPT = np.array([1500.0, 8000.0, -900.0]), 50000.0


@pytest.fixture(scope="module")
def houses(tmp_path_factory):
    import pandas as pd

    folder = tmp_path_factory.mktemp("houses")
    rng = np.random.default_rng(0)
    n = 600
    X = np.column_stack([rng.uniform(40, 200, n), rng.integers(1, 6, n), rng.uniform(0, 60, n)])
    price = X @ COEF + INTERCEPT + rng.normal(0, 15000, n)
    frame = pd.DataFrame(X, columns=["area", "rooms", "age"]).assign(price=price)
    frame.to_csv(folder / "houses.csv", index=False)
    frame.to_parquet(folder / "houses.parquet")
    return folder


def _train(*argv):
    return main(["train", "--no-plots", *map(str, argv)])


SCALED = ["--target", "price", "--scale", "standard", "--scale-target", "standard",
          "--learning-rate", "0.1", "--epochs", "60"]


def test_task_regress_alone_trains_the_plane_dataset(tmp_path, capsys):
    out = tmp_path / "r"
    assert _train("--task", "regress", "--out", out) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("neurona train: Training a regression (--task regress) with the "
                              "identity activation and the mean squared error: the plane "
                              "dataset")
    config = json.loads((out / "config.json").read_text())
    assert config["task"] == "regress" and config["dataset"]["name"] == "plane"
    assert (config["activation"], config["loss"], config["reduction"]) == \
        ("identity", "squared_error", "mean")
    model = json.loads((out / "model.json").read_text())
    assert model["task"] == "regress" and "classes" not in model
    # plane is y = x0 - 2 x1 + 0.5 plus noise: the unit finds it.
    np.testing.assert_allclose(model["weights"], [1.0, -2.0], atol=0.05)
    report = (out / "report.txt").read_text()
    assert "R²" in report and "explained variance" in report and "precision" not in report
    assert "R²" in printed and _history(out)["r2"][-1] > 0.97


def test_dataset_plane_implies_a_regression_and_a_classifier_dataset_does_not(tmp_path, capsys):
    assert _train("--dataset", "plane", "--out", tmp_path / "p") == 0
    assert "the plane dataset's targets are numbers" in capsys.readouterr().out
    assert _train("--dataset", "gaussians", "--epochs", "5", "--out", tmp_path / "g") == 0
    assert "the gaussians dataset's targets are numbers" in capsys.readouterr().out
    assert _train("--dataset", "moons", "--out", tmp_path / "m") == 0
    printed = capsys.readouterr().out
    assert "regression" not in printed and "precision" in printed
    assert _train("--dataset", "plane", "--task", "classify", "--out", tmp_path / "c") == 2
    assert "the plane dataset's targets are numbers, not two classes: train it with --task " \
           "regress" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_a_numeric_target_is_a_regression_with_a_note_and_two_values_a_classifier(
        houses, tmp_path, capsys):
    assert _train("--data", houses / "houses.csv", *SCALED, "--out", tmp_path / "r") == 0
    printed = capsys.readouterr().out
    assert "column 'price' holds numbers with more than two values; pass --task classify" \
        in printed
    assert "target 'price' (numbers)" in printed
    two = tmp_path / "two.csv"
    two.write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
    assert _train("--data", two, "--target", "y", "--out", tmp_path / "c") == 0
    printed = capsys.readouterr().out
    assert "regression" not in printed and "precision" in printed
    assert json.loads((tmp_path / "c" / "config.json").read_text())["task"] == "classify"


def test_the_target_scaler_is_in_the_model_and_predictions_are_in_the_targets_units(
        houses, tmp_path, capsys):
    data = np.loadtxt(houses / "houses.csv", delimiter=",", skiprows=1)
    X, price = data[:, :3], data[:, 3]
    split = tmp_path / "split"
    assert _train("--data", houses / "houses.csv", *SCALED, "--out", split, "--quiet") == 0
    fitted = json.loads((split / "model.json").read_text())["target_scaler"]
    # Fitted on the training rows only: near, not equal to, the whole column's statistics.
    assert fitted["center"][0] == pytest.approx(price.mean(), rel=0.02)
    assert fitted["center"][0] != pytest.approx(price.mean(), rel=1e-9)
    out = tmp_path / "r"
    assert _train("--data", houses / "houses.csv", *SCALED, "--epochs", "600", "--test-size",
                  "0", "--out", out, "--quiet") == 0
    model = json.loads((out / "model.json").read_text())
    assert model["target_scaler"] == {"kind": "standard", "center": [pytest.approx(
        price.mean(), rel=1e-12)], "scale": [pytest.approx(price.std(), rel=1e-12)]}
    neuron = neurona.load(out / "model.json")
    pred = neuron.predict(X)
    # Trained to convergence on every row, the unit is least squares, in the target's units.
    from sklearn.linear_model import LinearRegression

    ref = LinearRegression().fit(X, price).predict(X)
    np.testing.assert_allclose(pred, ref, rtol=1e-6)
    assert main(["predict", "--model", str(out), "--data", str(houses / "houses.csv"),
                 "--keep", "area"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "area,prediction"
    written = np.array([float(line.split(",")[1]) for line in lines[1:]])
    np.testing.assert_allclose(written, pred, rtol=1e-12)


def test_evaluate_reports_sklearns_regression_scores_in_text_and_json(houses, tmp_path, capsys):
    from sklearn import metrics

    out = tmp_path / "r"
    assert _train("--data", houses / "houses.parquet", *SCALED, "--out", out, "--quiet") == 0
    assert main(["evaluate", "--model", str(out / "model.json"), "--data",
                 str(houses / "houses.csv"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    data = np.loadtxt(houses / "houses.csv", delimiter=",", skiprows=1)
    pred = neurona.load(out / "model.json").predict(data[:, :3])
    y = data[:, 3]
    assert set(result) == {"model", "data", "target", "task", "n_samples", "n_dropped", "r2",
                           "mae", "rmse", "explained_variance"}
    assert result["task"] == "regress" and result["target"] == "price"
    assert result["n_samples"] == 600
    assert result["r2"] == pytest.approx(metrics.r2_score(y, pred), rel=1e-12)
    assert result["mae"] == pytest.approx(metrics.mean_absolute_error(y, pred), rel=1e-12)
    assert result["rmse"] == pytest.approx(metrics.mean_squared_error(y, pred) ** 0.5, rel=1e-12)
    assert result["explained_variance"] == pytest.approx(
        metrics.explained_variance_score(y, pred), rel=1e-12)
    assert main(["evaluate", "--model", str(out), "--data", str(houses / "houses.csv")]) == 0
    text = capsys.readouterr().out
    assert f"{result['r2']:.6g}" in text and "RMSE" in text and "ROC" not in text


def test_a_classifiers_evaluate_json_names_its_task(tmp_path, capsys):
    out = tmp_path / "c"
    data = tmp_path / "c.csv"
    data.write_text("a,y\n" + "".join(f"{i},{int(i > 20)}\n" for i in range(40)))
    assert _train("--data", data, "--target", "y", "--scale", "standard", "--out", out,
                  "--quiet") == 0
    assert main(["evaluate", "--model", str(out), "--data", str(data), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["task"] == "classify" and "accuracy" in result and "r2" not in result


@pytest.mark.parametrize("how", [[], ["--stream"]])
def test_memory_and_stream_train_the_same_regression(houses, tmp_path, how):
    common = ["--data", houses / "houses.csv", *SCALED, "--validation-fraction", "0.2",
              "--quiet"]
    assert _train(*common, "--out", tmp_path / "m") == 0
    assert _train(*common, *how, "--out", tmp_path / "s") == 0
    a, b = _history(tmp_path / "m"), _history(tmp_path / "s")
    assert set(a) >= {"loss", "r2", "mae", "val_loss", "val_r2", "val_mae"}
    for key in a:
        np.testing.assert_allclose(b[key], a[key], rtol=1e-10, atol=1e-12)
    ma = json.loads((tmp_path / "m" / "model.json").read_text())
    mb = json.loads((tmp_path / "s" / "model.json").read_text())
    np.testing.assert_allclose(mb["weights"], ma["weights"], rtol=1e-10)
    assert mb["target_scaler"]["center"][0] == pytest.approx(ma["target_scaler"]["center"][0],
                                                             rel=1e-12)
    ra = (tmp_path / "m" / "report.txt").read_text()
    rb = (tmp_path / "s" / "report.txt").read_text()
    assert ra == rb


@pytest.mark.dask
def test_dask_trains_the_same_regression_as_memory(houses, tmp_path):
    pytest.importorskip("distributed")
    common = ["--target", "price", "--scale", "standard", "--scale-target", "standard",
              "--learning-rate", "0.1", "--epochs", "30", "--quiet"]
    assert _train("--data", houses / "houses.csv", *common, "--out", tmp_path / "m") == 0
    assert _train("--engine", "dask", "--data", houses / "houses.parquet", *common,
                  "--out", tmp_path / "d") == 0
    a, b = _history(tmp_path / "m"), _history(tmp_path / "d")
    for key in ("loss", "r2", "mae"):
        np.testing.assert_allclose(b[key], a[key], rtol=1e-10)
    ra = (tmp_path / "m" / "report.txt").read_text()
    rb = (tmp_path / "d" / "report.txt").read_text()
    assert ra == rb


def test_early_stopping_monitors_val_r2_and_a_regression_resumes_exactly(houses, tmp_path):
    common = ["--data", houses / "houses.csv", *SCALED, "--validation-fraction", "0.2",
              "--stream", "--batch-size", "50", "--optimizer", "adam", "--learning-rate",
              "0.01", "--quiet"]
    assert _train(*common, "--epochs", "12", "--out", tmp_path / "long") == 0
    assert _train(*common, "--epochs", "5", "--out", tmp_path / "short") == 0
    assert main(["train", "--resume", str(tmp_path / "short"), "--epochs", "12", "--out",
                 str(tmp_path / "resumed"), "--no-plots", "--quiet"]) == 0
    a, b = _history(tmp_path / "long"), _history(tmp_path / "resumed")
    for key in a:
        np.testing.assert_array_equal(b[key], a[key])
    assert _train(*common, "--epochs", "200", "--early-stopping", "--monitor", "val_r2",
                  "--patience", "3", "--out", tmp_path / "es") == 0
    config = json.loads((tmp_path / "es" / "config.json").read_text())
    assert config["status"] == "early_stopping" and config["monitor"] == "val_r2"


@pytest.mark.parametrize("cells,match", [
    ("1,10\n2,abc\n3,30\n", "line 3, column 'price': 'abc' is not a number; a regression's "
                            "target must be numbers"),
    ("1,10\n2,\n3,30\n", "line 3, column 'price': missing target value"),
    ("1,10\n2,NaN\n3,30\n", "line 3, column 'price': missing target value"),
    ("1,10\n2,inf\n3,30\n", "line 3, column 'price': infinite target value"),
    ("1,7\n2,7\n3,7\n", "column 'price': the target is constant (every row holds 7)"),
])
@pytest.mark.parametrize("how", [[], ["--stream"]])
def test_bad_regression_targets_are_one_line_errors_before_any_work(tmp_path, capsys, cells,
                                                                      match, how):
    data = tmp_path / "d.csv"
    data.write_text("a,price\n" + cells)
    out = tmp_path / "r"
    assert _train("--data", data, "--target", "price", "--task", "regress", *how,
                  "--test-size", "0", "--out", out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err, err
    assert not out.exists()


def test_a_boolean_target_is_not_a_regression(tmp_path, capsys):
    import pandas as pd

    path = tmp_path / "b.parquet"
    pd.DataFrame({"a": np.arange(10.0), "y": np.arange(10) % 2 == 0}).to_parquet(path)
    assert _train("--data", path, "--target", "y", "--task", "regress", "--out",
                  tmp_path / "r") == 2
    assert "the target holds booleans, which are two classes: train a classifier" in \
        capsys.readouterr().err


@pytest.mark.parametrize("argv,match", [
    (["--task", "regress", "--threshold", "0.3"], "--threshold applies to a classifier"),
    (["--task", "regress", "--class-weight", "balanced"], "--class-weight applies to a "
                                                          "classifier"),
    (["--dataset", "plane", "--class-weight", "balanced"], "--class-weight applies to a "
                                                           "classifier"),
    (["--scale-target", "standard"], "--scale-target scales a regression's numbers"),
    (["--task", "regress", "--stratify"], "--stratify keeps the classes' proportions"),
])
def test_classification_only_options_are_refused_for_a_regression(tmp_path, capsys, argv,
                                                                  match):
    assert _train(*argv, "--out", tmp_path / "r") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err, err
    assert not (tmp_path / "r").exists()


def test_predict_refuses_a_threshold_for_a_regression(tmp_path, capsys):
    assert _train("--task", "regress", "--out", tmp_path / "r", "--quiet") == 0
    data = tmp_path / "x.csv"
    data.write_text("x0,x1\n1,2\n")
    assert main(["predict", "--model", str(tmp_path / "r"), "--data", str(data),
                 "--threshold", "0.5"]) == 2
    assert "--threshold applies to a classifier" in capsys.readouterr().err


def test_a_numeric_target_given_to_a_classifier_hints_at_regression(houses, tmp_path, capsys):
    assert _train("--data", houses / "houses.csv", "--target", "price", "--task", "classify",
                  "--out", tmp_path / "r") == 2
    err = capsys.readouterr().err
    assert "more than two classes" in err and "or fit the numbers with --task regress" in err


@pytest.mark.parametrize("how", [[], ["--stream"]])
def test_neurona_report_redraws_a_regressions_figures_and_scores(houses, tmp_path, capsys,
                                                                 how):
    out = tmp_path / "r"
    assert _train("--data", houses / "houses.csv", *SCALED, *how, "--out", out,
                  "--quiet") == 0
    assert not (out / "figures").exists()
    assert main(["report", str(out), "--no-animation", "--lang", "es"]) == 0
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert {"fit.png", "predicted_vs_actual.png", "residuals.png",
            "residual_distribution.png"} <= figures
    assert not figures & {"confusion_matrix.png", "roc_curve.png"}
    page = (out / "report.html").read_text()
    r2 = float((out / "report.txt").read_text().split("R²")[1].split()[0])
    assert f"{r2:.6g}" in page and "Matriz de confusión" not in page
