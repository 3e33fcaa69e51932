"""Real tables from the command line: text columns and missing values learned once on the
training rows, stored in the model, applied by predict, evaluate and report."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import neurona
from neurona.face.cli import main
from run_files import history as _history  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def penguins(tmp_path_factory):
    """The README's penguins files, as examples/make_penguins.py writes them."""
    from palmerpenguins import load_penguins

    shipped = pd.read_csv(EXAMPLES / "penguins.csv")
    pd.testing.assert_frame_equal(shipped, load_penguins(), check_dtype=False)
    folder = tmp_path_factory.mktemp("penguins")
    shipped.to_parquet(folder / "penguins.parquet")
    return folder


def _train(*argv):
    return main(["train", "--no-plots", *map(str, argv)])


DATA = EXAMPLES / "penguins.csv"
COMMON = ["--target", "sex", "--scale", "standard"]


def test_missing_values_are_an_error_that_names_the_option(tmp_path, capsys):
    assert _train("--data", DATA, *COMMON, "--out", tmp_path / "r") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "penguins.csv, line 5, column 'bill_length_mm': missing value" in err
    assert "or pass --missing drop, mean, median or most_frequent" in err
    assert not (tmp_path / "r").exists()


def test_the_penguins_walk_through(tmp_path, capsys):
    out = tmp_path / "penguins"
    assert _train("--data", DATA, *COMMON, "--missing", "mean", "--out", out) == 0
    printed = capsys.readouterr().out
    assert ("234 training rows, 99 test rows, 11 left out (a missing value); target 'sex' "
            "(0 = female, 1 = male); features species (3 categories), island (3 categories), "
            "bill_length_mm") in printed
    model = json.loads((out / "model.json").read_text())
    assert model["format_version"] == 3 and model["feature_names"][:6] == [
        "species=Adelie", "species=Chinstrap", "species=Gentoo", "island=Biscoe",
        "island=Dream", "island=Torgersen"]
    assert model["encoding"]["missing"] == "mean"
    config = json.loads((out / "config.json").read_text())
    assert config["split"]["n_dropped"] == 11 and config["columns"]["missing"] == "mean"
    assert config["dataset"]["features"] == ["species", "island", "bill_length_mm",
                                             "bill_depth_mm", "flipper_length_mm",
                                             "body_mass_g", "year"]
    # Raw rows in: an island training never saw (all zeros) and a missing bill (its mean).
    assert main(["predict", "--model", str(out), "--data", str(EXAMPLES / "penguins_new.csv"),
                 "--keep", "id"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id,probability,label" and len(lines) == 5
    neuron = neurona.load(out / "model.json")
    new = pd.read_csv(EXAMPLES / "penguins_new.csv")
    assert new["island"].iloc[2] not in ("Biscoe", "Dream", "Torgersen")
    assert np.isnan(new["bill_length_mm"].iloc[3])
    np.testing.assert_allclose([float(line.split(",")[1]) for line in lines[1:]],
                               neuron.predict_proba(new.drop(columns=["id"])), rtol=1e-12)
    assert [line.split(",")[2].strip('"') for line in lines[1:]] == \
        list(neuron.predict(new))
    assert main(["evaluate", "--model", str(out), "--data", str(DATA), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_samples"] == 333 and result["n_dropped"] == 11
    assert result["accuracy"] > 0.85


@pytest.mark.parametrize("missing", ["mean", "drop", "most_frequent", "median"])
def test_memory_and_stream_train_the_same_weights(penguins, tmp_path, missing):
    common = ["--data", penguins / "penguins.parquet", *COMMON, "--missing", missing,
              "--epochs", "30", "--quiet"]
    assert _train(*common, "--out", tmp_path / "m") == 0
    assert _train(*common, "--stream", "--out", tmp_path / "s") == 0
    a, b = (json.loads((tmp_path / r / "model.json").read_text()) for r in "ms")
    assert a["encoding"] == b["encoding"] and a["scaler"] == b["scaler"]
    np.testing.assert_allclose(b["weights"], a["weights"], rtol=1e-10)
    for key, values in _history(tmp_path / "m").items():
        np.testing.assert_allclose(_history(tmp_path / "s")[key], values, rtol=1e-10)
    assert (tmp_path / "m" / "report.txt").read_text() == \
        (tmp_path / "s" / "report.txt").read_text()


def test_an_encoded_run_resumes_exactly_and_its_report_is_redrawn(tmp_path, capsys):
    common = ["--data", DATA, *COMMON, "--missing", "median", "--quiet"]
    assert _train(*common, "--epochs", "8", "--out", tmp_path / "long") == 0
    assert _train(*common, "--epochs", "3", "--out", tmp_path / "short") == 0
    assert main(["train", "--resume", str(tmp_path / "short"), "--epochs", "8", "--out",
                 str(tmp_path / "resumed"), "--no-plots", "--quiet"]) == 0
    for key, values in _history(tmp_path / "long").items():
        np.testing.assert_array_equal(_history(tmp_path / "resumed")[key], values)
    assert main(["report", str(tmp_path / "long"), "--no-animation"]) == 0
    page = (tmp_path / "long" / "report.html").read_text()
    assert "species: one-hot, 3 categories" in page and "missing values" in page


def test_unknown_categories_can_be_errors(tmp_path, capsys):
    out = tmp_path / "r"
    assert _train("--data", DATA, *COMMON, "--missing", "drop", "--unknown", "error",
                  "--out", out, "--quiet") == 0
    new = tmp_path / "new.csv"
    frame = pd.read_csv(EXAMPLES / "penguins_new.csv").dropna()
    frame.to_csv(new, index=False)
    assert main(["predict", "--model", str(out), "--data", str(new)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "line 4, column 'island': 'Anvers' is not one of the categories training saw" in err


def test_a_column_of_many_values_is_refused_unless_hashed(tmp_path, capsys):
    rows = "".join(f"user{i},{i % 7},{i % 2}\n" for i in range(120))
    path = tmp_path / "users.csv"
    path.write_text("name,a,y\n" + rows)
    assert _train("--data", path, "--target", "y", "--out", tmp_path / "r") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "column 'name': more than 50 distinct values" in err
    assert "--hash name=64" in err and not (tmp_path / "r").exists()
    assert _train("--data", path, "--target", "y", "--hash", "name=8", "--out",
                  tmp_path / "h", "--quiet") == 0
    names = neurona.load(tmp_path / "h" / "model.json").feature_names
    assert names == [f"name#{i}" for i in range(8)] + ["a"]
    assert _train("--data", path, "--target", "y", "--max-categories", "200", "--out",
                  tmp_path / "m", "--quiet") == 0


@pytest.mark.parametrize("argv,match", [
    (["--missing", "guess"], "invalid choice: 'guess'"),
    (["--hash", "name"], "expected COLUMN=N pairs"),
    (["--hash", "nope=4", "--missing", "mean"], "--hash names 'nope', which is not a feature"),
    (["--max-categories", "0"], "--max-categories: expected a positive integer"),
])
def test_bad_column_options_are_one_line_errors(tmp_path, capsys, argv, match):
    assert _train("--data", DATA, *COMMON, *argv, "--out", tmp_path / "r") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err, err


def test_the_weights_figure_draws_a_columns_categories_in_one_colour(tmp_path):
    from matplotlib.figure import Figure

    from neurona.data.encoding import ColumnRules, fit_encoding
    from neurona.show.curves import plot_weight_trajectory

    class Trajectory:
        epoch = np.arange(3)
        weights = np.arange(15.0).reshape(3, 5)
        bias = np.zeros(3)
        n_features, feature_names = 5, None

    encoding = fit_encoding(pd.DataFrame({"c": ["a", "b", "c"], "x": [1.0, 2.0, 3.0],
                                          "k": ["u", "v", "u"]}), ColumnRules())
    ax = plot_weight_trajectory(Trajectory(), Figure().subplots(),
                                feature_names=encoding.feature_names, groups=encoding.groups())
    lines = ax.get_lines()[:5]
    colours = [line.get_color() for line in lines]
    assert colours[0] == colours[1] == colours[2] != colours[3] != colours[4]
    assert [line.get_linestyle() for line in lines[:3]] == ["-", "--", ":"]


def test_an_encoded_model_is_not_loaded_into_an_estimator(tmp_path):
    out = tmp_path / "r"
    assert _train("--data", DATA, "--target", "sex", "--missing", "mean", "--out", out,
                  "--quiet") == 0
    with pytest.raises(neurona.ModelFileError, match="the neuron encodes raw columns"):
        neurona.NeuronClassifier.load(out / "model.json")
