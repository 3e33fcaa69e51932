"""Strict JSON files: every file neurona reads back, read one way.

neurona writes its files (model, estimator, checkpoint, a run's
``config.json``) as plain JSON with :func:`dumps`, and reads them back with
:func:`read_json`, which accepts only what :func:`dumps` can write: UTF-8
text, each key once per object, finite numbers, a bounded size and a bounded
nesting depth, from a regular file (never a pipe or a device, which could
block). :func:`read_text` reads the other text files neurona writes
(``history.csv``, ``weights.csv``) with the same checks. :func:`check_format`
then checks the document's ``format`` name and ``format_version``. Every
refusal is one line that names the file, the kind of file and the problem,
raised as the caller's :class:`~neurona.errors.NeuronaError` subclass.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Collection
from pathlib import Path
from typing import Any

from ..errors import NeuronaError

#: Files larger than this are refused before they are read: neurona's own files
#: are far smaller (a model file is a few kilobytes, a long run's checkpoint a few
#: megabytes).
MAX_BYTES = 256 * 2**20

#: Deeper nesting is refused; neurona's own files nest fewer than ten levels.
#: It stays well below Python's recursion limit, which the JSON parser uses.
MAX_DEPTH = 64

#: Integers with more digits are refused: neurona's largest (a random generator's state)
#: have 39, and any integer of this many digits is a finite float too.
MAX_INT_DIGITS = 100

_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", int: "a number",
               float: "a number", bool: "true or false", type(None): "null"}


def dumps(obj: Any) -> str:
    """JSON text with no NaN or infinity (they are not JSON), indented, newline-terminated."""
    return json.dumps(obj, indent=2, allow_nan=False) + "\n"


class _Refused(Exception):
    """A parse hook's refusal; :func:`read_json` turns it into the caller's error."""


def _no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise _Refused(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def _no_constant(name):
    raise _Refused(f"{name} is not a valid JSON number")


def _nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than ``limit`` levels in ``value`` (no recursion)."""
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False


def _a(what: str) -> str:
    return f"{'an' if what[:1].lower() in 'aeiou' else 'a'} {what}"


def read_bytes(path: str | os.PathLike, *, what: str, error: type[NeuronaError] = NeuronaError,
               missing: str | None = None, directory: str | None = None,
               max_bytes: int = MAX_BYTES) -> bytes:
    """The content of the regular file at ``path``, at most ``max_bytes`` long.

    The file is opened without blocking and checked to be a regular file
    before anything is read, so a FIFO, a terminal or ``/dev/stdin`` is
    refused at once instead of waiting for input that may never come.
    Parameters as in :func:`read_json`.

    Raises
    ------
    NeuronaError
        (``error``) When the file is missing, a directory, not a regular file,
        unreadable or larger than ``max_bytes``.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error(missing or f"{path}: no such {what}.") from None
    except IsADirectoryError:
        raise error(directory or f"{path} is a directory, not {_a(what)}.") from None
    except OSError as exc:
        raise error(f"{path}: cannot read this {what} ({exc.strerror or exc}).") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error(directory or f"{path} is a directory, not {_a(what)}.")
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: not a regular file ({_kind(info.st_mode)}), so not "
                        f"{_a(what)}; pass the file itself.")
        size = info.st_size
        if size <= max_bytes:
            with os.fdopen(os.dup(fd), "rb") as f:
                raw = f.read(max_bytes + 1)  # a file that grows, or reports no size
            size = len(raw)
    except OSError as exc:
        raise error(f"{path}: cannot read this {what} ({exc.strerror or exc}).") from None
    finally:
        os.close(fd)
    if size > max_bytes:
        raise error(f"{path}: larger than {max_bytes} bytes, far more than {_a(what)} "
                    f"holds; is it the right file?")
    return raw


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, for messages."""
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def read_text(path: str | os.PathLike, *, what: str, error: type[NeuronaError] = NeuronaError,
              missing: str | None = None, directory: str | None = None,
              max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of the regular file at ``path`` (see :func:`read_bytes`).

    Raises
    ------
    NeuronaError
        (``error``) As :func:`read_bytes`, and when the bytes are not UTF-8.
    """
    raw = read_bytes(path, what=what, error=error, missing=missing, directory=directory,
                     max_bytes=max_bytes)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not a text (UTF-8) file, so not {_a(what)} (byte "
                    f"0x{raw[exc.start]:02x} at offset {exc.start}).") from None


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"an integer of {len(text.lstrip('-'))} digits (more than "
                       f"{MAX_INT_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:40]} is beyond the range of a float")
    return value


def _check_strings(value: Any) -> None:
    """Refuse text that is not Unicode (an unpaired surrogate such as ``"\\ud800"``)."""
    stack = [value]
    while stack:
        node = stack.pop()
        items = (list(node) + list(node.values()) if isinstance(node, dict)
                 else node if isinstance(node, list) else [node])
        for item in items:
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise _Refused(f"a string holds {item[exc.start]!r}, which is no "
                                   f"character") from None
            elif isinstance(item, (dict, list)):
                stack.append(item)


def read_json(path: str | os.PathLike, *, what: str, error: type[NeuronaError] = NeuronaError,
              missing: str | None = None, directory: str | None = None,
              max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Read the JSON file at ``path`` strictly and return its content.

    Parameters
    ----------
    path : str or PathLike
        The file to read.
    what : str
        The kind of file, as the messages name it: ``"model file"``,
        ``"checkpoint"``, ``"run configuration"``...
    error : type, default=NeuronaError
        The :class:`~neurona.errors.NeuronaError` subclass raised.
    missing : str, optional
        The whole message when the file does not exist (default:
        ``"PATH: no such WHAT."``), for a hint on where the file comes from.
    directory : str, optional
        The whole message when ``path`` is a directory (default:
        ``"PATH is a directory, not a WHAT."``).
    max_bytes : int, default=MAX_BYTES
        A larger file is refused before it is read.
    max_depth : int, default=MAX_DEPTH
        Objects and arrays nested deeper than this are refused.

    Returns
    -------
    object
        The parsed document (usually a dict). Its numbers are finite (ints of
        at most :data:`MAX_INT_DIGITS` digits, floats) and its strings are
        Unicode text.

    Raises
    ------
    NeuronaError
        (``error``) When the file is missing, a directory, not a regular file,
        unreadable, too large, not UTF-8, not valid JSON, has a key twice in
        one object, holds ``NaN``, ``Infinity``, ``-Infinity``, a number
        beyond a float's range or an integer of too many digits, holds a
        string that is not Unicode text, or nests too deeply.
    """
    text = read_text(path, what=what, error=error, missing=missing, directory=directory,
                     max_bytes=max_bytes)
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant,
                         parse_int=_int, parse_float=_float)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON, so not {_a(what)} ({exc.msg} at line "
                    f"{exc.lineno}, column {exc.colno}).") from None
    except _Refused as exc:
        raise error(f"{path}: {exc}, so not {_a(what)} that neurona wrote.") from None
    except RecursionError:
        doc = None
    else:
        if not _nesting_exceeds(doc, max_depth):
            try:
                _check_strings(doc)
            except _Refused as exc:
                raise error(f"{path}: {exc}, so not {_a(what)} that neurona wrote.") from None
            return doc
    raise error(f"{path}: objects and arrays nested more than {max_depth} levels deep, "
                f"far deeper than {_a(what)} nests; is it the right file?")


