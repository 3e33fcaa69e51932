"""Request bodies into a model's rows, and its answers back into response bodies.

The bodies ``neurona serve`` reads:

- JSON in the forms MLflow's scoring server takes (``POST /invocations``):
  ``{"dataframe_split": {"columns": [...], "data": [[...], ...]}}``,
  ``{"dataframe_records": [{"column": value, ...}, ...]}``, and ``{"instances": ...}``
  or ``{"inputs": ...}`` holding either such records or an object of columns
  (``{"column": [values], ...}``) (:func:`json_rows`);
- CSV text with a header line (``Content-Type: text/csv``), read as ``neurona
  predict`` reads a CSV file: an empty cell, ``NA`` or ``NaN`` is a missing value
  (:func:`csv_rows`);
- the Open Inference Protocol's tensors (KServe V2, ``POST /v2/models/{name}/infer``):
  one tensor per column, of shape ``[n]`` or ``[n, 1]``, its data in the JSON or,
  with the binary tensor extension, after it (:func:`tensor_rows`).

Columns are matched by name, in any order; columns the model does not read are
ignored. Each value must have its column's type (:func:`typed_columns`): a number
for a number column, ``true``/``false`` (or 0/1) for a boolean one, a string for a
text column; ``null`` is a missing value, filled in by the model's rule or refused.
A CSV cell is text, read as the column's type, so the same values answer the same
whether sent as JSON or CSV. Anything else is a :class:`RequestError`: one line
that names the column (and row) at fault.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import numpy as np

from ..data.encoding import one_array
from ..data.readers import quote_list
from ..errors import ColumnError, DataValueError, NeuronaError

#: The forms of a JSON body that ``/invocations`` takes.
JSON_FORMS = ("dataframe_split", "dataframe_records", "instances", "inputs")
#: The Open Inference Protocol's numeric datatypes, and their little-endian NumPy types.
NUMERIC_TYPES = {"FP64": "<f8", "FP32": "<f4", "FP16": "<f2", "INT64": "<i8", "INT32": "<i4",
                 "INT16": "<i2", "INT8": "i1", "UINT64": "<u8", "UINT32": "<u4",
                 "UINT16": "<u2", "UINT8": "u1"}
DATATYPES = (*NUMERIC_TYPES, "BOOL", "BYTES")
#: The datatypes a column of each kind takes.
KIND_DATATYPES = {"number": tuple(NUMERIC_TYPES), "boolean": ("BOOL", *NUMERIC_TYPES),
                  "category": ("BYTES",), "hash": ("BYTES",)}
#: The JSON types of each kind's values (``None``: a missing value).
_JSON_TYPES = {"number": {int, float, type(None)}, "boolean": {bool, int, float, type(None)},
               "category": {str, type(None)}, "hash": {str, type(None)}}
_EXPECTED = {"number": "a number", "boolean": "true or false",
             "category": "a string", "hash": "a string"}


class RequestError(NeuronaError):
    """A request neurona cannot answer; ``status`` is its HTTP status."""

    status = 400


class BodyTooLarge(RequestError):
    """A body over the byte limit, or more rows than a request may hold."""

    status = 413


class UnsupportedMedia(RequestError):
    """A body of a type the route does not read."""

    status = 415


class RequestPlace:
    """Where a value of a request is, for messages: ``the request, row 3, column 'x'``."""

    path = None

    def line(self, row: int) -> int:
        return row + 1

    def where(self, row: int | None = None, column: str | None = None) -> str:
        parts = ["the request"]
        if row is not None:
            parts.append(f"row {row + 1}")
        if column is not None:
            parts.append(f"column {column!r}")
        return ", ".join(parts)


_PLACE = RequestPlace()


@dataclass
class Rows:
    """A request's rows, column by column, as sent.

    ``columns`` maps a name to its values: a list of JSON values, a pyarrow text
    array (a CSV body), or a float64 array or list of text of a tensor whose
    datatype ``datatypes`` records.
    """

    columns: dict
    n: int
    datatypes: dict = field(default_factory=dict)


# --- JSON ----------------------------------------------------------------------------

def loads(body: bytes):
    """The JSON document of a body, or a :class:`RequestError`."""
    import orjson

    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"the body is not JSON ({str(exc)[:120]}); NaN and Infinity are "
                           f"not JSON either: send null for a missing value.") from None


def dumps(obj) -> bytes:
    """JSON bytes; NumPy arrays are written with every digit a float needs."""
    import orjson

    return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY)


def _object(doc, what: str) -> dict:
    if not isinstance(doc, dict):
        raise RequestError(f"{what} must be a JSON object.")
    return doc


def json_rows(doc) -> Rows:
    """The rows of a JSON body in one of :data:`JSON_FORMS`."""
    forms = ", ".join(JSON_FORMS)
    if not isinstance(doc, dict):
        raise RequestError(f"the body must be a JSON object with one of {forms}.")
    params = doc.get("params")
    if params not in (None, {}):
        raise RequestError("the model takes no params; leave params out.")
    keys = [k for k in doc if k != "params"]
    if len(keys) != 1 or keys[0] not in JSON_FORMS:
        found = ", ".join(map(repr, keys[:5])) or "none"
        raise RequestError(f"the body must hold exactly one of {forms} (found {found}).")
    form, value = keys[0], doc[keys[0]]
    if form == "dataframe_split":
        return _split_rows(_object(value, "dataframe_split"))
    if isinstance(value, dict) and form in ("instances", "inputs"):
        return _column_rows(value, form)
    if not isinstance(value, list):
        raise RequestError(f"{form} must be a list of records ({{\"column\": value}}) or, "
                           f"for instances and inputs, an object of columns.")
    return _record_rows(value, form)


def _check_names(names, what: str) -> list[str]:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise RequestError(f"{what} must be a list of column names (strings).")
    seen = set()
    for n in names:
        if n in seen:
            raise ColumnError(f"the request names the column {n!r} twice.", column=n)
        seen.add(n)
    return names


def _split_rows(doc: dict) -> Rows:
    unknown = set(doc) - {"columns", "data", "index"}
    if unknown:
        raise RequestError(f"dataframe_split takes columns, data and index, not "
                           f"{', '.join(map(repr, sorted(unknown)))}.")
    names = _check_names(doc.get("columns"), "dataframe_split.columns")
    data = doc.get("data")
    if not isinstance(data, list):
        raise RequestError("dataframe_split.data must be a list of rows (lists of values).")
    if data and (set(map(type, data)) != {list} or set(map(len, data)) != {len(names)}):
        bad = next(i for i, r in enumerate(data) if type(r) is not list or len(r) != len(names))
        raise RequestError(f"the request, row {bad + 1}: dataframe_split.data holds a row of "
                           f"{len(data[bad]) if type(data[bad]) is list else 'no list'} values "
                           f"where columns names {len(names)}; each row is a list of one value "
                           f"per column.")
    values = list(zip(*data)) if data else [() for _ in names]
    return Rows({n: list(v) for n, v in zip(names, values)}, len(data))


def _record_rows(records: list, form: str) -> Rows:
    if records and set(map(type, records)) != {dict}:
        bad = next(i for i, r in enumerate(records) if type(r) is not dict)
        raise RequestError(f"the request, row {bad + 1}: {form} must hold records "
                           f"({{\"column\": value}}) that name their columns, got "
                           f"{_json_type(records[bad])}.")
    names = dict.fromkeys(k for r in records[:1] for k in r)
    for r in records[1:]:
        if r.keys() != names.keys():
            names.update(dict.fromkeys(r))
    # A column a record leaves out is a missing value there, as in a pandas DataFrame.
    return Rows({n: [r.get(n) for r in records] for n in names}, len(records))


def _column_rows(columns: dict, form: str) -> Rows:
    lengths = set()
    for name, values in columns.items():
        if not isinstance(values, list):
            raise ColumnError(f"the request, column {name!r}: {form} as an object maps each "
                              f"column to a list of values, got {_json_type(values)}.",
                              column=name)
        lengths.add(len(values))
    if len(lengths) > 1:
        raise RequestError(f"the columns of {form} have different lengths "
                           f"({', '.join(map(str, sorted(lengths)))}); each holds one value "
                           f"per row.")
    return Rows(dict(columns), lengths.pop() if lengths else 0)


def _json_type(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true or false",
            type(None): "null"}.get(type(value), "a number")


# --- CSV -----------------------------------------------------------------------------

def csv_rows(body: bytes, wanted: list[str]) -> Rows:
    """The rows of a CSV body (a header line, then one line per row), the ``wanted``
    columns read as text; cells are then typed like JSON values (:func:`typed_columns`)."""
    import csv

    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        first = re.split(rb"\r\n|\n|\r", body, maxsplit=1)[0].decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        raise RequestError("the CSV body is not UTF-8 text.") from None
    if not first.strip():
        raise RequestError("the CSV body has no header line; its first line names the columns.")
    try:
        header = next(csv.reader([first]))
    except csv.Error as exc:
        raise RequestError(f"the CSV body's header line cannot be read ({exc}).") from None
    for name in header:
        if header.count(name) > 1:
            raise ColumnError(f"the CSV header names the column {name!r} twice.", column=name)
    present = [n for n in wanted if n in header]
    convert = pacsv.ConvertOptions(include_columns=present,
                                   column_types={n: pa.string() for n in present},
                                   strings_can_be_null=True)
    try:
        table = pacsv.read_csv(io.BytesIO(body), convert_options=convert,
                               parse_options=pacsv.ParseOptions(newlines_in_values=False))
    except (pa.ArrowInvalid, UnicodeError) as exc:
        message = str(exc).split("\n")[0][:160]
        raise RequestError(f"the CSV body cannot be read ({message}); send a header line "
                           f"and one line per row, its fields separated by commas.") from None
    columns = {n: one_array(table.column(n)) for n in present}
    columns.update({n: [] for n in header if n not in columns})  # named, so not "missing"
    return Rows(columns, table.num_rows)


# --- tensors (the Open Inference Protocol) --------------------------------------------

@dataclass
class TensorRequest:
    """A V2 inference request: its rows, its id, and the outputs asked for (None: all)
    and which of them to send as binary data."""

    rows: Rows
    id: str | None = None
    outputs: list | None = None
    binary: set = field(default_factory=set)


def tensor_rows(doc, binary: bytes = b"") -> TensorRequest:
    """A V2 inference request's rows: one input tensor per column, of shape ``[n]`` or
    ``[n, 1]``; ``binary`` holds the tensors' bytes after the JSON (the binary
    tensor extension), in the order of the inputs."""
    doc = _object(doc, "the body")
    unknown = set(doc) - {"id", "parameters", "inputs", "outputs"}
    if unknown:
        raise RequestError(f"an inference request holds id, parameters, inputs and outputs, "
                           f"not {', '.join(map(repr, sorted(unknown)))}.")
    request_id = doc.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise RequestError("id must be a string.")
    parameters = _object(doc.get("parameters", {}), "parameters")
    inputs = doc.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise RequestError("inputs must be a non-empty list of tensors, one per column "
                           "({\"name\", \"datatype\", \"shape\", \"data\"}).")
    columns, datatypes, offset, n = {}, {}, 0, None
    for k, tensor in enumerate(inputs):
        tensor = _object(tensor, f"inputs[{k}]")
        name = tensor.get("name")
        if not isinstance(name, str):
            raise RequestError(f"inputs[{k}] needs a name (the column's), a string.")
        if name in columns:
            raise ColumnError(f"the request names the input {name!r} twice.", column=name)
        rows, values, offset = _tensor(name, tensor, binary, offset)
        if n is not None and rows != n:
            raise ColumnError(f"input {name!r} holds {rows} rows but {inputs[0]['name']!r} "
                              f"holds {n}; every input has one value per row.", column=name)
        n = rows
        columns[name], datatypes[name] = values, tensor["datatype"]
    if offset != len(binary):
        raise RequestError(f"the body holds {len(binary) - offset} bytes of binary data that "
                           f"no input claims (parameters.binary_data_size).")
    outputs, wanted_binary = _requested(doc.get("outputs"), parameters)
    return TensorRequest(Rows(columns, n, datatypes), request_id, outputs, wanted_binary)


def _tensor(name: str, tensor: dict, binary: bytes, offset: int):
    """``(rows, values, offset)`` of one input tensor."""
    datatype, shape = tensor.get("datatype"), tensor.get("shape")
    if datatype not in DATATYPES:
        raise ColumnError(f"input {name!r}: datatype must be one of {', '.join(DATATYPES)}, "
                          f"got {datatype!r:.40}.", column=name)
    if (not isinstance(shape, list) or not 1 <= len(shape) <= 2
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
            or (len(shape) == 2 and shape[1] != 1)):
        raise ColumnError(f"input {name!r}: shape must be [n] or [n, 1] (one value per row), "
                          f"got {shape!r:.40}.", column=name)
    n = shape[0]
    parameters = _object(tensor.get("parameters", {}), f"input {name!r}'s parameters")
    size = parameters.get("binary_data_size")
    if size is not None:
        if "data" in tensor:
            raise ColumnError(f"input {name!r} has both data and binary_data_size; send one.",
                              column=name)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0 \
                or offset + size > len(binary):
            raise ColumnError(f"input {name!r}: binary_data_size {size!r:.20} is more than the "
                              f"binary data the body holds.", column=name)
        return n, _binary_values(name, datatype, n, binary[offset:offset + size]), offset + size
    data = tensor.get("data")
    if not isinstance(data, list):
        raise ColumnError(f"input {name!r} needs data: a list of {n} values.", column=name)
    if data and type(data[0]) is list:  # [n, 1] sent nested: [[v], [v], ...]
        if set(map(type, data)) != {list} or set(map(len, data)) != {1}:
            raise ColumnError(f"input {name!r}: nested data must be [[v], [v], ...], one value "
                              f"per row.", column=name)
        data = [row[0] for row in data]
    if len(data) != n:
        raise ColumnError(f"input {name!r}: shape {shape} says {n} values, the data holds "
                          f"{len(data)}.", column=name)
    allowed = {"BOOL": {bool}, "BYTES": {str}}.get(
        datatype, {int} if datatype.startswith(("INT", "UINT")) else {int, float})
    bad = set(map(type, data)) - allowed - {type(None)}
    if bad:
        i = next(i for i, v in enumerate(data) if type(v) in bad)
        raise DataValueError(f"{_PLACE.where(i, name)}: the {datatype} input holds "
                             f"{_json_type(data[i])} ({data[i]!r:.40}).", column=name)
    if datatype == "BYTES":
        return n, data, offset
    try:
        return n, np.array(data, dtype=np.float64), offset
    except OverflowError:
        raise ColumnError(f"input {name!r}: a number too large for a float.",
                          column=name) from None


def _binary_values(name: str, datatype: str, n: int, raw: bytes):
    if datatype == "BYTES":
        values, at = [], 0
        while at < len(raw):
            if at + 4 > len(raw):
                break
            length = int.from_bytes(raw[at:at + 4], "little")
            text = raw[at + 4:at + 4 + length]
            if len(text) != length:
                break
            try:
                values.append(text.decode("utf-8"))
            except UnicodeDecodeError:
                raise DataValueError(f"{_PLACE.where(len(values), name)}: the text is not "
                                     f"UTF-8.", column=name) from None
            at += 4 + length
        if at != len(raw) or len(values) != n:
            raise ColumnError(f"input {name!r}: the binary data is not {n} BYTES elements "
                              f"(each a 4-byte little-endian length, then the text).",
                              column=name)
        return values
    dtype = np.dtype("?" if datatype == "BOOL" else NUMERIC_TYPES[datatype])
    if len(raw) != n * dtype.itemsize:
        raise ColumnError(f"input {name!r}: {len(raw)} bytes of binary data, but {n} "
                          f"{datatype} values take {n * dtype.itemsize}.", column=name)
    if datatype == "BOOL" and raw.strip(b"\0\1"):
        raise DataValueError(f"input {name!r}: a BOOL byte other than 0 or 1.", column=name)
    return np.frombuffer(raw, dtype=dtype).astype(np.float64)


def _requested(outputs, parameters: dict):
    """The outputs a request names (None: all of them), and those to send as binary."""
    every_binary = parameters.get("binary_data_output") is True
    if outputs is None:
        return None, {"*"} if every_binary else set()
    if not isinstance(outputs, list):
        raise RequestError("outputs must be a list of {\"name\": ...} objects.")
    names, binary = [], set()
    for k, item in enumerate(outputs):
        item = _object(item, f"outputs[{k}]")
        name = item.get("name")
        if not isinstance(name, str):
            raise RequestError(f"outputs[{k}] needs a name.")
        names.append(name)
        wants = _object(item.get("parameters", {}), f"output {name!r}'s parameters")
        if wants.get("binary_data", every_binary) is True:
            binary.add(name)
    return names, binary


# --- values into typed columns -------------------------------------------------------

def typed_columns(rows: Rows, encoding, max_rows: int) -> dict:
    """The model's raw columns from a request's rows, each typed as its kind: a float64
    array (NaN where missing) for a number or boolean column, a pyarrow text array for
    a text one; the first value of the wrong type is an error naming its row and column."""
    if rows.n > max_rows:
        raise BodyTooLarge(f"the request holds {rows.n} rows and a request may hold at most "
                           f"{max_rows} (--max-rows); send them in smaller requests.")
    if rows.n == 0:
        raise RequestError("the request holds no rows; send at least one.")
    missing = [n for n in encoding.names if n not in rows.columns]
    if missing:
        raise ColumnError(f"the request has no column {quote_list(missing)}; the model reads "
                          f"{quote_list(encoding.names)}, sent: "
                          f"{quote_list(list(rows.columns)) or 'none'}.", column=missing[0])
    out = {}
    for code in encoding.columns:
        name, kind = code.name, code.kind
        datatype = rows.datatypes.get(name)
        if datatype is not None and datatype not in KIND_DATATYPES[kind]:
            raise ColumnError(f"input {name!r} is {datatype}, but the model reads it as "
                              f"{_EXPECTED[kind]}: send it as "
                              f"{' or '.join(KIND_DATATYPES[kind][:2])}.", column=name)
        out[name] = _typed(name, kind, rows.columns[name])
    return out


def _typed(name: str, kind: str, values):
    import pyarrow as pa

    text = kind in ("category", "hash")
    if isinstance(values, np.ndarray):  # a tensor's numbers, as float64 already
        if kind == "boolean":
            _check_zero_one(name, values)
        return values
    if isinstance(values, pa.Array):  # CSV cells, as text
        return values if text else _cells(name, kind, values)
    bad = set(map(type, values)) - _JSON_TYPES[kind]
    if bad:
        i = next(i for i, v in enumerate(values) if type(v) in bad)
        raise DataValueError(f"{_PLACE.where(i, name)}: expected {_EXPECTED[kind]}, got "
                             f"{_json_type(values[i])} ({values[i]!r:.40}); send "
                             f"{_EXPECTED[kind]}, or null for a missing value.", column=name)
    if text:
        return pa.array(values, pa.string())
    try:
        array = np.array(values, dtype=np.float64)
    except OverflowError:
        i = next(i for i, v in enumerate(values) if isinstance(v, int) and abs(v) > 2 ** 1000)
        raise DataValueError(f"{_PLACE.where(i, name)}: the number is too large for a "
                             f"float.", column=name) from None
    if kind == "boolean":
        _check_zero_one(name, array)
    return array


def _check_zero_one(name: str, values: np.ndarray) -> None:
    bad = ~np.isnan(values) & (values != 0) & (values != 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataValueError(f"{_PLACE.where(i, name)}: expected true or false (or 0 or 1), "
                             f"got {values[i]:g}.", column=name)


def _cells(name: str, kind: str, cells) -> np.ndarray:
    """A CSV column's text cells as numbers (a boolean column's ``true``/``false``/``1``/``0``
    as 1 and 0), NaN where missing; a cell that is not one names its row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from ..data.encoding import numbers

    target = pa.float64() if kind == "number" else pa.bool_()
    try:
        return numbers(pc.cast(cells, target))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    for i, cell in enumerate(cells.to_pylist()):
        try:
            pc.cast(pa.array([cell], pa.string()), target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise DataValueError(f"{_PLACE.where(i, name)}: expected {_EXPECTED[kind]}, got "
                                 f"{cell!r:.40}.", column=name) from None
    raise DataValueError(f"{_PLACE.where(None, name)}: cannot be read as {_EXPECTED[kind]}.",
                         column=name)


# --- answers into bodies -------------------------------------------------------------

def label_datatype(classes) -> str:
    """The V2 datatype of a classifier's labels: BOOL, INT64, FP64 or BYTES."""
    if all(isinstance(c, bool) for c in classes):
        return "BOOL"
    if all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return "INT64"
    if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in classes):
        return "FP64"
    return "BYTES"


