"""What neurona writes: files whole or not at all, run directories staged and renamed into place.

No file neurona writes is ever half-written: each is written to a temporary
file beside it and renamed over it (:func:`atomic_write_text`,
:func:`atomic_file`); a run directory is built in a hidden folder beside it
and renamed into place (:func:`reserve_run`, :func:`staged_directory`). An
existing run or output file is never replaced unless the user asked for it.

Who writes a run directory
--------------------------
A process that writes the run directory ``NAME`` holds the lock file
``.NAME.neurona-lock`` beside it from the moment it reserves the name until it
is done: an exclusive ``flock``, which the system releases when the process
ends, however it ends (even by SIGKILL). Its files are staged in
``.NAME.XXXXXXXX.partial`` beside it until they are renamed into place.
Names are chosen, and locks taken and cleaned, with the parent folder itself
locked, so two processes never reserve the same name.

A lock that nobody holds was left by a process that was killed. The next
process that reserves a run in the same folder removes it together with what
its owner left: the staging folder, the hidden temporary files inside the
run directory, and it puts back a run whose replacement (``--force``) was cut
short (:func:`clean_leftovers`; the caller says what it found). Staging
folders without a lock are left by a process that was killed too (a lock is
taken before a staging folder is made and given back after it is gone). On a
system without ``fcntl`` no lock is ever taken to be stale: leftovers stay.
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


# --- run directories: reserving a name, staging, committing ----------------------

RUN_MARKERS = ("model.json", "config.json")
LOCK_SUFFIX = ".neurona-lock"
STAGING_SUFFIX = ".partial"
REPLACED_SUFFIX = ".old"
#: The random part of a temporary name made by :mod:`tempfile` (``mkdtemp``, ``mkstemp``).
_TEMP_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


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


def lock_path(run: str | os.PathLike) -> Path:
    """The lock file beside the run directory ``run``: ``.NAME.neurona-lock``."""
    run = Path(run)
    return run.parent / f".{run.name}{LOCK_SUFFIX}"


class Reservation:
    """A run directory this process is writing: its name is held and its files are staged.

    Made by :func:`reserve_run`. Files are written to :attr:`directory`: the
    hidden staging folder until :meth:`commit` renames it into place, the run
    directory itself after. :meth:`close` (or the end of a ``with`` block)
    removes what was not committed and gives the name back.

    Attributes
    ----------
    path : Path
        The run directory.
    staging : Path
        The hidden folder its files are written to until :meth:`commit`.
    committed : bool
        Whether the run directory is in place.
    leftovers : list of Leftover
        What killed processes had left in the folder, removed while reserving.
    """

    def __init__(self, path: Path, staging: Path, lock: "_Lock", replace: bool,
                 made: list[Path], leftovers: list["Leftover"]):
        self.path = path
        self.staging = staging
        self.committed = False
        self.leftovers = leftovers
        self._lock = lock
        self._replace = replace
        self._made = made

    @property
    def directory(self) -> Path:
        """Where the run's files go now: the staging folder, or the run directory once committed."""
        return self.path if self.committed else self.staging

    def commit(self) -> Path:
        """Rename the staging folder into place: the run directory appears whole.

        An existing run directory is replaced only if the reservation was made
        with ``replace=True``; committing again does nothing.
        """
        if self.committed:
            return self.path
        final, old = self.path, None
        if self._replace and final.is_dir() and any(final.iterdir()):
            check_run_path(final, replace=True)
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=REPLACED_SUFFIX,
                                        dir=final.parent))
            os.replace(final, old / "run")
        try:
            os.rename(self.staging, final)  # replaces an empty directory, fails on a full one
        except OSError as exc:
            if old is not None:
                os.replace(old / "run", final)
                shutil.rmtree(old, ignore_errors=True)
            if final.exists():
                raise RunDirectoryError(f"{final} appeared while the run was being written; "
                                        f"choose another --out.") from None
            raise RunDirectoryError(f"cannot write the run directory {final}: "
                                    f"{exc.strerror or exc}.") from None
        self.committed = True
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def close(self) -> None:
        """Remove the staging folder unless committed, and give the name back."""
        if self._lock is None:
            return
        lock, self._lock = self._lock, None
        try:
            if not self.committed:
                shutil.rmtree(self.staging, ignore_errors=True)
        finally:
            lock.release()
        if not self.committed:
            for folder in reversed(self._made):  # the folders made for it, if still empty
                try:
                    folder.rmdir()
                except OSError:
                    break

    def __enter__(self) -> "Reservation":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def reserve_run(path: str | os.PathLike | None = None, *, root: str | os.PathLike = "runs",
                replace: bool = False, option: str | None = None) -> Reservation:
    """Hold a new run directory's name and make its staging folder, checking it can be written.

    Parameters
    ----------
    path : path-like, default=None
        The run directory; ``None``: a new one under ``root`` named after the
        current time (``YYYYmmdd-HHMMSS``, then ``-2``, ``-3``, ... when the name
        is taken by a run or held by a process writing one).
    root : path-like, default="runs"
        Where a run without ``path`` goes.
    replace : bool, default=False
        Whether an existing run directory at ``path`` may be replaced (at
        :meth:`Reservation.commit`; see :func:`check_run_path`).
    option : str, default=None
        The command-line option that gives ``path`` (``"--out"``), for the messages.

    Before anything is trained, this makes the folder (and its parents),
    refuses a path under a file, and writes the lock file there: a folder
    that does not accept a new file (read-only, full) is found now, and the
    error names ``path`` (or ``root``), never the staging folder. Stale
    leftovers of killed processes in the folder are removed first (see
    :class:`Reservation`'s ``leftovers``).
    """
    if path is not None:
        path = check_run_path(path, replace)
    folder = Path(root) if path is None else path.parent
    if path is not None:
        where = f"{option} {path}" if option else f"the run directory {path}"
        fix = f"choose another {option}" if option else "choose another directory"
    else:
        where = f"the default folder {folder}/"
        fix = (f"pass {option} DIR to write the run elsewhere" if option
               else "choose another folder")
    made = _make_folder(folder, where, fix)
    try:
        for attempt in range(5):
            with _folder_locked(folder):
                if not folder.is_dir():  # removed meanwhile by a run that failed: make it again
                    made += _make_folder(folder, where, fix)
                    continue
                leftovers = _clean(folder)
                if path is None:
                    final = _free_name(folder)
                else:
                    final = check_run_path(path, replace)
                    _refuse_if_held(final, f"or {fix}")
                lock = _Lock.take(final, where, fix)
                try:
                    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.",
                                                    suffix=STAGING_SUFFIX, dir=folder))
                    usual_mode(staging)
                except OSError as exc:
                    lock.release()
                    raise RunDirectoryError(_unwritable(where, folder, exc, fix)) from None
                except BaseException:
                    lock.release()
                    raise
                return Reservation(final, staging, lock, replace, made, leftovers)
        raise RunDirectoryError(f"cannot write {where}: its folder keeps disappearing; {fix}.")
    except BaseException:
        for made_folder in reversed(made):
            try:
                made_folder.rmdir()
            except OSError:
                break
        raise


