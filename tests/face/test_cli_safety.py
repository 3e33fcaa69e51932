"""``neurona train`` loses nothing: runs started together get their own directories, an
output that cannot be written is refused before training, SIGTERM stops like Ctrl-C, an
interruption while the figures are drawn keeps the run, and what a killed run left is
removed (and said) by the next one. Real signals to real processes."""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import neurona
from neurona import GracefulInterrupt, Neuron
from neurona.core.callbacks import Callback, History
from neurona.face.cli import main
from neurona.files import rundir

RUN_FILES = {"model.json", "history.csv", "report.txt", "config.json", "checkpoint.json",
             "weights.csv"}


def _start(cwd, *argv, code=None):
    """``neurona train ARGV`` in a process (``code``: Python to run first, in it)."""
    command = [sys.executable, "-m", "neurona", "train", *argv]
    if code is not None:
        command = [sys.executable, "-c", f"{code}\nimport sys\nfrom neurona.face.cli import "
                   f"main\nsys.exit(main({['train', *argv]!r}))"]
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))


def _wait_for(proc, found, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not found():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"never saw {what}; exit {proc.returncode}: {err[-2000:]}")
        time.sleep(0.002)


def _finish(proc, timeout=120):
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


def _hidden(folder):
    """Hidden entries in ``folder`` and in the folders inside it."""
    found = [p for p in folder.iterdir() if p.name.startswith(".")]
    for run in folder.iterdir():
        if run.is_dir() and not run.name.startswith("."):
            found += [p for p in run.iterdir() if p.name.startswith(".")]
    return found


def _loads_and_resumes(run, tmp_path):
    neurona.load(run / "model.json")
    History.from_csv((run / "history.csv").read_text())
    done = neurona.load_checkpoint(run / "checkpoint.json")["epoch"]
    assert main(["train", "--resume", str(run), "--epochs", str(done + 1), "--out",
                 str(tmp_path / f"resumed-{run.name}"), "--no-plots", "--quiet"]) == 0
    return done


# --- runs started in the same second ------------------------------------------------------

def test_runs_started_in_the_same_second_get_their_own_directories(tmp_path):
    # Both processes' clocks say the same second, whenever they start.
    clock = "import time; time.strftime = lambda fmt, *a: '20260101-120000'"
    procs = [_start(tmp_path, "--epochs", "50", "--no-plots", "--quiet", code=clock)
             for _ in range(2)]
    results = [_finish(p) for p in procs]
    assert [rc for rc, _, _ in results] == [0, 0], [err for _, _, err in results]
    assert sorted(os.listdir(tmp_path / "runs")) == ["20260101-120000", "20260101-120000-2"]
    for run in (tmp_path / "runs").iterdir():
        assert {p.name for p in run.iterdir()} == RUN_FILES


# --- outputs that cannot be written are refused before training --------------------------

