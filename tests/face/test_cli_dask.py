"""`neurona train --engine dask`: the same run as in memory, clear errors, nothing written
on failure."""

import json
import socket

import numpy as np
import pytest

pytest.importorskip("distributed", reason="the dask extra is part of the test extra")

from neurona.face.cli import main  # noqa: E402
from run_files import history as _history  # noqa: E402

pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One CSV, and the same rows split over three CSV files and over four Parquet files
    (written by pyarrow and by pandas) for globs."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path_factory.mktemp("dask-data")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 3)) * [1.0, 2.0, 0.5]
    label = np.where(X[:, 0] - X[:, 1] / 2 + 0.5 * rng.normal(size=1500) > 0, "yes", "no")
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(label=label)
    frame.to_csv(folder / "all.csv", index=False)
    for i in range(3):
        frame.iloc[i * 500:(i + 1) * 500].to_csv(folder / f"part{i}.csv", index=False)
    frame.to_parquet(folder / "all.parquet")
    quarters = [frame.iloc[i * 375:(i + 1) * 375] for i in range(4)]
    pq.write_table(pa.Table.from_pandas(quarters[0], preserve_index=False),
                   folder / "part0.parquet")          # pyarrow, no pandas index
    quarters[1].to_parquet(folder / "part1.parquet")  # pandas, a RangeIndex (metadata only)
    # pandas, an index that is no RangeIndex: stored as the column __index_level_0__
    quarters[2].set_axis(pd.Index(np.arange(750, 1125) * 7)).to_parquet(
        folder / "part2.parquet")
    assert "__index_level_0__" in pq.read_schema(folder / "part2.parquet").names
    quarters[3].to_parquet(folder / "part3.parquet", row_group_size=100)  # 4 row groups
    return folder


@pytest.mark.parametrize("source", ["part*.csv", "all.parquet", "part*.parquet"])
def test_dask_engine_equals_in_memory_epoch_by_epoch(files, tmp_path, capsys, source):
    common = ["--target", "label", "--test-size", "0", "--reduction", "mean",
              "--learning-rate", "0.5", "--epochs", "40", "--no-plots", "--quiet",
              "--scale", "standard"]
    assert main(["train", "--data", str(files / "all.csv"), "--out", str(tmp_path / "m"),
                 *common]) == 0
    assert main(["train", "--engine", "dask", "--data", str(files / source),
                 "--out", str(tmp_path / "d"), *common]) == 0
    mem = json.loads((tmp_path / "m" / "model.json").read_text())
    dsk = json.loads((tmp_path / "d" / "model.json").read_text())
    np.testing.assert_allclose(dsk["weights"], mem["weights"], rtol=1e-10)
    assert dsk["bias"] == pytest.approx(mem["bias"], rel=1e-10)
    assert dsk["classes"] == mem["classes"] == ["no", "yes"]
    np.testing.assert_allclose(dsk["scaler"]["center"], mem["scaler"]["center"], rtol=1e-12)
    h_mem, h_dsk = _history(tmp_path / "m"), _history(tmp_path / "d")
    for key in ("loss", "sse", "accuracy", "grad_norm"):
        np.testing.assert_allclose(h_dsk[key], h_mem[key], rtol=1e-10)
    config = json.loads((tmp_path / "d" / "config.json").read_text())
    assert config["engine"] == "dask" and config["split"]["n_train"] == 1500


