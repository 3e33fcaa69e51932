"""How a table's raw columns become the neuron's features, learned on the training rows.

Each feature column has a kind, from its type (a Parquet or NumPy column's, or
what pyarrow infers from a CSV file's first block):

- ``number``: one feature, the value itself;
- ``boolean``: one feature, 0 or 1;
- ``category`` (text or a categorical column): one feature per category seen
  in the training rows, sorted, 1 for the row's category (one-hot encoding, as
  scikit-learn's ``OneHotEncoder``); a category never seen in training gives
  all zeros (``unknown="ignore"``, ``OneHotEncoder(handle_unknown="ignore")``)
  or an error (``unknown="error"``). A column with more than
  ``max_categories`` categories (an ID, free text) is refused unless it is
  hashed;
- ``hash``: ``n`` features, the row's value hashed into one of them (the
  hashing trick): BLAKE2b of its UTF-8 text, as an unsigned 64-bit integer,
  modulo ``n``; no category list is kept, so unseen values need no rule.

Date and time columns are refused: derive numbers from them first.

A missing value (an empty, ``NA`` or ``NaN`` cell, or null) follows one rule
for every column (``missing``): ``"error"``; ``"drop"`` (the row is left out of
training; at prediction it is an error, the model having no value to fill in);
or an imputation learned on the training rows, as scikit-learn's
``SimpleImputer``: ``"mean"`` or ``"median"`` of a number or boolean column
(a category or hashed column takes its most frequent value), or
``"most_frequent"`` of every column (ties: the smallest value). The
imputation comes first, then the one-hot encoding, as in a scikit-learn
pipeline.

:class:`EncodingFit` gathers what the encoding needs from batches of training
rows (value counts, sums, the values themselves for a median), and merges
with another fit, so partitions can be fitted apart; :meth:`EncodingFit.result`
gives the :class:`Encoding`, which turns any batch (a pyarrow Table) into the
feature matrix and is saved in the model file (:meth:`Encoding.to_dict`).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ColumnError, DataValueError, ModelFileError, OptionError

KINDS = ("number", "boolean", "category", "hash")
MISSING = ("error", "drop", "mean", "median", "most_frequent")
UNKNOWN = ("ignore", "error")
#: The categories a text column may have before it is refused (unless hashed).
MAX_CATEGORIES = 50
#: How the features of a category and of a hashed column are named.
CATEGORY_NAME, HASH_NAME = "{column}={value}", "{column}#{index}"


def check_choice(value, choices, option: str) -> str:
    if value not in choices:
        raise OptionError(f"{option} must be one of {', '.join(choices)}, got {value!r}.")
    return value


def kind_of(arrow_type) -> str:
    """The kind of a column of this pyarrow type (``"datetime"`` for dates and times,
    ``"other"`` for types neurona cannot encode)."""
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        return "category"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if (pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type)
            or pa.types.is_decimal(arrow_type) or pa.types.is_null(arrow_type)):
        return "number"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) \
            or pa.types.is_string_view(arrow_type):
        return "category"
    if pa.types.is_temporal(arrow_type):
        return "datetime"
    return "other"


def hash_index(values: list[str], n: int) -> np.ndarray:
    """Each value's bucket in ``0 .. n - 1``: BLAKE2b (8 bytes, little-endian) modulo ``n``."""
    return np.array([int.from_bytes(hashlib.blake2b(v.encode("utf-8"), digest_size=8).digest(),
                                    "little") % n for v in values], dtype=np.int64)


#: The missing-value rules that learn a fill value from the training rows.
IMPUTATIONS = ("mean", "median", "most_frequent")


