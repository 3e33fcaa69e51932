"""A data file read in record batches, with its split, target coding and scaling.

1. **One parse.** :meth:`FileStream.scan` reads the file once: it checks
   every cell (so a bad row stops the run before any training), learns the
   target's two classes (a regression: checks its numbers), counts the rows of
   each part of the split and fits the scalers on the training rows
   (scikit-learn's ``partial_fit``). Meanwhile it writes what it parsed (the
   encoded features, in ``dtype``, the targets and the rows' positions) into
   a cache (:mod:`neurona.data.cache`), which every later pass reads instead
   of the text: the epochs, the test rows' report, ``neurona report``, and a
   later scan of the same file with the same reading options (which then
   checks the cache's digests instead of parsing). When the encoding must
   learn from the training rows first (categories, filled values), that
   first pass keeps the parsed columns in a temporary Arrow IPC file of the
   cache folder, and the encoding pass reads them from there.
2. **The split** is the per-row rule of :mod:`neurona.data.split`: row ``i``
   is a test row when ``row_uniform(i, seed) < test_size``, the same rows as
   a file loaded into memory or read by Dask.
3. **Passes**: :meth:`FileStream.part` gives a re-iterable pass over the
   training, test or all rows, batch by batch, each row with its position in
   the file; :class:`neurona.engines.stream.StreamEngine` trains on it. The
   batches are the file's record batches, read from the cache or the text
   alike, so a pass gives the same numbers either way, bit for bit.

Memory is a few record batches (``readers.BATCH_ROWS`` rows, or CSV blocks),
whatever the file's size.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import DataFileError, DataValueError, NeuronaError, OptionError
from . import cache as cachefile, readers, scaling
from .encoding import ColumnRules, Encoding
from .readers import DataFile, label_value, sort_labels
from .split import (SAMPLE_ROWS, TEST_STREAM, RowSample, check_class_rows, check_test_size,
                    held_out)
from .table import TableReading, check_constant, resolve_columns

MEMORY_FRACTION = 4       # the default memory budget is 1/4 of the physical memory
#: Rows per chunk when the rows of a part are counted (no data is read for it).
COUNT_CHUNK = 1 << 20
#: The floating types a stream's features come in.
DTYPES = ("float64", "float32")


def default_memory_budget() -> int:
    """A quarter of the machine's physical memory, in bytes (1 GiB if unknown)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // MEMORY_FRACTION
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX
        return 1 << 30


def check_dtype(dtype) -> np.dtype:
    """``dtype`` as float64 or float32, or an :class:`~neurona.errors.OptionError`: the check
    of :func:`neurona.core.checks.check_dtype`, here again because the data layer does not
    import the core."""
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError, KeyError):
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise OptionError(f"Unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}.")
    return dt


