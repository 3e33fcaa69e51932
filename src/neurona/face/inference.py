"""A trained neuron applied to a data file: predictions out, or an evaluation.

Both read the file in record batches, so a file of any size can be scored;
the columns are selected by the model's feature names, in any order, and
other columns are ignored. ``evaluate_file`` keeps two numbers per row (the
label and the output) to compute the ROC AUC (a regression's: the target and
the prediction).

A classifier's predictions are its output (``probability``) and its class
(``label``); a regression's, its number (``prediction``) in the target's units.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import ColumnError, DataFileError, OptionError, OutputFileError
from ..show.metrics import evaluate, regression_report, regression_scores
from ..core.neuron import Neuron, check_threshold
from ..data.readers import DataFile, quote_list
from ..data.encoding import ColumnRules
from ..data.table import TableReading

OUTPUT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def model_encoding(neuron: Neuron):
    """How the model makes its features from a file's columns: its encoding, or (a model
    without one) each feature a number column of its name."""
    from ..data.encoding import Encoding

    if neuron.encoding is not None:
        return neuron.encoding
    return Encoding.of_numbers(neuron.feature_names or [f"x{i}" for i in range(neuron.n_features)])


def model_columns(datafile: DataFile, neuron: Neuron) -> list[str]:
    """The columns the model reads, found by name in ``datafile``, or a clear error."""
    encoding = model_encoding(neuron)
    names = encoding.names
    missing = [n for n in names if n not in datafile.columns]
    if missing:
        raise ColumnError(
            f"{datafile.path}: missing column{'s' if len(missing) > 1 else ''} "
            f"{quote_list(missing)} that the model needs (it was trained on "
            f"{quote_list(names)}); columns found: {quote_list(datafile.columns)}."
            f"{datafile._header_hint()}", path=datafile.path, column=missing[0])
    datafile.check_columns(names, numeric=[n for n, kind in encoding.kinds.items()
                                           if kind in ("number", "boolean")])
    return names


def _features(datafile: DataFile, encoding, columns: list[str], numeric=()):
    """``(row0, table, X)`` of every batch: the model's features of the file's raw rows."""
    kinds = {**encoding.kinds, **{c: "number" for c in numeric}}
    for row0, table in datafile.batches(columns, kinds=kinds):
        X, _ = encoding.transform(table, datafile, np.arange(row0, row0 + table.num_rows))
        yield row0, table, X


OUTPUT_COLUMNS = {"classify": ("probability", "label"), "regress": ("prediction",)}


def _check_threshold(neuron: Neuron, threshold) -> None:
    if threshold is None:
        return
    if neuron.task == "regress":
        raise OptionError("--threshold applies to a classifier (it turns the output into a "
                          "class); this model is a regression, which predicts numbers: drop it.")
    check_threshold(threshold, neuron.activation)


def predictions(neuron: Neuron, path, *, delimiter: str | None = None,
                encoding: str | None = None, threshold: float | None = None,
                keep: list[str] | None = None) -> Iterator["object"]:
    """The predictions for every row of a data file, as pyarrow tables batch by batch.

    A classifier's tables have the columns ``probability`` (the neuron's
    output) and ``label`` (the predicted class, in the original labels when
    the model has them); a regression's, ``prediction`` (in the target's
    units). They come after the input columns named in ``keep`` (e.g. an id),
    copied as they are. The file is opened and its columns checked before
    this returns; the rows are read as the tables are consumed.
    """
    _check_threshold(neuron, threshold)
    datafile = DataFile(path, delimiter=delimiter, encoding=encoding)
    names = model_columns(datafile, neuron)
    keep = list(keep or [])
    outputs = OUTPUT_COLUMNS[neuron.task]
    clash = [k for k in keep if k in outputs]
    if clash:
        raise OptionError(f"--keep {clash[0]!r} would clash with the output column of that "
                          f"name; the output has {', '.join(outputs)}.")
    datafile.check_columns(keep, what="column to keep")
    columns = list(dict.fromkeys([*names, *keep]))

    def generate():
        import pyarrow as pa

        n = 0
        for row0, table, X in _features(datafile, model_encoding(neuron), columns):
            n += len(X)
            if neuron.task == "regress":
                out = {"prediction": neuron.predict(X)}
            else:
                out = {"probability": neuron.predict_proba(X),
                       "label": neuron.predict(X, threshold)}
            yield pa.table({**{k: table.column(k) for k in keep}, **out})
        if n == 0:
            raise DataFileError(f"{datafile.path}: no data rows to predict; add rows below "
                                f"the header.", path=datafile.path)

    return generate()


def output_format(path) -> str:
    """``csv`` or ``parquet``, from the output file's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise OutputFileError(f"{path}: unknown output type {suffix or '(none)'}; write "
                              f"{', '.join(OUTPUT_FORMATS)}.")
    return OUTPUT_FORMATS[suffix]


