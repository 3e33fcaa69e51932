"""Every bad input is one line on stderr, exit status 2, and nothing written.

Each case builds a small file in tmp_path, runs the command in-process and
checks the line names the file (and the column and line where there is one),
that no run directory or output file appeared or changed, and that there is
no traceback.
"""

import builtins
import datetime
import gzip
import json
import os
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import neurona
from neurona.data import readers
from neurona.face.cli import main

GOOD = "a,b,y\n1,2,0\n3,5,1\n2,1,0\n4,6,1\n"


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def _parquet(path, **columns):
    pq.write_table(pa.table(columns), path)
    return path


def _check_refused(tmp_path, capsys, argv, *patterns):
    """Run ``argv``; expect exit 2, one stderr line matching every pattern, nothing written."""
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    rc = main(argv)
    captured = capsys.readouterr()
    assert rc == 2, captured
    err = captured.err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for pattern in patterns:
        assert re.search(pattern, err), (pattern, err)
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before, "a file was created or changed"
    assert not (tmp_path / "run").exists() and not (tmp_path / "runs").exists()
    return err


def _train(tmp_path, data, *extra, target="y"):
    return ["train", "--data", str(data), "--target", target, "--out",
            str(tmp_path / "run"), "--no-plots", "--epochs", "2", *extra]


# --- the file itself ------------------------------------------------------------------

def test_missing_file(tmp_path, capsys):
    _check_refused(tmp_path, capsys, _train(tmp_path, tmp_path / "nope.csv"),
                   r"nope\.csv: no such file")


def test_directory(tmp_path, capsys):
    (tmp_path / "folder.csv").mkdir()
    _check_refused(tmp_path, capsys, _train(tmp_path, tmp_path / "folder.csv"),
                   r"folder\.csv: is a directory; pass a data file")


def test_no_permission(tmp_path, capsys, monkeypatch):
    path = _write(tmp_path / "secret.csv", GOOD)
    if os.geteuid() == 0:
        # root reads any file: make the open fail as it would for another user.
        def refuse(p, *args, **kwargs):
            if os.fspath(p) == os.fspath(path):
                raise PermissionError(13, "Permission denied", os.fspath(p))
            return builtins.open(p, *args, **kwargs)

        monkeypatch.setattr(readers, "open", refuse, raising=False)
    else:  # pragma: no cover - depends on the user running the tests
        path.chmod(0)
    try:
        _check_refused(tmp_path, capsys, _train(tmp_path, path),
                       r"secret\.csv: permission denied")
    finally:
        path.chmod(0o644)


def test_unknown_file_type(tmp_path, capsys):
    path = _write(tmp_path / "data.txt", GOOD)
    _check_refused(tmp_path, capsys, _train(tmp_path, path),
                   r"data\.txt: unknown file type \.txt; neurona reads \.csv")


_NUMBERED = "a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40))

