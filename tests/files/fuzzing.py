"""Fuzzing the files neurona reads back: valid seed files, their mutations, and the readers.

Shared by the fuzz tests (``tests/files/test_fuzz.py``, a few seconds) and the
long fuzzer (``tools/fuzz.py``, minutes). Every seed is a file neurona wrote
itself (a run directory, a checkpoint, an estimator) or a small data file; a
mutation changes it at the byte level (flips, truncation, insertions), at the
JSON level (types, missing and extra keys, deep nesting, huge and non-finite
numbers) or at the CSV level (extra and missing fields, quotes, empty cells,
text in numeric columns). Each :class:`Target` feeds one mutated file to one
reader; :func:`judge` says whether the outcome is acceptable: a clean result,
or a :class:`~neurona.errors.NeuronaError` whose message is one line naming the
file (for a command: exit status 0 or 2, one line on stderr, no traceback).
"""

from __future__ import annotations

import contextlib
import copy
import csv
import gzip
import io
import json
import shutil
import traceback
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from hypothesis import strategies as st

import neurona
from neurona.core.trainer import DivergenceError
from neurona.errors import NeuronaError

# --- seeds: valid files, written by neurona itself ----------------------------------

#: Settings of the library run whose checkpoint the resume target continues: mini-batches,
#: Adam's moments, a validation split and early stopping, so the state has every part.
RESUME_SETTINGS = dict(optimizer="adam", batch_size=8, learning_rate=0.05,
                       validation_fraction=0.25, early_stopping=True, patience=5,
                       random_state=3)
FULL_BATCH_SETTINGS = dict(random_state=3)


def _rows(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=n) > 0).astype(np.int64)
    return X, y


class StopAt(neurona.Callback):
    """Stops the run after batch ``batch`` of epoch ``epoch`` (a checkpoint mid-epoch)."""

    def __init__(self, epoch: int, batch: int):
        self.epoch, self.batch = epoch, batch

    def on_batch_end(self, j, logs=None):
        if self.trainer.epoch == self.epoch and j == self.batch:
            self.trainer.stop()


class Seeds:
    """The valid files every mutation starts from, at fixed paths under ``root``.

    :func:`make_seeds` writes them; the paths and the rows ``X, y`` are known
    before, so that the targets can be listed without any file.
    """

    DATA = ("csv", "csv.gz", "parquet", "npy", "npz")

    def __init__(self, root: str | Path):
        self.root = root = Path(root)
        self.X, self.y = _rows()
        self.data = {fmt: root / f"data.{fmt}" for fmt in self.DATA}
        self.runs = {"blobs": root / "run", "file": root / "run_file",
                     "table": root / "run_table"}
        self.table = root / "table.csv"  # a text column and missing values
        self.checkpoints = {"minibatch": (root / "checkpoint_minibatch.json", RESUME_SETTINGS),
                            "fullbatch": (root / "checkpoint_fullbatch.json",
                                          FULL_BATCH_SETTINGS)}
        self.estimators = {"classifier": root / "classifier.json",
                           "regressor": root / "regressor.json"}
        self.cache = root / "data.ncache"  # the parsed rows of data.csv, cached


#: How the seed cache's data file is streamed (and the rows its training part has).
CACHED_STREAM = dict(target="y", test_size=0.25, random_state=1)