def write_predictions(tables, sink, fmt: str = "csv", labels=()) -> int:
    """Write prediction tables to ``sink`` (a path or a binary file); return the row count.

    CSV values are quoted only when one of the ``labels`` (the model's
    classes) holds a comma, a quote or a line break, or when text columns
    were copied from the input.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if isinstance(sink, (str, os.PathLike)):
        stream = pa.OSFile(os.fspath(sink), mode="w")
    else:
        stream = pa.PythonFile(sink, mode="w")
    special = any(any(ch in str(label) for ch in ',"\r\n') for label in labels)
    writer = None
    n = 0
    try:
        for table in tables:
            if writer is None and fmt == "csv":
                # Quote only where a value could need it: labels with special
                # characters, or text columns copied from the input.
                text = [f.name for f in table.schema if f.name != "label"
                        and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))]
                quoting = "needed" if special or text else "none"
                stream.write((",".join(table.column_names) + "\n").encode())
                writer = pacsv.CSVWriter(stream, table.schema, write_options=pacsv.WriteOptions(
                    include_header=False, quoting_style=quoting))
            elif writer is None:
                writer = pq.ParquetWriter(stream, table.schema)
            writer.write_table(table)
            n += table.num_rows
    finally:
        if writer is not None:
            writer.close()
        if isinstance(sink, (str, os.PathLike)):
            stream.close()
        else:
            stream.flush()
    return n


def evaluate_file(neuron: Neuron, path, target: str | None = None, *,
                  delimiter: str | None = None, encoding: str | None = None,
                  threshold: float | None = None) -> dict:
    """Evaluate ``neuron`` on a labelled data file.

    ``target`` defaults to the target column the model was trained on. A
    classifier's labels must be among the model's classes (0 and 1 for a
    model without any); its result is :func:`neurona.show.metrics.evaluate`'s.
    A regression's targets must be numbers; its result holds ``n_samples``,
    ``r2``, ``mae``, ``rmse``, ``explained_variance`` (in the target's units,
    by ``sklearn.metrics``) and the text ``report``. Both have ``data``,
    ``target`` and ``task``.
    """
    _check_threshold(neuron, threshold)
    target = target or neuron.metadata.get("target")
    datafile = DataFile(path, delimiter=delimiter, encoding=encoding)
    if target is None:
        raise OptionError(f"name the target column with --target (the model does not "
                          f"record one); columns found: {quote_list(datafile.columns)}.")
    names = model_columns(datafile, neuron)
    if target in names:
        raise OptionError(f"the target {target!r} is one of the model's features; name the "
                          f"target column with --target.")
    datafile.check_columns([target], what="target column")
    encoding = model_encoding(neuron)
    # The model's rule for missing values: unless "error", a row missing its target (or,
    # with "drop", a feature) is left out, and counted.
    reading = TableReading(datafile, target, names, task=neuron.task,
                           rules=ColumnRules(encoding.missing, encoding.unknown),
                           classes=neuron.classes if neuron.classes is not None else [0, 1],
                           encoding=encoding)
    # Per row, the target and the net input (a regression's: its prediction, in units).
    ys, zs = [], []
    output = neuron.predict if neuron.task == "regress" else neuron.net_input
    n_read = 0
    for row0, table in reading.tables():
        n_read += table.num_rows
        X, table, rows = reading.encode(table, row0)
        ys.append(reading.coder.encode(table, rows))
        zs.append(output(X))
    if sum(len(y) for y in ys) == 0:
        raise DataFileError(f"{datafile.path}: no data rows to evaluate on.",
                            path=datafile.path)
    y, z = np.concatenate(ys), np.concatenate(zs)
    where = {"data": str(path), "target": target, "task": neuron.task,
             "n_dropped": n_read - len(y)}
    if neuron.task == "regress":
        scores = regression_scores(y, z)
        return {**where, **scores, "report": regression_report(scores, target)}
    result = evaluate(y, neuron.activation.value(z), z,
                      threshold=neuron.threshold if threshold is None else threshold,
                      classes=neuron.classes, activation=neuron.activation.name)
    return {**where, **result}