# (file name, its text, its encoding, extra options, target, patterns the line must match)
CSV_CASES = [
    pytest.param("empty.csv", "", "utf-8", [], "y", [r"empty\.csv: the file is empty"],
                 id="empty file"),
    pytest.param("head.csv", "a,b,y\n", "utf-8", [], "y", [r"head\.csv: no data rows"],
                 id="header only"),
    pytest.param("head.csv", "a,b,y", "utf-8", [], "y", [r"head\.csv: no data rows"],
                 id="header only, no newline"),
    pytest.param("ragged.csv", "a,b,y\n1,2,0\n2,3,1\n3,4\n5,6,1\n", "utf-8", [], "y",
                 [r"ragged\.csv, line 4: 2 field\(s\) where the header has 3", "--delimiter"],
                 id="short row"),
    pytest.param("ragged.csv", "a,b,y\n1,2,0\n2,3,1\n3,4,1,9\n", "utf-8", [], "y",
                 [r"ragged\.csv, line 4: 4 field\(s\) where the header has 3"], id="long row"),
    pytest.param("quote.csv", 'a,b,y\n1,2,0\n"3,4,1\n5,6,1\n', "utf-8", [], "y",
                 [r"quote\.csv, line 3: unterminated quote"], id="unterminated quote"),
    pytest.param("text.csv", _NUMBERED + "7,seven,1\n8,eight,0\n", "utf-8", [], "y",
                 [r"text\.csv, line 42, column 'b': 'seven' is not a number"],
                 id="non-numeric cell"),
    *[pytest.param("holes.csv", f"a,b,y\n1,2,0\n3,4,1\n5,{cell},1\n", "utf-8", [], "y",
                   [rf"holes\.csv, line 4, column 'b': {what}"], id=f"cell {cell or 'empty'}")
      for cell, what in [("", "missing value"), ("NaN", "missing value"),
                         ("NA", "missing value"), ("inf", "infinite value"),
                         ("-Infinity", "infinite value")]],
    pytest.param("t.csv", "a,b,y\n1,2,0\n3,4,\n5,6,1\n", "utf-8", [], "y",
                 [r"t\.csv, line 3, column 'y': missing class label"], id="missing label"),
    pytest.param("blank.csv", "a,,y\n1,2,0\n3,4,1\n", "utf-8", [], "y",
                 [r"blank\.csv: column 2 of 3 has a blank name"], id="blank column name"),
    pytest.param("dup.csv", "a,b,a,y\n1,2,3,0\n3,4,5,1\n", "utf-8", [], "y",
                 [r"dup\.csv: the column name 'a' appears twice \(columns 1 and 3\)"],
                 id="duplicate column name"),
    pytest.param("d.csv", GOOD, "utf-8", [], "label",
                 [r"d\.csv: no target column 'label'; columns found: 'a', 'b', 'y'\."],
                 id="target missing"),
    pytest.param("semi.csv", GOOD.replace(",", ";"), "utf-8", [], "y",
                 [r"semi\.csv: no target column 'y'; columns found: 'a;b;y'\.",
                  r"Pass --delimiter ';'"], id="wrong delimiter"),
    pytest.param("nohead.csv", "1,2,0\n3,5,1\n2,1,0\n", "utf-8", [], "y",
                 [r"nohead\.csv: no target column 'y'", "does the file have a header row"],
                 id="no header"),
    pytest.param("d.csv", GOOD, "utf-8", ["--features", "a,c,d"], "y",
                 [r"d\.csv: no feature columns 'c', 'd'; columns found"],
                 id="feature missing"),
    pytest.param("one.csv", "a,b,y\n1,2,yes\n3,4,yes\n", "utf-8", [], "y",
                 [r"one\.csv, column 'y': only one class \('yes'\)"], id="one class"),
    pytest.param("three.csv", "a,b,y\n1,2,cat\n3,4,dog\n5,6,cat\n7,8,emu\n", "utf-8", [], "y",
                 [r"three\.csv, column 'y': more than two classes \('cat', 'dog', 'emu'\)",
                  "binary classifier"], id="three classes"),
    pytest.param("flat.csv", "a,b,c,y\n1,7,2,0\n3,7,5,1\n2,7,1,0\n", "utf-8", [], "y",
                 [r"flat\.csv, column 'b': the feature is constant \(every row holds 7\)",
                  r"--features a,c"], id="constant feature"),
    pytest.param("latin.csv", "a,b,y\n1,2,oui\n3,4,très\n", "latin-1", [], "y",
                 [r"latin\.csv, column 'y': the text is not valid UTF-8",
                  "--encoding latin-1"], id="latin-1 cells as utf-8"),
    pytest.param("latin.csv", "a,bé,y\n1,2,0\n3,4,1\n", "latin-1", [], "y",
                 [r"latin\.csv: the text is not valid utf-8", "--encoding"],
                 id="latin-1 header as utf-8"),
    pytest.param("wide.csv", GOOD, "utf-16", [], "y",
                 [r"wide\.csv: the file is UTF-16 text", "--encoding utf-16"],
                 id="utf-16 as utf-8"),
    pytest.param("d.csv", GOOD, "utf-8", ["--encoding", "klingon"], "y",
                 [r"unknown encoding 'klingon'"], id="unknown encoding"),
]