def make_seeds(root: str | Path) -> Seeds:
    """Write every seed under ``root`` (a few seconds) and return them."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from neurona.face.estimators import NeuronClassifier, NeuronRegressor

    seeds = Seeds(root)
    root = seeds.root
    root.mkdir(parents=True, exist_ok=True)
    X, y = seeds.X, seeds.y

    # Data files: two features and a target, in every format.
    labels = np.where(y == 1, "yes", "no")
    csv_text = "a,b,y\n" + "".join(f"{float(a)!r},{float(b)!r},{t}\n"
                                  for (a, b), t in zip(X, labels))
    seeds.data["csv"].write_text(csv_text, encoding="utf-8")
    seeds.data["csv.gz"].write_bytes(gzip.compress(csv_text.encode(), mtime=0))
    pq.write_table(pa.table({"a": X[:, 0], "b": X[:, 1], "y": labels}), seeds.data["parquet"])
    np.save(seeds.data["npy"], np.column_stack([X, y]))  # columns x0, x1, x2
    np.savez(seeds.data["npz"], a=X[:, 0], b=X[:, 1], y=labels)

    # Run directories, as `neurona train` writes them: the post's blobs, and a file.
    rc, _, err = run_command(["train", "--out", str(seeds.runs["blobs"]), "--no-plots",
                              "--quiet", "--epochs", "3"])
    assert rc == 0, err
    rc, _, err = run_command(["train", "--out", str(seeds.runs["file"]), "--no-plots",
                              "--quiet", "--epochs", "3", "--data", str(seeds.data["csv"]),
                              "--target", "y", "--scale", "standard", "--optimizer",
                              "momentum", "--batch-size", "8", "--validation-fraction", "0.2",
                              "--early-stopping"])
    assert rc == 0, err

    # A table with a text column and missing values, and a run that encodes it.
    colours = np.array(["red", "green", "blue"])[np.arange(len(y)) % 3]
    seeds.table.write_text("a,c,y\n" + "".join(
        f"{'' if k % 7 == 0 else repr(float(a))},{'' if k % 11 == 0 else c},{t}\n"
        for k, ((a, _), c, t) in enumerate(zip(X, colours, labels))), encoding="utf-8")
    rc, _, err = run_command(["train", "--out", str(seeds.runs["table"]), "--no-plots",
                              "--quiet", "--epochs", "3", "--data", str(seeds.table),
                              "--target", "y", "--missing", "median", "--scale", "standard"])
    assert rc == 0, err

    # The cache of data.csv's parsed rows, as a streamed run writes it.
    from neurona.data.filestream import FileStream

    fs = FileStream(seeds.data["csv"], **CACHED_STREAM, cache=root / "cache").scan("standard")
    shutil.copyfile(fs.cache_file, seeds.cache)

    # Checkpoints of library runs: one stopped in the middle of an epoch, one full-batch.
    for name, (path, settings) in seeds.checkpoints.items():
        callbacks = [neurona.Checkpoint(path)]
        if name == "minibatch":
            callbacks.append(StopAt(1, 1))
        neurona.train(neurona.Neuron([0.1, -0.2], 0.0), X, y, epochs=3, callbacks=callbacks,
                      **settings)

    # Estimator files: a three-class classifier (three neurons, string labels) and a regressor.
    three = np.array(["a", "b", "c"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    with warnings.catch_warnings():  # three epochs do not converge, and need not
        warnings.simplefilter("ignore")
        NeuronClassifier(epochs=3, random_state=0).fit(X, three).save(
            seeds.estimators["classifier"])
        NeuronRegressor(epochs=3, random_state=0).fit(X, X @ [1.0, -2.0]).save(
            seeds.estimators["regressor"])
    return seeds


# --- mutations ----------------------------------------------------------------------

def _placeholder(i: int) -> str:
    return f"\u0000raw{i}\u0000"


#: JSON text that Python values cannot stand for (they go in through placeholders).
RAW_JSON = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1" * 5000, "-" + "9" * 400,
            "[" * 70 + "]" * 70, "[" * 5000 + "]" * 5000, '{"a":' * 80 + "1" + "}" * 80,
            "123456789012345678901234567890123456789012345678901234567890123456789", "1E400",
            "0.0000000000000000000000000000000000001e-400", "\"\\ud800\"", "\"\\u0000\""]
RAW_VALUES = [_placeholder(i) for i in range(len(RAW_JSON))]

NASTY_VALUES = [None, True, False, 0, 1, -1, 2, 3, 7, 2**31, 2**53 + 1, 2**63, 2**64 + 1,
                -2**63, 10**30, 0.5, -0.0, 1.5, 1e-300, 5e-324, 1e308, -1e308, "", "x",
                "NaN", "nan", "inf", "-Infinity", "1e999", "0", "1", "é", "a" * 300, "\n",
                [], {}, [0], [1, 2, 3], [None], [[1.0]], ["x"], {"a": 1}, {"": None},
                {"format": "neurona-model"}, *RAW_VALUES]


def _paths(doc, prefix=()) -> list[tuple]:
    """Every path (a tuple of keys and indices) into ``doc``, the root included."""
    out = [prefix]
    stack = [(doc, prefix)]
    while stack and len(out) < 2000:
        node, at = stack.pop()
        children = (node.items() if isinstance(node, dict)
                    else enumerate(node) if isinstance(node, list) else ())
        for key, child in children:
            out.append((*at, key))
            stack.append((child, (*at, key)))
    return out


def _get(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def _strings(doc) -> list[str]:
    found = []
    for path in _paths(doc):
        value = _get(doc, path)
        if isinstance(value, str):
            found.append(value)
        if path and isinstance(path[-1], str):
            found.append(path[-1])
    return sorted(set(found))[:200]


def _related(value) -> list:
    """Values of the same kind as ``value``, close to it: the mutations that pass type checks."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1, -value, 0, value * 2, value + 10**6, -1, 1]
    if isinstance(value, float):
        return [-value, value * 2, value / 2, 0.0, value + 1, 1e300 * (value or 1), 1e-300]
    if isinstance(value, str):
        return [value + "x", value[:-1], value.upper(), value * 2, " " + value]
    if isinstance(value, list):
        return [value[:-1], value + value[-1:], value[::-1], value * 3, value[:1], [],
                [value], value + [None]]
    if isinstance(value, dict):
        keys = list(value)
        return [{k: value[k] for k in keys[:-1]}, {**value, "extra": 1},
                {k: value[k] for k in reversed(keys)}, [value]]
    return []


