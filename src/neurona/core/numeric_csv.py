"""The numeric CSV tables neurona writes (``history.csv``, ``weights.csv``), read back strictly.

:func:`read_table` accepts only what neurona writes: a header of distinct,
non-blank names, then rows of exactly as many cells, each cell a plain decimal
number (the ``repr`` of a float, or an integer) that is finite. Anything else
is refused with one line that names the file, the line and the column.
"""

from __future__ import annotations

import csv
import io
import math
import re

from ..errors import NeuronaError

#: A decimal number as Python writes one (no spaces, underscores, hex or other digits).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: An epoch number: a non-negative integer that fits in 64 bits.
_COUNT = re.compile(r"[0-9]{1,18}")
#: Longer cells are refused before they are parsed; neurona's are at most 25 characters.
MAX_CELL = 100


def read_table(text: str, where: str, what: str) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of CSV ``text``, every row as long as the header.

    ``where`` (the file) and ``what`` (the kind of file, e.g. ``"history"``)
    are named in the messages. Text with no header at all gives ``([], [])``.

    Raises
    ------
    NeuronaError
        For a blank or repeated column name, a blank line, a row of another
        length, or text the CSV reader cannot split.
    """
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise NeuronaError(f"{where}: not a CSV {what} file ({exc}).") from None
    if not rows or rows == [[]]:
        return [], []
    header = rows[0]
    for j, name in enumerate(header):
        if not name.strip():
            raise NeuronaError(f"{where}, line 1: column {j + 1} has a blank name; the "
                               f"header must name every column of the {what}.")
        if name in header[:j]:
            raise NeuronaError(f"{where}, line 1: the column {name[:40]!r} appears twice.")
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise NeuronaError(f"{where}, line {line}: {len(row)} values, expected "
                               f"{len(header)} (one per column of the header).")
    return header, rows[1:]


def number(cell: str, where: str, line: int, column: str, what: str = "values") -> float:
    """The finite number written in ``cell``, or a ``NeuronaError`` naming where it is.

    ``what`` names the values in the message when one is not finite
    (``"weights must be finite"``).
    """
    if len(cell) <= MAX_CELL and _NUMBER.fullmatch(cell):
        value = float(cell)
        if math.isfinite(value):
            return value
    elif cell.strip().lower().lstrip("+-") not in ("nan", "inf", "infinity"):
        raise NeuronaError(f"{where}, line {line}: not a number in column {column[:40]!r}: "
                           f"{cell[:40]!r}.")
    raise NeuronaError(f"{where}, line {line}: {what} must be finite (column {column[:40]!r} "
                       f"holds {cell[:40]!r}).")


def count(cell: str, where: str, line: int, column: str) -> int:
    """The non-negative integer written in ``cell`` (an epoch, a count of passes), or a
    ``NeuronaError``."""
    if _COUNT.fullmatch(cell):
        return int(cell)
    what = "an epoch number" if column == "epoch" else "a count"
    raise NeuronaError(f"{where}, line {line}: not {what} (a non-negative integer) "
                       f"in column {column[:40]!r}: {cell[:40]!r}.")


def consecutive(epochs: list[int], where: str, start: int | None = 0) -> None:
    """Refuse epochs that do not follow each other by one (from ``start``, if given)."""
    for i, epoch in enumerate(epochs):
        expected = (epochs[0] if start is None else start) + i
        if epoch != expected:
            raise NeuronaError(f"{where}, line {i + 2}: epoch {epoch} where epoch {expected} "
                               f"was expected; the rows hold consecutive epochs.")
