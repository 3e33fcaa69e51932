"""Reserving run directories: names that never collide, locks held for a writer's life,
what killed writers leave behind, and the checks that an output can be written."""

import errno
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import neurona
from neurona import Checkpoint, Neuron
from neurona.errors import OutputFileError, RunDirectoryError
from neurona.files import rundir


def _hidden(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def fixed_clock(monkeypatch):
    """Every run name is made in the same second."""
    monkeypatch.setattr(rundir.time, "strftime", lambda fmt, *a: "20260101-120000")


def test_reservations_in_the_same_second_get_their_own_names(tmp_path, fixed_clock):
    with rundir.reserve_run(root=tmp_path) as a, rundir.reserve_run(root=tmp_path) as b:
        assert (a.path.name, b.path.name) == ("20260101-120000", "20260101-120000-2")
        assert not a.path.exists() and not b.path.exists()  # nothing visible yet
        (b.directory / "model.json").write_text("{}")
        b.commit()
        assert (b.path / "model.json").is_file() and b.directory == b.path
    # Given back: names in use by a run stay taken, the others are free again.
    with rundir.reserve_run(root=tmp_path) as c:
        assert c.path.name == "20260101-120000"
    assert os.listdir(tmp_path) == ["20260101-120000-2"]


def test_a_held_name_is_refused_to_another_writer(tmp_path):
    with rundir.reserve_run(tmp_path / "run"):
        with pytest.raises(RunDirectoryError, match=r"run is being written by another "
                                                    rf"neurona process \(pid {os.getpid()}"):
            rundir.reserve_run(tmp_path / "run", option="--out")
        with pytest.raises(RunDirectoryError, match="being written"):
            with rundir.held_run(tmp_path / "run"):
                pass
        assert rundir.clean_leftovers(tmp_path) == []  # alive: nothing is touched
        assert len(_hidden(tmp_path)) == 2  # its lock and its staging folder
    assert list(tmp_path.iterdir()) == []


def test_a_failed_reservation_removes_the_folders_it_made(tmp_path):
    with rundir.reserve_run(tmp_path / "a" / "b" / "run"):
        pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where,option,pattern", [
    ("file/run", "--out", r"cannot write --out .*file/run: .*file is a file, not a folder; "
                          r"choose another --out\.$"),
    ("file/deeper/run", "--out", r"file is a file, not a folder"),
    ("file/run", None, r"cannot write the run directory .*file/run: .*file is a file"),
])
def test_a_run_under_a_file_is_refused_at_once(tmp_path, where, option, pattern):
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunDirectoryError, match=pattern):
        rundir.reserve_run(tmp_path / where, option=option)
    assert sorted(os.listdir(tmp_path)) == ["file"]


def test_the_default_folder_being_a_file_is_refused(tmp_path):
    (tmp_path / "runs").write_text("x")
    with pytest.raises(RunDirectoryError, match=r"cannot write the default folder .*runs/: "
                                                r".*runs is a file, not a folder; pass --out "
                                                r"DIR to write the run elsewhere"):
        rundir.reserve_run(root=tmp_path / "runs", option="--out")


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs Linux's sysfs")
def test_a_folder_that_refuses_files_is_found_before_anything_is_written():
    # sysfs refuses new files even to root, whom permissions do not stop.
    with pytest.raises(RunDirectoryError, match=r"cannot write --out /sys/kernel/run: "
                                                r"/sys/kernel does not accept a new file"):
        rundir.reserve_run("/sys/kernel/run", option="--out")


