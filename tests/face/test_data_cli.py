"""Your own data from the command line: train, predict, evaluate; built-in datasets."""

import csv
import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import classification_report, confusion_matrix, roc_auc_score

import neurona
from neurona.face.cli import main
from neurona.data import row_uniform, split, split_rows


def _students(n=160, seed=0):
    rng = np.random.default_rng(seed)
    hours = rng.uniform(0, 10, n)
    attendance = rng.uniform(40, 100, n)
    z = 0.9 * (hours - 5) + 0.05 * (attendance - 70) + rng.normal(0, 1, n)
    label = np.where(z > 0, "pass", "fail")
    return hours.round(2), attendance.round(1), label


@pytest.fixture
def csv_file(tmp_path):
    hours, attendance, label = _students()
    path = tmp_path / "students.csv"
    path.write_text("hours,attendance,result\n" + "".join(
        f"{h},{a},{r}\n" for h, a, r in zip(hours, attendance, label)))
    return path


@pytest.fixture
def parquet_file(tmp_path):
    hours, attendance, label = _students()
    path = tmp_path / "students.parquet"
    pq.write_table(pa.table({"hours": hours, "result": label, "attendance": attendance}), path)
    return path


def _train(tmp_path, data, name="run", *extra):
    out = tmp_path / name
    assert main(["train", "--data", str(data), "--target", "result", "--out", str(out),
                 "--no-plots", "--epochs", "60", "--learning-rate", "0.05",
                 "--scale", "standard", *extra]) == 0
    return out


def test_train_on_a_csv_reports_the_original_labels(tmp_path, capsys, csv_file):
    run = _train(tmp_path, csv_file)
    out = capsys.readouterr().out
    assert "target 'result' (0 = fail, 1 = pass)" in out
    report = (run / "report.txt").read_text()
    assert report in out and "fail" in report and "pass" in report
    model = json.loads((run / "model.json").read_text())
    assert model["classes"] == ["fail", "pass"] and model["target"] == "result"
    assert model["feature_names"] == ["hours", "attendance"]
    config = json.loads((run / "config.json").read_text())
    assert config["dataset"]["name"] == "file" and config["dataset"]["path"] == str(csv_file)
    assert config["scale"] == "standard" and config["stream"] is False
    # a file is split row by row (the rule of every engine): row i is a test row when
    # its draw from (random_state, i) is below test_size
    n_test = int((row_uniform(np.arange(160), 1) < 0.3).sum())
    assert config["split"]["n_train"] == 160 - n_test and config["split"]["n_test"] == n_test
    assert config["classes"] == ["fail", "pass"]


def test_the_test_report_is_scikit_learns_on_the_same_split(tmp_path, capsys, csv_file):
    run = _train(tmp_path, csv_file)
    ds = neurona.data.read_data(csv_file, "result")
    parts = split_rows(ds.X, ds.y, 0.3, 1)
    model = neurona.load(run / "model.json")
    expected = classification_report(np.asarray(ds.classes)[parts.y_test],
                                      model.predict(parts.X_test))
    assert (run / "report.txt").read_text() == expected


def test_csv_and_parquet_give_the_same_model(tmp_path, capsys, csv_file, parquet_file):
    a = json.loads((_train(tmp_path, csv_file, "a") / "model.json").read_text())
    b = json.loads((_train(tmp_path, parquet_file, "b") / "model.json").read_text())
    assert a["weights"] == b["weights"] and a["bias"] == b["bias"]
    assert a["scaler"] == b["scaler"]


