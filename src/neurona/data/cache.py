"""The binary cache of a data file's parsed rows: features, targets, positions, block by block.

A streamed run parses its file once (:class:`neurona.data.filestream.FileStream`)
and writes what the parse gave into a cache file; every later pass (the
epochs, the test report, ``neurona report``, later runs) reads the cache
instead of the text, at the speed of the disk or of the page cache.

**Where.** In one folder: ``--cache-dir``, else the ``NEURONA_CACHE_DIR``
environment variable, else ``$XDG_CACHE_HOME/neurona`` (``~/.cache/neurona``).
One cache file per data file and reading options (its name is a digest of the
file's absolute path and the options), created readable by its owner only.

**When it is reused.** A cache records the data file's identity when it was
parsed (size, modification and change times in nanoseconds, inode, and a
digest of its first and last 64 KiB) and the reading options; a cache whose
file or options differ is not read, and is rebuilt. ``os.stat``'s change
time moves with every write to the file, even one that puts its modification
time back.

**Its layout** (little-endian)::

    16 bytes     MAGIC
    blocks       each 64-byte aligned: X (rows x features, float32 or float64,
                 C order), y (rows, float64), positions (rows, int64, only for
                 a block some of whose rows were left out)
    dropped      the positions of the rows left out (int64), if any
    header       JSON: the blocks (offset, rows, first position, positions
                 stored?, CRC-32), what the rows are (the reader's ``meta``),
                 the source and the options
    16 bytes     BLAKE2b-128 of the header
    8 bytes      the header's length
    16 bytes     END

Each block carries the CRC-32 of its bytes. :meth:`CachedRows.blocks` checks
them (``verify=True``) in the first pass of a run that reads a cache,
so a cache cut short or changed is found (:class:`CacheDamaged`) and rebuilt;
the header is checked every time the cache is opened. A cache is written
under a temporary name in its folder and renamed into place once complete,
so it is whole or absent; nothing in it is ever unpickled.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import time
import weakref
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

#: The environment variable naming the cache folder.
CACHE_ENV = "NEURONA_CACHE_DIR"
SUFFIX = ".ncache"
MAGIC = b"neurona-cache-1\n"
END = b"\nneurona-cache-\n"
FORMAT = 1
ALIGN = 64
#: Bytes of the data file's beginning and end whose digest identifies it with its stat.
SAMPLE_BYTES = 1 << 16
#: The largest header read back (a bigger one is a damaged cache).
MAX_HEADER = 64 << 20
_TAIL = 16 + 8 + len(END)
_TEMP = ".tmp"
#: The cache file is reserved on disk this many bytes ahead of what is written: a
#: file that grows a write at a time makes the file system find room write by
#: write (on ext4, 0.5 to 0.8 GB/s here, against 2 to 6 GB/s reserved ahead).
RESERVE = 64 << 20


class CacheDamaged(Exception):
    """A cache file that is cut short, changed, or not a cache: it is rebuilt."""


def default_dir() -> Path:
    """``NEURONA_CACHE_DIR``, else ``$XDG_CACHE_HOME/neurona``, else ``~/.cache/neurona``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "neurona"


def cache_dir(setting) -> Path | None:
    """The cache folder a ``cache`` setting names: ``True`` (or None) the default folder
    (:func:`default_dir`), a path that folder, ``False`` no cache (None)."""
    if setting is False:
        return None
    if setting is None or setting is True:
        return default_dir()
    return Path(setting).expanduser()


def _digest(*parts) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part)
    return h.hexdigest()


def _checksum(*parts) -> str:
    """The CRC-32 of ``parts`` one after the other (a block's checksum: it reads at several
    GB/s, so a cache is checked in a fraction of the time its text takes to parse)."""
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    return f"{crc:08x}"


def source_identity(path) -> dict:
    """What identifies the contents of the data file at ``path`` (see the module's notes)."""
    path = Path(path)
    st = path.stat()
    with open(path, "rb") as f:
        head = f.read(SAMPLE_BYTES)
        if st.st_size > 2 * SAMPLE_BYTES:
            f.seek(st.st_size - SAMPLE_BYTES)
        tail = f.read(SAMPLE_BYTES)
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "ctime_ns": st.st_ctime_ns, "inode": st.st_ino, "sample": _digest(head, tail)}


def cache_name(options: dict) -> str:
    """The file name of the cache for these reading ``options`` (with the data file's path)."""
    return _digest(_canonical(options).encode()) + SUFFIX


def _canonical(doc) -> str:
    return json.dumps(doc, sort_keys=True, allow_nan=False, separators=(",", ":"))


