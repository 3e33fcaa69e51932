"""``neurona train``'s training options end to end: recipes, early stopping, checkpoints,
resume, divergence, Ctrl-C (a real SIGINT to a real process) and the progress bar."""

import csv
import io
import json
import os
import pty
import signal
import subprocess
import sys

import numpy as np
import pytest

from neurona import ProgressBar
from neurona.face.cli import main

NEW_OPTIONS = ("--optimizer", "--batch-size", "--schedule", "--decay-rate", "--decay-steps",
               "--power-t", "--end-learning-rate", "--momentum", "--beta-1", "--beta-2",
               "--epsilon", "--rho", "--weight-decay", "--l2", "--l1", "--class-weight",
               "--validation-fraction", "--early-stopping", "--monitor", "--patience",
               "--min-delta", "--no-restore-best-weights", "--checkpoint-every", "--resume",
               "--no-shuffle")


def history(run_dir):
    with open(run_dir / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def model(run_dir):
    doc = json.loads((run_dir / "model.json").read_text())
    return [*doc["weights"], doc["bias"]]


def test_help_lists_the_training_options(capsys):
    assert main(["train", "--help"]) == 0
    text = capsys.readouterr().out
    for option in NEW_OPTIONS:
        assert option in text
    assert "(default: gd)" in text and "(default: constant)" in text


def test_optimizer_batches_schedule_and_validation_recipe(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "--optimizer", "adam", "--learning-rate", "0.05", "--batch-size", "32",
                 "--schedule", "cosine", "--epochs", "20", "--validation-fraction", "0.2",
                 "--l2", "0.01", "--class-weight", "balanced", "--out", str(out),
                 "--no-plots"]) == 0
    text = capsys.readouterr().out
    assert "[ 0] log_loss:" in text and "val_log_loss:" in text
    config = json.loads((out / "config.json").read_text())
    assert (config["optimizer"], config["batch_size"], config["schedule"]) == ("adam", 32, "cosine")
    assert (config["validation_fraction"], config["l2"], config["class_weight"]) == \
        (0.2, 0.01, "balanced")
    rows = history(out)
    assert list(rows[0]) == ["epoch", "loss", "sse", "accuracy", "grad_norm", "learning_rate",
                             "passes", "val_loss", "val_sse", "val_accuracy"]
    lrs = [float(r["learning_rate"]) for r in rows]
    assert lrs[0] == 0.05 and lrs[-1] < lrs[0]  # cosine decays over the run


def test_momentum_l1_and_class_weight_mapping_are_recorded(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "--optimizer", "nesterov", "--momentum", "0.5", "--l1", "0.1",
                 "--class-weight", "0=1,1=2.5", "--epochs", "5", "--quiet", "--no-plots",
                 "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["momentum"] == 0.5 and config["l1"] == 0.1
    assert config["class_weight"] == {"0": 1.0, "1": 2.5}
    assert capsys.readouterr().out == ""


def test_early_stopping_validates_on_a_split_and_says_so(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "--early-stopping", "--patience", "3", "--optimizer", "momentum",
                 "--epochs", "300", "--out", str(out), "--no-plots"]) == 0
    text = capsys.readouterr().out
    assert "Early stopping after epoch" in text and "val_loss did not improve for 3" in text
    rows = history(out)
    assert len(rows) < 300 and "val_loss" in rows[0]
    config = json.loads((out / "config.json").read_text())
    assert config["validation_fraction"] == 0.1 and config["monitor"] == "val_loss"
    assert config["status"] == "early_stopping"
    val = [float(r["val_loss"]) for r in rows]
    best = int(np.argmin(val))
    assert len(rows) == best + 4


@pytest.mark.parametrize("extra", [[], ["--optimizer", "rmsprop", "--batch-size", "16"]])
def test_checkpoint_then_resume_equals_one_long_run(tmp_path, capsys, extra):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert main(["train", *extra, "--epochs", "6", "--checkpoint-every", "4", "--out", str(a),
                 "--no-plots", "--quiet"]) == 0
    assert {p.name for p in a.iterdir()} == {"model.json", "history.csv", "report.txt",
                                             "config.json", "checkpoint.json", "weights.csv"}
    assert main(["train", "--resume", str(a), "--epochs", "15", "--out", str(b), "--no-plots",
                 "--quiet"]) == 0
    assert main(["train", *extra, "--epochs", "15", "--out", str(c), "--no-plots",
                 "--quiet"]) == 0
    assert (b / "history.csv").read_text() == (c / "history.csv").read_text()
    assert model(b) == model(c)
    config = json.loads((b / "config.json").read_text())
    assert config["resumed_from"] == str(a) and config["epochs"] == 15
    assert len(history(a)) == 6  # the earlier run is untouched


