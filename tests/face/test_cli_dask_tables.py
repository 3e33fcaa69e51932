"""`neurona train --engine dask` on a table with text columns and missing values: the same
encoding, weights, history and report as the file loaded in memory."""

import json

import numpy as np
import pytest

pytest.importorskip("distributed", reason="the dask extra is part of the test extra")
palmerpenguins = pytest.importorskip("palmerpenguins")

from neurona.face.cli import main  # noqa: E402
from run_files import history as _history  # noqa: E402

pytestmark = pytest.mark.dask

COMMON = ["--scale", "standard", "--test-size", "0.3", "--epochs", "12",
          "--learning-rate", "0.5", "--reduction", "mean", "--no-plots", "--quiet"]


@pytest.fixture(scope="module")
def penguins(tmp_path_factory):
    """The penguins as one CSV file, one Parquet file (``island`` a pandas categorical) and
    two Parquet parts (cut at row 137), with a boolean column missing where the mass is."""
    import pandas as pd

    folder = tmp_path_factory.mktemp("penguins")
    frame = palmerpenguins.load_penguins()
    heavy = (frame["body_mass_g"] > 4000).astype("boolean")
    frame["heavy"] = heavy.where(frame["body_mass_g"].notna(), pd.NA)
    assert frame["sex"].isna().sum() == 11 and frame["heavy"].isna().sum() == 2
    frame.to_csv(folder / "penguins.csv", index=False)
    typed = frame.astype({"island": "category"})
    typed.to_parquet(folder / "penguins.parquet")
    typed.iloc[:137].to_parquet(folder / "part0.parquet")
    typed.iloc[137:].to_parquet(folder / "part1.parquet")
    return folder


def _read(run, name):
    return json.loads((run / name).read_text())


def _train(out, *argv):
    assert main(["train", *argv, "--out", str(out)]) == 0


def _assert_same_encoding(dsk, mem, exact=True):
    """The same columns, kinds, categories and fills; ``exact=False``: a mean's fill summed
    over other partitions than in memory may differ in its last bits."""
    if exact:
        assert dsk == mem
        return
    assert {k: v for k, v in dsk.items() if k != "columns"} == \
        {k: v for k, v in mem.items() if k != "columns"}
    assert len(dsk["columns"]) == len(mem["columns"])
    for d, m in zip(dsk["columns"], mem["columns"]):
        fill_d, fill_m = d.pop("fill", None), m.pop("fill", None)
        assert d == m
        if isinstance(fill_m, float):
            assert fill_d == pytest.approx(fill_m, rel=1e-14)
        else:
            assert fill_d == fill_m