@pytest.mark.parametrize("argv,pattern", [
    (["--out", "file/run"], r"^neurona train: error: cannot write --out file/run: file is a "
                            r"file, not a folder; choose another --out\.\n$"),
    (["--out", "file/a/b"], r"cannot write --out file/a/b: file is a file, not a folder"),
])
def test_a_run_under_a_file_is_refused_before_training(tmp_path, capsys, monkeypatch, argv,
                                                       pattern):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("x")
    assert main(["train", "--epochs", "3", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # not one epoch was trained
    assert __import__("re").search(pattern, captured.err), captured.err
    assert os.listdir(tmp_path) == ["file"]


def test_the_default_folder_being_a_file_names_it_and_the_option(tmp_path, capsys,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").write_text("x")
    assert main(["train", "--epochs", "3"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("neurona train: error: cannot write the default folder runs/: "
                            "runs is a file, not a folder; pass --out DIR to write the run "
                            "elsewhere.\n")


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs Linux's sysfs")
def test_a_read_only_folder_is_refused_before_training(capsys):
    # sysfs refuses a new file even to root, whom the permissions do not stop.
    assert main(["train", "--epochs", "3", "--out", "/sys/kernel/neurona-run"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("neurona train: error: cannot write --out "
                                   "/sys/kernel/neurona-run: /sys/kernel does not accept a "
                                   "new file or folder (")
    assert ".partial" not in captured.err and captured.err.count("\n") == 1


def test_a_full_disk_is_refused_before_training(tmp_path, capsys, monkeypatch):
    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(rundir.os, "write", full)  # the first thing written is the lock
    code = main(["train", "--epochs", "3", "--out", str(tmp_path / "run")])
    monkeypatch.undo()
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "does not accept a new file or folder (No space left on device); choose another " \
           "--out." in captured.err and ".partial" not in captured.err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs Linux's sysfs")
def test_predictions_to_a_read_only_folder_are_refused_before_predicting(tmp_path, capsys):
    assert main(["train", "--epochs", "3", "--out", str(tmp_path / "r"), "--no-plots",
                 "--quiet"]) == 0
    data = tmp_path / "new.csv"
    data.write_text("x0,x1\n1,2\n")
    assert main(["predict", "--model", str(tmp_path / "r"), "--data", str(data), "--out",
                 "/sys/kernel/p.csv"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neurona predict: error: cannot write /sys/kernel/p.csv: "
                          "/sys/kernel does not accept a new file (")


def test_predictions_under_a_file_say_so(tmp_path, capsys):
    assert main(["train", "--epochs", "3", "--out", str(tmp_path / "r"), "--no-plots",
                 "--quiet"]) == 0
    data = tmp_path / "new.csv"
    data.write_text("x0,x1\n1,2\n")
    assert main(["predict", "--model", str(tmp_path / "r"), "--data", str(data), "--out",
                 str(data / "p.csv")]) == 2
    assert "new.csv does not exist (it is a file)." in capsys.readouterr().err


# --- SIGTERM, and interruptions after training ---------------------------------------------

def test_sigterm_stops_like_ctrl_c_exits_143_and_writes_the_run(tmp_path):
    out = tmp_path / "run"
    proc = _start(tmp_path, "--epochs", "1000000", "--no-animation", "--out", str(out))
    first = proc.stdout.readline()  # training has started once an epoch is printed
    if not first.startswith("[     0]"):
        proc.kill()
        pytest.fail(first + proc.communicate()[1])
    proc.send_signal(signal.SIGTERM)
    code, stdout, stderr = _finish(proc)
    assert code == 143, stderr
    assert "interrupted at epoch" in stderr and f"--resume {out}" in stderr
    assert f"the figures were not drawn; draw them with: neurona report {out}" in stderr
    assert "Traceback" not in stderr
    assert {p.name for p in out.iterdir()} == RUN_FILES  # no figures: SIGTERM means now
    config = json.loads((out / "config.json").read_text())
    assert (config["status"], config["figures"]) == ("interrupted", "interrupted")
    assert json.loads((out / "checkpoint.json").read_text())["status"] == "interrupted"
    assert list(tmp_path.iterdir()) == [out]
    _loads_and_resumes(out, tmp_path)
    assert main(["report", str(out), "--no-animation", "--quiet"]) == 0
    assert json.loads((out / "config.json").read_text())["figures"] == "drawn"
    assert (out / "report.html").is_file() and (out / "figures" / "loss.png").is_file()


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interruption_while_the_figures_are_drawn_keeps_the_run(tmp_path, signum, code):
    out = tmp_path / "run"
    proc = _start(tmp_path, "--epochs", "200", "--no-animation", "--out", str(out))
    # The figures are being drawn once their staging folder appears.
    _wait_for(proc, lambda: any(d.startswith(".report.") for _, dirs, _ in os.walk(tmp_path)
                                for d in dirs), "the figures")
    proc.send_signal(signum)
    rc, stdout, stderr = _finish(proc)
    assert rc == code, stderr
    assert "Traceback" not in stderr
    assert stderr == (f"neurona train: interrupted after training; the run is complete in "
                      f"{out} but for its figures; draw them with: neurona report {out}\n")
    assert f"Run written to {out}" in stdout
    assert {p.name for p in out.iterdir()} == RUN_FILES
    config = json.loads((out / "config.json").read_text())
    assert (config["status"], config["figures"]) == ("finished", "interrupted")
    assert list(tmp_path.iterdir()) == [out]
    assert _loads_and_resumes(out, tmp_path) == 200


def test_graceful_interrupt_alone_stops_training_on_sigterm():
    class Terminate(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    interrupt = GracefulInterrupt()
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    history = neurona.train(Neuron.random(2, 0), X, np.array([1, 0, 1, 0]), epochs=1000,
                            callbacks=[interrupt, Terminate()])
    assert interrupt.interrupted and interrupt.exit_status == 143
    assert 3 <= len(history) < 10
    assert signal.getsignal(signal.SIGTERM) == before


# --- what killed runs leave ------------------------------------------------------------------

def test_the_next_run_removes_and_reports_what_a_killed_run_left(tmp_path, capsys,
                                                                 monkeypatch):
    runs = tmp_path / "runs"
    placed = _start(tmp_path, "--epochs", "1000000", "--checkpoint-every", "100",
                    "--no-plots", "--quiet", "--out", "runs/placed")
    staged = _start(tmp_path, "--epochs", "1000000", "--no-plots", "--quiet")
    _wait_for(placed, lambda: (runs / "placed" / "checkpoint.json").is_file(),
              "the first checkpoint")
    _wait_for(staged, lambda: any(p.name.endswith(".partial") for p in runs.iterdir()),
              "the staging folder")
    time.sleep(0.3)
    for proc in (placed, staged):
        proc.kill()
        _finish(proc)
    assert len(_hidden(runs)) >= 3  # two locks, a staging folder
    before = {p.name: p.read_bytes() for p in (runs / "placed").iterdir()
              if not p.name.startswith(".")}  # a kill in a write leaves a temporary file

    monkeypatch.chdir(tmp_path)
    assert main(["train", "--epochs", "3", "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("neurona train: removed what killed runs had left: runs/.")
    assert ("runs/placed was killed while training, after its checkpoint of epoch "
            in err and "; continue it with: neurona train --resume runs/placed\n" in err)
    assert _hidden(runs) == []
    assert {p.name: p.read_bytes() for p in (runs / "placed").iterdir()} == before
    assert json.loads((runs / "placed" / "config.json").read_text())["status"] == "running"
    assert _loads_and_resumes(runs / "placed", tmp_path) % 100 == 0

    assert main(["train", "--epochs", "3", "--no-plots"]) == 0  # said once only
    assert capsys.readouterr().err == ""


def test_a_run_being_written_is_left_alone(tmp_path, capsys, monkeypatch):
    runs = tmp_path / "runs"
    live = _start(tmp_path, "--epochs", "1000000", "--checkpoint-every", "200",
                  "--no-plots", "--quiet", "--out", "runs/live")
    try:
        _wait_for(live, lambda: (runs / "live" / "checkpoint.json").is_file(),
                  "the first checkpoint")
        monkeypatch.chdir(tmp_path)
        assert main(["train", "--epochs", "3", "--no-plots", "--quiet"]) == 0
        assert main(["report", "runs/live"]) == 2
        err = capsys.readouterr().err
        assert err == (f"neurona report: error: runs/live is being written by another neurona "
                       f"process (pid {live.pid}, started {err.split('started ')[1][:24]}); "
                       f"wait for it to finish.\n")
        assert (runs / ".live.neurona-lock").is_file()
        live.send_signal(signal.SIGINT)
        rc, _, stderr = _finish(live)
        assert rc == 130, stderr
    finally:
        if live.poll() is None:
            live.kill()
            _finish(live)
    assert _hidden(runs) == []
    assert {p.name for p in (runs / "live").iterdir()} == RUN_FILES
    assert json.loads((runs / "live" / "config.json").read_text())["status"] == "interrupted"