@pytest.mark.parametrize("argv,match", [
    (["--learning-rate", "0.5"], "takes only --epochs and the output options, not "
                                 "--learning-rate"),
    (["--epochs", "3"], "has done 4 epochs already; pass --epochs N with N > 4"),
])
def test_resume_refuses_what_it_cannot_do(tmp_path, capsys, argv, match):
    a = tmp_path / "a"
    assert main(["train", "--epochs", "4", "--checkpoint-every", "2", "--out", str(a),
                 "--no-plots", "--quiet"]) == 0
    assert main(["train", "--resume", str(a), *argv, "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err
    assert not (tmp_path / "b").exists()


def test_a_finished_run_can_be_continued_exactly(tmp_path, capsys):
    # No --checkpoint-every: a finished run still holds what --resume needs.
    assert main(["train", "--epochs", "2", "--out", str(tmp_path / "a"), "--no-plots",
                 "--quiet"]) == 0
    assert main(["train", "--resume", str(tmp_path / "a"), "--epochs", "4", "--no-plots",
                 "--quiet", "--out", str(tmp_path / "b")]) == 0
    assert main(["train", "--epochs", "4", "--out", str(tmp_path / "c"), "--no-plots",
                 "--quiet"]) == 0
    assert (tmp_path / "b" / "history.csv").read_text() == \
        (tmp_path / "c" / "history.csv").read_text()
    assert json.loads((tmp_path / "b" / "model.json").read_text())["weights"] == \
        json.loads((tmp_path / "c" / "model.json").read_text())["weights"]


def test_resume_needs_a_checkpoint(tmp_path, capsys):
    assert main(["train", "--epochs", "2", "--out", str(tmp_path / "a"), "--no-plots",
                 "--quiet"]) == 0
    (tmp_path / "a" / "checkpoint.json").unlink()
    assert main(["train", "--resume", str(tmp_path / "a"), "--epochs", "4"]) == 2
    assert "no checkpoint" in capsys.readouterr().err


def test_divergence_exits_2_and_keeps_the_run_so_far(tmp_path, capsys):
    out = tmp_path / "r"
    code = main(["train", "--activation", "identity", "--loss", "squared_error",
                 "--learning-rate", "1", "--out", str(out), "--no-plots"])
    assert code == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert "Floating-point under-/overflow occurred at epoch #" in captured.err
    assert "smaller learning rate" in captured.err and str(out) in captured.err
    epoch = int(captured.err.split("epoch #")[1].split(".")[0])
    assert len(history(out)) == epoch
    assert np.isfinite(model(out)).all()
    assert json.loads((out / "config.json").read_text())["status"] == "diverged"
    assert not (out / "checkpoint.json").exists()


def test_bad_training_options_are_one_line_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for argv, match in [(["--optimizer", "sgdx"], "invalid choice: 'sgdx'"),
                        (["--batch-size", "0"], "--batch-size must be a positive integer"),
                        (["--momentum", "1"], "--momentum must be a number in [0, 1)"),
                        (["--validation-fraction", "0"], "--validation-fraction must be a number in (0, 1)"),
                        (["--class-weight", "heavy"], "expected 'balanced' or LABEL=WEIGHT"),
                        (["--l2", "-1"], "--l2 must be a number in [0, inf)"),
                        (["--monitor", "nope", "--early-stopping"],
                         "monitors 'nope', which is not in the history")]:
        assert main(["train", "--no-plots", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and match in err, (argv, err)
    assert not (tmp_path / "runs").exists()


# --- a real Ctrl-C ---------------------------------------------------------------------------

def _interrupt(tmp_path, extra):
    """Start a very long run, wait for its first epoch line, send SIGINT, collect it."""
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [sys.executable, "-m", "neurona", "train", "--epochs", "1000000", "--no-plots",
         "--out", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()  # training has started once an epoch is printed
        assert first.startswith("[     0]"), first + proc.stderr.read()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return out, proc.returncode, stdout, stderr


@pytest.mark.parametrize("extra", [[], ["--optimizer", "adam", "--batch-size", "7"]])
def test_sigint_writes_the_run_and_exits_130_and_resume_is_exact(tmp_path, capsys, extra):
    out, code, stdout, stderr = _interrupt(tmp_path, extra)
    assert code == 130, stderr
    assert "interrupted at epoch" in stderr and f"--resume {out}" in stderr
    assert "Traceback" not in stderr
    assert {p.name for p in out.iterdir()} == {"model.json", "history.csv", "report.txt",
                                               "config.json", "checkpoint.json", "weights.csv"}
    assert "precision" in stdout  # the report so far
    checkpoint = json.loads((out / "checkpoint.json").read_text())
    assert checkpoint["status"] == "interrupted"
    done = checkpoint["epoch"]
    assert len(history(out)) == done
    assert json.loads((out / "config.json").read_text())["status"] == "interrupted"

    # Continuing it gives bit for bit what one uninterrupted run gives.
    total = done + 3
    resumed, straight = tmp_path / "resumed", tmp_path / "straight"
    assert main(["train", "--resume", str(out), "--epochs", str(total), "--out", str(resumed),
                 "--no-plots", "--quiet"]) == 0
    assert main(["train", *extra, "--epochs", str(total), "--out", str(straight),
                 "--no-plots", "--quiet"]) == 0
    assert (resumed / "history.csv").read_text() == (straight / "history.csv").read_text()
    assert model(resumed) == model(straight)


# --- the progress bar ---------------------------------------------------------------------

def test_progress_bar_prints_plain_lines_when_not_a_terminal():
    stream = io.StringIO()
    bar = ProgressBar(epochs=12, loss_name="log_loss", stream=stream)
    bar.on_train_begin()
    bar.on_epoch_end(3, {"epoch": 3, "loss": 1.5, "sse": 0.25, "accuracy": 0.75})
    bar.on_train_end()
    assert stream.getvalue() == "[ 3] log_loss: 1.500000  sse: 0.250000  accuracy: 0.7500\n"


def test_progress_bar_draws_a_live_bar_on_a_terminal(tmp_path):
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "neurona", "train", "--epochs", "5", "--no-plots", "--out",
         str(tmp_path / "r")], stdout=slave, stderr=slave, stdin=subprocess.DEVNULL,
        env=dict(os.environ, COLUMNS="120", TERM="xterm"))
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=120) == 0
    text = b"".join(chunks).decode("utf-8", "replace")
    assert "ETA" in text and "epoch" in text and "\x1b[" in text  # a drawn, redrawn bar
    assert "[4] log_loss:" in text and "Run written to" in text


def test_quiet_prints_nothing(tmp_path, capsys):
    assert main(["train", "--quiet", "--epochs", "3", "--batch-size", "50", "--no-plots",
                 "--out", str(tmp_path / "r")]) == 0
    assert capsys.readouterr().out == ""


def test_a_checkpointing_run_that_fails_at_once_leaves_no_directory(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "--checkpoint-every", "1", "--early-stopping", "--monitor", "nope",
                 "--out", str(out), "--no-plots"]) == 2
    assert "monitors 'nope'" in capsys.readouterr().err
    assert not out.exists()


def test_a_checkpointing_run_that_diverges_keeps_its_last_checkpoint(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "--activation", "identity", "--loss", "squared_error",
                 "--learning-rate", "1", "--checkpoint-every", "10", "--out", str(out),
                 "--no-plots", "--quiet"]) == 2
    assert "Floating-point under-/overflow" in capsys.readouterr().err
    checkpoint = json.loads((out / "checkpoint.json").read_text())
    assert checkpoint["epoch"] % 10 == 0 and checkpoint["epoch"] > 0
    assert checkpoint["epoch"] < len(history(out)) + 1
    assert {p.name for p in out.iterdir()} == {"model.json", "history.csv", "report.txt",
                                               "config.json", "checkpoint.json", "weights.csv"}