def _pad(offset: int) -> int:
    return -offset % ALIGN


class CacheWriter:
    """A cache file being written: blocks of rows, then :meth:`commit` (or :meth:`abort`).

    The bytes are written, and their CRC-32 computed, by a thread of the writer's
    own while the caller parses the next block (both release the GIL); at most
    :data:`PENDING` blocks wait for it, so the arrays handed to :meth:`add` must
    not change afterwards. The file is not synced to the disk: a cache torn by a
    crash fails its checks when it is next read, and is rebuilt.

    Parameters
    ----------
    path : Path
        Where the cache goes; it is written as a hidden temporary file next to
        it and renamed there by :meth:`commit`.
    dtype : {"float32", "float64"}
        The features' type.
    n_features : int
    """

    #: Blocks handed to the writing thread and not yet written, at most.
    PENDING = 4

    def __init__(self, path: Path, dtype, n_features: int):
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.n_features = int(n_features)
        self.temp = temp_path(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.aborted = False
        self.offset = 0
        self.reserved = 0  # bytes of the file reserved on disk (None where it cannot be)
        self.blocks: list = []   # [offset, rows, first position, positions?, CRC-32 (future)]
        self.dropped = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="neurona-cache")
        self._waiting: deque = deque()
        try:
            self._write(MAGIC)
        except OSError:
            self.abort()
            raise

    def _reserve(self, end: int) -> None:
        """Reserve the file's room up to ``end`` at least, :data:`RESERVE` at a time,
        where the system can (``posix_fallocate``; a file system that cannot is written
        as it comes)."""
        if self.reserved is None or end <= self.reserved:
            return
        size = max(RESERVE, end - self.reserved)
        try:
            os.posix_fallocate(self._fd, self.reserved, size)
        except AttributeError:  # no posix_fallocate on this system
            self.reserved = None
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise  # the disk is full: the cache is not written
            self.reserved = None
        else:
            self.reserved += size

    def _write(self, *parts) -> tuple[int, Future]:
        """Hand ``parts`` (arrays or bytes) to the writing thread, to go one after the other
        at the next aligned offset; that offset, and the future of their CRC-32."""
        views = [memoryview(p if isinstance(p, bytes) else np.ascontiguousarray(p)).cast("B")
                 for p in parts]
        start = self.offset + _pad(self.offset)
        self.offset = start + sum(v.nbytes for v in views)
        self._reserve(self.offset)
        crc = self._thread.submit(_put, self._fd, start, views)
        self._waiting.append(crc)
        while self._waiting and (len(self._waiting) > self.PENDING or self._waiting[0].done()):
            self._waiting.popleft().result()  # a failed write raises here
        return start, crc

    def add(self, X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> None:
        """One block: its features (``dtype``), targets (float64) and rows' positions (stored
        only when they are not consecutive)."""
        n = len(y)
        if not n:
            return
        X = np.asarray(X, dtype=self.dtype)
        if X.shape != (n, self.n_features):
            raise ValueError(f"a block of shape {X.shape} in a cache of {self.n_features} "
                             f"features and {n} rows")
        rows = np.asarray(rows, dtype=np.int64)
        row0 = int(rows[0])
        consecutive = int(rows[-1]) - row0 == n - 1 and bool(np.all(np.diff(rows) == 1))
        arrays = [X, np.asarray(y, dtype=np.float64)]
        if not consecutive:
            arrays.append(rows)
        offset, digest = self._write(*arrays)
        self.blocks.append([offset, n, row0, not consecutive, digest])

    def set_dropped(self, dropped: np.ndarray) -> None:
        """The positions of the rows left out (missing values)."""
        if len(dropped):
            offset, digest = self._write(np.asarray(dropped, dtype=np.int64))
            self.dropped = [offset, len(dropped), digest]

    def commit(self, header: dict) -> Path:
        """Wait for the writes, write the header and rename the file into place; return its
        path."""
        while self._waiting:
            self._waiting.popleft().result()
        self._thread.shutdown()
        for entry in self.blocks + ([self.dropped] if self.dropped else []):
            entry[-1] = entry[-1].result()
        doc = dict(header, format=FORMAT, dtype=self.dtype.name, n_features=self.n_features,
                   blocks=self.blocks, dropped=self.dropped,
                   created=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        text = _canonical(doc).encode()
        tail = text + bytes.fromhex(_digest(text)) + len(text).to_bytes(8, "little") + END
        _put(self._fd, self.offset, [memoryview(tail)])
        if self.reserved:  # the room reserved and not used goes
            os.ftruncate(self._fd, self.offset + len(tail))
        os.close(self._fd)
        self._fd = None
        os.replace(self.temp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the file being written (again: nothing)."""
        self.aborted = True
        self._thread.shutdown(wait=True, cancel_futures=True)
        try:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
        finally:
            try:
                os.unlink(self.temp)
            except FileNotFoundError:
                pass


def _put(fd: int, offset: int, views: list) -> str:
    """Write ``views`` one after the other at ``offset`` of ``fd``; their CRC-32."""
    crc = 0
    for view in views:
        crc = zlib.crc32(view, crc)
        done = 0
        while done < view.nbytes:
            done += os.pwrite(fd, view[done:], offset + done)
        offset += view.nbytes
    return f"{crc:08x}"


def temp_path(path: Path) -> Path:
    """A hidden temporary name next to ``path``, holding this process's id."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{_TEMP}")


def temp_owner(path: Path) -> int | None:
    """The process id a temporary name holds (None for any other name)."""
    parts = path.name.split(".")
    if not (path.name.startswith(".") and path.name.endswith(_TEMP) and len(parts) >= 5):
        return None
    try:
        return int(parts[-3])
    except ValueError:
        return None


def _read_at(fd: int, size: int, offset: int) -> bytes:
    data = os.pread(fd, size, offset)
    while len(data) < size:
        more = os.pread(fd, size - len(data), offset + len(data))
        if not more:
            raise CacheDamaged("the file is shorter than its header says")
        data += more
    return data


def _read_into(fd: int, array: np.ndarray, offset: int) -> None:
    view = memoryview(array).cast("B")
    done = 0
    while done < view.nbytes:
        n = os.preadv(fd, [view[done:]], offset + done)
        if n <= 0:
            raise CacheDamaged("the file is shorter than its header says")
        done += n


class CachedRows:
    """A cache file opened for reading; its header checked (else :class:`CacheDamaged`).

    The file stays open while the object lives, so a cache replaced meanwhile by
    another run is not mixed with this one.

    Attributes
    ----------
    header : dict
        The cache's header (``meta``, ``source``, ``options``, ``blocks``, ...).
    dtype : numpy.dtype
    n_features, n_rows : int
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise CacheDamaged(f"cannot be opened ({exc.strerror or exc})") from None
        self._closer = weakref.finalize(self, os.close, self._fd)
        try:
            self.header = self._read_header()
        except CacheDamaged:
            self.close()
            raise

    def close(self) -> None:
        self._closer()

    def _read_header(self) -> dict:
        size = os.fstat(self._fd).st_size
        if size < len(MAGIC) + _TAIL or _read_at(self._fd, len(MAGIC), 0) != MAGIC:
            raise CacheDamaged("not a neurona cache (or cut short)")
        tail = _read_at(self._fd, _TAIL, size - _TAIL)
        digest, length, end = tail[:16], int.from_bytes(tail[16:24], "little"), tail[24:]
        if end != END or not 0 < length <= min(MAX_HEADER, size - len(MAGIC) - _TAIL):
            raise CacheDamaged("its end is missing (cut short?)")
        data_end = size - _TAIL - length
        text = _read_at(self._fd, length, data_end)
        if bytes.fromhex(_digest(text)) != digest:
            raise CacheDamaged("its header does not match its checksum")
        try:
            header = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            raise CacheDamaged("its header is not valid JSON") from None
        self._check(header, data_end)
        return header

    def _check(self, header, data_end: int) -> None:
        """The header's layout is one of this format, inside the file's data."""
        def fail(what):
            raise CacheDamaged(f"its header is wrong ({what})")

        if not isinstance(header, dict) or header.get("format") != FORMAT:
            fail("format")
        if header.get("dtype") not in ("float32", "float64"):
            fail("dtype")
        self.dtype = np.dtype(header["dtype"])
        p = header.get("n_features")
        if not _count(p) or p < 1:
            fail("n_features")
        self.n_features = p
        blocks, dropped = header.get("blocks"), header.get("dropped")
        if not isinstance(blocks, list):
            fail("blocks")
        end, self.n_rows = len(MAGIC), 0
        for block in blocks:
            if not (isinstance(block, list) and len(block) == 5 and _count(block[0])
                    and _count(block[1]) and block[1] > 0 and _count(block[2])
                    and isinstance(block[3], bool) and isinstance(block[4], str)):
                fail("a block")
            if block[0] < end or block[0] + self._block_bytes(block) > data_end:
                fail("a block's place")
            end = block[0] + self._block_bytes(block)
            self.n_rows += block[1]
        if dropped is not None:
            if not (isinstance(dropped, list) and len(dropped) == 3 and _count(dropped[0])
                    and _count(dropped[1]) and isinstance(dropped[2], str)
                    and dropped[0] >= end and dropped[0] + 8 * dropped[1] <= data_end):
                fail("the rows left out")
        for key in ("meta", "source", "options"):
            if not isinstance(header.get(key), dict):
                fail(key)

    def _block_bytes(self, block) -> int:
        n = block[1]
        return n * self.n_features * self.dtype.itemsize + 8 * n + (8 * n if block[3] else 0)

    @property
    def meta(self) -> dict:
        return self.header["meta"]

    def blocks(self, verify: bool = False) -> Iterator[tuple]:
        """``(X, y, rows)`` block after block, ``rows`` the rows' positions. With ``verify``
        each block's digest is checked (else :class:`CacheDamaged`)."""
        for offset, n, row0, has_rows, digest in self.header["blocks"]:
            X = np.empty((n, self.n_features), dtype=self.dtype)
            y = np.empty(n, dtype=np.float64)
            _read_into(self._fd, X, offset)
            _read_into(self._fd, y, offset + X.nbytes)
            if has_rows:
                rows = np.empty(n, dtype=np.int64)
                _read_into(self._fd, rows, offset + X.nbytes + y.nbytes)
            if verify:
                parts = (X, y, rows) if has_rows else (X, y)
                if _checksum(*(memoryview(a).cast("B") for a in parts)) != digest:
                    raise CacheDamaged("a block does not match its checksum")
            yield X, y, rows if has_rows else np.arange(row0, row0 + n)

    def dropped(self, verify: bool = False) -> np.ndarray:
        """The positions of the rows left out (empty when none were)."""
        entry = self.header["dropped"]
        if entry is None:
            return np.empty(0, dtype=np.int64)
        offset, n, digest = entry
        out = np.empty(n, dtype=np.int64)
        _read_into(self._fd, out, offset)
        if verify and _checksum(memoryview(out).cast("B")) != digest:
            raise CacheDamaged("the rows left out do not match their checksum")
        return out


def _count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


# --- the folder: list and clean ----------------------------------------------------------

@dataclass
class Entry:
    """One file of the cache folder, as ``neurona cache list`` shows it.

    ``state``: ``"current"`` (its data file is unchanged), ``"stale"`` (the
    data file changed: it will be rebuilt), ``"orphaned"`` (the data file is
    gone), ``"damaged"`` (not a readable cache), ``"unfinished"`` (left by a
    writer that stopped), ``"writing"`` (a running process writes it).
    """

    path: Path
    size: int
    state: str
    source: str | None = None
    dtype: str | None = None
    rows: int | None = None
    created: str | None = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def entries(directory: Path) -> list[Entry]:
    """The caches and leftovers in ``directory`` (none when it does not exist), by name."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    out = []
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.is_symlink():
            continue
        owner = temp_owner(path)
        if owner is not None:
            out.append(Entry(path, path.stat().st_size,
                             "writing" if owner != os.getpid() and _alive(owner)
                             else "unfinished"))
        elif path.name.endswith(SUFFIX):
            out.append(_describe(path))
    return out


def _describe(path: Path) -> Entry:
    size = path.stat().st_size
    try:
        cached = CachedRows(path)
    except CacheDamaged:
        return Entry(path, size, "damaged")
    try:
        header = cached.header
        source = header["source"]
        name = source.get("path") if isinstance(source.get("path"), str) else None
        try:
            state = "current" if name and source_identity(name) == source else "stale"
        except OSError:
            state = "orphaned"
        created = header.get("created") if isinstance(header.get("created"), str) else None
        return Entry(path, size, state, name, header["dtype"], cached.n_rows, created)
    finally:
        cached.close()


def clean(directory: Path, *, stale_only: bool = False) -> list[Entry]:
    """Remove the caches of ``directory`` (with ``stale_only``, those not ``"current"``) and
    the leftovers of stopped writers; return what was removed. A file a running process
    is writing is left alone."""
    removed = []
    for entry in entries(directory):
        if entry.state == "writing" or (stale_only and entry.state == "current"):
            continue
        try:
            entry.path.unlink()
        except FileNotFoundError:
            continue
        removed.append(entry)
    return removed


def human_size(n: int) -> str:
    """``n`` bytes as ``12.3 MB`` (powers of 1000, like ``ls -lh --si``)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"  # pragma: no cover


__all__ = ["CACHE_ENV", "CacheDamaged", "CacheWriter", "CachedRows", "Entry", "cache_dir",
           "cache_name", "clean", "default_dir", "entries", "human_size", "source_identity",
           "temp_path"]