@st.composite
def json_mutation(draw, doc):
    """``doc`` changed at 1 to 3 places, as JSON text (bytes)."""
    doc = json.loads(json.dumps(doc))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        value = _get(doc, path)
        op = draw(st.sampled_from(["replace", "related", "drop", "add", "wrap", "string"]))
        if op == "drop" and path:
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
            continue
        if op == "add" and isinstance(value, dict):
            key = draw(st.sampled_from(_strings(doc) or ["x"]) | st.text(max_size=8))
            value[key] = copy.deepcopy(draw(st.sampled_from(NASTY_VALUES)))
            continue
        if op == "add" and isinstance(value, list):
            value.insert(draw(st.integers(0, len(value))),
                         copy.deepcopy(draw(st.sampled_from(NASTY_VALUES))))
            continue
        if op == "related" and _related(value):
            new = draw(st.sampled_from(_related(value)))
        elif op == "wrap":
            new = draw(st.sampled_from([[value], {"value": value}, [value, value]]))
        elif op == "string":
            new = draw(st.sampled_from(_strings(doc) or ["x"]))
        else:
            new = draw(st.sampled_from(NASTY_VALUES))
        new = copy.deepcopy(new)  # the tables above stay as they are
        if not path:
            doc = new
        else:
            _get(doc, path[:-1])[path[-1]] = new
    text = json.dumps(doc, indent=draw(st.sampled_from([None, 2])))
    for placeholder, raw in zip(RAW_VALUES, RAW_JSON):
        text = text.replace(json.dumps(placeholder), raw)
    return text.encode("utf-8", "surrogatepass")


NASTY_CELLS = ["", " ", "x", "nan", "NaN", "inf", "-inf", "1e999", "-1e308", "1e308", '"',
               '"unterminated', '"a,b"', "1,2", "0x10", "1_000", "\u0661", " 1 ", "True",
               "9" * 400, "-0", "1e-400", "\u00e9", "\t", "2", "-1", "0.5", "100000000000",
               "3.0", "1.0.0", "w[", "]", "epoch", "b", "é,é"]