@pytest.mark.parametrize("name,text,encoding,extra,target,patterns", CSV_CASES)
def test_bad_csv_files(tmp_path, capsys, name, text, encoding, extra, target, patterns):
    path = _write(tmp_path / name, text, encoding)
    _check_refused(tmp_path, capsys, _train(tmp_path, path, *extra, target=target), *patterns)


def test_bad_gzip(tmp_path, capsys):
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(GOOD.encode())[:-12])
    _check_refused(tmp_path, capsys, _train(tmp_path, path), r"data\.csv\.gz: not a valid gzip")


def test_parquet_bytes_in_a_csv_file(tmp_path, capsys):
    _parquet(tmp_path / "p.parquet", a=[1.0, 2.0], y=[0, 1])
    path = tmp_path / "p.csv"
    path.write_bytes((tmp_path / "p.parquet").read_bytes())
    _check_refused(tmp_path, capsys, _train(tmp_path, path),
                   r"p\.csv: this is a Parquet file, not CSV")


# --- typed files ---------------------------------------------------------------------


def test_nan_in_parquet_names_the_row(tmp_path, capsys):
    path = _parquet(tmp_path / "nan.parquet", a=[1.0, 2.0, np.nan], y=[0, 1, 1])
    _check_refused(tmp_path, capsys, _train(tmp_path, path),
                   r"nan\.parquet, row 3, column 'a': missing value \(empty, NA or NaN\)",
                   r"or pass --missing drop, mean, median or most_frequent")


@pytest.mark.parametrize("features,pattern", [
    ("a,y", "the target 'y' cannot also be a feature"),
    ("a,a", "--features names 'a' more than once"),
    ("a,,b", "expected comma-separated column names"),
])
def test_bad_feature_lists(tmp_path, capsys, features, pattern):
    path = _write(tmp_path / "d.csv", GOOD)
    _check_refused(tmp_path, capsys, _train(tmp_path, path, "--features", features), pattern)


def test_a_date_column_is_refused_with_a_hint(tmp_path, capsys):
    when = pa.array([datetime.datetime(2024, 1, d) for d in (1, 2, 3)])
    path = _parquet(tmp_path / "typed.parquet", a=[1.0, 2.0, 3.0], when=when, y=[0, 1, 0])
    _check_refused(tmp_path, capsys, _train(tmp_path, path),
                   r"typed\.parquet, column 'when': a date or time; neurona does not encode "
                   r"dates: derive numbers from it", "--features")


@pytest.mark.parametrize("column", [pa.array(["x", "y", "x", "z"]).dictionary_encode(),
                                    pa.array(["x", "y", "x", "z"])],
                         ids=["categorical", "text"])
def test_text_and_categorical_parquet_columns_are_one_hot_encoded(tmp_path, capsys, column):
    path = _parquet(tmp_path / "typed.parquet", a=[1.0, 2.0, 3.0, 4.0], kind=column,
                    y=[0, 1, 0, 1])
    assert main(_train(tmp_path, path, "--test-size", "0", "--quiet")) == 0
    model = neurona.load(tmp_path / "run" / "model.json")
    assert model.feature_names == ["a", "kind=x", "kind=y", "kind=z"]


def test_non_numeric_npz_column(tmp_path, capsys):
    path = tmp_path / "dates.npz"
    np.savez(path, a=np.ones(3), when=np.array(["2024-01-01"] * 3, dtype="datetime64[D]"),
             y=np.array([0, 1, 0]))
    _check_refused(tmp_path, capsys, _train(tmp_path, path),
                   r"dates\.npz, column 'when': its type cannot be a feature; convert it to "
                   r"numbers or text")


