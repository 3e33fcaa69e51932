"""Data files read by columns, whole or in record batches: CSV, Parquet and NumPy.

pyarrow parses CSV (``pyarrow.csv``, optionally gzipped) and Parquet
(``pyarrow.parquet``); NumPy's own reader opens ``.npy`` (memory-mapped) and
``.npz``. Every format yields the same thing, ``(row0, pyarrow.Table)`` pairs
holding the requested columns, so in-memory reading and streaming share one
code path, and every problem becomes a :class:`~neurona.errors.DataError`
that names the file, the column and the line where it can.

Columns of a ``.npy`` file: the fields of a structured array, or ``x0``,
``x1``, ... for the columns of a plain 2-D array (neurona's default feature
names). Columns of a ``.npz`` file: each 1-D array under its key; a single
2-D array contributes ``x0``, ``x1``, ...
"""

from __future__ import annotations

import codecs
import gzip
import math
import os
import re
import stat
import zipfile
import zlib
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import ColumnError, DataFileError, DataValueError, TargetError
from .encoding import arrow_mask, as_numpy, kind_of, one_array

SUFFIXES = {".csv": "csv", ".csv.gz": "csv", ".parquet": "parquet", ".pq": "parquet",
            ".npy": "npy", ".npz": "npz"}
BATCH_ROWS = 65_536            # rows per record batch (Parquet, NumPy)
CSV_BLOCK_BYTES = 4 << 20      # bytes per CSV block; a block becomes one record batch
GZIP_RATIO = 4                 # assumed expansion of a gzipped CSV, for the memory estimate
MAX_SHOWN = 8                  # names or labels listed in one message
MAX_COLUMNS = 1 << 20          # columns of a NumPy array; a wider one is a corrupt header

_INDEX_LEVEL = re.compile(r"__index_level_\d+__")  # pandas' name for an unnamed index level
_ROW = re.compile(r"CSV parse error: Expected (\d+) columns, got (\d+): (.*)", re.S)
_BLOCK_ROW = re.compile(r"(?<=: )Row #-?\d+: ")
_CONVERSION = re.compile(r"In CSV column #(\d+): CSV conversion error to \w+: invalid value '(.*)'",
                         re.S)