@st.composite
def csv_mutation(draw, text: str):
    """The CSV ``text`` changed at 1 to 3 places (cells, fields, rows, header), as bytes."""
    rows = list(csv.reader(io.StringIO(text)))
    for _ in range(draw(st.integers(1, 3))):
        if not rows:
            rows = [[""]]
        r = draw(st.integers(0, len(rows) - 1))
        row = rows[r]
        op = draw(st.sampled_from(["cell", "cell", "cell", "add_field", "drop_field",
                                   "dup_row", "drop_row", "swap_rows", "blank_row",
                                   "short_row", "header"]))
        if op == "cell" and row:
            row[draw(st.integers(0, len(row) - 1))] = draw(
                st.sampled_from(NASTY_CELLS) | st.text(max_size=6))
        elif op == "add_field":
            row.insert(draw(st.integers(0, len(row))), draw(st.sampled_from(NASTY_CELLS)))
        elif op == "drop_field" and row:
            del row[draw(st.integers(0, len(row) - 1))]
        elif op == "dup_row":
            rows.insert(r, list(row))
        elif op == "drop_row":
            del rows[r]
        elif op == "swap_rows":
            s = draw(st.integers(0, len(rows) - 1))
            rows[r], rows[s] = rows[s], rows[r]
        elif op == "blank_row":
            rows.insert(r, [])
        elif op == "short_row":
            rows.insert(r, row[:1])
        elif op == "header" and rows[0]:
            j = draw(st.integers(0, len(rows[0]) - 1))
            rows[0][j] = draw(st.sampled_from([*rows[0], "", "w[", "epoch", "w[x]]", "b"]))
    out = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    line_end = draw(st.sampled_from(["\n", "\r\n"]))
    csv.writer(out, quoting=quoting, lineterminator=line_end).writerows(rows)
    return out.getvalue().encode("utf-8")


@st.composite
def byte_mutation(draw, raw: bytes):
    """``raw`` changed at 1 to 3 places: flips, truncation, insertions, deletions."""
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 3))):
        n = len(data)
        i = draw(st.integers(0, max(n - 1, 0)))
        op = draw(st.sampled_from(["flip", "flip", "truncate", "insert", "delete", "dup",
                                   "zero", "set"]))
        if op == "flip" and n:
            data[i] ^= draw(st.integers(1, 255))
        elif op == "set" and n:
            data[i] = draw(st.sampled_from(b"\x00\xff\x7f\x80\"',[]{}:-.eE09\n\r\\"))
        elif op == "truncate":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=16)
                             | st.sampled_from([b"\xff\xfe", b"\xef\xbb\xbf", b"\r", b"\x00",
                                                b"\"", b",", b"\n", b"-1", b"9" * 40]))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 64))]
        elif op == "dup":
            k = draw(st.integers(1, 64))
            data[i:i] = data[i:i + k]
        elif op == "zero" and n:
            k = draw(st.integers(1, 64))
            data[i:i + k] = bytes(len(data[i:i + k]))
    return bytes(data)


@st.composite
def gzip_mutation(draw, raw: bytes):
    """A gzipped CSV: its bytes mutated, or its text mutated and compressed again."""
    if draw(st.booleans()):
        return draw(byte_mutation(raw))
    text = gzip.decompress(raw).decode("utf-8")
    return gzip.compress(draw(csv_mutation(text)), mtime=0)