def test_categorical_target_is_accepted(tmp_path, capsys):
    path = _parquet(tmp_path / "cat.parquet", a=[1.0, 2.0, 3.0, 4.0],
                    y=pa.array(["no", "yes", "no", "yes"]).dictionary_encode())
    assert main(_train(tmp_path, path, "--test-size", "0", "--quiet")) == 0
    assert neurona.load(tmp_path / "run" / "model.json").classes == ["no", "yes"]


def _good_parquet(tmp_path):
    return _parquet(tmp_path / "good.parquet", a=np.arange(200.0), b=np.arange(200.0) ** 2,
                    y=np.arange(200) % 2)


def test_truncated_parquet(tmp_path, capsys):
    data = _good_parquet(tmp_path).read_bytes()
    path = tmp_path / "cut.parquet"
    path.write_bytes(data[: len(data) // 2])
    _check_refused(tmp_path, capsys, _train(tmp_path, path),
                   r"cut\.parquet: not a readable Parquet file", "corrupt, truncated")


def test_corrupt_parquet_pages(tmp_path, capsys):
    good = _good_parquet(tmp_path)
    data = bytearray(good.read_bytes())
    data[8:400] = b"\xff" * 392  # the column chunks, after the magic bytes
    path = tmp_path / "bad.parquet"
    path.write_bytes(bytes(data))
    _check_refused(tmp_path, capsys, _train(tmp_path, path),
                   r"bad\.parquet: corrupt Parquet data")


def test_npy_holding_objects_is_refused_without_unpickling(tmp_path, capsys):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([[1, "a"], [2, "b"]], dtype=object), allow_pickle=True)
    _check_refused(tmp_path, capsys, _train(tmp_path, path, target="x1"),
                   r"obj\.npy: not a \.npy file neurona can read", "never unpickles")


def test_truncated_npy(tmp_path, capsys):
    path = tmp_path / "cut.npy"
    np.save(path, np.ones((100, 3)))
    path.write_bytes(path.read_bytes()[:500])
    _check_refused(tmp_path, capsys, _train(tmp_path, path, target="x2"),
                   r"cut\.npy: not a \.npy file neurona can read")


def test_npz_with_columns_of_different_lengths(tmp_path, capsys):
    path = tmp_path / "ragged.npz"
    np.savez(path, a=np.ones(3), y=np.array([0, 1]))
    _check_refused(tmp_path, capsys, _train(tmp_path, path),
                   r"ragged\.npz: the arrays have different lengths \(a: 3, y: 2\)")


def test_the_right_encoding_reads_the_file(tmp_path, capsys):
    path = _write(tmp_path / "latin.csv", "a,b,y\n1,2,oui\n3,4,très\n2,2,oui\n", "latin-1")
    assert main(_train(tmp_path, path, "--encoding", "latin-1", "--test-size", "0",
                       "--quiet")) == 0
    assert neurona.load(tmp_path / "run" / "model.json").classes == ["oui", "très"]


# --- options -------------------------------------------------------------------------

@pytest.mark.parametrize("extra,pattern", [
    (["--learning-rate", "-0.1"], "--learning-rate must be a positive number, got -0.1"),
    (["--epochs", "0"], "--epochs must be a positive integer, got 0"),
    (["--optimizer", "nope"], "--optimizer"),
    (["--test-size", "1.5"], r"--test-size: expected a number in \[0, 1\)"),
    (["--test-size", "-0.1"], r"--test-size: expected a number in \[0, 1\)"),
    (["--scale", "log"], "--scale: invalid choice: 'log'"),
    (["--memory-budget", "lots"], "--memory-budget: expected a size"),
    (["--delimiter", "::"], "--delimiter: expected one character"),
    (["--n-samples", "10"], "--n-samples applies to built-in datasets, not to --data"),
    (["--dataset", "moons"], "--data and --dataset are alternatives"),
])
def test_invalid_option_values(tmp_path, capsys, extra, pattern):
    path = _write(tmp_path / "d.csv", GOOD)
    _check_refused(tmp_path, capsys, _train(tmp_path, path, *extra), pattern)


@pytest.mark.parametrize("argv,pattern", [
    (["--target", "y"], "--target goes with --data FILE"),
    (["--stream"], "--stream goes with --data FILE"),
    (["--noise", "0.2"], "--noise does not apply to --dataset blobs"),
    (["--dataset", "moons", "--cluster-std", "1"], "--cluster-std does not apply"),
    (["--dataset", "xor", "--n-samples", "0"], "--n-samples: expected a positive integer"),
    (["--dataset", "circles", "--noise", "-1"], "--noise: expected a number >= 0"),
    (["--threshold", "1.5"], r"--threshold must be in \[0, 1\], the range of the sigmoid's"),
    (["--activation", "tanh", "--loss", "squared_error", "--threshold", "-2"],
     r"--threshold must be in \[-1, 1\]"),
    (["--dataset", "mnist"], "--dataset: invalid choice: 'mnist'"),
])
def test_invalid_built_in_dataset_options(tmp_path, capsys, monkeypatch, argv, pattern):
    monkeypatch.chdir(tmp_path)
    _check_refused(tmp_path, capsys, ["train", *argv], pattern)


def test_split_that_cannot_stratify(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _check_refused(tmp_path, capsys, ["train", "--n-samples", "3", "--stratify"],
                   r"cannot split 3 rows with test_size=0.3 and stratify")


def test_a_file_is_never_stratified(tmp_path, capsys):
    # A file's split is the per-row rule of every engine, so --stratify is refused for it.
    path = _write(tmp_path / "d.csv", "a,y\n1,0\n2,0\n3,0\n4,1\n")
    _check_refused(tmp_path, capsys, _train(tmp_path, path, "--stratify"),
                   r"--stratify applies to the built-in datasets")


def test_traceback_only_when_asked(tmp_path):
    path = _write(tmp_path / "one.csv", "a,y\n1,1\n2,1\n")
    with pytest.raises(neurona.errors.TargetError, match="only one class") as info:
        main([*_train(tmp_path, path), "--traceback"])
    assert isinstance(info.value, ValueError)
    assert (info.value.path, info.value.column) == (str(path), "y")


# --- prediction and evaluation ------------------------------------------------------------

@pytest.fixture
def model(tmp_path, capsys):
    path = _write(tmp_path / "train.csv", "age,income,bought\n" + "".join(
        f"{20 + i},{(i * 37) % 50},{'yes' if (i * 37) % 50 > 20 else 'no'}\n" for i in range(30)))
    assert main(["train", "--data", str(path), "--target", "bought", "--out",
                 str(tmp_path / "model"), "--no-plots", "--quiet", "--scale", "standard"]) == 0
    capsys.readouterr()
    return tmp_path / "model" / "model.json"


def test_feature_mismatch_at_prediction(tmp_path, capsys, model):
    path = _write(tmp_path / "new.csv", "age,salary\n30,10\n")
    _check_refused(tmp_path, capsys, ["predict", "--model", str(model), "--data", str(path)],
                   r"new\.csv: missing column 'income' that the model needs \(it was trained "
                   r"on 'age', 'income'\); columns found: 'age', 'salary'")


def test_missing_value_at_prediction(tmp_path, capsys, model):
    path = _write(tmp_path / "new.csv", "income,age\n10,30\n,31\n")
    _check_refused(tmp_path, capsys, ["predict", "--model", str(model), "--data", str(path),
                                      "--out", str(tmp_path / "p.csv")],
                   r"new\.csv, line 3, column 'income': missing value")


def test_existing_output_needs_force(tmp_path, capsys, model):
    data = _write(tmp_path / "new.csv", "income,age\n10,30\n")
    out = _write(tmp_path / "preds.csv", "keep me\n")
    _check_refused(tmp_path, capsys, ["predict", "--model", str(model), "--data", str(data),
                                      "--out", str(out)],
                   r"preds\.csv exists; pass --force to replace it")
    assert out.read_text() == "keep me\n"
    assert main(["predict", "--model", str(model), "--data", str(data), "--out", str(out),
                 "--force"]) == 0
    assert out.read_text().splitlines()[0] == "probability,label"


@pytest.mark.parametrize("out,pattern", [
    ("nodir/preds.csv", r"cannot write .*preds\.csv: the directory .*nodir does not exist"),
    ("file.txt/preds.csv", r"cannot write .*preds\.csv: the directory .*file\.txt does not"),
    ("preds.json", r"preds\.json: unknown output type \.json"),
    (".", r"is a directory; pass a file name"),
])
def test_output_that_cannot_be_written(tmp_path, capsys, model, out, pattern):
    data = _write(tmp_path / "new.csv", "income,age\n10,30\n")
    _write(tmp_path / "file.txt", "x")
    _check_refused(tmp_path, capsys, ["predict", "--model", str(model), "--data", str(data),
                                      "--out", str(tmp_path / out)], pattern)


def test_output_in_a_read_only_directory(tmp_path, capsys, model, monkeypatch):
    data = _write(tmp_path / "new.csv", "income,age\n10,30\n")
    (tmp_path / "locked").mkdir()
    monkeypatch.setattr(os, "access", lambda p, mode: False)  # as for a user without rights
    _check_refused(tmp_path, capsys, ["predict", "--model", str(model), "--data", str(data),
                                      "--out", str(tmp_path / "locked" / "p.csv")],
                   r"cannot write .*p\.csv: no permission to write in")


def test_unknown_label_at_evaluation(tmp_path, capsys, model):
    data = _write(tmp_path / "new.csv", "income,age,bought\n10,30,no\n20,40,maybe\n")
    _check_refused(tmp_path, capsys, ["evaluate", "--model", str(model), "--data", str(data)],
                   r"new\.csv, line 3, column 'bought': label 'maybe' is not one of the "
                   r"model's classes 'no', 'yes'")


def test_evaluation_needs_a_target(tmp_path, capsys):
    neurona.save(neurona.Neuron([1.0]), tmp_path / "m.json")
    data = _write(tmp_path / "new.csv", "x0,label\n1,0\n")
    _check_refused(tmp_path, capsys, ["evaluate", "--model", str(tmp_path / "m.json"),
                                      "--data", str(data)],
                   r"name the target column with --target")


def test_model_that_is_not_a_model(tmp_path, capsys):
    data = _write(tmp_path / "new.csv", "x0\n1\n")
    bad = _write(tmp_path / "model.json", json.dumps({"format": "other"}))
    _check_refused(tmp_path, capsys, ["predict", "--model", str(bad), "--data", str(data)],
                   r"model\.json: not a neurona model file")


def test_required_options_of_predict(tmp_path, capsys):
    _check_refused(tmp_path, capsys, ["predict", "--data", "x.csv"],
                   r"the following arguments are required: --model")


@pytest.mark.parametrize("stream", ["--no-stream", "--stream"])
def test_a_split_without_training_rows_of_a_class_is_refused(tmp_path, capsys, stream):
    # One row of class 1, which the per-row split sends to the test part for this seed.
    from neurona.data.split import row_uniform

    rows = 12
    test = row_uniform(np.arange(rows), 1) < 0.3
    lone = int(np.flatnonzero(test)[0])
    labels = ["1" if i == lone else "0" for i in range(rows)]
    path = _write(tmp_path / "d.csv", "a,y\n" + "".join(f"{i},{t}\n" for i, t in
                                                      enumerate(labels)))
    _check_refused(tmp_path, capsys, [*_train(tmp_path, path), stream],
                   r"the split leaves no training row of class 1 \(1 row\(s\) of it in all\)")
