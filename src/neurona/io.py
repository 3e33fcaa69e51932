"""Files: the model file (JSON, versioned, validated), atomic writes, run directories.

No pickle anywhere: a model file is plain JSON that any tool can read, and
loading one never executes code.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from .activations import ACTIVATIONS
from .errors import ModelFileError, RunDirectoryError
from .losses import LOSSES, check_pair
from .neuron import Neuron

FORMAT = "neurona-model"
FORMAT_VERSION = 1
REQUIRED = ("format", "format_version", "activation", "loss", "weights", "bias",
            "threshold", "feature_names")


# --- writing ---------------------------------------------------------------

def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (temporary file, then rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dumps(obj: Any) -> str:
    """JSON text with no NaN or infinity (they are not JSON), indented, newline-terminated."""
    return json.dumps(obj, indent=2, allow_nan=False) + "\n"


def model_document(neuron: Neuron, *, loss: str, feature_names=None,
                   training: dict | None = None) -> dict:
    """The model file's content for ``neuron`` as a plain dict."""
    from . import __version__

    names = list(feature_names or neuron.feature_names
                 or [f"x{i}" for i in range(neuron.n_features)])
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "neurona_version": __version__,
        "activation": neuron.activation.name,
        "loss": loss,
        "threshold": neuron.threshold,
        "feature_names": names,
        "weights": [float(w) for w in neuron.weights],
        "bias": float(neuron.bias),
        "training": training or {},
    }


def save(neuron: Neuron, path: str | os.PathLike, *, loss: str = "log_loss",
         feature_names=None, training: dict | None = None) -> None:
    """Save ``neuron`` to a model file at ``path`` (written atomically)."""
    doc = model_document(neuron, loss=loss, feature_names=feature_names, training=training)
    validate_document(doc, str(path))
    atomic_write_text(path, dumps(doc))


# --- reading ---------------------------------------------------------------

def _no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ModelFileError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def _no_constant(name):
    raise ModelFileError(f"{name} is not a valid JSON number")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate_document(doc: Any, where: str) -> dict:
    """Check a parsed model document; raise ``ModelFileError`` naming the first problem."""
    def fail(msg: str):
        raise ModelFileError(f"{where}: {msg}")

    if not isinstance(doc, dict):
        fail(f"expected a JSON object, found {type(doc).__name__}.")
    if doc.get("format") != FORMAT:
        fail(f"not a neurona model file (format is {doc.get('format')!r}, "
             f"expected {FORMAT!r}).")
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        fail(f"format_version must be an integer, got {version!r}.")
    if version != FORMAT_VERSION:
        fail(f"format version {version} is not supported; this neurona reads version "
             f"{FORMAT_VERSION}. Use the neurona version that wrote the file.")
    missing = [k for k in REQUIRED if k not in doc]
    if missing:
        fail(f"missing field(s): {', '.join(missing)}.")
    if doc["activation"] not in ACTIVATIONS:
        fail(f"unknown activation {doc['activation']!r}; expected one of "
             f"{', '.join(ACTIVATIONS)}.")
    if doc["loss"] not in LOSSES:
        fail(f"unknown loss {doc['loss']!r}; expected one of {', '.join(LOSSES)}.")
    try:
        check_pair(doc["activation"], doc["loss"])
    except ValueError as exc:
        fail(str(exc))
    weights = doc["weights"]
    if not isinstance(weights, list) or not weights:
        fail("weights must be a non-empty list of numbers.")
    bad = [i for i, w in enumerate(weights) if not _is_number(w)]
    if bad:
        fail(f"weights[{bad[0]}] is {weights[bad[0]]!r}, expected a finite number.")
    for key in ("bias", "threshold"):
        if not _is_number(doc[key]):
            fail(f"{key} is {doc[key]!r}, expected a finite number.")
    names = doc["feature_names"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        fail("feature_names must be a list of strings.")
    if len(names) != len(weights):
        fail(f"{len(names)} feature_names but {len(weights)} weights; they must match.")
    if len(set(names)) != len(names):
        fail("feature_names has duplicates.")
    if not isinstance(doc.get("training", {}), dict):
        fail("training must be a JSON object.")
    return doc


def read_document(path: str | os.PathLike) -> dict:
    """Read and validate a model file; return its content as a dict."""
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{path} is a directory; pass the model.json inside a run directory.")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file.") from None
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: not a text (UTF-8) file; is it a model.json?") from None
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
        ) from None
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}.") from None
    return validate_document(doc, str(path))


def load(path: str | os.PathLike) -> Neuron:
    """Rebuild the neuron saved in the model file at ``path``.

    The feature names are on ``neuron.feature_names`` and the whole file's
    content on ``neuron.metadata``.
    """
    doc = read_document(path)
    neuron = Neuron(doc["weights"], doc["bias"], doc["activation"], doc["threshold"],
                    doc["feature_names"])
    neuron.metadata = doc
    return neuron


# --- run directories -------------------------------------------------------

def new_run_path(root: str | os.PathLike = "runs") -> Path:
    """A path under ``root`` that does not exist yet, named after the current time."""
    root = Path(root)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = root / stamp, 1
    while path.exists():
        n += 1
        path = root / f"{stamp}-{n}"
    return path


def check_run_path(path: str | os.PathLike) -> Path:
    """Refuse a run directory path that holds anything already."""
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise RunDirectoryError(f"{path} exists and is not a directory; choose another --out.")
        if any(path.iterdir()):
            raise RunDirectoryError(
                f"{path} already holds files and neurona never overwrites a run; "
                f"choose another --out or remove it.")
    return path


@contextmanager
def staged_directory(final: str | os.PathLike) -> Iterator[Path]:
    """Build a directory in a temporary sibling and move it to ``final`` at the end.

    The directory appears whole or not at all: an exception inside the
    ``with`` block removes the temporary folder and leaves ``final`` untouched.
    """
    final = check_run_path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))
    try:
        yield tmp
        try:
            os.rename(tmp, final)  # replaces an empty directory, fails on a full one
        except OSError:
            raise RunDirectoryError(
                f"{final} appeared while the run was being written; choose another --out."
            ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
