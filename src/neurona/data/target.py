"""The target column of a file: a classifier's two classes, or a regression's numbers.

A classifier's target is coded by :class:`~neurona.data.readers.Labels` (two
labels, 0 and 1). A regression's is :class:`Numbers`: every cell a finite
number, optionally scaled (``(y - center) / scale``, fitted on the training
rows) for training and mapped back at prediction. Both have the same methods
(``observe``, ``finish``, ``count``, ``encode``), so a reader, a stream and a
test pass treat them alike; :func:`target_coder` gives the one a task needs.

:func:`numeric_target` looks at the first rows of a target column and tells
whether it holds numbers with more than two distinct values, the case where
the command line chooses a regression when no setting says which task.
"""

from __future__ import annotations

import numpy as np

from ..errors import ColumnError, DataValueError, TargetError
from .encoding import numbers, one_array
from .readers import DataFile, Labels, position

#: Distinct values a target must show before :func:`numeric_target` calls it numeric.
MORE_THAN_TWO = 3


def _as_numbers(file: DataFile, column: str, col, row0: int) -> np.ndarray:
    """The cells of ``col`` (a pyarrow array) as float64, or a one-line error naming the cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = one_array(col)
    if pa.types.is_dictionary(col.type):
        col = pc.cast(col, col.type.value_type)
    if col.null_count:
        i = pc.index(pc.is_null(col), True).as_py()
        raise DataValueError(
            f"{file.where(position(row0, i), column)}: missing target value (empty, NA or NaN); a "
            f"regression needs a number in every row: fill it in or drop the row.",
            path=file.path, column=column, line=file.line(position(row0, i)))
    if pa.types.is_boolean(col.type):
        raise ColumnError(
            f"{file.path}, column {column!r}: the target holds booleans, which are two "
            f"classes: train a classifier (--task classify).", path=file.path, column=column)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        text = col.to_pylist()
        values = np.empty(len(text))
        for i, cell in enumerate(text):
            try:
                values[i] = float(cell)
            except ValueError:
                raise DataValueError(
                    f"{file.where(position(row0, i), column)}: {cell!r:.40} is not a number; a "
                    f"regression's target must be numbers: fix the cell, or train a "
                    f"classifier (--task classify).", path=file.path, column=column,
                    line=file.line(position(row0, i))) from None
    else:
        values = numbers(col)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad))
        what = ("missing target value (NaN); fill it in or drop the row" if np.isnan(values[i])
                else f"infinite target value ({values[i]}); fix the cell or drop the row")
        raise DataValueError(f"{file.where(position(row0, i), column)}: {what}.", path=file.path,
                             column=column, line=file.line(position(row0, i)))
    return values


class Numbers:
    """A regression's target column: finite numbers, optionally scaled for training.

    Parameters
    ----------
    datafile : neurona.data.readers.DataFile
    column : str
    scaler : neurona.data.scaling.Scaler, default=None
        One "feature", the target: :meth:`encode` returns ``(y - center) /
        scale``. Set it after the training rows are known (``scaler`` is an
        attribute).
    """

    classes = None

    def __init__(self, datafile: DataFile, column: str, scaler=None):
        self.file, self.column, self.scaler = datafile, column, scaler
        self.low, self.high = np.inf, -np.inf

    def values(self, table, row0: int) -> np.ndarray:
        """The batch's targets in the target's units, checked."""
        return _as_numbers(self.file, self.column, table.column(self.column), row0)

    def observe(self, table, row0: int) -> None:
        """Check one batch's targets and keep their range."""
        y = self.values(table, row0)
        if len(y):
            self.low, self.high = min(self.low, y.min()), max(self.high, y.max())

    def finish(self) -> None:
        """Refuse a target that never varies (there is nothing to learn); no classes."""
        if self.low == self.high:
            raise TargetError(
                f"{self.file.path}, column {self.column!r}: the target is constant (every row "
                f"holds {self.low:g}), so there is nothing to learn; choose another target "
                f"column.", path=self.file.path, column=self.column)
        return None

    def count(self, table, keep: np.ndarray) -> dict:
        """How many of the batch's rows are kept, under the key None (a regression has no
        classes to count)."""
        return {None: int(np.count_nonzero(keep))}

    def encode(self, table, row0: int, scaled: bool = True) -> np.ndarray:
        """The batch's targets as float64, scaled when the coder has a scaler."""
        y = self.values(table, row0)
        if scaled and self.scaler is not None:
            y = (y - self.scaler.center[0]) / self.scaler.scale[0]
        return y


def target_coder(datafile: DataFile, column: str, task: str = "classify", classes=None):
    """The target's coder for ``task``: :class:`Labels` (with known ``classes``, if any) or
    :class:`Numbers`."""
    if task == "regress":
        return Numbers(datafile, column)
    return Labels(datafile, column, classes)


def numeric_target(datafile: DataFile, column: str) -> bool:
    """Whether ``column``'s first rows hold numbers with more than two distinct values.

    Reads the file's first batch only (a CSV block, or ``BATCH_ROWS`` rows), so
    that a streamed file's text is parsed once, by the run; the rows are
    checked again when trained on.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    seen: set = set()
    batches = datafile.batches([column])
    first = next(batches, None)
    batches.close()
    for _, table in [] if first is None else [first]:
        col = table.column(column).drop_null()
        if pa.types.is_boolean(col.type):
            return False
        for value in pc.unique(col).to_pylist():
            try:
                number = float(value)
            except (TypeError, ValueError):
                return False
            seen.add(number)
        if len(seen) >= MORE_THAN_TWO:
            return True
    return False