@st.composite
def npz_mutation(draw, raw: bytes):
    """An .npz archive: its bytes mutated, or one member's bytes (the archive kept valid)."""
    if draw(st.booleans()):
        return draw(byte_mutation(raw))
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        members = {name: z.read(name) for name in z.namelist()}
    name = draw(st.sampled_from(sorted(members)))
    members[name] = draw(byte_mutation(members[name]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for key, value in members.items():
            z.writestr(key, value)
    return out.getvalue()


def _parquet_bytes(table) -> bytes:
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


@st.composite
def parquet_mutation(draw, raw: bytes):
    """A Parquet file: its bytes mutated, or a valid file whose table was changed (a column's
    type or values, names, rows, the pandas metadata, itself JSON, mutated)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if draw(st.booleans()):
        return draw(byte_mutation(raw))
    table = pq.read_table(io.BytesIO(raw))
    names = table.column_names
    j = draw(st.integers(0, len(names) - 1))
    column = table.column(j)
    n = table.num_rows
    op = draw(st.sampled_from(["type", "values", "rename", "drop", "rows", "metadata"]))
    if op == "type":
        kind = draw(st.sampled_from(["string", "int64", "int8", "float16", "float32", "bool",
                                     "null", "dictionary", "timestamp", "list", "decimal",
                                     "large_string", "binary", "struct"]))
        values = column.to_pylist()
        new = {"string": lambda: pa.array([str(v) for v in values]),
               "large_string": lambda: pa.array([str(v) for v in values], pa.large_string()),
               "int64": lambda: pa.array([int(v * 1000) for v in values], pa.int64()),
               "int8": lambda: pa.array([int(v) % 100 for v in values], pa.int8()),
               "float16": lambda: pa.array(np.array(values, dtype=np.float16)),
               "float32": lambda: pa.array(values, pa.float32()),
               "bool": lambda: pa.array([bool(v > 0) for v in values]),
               "null": lambda: pa.nulls(n),
               "dictionary": lambda: pa.array([str(v)[:3] for v in values]).dictionary_encode(),
               "timestamp": lambda: pa.array([int(v * 1e6) for v in values], pa.timestamp("s")),
               "list": lambda: pa.array([[v] for v in values]),
               "decimal": lambda: pa.array([round(v, 2) for v in values]).cast(
                   pa.decimal128(12, 2), safe=False),
               "binary": lambda: pa.array([str(v).encode() for v in values], pa.binary()),
               "struct": lambda: pa.array([{"v": v} for v in values])}[kind]
        try:
            table = table.set_column(j, names[j], new())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, TypeError):
            pass
    elif op == "values":
        values = column.to_pylist()
        i = draw(st.integers(0, max(n - 1, 0)))
        value = draw(st.sampled_from([None, float("nan"), float("inf"), -float("inf"), 1e308,
                                      0.0, 2.0, -1.0, 5e-324]))
        if values and isinstance(values[0], float):
            values[i] = value
            table = table.set_column(j, names[j], pa.array(values, pa.float64()))
        elif values:
            values[i] = None
            table = table.set_column(j, names[j], pa.array(values, column.type))
    elif op == "rename":
        table = table.rename_columns([draw(st.sampled_from(["", " ", names[0], "y", "x0",
                                                            "__index_level_0__", "é"]))
                                      if k == j else name for k, name in enumerate(names)])
    elif op == "drop":
        table = table.remove_column(j)
    elif op == "rows":
        k = draw(st.integers(0, n))
        table = table.slice(0, k) if draw(st.booleans()) else pa.concat_tables([table] * 3)
    else:
        meta = {"index_columns": [names[j]], "column_indexes": [],
                "columns": [{"name": None, "field_name": names[j]}]}
        text = draw(json_mutation(meta)) if draw(st.booleans()) else json.dumps(meta).encode()
        table = table.replace_schema_metadata({b"pandas": text})
    return _parquet_bytes(table)


@st.composite
def npy_mutation(draw, raw: bytes):
    """A .npy file: its bytes mutated, or a valid file of an array changed in dtype or shape."""
    if draw(st.booleans()):
        return draw(byte_mutation(raw))
    a = np.load(io.BytesIO(raw))
    op = draw(st.sampled_from(["dtype", "shape", "values", "structured", "order"]))
    if op == "dtype":
        dtype = draw(st.sampled_from(["<f4", ">f8", "<i8", "u1", "?", "<c16", "<U3", "S3",
                                      "<M8[D]", "<m8[s]", "<f2", "V8", "O"]))
        try:
            a = a.astype(dtype)
        except (TypeError, ValueError):
            pass
    elif op == "shape":
        shape = draw(st.sampled_from([(-1,), (1, -1), (-1, 1), (2, -1, 3), (), (0, 3),
                                      (0,), (-1, 6)]))
        try:
            a = a.reshape(shape) if shape else np.array(a.flat[0])
        except ValueError:
            a = np.zeros(shape if -1 not in shape else (0,))
    elif op == "values":
        a = a.copy()
        a.flat[draw(st.integers(0, a.size - 1))] = draw(st.sampled_from(
            [np.nan, np.inf, -np.inf, 1e308, 2.0, -1.0]))
    elif op == "structured":
        fields = draw(st.sampled_from([[("a", "<f8"), ("b", "<f8"), ("y", "<f8")],
                                       [("a", "<f8"), ("a2", "<U2"), ("y", "<i8")],
                                       [("a", "<f8"), ("b", "<f8"), ("y", "<f8", (2,))],
                                       [("x0", "<f8"), ("x1", "<f8"), ("x2", "O")]]))
        b = np.zeros(len(a), dtype=fields)
        a = b
    else:
        a = np.asfortranarray(a)
    out = io.BytesIO()
    try:
        np.save(out, a, allow_pickle=draw(st.booleans()))
    except ValueError:
        return raw
    return out.getvalue()


def mutations(seed: Path, kind: str):
    """The strategy of mutated contents of the file ``seed``, of kind ``json``, ``csv``,
    ``gzip``, ``npz``, ``parquet``, ``npy`` or ``binary``."""
    raw = seed.read_bytes()
    if kind == "json":
        return st.one_of(json_mutation(json.loads(raw)), byte_mutation(raw))
    if kind == "csv":
        return st.one_of(csv_mutation(raw.decode("utf-8")), byte_mutation(raw))
    if kind == "gzip":
        return gzip_mutation(raw)
    if kind == "npz":
        return npz_mutation(raw)
    if kind == "parquet":
        return parquet_mutation(raw)
    if kind == "npy":
        return npy_mutation(raw)
    return byte_mutation(raw)


# --- the readers, and what counts as a failure ----------------------------------------

class Failure(AssertionError):
    """A reader's outcome that is not acceptable: another exception, or a bad message.

    ``signature`` tells failures apart: the exception's type and the last line
    of neurona's code it went through (or the kind of bad message).
    """

    def __init__(self, message: str, signature: str | None = None):
        super().__init__(message)
        self.signature = signature or message.split(":")[0]

    @classmethod
    def of(cls, target: "Target", exc: BaseException) -> "Failure":
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if "/neurona/" in f.filename] or frames
        where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-8:])
        return cls(f"{target.name} raised {type(exc).__name__} at {where}: "
                   f"{str(exc)[:300]}\n{tb}", f"{type(exc).__name__} at {where}")


def check_message(message: str, names: tuple[str, ...], what: str) -> None:
    """A refusal's message: one line, naming the file (one of ``names``)."""
    if "\n" in message.strip() or "Traceback" in message:
        raise Failure(f"{what}: the message is not one line: {message[:2000]!r}",
                      f"{what}: not one line")
    if not any(name in message for name in names):
        raise Failure(f"{what}: the message names none of {list(names)}: {message[:2000]!r}",
                      f"{what}: no file named")


def run_command(argv: list[str]) -> tuple[int, str, str]:
    """``neurona.face.cli.main(argv)`` with its output captured: ``(status, stdout, stderr)``."""
    from neurona.face.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


@dataclass
class Target:
    """One reader, fed a mutation of one of its seed files.

    ``files`` maps a file name to its seed and its kind of mutation
    (:func:`mutations`). ``base`` is a directory copied into the work folder
    first (a run directory, one of whose files is replaced), or None.
    ``read(path, work)`` calls the reader on the mutated file ``path``. A
    refusal must name one of ``names(path, work)`` (default: the file). A
    ``command`` target returns ``(status, stdout, stderr)`` from
    :func:`run_command`; ``slow`` ones take a second or more per input.
    """

    name: str
    files: dict
    read: Callable
    base: Path | None = None
    names: Callable | None = None
    command: bool = False
    slow: bool = False

    def strategy(self):
        """``(file name, content)`` pairs: a file of ``files``, mutated."""
        return st.sampled_from(sorted(self.files)).flatmap(
            lambda name: mutations(*self.files[name]).map(lambda content: (name, content)))

    def place(self, name: str, work: Path) -> Path:
        if self.base is None:
            return work / name
        dest = work / self.base.name
        shutil.copytree(self.base, dest, ignore=shutil.ignore_patterns("figures", "*.html"))
        return dest / name


def judge(target: Target, name: str, content: bytes, work: Path) -> str:
    """Feed ``content`` as file ``name`` to ``target`` inside the empty folder ``work``.

    Returns ``"ok"`` or ``"refused"``; raises :class:`Failure` for any other outcome.
    """
    path = target.place(name, work)
    path.write_bytes(content)
    names = tuple(target.names(path, work)) if target.names else (str(path),)
    try:
        result = target.read(path, work)
    except DivergenceError as exc:  # a resumed run whose finite numbers overflowed: trained
        check_message(str(exc), (str(exc),), f"{target.name} diverged")
        return "ok"
    except NeuronaError as exc:
        check_message(str(exc), names, f"{target.name} raised {type(exc).__name__}")
        return "refused"
    except Failure:
        raise
    except Exception as exc:  # noqa: BLE001 - the very thing the fuzzer looks for
        raise Failure.of(target, exc) from None
    if target.command:
        rc, _, err = result
        if rc not in (0, 2):
            raise Failure(f"{target.name}: exit status {rc}, stderr {err!r}")
        if rc == 2:
            check_message(err, names, f"{target.name} exited with 2")
            return "refused"
    return "ok"


def _run_names(path: Path, work: Path) -> tuple[str, ...]:
    """A run directory's refusal names it (or its file); a resumed run that diverged names
    the run directory it wrote."""
    return (str(path.parent), str(path), str(work / "resumed"))


def _consume(tables) -> int:
    return sum(t.num_rows for t in tables)


DATA_KINDS = {"csv": "csv", "csv.gz": "gzip", "parquet": "parquet", "npy": "npy",
              "npz": "npz"}
RUN_FILES = {"config.json": "json", "model.json": "json", "history.csv": "csv",
             "weights.csv": "csv", "checkpoint.json": "json"}


def targets(seeds: Seeds) -> list[Target]:
    """Every reader, each with the seed files it is fed mutations of (no file is read here)."""
    from neurona.core.trajectory import WeightTrajectory
    from neurona.data import read_data
    from neurona.data.split import held_out
    from neurona.data.filestream import FileStream
    from neurona.face import experiment, inference

    found: list[Target] = []
    run, run_file = seeds.runs["blobs"], seeds.runs["file"]

    def model_of(r):  # a valid model, for the data readers
        return neurona.load(r / "model.json")

    # Model files: loaded, then used on a data file.
    def load_and_predict(path, work):
        neuron = neurona.load(path)
        data = seeds.data["csv"] if "a" in (neuron.feature_names or []) else seeds.data["npy"]
        if neuron.encoding is not None:
            data = seeds.table
        try:
            return _consume(inference.predictions(neuron, data))
        except NeuronaError as exc:  # a model that loads but does not fit the data: fine
            check_message(str(exc), (str(data), str(path)), "predicting with a loaded model")
            return None

    for name, r in seeds.runs.items():
        found.append(Target(f"model[{name}]", {"model.json": (r / "model.json", "json")},
                            load_and_predict))

    # Checkpoints: read, and resumed by the library.
    def load_checkpoint(p, w):
        return neurona.load_checkpoint(p)

    for name, (path, settings) in seeds.checkpoints.items():
        files = {path.name: (path, "json")}
        found.append(Target(f"checkpoint[{name}]", files, load_checkpoint))

        def resume(p, w, settings=settings):
            return neurona.train(neurona.Neuron([0.1, -0.2], 0.0), seeds.X, seeds.y,
                                 epochs=5, resume=p, **settings)

        found.append(Target(f"resume[{name}]", files, resume))

    # History and weights files, as the library reads their text.
    def history(p, w):
        return neurona.History.from_csv(p.read_bytes().decode("utf-8", "replace"), str(p))

    def weights(p, w):
        return WeightTrajectory.from_csv(p.read_bytes().decode("utf-8", "replace"), str(p))

    found.append(Target("history", {f"history_{n}.csv": (r / "history.csv", "csv")
                                    for n, r in seeds.runs.items()}, history))
    found.append(Target("weights", {f"weights_{n}.csv": (r / "weights.csv", "csv")
                                    for n, r in seeds.runs.items()}, weights))

    # Estimator files: loaded, then used.
    from neurona.face.estimators import NeuronClassifier, NeuronRegressor

    for name, cls in (("classifier", NeuronClassifier), ("regressor", NeuronRegressor)):
        def load_estimator(p, w, cls=cls):
            est = cls.load(p)
            est.predict(seeds.X)
            return est

        path = seeds.estimators[name]
        found.append(Target(f"estimator[{name}]", {path.name: (path, "json")},
                            load_estimator))

    # Data files: read into memory, streamed, predicted on, evaluated.
    for fmt, path in seeds.data.items():
        files = {path.name: (path, DATA_KINDS[fmt])}
        target = "x2" if fmt == "npy" else "y"
        trained = run if fmt == "npy" else run_file

        def read(p, w, target=target):
            return read_data(p, target)

        def stream(p, w, target=target):
            fs = FileStream(p, target, test_size=0.25, random_state=1).scan("standard")
            return sum(len(yb) for _, yb in fs.part("train"))

        def predict(p, w, trained=trained):
            return _consume(inference.predictions(model_of(trained), p))

        def evaluate(p, w, trained=trained, target=target):
            neuron = model_of(trained)
            if target == "x2":
                neuron.classes = [0.0, 1.0]
            return inference.evaluate_file(neuron, p, target)

        def cli_predict(p, w, trained=trained):
            return run_command(["predict", "--model", str(trained / "model.json"), "--data",
                                str(p), "--out", str(w / "predictions.csv")])

        def cli_evaluate(p, w, trained=trained, target=target):
            return run_command(["evaluate", "--model", str(trained / "model.json"), "--data",
                                str(p), "--target", target, "--json"])

        found.append(Target(f"cli_predict[{fmt}]", files, cli_predict, command=True))
        if fmt != "npy":  # its target column holds 0.0 and 1.0, the model's classes are text
            found.append(Target(f"cli_evaluate[{fmt}]", files, cli_evaluate, command=True))
        found.append(Target(f"read_data[{fmt}]", files, read))
        found.append(Target(f"stream[{fmt}]", files, stream))
        found.append(Target(f"predict[{fmt}]", files, predict))
        found.append(Target(f"evaluate[{fmt}]", files, evaluate))

    # The cache of a streamed file: read when whole, else rebuilt from the file, never an
    # error; the rows are the file's either way.
    def cached_stream(p, w):
        fs = FileStream(seeds.data["csv"], **CACHED_STREAM, cache=w)
        shutil.move(p, fs._cache_path())
        fs.scan("standard")
        assert fs.cache_state in ("read", "written"), fs.cache_state
        assert all(len(note.splitlines()) == 1 for note in fs.notes), fs.notes
        rows = np.concatenate([r for _, _, r in fs.part("train").with_rows()])
        train = ~held_out(np.arange(len(seeds.y)), 1, 0.25)
        assert np.array_equal(rows, np.flatnonzero(train))
        return len(rows)

    found.append(Target("cache", {seeds.cache.name: (seeds.cache, "binary")}, cached_stream))

    # Run directories with one file mutated: read back, resumed, the report rebuilt.
    for name, r in seeds.runs.items():
        files = {f: (r / f, kind) for f, kind in RUN_FILES.items()}
        found.append(Target(f"load_result[{name}]", files,
                            lambda p, w: experiment.load_result(p.parent), base=r,
                            names=_run_names))
        found.append(Target(f"load_run[{name}]",
                            {f: files[f] for f in ("config.json", "checkpoint.json")},
                            lambda p, w: experiment.load_run(p.parent), base=r,
                            names=_run_names))
        found.append(Target(
            f"cli_resume[{name}]", {f: files[f] for f in ("config.json", "checkpoint.json")},
            lambda p, w: run_command(["train", "--resume", str(p.parent), "--epochs", "5",
                                      "--out", str(w / "resumed"), "--no-plots", "--quiet"]),
            base=r, names=_run_names, command=True, slow=True))
        found.append(Target(
            f"cli_report[{name}]", files,
            lambda p, w: run_command(["report", str(p.parent), "--quiet", "--no-animation"]),
            base=r, names=_run_names, command=True, slow=True))
    return found