@contextmanager
def held_run(path: str | os.PathLike) -> Iterator[Path]:
    """Hold the lock of the existing run directory ``path`` while files in it are rewritten.

    Refuses a run that another process is writing; takes over the lock of one
    that was killed (removing its leftovers).
    """
    path = Path(path)
    with _folder_locked(path.parent):
        _clean(path.parent, only=path.name)
        _refuse_if_held(path, "wait for it to finish")
        try:
            lock = _Lock.take(path, f"the run directory {path}", "check its permissions")
        except _Unwritable:  # a folder that takes no lock file: the run is rewritten unlocked
            lock = None
    try:
        yield path
    finally:
        if lock is not None:
            lock.release()


@contextmanager
def staged_directory(final: str | os.PathLike, replace: bool = False) -> Iterator[Path]:
    """Build a directory in a hidden sibling and move it to ``final`` at the end.

    The directory appears whole or not at all: an exception inside the
    ``with`` block removes the staging folder and leaves ``final`` untouched.
    With ``replace=True`` an existing run directory at ``final`` is swapped
    for the new one at the end (see :func:`check_run_path`). The name is held
    meanwhile (see :func:`reserve_run`).
    """
    with reserve_run(final, replace=replace) as reservation:
        yield reservation.staging
        reservation.commit()


