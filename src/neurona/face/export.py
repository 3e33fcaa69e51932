"""Export a trained model to another format: ``neurona export`` and :func:`export_onnx`.

A model is a :class:`~neurona.Neuron`, a fitted estimator, or a model file:
neurona's (``neurona train``'s ``model.json``, :func:`neurona.save`'s, or the
run directory holding one) or an estimator's (``NeuronClassifier.save``). The
graph itself is built by :mod:`neurona.files.onnx_export`.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.neuron import Neuron
from ..errors import ModelFileError, OptionError
from ..files import model as model_file, onnx_export
from ..files.jsonfile import read_json

#: The formats ``neurona export`` writes, with their files' suffix.
FORMATS = {"onnx": ".onnx"}


def model_path(path: str | os.PathLike) -> Path:
    """A model file, or the ``model.json`` inside a run directory."""
    path = Path(path)
    if path.is_dir() and (path / "model.json").is_file():
        return path / "model.json"
    return path


def output_path(model: str | os.PathLike, out=None, fmt: str = "onnx") -> Path:
    """Where the export goes: ``out``, or the model file with the format's suffix."""
    if out is not None:
        return Path(out)
    return model_path(model).with_suffix(FORMATS[fmt])


def load_model(path: str | os.PathLike):
    """The model in a file: a :class:`~neurona.Neuron` (neurona's model file) or a fitted
    ``NeuronClassifier`` or ``NeuronRegressor`` (an estimator's)."""
    path = model_path(path)
    doc = read_json(path, what="model file", error=ModelFileError,
                    directory=f"{path} is a directory; pass the model.json inside a run "
                              f"directory.")
    from .estimators import FORMAT, NeuronClassifier, NeuronRegressor

    if isinstance(doc, dict) and doc.get("format") == FORMAT:
        kinds = {"NeuronClassifier": NeuronClassifier, "NeuronRegressor": NeuronRegressor}
        kind = kinds.get(doc.get("estimator"))
        if kind is None:
            raise ModelFileError(f"{path}: an estimator file of an unknown estimator "
                                 f"{doc.get('estimator')!r:.60}; expected one of "
                                 f"{', '.join(kinds)}.")
        return kind.load(path)
    return model_file.load(path)


def predictor_of(model) -> onnx_export.Predictor:
    """What the graph of ``model`` (a Neuron or a fitted estimator) computes."""
    if isinstance(model, Neuron):
        return onnx_export.neuron_predictor(model)
    if hasattr(model, "_onnx_predictor"):
        return model._onnx_predictor()
    raise OptionError(f"export_onnx takes a neurona.Neuron, a fitted NeuronClassifier or "
                      f"NeuronRegressor, or the path of a model file; got "
                      f"{type(model).__name__}.")


def export_onnx(model, path=None, *, force: bool = False):
    """Write ``model`` as an ONNX graph; return the ``onnx.ModelProto``.

    Parameters
    ----------
    model : Neuron, NeuronClassifier, NeuronRegressor, str or PathLike
        The model, or the path of its model file (or of a run directory).
    path : str or PathLike, default=None
        The ONNX file to write; for a model file, default: beside it, with the
        suffix ``.onnx``. An object with no ``path`` is only converted.
    force : bool, default=False
        Replace ``path`` if it exists (otherwise an existing file is refused).

    Raises
    ------
    neurona.errors.ExportError
        A part of the model ONNX cannot express (a hashed column), or onnx is
        not installed; checked, with the output path, before anything is read.
    """
    source = None
    if isinstance(model, (str, os.PathLike)):
        source, path = model, output_path(model, path)
    if path is not None:
        onnx_export.check_output(path, force)
    else:
        onnx_export.require_onnx()
    if source is not None:
        model = load_model(source)
    where = str(model_path(source)) if source is not None else type(model).__name__
    return onnx_export.export(predictor_of(model), path, force=force, where=where)