def test_a_run_that_stopped_early_can_be_continued(tmp_path, capsys):
    first = tmp_path / "first"
    assert main(["train", "--early-stopping", "--patience", "3", "--optimizer", "momentum",
                 "--epochs", "300", "--out", str(first), "--no-plots", "--quiet"]) == 0
    done = len(history(first))
    assert json.loads((first / "config.json").read_text())["status"] == "early_stopping"
    more = tmp_path / "more"
    assert main(["train", "--resume", str(first), "--epochs", str(done + 50), "--out",
                 str(more), "--no-plots", "--quiet"]) == 0
    rows = history(more)
    assert rows[:done] == history(first)  # the earlier epochs, as they were
    assert len(rows) >= done + 3  # it waited its patience again before stopping
    assert json.loads((more / "config.json").read_text())["resumed_from"] == str(first)


def test_epoch_lines_stay_readable_whatever_the_size_of_the_numbers():
    from neurona.face.console import format_epoch

    line = format_epoch({"epoch": 3, "loss": 2.7e300, "sse": 1e-12, "accuracy": 0.5,
                         "val_loss": 12345678901.0, "val_accuracy": 0.25}, "log_loss")
    assert line == ("[3] log_loss: 2.700000e+300  sse: 1.000000e-12  accuracy: 0.5000  "
                    "val_log_loss: 1.234568e+10  val_accuracy: 0.2500")
    assert len(line) < 120
    # the post's numbers keep their fixed decimals
    assert format_epoch({"epoch": 0, "loss": 1745.026102, "sse": 318.73296,
                         "accuracy": 0.0257}, "log_loss", 2) == \
        "[ 0] log_loss: 1745.026102  sse: 318.732960  accuracy: 0.0257"
    # a diverging regression's R² is hugely negative: still one short line
    line = format_epoch({"epoch": 60, "loss": 6.46e300, "sse": 2.26e303, "r2": -4.19e302,
                         "val_loss": 1.0, "val_r2": 0.98765}, "squared_error")
    assert line == ("[60] squared_error: 6.460000e+300  sse: 2.260000e+303  r2: -4.1900e+302"
                    "  val_squared_error: 1.000000  val_r2: 0.9877")
