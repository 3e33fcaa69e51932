"""neurona train --preset: a fixed set of flags in one, refused with any flag it sets, the
same run as its flags typed out, and the expansion --help and the docs give."""

import json
from pathlib import Path

import numpy as np
import pytest

from neurona.face.cli import PRESETS, main

BIG_FILE = ("--stream", "--optimizer", "adam", "--batch-size", "4096", "--learning-rate",
            "0.01", "--epochs", "1", "--scale", "standard")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "training.md"


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20_000, 3)) * [1.0, 10.0, 0.1] + [0.0, 50.0, -2.0]
    z = X @ [1.0, 0.1, -5.0] - 15.0 + 0.5 * rng.normal(size=len(X))
    path = tmp_path / "d.csv"
    path.write_text("a,b,c,y\n" + "".join(f"{a!r},{b!r},{c!r},{int(t > 0)}\n"
                                           for (a, b, c), t in zip(X.tolist(), z)))
    return path


def _train(data, out, *flags):
    return main(["train", "--data", str(data), "--target", "y", "--test-size", "0.2",
                 "--out", str(out), "--no-plots", "--quiet", *flags])


def _files(out):
    return {name: (out / name).read_text() for name in
            ("model.json", "history.csv", "weights.csv", "report.txt")}


def test_the_big_file_preset_is_the_flags_the_docs_give():
    assert PRESETS["big-file"] == BIG_FILE
    assert "`--preset big-file` is `" + " ".join(BIG_FILE) + "`" in DOCS.read_text()


def test_help_names_the_preset_and_what_it_stands_for(capsys):
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help
    assert "--preset {big-file}" in text
    assert "big-file: " + " ".join(BIG_FILE) in text


def test_the_preset_trains_as_its_flags_typed_out(tmp_path, data, cache_dir):
    assert _train(data, tmp_path / "preset", "--preset", "big-file") == 0
    config = json.loads((tmp_path / "preset" / "config.json").read_text())
    assert config["stream"] is True and config["scale"] == "standard"
    assert (config["optimizer"], config["batch_size"], config["learning_rate"],
            config["epochs"]) == ("adam", 4096, 0.01, 1)
    history = (tmp_path / "preset" / "history.csv").read_text().splitlines()
    assert len(history) == 2  # the header and one epoch
    assert _train(data, tmp_path / "typed", *BIG_FILE) == 0
    assert _files(tmp_path / "preset") == _files(tmp_path / "typed")


@pytest.mark.parametrize("flag", [
    ["--epochs", "3"], ["--lr", "0.1"], ["--learning-rate", "0.01"], ["--batch-size", "32"],
    ["--optimizer", "gd"], ["--no-stream"], ["--stream"], ["--scale", "none"],
    ["--epoch", "2"],  # an abbreviation argparse accepts is the flag too
])
def test_the_preset_is_refused_with_a_flag_it_sets(tmp_path, data, capsys, flag):
    out = tmp_path / "r"
    assert _train(data, out, "--preset", "big-file", *flag) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    name = {"--lr": "--learning-rate", "--no-stream": "--stream", "--epoch": "--epochs"}.get(
        flag[0], flag[0])
    assert f"--preset big-file sets {name} itself" in err
    assert not out.exists()


def test_two_clashes_are_named_together(tmp_path, data, capsys):
    assert _train(data, tmp_path / "r", "--preset", "big-file", "--epochs", "2",
                  "--optimizer", "gd") == 2
    assert "sets --epochs, --optimizer itself" in capsys.readouterr().err


def test_other_flags_go_with_the_preset(tmp_path, data, cache_dir):
    assert _train(data, tmp_path / "r", "--preset", "big-file", "--dtype", "float32",
                  "--seed", "4") == 0
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["dtype"] == "float32" and config["seed"] == 4


def test_a_resumed_run_takes_no_preset(tmp_path, data, capsys, cache_dir):
    assert _train(data, tmp_path / "a", "--preset", "big-file", "--checkpoint-every",
                  "1") == 0
    assert main(["train", "--resume", str(tmp_path / "a"), "--epochs", "2", "--out",
                 str(tmp_path / "b"), "--preset", "big-file", "--quiet"]) == 2
    assert "--preset" in capsys.readouterr().err


def test_the_preset_needs_a_file(tmp_path, capsys):
    assert main(["train", "--preset", "big-file", "--out", str(tmp_path / "r"),
                 "--quiet"]) == 2
    assert "--stream goes with --data FILE" in capsys.readouterr().err