def check_format(doc: Any, *, format: str, versions: Collection[int], where: str,
                 what: str, error: type[NeuronaError] = NeuronaError,
                 fields: Collection[str] = (), also: Collection[str] = ()) -> dict:
    """Check that ``doc`` is a JSON object of ``format`` in a version this neurona reads.

    Parameters
    ----------
    doc : object
        A parsed document (from :func:`read_json`).
    format : str
        The expected ``format`` name, e.g. ``"neurona-model"``.
    versions : collection of int
        The ``format_version`` values this neurona reads (a newer neurona
        may write a new version and still read the old ones).
    where : str
        Where the document comes from (the file), first in each message.
    what : str
        The kind of file, as the messages name it.
    error : type, default=NeuronaError
        The :class:`~neurona.errors.NeuronaError` subclass raised.
    fields : collection of str, optional
        The keys the document must have.
    also : collection of str, optional
        Other format names the caller reads (by another path), named in the
        message as accepted too.

    Returns
    -------
    dict
        ``doc``, unchanged.

    Raises
    ------
    NeuronaError
        (``error``) Naming the first problem: not an object, another format,
        a version that is not an integer or not read here, missing fields.
    """
    if not isinstance(doc, dict):
        found = _JSON_TYPES.get(type(doc), type(doc).__name__)
        raise error(f"{where}: not a neurona {what} (expected a JSON object, found {found}).")
    expected = " or ".join(repr(name) for name in (format, *also))
    if doc.get("format") != format:
        raise error(f"{where}: not a neurona {what} (format is {doc.get('format')!r}, "
                    f"expected {expected}).")
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise error(f"{where}: format_version must be an integer, got {version!r}.")
    if version not in versions:
        readable = ", ".join(str(v) for v in sorted(versions))
        writer = doc.get("neurona_version")
        writer = f" (neurona {writer})" if isinstance(writer, str) else ""
        raise error(f"{where}: {what} format version {version} is not supported; this "
                    f"neurona reads version {readable}. Use the neurona version that wrote "
                    f"the file{writer}.")
    missing = [key for key in fields if key not in doc]
    if missing:
        raise error(f"{where}: missing field(s): {', '.join(missing)}.")
    return doc