def quote_list(values, limit: int = MAX_SHOWN) -> str:
    shown = ", ".join(repr(v) for v in list(values)[:limit])
    return shown + (", ..." if len(values) > limit else "")


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (pyarrow's can span several)."""
    return re.sub(r"\s*\n\s*", " ", str(exc).strip())


def file_format(path: str | os.PathLike) -> str:
    """The format of a data file from its name: ``csv``, ``parquet``, ``npy`` or ``npz``."""
    name = Path(path).name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return SUFFIXES[suffix]
    suffix = "".join(Path(path).suffixes[-2:]) or "(none)"
    raise DataFileError(
        f"{path}: unknown file type {suffix}; neurona reads {', '.join(SUFFIXES)} "
        f"(rename the file if it is one of these).", path=path)


def check_readable(path: str | os.PathLike) -> Path:
    """Refuse a path that does not exist, is a directory, cannot be opened, or is not a
    regular file (a named pipe, a terminal or ``/dev/stdin`` would block the read).

    The file is opened without blocking, so even a FIFO with no writer is
    refused at once.
    """
    path = Path(path)
    try:
        with open(path, "rb", opener=_nonblocking) as f:
            mode = os.fstat(f.fileno()).st_mode
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file; check the path.", path=path) from None
    except IsADirectoryError:
        raise _directory(path) from None
    except PermissionError:
        raise DataFileError(f"{path}: permission denied; make the file readable "
                            f"(chmod +r) or copy it somewhere you can read.", path=path) from None
    except OSError as exc:
        raise DataFileError(f"{path}: cannot be opened ({exc.strerror or exc}).",
                            path=path) from None
    if stat.S_ISDIR(mode):
        raise _directory(path)
    if not stat.S_ISREG(mode):
        kind = ("a named pipe" if stat.S_ISFIFO(mode) else "a device"
                if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file")
        raise DataFileError(f"{path}: not a regular file ({kind}); neurona reads data from "
                            f"files: save the data to a file and pass its path.", path=path)
    return path


def _nonblocking(path, flags: int) -> int:
    """An ``opener`` that does not wait for a writer (a FIFO) or a device."""
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def _directory(path: Path) -> DataFileError:
    return DataFileError(f"{path}: is a directory; pass a data file "
                         f"({', '.join(SUFFIXES)}).", path=path)


def check_column_names(names: list[str], path) -> None:
    """Refuse blank or duplicate column names."""
    for i, name in enumerate(names):
        if not str(name).strip():
            raise ColumnError(f"{path}: column {i + 1} of {len(names)} has a blank name; "
                              f"give every column a name in the header.", path=path)
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise ColumnError(f"{path}: the column name {name!r} appears twice (columns "
                              f"{seen[name] + 1} and {i + 1}); column names must be unique.",
                              path=path, column=name)
        seen[name] = i


def parquet_index_columns(schema) -> tuple[list[str], list[str]]:
    """The columns in which pandas stored a frame's index: ``(unnamed, named)``.

    ``DataFrame.to_parquet`` writes an index other than a plain ``RangeIndex``
    as columns and lists them in the schema's pandas metadata. An unnamed
    level is stored as ``__index_level_N__``: row labels, never data, so
    neurona drops it. A named level (``df.set_index("id")``) keeps its name:
    it can be asked for by name, but it is no default feature.

    Parameters
    ----------
    schema : pyarrow.Schema
        A Parquet file's Arrow schema.

    Returns
    -------
    unnamed, named : list of str
        Field names of the stored index levels, in the metadata's order.
    """
    try:
        metadata = schema.pandas_metadata or {}
    except (ValueError, TypeError, RecursionError):  # not valid JSON: no index known
        metadata = {}
    if not isinstance(metadata, dict):  # metadata of another shape: no index known either
        metadata = {}
    columns, index = metadata.get("columns"), metadata.get("index_columns")
    labels = {c["field_name"]: c.get("name") for c in (columns if isinstance(columns, list)
                                                       else [])
              if isinstance(c, dict) and isinstance(c.get("field_name"), str)}
    unnamed, named = [], []
    for field in index if isinstance(index, list) else []:
        if not isinstance(field, str) or field not in schema.names:
            continue  # a RangeIndex is stored as metadata only, not as a column
        level = labels.get(field, None if _INDEX_LEVEL.fullmatch(field) else field)
        (unnamed if level is None else named).append(field)
    return unnamed, named


def _numeric_type(t) -> bool:
    import pyarrow as pa

    return (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
            or pa.types.is_decimal(t) or pa.types.is_null(t))


def _label_type(t) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return _label_type(t.value_type)
    return (_numeric_type(t) or pa.types.is_string(t) or pa.types.is_large_string(t)
            or pa.types.is_string_view(t))


def _describe_type(t) -> str:
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return f"categorical ({t})"
    if pa.types.is_temporal(t):
        return f"a date/time ({t})"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text (string)"
    return str(t)


class DataFile:
    """A data file opened for reading by columns.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``, ``.csv.gz``, ``.parquet``, ``.npy`` or ``.npz`` file.
    delimiter : str, default=","
        The CSV field separator (one character).
    encoding : str, default="utf-8"
        The CSV text encoding (any codec Python knows).

    Attributes
    ----------
    columns : list of str
        The column names, in file order.
    n_rows : int or None
        The number of data rows, when the format records it (not CSV).
    index_columns : list of str
        Columns of ``columns`` that hold a pandas index stored by name in a
        Parquet file: readable by name (``--features``, ``--target``,
        ``--keep``) but no default feature. An unnamed stored index
        (``__index_level_N__``) is left out of ``columns`` altogether; see
        :func:`parquet_index_columns`.
    """

    def __init__(self, path: str | os.PathLike, *, delimiter: str | None = None,
                 encoding: str | None = None):
        self.path = Path(path)
        self.format = file_format(self.path)
        self.delimiter = "," if delimiter is None else delimiter
        self.encoding = "utf-8" if encoding is None else encoding
        if len(self.delimiter) != 1 or self.delimiter in "\r\n\"":
            raise DataFileError(f"delimiter {self.delimiter!r} must be one character other "
                                f"than a quote or a line break.")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise DataFileError(f"unknown encoding {self.encoding!r}; use a Python codec name "
                                f"such as utf-8, latin-1 or utf-16.") from None
        check_readable(self.path)
        self.n_rows: int | None = None
        self.index_columns: list[str] = []
        self._arrays: dict[str, np.ndarray] | None = None
        self.columns = getattr(self, f"_open_{self.format}")()
        check_column_names(self.columns, self.path)

    # --- opening ------------------------------------------------------------

    def _open_csv(self) -> list[str]:
        head = self._head_bytes()
        if not head:
            raise DataFileError(f"{self.path}: the file is empty; it needs a header row and "
                                f"at least one data row.", path=self.path)
        self._sniff(head)
        reader = self._csv_reader(None, {})
        try:
            return list(reader.schema.names)
        except UnicodeError as exc:
            raise self._csv_error(exc) from None
        finally:
            reader.close()

    def _head_bytes(self, n: int = 1 << 16) -> bytes:
        try:
            if self.path.name.lower().endswith(".gz"):
                with gzip.open(self.path, "rb") as f:
                    return f.read(n)
            with open(self.path, "rb") as f:
                return f.read(n)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataFileError(f"{self.path}: not a valid gzip file ({exc}); is it "
                                f"truncated, or not compressed (then drop the .gz)?",
                                path=self.path) from None

    def _sniff(self, head: bytes) -> None:
        utf8 = codecs.lookup(self.encoding).name == "utf-8"
        if head.startswith(b"PAR1"):
            raise DataFileError(f"{self.path}: this is a Parquet file, not CSV; rename it to "
                                f"{self.path.stem}.parquet.", path=self.path)
        if utf8 and head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise DataFileError(f"{self.path}: the file is UTF-16 text (it starts with a UTF-16 "
                                f"byte-order mark); pass --encoding utf-16.", path=self.path)
        if utf8 and b"\0" in head:
            raise DataFileError(f"{self.path}: the file holds NUL bytes, so it is not UTF-8 "
                                f"text; pass its --encoding (e.g. utf-16) or check that it "
                                f"is a CSV file.", path=self.path)

    def _csv_reader(self, columns, types):
        import pyarrow.csv as pacsv

        read = pacsv.ReadOptions(encoding=self.encoding, block_size=CSV_BLOCK_BYTES)
        # No invalid_row_handler: pyarrow decodes a bad row's text as UTF-8 to pass it
        # on, and prints a traceback when it is not; the error's message holds the row.
        parse = pacsv.ParseOptions(delimiter=self.delimiter, newlines_in_values=False)
        convert = pacsv.ConvertOptions(include_columns=columns or [], column_types=types,
                                       strings_can_be_null=True)
        try:
            return pacsv.open_csv(self.path, read_options=read, parse_options=parse,
                                  convert_options=convert)
        except Exception as exc:  # noqa: BLE001 - translated into a DataError
            raise self._csv_error(exc) from None

    def _open_parquet(self) -> list[str]:
        import pyarrow.parquet as pq

        try:
            # No pre-buffering: it reads whole row groups ahead and holds them in memory.
            self._parquet = pq.ParquetFile(self.path, pre_buffer=False)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types here
            raise DataFileError(f"{self.path}: not a readable Parquet file ({one_line(exc)}); "
                                f"the file is corrupt, truncated or of another format.",
                                path=self.path) from None
        self.n_rows = self._parquet.metadata.num_rows
        schema = self._parquet.schema_arrow
        self._types = {f.name: f.type for f in schema}
        unnamed, self.index_columns = parquet_index_columns(schema)
        return [name for name in schema.names if name not in unnamed]

    def _load_numpy(self, source=None, **kwargs):
        try:
            return np.load(self.path if source is None else source, allow_pickle=False,
                           **kwargs)
        except Exception as exc:  # noqa: BLE001 - NumPy raises many types for a bad header
            raise self._numpy_error(exc) from None

    def _numpy_error(self, exc: BaseException, key: str | None = None) -> DataFileError:
        kind = "a .npy" if self.format == "npy" else "an .npz"
        what = f"array {key!r} of this .npz file" if key is not None else f"{kind} file"
        return DataFileError(f"{self.path}: not {what} neurona can read ({one_line(exc)[:200]}); "
                             f"it is corrupt, truncated or holds Python objects (neurona never "
                             f"unpickles).", path=self.path)

    def _check_width(self, shape: tuple) -> None:
        if len(shape) == 2 and shape[1] > MAX_COLUMNS:
            raise DataFileError(f"{self.path}: an array of {shape[1]} columns, more than the "
                                f"{MAX_COLUMNS} neurona reads; is the file corrupt?",
                                path=self.path)

    def _open_npy(self) -> list[str]:
        array = self._load_numpy(mmap_mode="r")
        self._check_width(array.shape)
        if array.dtype.names:
            if array.ndim != 1:
                raise DataFileError(f"{self.path}: a structured array must be 1-D, got shape "
                                    f"{array.shape}.", path=self.path)
            self._arrays = {name: array[name] for name in array.dtype.names}
        elif array.ndim == 2:
            self._arrays = {f"x{j}": array[:, j] for j in range(array.shape[1])}
        else:
            raise DataFileError(f"{self.path}: expected a 2-D array (rows, columns) or a "
                                f"structured array, got shape {array.shape}.", path=self.path)
        return self._finish_numpy()

    def _npz_member(self, archive, key: str) -> np.ndarray:
        """One array of an .npz archive, its header checked against the member's size first
        (a corrupt header could claim more memory than the machine has)."""
        name = key if key in archive.zip.namelist() else f"{key}.npy"
        try:
            info = archive.zip.getinfo(name)
            with archive.zip.open(info) as f:
                version = np.lib.format.read_magic(f)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                               (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                if read_header is None:
                    raise ValueError(f"NumPy format version {version} is not supported")
                shape, _, dtype = read_header(f)
            self._check_width(shape)
            size = dtype.itemsize * math.prod(shape)
            if size > info.file_size:
                raise ValueError(f"its header claims {size} bytes of data, the archive holds "
                                 f"{info.file_size}")
            a = archive[key]
        except DataFileError:
            raise
        except Exception as exc:  # noqa: BLE001 - NumPy and zipfile raise many types here
            raise self._numpy_error(exc, key) from None
        if not isinstance(a, np.ndarray):
            raise DataFileError(f"{self.path}: {key!r} in the archive is not a NumPy array "
                                f"(.npy).", path=self.path)
        return a

    def _open_npz(self) -> list[str]:
        arrays: dict[str, np.ndarray] = {}
        # Opened here, not by np.load: NumPy leaves its own handle open when the archive
        # turns out to be corrupt.
        with open(self.path, "rb") as f:
            archive = self._load_numpy(f)
            if not hasattr(archive, "files"):
                raise DataFileError(f"{self.path}: a single array, not an .npz archive; "
                                    f"rename it to {self.path.stem}.npy.", path=self.path)
            with archive:
                self._read_npz(archive, arrays)
        if not arrays:
            raise DataFileError(f"{self.path}: the archive holds no arrays.", path=self.path)
        self._arrays = arrays
        return self._finish_numpy()

    def _read_npz(self, archive, arrays: dict) -> None:
        """The arrays of an open .npz archive into ``arrays``, as columns."""
        for key in archive.files:
            a = self._npz_member(archive, key)
            if a.ndim == 1:
                arrays[key] = a
            elif a.ndim == 2:
                if any(k.startswith("x") and k[1:].isdigit() for k in arrays):
                    raise DataFileError(f"{self.path}: more than one 2-D array; store at "
                                        f"most one 2-D array (its columns become x0, x1, "
                                        f"...) and 1-D arrays.", path=self.path)
                arrays.update({f"x{j}": a[:, j] for j in range(a.shape[1])})
            else:
                raise DataFileError(f"{self.path}: array {key!r} has shape {a.shape}; "
                                    f"expected 1-D columns or one 2-D array.",
                                    path=self.path)

    def _finish_numpy(self) -> list[str]:
        import pyarrow as pa

        lengths = {len(a) for a in self._arrays.values()}
        if len(lengths) > 1:
            sizes = ", ".join(f"{k}: {len(a)}" for k, a in self._arrays.items())
            raise DataFileError(f"{self.path}: the arrays have different lengths ({sizes}); "
                                f"every column needs one value per row.", path=self.path)
        self.n_rows = lengths.pop()
        self._types = {}
        for name, a in self._arrays.items():
            if a.dtype.kind in "biuf":
                self._types[name] = pa.from_numpy_dtype(a.dtype)
            elif a.dtype.kind == "U":
                self._types[name] = pa.string()
            else:
                self._types[name] = f"numpy {a.dtype}"
        return list(self._arrays)

    # --- describing -----------------------------------------------------------

    def estimated_bytes(self, n_columns: int | None = None) -> int:
        """A rough size of the columns in memory, to decide whether to stream.

        CSV: the file's size (times 4 if gzipped); Parquet and NumPy: rows times
        columns times 8 bytes.
        """
        if self.format == "csv":
            size = self.path.stat().st_size
            return size * GZIP_RATIO if self.path.name.lower().endswith(".gz") else size
        return int(self.n_rows or 0) * (n_columns or len(self.columns)) * 8

    def where(self, row: int | None = None, column: str | None = None) -> str:
        """``path, line N, column 'c'`` for a 0-based data row index."""
        parts = [str(self.path)]
        if row is not None:
            parts.append(f"line {self.line(row)}" if self.format == "csv" else f"row {row + 1}")
        if column is not None:
            parts.append(f"column {column!r}")
        return ", ".join(parts)

    def line(self, row: int) -> int:
        """The line number (from 1, header included) of the 0-based data row ``row``.

        Rows are counted as pyarrow does, skipping blank lines; the file is
        read again, so this is meant for error messages only.
        """
        if self.format != "csv":
            return row + 1
        seen = -1  # the header is row -1
        with self._open_text() as f:
            for number, text in enumerate(f, 1):
                if text.strip("\r\n"):
                    if seen == row:
                        return number
                    seen += 1
        return row + 2

    def _open_text(self):
        opener = gzip.open if self.path.name.lower().endswith(".gz") else open
        return opener(self.path, "rt", encoding=self.encoding, errors="replace", newline="")

    def _line_of_text(self, text: str) -> int | None:
        first = text.split("\n")[0].rstrip("\r")
        with self._open_text() as f:
            for number, line in enumerate(f, 1):
                if line.rstrip("\r\n") == first:
                    return number
        return None

    # --- errors ------------------------------------------------------------------

    def _csv_error(self, exc: BaseException) -> Exception:
        path = self.path
        if isinstance(exc, DataFileError):
            return exc
        if isinstance(exc, UnicodeError):
            return DataFileError(
                f"{path}: the text is not valid {self.encoding} ({exc}); pass the file's "
                f"encoding, e.g. --encoding latin-1 or --encoding utf-16.", path=path)
        # pyarrow names the row of a reader's first block (a block parsed apart is one), not
        # of later blocks; the line is found from the row's text anyway, so it is dropped.
        raw = _BLOCK_ROW.sub("", str(exc))
        message = one_line(raw)
        row = _ROW.search(raw)
        if row:
            expected, actual, text = int(row.group(1)), int(row.group(2)), row.group(3)
            line = self._line_of_text(text)
            at = f"{path}, line {line}" if line else str(path)
            first = text.split("\n")[0]
            if first.count('"') % 2:
                return DataFileError(f"{at}: unterminated quote in {first[:200]!r}; close the "
                                     f"quote or remove it.", path=path, line=line)
            return DataFileError(
                f"{at}: {actual} field(s) where the header has {expected} "
                f"({first[:200]!r}); check the delimiter (--delimiter) and quote fields "
                f"that contain it.", path=path, line=line)
        match = _CONVERSION.search(message)
        if match:
            column = self.columns[int(match.group(1))]
            value = match.group(2)
            row = self._find_value(column, value)
            at = self.where(row, column)
            return DataValueError(
                f"{at}: {value!r} is not a number, but the column holds numbers in its first "
                f"rows (so it was read as numbers); fix the cell, or leave the column out "
                f"with --features.", path=path, column=column,
                line=None if row is None else self.line(row))
        if "invalid UTF8" in message:
            col = re.search(r"column #(\d+)", message)
            column = self.columns[int(col.group(1))] if col else None
            return DataFileError(
                f"{self.where(None, column)}: the text is not valid UTF-8; pass the file's "
                f"encoding, e.g. --encoding latin-1.", path=path, column=column)
        if "Empty CSV file" in message:
            return DataFileError(f"{path}: no data rows (the file holds at most a header "
                                 f"line); add rows below the header.", path=path)
        if isinstance(exc, OSError):
            return DataFileError(f"{path}: cannot be read ({message}); is it truncated?",
                                 path=path)
        return DataFileError(f"{path}: cannot be read as CSV ({message}).", path=path)

    def _find_value(self, column: str, value: str) -> int | None:
        """The first 0-based row whose raw cell in ``column`` is ``value``, or None."""
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            reader = self._csv_reader([column], {column: pa.string()})
            row0 = 0
            for batch in reader:
                i = pc.index(batch.column(0), pa.scalar(value, pa.string())).as_py()
                if i >= 0:
                    return row0 + i
                row0 += batch.num_rows
        except Exception:  # noqa: BLE001 - only locating an error already found
            return None
        return None

    # --- reading -----------------------------------------------------------------

    def check_columns(self, columns: list[str], *, numeric: list[str] = (),
                      what: str = "column") -> None:
        """Refuse columns that are absent, or not numeric where they must be."""
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise ColumnError(
                f"{self.path}: no {what}{'s' if len(missing) > 1 else ''} "
                f"{quote_list(missing)}; columns found: {quote_list(self.columns)}."
                f"{self._header_hint()}", path=self.path, column=missing[0])
        if self.format == "csv":
            return
        for name in columns:
            t = self._types[name]
            if isinstance(t, str):  # a NumPy dtype that has no Arrow counterpart here
                ok, described = False, t
            else:
                ok = _numeric_type(t) if name in numeric else _label_type(t)
                described = _describe_type(t)
            if not ok:
                if name in numeric:
                    raise ColumnError(
                        f"{self.path}, column {name!r}: {described} is not numeric; "
                        f"features must be numbers: convert the column or leave it out with "
                        f"--features.", path=self.path, column=name)
                raise ColumnError(
                    f"{self.path}, column {name!r}: the target's type {described} "
                    f"cannot hold class labels; use numbers, booleans or strings.",
                    path=self.path, column=name)

    def _header_hint(self) -> str:
        if self.format != "csv":
            return ""
        if len(self.columns) == 1:
            for sep, name in ((";", "';'"), ("\t", "tab"), ("|", "'|'"), (",", "','")):
                if sep in self.columns[0] and sep != self.delimiter:
                    arg = "tab" if sep == "\t" else repr(sep)
                    return (f" The header is one column that contains {name}: is the "
                            f"delimiter {name}? Pass --delimiter {arg}.")
        if all(_looks_numeric(c) for c in self.columns):
            return " The first line looks like data: does the file have a header row?"
        return ""

    def column_kinds(self, columns: list[str]) -> dict:
        """Each column's kind (:func:`neurona.data.encoding.kind_of`): from the file's
        types, or for CSV, from the types pyarrow infers from the first block."""
        absent = [c for c in columns if c not in self.columns]
        if absent:
            self.check_columns(absent, what="column")  # raises, naming them
        if self.format != "csv":
            return {c: kind_of(self._types[c]) if not isinstance(self._types[c], str)
                    else "other" for c in columns}
        reader = self._csv_reader(columns, {})
        try:
            first = reader.read_next_batch()
        except StopIteration:
            return {c: "number" for c in columns}
        except Exception as exc:  # noqa: BLE001 - translated into a DataError
            raise self._csv_error(exc) from None
        finally:
            reader.close()
        kinds = {c: kind_of(first.schema.field(c).type) for c in columns}
        for c in columns:
            if kinds[c] == "category":
                self._refuse_mixed(c, first.column(c))
        return kinds

    def _refuse_mixed(self, column: str, cells) -> None:
        """Refuse a text column of a CSV file whose other cells are numbers (a typo in a
        number column, most likely), naming the first cell that is not a number."""
        import pyarrow.compute as pc

        values = pc.unique(cells.drop_null()).to_pylist()
        numbers = [v for v in values if _looks_numeric(v)]
        if numbers and len(numbers) < len(values):
            text = next(v for v in cells.to_pylist() if v is not None and not _looks_numeric(v))
            row = self._find_value(column, text)
            raise DataValueError(
                f"{self.where(row, column)}: {text!r:.40} is not a number, but the column's "
                f"other cells are numbers; fix the cell, or leave the column out with "
                f"--features.", path=self.path, column=column,
                line=None if row is None else self.line(row))

    def batches(self, columns: list[str], *, numeric: list[str] = (),
                batch_rows: int | None = None, kinds: dict | None = None
                ) -> Iterator[tuple[int, "object"]]:
        """Yield ``(row0, table)``: the requested columns, batch after batch.

        ``row0`` is the 0-based index of the batch's first row; ``numeric``
        columns arrive as numbers (CSV cells are parsed as float64, other
        columns as strings). ``kinds`` (see :meth:`column_kinds`) reads a CSV
        file's ``number`` columns as float64 and its ``boolean`` ones as booleans.
        """
        kinds = kinds or {}
        self.check_columns(columns, numeric=numeric)
        batch_rows = batch_rows or BATCH_ROWS
        if self.format == "csv":
            yield from self._csv_batches(columns, numeric, kinds)
        elif self.format == "parquet":
            yield from self._parquet_batches(columns, batch_rows)
        else:
            yield from self._numpy_batches(columns, batch_rows)

    def _csv_batches(self, columns, numeric, kinds):
        import pyarrow as pa

        read_as = {"number": pa.float64(), "boolean": pa.bool_()}
        types = {c: (pa.float64() if c in numeric else read_as.get(kinds.get(c), pa.string()))
                 for c in columns}
        row0 = 0
        for table in self._csv_tables(columns, types):
            yield row0, table
            row0 += table.num_rows

    def _csv_tables(self, columns, types):
        """The CSV file's blocks (of ``CSV_BLOCK_BYTES``) as tables: UTF-8 text parsed on
        every core (:mod:`neurona.data.csvblocks`), other encodings by pyarrow's reader."""
        import pyarrow as pa

        from .csvblocks import LongHeader, parsed_blocks

        if codecs.lookup(self.encoding).name == "utf-8":
            blocks = parsed_blocks(
                self.path, gzipped=self.path.name.lower().endswith(".gz"),
                block_bytes=CSV_BLOCK_BYTES, column_names=self.columns, read_options={},
                parse_options=dict(delimiter=self.delimiter, newlines_in_values=False),
                convert_options=dict(include_columns=columns, column_types=types,
                                     strings_can_be_null=True))
            try:
                yield from self._translated(blocks)
                return
            except LongHeader:  # a header longer than a block: pyarrow's reader reads it
                pass
            finally:
                blocks.close()
        reader = self._csv_reader(columns, types)
        try:
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001 - translated into a DataError
                    raise self._csv_error(exc) from None
                yield pa.Table.from_batches([batch])
        finally:
            reader.close()

    def _translated(self, tables):
        """``tables``, their errors translated into DataErrors (``LongHeader`` passed on)."""
        from .csvblocks import LongHeader

        try:
            yield from tables
        except LongHeader:
            raise
        except (EOFError, zlib.error) as exc:  # a gzipped file cut short or damaged
            raise self._csv_error(OSError(str(exc))) from None
        except Exception as exc:  # noqa: BLE001 - translated into a DataError
            raise self._csv_error(exc) from None

    def _parquet_batches(self, columns, batch_rows):
        import pyarrow as pa

        row0 = 0
        it = self._parquet.iter_batches(batch_size=batch_rows, columns=columns)
        while True:
            try:
                batch = next(it)
            except StopIteration:
                break
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types here
                raise DataFileError(f"{self.path}: corrupt Parquet data after row {row0} "
                                    f"({one_line(exc)}); the file is damaged or truncated.",
                                    path=self.path) from None
            table = pa.Table.from_batches([batch])
            yield row0, table
            row0 += table.num_rows

    def _numpy_batches(self, columns, batch_rows):
        import pyarrow as pa

        for row0 in range(0, self.n_rows, batch_rows):
            stop = min(row0 + batch_rows, self.n_rows)
            try:
                table = pa.table({c: _arrow_ready(self._arrays[c][row0:stop]) for c in columns})
            except Exception as exc:  # noqa: BLE001 - NumPy (a memory map) or pyarrow
                raise DataFileError(f"{self.path}: cannot read rows {row0 + 1}-{stop} "
                                    f"({one_line(exc)[:200]}).", path=self.path) from None
            yield row0, table


def _arrow_ready(a: np.ndarray) -> np.ndarray:
    """A NumPy column as pyarrow takes it: contiguous, in native byte order, no half floats."""
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    if a.dtype == np.float16:  # pyarrow's compute functions have no half-float kernels
        a = a.astype(np.float32)
    return np.ascontiguousarray(a)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- class labels ------------------------------------------------------------------

def position(row0, i: int) -> int:
    """The file position of a batch's row ``i``: ``row0 + i``, or ``row0[i]`` when
    ``row0`` holds each row's position (a batch some of whose rows were left out)."""
    return int(row0[i]) if isinstance(row0, np.ndarray) else row0 + i


def label_value(value):
    """A class label as neurona stores it: bool, int, float or str.

    Text that reads as an integer or a number becomes one (``"1"`` -> 1),
    ``"true"``/``"false"`` become booleans, and integral floats become
    integers (``1.0`` -> 1), so a CSV and a Parquet file of the same data give
    the same labels.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        for parse in (int, float):
            try:
                return label_value(parse(text))
            except ValueError:
                pass
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        return text
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"{value!r} is not a class label")
    return int(number) if number.is_integer() else number


def sort_labels(labels) -> list:
    """Labels in class order: numbers and booleans ascending, then strings."""
    return sorted(labels, key=lambda v: (isinstance(v, str), v))


def _one_where(col, raws: list) -> np.ndarray:
    """1.0 where a cell of ``col`` (a pyarrow column, no nulls) is one of ``raws``, else 0.0."""
    import pyarrow.compute as pc

    coded = pc.dictionary_encode(one_array(col))
    hit = np.array([raw in raws for raw in coded.dictionary.to_pylist()], dtype=np.float64)
    return hit[as_numpy(coded.indices, np.int32)]


class Labels:
    """The target column's two classes and their codes 0 and 1.

    With ``classes=None`` the classes are discovered by :meth:`observe`
    (sorted, the first becomes 0, as scikit-learn's ``LabelEncoder`` does);
    with ``classes`` given, labels outside them are refused.
    """

    def __init__(self, datafile: DataFile, column: str, classes: list | None = None):
        self.file, self.column = datafile, column
        self.classes = None if classes is None else [label_value(c) for c in classes]
        self._seen: list = [] if classes is None else list(self.classes)
        self._code: dict = {}
        self.counts = [0, 0]

    def _values(self, col):
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_dictionary(col.type):
            col = pc.cast(col, col.type.value_type)
        if pa.types.is_float16(col.type):  # no compute kernels for half floats
            col = pc.cast(col, pa.float32())
        return col

    def _check_present(self, col, row0: int) -> None:
        import pyarrow.compute as pc

        if col.null_count:
            i = pc.index(pc.is_null(col), True).as_py()
            raise DataValueError(
                f"{self.file.where(position(row0, i), self.column)}: missing class label; every row "
                f"needs a target value: fill it in or drop the row.", path=self.file.path,
                column=self.column, line=self.file.line(position(row0, i)))

    def _learn(self, raw, col, row0: int) -> None:
        """Map one raw value of ``col`` to its label, or refuse it."""
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            label = label_value(raw)
        except ValueError:
            label = None
        if label is None or (self.classes is not None and label not in self.classes):
            i = pc.index(col, pa.scalar(raw, col.type)).as_py()
            what = ("is not a class label; fill it in or drop the row" if label is None else
                    f"is not one of the model's classes {quote_list(self.classes)}")
            error = DataValueError if label is None else TargetError
            raise error(f"{self.file.where(position(row0, i), self.column)}: label {raw!r} {what}.",
                        path=self.file.path, column=self.column, line=self.file.line(position(row0, i)))
        if label not in self._seen:
            self._seen.append(label)
        self._code[raw] = label

    def observe(self, table, row0: int) -> None:
        """Learn the labels of one batch; refuse a third class as soon as it appears."""
        import pyarrow.compute as pc

        col = self._values(table.column(self.column))
        self._check_present(col, row0)
        for raw in pc.unique(col).to_pylist():
            if raw not in self._code:
                self._learn(raw, col, row0)
        if self.classes is None and len(self._seen) > 2:
            self._too_many(col, row0)

    def _too_many(self, col, row0: int) -> None:
        import pyarrow.compute as pc

        labels = sort_labels(self._seen)
        # Gather a few more labels of this batch for the message.
        for raw in pc.unique(col).to_pylist()[:4 * MAX_SHOWN]:
            try:
                value = label_value(raw)
            except ValueError:
                continue
            if value not in labels:
                labels.append(value)
        numbers = ("; or fit the numbers with --task regress"
                   if all(isinstance(v, (int, float)) and not isinstance(v, bool)
                          for v in labels) else "")
        raise TargetError(
            f"{self.file.path}, column {self.column!r}: more than two classes "
            f"({quote_list(sort_labels(labels))}); neurona trains a binary classifier: keep "
            f"the rows of two classes, or recode the column into two"
            f"{numbers}.", path=self.file.path,
            column=self.column)

    @property
    def seen(self) -> list:
        """The labels met so far, in the order first met (the classes first, when given)."""
        return list(self._seen)

    def restore(self, seen: list) -> None:
        """Take ``seen`` as the labels met (as a cache of the file recorded them)."""
        if self.classes is None:
            self._seen = [label_value(v) for v in seen]

    def seen_codes(self, table) -> np.ndarray:
        """The batch's labels as 0.0/1.0, each its label's place in :attr:`seen` (after
        :meth:`observe` has seen the batch): the class codes when the first label met is
        the first class, their complements otherwise."""
        col = self._values(table.column(self.column))
        second = [raw for raw, label in self._code.items()
                  if len(self._seen) > 1 and label == self._seen[1]]
        return _one_where(col, second)

    def finish(self) -> list:
        """The two classes, in code order; refuses one class (or none)."""
        if self.classes is None:
            if len(self._seen) < 2:
                only = f"one class ({self._seen[0]!r})" if self._seen else "no labels"
                raise TargetError(
                    f"{self.file.path}, column {self.column!r}: only {only}; a binary "
                    f"classifier needs rows of two classes.", path=self.file.path,
                    column=self.column)
            self.classes = sort_labels(self._seen)
        return list(self.classes)

    def count(self, table, keep: np.ndarray) -> dict:
        """How many of the batch's rows where ``keep`` is True hold each label (after
        :meth:`observe` has seen the batch)."""
        import pyarrow.compute as pc

        col = self._values(table.column(self.column)).filter(arrow_mask(keep))
        out: dict = {}
        for item in pc.value_counts(col).to_pylist():
            label = self._code[item["values"]]
            out[label] = out.get(label, 0) + item["counts"]
        return out

    def encode(self, table, row0: int, scaled: bool = True) -> np.ndarray:
        """The batch's labels as 0.0/1.0 (float64), by the classes' order (``scaled`` is
        for a regression's target, :class:`neurona.data.target.Numbers`; labels are codes)."""
        import pyarrow.compute as pc

        col = self._values(table.column(self.column))
        self._check_present(col, row0)
        for raw in pc.unique(col).to_pylist():
            if raw not in self._code:
                self._learn(raw, col, row0)
        positive = [raw for raw, label in self._code.items() if label == self.classes[1]]
        return _one_where(col, positive)
