"""A UTF-8 CSV file parsed block by block on every core, in the blocks pyarrow's reader cuts.

``pyarrow.csv.open_csv`` reads a file in blocks of ``block_size`` bytes and
parses them one after the other: block ``k`` ends at the last line end
(``\\n`` or ``\\r``) at or before byte ``(k + 1) * block_size`` of the
(decompressed) text, and becomes one record batch. :func:`parsed_blocks`
cuts the text at the same places, so that every batch holds the same rows,
and parses the blocks in a pool of threads, each block by a reader of its
own (``pyarrow.csv.open_csv`` on the block's bytes, which releases the GIL),
the column types given: the whole file is parsed on every core, as pyarrow's
multi-threaded reader parses it, while the batches still come in file order,
a few blocks in memory at a time.

The header line is cut off the first block before it is parsed (the blank
lines before it too). A row longer than a block is refused as pyarrow
refuses it.
"""

from __future__ import annotations

import gzip
import os
import re
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

#: Threads parsing blocks at once (at most); a few more blocks wait, parsed, in memory.
MAX_WORKERS = 16
_LINE_ENDS = (b"\n", b"\r")
_BOM = b"\xef\xbb\xbf"
_TEXT = re.compile(rb"[^\r\n]")  # a byte of a line that is not blank


class LongHeader(Exception):
    """The header line does not end in the first block: pyarrow's own reader reads the file."""


class Straddling(ValueError):
    """A row longer than a block: pyarrow's reader refuses such a file too."""

    def __str__(self) -> str:
        return ("CSV parse error: straddling object straddles two block boundaries (try to "
                "increase block size?)")


def workers() -> int:
    """Threads of the pool: the cores this process may run on, at most :data:`MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))


def _last_line_end(data, lo: int, hi: int) -> int:
    """The position just after the last ``\\n`` or ``\\r`` of ``data[lo:hi]`` (``lo`` if none)."""
    n = data.rfind(b"\n", lo, hi)
    last = max(n, data.rfind(b"\r", max(n + 1, lo), hi))  # a \r only after the last \n
    return last + 1 if last >= 0 else lo


def _after_header(data, lo: int, hi: int) -> int | None:
    """Where the rows of the first block ``data[lo:hi]`` start: after the BOM, blank lines
    and header line; None when the header does not end there."""
    i = lo + len(_BOM) if data.startswith(_BOM, lo, hi) else lo
    while i < hi and data[i] in b"\r\n":
        i += 1
    ends = [p for p in (data.find(b"\n", i, hi), data.find(b"\r", i, hi)) if p >= 0]
    return min(ends) + 1 if ends else None


#: Bytes left free before each block read, for the end of the line the block before
#: it left over: the block is read right after them, and never copied.
HEADROOM = 1 << 16


def _read_block(source, n: int) -> tuple[bytearray, int]:
    """A buffer of :data:`HEADROOM` free bytes then up to ``n`` bytes of ``source``, and the
    end of what was read (``n`` bytes, fewer only at its end)."""
    buffer = bytearray(HEADROOM + n)
    view, end = memoryview(buffer), HEADROOM
    with view:
        while end < len(buffer):
            got = source.readinto(view[end:])
            if not got:
                break
            end += got
    return buffer, end


def text_blocks(source, block_bytes: int) -> Iterator[memoryview]:
    """The rows of ``source`` (a binary file object), header cut off, in pyarrow's blocks.

    Each item (a ``memoryview``) holds whole lines; empty ones are left out. As in pyarrow's
    reader, the block read last (the next read finds nothing) is parsed whole.
    Raises :class:`Straddling` for a block without a line end (a row longer
    than a block), and :class:`LongHeader` when the header does not end in the
    first block (before yielding anything).
    """
    carry = b""
    first = True
    data, hi = _read_block(source, block_bytes)
    while True:
        following = _read_block(source, block_bytes) if hi - HEADROOM == block_bytes else None
        final = following is None or following[1] == HEADROOM  # nothing after this block
        if len(carry) <= HEADROOM:  # the line left over goes in the room before the block
            lo = HEADROOM - len(carry)
            data[lo:HEADROOM] = carry
        else:  # a line longer than the room: copied with the block
            data, lo, hi = carry + data[HEADROOM:hi], 0, len(carry) + hi - HEADROOM
        start = lo
        if first:
            first = False
            start = _after_header(data, lo, hi)
            if start is None:
                if final and not data[lo:hi].strip(b"\r\n" + _BOM):
                    return  # no header at all: opening the file has said so already
                raise LongHeader()
        if final:
            if _TEXT.search(data, start, hi):
                yield memoryview(data)[start:hi]
            return
        end = _last_line_end(data, start, hi)
        if end <= start:
            if _TEXT.search(data, start, hi):
                raise Straddling()
            end = hi
        if _TEXT.search(data, start, end):
            yield memoryview(data)[start:end]  # no copy: the block stays a view of data
        carry = bytes(data[end:hi])
        data, hi = following


def open_text(path, gzipped: bool):
    """The file's bytes (decompressed when ``gzipped``), for :func:`text_blocks`."""
    return gzip.open(path, "rb") if gzipped else open(path, "rb", buffering=0)


def parsed_blocks(path, *, gzipped: bool, block_bytes: int, column_names: list[str],
                  read_options: dict, parse_options: dict, convert_options: dict,
                  n_workers: int | None = None) -> Iterator:
    """``pyarrow.Table`` after ``pyarrow.Table`` of the file's blocks, in file order.

    ``column_names`` are the header's (all of them); the options are the
    keyword arguments of ``pyarrow.csv``'s option classes (``include_columns``
    and ``column_types`` among the conversion options). Each block is parsed
    by a reader of its own in a thread of a pool of ``n_workers``
    (default :func:`workers`), at most ``n_workers + 2`` blocks ahead of the
    one yielded (one ahead of the first). Exceptions are pyarrow's (and
    ``OSError``, ``EOFError`` or ``zlib.error`` from the file), raised when
    their block's turn comes.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    # One chunk per column: a block (with the rest of a line before it) is under two blocks.
    read = pacsv.ReadOptions(**read_options, column_names=column_names, use_threads=False,
                             block_size=2 * block_bytes + 64)
    parse = pacsv.ParseOptions(**parse_options)
    convert = pacsv.ConvertOptions(**convert_options)

    def parse_block(data: memoryview):
        # The streaming reader on the block alone: one record batch (its block size is
        # more than the block's), and pyarrow's messages as the file's own reader words them.
        reader = pacsv.open_csv(pa.BufferReader(pa.py_buffer(data)), read_options=read,
                                parse_options=parse, convert_options=convert)
        try:
            return pa.Table.from_batches(list(reader), schema=reader.schema)
        finally:
            reader.close()

    n_workers = n_workers or workers()
    ahead, yielded = n_workers + 2, 0
    pending: deque = deque()
    with open_text(path, gzipped) as source, ThreadPoolExecutor(n_workers) as pool:
        blocks, failure = text_blocks(source, block_bytes), None
        try:
            while True:
                try:
                    data = next(blocks)
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001 - raised after the blocks before it
                    failure = exc
                    break
                pending.append(pool.submit(parse_block, data))
                # The window widens as blocks are taken: a reader of the first block
                # only (a file's kinds, its first rows) has few parsed for nothing.
                while len(pending) > min(ahead, yielded + 1):
                    yield pending.popleft().result()
                    yielded += 1
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
    if failure is not None:
        raise failure