def _free_name(folder: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = folder / stamp, 1
    while os.path.lexists(path) or os.path.lexists(lock_path(path)):
        n += 1
        path = folder / f"{stamp}-{n}"
    return path


def _refuse_if_held(run: Path, fix: str) -> None:
    lock = lock_path(run)
    if os.path.lexists(lock):  # stale locks were removed just before: this one is held
        raise RunDirectoryError(f"{run} is being written by another neurona process"
                                f"{_owner(lock)}; {fix}.")


def _make_folder(folder: Path, where: str, fix: str) -> list[Path]:
    """Make ``folder`` and its missing parents; return those made (top down)."""
    missing, existing = [], folder
    while not os.path.lexists(existing):
        missing.append(existing)
        existing = existing.parent
    if not existing.is_dir():
        raise RunDirectoryError(f"cannot write {where}: {existing} is a file, not a folder; "
                                f"{fix}.")
    made = []
    for child in reversed(missing):
        try:
            child.mkdir()
        except FileExistsError:
            if child.is_dir():
                continue
            raise RunDirectoryError(f"cannot write {where}: {child} is a file, not a folder; "
                                    f"{fix}.") from None
        except OSError as exc:
            for made_folder in reversed(made):
                try:
                    made_folder.rmdir()
                except OSError:
                    break
            raise RunDirectoryError(_unwritable(where, child.parent, exc, fix)) from None
        made.append(child)
    return made


def _unwritable(where: str, folder: Path, exc: OSError, fix: str) -> str:
    return (f"cannot write {where}: {folder} does not accept a new file or folder "
            f"({exc.strerror or exc}); {fix}.")


# --- locks ---------------------------------------------------------------------------

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system
    fcntl = None


@contextmanager
def _folder_locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` itself while choosing names or cleaning in it."""
    fd = None
    if fcntl is not None:
        try:
            fd = os.open(folder, os.O_RDONLY)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # no such folder yet, or a file system without locks
            pass
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)  # gives the lock back


class _Unwritable(RunDirectoryError):
    """The folder of a run directory does not take a new file."""


class _Lock:
    """The lock file of one run directory, created and locked by this process."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self.fd = fd

    @classmethod
    def take(cls, run: Path, where: str, fix: str) -> "_Lock":
        """Create ``run``'s lock file (it must not exist), lock it and write who holds it.

        Writing it is the check that the folder accepts a file; the error names ``where``.
        """
        path = lock_path(run)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise RunDirectoryError(f"{run} is being written by another neurona process"
                                    f"{_owner(path)}; {fix}.") from None
        except OSError as exc:
            raise _Unwritable(_unwritable(where, path.parent, exc, fix)) from None
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:  # a file system without locks: the file alone holds the name
                    pass
            started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            os.write(fd, f"pid {os.getpid()} started {started}\n".encode("ascii"))
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            os.unlink(path)
            raise _Unwritable(_unwritable(where, path.parent, exc, fix)) from None
        except BaseException:
            os.close(fd)
            os.unlink(path)
            raise
        return cls(path, fd)

    def release(self) -> None:
        """Remove the lock file, then unlock it (the order keeps the name held until gone)."""
        try:
            os.unlink(self.path)
        except OSError:
            pass
        finally:
            os.close(self.fd)


def _owner(lock: Path) -> str:
    """`` (pid N, started T)`` from a lock file, or nothing if it cannot be read."""
    try:
        words = lock.read_text(encoding="ascii", errors="replace").split()
    except OSError:
        return ""
    if len(words) >= 4 and words[0] == "pid" and words[2] == "started":
        return f" (pid {words[1]}, started {words[3]})"
    return ""


def _is_stale(lock: Path) -> bool:
    """Whether nobody holds the lock file ``lock``: the process that made it is gone."""
    if fcntl is None:
        return False
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:  # gone meanwhile, or not ours to judge
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held by a live process (or no locks on this file system)
            return False
        try:  # the file we locked is still the one at that path
            return os.path.samestat(os.fstat(fd), os.stat(lock))
        except OSError:
            return False
    finally:
        os.close(fd)


# --- leftovers of killed processes -----------------------------------------------------

class Leftover:
    """What a killed process left of the run directory ``run``, removed by :func:`clean_leftovers`.

    Attributes
    ----------
    run : Path
        The run directory it was writing; it exists if the process had
        renamed it into place (then it is a whole run, perhaps one still
        training or without its figures: its ``config.json`` says).
    removed : list of Path
        The hidden files and folders removed: its lock, its staging folder,
        temporary files inside ``run``.
    restored : bool
        Whether ``run`` was put back from a replacement (``--force``) that was
        cut short.
    """

    def __init__(self, run: Path, removed: list[Path], restored: bool = False):
        self.run = run
        self.removed = removed
        self.restored = restored

    def __repr__(self) -> str:
        return f"Leftover({str(self.run)!r}, removed={[str(p) for p in self.removed]!r})"


def clean_leftovers(folder: str | os.PathLike) -> list[Leftover]:
    """Remove what killed processes left in ``folder`` while writing runs; say what it was.

    Only the leftovers of a lock that nobody holds (see the module's
    docstring), or of staging folders without a lock, are touched; a run
    another process is writing now is left alone. :func:`reserve_run` does
    this before it reserves a name.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    with _folder_locked(folder):
        return _clean(folder)


def _split_hidden(entry: str, suffix: str) -> str | None:
    """``NAME`` from ``.NAME.XXXXXXXX<suffix>`` (a name ``tempfile`` made), else None."""
    if not (entry.startswith(".") and entry.endswith(suffix)):
        return None
    name, _, random = entry[1:-len(suffix)].rpartition(".")
    return name if name and random and set(random) <= _TEMP_CHARS else None


def _clean(folder: Path, only: str | None = None) -> list[Leftover]:
    """:func:`clean_leftovers`, with ``folder`` locked (and only for run ``only`` if given)."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    locks, hidden = set(), {}
    for entry in entries:
        if entry.startswith(".") and entry.endswith(LOCK_SUFFIX) and len(entry) > 1 + len(
                LOCK_SUFFIX):
            locks.add(entry[1:-len(LOCK_SUFFIX)])
            continue
        for suffix in (STAGING_SUFFIX, REPLACED_SUFFIX):
            name = _split_hidden(entry, suffix)
            if name is not None:
                hidden.setdefault(name, []).append(folder / entry)
    found = []
    for name in sorted(locks | set(hidden)):
        if only is not None and name != only:
            continue
        run = folder / name
        if name in locks and not _is_stale(lock_path(run)):
            continue  # its writer is alive
        removed, restored = [], False
        for path in sorted(hidden.get(name, ()), key=lambda p: p.name.endswith(STAGING_SUFFIX)):
            if path.name.endswith(REPLACED_SUFFIX) and (path / "run").is_dir() \
                    and not os.path.lexists(run):
                os.rename(path / "run", run)  # its replacement never got into place
                restored = True
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        if name in locks:
            if run.is_dir():
                removed += _clean_inside(run)
            lock_path(run).unlink(missing_ok=True)
            removed.append(lock_path(run))
        found.append(Leftover(run, removed, restored))
    return found


def _clean_inside(run: Path) -> list[Path]:
    """Remove the temporary files and report staging that a killed writer left in ``run``."""
    removed = []
    try:
        entries = sorted(os.listdir(run))
    except OSError:
        return removed
    for entry in entries:
        path = run / entry
        if _split_hidden(entry, ".tmp") is not None and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
        elif entry.startswith(".report.") and _split_hidden(entry, STAGING_SUFFIX) == "report":
            kept = path / "figures.old"  # the previous figures, moved aside to be replaced
            if kept.is_dir() and not os.path.lexists(run / "figures"):
                os.rename(kept, run / "figures")
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


# --- output files ----------------------------------------------------------

def check_output_path(path: str | os.PathLike, force: bool = False) -> Path:
    """Refuse an output file that exists (unless ``force``) or cannot be written.

    Its folder must exist and accept a new file: a probe file is written there
    and removed, so a read-only or full file system is found before any work.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputFileError(f"{path} is a directory; pass a file name for the output.")
    if path.exists() and not force:
        raise OutputFileError(f"{path} exists; pass --force to replace it, or choose "
                              f"another output file.")
    parent = path.parent
    if not parent.is_dir():
        what = " (it is a file)" if os.path.lexists(parent) else ""
        raise OutputFileError(f"cannot write {path}: the directory {parent} does not "
                              f"exist{what}.")
    if not os.access(parent, os.W_OK):
        raise OutputFileError(f"cannot write {path}: no permission to write in {parent}.")
    try:  # the permissions may allow it and the file system still refuse (read-only, full)
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
        try:
            os.write(fd, b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise OutputFileError(f"cannot write {path}: {parent} does not accept a new file "
                              f"({exc.strerror or exc}).") from None
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