def test_dask_run_has_its_report_and_can_be_rebuilt(files, tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["train", "--engine", "dask", "--data", str(files / "part*.csv"),
                 "--target", "label", "--out", str(run), "--epochs", "5",
                 "--reduction", "mean", "--learning-rate", "0.5", "--no-animation"]) == 0
    out = capsys.readouterr().out
    assert "(on Dask)" in out and "precision" in out
    report = (run / "report.txt").read_text()
    support = sum(int(line.split()[-1]) for line in report.splitlines()
                  if line.strip().startswith(("no ", "yes ")))
    config = json.loads((run / "config.json").read_text())
    assert support == config["split"]["n_test"] > 0
    assert (run / "report.html").exists()
    assert main(["report", str(run), "--no-animation", "-q"]) == 0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_exits_2_and_writes_nothing(files, tmp_path, capsys):
    address = f"tcp://127.0.0.1:{_closed_port()}"
    code = main(["train", "--engine", "dask", "--scheduler", address, "--dask-timeout", "2",
                 "--data", str(files / "all.csv"), "--target", "label",
                 "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and f"Could not reach the Dask scheduler at {address}" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv,match", [
    (["--engine", "dask"], "--engine dask trains on files"),
    (["--engine", "dask", "--data", "{files}/all.csv", "--target", "nope"],
     "target column 'nope' not found"),
    (["--engine", "dask", "--data", "{files}/all.csv", "--target", "label", "--stream"],
     "choose one"),
])
def test_dask_engine_errors_are_one_line(files, tmp_path, capsys, argv, match):
    argv = [a.replace("{files}", str(files)) for a in argv]
    assert main(["train", *argv, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err
    assert not (tmp_path / "r").exists()


@pytest.fixture(scope="module")
def indexed(files):
    """all.csv's rows in Parquet files where pandas stored the frame's index as a column:
    named ``id`` (``set_index``) or unnamed (``__index_level_0__``)."""
    import pandas as pd

    frame = pd.read_csv(files / "all.csv")
    ids = np.random.default_rng(1).permutation(len(frame)) + 10_000
    frame.assign(id=ids).set_index("id").to_parquet(files / "named-index.parquet")
    frame.set_axis(pd.Index(ids)).to_parquet(files / "unnamed-index.parquet")
    return files


def _model(tmp_path, name, *argv):
    out = tmp_path / name
    assert main(["train", *argv, "--out", str(out), "--target", "label", "--test-size", "0",
                 "--reduction", "mean", "--learning-rate", "0.5", "--epochs", "10",
                 "--scale", "standard", "--no-plots", "--quiet"]) == 0
    return json.loads((out / "model.json").read_text())


@pytest.mark.parametrize("name", ["named-index.parquet", "unnamed-index.parquet"])
def test_a_stored_pandas_index_is_no_default_feature_on_either_engine(indexed, tmp_path,
                                                                       capsys, name):
    reference = _model(tmp_path, "csv", "--data", str(indexed / "all.csv"))
    for engine in ("numpy", "dask"):
        model = _model(tmp_path, engine, "--engine", engine, "--data", str(indexed / name))
        assert model["feature_names"] == ["a", "b", "c"]
        np.testing.assert_allclose(model["weights"], reference["weights"], rtol=1e-10)


def test_a_named_pandas_index_can_be_asked_for_on_either_engine(indexed, tmp_path, capsys):
    path = str(indexed / "named-index.parquet")
    mem = _model(tmp_path, "m", "--data", path, "--features", "a,id")
    dsk = _model(tmp_path, "d", "--engine", "dask", "--data", path, "--features", "a,id")
    assert mem["feature_names"] == dsk["feature_names"] == ["a", "id"]
    np.testing.assert_allclose(dsk["weights"], mem["weights"], rtol=1e-10)
    np.testing.assert_allclose(dsk["scaler"]["center"], mem["scaler"]["center"], rtol=1e-12)
    assert mem["scaler"]["center"][1] == pytest.approx(10_000 + 1499 / 2)


def test_the_three_engines_split_a_file_into_the_same_rows(files, tmp_path, capsys):
    # The same test and validation rows for the same seeds, so the same run and report:
    # the file loaded, streamed, and read by Dask as a glob of three files.
    common = ["--target", "label", "--test-size", "0.3", "--validation-fraction", "0.2",
              "--reduction", "mean", "--learning-rate", "0.5", "--epochs", "15",
              "--no-plots", "--quiet", "--scale", "standard", "--seed", "3",
              "--random-state", "4"]
    runs = {"memory": ["--data", str(files / "all.csv"), "--no-stream"],
            "stream": ["--data", str(files / "all.csv"), "--stream"],
            "dask": ["--engine", "dask", "--data", str(files / "part*.csv")]}
    for name, argv in runs.items():
        assert main(["train", *argv, "--out", str(tmp_path / name), *common]) == 0, name
    config = {n: json.loads((tmp_path / n / "config.json").read_text()) for n in runs}
    assert config["memory"]["split"] == config["stream"]["split"] == config["dask"]["split"]
    assert 0 < config["memory"]["split"]["n_test"] < 1500
    model = {n: json.loads((tmp_path / n / "model.json").read_text()) for n in runs}
    for name in ("stream", "dask"):
        np.testing.assert_allclose(model[name]["weights"], model["memory"]["weights"],
                                   rtol=1e-10)
        for key, values in _history(tmp_path / "memory").items():
            np.testing.assert_allclose(_history(tmp_path / name)[key], values, rtol=1e-9,
                                       atol=1e-12)
        assert (tmp_path / name / "report.txt").read_text() == \
            (tmp_path / "memory" / "report.txt").read_text()


def test_a_dask_run_resumes_exactly(files, tmp_path, capsys):
    common = ["--engine", "dask", "--data", str(files / "part*.parquet"), "--target",
              "label", "--scale", "standard", "--no-plots", "--quiet", "--optimizer", "adam",
              "--learning-rate", "0.05", "--reduction", "mean"]
    assert main(["train", *common, "--epochs", "8", "--out", str(tmp_path / "whole")]) == 0
    assert main(["train", *common, "--epochs", "3", "--out", str(tmp_path / "part")]) == 0
    assert main(["train", "--resume", str(tmp_path / "part"), "--epochs", "8", "--out",
                 str(tmp_path / "rest"), "--no-plots", "--quiet"]) == 0
    a, b = (json.loads((tmp_path / r / "model.json").read_text()) for r in ("whole", "rest"))
    assert a["weights"] == b["weights"] and a["bias"] == b["bias"]
    assert (tmp_path / "whole" / "history.csv").read_text() == \
        (tmp_path / "rest" / "history.csv").read_text()