@dataclass(frozen=True)
class ColumnRules:
    """The choices for a table's feature columns (see the module's docstring).

    Parameters
    ----------
    missing : {"error", "drop", "mean", "median", "most_frequent"}, default="error"
    unknown : {"ignore", "error"}, default="ignore"
    hashed : dict, default={}
        Columns to hash, each with its number of features.
    max_categories : int, default=MAX_CATEGORIES
    """

    missing: str = "error"
    unknown: str = "ignore"
    hashed: dict = field(default_factory=dict)
    max_categories: int = MAX_CATEGORIES

    def __post_init__(self):
        check_choice(self.missing, MISSING, "--missing")
        check_choice(self.unknown, UNKNOWN, "--unknown")
        if isinstance(self.max_categories, bool) or not isinstance(self.max_categories, int) \
                or self.max_categories < 1:
            raise OptionError(f"--max-categories must be a positive integer, got "
                              f"{self.max_categories!r}.")
        if not isinstance(self.hashed, dict) or not all(
                isinstance(k, str) and isinstance(n, int) and not isinstance(n, bool)
                and 1 <= n <= 1 << 20 for k, n in self.hashed.items()):
            raise OptionError("--hash takes COLUMN=N pairs, N a number of features in "
                              "[1, 1048576].")

    def to_dict(self) -> dict:
        return {"missing": self.missing, "unknown": self.unknown, "hash": dict(self.hashed),
                "max_categories": self.max_categories}

    @classmethod
    def from_dict(cls, doc: dict | None) -> "ColumnRules":
        doc = doc or {}
        return cls(doc.get("missing", "error"), doc.get("unknown", "ignore"),
                   dict(doc.get("hash", {})), doc.get("max_categories", MAX_CATEGORIES))

    def needs_fit(self, kinds: dict) -> bool:
        """Whether the encoding needs statistics of the training rows (categories or fills)."""
        return self.missing in IMPUTATIONS or any(
            kind == "category" and name not in self.hashed for name, kind in kinds.items())

    def fit(self, kinds: dict, place=None) -> "EncodingFit":
        return EncodingFit(kinds, missing=self.missing, unknown=self.unknown,
                           hashed=self.hashed, max_categories=self.max_categories, place=place)


def missing_rows(table, kinds: dict) -> np.ndarray:
    """Which rows of ``table`` miss a value in any of the columns ``kinds`` names: NaN or
    null in a number or boolean column, null in any other."""
    mask = np.zeros(table.num_rows, dtype=bool)
    for name, kind in kinds.items():
        col = table.column(name)
        if kind in ("number", "boolean"):
            mask |= np.isnan(numbers(col))
        elif col.null_count:
            mask |= nulls(col)
    return mask


@dataclass
class ColumnCode:
    """How one raw column becomes features: its kind, and what training taught it.

    Attributes
    ----------
    name : str
    kind : {"number", "boolean", "category", "hash"}
    fill : float or str or None
        The value a missing cell takes (an imputation), None without one.
    categories : list of str
        A category column's categories, in feature order.
    n : int
        A hashed column's number of features.
    """

    name: str
    kind: str
    fill: float | str | None = None
    categories: list[str] = field(default_factory=list)
    n: int = 0

    @property
    def feature_names(self) -> list[str]:
        if self.kind == "category":
            return [CATEGORY_NAME.format(column=self.name, value=c) for c in self.categories]
        if self.kind == "hash":
            return [HASH_NAME.format(column=self.name, index=i) for i in range(self.n)]
        return [self.name]

    @property
    def width(self) -> int:
        return len(self.feature_names)

    def to_dict(self) -> dict:
        doc = {"name": self.name, "kind": self.kind}
        if self.fill is not None:
            doc["fill"] = self.fill
        if self.kind == "category":
            doc["categories"] = list(self.categories)
        if self.kind == "hash":
            doc["n"] = self.n
        return doc


def one_array(col):
    """A pyarrow column as one array: a chunked one's only chunk as it lies, or its chunks
    joined (a copy) when it has several."""
    import pyarrow as pa

    if not isinstance(col, pa.ChunkedArray):
        return col
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()