def output_datatypes(model) -> dict:
    """Each output's V2 datatype."""
    return {name: label_datatype(model.classes) if name == "label" else "FP64"
            for name in model.outputs}


def invocations_body(model, answer) -> bytes:
    """``/invocations``' answer: ``{"predictions": [...]}``: a regression's numbers, or per
    row a classifier's ``{"probability", "label"}`` (one-vs-rest: ``"probabilities"``,
    one per class of ``"classes"``)."""
    out = answer.outputs
    if model.task == "regress":
        return dumps({"predictions": out["prediction"]})
    labels = out["label"]
    if "probability" in out:
        rows = [{"probability": p, "label": lab}
                for p, lab in zip(out["probability"].tolist(), labels)]
        return dumps({"predictions": rows})
    if "probabilities" in out:
        rows = [{"label": lab, "probabilities": p}
                for lab, p in zip(labels, out["probabilities"].tolist())]
    else:
        rows = [{"label": lab} for lab in labels]
    return dumps({"predictions": rows, "classes": model.classes})


def tensor_body(model, answer, request: TensorRequest) -> tuple[bytes, dict]:
    """A V2 inference response, and its headers: the outputs asked for, as JSON data or
    (the binary tensor extension) as bytes after the JSON."""
    types = output_datatypes(model)
    names = list(model.outputs) if request.outputs is None else request.outputs
    unknown = [n for n in names if n not in types]
    if unknown:
        raise RequestError(f"the model has no output {quote_list(unknown)}; its outputs are "
                           f"{quote_list(list(model.outputs))}.")
    outputs, chunks = [], []
    for name in names:
        values = answer[name]
        datatype = types[name]
        shape = list(np.shape(values)) if name != "label" else [len(values)]
        item = {"name": name, "datatype": datatype, "shape": shape}
        if name in request.binary or "*" in request.binary:
            raw = _output_bytes(values, datatype)
            item["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        elif name == "label" and datatype == "BYTES":
            item["data"] = [str(v) for v in values]
        else:
            item["data"] = np.ravel(values) if name != "label" else values
        outputs.append(item)
    doc = {"model_name": model.name, "model_version": "1", "outputs": outputs}
    if request.id is not None:
        doc["id"] = request.id
    head = dumps(doc)
    if not chunks:
        return head, {}
    return head + b"".join(chunks), {"inference-header-content-length": str(len(head))}


def _output_bytes(values, datatype: str) -> bytes:
    if datatype == "BYTES":
        out = bytearray()
        for v in values:
            text = str(v).encode("utf-8")
            out += len(text).to_bytes(4, "little") + text
        return bytes(out)
    dtype = "?" if datatype == "BOOL" else NUMERIC_TYPES[datatype]
    return np.ascontiguousarray(np.asarray(values), dtype=dtype).tobytes()


def explain_body(model, rows: list[dict]) -> bytes:
    """The explain route's answer: per row the logit, output, label, bias and contributions."""
    return dumps({"model_name": model.name, "task": model.task, "explanations": rows})

