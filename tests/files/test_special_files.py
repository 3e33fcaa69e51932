"""A named pipe, a device or /dev/stdin given where neurona expects a file is refused at once.

Opening a FIFO for reading waits for a writer, and reading a terminal waits
for input: neurona checks that a path is a regular file (opened without
blocking) before it reads. Each case runs in a subprocess with a timeout, so
a reader that would block fails the test instead of hanging it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import neurona
from neurona.face.cli import main

TIMEOUT = 20
SRC = str(Path(neurona.__file__).resolve().parents[1])

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


def _python(code: str, *args: str, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter importing this neurona; fail after TIMEOUT s."""
    env = dict(os.environ, PYTHONPATH=SRC, MPLBACKEND="Agg")
    process = subprocess.Popen([sys.executable, "-c", code, *args], stdin=stdin,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                               text=True)
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"blocked for {TIMEOUT} s on a special file: {args}")
    return subprocess.CompletedProcess(args, process.returncode, out, err)


CLI = "import sys; from neurona.face.cli import main; sys.exit(main(sys.argv[1:]))"


def _command(*argv: str, stdin=subprocess.DEVNULL) -> str:
    """Run the command; expect exit status 2 and one line on stderr, which is returned."""
    done = _python(CLI, *argv, stdin=stdin)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    return done.stderr


@pytest.fixture()
def fifo(tmp_path):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("special") / "run"
    assert main(["train", "--out", str(out), "--no-plots", "--quiet", "--epochs", "2"]) == 0
    return out


def test_a_fifo_as_data_file(tmp_path, fifo, run_dir):
    err = _command("train", "--data", str(fifo), "--target", "y", "--out",
                   str(tmp_path / "run"), "--no-plots")
    assert f"{fifo}: not a regular file (a named pipe)" in err
    err = _command("predict", "--model", str(run_dir), "--data", str(fifo))
    assert f"{fifo}: not a regular file (a named pipe)" in err
    err = _command("evaluate", "--model", str(run_dir), "--data", str(fifo), "--target", "y")
    assert f"{fifo}: not a regular file (a named pipe)" in err
    assert not (tmp_path / "run").exists()


def test_dev_stdin_as_data_file(tmp_path, run_dir):
    """Standard input an open pipe that nothing is written to: reading it would wait."""
    if not Path("/dev/stdin").exists():
        pytest.skip("no /dev/stdin")
    err = _command("predict", "--model", str(run_dir), "--data", "/dev/stdin",
                   stdin=subprocess.PIPE)
    assert "/dev/stdin" in err  # no suffix: an unknown type, refused before it is opened
    link = tmp_path / "stdin.csv"
    link.symlink_to("/dev/stdin")
    err = _command("predict", "--model", str(run_dir), "--data", str(link),
                   stdin=subprocess.PIPE)
    assert f"{link}: not a regular file" in err


def test_a_fifo_as_model_file(tmp_path, run_dir):
    model = tmp_path / "model.json"
    os.mkfifo(model)
    err = _command("predict", "--model", str(model), "--data", str(tmp_path / "x.csv"))
    assert f"{model}: not a regular file (a named pipe), so not a model file" in err
    done = _python("import sys, neurona; neurona.load(sys.argv[1])", str(model))
    assert done.returncode == 1 and "ModelFileError" in done.stderr
    assert "not a regular file (a named pipe)" in done.stderr


def test_a_fifo_as_checkpoint(tmp_path):
    checkpoint = tmp_path / "checkpoint.json"
    os.mkfifo(checkpoint)
    done = _python("import sys, neurona; neurona.load_checkpoint(sys.argv[1])",
                   str(checkpoint))
    assert done.returncode == 1 and "NeuronaError" in done.stderr
    assert f"{checkpoint}: not a regular file (a named pipe), so not a checkpoint" \
        in done.stderr


@pytest.mark.parametrize("name", ["config.json", "model.json", "history.csv", "weights.csv",
                                  "checkpoint.json"])
def test_a_fifo_in_a_run_directory(tmp_path, run_dir, name):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / name).unlink()
    os.mkfifo(copy / name)
    if name == "checkpoint.json":
        err = _command("train", "--resume", str(copy), "--epochs", "3", "--out",
                       str(tmp_path / "more"), "--no-plots")
    else:
        err = _command("report", str(copy), "--no-animation")
    assert f"{copy / name}: not a regular file (a named pipe)" in err


def test_a_device_is_refused_too(run_dir):
    err = _command("predict", "--model", "/dev/null", "--data", "x.csv")
    assert "/dev/null: not a regular file (a character device)" in err