def _assert_same_run(dsk, mem, exact=True):
    """Two run directories: the same model (weights to 1e-10), history, report and split."""
    a, b = _read(dsk, "model.json"), _read(mem, "model.json")
    assert a["feature_names"] == b["feature_names"]
    assert a.get("classes") == b.get("classes")
    _assert_same_encoding(a["encoding"], b["encoding"], exact)
    np.testing.assert_allclose(a["weights"], b["weights"], rtol=1e-10, atol=1e-12)
    assert a["bias"] == pytest.approx(b["bias"], rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(a["scaler"]["center"], b["scaler"]["center"], rtol=1e-12)
    h_dsk, h_mem = _history(dsk), _history(mem)
    assert h_dsk.keys() == h_mem.keys()
    for key, values in h_mem.items():
        np.testing.assert_allclose(h_dsk[key], values, rtol=1e-10, atol=1e-12, err_msg=key)
    assert (dsk / "report.txt").read_text() == (mem / "report.txt").read_text()
    split_dsk, split_mem = _read(dsk, "config.json")["split"], _read(mem, "config.json")["split"]
    assert split_dsk == split_mem
    config = _read(dsk, "config.json")
    assert config["engine"] == "dask"
    assert config["dataset"]["features"] == _read(mem, "config.json")["dataset"]["features"]
    return a, split_dsk


@pytest.mark.parametrize("source,memory,missing", [
    ("penguins.csv", "penguins.csv", "mean"),
    ("penguins.parquet", "penguins.parquet", "mean"),
    ("part*.parquet", "penguins.parquet", "mean"),
    ("penguins.csv", "penguins.csv", "most_frequent"),
    ("part*.parquet", "penguins.parquet", "drop"),
    ("penguins.parquet", "penguins.parquet", "median"),
])
def test_dask_encodes_and_trains_as_in_memory(penguins, tmp_path, capsys, source, memory,
                                              missing):
    argv = ["--target", "sex", "--missing", missing, *COMMON]
    _train(tmp_path / "m", "--data", str(penguins / memory), *argv)
    _train(tmp_path / "d", "--engine", "dask", "--data", str(penguins / source), *argv)
    model, split = _assert_same_run(tmp_path / "d", tmp_path / "m",
                                    exact=not (source.startswith("part") and missing == "mean"))
    kinds = {c["name"]: c["kind"] for c in model["encoding"]["columns"]}
    assert kinds["island"] == kinds["species"] == "category"
    assert kinds["heavy"] == "boolean" and kinds["year"] == "number"
    assert "island=Biscoe" in model["feature_names"]
    # 11 rows miss their label; "drop" also leaves out the 2 that miss every measure
    # (those miss their label too).
    assert split["n_dropped"] == 11
    assert split["n_train"] + split["n_test"] == 344 - 11


def test_a_hashed_column_and_the_report_of_a_dask_run(penguins, tmp_path, capsys):
    argv = ["--target", "sex", "--missing", "most_frequent", "--hash", "species=3",
            "--features", "species,island,bill_length_mm,heavy", *COMMON]
    _train(tmp_path / "m", "--data", str(penguins / "penguins.parquet"), *argv)
    _train(tmp_path / "d", "--engine", "dask", "--data", str(penguins / "part*.parquet"),
           *argv)
    model, _ = _assert_same_run(tmp_path / "d", tmp_path / "m")
    assert model["feature_names"][:3] == [f"species#{i}" for i in range(3)]
    # neurona report reads the files again on a cluster and redraws the run
    report = (tmp_path / "d" / "report.txt").read_text()
    assert main(["report", str(tmp_path / "d"), "--no-animation", "-q"]) == 0
    assert (tmp_path / "d" / "report.html").exists()
    assert (tmp_path / "d" / "report.txt").read_text() == report


def test_a_regression_with_text_columns_and_missing_targets(penguins, tmp_path, capsys):
    argv = ["--target", "body_mass_g", "--task", "regress", "--missing", "mean",
            "--features", "species,island,sex,flipper_length_mm", *COMMON]
    _train(tmp_path / "m", "--data", str(penguins / "penguins.csv"), *argv)
    _train(tmp_path / "d", "--engine", "dask", "--data", str(penguins / "penguins.csv"),
           *argv)
    _, split = _assert_same_run(tmp_path / "d", tmp_path / "m")
    assert split["n_dropped"] == 2  # the rows without a mass


def test_an_unseen_category_is_predicted_as_in_memory(penguins, tmp_path, capsys):
    import pandas as pd

    frame = pd.read_csv(penguins / "penguins.csv")
    train = tmp_path / "no-torgersen.csv"
    frame[frame["island"] != "Torgersen"].to_csv(train, index=False)
    argv = ["--target", "sex", "--missing", "mean", "--features",
            "island,bill_length_mm,bill_depth_mm", *COMMON]
    _train(tmp_path / "m", "--data", str(train), *argv)
    _train(tmp_path / "d", "--engine", "dask", "--data", str(train), *argv)
    model, _ = _assert_same_run(tmp_path / "d", tmp_path / "m")
    assert "island=Torgersen" not in model["feature_names"]
    capsys.readouterr()
    out = {}
    for name in ("m", "d"):
        assert main(["predict", "--model", str(tmp_path / name), "--data",
                     str(penguins / "penguins.csv"), "--out",
                     str(tmp_path / f"{name}.csv")]) == 0
        out[name] = pd.read_csv(tmp_path / f"{name}.csv")
    assert len(out["d"]) == 344 and (frame["island"] == "Torgersen").sum() > 0
    assert list(out["d"].columns) == list(out["m"].columns)
    numbers = [c for c in out["m"].columns if pd.api.types.is_numeric_dtype(out["m"][c])]
    labels = [c for c in out["m"].columns if c not in numbers]
    assert numbers and labels
    np.testing.assert_allclose(out["d"][numbers].to_numpy(), out["m"][numbers].to_numpy(),
                               rtol=1e-10, atol=1e-12)
    assert out["d"][labels].equals(out["m"][labels])
    assert set(out["d"][labels[0]]) == {"female", "male"}


def _error(tmp_path, capsys, *argv):
    assert main(["train", "--engine", "dask", *argv, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert not (tmp_path / "r").exists()
    return err


def test_a_missing_label_is_a_one_line_error_naming_the_column(penguins, tmp_path, capsys):
    err = _error(tmp_path, capsys, "--data", str(penguins / "part*.parquet"), "--target",
                 "sex", "--features", "species,island")
    assert "the target column 'sex' has a missing value" in err and "--missing drop" in err


def test_a_missing_feature_is_a_one_line_error_naming_it(penguins, tmp_path, capsys):
    import pandas as pd

    frame = pd.read_csv(penguins / "penguins.csv")
    path = tmp_path / "two-species.csv"
    frame[frame["species"] != "Gentoo"].to_csv(path, index=False)
    err = _error(tmp_path, capsys, "--data", str(path), "--target", "species",
                 "--features", "island,bill_length_mm", "--missing", "error")
    assert "two-species.csv, row 4, column 'bill_length_mm': missing value" in err
    assert "--missing drop, mean, median or most_frequent" in err


def test_dates_and_unknown_hashed_columns_are_refused(penguins, tmp_path, capsys):
    import pandas as pd

    frame = pd.read_parquet(penguins / "penguins.parquet")
    frame["seen"] = pd.to_datetime(frame["year"].astype(str) + "-06-01")
    path = tmp_path / "dated.parquet"
    frame.to_parquet(path)
    err = _error(tmp_path, capsys, "--data", str(path), "--target", "sex", "--missing",
                 "drop")
    assert "column 'seen': a date or time" in err
    err = _error(tmp_path, capsys, "--data", str(path), "--target", "sex", "--missing",
                 "drop", "--hash", "colour=8")
    assert "--hash names 'colour'" in err


def test_a_constant_feature_is_refused_as_in_memory(penguins, tmp_path, capsys):
    import pandas as pd

    path = tmp_path / "zoo.csv"
    pd.read_csv(penguins / "penguins.csv").assign(zoo="Antarctica").to_csv(path, index=False)
    argv = ["--data", str(path), "--target", "sex", "--missing", "drop", "--out"]
    assert main(["train", *argv, str(tmp_path / "m")]) == 2
    memory = capsys.readouterr().err
    err = _error(tmp_path, capsys, *argv[:-1])
    assert err == memory and "column 'zoo=Antarctica': the feature is constant" in err