def test_a_full_disk_is_found_when_the_lock_is_written(tmp_path, monkeypatch):
    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(rundir.os, "write", full)
    with pytest.raises(RunDirectoryError, match=r"cannot write --out .*run: .* does not "
                                                r"accept a new file or folder \(No space left"):
        rundir.reserve_run(tmp_path / "run", option="--out")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_an_output_file_on_a_full_disk_is_refused_before_any_work(tmp_path, monkeypatch):
    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(rundir.os, "write", full)
    with pytest.raises(OutputFileError, match=r"cannot write .*p\.csv: .* does not accept a "
                                              r"new file \(No space left on device\)"):
        rundir.check_output_path(tmp_path / "p.csv")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def _killed_while_writing(folder, code):
    """Run ``code`` (which reserves a run in ``folder``) in a process that SIGKILLs itself."""
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from neurona.files import rundir
        folder = Path({str(folder)!r})
    """) + textwrap.dedent(code) + "\nos.kill(os.getpid(), signal.SIGKILL)\n"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr


def test_what_a_killed_writer_left_is_removed_and_said(tmp_path):
    folder = tmp_path / "runs"
    _killed_while_writing(folder, """
        staged = rundir.reserve_run(folder / "staged")
        (staged.staging / "model.json").write_text("half")
        placed = rundir.reserve_run(folder / "placed")
        (placed.staging / "model.json").write_text("{}")
        placed.commit()
        (placed.path / ".history.csv.abcd1234.tmp").write_text("half")
        (placed.path / ".report.abcd1234.partial").mkdir()
    """)
    assert len(_hidden(folder)) == 3  # two locks, one staging folder
    with rundir.reserve_run(folder / "live") as live:  # cleans up first
        found = live.leftovers
        assert rundir.clean_leftovers(folder) == []  # a live writer is left alone
        assert len(_hidden(folder)) == 2
        assert all(p.startswith(".live.") for p in _hidden(folder))
    assert sorted(f.run.name for f in found) == ["placed", "staged"]
    placed = next(f for f in found if f.run.name == "placed")
    assert sorted(p.name for p in placed.removed) == [
        ".history.csv.abcd1234.tmp", ".placed.neurona-lock", ".report.abcd1234.partial"]
    assert os.listdir(folder / "placed") == ["model.json"]
    assert sorted(os.listdir(folder)) == ["placed"]
    assert rundir.clean_leftovers(folder) == []


def test_a_replacement_cut_short_puts_the_old_run_back(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / "run").mkdir()
    (folder / "run" / "model.json").write_text("old")
    _killed_while_writing(folder, """
        r = rundir.reserve_run(folder / "run", replace=True)
        (r.staging / "model.json").write_text("new")
        old = folder / ".run.abcd1234.old"
        old.mkdir()
        os.replace(folder / "run", old / "run")  # what commit does first
    """)
    assert not (folder / "run").exists()
    [found] = rundir.clean_leftovers(folder)
    assert found.restored
    assert (folder / "run" / "model.json").read_text() == "old"
    assert os.listdir(folder) == ["run"]


def test_a_staged_directory_replaces_a_run_only_when_asked(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "model.json").write_text("old")
    with pytest.raises(RunDirectoryError, match="never overwrites"):
        with rundir.staged_directory(tmp_path / "run"):
            pass
    with rundir.staged_directory(tmp_path / "run", replace=True) as tmp:
        (tmp / "model.json").write_text("new")
    assert (tmp_path / "run" / "model.json").read_text() == "new"
    assert os.listdir(tmp_path) == ["run"]


def test_checkpoint_callback_makes_its_folder(tmp_path):
    # The README's example: Checkpoint("run/checkpoint.json", every=50), run/ not there yet.
    path = tmp_path / "not" / "yet" / "checkpoint.json"
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    y = np.array([1, 0, 1, 0])
    neuron = Neuron.random(2, 0)
    neurona.train(neuron, X, y, epochs=120, learning_rate=0.1,
                  callbacks=[Checkpoint(path, every=50)])
    checkpoint = neurona.load_checkpoint(path)
    assert checkpoint["epoch"] == 120 and checkpoint["status"] == "finished"
    again = Neuron.random(2, 0)
    neurona.train(again, X, y, epochs=130, learning_rate=0.1, resume=path)
    assert len(checkpoint["history"]) == 120