def _strings(col):
    """A pyarrow array of text (a dictionary column decoded, numbers as their text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = one_array(col)
    if pa.types.is_dictionary(col.type):
        col = pc.cast(col, col.type.value_type)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = pc.cast(col, pa.string())
    return col


def numbers(col) -> np.ndarray:
    """A pyarrow array of numbers or booleans as float64, NaN where missing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = one_array(col)
    if pa.types.is_float16(col.type):
        col = pc.cast(col, pa.float32())
    if col.type != pa.float64():
        col = pc.cast(col, pa.float64(), safe=False)
    return as_numpy(col, np.float64, missing=np.nan)


def valid_cells(col) -> np.ndarray:
    """Where a pyarrow array holds a value (not null), as a boolean vector, from its bitmap."""
    n, bitmap = len(col), col.buffers()[0]
    if bitmap is None:
        return np.full(n, col.null_count == 0)
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), count=col.offset + n,
                         bitorder="little")
    return bits[col.offset:].astype(bool)


def nulls(col) -> np.ndarray:
    """Where a pyarrow column (chunked or not) holds a null, as a boolean vector."""
    return ~valid_cells(one_array(col))


def arrow_mask(keep: np.ndarray):
    """A NumPy boolean vector as a pyarrow boolean array, for ``filter``: its bits packed
    into the array's buffer (``pa.array`` would import pandas)."""
    import pyarrow as pa

    bits = np.packbits(np.asarray(keep, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(keep), [None, pa.py_buffer(bits)])


def as_numpy(col, dtype, missing=None) -> np.ndarray:
    """A pyarrow array of fixed-width numbers as a NumPy vector of ``dtype`` (its type's),
    read from its data buffer: no copy, read-only, unless nulls must become ``missing``.

    ``Array.to_numpy`` would do it too, but it imports pandas (0.2 s of a run's start)."""
    n, data = len(col), col.buffers()[1]
    if data is None:  # an array of nulls only
        return np.full(n, missing, dtype=dtype)
    itemsize = np.dtype(dtype).itemsize
    values = np.frombuffer(data, dtype=dtype, count=n, offset=col.offset * itemsize)
    if col.null_count:
        values = values.copy()
        values[~valid_cells(col)] = missing
    else:
        values.flags.writeable = False  # the column's memory: not to be written through
    return values


class Encoding:
    """The fitted encoding of a table's feature columns (see the module's docstring).

    Parameters
    ----------
    columns : list of ColumnCode
        One per raw feature column, in the order their features come.
    missing : {"error", "drop", "mean", "median", "most_frequent"}
    unknown : {"ignore", "error"}
        What a category column does with a category training never saw.
    """

    def __init__(self, columns: list[ColumnCode], missing: str = "error",
                 unknown: str = "ignore"):
        self.columns = list(columns)
        self.missing = check_choice(missing, MISSING, "missing")
        self.unknown = check_choice(unknown, UNKNOWN, "unknown")

    @property
    def names(self) -> list[str]:
        """The raw columns the encoding reads."""
        return [c.name for c in self.columns]

    @property
    def feature_names(self) -> list[str]:
        return [f for c in self.columns for f in c.feature_names]

    @property
    def n_features(self) -> int:
        return sum(c.width for c in self.columns)

    @property
    def plain(self) -> bool:
        """Whether the features are the columns as they are (numbers or booleans, none
        filled in, no row dropped): a model file then needs no ``encoding``."""
        return all(c.kind in ("number", "boolean") and c.fill is None for c in self.columns) \
            and self.missing == "error"

    def groups(self) -> list[tuple[str, list[int]]]:
        """Each raw column and the indices of its features."""
        out, start = [], 0
        for c in self.columns:
            out.append((c.name, list(range(start, start + c.width))))
            start += c.width
        return out

    # -- applying it --------------------------------------------------------

    @property
    def kinds(self) -> dict:
        return {c.name: c.kind for c in self.columns}

    @classmethod
    def of_numbers(cls, names) -> "Encoding":
        """Every column a number, as it is: the encoding of a model file that records none."""
        return cls([ColumnCode(n, "number") for n in names])

    def features_of(self, data) -> np.ndarray:
        """The features of in-memory raw rows: a pandas DataFrame, a pyarrow Table, a dict
        of columns or a list of records (dicts); a 2-D array is taken as features already."""
        table = as_table(data)
        if table is None:
            return np.asarray(data)
        missing = [n for n in self.names if n not in table.column_names]
        if missing:
            raise ColumnError(f"the data have no column {', '.join(map(repr, missing))}; the "
                              f"model reads {', '.join(map(repr, self.names))}.",
                              column=missing[0])
        X, _ = self.transform(table, RowPlace(), np.arange(table.num_rows))
        return X

    def transform(self, table, place, rows, *, training: bool = False) -> tuple:
        """The features of ``table``'s rows, and which rows they are.

        ``place`` names a row in an error (``place.where(row, column)``, as
        :class:`~neurona.data.readers.DataFile` does); ``rows`` are the rows'
        0-based positions there. Returns ``(X, keep)``: ``keep`` marks the rows
        ``X`` holds, all but those ``missing="drop"`` leaves out while
        ``training`` (at prediction, a missing value under ``"drop"`` is an error).
        """
        n = table.num_rows
        keep = np.ones(n, dtype=bool)
        if self.missing == "drop":
            lost = missing_rows(table, self.kinds)
            if lost.any() and not training:
                i = int(np.argmax(lost))
                column = next(c.name for c in self.columns
                              if missing_rows(table, {c.name: c.kind})[i])
                raise DataValueError(
                    f"{place.where(int(rows[i]), column)}: missing value, and the model (trained "
                    f"with --missing drop) has no value to fill in; fill the cell in, or train "
                    f"with --missing mean, median or most_frequent.", path=place.path,
                    column=column, line=place.line(int(rows[i])))
            keep = ~lost
        everyone = bool(keep.all())
        # Every entry is written but those of the one-hot and hashed columns' zeros.
        numeric = all(c.kind in ("number", "boolean") for c in self.columns)
        X = (np.empty if numeric else np.zeros)((int(keep.sum()), self.n_features),
                                                dtype=np.float64)
        start, numeric_columns = 0, []
        for c in self.columns:
            col = table.column(c.name)
            if c.kind in ("number", "boolean"):
                numeric_columns.append((start, self._number(
                    c, col, place, rows, None if everyone else keep, training)))
            else:
                self._categories(c, col, place, rows, keep, X[:, start:start + c.width],
                                 training)
            start += c.width
        _put_columns(X, numeric_columns)
        return X, keep

    def _missing(self, c: ColumnCode, place, row: int, training: bool):
        how = ("fill the cell in, drop the row, or pass --missing drop, mean, median or "
               "most_frequent" if training else
               f"fill the cell in (the model, trained with --missing {self.missing}, has no "
               f"value to fill in)")
        return DataValueError(
            f"{place.where(row, c.name)}: missing value (empty, NA or NaN); every feature needs "
            f"a value: {how}.", path=place.path, column=c.name, line=place.line(row))

    def _number(self, c, col, place, rows, keep, training) -> np.ndarray:
        """The column's values of the kept rows (``keep`` None: every row), checked."""
        values = numbers(col)
        if np.isfinite(np.add.reduce(values)):  # no NaN, no infinity: nothing to check
            return values if keep is None else values[keep]
        bad = np.isinf(values)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataValueError(f"{place.where(int(rows[i]), c.name)}: infinite value "
                                 f"({values[i]}); every feature needs a finite number: fix the "
                                 f"cell or drop the row.", path=place.path, column=c.name,
                                 line=place.line(int(rows[i])))
        if keep is not None:
            values, rows = values[keep], rows[keep]
        lost = np.isnan(values)
        if lost.any():
            if c.fill is None:
                raise self._missing(c, place, int(rows[int(np.argmax(lost))]), training)
            values = values.copy() if not values.flags.writeable else values
            values[lost] = c.fill
        return values

    def _categories(self, c, col, place, rows, keep, block, training) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        text = _strings(col).filter(arrow_mask(keep))
        if text.null_count:
            if c.fill is None:
                i = pc.index(pc.is_null(text), True).as_py()
                raise self._missing(c, place, int(rows[keep][i]), training)
            text = pc.fill_null(text, c.fill)
        if c.kind == "hash":
            unique = pc.unique(text)
            buckets = hash_index(unique.to_pylist(), c.n)
            index = buckets[np.asarray(pc.index_in(text, value_set=unique).to_numpy())]
            block[np.arange(len(index)), index] = 1.0
            return
        index = pc.index_in(text, value_set=pa.array(c.categories, type=pa.string()))
        if index.null_count and self.unknown == "error":
            i = pc.index(pc.is_null(index), True).as_py()
            raise DataValueError(
                f"{place.where(int(rows[keep][i]), c.name)}: {text[i].as_py()!r:.40} is not "
                f"one of the categories training saw ({', '.join(map(repr, c.categories[:8]))}"
                f"{', ...' if len(c.categories) > 8 else ''}); pass --unknown ignore to encode "
                f"it as all zeros.", path=place.path, column=c.name,
                line=place.line(int(rows[keep][i])))
        index = index.to_numpy(zero_copy_only=False)
        known = ~np.isnan(index.astype(np.float64))
        block[np.flatnonzero(known), index[known].astype(np.int64)] = 1.0

    # -- the model file -----------------------------------------------------

    def to_dict(self) -> dict:
        return {"missing": self.missing, "unknown": self.unknown,
                "columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, doc, where: str = "encoding") -> "Encoding":
        """Rebuild an encoding from a model file's ``encoding`` field, checking every value."""
        def fail(message):
            raise ModelFileError(f"{where}: encoding {message}")

        if not isinstance(doc, dict) or not isinstance(doc.get("columns"), list) \
                or not doc["columns"]:
            fail("must be an object with a non-empty list of columns.")
        if doc.get("missing") not in MISSING or doc.get("unknown") not in UNKNOWN:
            fail(f"missing must be one of {', '.join(MISSING)} and unknown one of "
                 f"{', '.join(UNKNOWN)}.")
        columns = []
        for k, item in enumerate(doc["columns"]):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) \
                    or not item["name"] or item.get("kind") not in KINDS:
                fail(f"column {k} must have a name and a kind ({', '.join(KINDS)}).")
            kind, fill = item["kind"], item.get("fill")
            numeric = kind in ("number", "boolean")
            if fill is not None and not (
                    (numeric and isinstance(fill, (int, float)) and not isinstance(fill, bool)
                     and math.isfinite(fill)) or (not numeric and isinstance(fill, str))):
                fail(f"column {item['name']!r} has a fill of the wrong type ({fill!r:.40}).")
            categories = item.get("categories", [])
            if kind == "category" and (not isinstance(categories, list) or not categories or
                                       not all(isinstance(v, str) for v in categories) or
                                       len(set(categories)) != len(categories)):
                fail(f"column {item['name']!r} must list its distinct categories (strings).")
            n = item.get("n", 0)
            if kind == "hash" and not (isinstance(n, int) and not isinstance(n, bool)
                                       and 1 <= n <= 1 << 20):
                fail(f"column {item['name']!r} must have a number of hashed features n.")
            columns.append(ColumnCode(item["name"], kind, fill, list(categories), n))
        if len({c.name for c in columns}) != len(columns):
            fail("names a column twice.")
        return cls(columns, doc["missing"], doc["unknown"])


#: Rows written at a time when columns go into the row-major ``X``: a stripe that stays
#: in a core's cache while every column is written into it (three times faster here
#: than writing each column down the whole of ``X``, which reads it all once a column).
STRIPE_ROWS = 4096


def _put_columns(X: np.ndarray, columns: list) -> None:
    """``X[:, j] = values`` for each ``(j, values)`` of ``columns``, a stripe of rows at a time."""
    for i in range(0, len(X), STRIPE_ROWS):
        stripe = X[i:i + STRIPE_ROWS]
        for j, values in columns:
            stripe[:, j] = values[i:i + STRIPE_ROWS]


def as_table(data):
    """In-memory rows as a pyarrow Table: a pandas DataFrame, a Table, a dict of columns or
    a list of records (dicts); None for anything else (an array)."""
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if hasattr(data, "columns") and hasattr(data, "iloc"):  # a pandas DataFrame
        return pa.Table.from_pandas(data, preserve_index=False)
    if isinstance(data, dict):
        return pa.table({k: v if isinstance(v, np.ndarray) else list(v)
                         for k, v in data.items()})
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        # A NaN among text (pandas writes missing text so) is a missing value, None.
        return pa.Table.from_pylist([{k: None if isinstance(v, float) and v != v else v
                                      for k, v in r.items()} for r in data])
    return None


def fit_encoding(data, rules: "ColumnRules | None" = None) -> Encoding:
    """The encoding of in-memory rows (a DataFrame, a Table, a dict of columns or records)
    learned from all of them: every column is a feature column, of the kind its type says.

    With ``missing="drop"`` the rows missing a value are left out of what is learned.
    """
    table = as_table(data)
    if table is None:
        raise OptionError("fit_encoding takes a pandas DataFrame, a pyarrow Table, a dict of "
                          "columns or a list of records.")
    rules = rules or ColumnRules()
    kinds = {name: kind_of(table.schema.field(name).type) for name in table.column_names}
    fit = rules.fit(kinds, RowPlace())
    if rules.missing == "drop":
        table = table.filter(arrow_mask(~missing_rows(table, kinds)))
    fit.update(table)
    return fit.result()


class RowPlace:
    """Where a row of in-memory data is, for error messages: ``row N, column 'c'``."""

    path = "the data"

    def line(self, row: int) -> int:
        return row + 1

    def where(self, row: int | None = None, column: str | None = None) -> str:
        parts = [self.path]
        if row is not None:
            parts.append(f"row {row + 1}")
        if column is not None:
            parts.append(f"column {column!r}")
        return ", ".join(parts)


# --- fitting -------------------------------------------------------------------------

class EncodingFit:
    """What the encoding needs, gathered from batches of training rows; merges with another.

    Parameters
    ----------
    kinds : dict
        Each feature column's kind (:func:`kind_of` of its type); a
        ``"datetime"`` or ``"other"`` column is refused here.
    missing, unknown : str
        The rules (see the module's docstring).
    hashed : dict, default=None
        Columns to hash, and their number of features.
    max_categories : int, default=MAX_CATEGORIES
    place : object with ``path``
        Names the data in messages.
    """

    def __init__(self, kinds: dict, *, missing: str = "error", unknown: str = "ignore",
                 hashed: dict | None = None, max_categories: int = MAX_CATEGORIES,
                 place=None):
        self.missing = check_choice(missing, MISSING, "--missing")
        self.unknown = check_choice(unknown, UNKNOWN, "--unknown")
        self.hashed = dict(hashed or {})
        self.max_categories = max_categories
        self.path = getattr(place, "path", "the data")
        unknown_hashed = sorted(set(self.hashed) - set(kinds))
        if unknown_hashed:
            raise OptionError(f"--hash names {', '.join(map(repr, unknown_hashed))}, which "
                              f"{'is' if len(unknown_hashed) == 1 else 'are'} not a feature "
                              f"column; the features are {', '.join(map(repr, kinds))}.")
        for name, kind in kinds.items():
            if name in self.hashed:
                continue
            if kind == "datetime":
                raise ColumnError(
                    f"{self.path}, column {name!r}: a date or time; neurona does not encode "
                    f"dates: derive numbers from it (days since a date, the month, the hour) "
                    f"or leave it out with --features.", path=self.path, column=name)
            if kind not in KINDS:
                raise ColumnError(f"{self.path}, column {name!r}: its type cannot be a feature; "
                                  f"convert it to numbers or text, or leave it out with "
                                  f"--features.", path=self.path, column=name)
        self.kinds = {name: ("hash" if name in self.hashed else kind)
                      for name, kind in kinds.items()}
        # Per column: value counts (categories, most frequent), or count and sum (mean),
        # or the values (median).
        self.counts = {name: {} for name in self.kinds}
        self.sums = {name: [0, 0.0] for name in self.kinds}
        self.values = {name: [] for name in self.kinds}

    def _needs(self, kind: str) -> str | None:
        """The statistic a column of ``kind`` needs for its fill, None without imputation."""
        if self.missing in ("error", "drop"):
            return None
        if kind in ("category", "hash") or self.missing == "most_frequent":
            return "most_frequent"
        return self.missing

    def update(self, table) -> None:
        """Learn from one batch of training rows (those left out by ``drop`` removed)."""
        import pyarrow.compute as pc

        for name, kind in self.kinds.items():
            col = table.column(name)
            need = self._needs(kind)
            if kind in ("number", "boolean"):
                values = numbers(col)
                values = values[~np.isnan(values) & np.isfinite(values)]
                if need == "mean":
                    self.sums[name][0] += len(values)
                    self.sums[name][1] += float(values.sum())
                elif need == "median":
                    self.values[name].append(values)
                elif need == "most_frequent":
                    found, k = np.unique(values, return_counts=True)
                    counts = self.counts[name]
                    for v, m in zip(found.tolist(), k.tolist()):
                        counts[v] = counts.get(v, 0) + m
            else:
                counts = self.counts[name]
                for item in pc.value_counts(_strings(col).drop_null()).to_pylist():
                    counts[item["values"]] = counts.get(item["values"], 0) + item["counts"]
                if kind == "category" and len(counts) > self.max_categories:
                    self._too_many(name, len(counts))

    def merge(self, other: "EncodingFit") -> "EncodingFit":
        """Add another fit's statistics (of other training rows) to this one."""
        for name in self.kinds:
            for v, m in other.counts[name].items():
                self.counts[name][v] = self.counts[name].get(v, 0) + m
            self.sums[name][0] += other.sums[name][0]
            self.sums[name][1] += other.sums[name][1]
            self.values[name].extend(other.values[name])
            if self.kinds[name] == "category" and len(self.counts[name]) > self.max_categories:
                self._too_many(name, len(self.counts[name]))
        return self

    def _too_many(self, name: str, n: int):
        raise ColumnError(
            f"{self.path}, column {name!r}: more than {self.max_categories} distinct values "
            f"({n} so far) in the training rows: an ID or free text? Leave it out with "
            f"--features, hash it into a fixed number of features with --hash {name}=64, or "
            f"raise --max-categories.", path=self.path, column=name)

    def result(self) -> Encoding:
        columns = []
        for name, kind in self.kinds.items():
            need = self._needs(kind)
            counts = self.counts[name]
            fill = None
            if need == "mean" and self.sums[name][0]:
                fill = self.sums[name][1] / self.sums[name][0]
            elif need == "median" and any(len(v) for v in self.values[name]):
                fill = float(np.median(np.concatenate(self.values[name])))
            elif need == "most_frequent" and counts:
                top = max(counts.values())
                fill = min(v for v, m in counts.items() if m == top)  # ties: the smallest
            if need is not None and fill is None:
                raise DataValueError(
                    f"{self.path}, column {name!r}: no value in the training rows to learn "
                    f"the {need.replace('_', ' ')} from; leave the column out with --features.",
                    path=self.path, column=name)
            if kind == "category":
                categories = sorted(counts)
                if not categories:
                    raise DataValueError(f"{self.path}, column {name!r}: no category in the "
                                         f"training rows; leave it out with --features.",
                                         path=self.path, column=name)
                columns.append(ColumnCode(name, kind, fill, categories))
            elif kind == "hash":
                columns.append(ColumnCode(name, kind, fill, n=self.hashed[name]))
            else:
                columns.append(ColumnCode(name, kind, None if fill is None else float(fill)))
        return Encoding(columns, self.missing, self.unknown)
