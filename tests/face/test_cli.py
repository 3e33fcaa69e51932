import json
import re
import subprocess
import sys

import numpy as np
import pytest

from neurona.face.cli import main

RUN_FILES = {"model.json", "history.csv", "report.txt", "config.json", "weights.csv",
             "checkpoint.json"}
FIGURES = {"data.png", "test_truth.png", "test_predictions.png", "loss.png",
           "decision_boundary.png", "learning_curves.png", "weights.png",
           "confusion_matrix.png", "roc_curve.png", "training.gif"}
try:  # the animation is also written as MP4 where imageio-ffmpeg is installed
    import imageio_ffmpeg  # noqa: F401

    FIGURES.add("training.mp4")
except ImportError:
    pass


@pytest.mark.animation
def test_default_run_writes_every_artefact(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train"]) == 0
    out = capsys.readouterr().out
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1
    run = runs[0]
    assert RUN_FILES | {"figures", "report.html"} == {p.name for p in run.iterdir()}
    assert FIGURES == {p.name for p in (run / "figures").iterdir()}
    assert out.count("\n[") == 99 and out.startswith("[ 0] log_loss:")
    assert "precision    recall  f1-score   support" in out
    assert f"Run written to {run.relative_to(tmp_path)}" in out
    header = (run / "history.csv").read_text().splitlines()[0].split(",")
    assert header[:4] == ["epoch", "loss", "sse", "accuracy"]
    config = json.loads((run / "config.json").read_text())
    for key in ("seed", "learning_rate", "epochs", "loss", "activation", "reduction",
                "dataset", "split", "versions"):
        assert key in config
    assert config["dataset"] == {"name": "blobs", "n_samples": 500, "n_features": 2,
                                 "centers": 2, "cluster_std": 2.5, "random_state": 1}
    assert {"numpy", "scikit-learn", "neurona"} <= set(config["versions"])


def test_second_default_run_gets_a_new_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--no-plots", "--quiet"]) == 0
    assert main(["train", "--no-plots", "--quiet"]) == 0
    assert len(list((tmp_path / "runs").iterdir())) == 2


def test_existing_run_is_never_overwritten(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.json").write_text("mine")
    assert main(["train", "--out", str(out), "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "never overwrites" in err
    assert (out / "model.json").read_text() == "mine"
    assert [p.name for p in out.iterdir()] == ["model.json"]


def test_json_summary_is_the_only_stdout(tmp_path, capsys):
    assert main(["train", "--json", "--out", str(tmp_path / "r"), "--no-plots"]) == 0
    summary = json.loads(capsys.readouterr().out)
    model = json.loads((tmp_path / "r" / "model.json").read_text())
    assert summary["weights"] == model["weights"] and summary["bias"] == model["bias"]
    assert summary["run_dir"] == str(tmp_path / "r")
    assert 0.9 < summary["test_accuracy"] <= 1.0


def test_no_plots_writes_no_figures(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "r"), "--no-plots", "--quiet"]) == 0
    assert {p.name for p in (tmp_path / "r").iterdir()} == RUN_FILES


def test_options_change_the_training(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "r"), "--no-plots", "--json", "--epochs", "7",
                 "--learning-rate", "0.001", "--loss", "squared_error", "--reduction", "mean",
                 "--seed", "3"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["epochs"] == 7
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert (config["loss"], config["reduction"], config["seed"]) == ("squared_error", "mean", 3)
    np.testing.assert_array_equal(config["init_weights"],
                                  np.random.default_rng(3).standard_normal(3))


@pytest.mark.parametrize("argv,match", [
    (["--init-weights", "1,2"], "--init-weights has 2 values, expected 3"),
    (["--init-weights=-1,x,2"], "expected comma-separated numbers"),
    (["--epochs", "0"], "--epochs must be a positive integer, got 0"),
    (["--learning-rate", "-1"], "--learning-rate must be a positive number, got -1.0"),
    (["--learning-rate", "nan"], "--learning-rate must be a positive number, got nan"),
    (["--loss", "hinge"], "invalid choice: 'hinge'"),
    (["--activation", "tanh"], "log_loss.*'sigmoid'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_options_give_one_line_and_exit_2(tmp_path, capsys, monkeypatch, argv, match):
    monkeypatch.chdir(tmp_path)
    assert main(["train", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert re.search(match, captured.err)
    assert not (tmp_path / "runs").exists()


def test_traceback_flag_shows_the_exception(tmp_path):
    with pytest.raises(ValueError, match="--init-weights has 2 values"):
        main(["train", "--traceback", "--init-weights", "1,2", "--out", str(tmp_path / "r")])


def test_help_lists_every_option_with_its_default(capsys):
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--epochs", "--learning-rate", "--seed", "--loss", "--activation",
                   "--reduction", "--init-weights", "--out", "--no-plots", "--quiet", "--json"):
        assert option in text
    assert "(default: 100)" in text and "(default: 0.01)" in text and "(default: sum)" in text
    assert main(["--help"]) == 0
    assert "train" in capsys.readouterr().out


def test_console_script_runs_as_a_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "neurona", "train", "--quiet", "--no-plots",
                           "--out", str(tmp_path / "r")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r" / "model.json").exists()
    proc = subprocess.run([sys.executable, "-m", "neurona", "train", "--epochs", "x"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_dtype_option_trains_in_float32_and_is_recorded(tmp_path, capsys):
    import json

    import numpy as np

    for dtype in ("float64", "float32"):
        assert main(["train", "--dtype", dtype, "--no-plots", "--quiet",
                     "--out", str(tmp_path / dtype)]) == 0
        config = json.loads((tmp_path / dtype / "config.json").read_text())
        model = json.loads((tmp_path / dtype / "model.json").read_text())
        assert config["dtype"] == model["training"]["dtype"] == dtype
    sse = {d: np.loadtxt(tmp_path / d / "history.csv", delimiter=",", skiprows=1,
                         usecols=2) for d in ("float64", "float32")}
    np.testing.assert_allclose(sse["float32"], sse["float64"], rtol=1e-4)
    assert not np.array_equal(sse["float32"], sse["float64"])
    assert main(["train", "--dtype", "float16"]) == 2
    assert "invalid choice: 'float16'" in capsys.readouterr().err


def test_dtype_float32_streams_a_file_in_float32(tmp_path, cache_dir):
    import numpy as np

    from neurona.data.cache import CachedRows

    rng = np.random.default_rng(0)
    rows = "".join(f"{a:.3f},{b:.3f},{int(a + b > 0)}\n" for a, b in rng.normal(size=(50, 2)))
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n" + rows)
    argv = ["train", "--data", str(data), "--target", "y", "--no-plots", "--quiet",
            "--epochs", "2"]
    sse = {}
    for dtype in ("float64", "float32"):
        out = tmp_path / dtype
        assert main([*argv, "--stream", "--dtype", dtype, "--out", str(out)]) == 0
        assert json.loads((out / "config.json").read_text())["dtype"] == dtype
        sse[dtype] = np.loadtxt(out / "history.csv", delimiter=",", skiprows=1, usecols=2)
    # Each dtype has its own cache, holding its features in that dtype.
    assert sorted(CachedRows(p).dtype.name for p in cache_dir.glob("*.ncache")) == [
        "float32", "float64"]
    np.testing.assert_allclose(sse["float32"], sse["float64"], rtol=1e-4)
    assert not np.array_equal(sse["float32"], sse["float64"])
    out = tmp_path / "r"
    assert main([*argv, "--out", str(out), "--no-stream", "--dtype", "float32"]) == 0
    assert json.loads((out / "config.json").read_text())["dtype"] == "float32"
