"""What neurona writes: files whole or not at all, run directories staged and renamed into place.

No file neurona writes is ever half-written: each is written to a temporary
file beside it and renamed over it (:func:`atomic_write_text`,
:func:`atomic_file`); a run directory is built in a temporary folder beside it
and renamed into place (:func:`staged_directory`). An existing run or output
file is never replaced unless the user asked for it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import OutputFileError, RunDirectoryError


def usual_mode(path: str | os.PathLike) -> None:
    """Give a temporary file or folder the permissions of a normally created one.

    ``mkstemp`` and ``mkdtemp`` make them private (0600, 0700) and a rename
    keeps that; a user's files should follow their umask like any other.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if os.path.isdir(path) else 0o666) & ~umask)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (temporary file, then rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        usual_mode(tmp)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- run directories -------------------------------------------------------

def new_run_path(root: str | os.PathLike = "runs") -> Path:
    """A path under ``root`` that does not exist yet, named after the current time."""
    root = Path(root)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = root / stamp, 1
    while path.exists():
        n += 1
        path = root / f"{stamp}-{n}"
    return path


RUN_MARKERS = ("model.json", "config.json")


def check_run_path(path: str | os.PathLike, replace: bool = False) -> Path:
    """Refuse a run directory path that holds anything already.

    With ``replace=True`` an existing run directory (one holding a
    ``model.json`` or ``config.json``) may be replaced; any other non-empty
    directory is still refused.
    """
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise RunDirectoryError(f"{path} exists and is not a directory; choose another --out.")
        if any(path.iterdir()):
            if replace and any((path / m).is_file() for m in RUN_MARKERS):
                return path
            if replace:
                raise RunDirectoryError(
                    f"{path} holds files but is not a neurona run directory, so --force does "
                    f"not replace it; choose another --out.")
            raise RunDirectoryError(
                f"{path} already holds files and neurona never overwrites a run; "
                f"choose another --out or remove it (or pass --force to replace a run).")
    return path


@contextmanager
def staged_directory(final: str | os.PathLike, replace: bool = False) -> Iterator[Path]:
    """Build a directory in a temporary sibling and move it to ``final`` at the end.

    The directory appears whole or not at all: an exception inside the
    ``with`` block removes the temporary folder and leaves ``final`` untouched.
    With ``replace=True`` an existing run directory at ``final`` is swapped
    for the new one at the end (see :func:`check_run_path`).
    """
    final = check_run_path(final, replace)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))
    try:
        usual_mode(tmp)
        yield tmp
        old = None
        if replace and final.is_dir() and any(final.iterdir()):
            check_run_path(final, replace)
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old",
                                        dir=final.parent))
            os.replace(final, old / "run")
        try:
            os.rename(tmp, final)  # replaces an empty directory, fails on a full one
        except OSError:
            if old is not None:
                os.replace(old / "run", final)
                shutil.rmtree(old, ignore_errors=True)
            raise RunDirectoryError(
                f"{final} appeared while the run was being written; choose another --out."
            ) from None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --- output files ----------------------------------------------------------

def check_output_path(path: str | os.PathLike, force: bool = False) -> Path:
    """Refuse an output file that exists (unless ``force``) or cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise OutputFileError(f"{path} is a directory; pass a file name for the output.")
    if path.exists() and not force:
        raise OutputFileError(f"{path} exists; pass --force to replace it, or choose "
                              f"another output file.")
    parent = path.parent
    if not parent.is_dir():
        raise OutputFileError(f"cannot write {path}: the directory {parent} does not exist.")
    if not os.access(parent, os.W_OK):
        raise OutputFileError(f"cannot write {path}: no permission to write in {parent}.")
    return path


@contextmanager
def atomic_file(path: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` at the end.

    The output appears whole or not at all: an exception inside the ``with``
    block removes the temporary file and leaves an existing ``path``
    untouched. An existing file is refused unless ``force``.
    """
    path = check_output_path(path, force)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputFileError(f"cannot write {path}: {exc.strerror or exc}.") from None
    os.close(fd)
    try:
        usual_mode(tmp)
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