def test_predict_writes_one_row_per_input_row_in_original_labels(tmp_path, capsys, csv_file):
    run = _train(tmp_path, csv_file)
    new = tmp_path / "new.csv"  # other column order, an extra column, no target
    new.write_text("id,attendance,hours\n1,95,9.5\n2,45,0.5\n3,70,5\n")
    capsys.readouterr()
    assert main(["predict", "--model", str(run), "--data", str(new)]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    model = neurona.load(run / "model.json")
    X = np.array([[9.5, 95], [0.5, 45], [5, 70]])
    assert [r["label"] for r in rows] == list(model.predict(X))
    assert rows[0]["label"] == "pass" and rows[1]["label"] == "fail"
    np.testing.assert_allclose([float(r["probability"]) for r in rows], model.predict_proba(X),
                               rtol=1e-15)


def test_predict_keeps_the_columns_asked_for(tmp_path, capsys, csv_file):
    run = _train(tmp_path, csv_file)
    new = tmp_path / "new.parquet"
    pq.write_table(pa.table({"id": [7, 8], "name": ["Doe, J", "Roe"], "hours": [9.0, 1.0],
                             "attendance": [90.0, 40.0]}), new)
    out = tmp_path / "p.parquet"
    assert main(["predict", "--model", str(run), "--data", str(new), "--keep", "id,name",
                 "--out", str(out)]) == 0
    table = pq.read_table(out)
    assert table.column_names == ["id", "name", "probability", "label"]
    assert table.column("id").to_pylist() == [7, 8]
    assert table.column("label").to_pylist() == ["pass", "fail"]
    capsys.readouterr()
    assert main(["predict", "--model", str(run), "--data", str(new), "--keep", "name"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [r["name"] for r in rows] == ["Doe, J", "Roe"]


def test_a_pandas_index_in_parquet_is_kept_by_name_but_not_trained_on(tmp_path, capsys,
                                                                       csv_file):
    import pandas as pd

    hours, attendance, label = _students()
    frame = pd.DataFrame({"hours": hours, "attendance": attendance, "result": label},
                         index=pd.Index(np.arange(160) * 3 + 1001, name="student"))
    named = tmp_path / "named.parquet"
    frame.to_parquet(named)
    unnamed = tmp_path / "unnamed.parquet"  # a filtered frame: its index is no RangeIndex
    kept = frame.reset_index(drop=True)[hours > 5]
    kept.to_parquet(unnamed)
    assert "__index_level_0__" in pq.read_schema(unnamed).names
    run = _train(tmp_path, named, "named")
    model = json.loads((run / "model.json").read_text())
    assert model["feature_names"] == ["hours", "attendance"]
    reference = json.loads((_train(tmp_path, csv_file, "csv") / "model.json").read_text())
    assert model["weights"] == reference["weights"] and model["bias"] == reference["bias"]
    out = tmp_path / "p.csv"
    assert main(["predict", "--model", str(run), "--data", str(named), "--keep", "student",
                 "--out", str(out)]) == 0
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["student", "probability", "label"]
    assert [int(r["student"]) for r in rows] == list(frame.index)
    capsys.readouterr()
    assert main(["predict", "--model", str(run), "--data", str(unnamed)]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert list(rows[0]) == ["probability", "label"] and len(rows) == len(kept)
    assert main(["predict", "--model", str(run), "--data", str(unnamed),
                 "--keep", "__index_level_0__"]) == 2
    assert "no column to keep '__index_level_0__'" in capsys.readouterr().err


def test_predict_to_parquet_and_csv_files(tmp_path, capsys, csv_file):
    run = _train(tmp_path, csv_file)
    assert main(["predict", "--model", str(run / "model.json"), "--data", str(csv_file),
                 "--out", str(tmp_path / "p.parquet")]) == 0
    assert main(["predict", "--model", str(run / "model.json"), "--data", str(csv_file),
                 "--out", str(tmp_path / "p.csv")]) == 0
    assert "160 predictions written to" in capsys.readouterr().out
    table = pq.read_table(tmp_path / "p.parquet")
    assert table.column_names == ["probability", "label"] and table.num_rows == 160
    with open(tmp_path / "p.csv", newline="") as f:
        assert [r["label"] for r in csv.DictReader(f)] == table.column("label").to_pylist()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_evaluate_prints_report_confusion_auc_and_log_loss(tmp_path, capsys, csv_file):
    run = _train(tmp_path, csv_file)
    capsys.readouterr()
    assert main(["evaluate", "--model", str(run), "--data", str(csv_file)]) == 0
    text = capsys.readouterr().out
    assert main(["evaluate", "--model", str(run), "--data", str(csv_file), "--json",
                 "--target", "result"]) == 0
    result = json.loads(capsys.readouterr().out)

    model = neurona.load(run / "model.json")
    ds = neurona.data.read_data(csv_file, "result")
    proba = model.predict_proba(ds.X)
    pred = (proba > 0.5).astype(int)
    assert result["confusion_matrix"] == confusion_matrix(ds.y, pred).tolist()
    assert result["roc_auc"] == pytest.approx(roc_auc_score(ds.y, proba), rel=1e-12)
    p = np.clip(proba, 1e-300, 1 - 1e-16)
    expected_ll = -np.mean(ds.y * np.log(p) + (1 - ds.y) * np.log1p(-p))
    assert result["log_loss"] == pytest.approx(expected_ll, rel=1e-9)
    assert result["classes"] == ["fail", "pass"] and result["n_samples"] == 160
    assert result["report"]["pass"]["support"] == int(ds.y.sum())
    assert classification_report(ds.labels, model.predict(ds.X)) in text
    assert "confusion matrix" in text and f"ROC AUC:  {result['roc_auc']:.4f}" in text
    assert f"log loss: {result['log_loss']:.4f}" in text


def test_test_size_zero_trains_on_every_row_without_a_report(tmp_path, capsys, csv_file):
    run = _train(tmp_path, csv_file, "run", "--test-size", "0", "--json")
    summary = json.loads(capsys.readouterr().out)
    assert summary["test_accuracy"] is None
    assert not (run / "report.txt").exists()
    config = json.loads((run / "config.json").read_text())
    assert (config["split"]["n_train"], config["split"]["n_test"]) == (160, 0)


def test_stream_gives_the_same_model_as_memory(tmp_path, capsys, csv_file, monkeypatch):
    from neurona.data import readers

    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 512)  # many record batches
    a = _train(tmp_path, csv_file, "a", "--test-size", "0", "--no-stream")
    b = _train(tmp_path, csv_file, "b", "--test-size", "0", "--stream")
    ma, mb = (json.loads((r / "model.json").read_text()) for r in (a, b))
    np.testing.assert_allclose(mb["weights"], ma["weights"], rtol=1e-10)
    assert mb["bias"] == pytest.approx(ma["bias"], rel=1e-10)
    np.testing.assert_allclose(mb["scaler"]["center"], ma["scaler"]["center"], rtol=1e-12)
    assert json.loads((b / "config.json").read_text())["stream"] is True


def test_a_file_over_the_memory_budget_is_streamed(tmp_path, capsys, csv_file):
    run = _train(tmp_path, csv_file, "run", "--memory-budget", "1K")
    out = capsys.readouterr().out
    assert "(streamed)" in out and "precision" in out
    config = json.loads((run / "config.json").read_text())
    assert config["stream"] is True
    assert config["split"]["n_train"] + config["split"]["n_test"] == 160
    assert (run / "report.txt").read_text().splitlines()[0].split() == [
        "precision", "recall", "f1-score", "support"]


def test_streamed_run_draws_figures_from_a_sample(tmp_path, capsys, csv_file):
    out = tmp_path / "run"
    assert main(["train", "--data", str(csv_file), "--target", "result", "--out", str(out),
                 "--stream", "--epochs", "3", "--quiet", "--no-animation"]) == 0
    assert {"data.png", "loss.png"} <= {p.name for p in (out / "figures").iterdir()}


def test_force_replaces_a_run_directory(tmp_path, capsys, csv_file):
    run = _train(tmp_path, csv_file, "run", "--epochs", "5")
    first = (run / "model.json").read_text()
    assert main(["train", "--data", str(csv_file), "--target", "result", "--out", str(run),
                 "--no-plots", "--quiet"]) == 2
    assert "never overwrites" in capsys.readouterr().err
    _train(tmp_path, csv_file, "run", "--epochs", "9", "--force")
    assert (run / "model.json").read_text() != first
    assert json.loads((run / "config.json").read_text())["epochs"] == 9
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_force_never_replaces_a_directory_that_is_not_a_run(tmp_path, capsys, csv_file):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    assert main(["train", "--data", str(csv_file), "--target", "result", "--out", str(mine),
                 "--force", "--quiet", "--no-plots"]) == 2
    assert "is not a neurona run directory" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "precious"


@pytest.mark.parametrize("argv", [
    ["--dataset", "moons", "--noise", "0.3", "--n-samples", "200"],
    ["--dataset", "circles", "--random-state", "3"],
    ["--dataset", "xor", "--n-samples", "100"],
    ["--dataset", "linear", "--noise", "0", "--scale", "minmax", "--stratify"],
    ["--dataset", "blobs", "--cluster-std", "1.0"],
])
def test_built_in_datasets(tmp_path, capsys, argv):
    out = tmp_path / "r"
    assert main(["train", *argv, "--out", str(out), "--no-plots", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    config = json.loads((out / "config.json").read_text())
    assert config["dataset"]["name"] == argv[1]
    assert 0 <= summary["test_accuracy"] <= 1


def test_linear_dataset_is_learned_and_xor_is_not(tmp_path, capsys):
    accuracy = {}
    for name in ("linear", "xor"):
        assert main(["train", "--dataset", name, "--noise", "0", "--out", str(tmp_path / name),
                     "--no-plots", "--json", "--epochs", "300"]) == 0
        accuracy[name] = json.loads(capsys.readouterr().out)["test_accuracy"]
    assert accuracy["linear"] > 0.95 and accuracy["xor"] < 0.75


def test_random_state_moves_the_data_and_the_split(tmp_path, capsys):
    for seed in ("1", "2"):
        assert main(["train", "--random-state", seed, "--out", str(tmp_path / seed),
                     "--no-plots", "--quiet"]) == 0
    a, b = (json.loads((tmp_path / s / "config.json").read_text()) for s in ("1", "2"))
    assert a["dataset"]["random_state"] == a["split"]["random_state"] == 1
    assert b["dataset"]["random_state"] == b["split"]["random_state"] == 2


def test_library_reads_trains_and_predicts_raw_features(tmp_path, csv_file):
    from neurona.data import scaling

    ds = neurona.data.read_data(csv_file, "result")
    s = scaling.fit("standard", ds.X)
    n = neurona.Neuron.random(2, 1, feature_names=ds.feature_names)
    neurona.train(n, s.transform(ds.X), ds.y, epochs=60, learning_rate=0.05)
    n.scaler, n.classes = s, ds.classes
    neurona.save(n, tmp_path / "m.json", target=ds.target)
    back = neurona.load(tmp_path / "m.json")
    assert np.mean(back.predict(ds.X) == ds.labels) > 0.8


def test_streaming_with_an_optimizer_matches_memory(tmp_path, capsys, csv_file):
    extra = ["--test-size", "0", "--optimizer", "adam", "--l2", "0.1", "--schedule",
             "exponential"]
    a = _train(tmp_path, csv_file, "a", *extra, "--no-stream")
    b = _train(tmp_path, csv_file, "b", *extra, "--stream")
    ma, mb = (json.loads((r / "model.json").read_text()) for r in (a, b))
    np.testing.assert_allclose(mb["weights"], ma["weights"], rtol=1e-10)
    ha, hb = ((r / "history.csv").read_text().splitlines()[0] for r in (a, b))
    assert ha == hb  # the same history columns


@pytest.mark.parametrize("option", [["--early-stopping", "--patience", "3"],
                                    ["--validation-fraction", "0.2"],
                                    ["--class-weight", "balanced", "--reduction", "mean"],
                                    ["--class-weight", "0=1,1=3", "--validation-fraction", "0.3"]])
def test_validation_and_class_weights_agree_when_streamed(tmp_path, capsys, csv_file, option):
    # Once refused when streaming: now the same training, validation and test rows as in
    # memory, and the same weights to 1e-10 (full batch).
    a = _train(tmp_path, csv_file, "a", *option, "--no-stream")
    b = _train(tmp_path, csv_file, "b", *option, "--stream")
    ma, mb = (json.loads((r / "model.json").read_text()) for r in (a, b))
    np.testing.assert_allclose(mb["weights"], ma["weights"], rtol=1e-10)
    ca, cb = (json.loads((r / "config.json").read_text()) for r in (a, b))
    assert ca["split"] == cb["split"] and ca["validation_fraction"] == cb["validation_fraction"]
    ha, hb = (list(csv.DictReader(io.StringIO((r / "history.csv").read_text())))
              for r in (a, b))
    assert len(ha) == len(hb) and ha[0].keys() == hb[0].keys()
    for ra, rb in zip(ha, hb):
        for key in ra:
            np.testing.assert_allclose(float(rb[key]), float(ra[key]), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("extra", [[], ["--batch-size", "16", "--optimizer", "adam"]])
def test_a_streamed_run_checkpoints_and_resumes_exactly(tmp_path, capsys, csv_file, extra):
    whole = _train(tmp_path, csv_file, "whole", "--epochs", "12", "--stream", *extra)
    part = _train(tmp_path, csv_file, "part", "--epochs", "5", "--stream",
                  "--checkpoint-every", "2", *extra)
    assert main(["train", "--resume", str(part), "--epochs", "12", "--out",
                 str(tmp_path / "rest"), "--no-plots", "--quiet"]) == 0
    a, b = (json.loads((r / "model.json").read_text()) for r in (whole, tmp_path / "rest"))
    assert a["weights"] == b["weights"] and a["bias"] == b["bias"]
    assert (whole / "history.csv").read_text() == (tmp_path / "rest" / "history.csv").read_text()


def test_a_run_on_a_file_resumes_exactly(tmp_path, capsys, csv_file):
    whole = _train(tmp_path, csv_file, "whole", "--epochs", "20")
    part = _train(tmp_path, csv_file, "part", "--epochs", "8", "--checkpoint-every", "4")
    assert main(["train", "--resume", str(part), "--epochs", "20", "--out",
                 str(tmp_path / "rest"), "--no-plots", "--quiet"]) == 0
    a, b = (json.loads((tmp_path / r / "model.json").read_text()) for r in ("whole", "rest"))
    assert a["weights"] == b["weights"] and a["scaler"] == b["scaler"]
    assert b["classes"] == ["fail", "pass"]
    assert whole.exists()


@pytest.mark.parametrize("extra", [[], ["--stream"], ["--test-size", "0", "--features", "hours"]])
def test_file_runs_get_figures_and_a_report_that_can_be_rebuilt(tmp_path, capsys, csv_file,
                                                                 extra):
    out = tmp_path / "run"
    assert main(["train", "--data", str(csv_file), "--target", "result", "--out", str(out),
                 "--epochs", "5", "--scale", "standard", "--no-animation", "--quiet",
                 *extra]) == 0
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {"decision_boundary.png", "loss.png"} <= figures
    assert ("roc_curve.png" in figures) == ("0" not in extra)  # no test rows, no ROC
    page = (out / "report.html").read_text()
    assert "<html" in page
    if "0" not in extra:
        assert ">fail<" in page and ">pass<" in page  # the classes by their own names
    before = (out / "model.json").read_text()
    assert main(["report", str(out), "--no-animation", "--quiet"]) == 0
    assert (out / "model.json").read_text() == before


def test_decision_boundary_circles_the_misclassified_of_a_labelled_neuron():
    from matplotlib.figure import Figure

    from neurona.data import scaling
    from neurona.show.plots import plot_decision_boundary

    rng = np.random.default_rng(0)
    X = rng.normal(loc=[50.0, 5.0], scale=[10.0, 1.0], size=(80, 2))
    y = (X[:, 0] - 50 + rng.normal(0, 5, 80) > 0).astype(int)
    n = neurona.Neuron([1.0, 0.2], 0.0, scaler=scaling.fit("standard", X),
                       classes=["no", "yes"])
    ax = plot_decision_boundary(n, X, y, Figure().subplots())
    circled = [c for c in ax.collections if c.get_gid() == "misclassified"][0]
    assert len(circled.get_offsets()) == int(np.sum((n.predict_proba(X) > 0.5) != y))
    assert 0 < len(circled.get_offsets()) < 20


def test_a_run_is_reported_and_resumed_from_another_folder(tmp_path, capsys, csv_file,
                                                           monkeypatch):
    # The data's path is recorded absolute: the run works from any working directory.
    monkeypatch.chdir(csv_file.parent)
    assert main(["train", "--data", csv_file.name, "--target", "result", "--epochs", "4",
                 "--out", "run", "--no-plots", "--quiet"]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    run = csv_file.parent / "run"
    assert json.loads((run / "config.json").read_text())["dataset"]["path"] == str(csv_file)
    assert main(["report", str(run), "--no-animation", "--quiet"]) == 0
    assert main(["train", "--resume", str(run), "--epochs", "6", "--out", "more",
                 "--no-plots", "--quiet"]) == 0
    assert (elsewhere / "more" / "model.json").is_file()