class FileStream:
    """A data file read in record batches, with its split, label coding and scaling.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``, ``.csv.gz``, ``.parquet``, ``.npy`` or ``.npz`` file.
    target : str
        The target column.
    features : list of str, default=None
        The feature columns (default: every other column).
    delimiter, encoding : str, default=None
        For CSV files (see :class:`neurona.readers.DataFile`).
    test_size : float, default=0.0
        The probability that a row is a test row (see :mod:`neurona.data.split`).
    random_state : int, default=1
        The seed of the per-row split.
    classes : list, default=None
        Known classes (e.g. a model's); None: learned by :meth:`scan`.
    task : {"classify", "regress"}, default="classify"
        A regression's target is read as numbers (:class:`neurona.data.target.Numbers`).
    target_scaler : neurona.data.scaling.Scaler, default=None
        A regression's known target scaling (e.g. a model's); else fitted by
        :meth:`scan` when asked.
    rules : neurona.data.encoding.ColumnRules, default=ColumnRules()
        How text columns and missing values become features; the encoding is
        learned on the training rows by a first pass of :meth:`scan` when it
        needs statistics (categories, fill values), unless ``column_encoding``
        gives it (e.g. a model's).
    dtype : {"float64", "float32"}, default="float64"
        The features' type in every pass (and in the cache): float32 rounds
        each parsed feature to float32 first, before scaling.
    cache : bool or path, default=True
        Where the parsed rows are cached (:mod:`neurona.data.cache`): True
        the default folder, a path that folder, False nowhere (every pass
        reads the text).

    Attributes
    ----------
    cache_file : Path or None
        The cache the passes read (None: they read the file).
    cache_state : str
        ``"off"``, ``"read"`` (a cache made before was used), ``"written"``
        (this scan wrote it), or ``"unwritten"`` (it could not be written).
    notes : list of str
        One-line notes on the cache (a damaged one rebuilt, one that could
        not be written), for the command line to show.
    """

    def __init__(self, path, target: str, features=None, *, delimiter=None, encoding=None,
                 test_size: float = 0.0, random_state: int = 1, classes=None,
                 task: str = "classify", target_scaler=None, rules=None,
                 column_encoding=None, dtype="float64", cache=True):
        self.file = DataFile(path, delimiter=delimiter, encoding=encoding)
        self.features = resolve_columns(self.file, target, features)
        self.target, self.task = target, task
        self.rules = rules or ColumnRules()
        self._given = dict(classes=classes, encoding=column_encoding,
                           target_scaler=target_scaler)
        self.test_size = check_test_size(test_size)
        self.random_state = 1 if random_state is None else int(random_state)
        self.dtype = check_dtype(dtype)
        self.cache_dir = cachefile.cache_dir(cache)
        self.cache_file: Path | None = None
        self.cache_state = "off"
        self.notes: list[str] = []
        self._cached: cachefile.CachedRows | None = None
        self._flip = False  # cached codes are the complements of the class codes
        self._learned = False  # whether the scan learned the encoding from the rows
        # A cache that fits gives the encoding: the kinds need not be read from the file.
        self._candidate = self._open_cache()
        self._new_reading(None if self._candidate is None else
                          Encoding.from_dict(self._candidate.meta["encoding"]))
        self.classes = None if classes is None else list(self.labels.classes)
        self.scaler: scaling.Scaler | None = None
        self.n_rows = self.n_train = self.n_test = 0
        self.n_read = 0  # rows in the file, those left out for missing values included
        #: ``(X, y, is_test)`` of about SAMPLE_ROWS rows drawn from the whole file by the
        #: scan, for figures (the features unscaled, the targets as the epochs see them).
        self.sample: tuple | None = None
        self.dropped = np.empty(0, dtype=np.int64)  # their positions
        self._scanned = False

    def _new_reading(self, cached_encoding: Encoding | None = None) -> None:
        given = self._given
        self.reading = TableReading(self.file, self.target, self.features, task=self.task,
                                    rules=self.rules, classes=given["classes"],
                                    encoding=given["encoding"] or cached_encoding)
        self.labels = self.reading.coder
        if given["target_scaler"] is not None:
            self.labels.scaler = given["target_scaler"]

    @property
    def encoding(self):
        """How the feature columns become the neuron's features (learned by :meth:`scan`)."""
        return self.reading.encoding

    @property
    def feature_names(self) -> list[str]:
        """The neuron's features: the encoding's names (``island=Biscoe``)."""
        return self.reading.encoding.feature_names

    @property
    def target_scaler(self) -> "scaling.Scaler | None":
        """A regression's target scaling (None for a classifier, or unscaled targets)."""
        return getattr(self.labels, "scaler", None)

    def is_test(self, rows: np.ndarray) -> np.ndarray:
        """Which of the rows at positions ``rows`` are test rows."""
        return held_out(rows, self.random_state, self.test_size, TEST_STREAM)

    def _tables(self):
        return self.reading.tables()

    def batches(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``(X, y, rows)`` of every kept row, batch by batch: the encoded features in
        ``dtype`` (not scaled), the targets (class codes 0/1, or a regression's numbers
        unscaled) and the rows' positions; from the cache once :meth:`scan` has made it."""
        if self._cached is not None:
            for X, y, rows in self._cached.blocks():
                yield X, (1.0 - y if self._flip else y), rows
            return
        for row0, table in self._tables():
            X, table, rows = self.reading.encode(table, row0)
            yield X.astype(self.dtype, copy=False), self.labels.encode(table, rows,
                                                                       scaled=False), rows

    def scan(self, scale: str = "none", allow_constant: bool = False,
             scale_target: str = "none") -> "FileStream":
        """Read the file once (or its cache): check it, learn the classes, count the parts,
        fit the scalers (``scale_target``: a regression's target, on its training rows)."""
        cached, self._candidate = self._candidate, None
        if cached is None and self._scanned:  # scanned again: the cache it wrote, if any
            cached = self._open_cache()
        if cached is not None:
            try:
                self._adopt(cached)
                self._tally(cached.blocks(verify=True), scale, allow_constant, scale_target,
                            cached.dropped(verify=True), self._code_order(cached))
                self._cached, self.cache_file, self.cache_state = cached, cached.path, "read"
                return self
            except cachefile.CacheDamaged as exc:
                cached.close()
                self.notes.append(self._damaged(cached.path, exc))
                self._new_reading()
                self.n_read = 0
        writer = self._writer()
        try:
            self._tally(self._parsed(writer), scale, allow_constant, scale_target)
            if writer is not None and not writer.aborted:
                self._commit(writer)
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        return self

    # -- the cache ------------------------------------------------------------

    def _options(self) -> dict:
        """What the cache's rows depend on besides the file's contents."""
        return {"path": str(self.file.path.resolve()), "format": self.file.format,
                "delimiter": self.file.delimiter, "encoding": self.file.encoding,
                "target": self.target, "features": list(self.features), "task": self.task,
                "rules": self.rules.to_dict(), "dtype": self.dtype.name,
                "block": readers.CSV_BLOCK_BYTES if self.file.format == "csv"
                else readers.BATCH_ROWS}

    def _cache_path(self) -> Path:
        return self.cache_dir / cachefile.cache_name(self._options())

    def _open_cache(self) -> "cachefile.CachedRows | None":
        """The cache of this file and these options, if one fits; None otherwise (none, or
        one of a changed file, or another encoding: rebuilt; a damaged one: noted)."""
        if self.cache_dir is None:
            return None
        path = self._cache_path()
        if not path.is_file():
            return None
        try:
            cached = cachefile.CachedRows(path)
            fits = self._fits(cached)
        except cachefile.CacheDamaged as exc:
            self.notes.append(self._damaged(path, exc))
            return None
        except OSError:
            return None
        if not fits:
            cached.close()
            return None
        return cached

    def _fits(self, cached) -> bool:
        """Whether ``cached`` holds this file's rows as this stream reads them."""
        header, meta = cached.header, cached.meta
        if header["options"] != self._options() or \
                header["source"] != cachefile.source_identity(self.file.path):
            return False
        try:
            encoding = Encoding.from_dict(meta.get("encoding"), where=str(cached.path))
        except NeuronaError:
            raise cachefile.CacheDamaged("its encoding is not one") from None
        if encoding.n_features != cached.n_features or not _count(meta.get("n_read")):
            raise cachefile.CacheDamaged("its rows do not match its encoding")
        given, origin = self._given["encoding"], meta.get("origin")
        if given is not None:
            if _canonical(encoding.to_dict()) != _canonical(given.to_dict()):
                return False
        elif origin == "learned":  # from the training rows of the split it records
            if meta.get("fit_split") != [self.test_size, self.random_state]:
                return False
        elif origin != "fixed":  # a model's: this stream's own may differ
            return False
        seen = meta.get("seen")
        if self.task == "regress":
            return seen is None
        if not (isinstance(seen, list) and len(seen) == 2):
            raise cachefile.CacheDamaged("its labels are not two")
        try:
            labels = [label_value(v) for v in seen]
        except (ValueError, TypeError):
            raise cachefile.CacheDamaged("its labels are not labels") from None
        classes = self._given["classes"]
        return classes is None or sort_labels(labels) == [label_value(c) for c in classes]

    def _adopt(self, cached) -> None:
        """Take the encoding and the labels the cache recorded."""
        meta = cached.meta
        if self.reading.encoding is None:  # a stream scanned once already
            self.reading.encoding = Encoding.from_dict(meta["encoding"], where=str(cached.path))
        if self.task != "regress":
            self.labels.restore(meta["seen"])
        self.n_read = meta["n_read"]

    def _code_order(self, cached) -> list | None:
        """The labels whose places the cache's codes are (None for a regression)."""
        seen = cached.meta["seen"]
        return None if seen is None else [label_value(v) for v in seen]

    def _damaged(self, path: Path, exc: Exception) -> str:
        return (f"the cache of {self.file.path} ({path}) is damaged ({exc}); it is rebuilt "
                f"from the file.")

    def _writer(self) -> "cachefile.CacheWriter | None":
        if self.cache_dir is None:
            return None
        try:
            return cachefile.CacheWriter(self._cache_path(), self.dtype,
                                         self.reading.encoding.n_features
                                         if self.reading.encoding is not None else 0)
        except OSError as exc:
            self._unwritable(exc)
            return None

    def _unwritable(self, exc: OSError) -> None:
        self.cache_state = "unwritten"
        self.notes.append(f"cannot write the cache of {self.file.path} in {self.cache_dir} "
                          f"({exc.strerror or exc}); every pass reads the file.")

    def _commit(self, writer) -> None:
        origin = ("given" if self._given["encoding"] is not None else
                  "learned" if self._learned else "fixed")
        meta = {"encoding": self.reading.encoding.to_dict(), "n_read": self.n_read,
                "seen": None if self.task == "regress" else self.labels.seen,
                "origin": origin, "fit_split": [self.test_size, self.random_state]}
        try:
            writer.set_dropped(self.dropped)
            path = writer.commit({"meta": meta, "options": self._options(),
                                  "source": self._identity})
            self._cached = cachefile.CachedRows(path)
        except (OSError, cachefile.CacheDamaged) as exc:
            writer.abort()
            self._unwritable(exc if isinstance(exc, OSError) else OSError(str(exc)))
            return
        self.cache_file, self.cache_state = path, "written"

    # -- the one pass -----------------------------------------------------------

    def _parsed(self, writer) -> Iterator[tuple]:
        """``(X, y, rows)`` of every batch parsed from the file: checked, encoded, in
        ``dtype``, the classes' codes in the order the labels were met; each written to
        ``writer`` (if any). The encoding is learned first when it must be."""
        self._identity = cachefile.source_identity(self.file.path) if writer else None
        tables = self._tables()
        if self.reading.encoding is None:  # a first pass learns the categories and fills
            tables = self._fitted(tables, writer)
            if writer is not None:
                writer.n_features = self.reading.encoding.n_features
        return self._encoded(tables, writer)

    def _encoded(self, tables, writer) -> Iterator[tuple]:
        """The batches of :meth:`_parsed`; sets ``n_read`` and ``dropped`` at the end."""
        n_read, dropped = 0, []
        regress = self.task == "regress"
        for row0, table in tables:
            size = table.num_rows
            n_read += size
            X, table, rows = self.reading.encode(table, row0)
            if len(rows) < size:  # rows left out for a missing value
                dropped.append(np.setdiff1d(np.arange(row0, row0 + size), rows))
            if regress:
                y = self.labels.values(table, rows)
            else:
                self.labels.observe(table, rows)
                y = self.labels.seen_codes(table)
            X = X.astype(self.dtype, copy=False)
            if writer is not None and (writer.aborted or not self._write(writer, X, y, rows)):
                writer = None
            yield X, y, rows
        self.n_read = n_read
        self.dropped = np.concatenate(dropped) if dropped else np.empty(0, dtype=np.int64)

    def _write(self, writer, X, y, rows) -> bool:
        try:
            writer.add(X, y, rows)
            return True
        except OSError as exc:
            writer.abort()
            self._unwritable(exc)
            return False

    def _fitted(self, tables, writer):
        """Learn the encoding from ``tables`` (the training rows), then give the tables
        again: from a temporary Arrow IPC file in the cache folder, or (no cache) by
        reading the file a second time."""
        self._learned = True
        if writer is None:
            self.reading.fit(tables, self.is_test)
            return self._tables()
        spill = _Spill(cachefile.temp_path(writer.path.with_name("spill")))
        try:
            self.reading.fit(spill.keeping(tables), self.is_test)
            spill.close()
        except OSError as exc:  # the folder is full: learn again, and read the text twice
            spill.remove()
            writer.abort()
            self._unwritable(exc)
            self.reading.fit(self._tables(), self.is_test)
            return self._tables()
        except BaseException:
            spill.remove()
            raise
        return spill.tables()

    def _tally(self, batches, scale, allow_constant, scale_target, dropped=None,
               order=None) -> None:
        """The scan's checks and statistics over ``(X, y, rows)`` batches (see :meth:`scan`).

        ``dropped`` and ``order`` (the labels whose places the codes ``y`` are) are
        given for a cache, whose ``n_read`` is known already; else the batches set
        ``n_read`` and ``dropped`` at their end, and the codes follow the labels met."""
        where = str(self.file.path)
        names = self.feature_names
        fit = scaling.StreamingFit(scale, names, where)
        fit_target = scaling.StreamingFit(scale_target, [self.target], where)
        low = np.full(len(names), np.inf)
        high = np.full(len(names), -np.inf)
        y_low, y_high = np.inf, -np.inf
        n = n_test = 0
        regress = self.task == "regress"
        counts = {"train": np.zeros(2, dtype=np.int64), "test": np.zeros(2, dtype=np.int64)}
        sample = RowSample(SAMPLE_ROWS, self.random_state)
        for X, y, rows in batches:
            test = self.is_test(rows)
            sample.add(rows, X, y, test)
            if regress:
                counts["test"][0] += int(test.sum())
                counts["train"][0] += len(y) - int(test.sum())
            else:
                ones = y > 0.5
                counts["test"] += [int((test & ~ones).sum()), int((test & ones).sum())]
                counts["train"] += [int((~test & ~ones).sum()), int((~test & ones).sum())]
            X64 = X if X.dtype == np.float64 else X.astype(np.float64)
            held = int(test.sum())
            if len(X):
                lo, hi = scaling.column_range(X64)
                np.minimum(low, lo, out=low)
                np.maximum(high, hi, out=high)
                if regress:
                    y_low, y_high = min(y_low, y.min()), max(y_high, y.max())
            if held == 0 and len(X) and X64.flags.c_contiguous:
                # every row trains: the rows themselves, and the range just found
                fit.update(X64, largest=np.maximum(-lo, hi))
            else:
                fit.update(X64[~test])
            if scale_target != "none":
                fit_target.update(y[~test, None])
            n += len(X)
            n_test += held
        if dropped is not None:
            self.dropped = dropped
        if self.n_read == 0:
            raise DataFileError(f"{self.file.path}: no data rows; add rows below the header.",
                                path=self.file.path)
        if n == 0:
            raise DataValueError(f"{self.file.path}: every row misses a value (--missing "
                                 f"{self.reading.rules.missing} left none); fill the cells in "
                                 f"or choose other columns.", path=self.file.path)
        if regress:
            self.labels.low, self.labels.high = y_low, y_high
        self.classes = self.labels.finish()
        if regress:
            by_label = {part: {None: int(c[0])} for part, c in counts.items()}
        else:
            seen = self.labels.seen if order is None else order
            by_label = {part: {seen[k]: int(c[k]) for k in range(len(seen))}
                        for part, c in counts.items()}
            self._flip = seen[0] != self.classes[0]
        check_class_rows(by_label["train"], by_label["test"], self.classes, self.test_size,
                         self.file.path)
        if not allow_constant:
            check_constant(self.file, None, names, low, high)
        self.n_rows, self.n_test, self.n_train = n, n_test, n - n_test
        X, y, test = sample.result(n)
        if not regress:
            y = (1.0 - y if self._flip else y).astype(np.int64)
        self.sample = (X, y, test)
        self.scaler = fit.result()
        if scale_target != "none":
            self.labels.scaler = fit_target.result()
        self._scanned = True

    def part(self, which: str = "train", scaled: bool = True) -> "Pass":
        """A re-iterable pass over ``"train"``, ``"test"`` or ``"all"`` rows, as ``(X, y)``."""
        if which not in ("train", "test", "all"):
            raise ValueError(f"part must be 'train', 'test' or 'all', got {which!r}")
        if not self._scanned and self.classes is None:
            raise NeuronaError("call scan() before reading the stream's parts")
        return Pass(self, which, scaled)


def _count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _canonical(doc) -> str:
    return json.dumps(doc, sort_keys=True, allow_nan=False)


class _Spill:
    """The raw tables of a first pass, kept in an Arrow IPC stream file to be read again
    in the same batches (the cache folder's temporary file, removed once read)."""

    def __init__(self, path: Path):
        self.path = path
        self._sink = self._writer = None
        self.sizes: list[int] = []
        self.schema = None

    def keeping(self, tables):
        import pyarrow as pa

        for row0, table in tables:
            if self._sink is None:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                self._sink = pa.OSFile(str(self.path), "wb")
                self.schema = table.schema
                self._writer = pa.ipc.new_stream(self._sink, table.schema)
            self.sizes.append(table.num_rows)
            if table.num_rows:
                self._writer.write_table(table)
            yield row0, table

    def close(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()
            self._sink.close()

    def remove(self) -> None:
        try:
            self.close()
        finally:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    def tables(self):
        """``(row0, table)`` as :meth:`keeping` saw them; the file is removed at the end."""
        import pyarrow as pa

        try:
            if not self.sizes:
                return
            with pa.OSFile(str(self.path), "rb") as source:
                reader = pa.ipc.open_stream(source)
                row0 = 0
                for size in self.sizes:
                    parts, got = [], 0
                    while got < size:
                        batch = reader.read_next_batch()
                        parts.append(batch)
                        got += batch.num_rows
                    table = pa.Table.from_batches(parts, schema=self.schema)
                    yield row0, table
                    row0 += size
        finally:
            self.remove()


class Pass:
    """One pass over part of a :class:`FileStream` per iteration: ``(X, y, rows)`` batches."""

    def __init__(self, stream: FileStream, which: str, scaled: bool):
        self.stream, self.which, self.scaled = stream, which, scaled
        self.n_rows = {"train": stream.n_train, "test": stream.n_test,
                       "all": stream.n_rows}[which]
        self.n_features = len(stream.feature_names)
        self.dtype = stream.dtype.name

    def _keep(self, rows: np.ndarray) -> np.ndarray | None:
        if self.which == "all":
            return None
        test = self.stream.is_test(rows)
        return test if self.which == "test" else ~test

    def with_rows(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Like iterating, with the 0-based file row index of every row as a third array."""
        s = self.stream
        target = s.target_scaler if self.scaled else None
        for X, y, rows in s.batches():
            keep = self._keep(rows)
            copied = keep is not None and not keep.all()  # (no test rows: nothing to leave)
            if copied:
                X, y, rows = X[keep], y[keep], rows[keep]
            if self.scaled and s.scaler is not None:
                if X.dtype == np.float64 and copied:  # a copy already: in place
                    np.subtract(X, s.scaler.center, out=X)
                    np.divide(X, s.scaler.scale, out=X)
                else:
                    X = s.scaler.transform(X).astype(s.dtype, copy=False)
            if target is not None:
                y = (y - target.center[0]) / target.scale[0]
            if len(y):
                yield X, y, rows

    def positions(self) -> Iterator[np.ndarray]:
        """The file row indices of this part, in chunks, without reading the file (the
        rows left out for missing values excluded)."""
        total, dropped = self.stream.n_read, self.stream.dropped
        for row0 in range(0, total, COUNT_CHUNK):
            rows = np.arange(row0, min(row0 + COUNT_CHUNK, total))
            if len(dropped):
                rows = rows[~np.isin(rows, dropped)]
            keep = self._keep(rows)
            yield rows if keep is None else rows[keep]

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for X, y, _ in self.with_rows():
            yield X, y
