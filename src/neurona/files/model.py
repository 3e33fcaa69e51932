"""The model file: one neuron as plain JSON, versioned, validated when read.

No pickle anywhere: a model file is plain JSON that any tool can read, and
loading one never executes code.
"""

from __future__ import annotations

import math
import os
from typing import Any

from ..core.activations import ACTIVATIONS
from ..errors import ModelFileError
from ..core.losses import LOSSES, check_pair
from ..core.neuron import Neuron
from ..core.spec import TASKS, resolve_task
from .jsonfile import check_format, dumps, read_json
from .rundir import atomic_write_text

FORMAT = "neurona-model"
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, FORMAT_VERSION)  # the format_version values this neurona reads
REQUIRED = ("format", "format_version", "activation", "loss", "weights", "bias",
            "threshold", "feature_names")
# Version 2 adds the required "task" ("classify" or "regress"); a version 1 file's task
# is the one its activation and loss imply (identity with squared_error: regress).
# Version 3 adds the optional "encoding": how raw columns become the features (one-hot
# categories, hashed columns, filled-in missing values; see neurona.data.encoding), its
# feature names those of "feature_names".
# Optional fields: "classes" (the original labels of 0 and 1, a classifier's),
# "scaler" (applied to the raw features before the weights), "target_scaler" (a
# regression's: its output times the scale plus the center is in the target's units)
# and "target" (the name of the target column).


# --- writing ---------------------------------------------------------------

def model_document(neuron: Neuron, *, loss: str, feature_names=None,
                   training: dict | None = None, target: str | None = None) -> dict:
    """The model file's content for ``neuron`` as a plain dict.

    ``classes``, ``scaler`` and ``target`` appear only when set, so a model
    without them is written exactly as before.
    """
    from .. import __version__

    names = list(feature_names or neuron.feature_names
                 or [f"x{i}" for i in range(neuron.n_features)])
    optional = {}
    if neuron.classes is not None:
        optional["classes"] = [c.item() if hasattr(c, "item") else c for c in neuron.classes]
    if neuron.scaler is not None:
        optional["scaler"] = neuron.scaler.to_dict()
    if neuron.target_scaler is not None:
        optional["target_scaler"] = neuron.target_scaler.to_dict()
    if neuron.encoding is not None and not neuron.encoding.plain:
        optional["encoding"] = neuron.encoding.to_dict()
    if target is not None:
        optional["target"] = target
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "neurona_version": __version__,
        "task": neuron.task,
        "activation": neuron.activation.name,
        "loss": loss,
        "threshold": neuron.threshold,
        "feature_names": names,
        "weights": [float(w) for w in neuron.weights],
        "bias": float(neuron.bias),
        **optional,
        "training": training or {},
    }


def save(neuron: Neuron, path: str | os.PathLike, *, loss: str = "log_loss",
         feature_names=None, training: dict | None = None, target: str | None = None) -> None:
    """Save ``neuron`` to a model file at ``path`` (written atomically).

    The neuron's ``classes`` and ``scaler`` are saved with it; ``target``
    records the name of the target column.
    """
    doc = model_document(neuron, loss=loss, feature_names=feature_names, training=training,
                         target=target)
    validate_document(doc, str(path))
    atomic_write_text(path, dumps(doc))


# --- reading ---------------------------------------------------------------

def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate_document(doc: Any, where: str) -> dict:
    """Check a parsed model document; raise ``ModelFileError`` naming the first problem."""
    def fail(msg: str):
        raise ModelFileError(f"{where}: {msg}")

    check_format(doc, format=FORMAT, versions=READABLE_VERSIONS, where=where,
                 what="model file", error=ModelFileError, fields=REQUIRED)
    for key in ("activation", "loss"):
        if not isinstance(doc[key], str):
            fail(f"{key} must be a name (a string), got {doc[key]!r:.60}.")
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
    if "classes" in doc:
        classes = doc["classes"]
        if (not isinstance(classes, list) or len(classes) != 2
                or not all(isinstance(c, (str, bool)) or _is_number(c) for c in classes)):
            fail("classes must be a list of two labels (strings, numbers or booleans).")
        if classes[0] == classes[1]:
            fail(f"classes has the same label twice ({classes[0]!r}).")
    if "scaler" in doc:
        from ..data.scaling import Scaler

        Scaler.from_dict(doc["scaler"], len(weights), where)
    if "target" in doc and not isinstance(doc["target"], str):
        fail("target must be a string (the name of the target column).")
    if doc["format_version"] >= 2 and "task" not in doc:
        fail("task is missing; expected 'classify' or 'regress'.")
    task = task_of(doc)
    if task not in TASKS:
        fail(f"task must be 'classify' or 'regress', got {task!r:.60}.")
    if task == "regress" and "classes" in doc:
        fail("a regression has no classes; remove classes or set task to 'classify'.")
    if "target_scaler" in doc:
        if task != "regress":
            fail("target_scaler maps a regression's output; this model is a classifier.")
        from ..data.scaling import Scaler

        Scaler.from_dict(doc["target_scaler"], 1, f"{where}: target_scaler")
    if "encoding" in doc:
        if doc["format_version"] < 3:
            fail("encoding is a field of format version 3.")
        from ..data.encoding import Encoding

        encoding = Encoding.from_dict(doc["encoding"], where)
        if encoding.feature_names != names:
            fail("the encoding's features are not feature_names; they must match.")
    return doc


def task_of(doc: dict) -> str:
    """A model document's task: its ``task``, or (version 1) the one its activation and
    loss imply."""
    if "task" in doc:
        return doc["task"]
    return resolve_task(None, doc["activation"], doc["loss"])


def read_document(path: str | os.PathLike) -> dict:
    """Read and validate a model file; return its content as a dict."""
    doc = read_json(path, what="model file", error=ModelFileError,
                    directory=f"{path} is a directory; pass the model.json inside a run "
                              f"directory.")
    return validate_document(doc, str(path))


def load(path: str | os.PathLike) -> Neuron:
    """Rebuild the neuron saved in the model file at ``path``.

    The feature names are on ``neuron.feature_names`` and the whole file's
    content on ``neuron.metadata``. A saved scaler and label mapping come
    back on ``neuron.scaler`` and ``neuron.classes`` (a regression's target
    scaling on ``neuron.target_scaler``), so ``predict_proba`` and ``predict``
    take the raw features and ``predict`` returns the original labels (or a
    regression's numbers in the target's units).
    """
    doc = read_document(path)
    from ..data.encoding import Encoding
    from ..data.scaling import Scaler

    scaler = target_scaler = encoding = None
    if "encoding" in doc:
        encoding = Encoding.from_dict(doc["encoding"], str(path))
    if "scaler" in doc:
        scaler = Scaler.from_dict(doc["scaler"], len(doc["weights"]), str(path))
    if "target_scaler" in doc:
        target_scaler = Scaler.from_dict(doc["target_scaler"], 1, str(path))
    neuron = Neuron(doc["weights"], doc["bias"], doc["activation"], doc["threshold"],
                    doc["feature_names"], scaler=scaler, classes=doc.get("classes"),
                    task=task_of(doc), target_scaler=target_scaler, encoding=encoding)
    neuron.metadata = doc
    return neuron
