"""A model file loaded to answer requests: any file neurona writes, in the model's own terms.

Two kinds of file are served, told apart by their ``format``:

- a model file (``neurona-model``: ``neurona train``'s ``model.json``,
  :func:`neurona.save`), read by :func:`neurona.load` into one
  :class:`~neurona.core.neuron.Neuron` with its scaler, classes, target scaling
  and encoding (text columns and missing values become features as in training);
- an estimator file (``neurona-estimator``, :meth:`NeuronClassifier.save
  <neurona.face.estimators.NeuronClassifier.save>`): one neuron, or for ``k > 2``
  classes one neuron per class (one-vs-rest), each a row of ``coef_``.

:class:`ServedModel` holds either behind one face: the raw columns it reads
(:attr:`ServedModel.encoding`), the features they become (:meth:`features`), and
for a matrix of features its answer (:meth:`answer`: a classifier's
``probability`` and ``label`` or, one-vs-rest, ``probabilities`` and ``label``; a
regression's ``prediction``, in the target's units) and its explanation
(:meth:`explain`). Every number is the model's own: the neuron's and the
estimator's methods compute them, the server only carries them.

A single neuron explains itself exactly: its logit is ``b + sum_i w_i x_i`` over
the features after scaling, so the contributions ``w_i x_i`` and the bias add up
to it, with nothing left over and nothing approximated.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.activations import ACTIVATIONS
from ..data.encoding import Encoding
from ..errors import DataValueError, ModelFileError
from ..files import model as model_file
from ..files.jsonfile import read_json

#: The estimator classes an estimator file may hold.
ESTIMATORS = ("NeuronClassifier", "NeuronRegressor")


def file_signature(path: Path) -> tuple[int, int, int]:
    """What tells a replaced file from the one read: its inode, change time and size."""
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns, st.st_size


@dataclass
class Answer:
    """A model's answer for some rows: each output's values, one per row.

    ``probability`` (n,) or ``probabilities`` (n, k) and ``label`` (a list of the
    original labels) for a classifier; ``prediction`` (n,) for a regression.
    """

    outputs: dict = field(default_factory=dict)

    def __getitem__(self, name):
        return self.outputs[name]


class ServedModel:
    """One model file, loaded and checked, ready to answer.

    Parameters
    ----------
    name : str
        The name requests use (``/v2/models/{name}/infer``).
    path : str or path-like
        A model file or an estimator file; a run directory stands for its ``model.json``.

    Attributes
    ----------
    task : {"classify", "regress"}
    encoding : neurona.data.encoding.Encoding
        The raw columns the model reads (``encoding.names``, each of a kind) and how
        they become its features.
    classes : list or None
        A classifier's labels, in their own types, in the order of its outputs.
    outputs : tuple of str
        The names of the answer's outputs.
    signature : tuple
        The file's :func:`file_signature` when it was read.
    """

    def __init__(self, name: str, path):
        path = Path(path)
        if path.is_dir() and (path / "model.json").is_file():
            path = path / "model.json"
        self.name, self.path = name, path
        try:
            self.signature = file_signature(path)
        except OSError:
            self.signature = None  # read_json names the problem
        doc = read_json(path, what="model file", error=ModelFileError,
                        directory=f"{path} is a directory; pass the model.json inside a run "
                                  f"directory.")
        kind = doc.get("format") if isinstance(doc, dict) else None
        self.neuron = self.estimator = None
        if kind == model_file.FORMAT:
            self._from_neuron(model_file.load(path))
        elif kind == "neurona-estimator":
            self._from_estimator(doc.get("estimator"))
        else:
            raise ModelFileError(f"{path}: not a neurona model file or estimator file (its "
                                 f"format is {kind!r:.40}); serve a model.json written by "
                                 f"neurona train or an estimator's save().")
        if self.task == "classify":
            self.outputs = ("probabilities", "label") if self.n_neurons > 1 else \
                ("probability", "label")
            if self.n_neurons > 1 and self.activation != "sigmoid":
                self.outputs = ("label",)
        else:
            self.outputs = ("prediction",)
        self.file_format = kind

    # -- loading --------------------------------------------------------------

    def _from_neuron(self, neuron) -> None:
        from .inference import model_encoding

        self.neuron = neuron
        self.task = neuron.task
        self.encoding = model_encoding(neuron)
        self.classes = list(neuron.classes) if neuron.classes is not None else (
            [0, 1] if neuron.task == "classify" else None)
        self.feature_names = list(neuron.feature_names or self.encoding.feature_names)
        self.weights = neuron.weights[None, :]
        self.biases = np.array([neuron.bias])
        self.scaler = neuron.scaler
        self.activation = neuron.activation.name
        self.threshold = neuron.threshold
        self.n_neurons = 1

    def _from_estimator(self, which) -> None:
        from . import estimators

        if which not in ESTIMATORS:
            raise ModelFileError(f"{self.path}: an estimator file of an unknown estimator "
                                 f"({which!r:.40}); expected one of {', '.join(ESTIMATORS)}.")
        est = getattr(estimators, which).load(self.path)
        names = getattr(est, "feature_names_in_", None)
        names = [f"x{i}" for i in range(est.n_features_in_)] if names is None else \
            [str(n) for n in names]
        # The columns are matched by name here, so the estimator is handed an array in its
        # own order: without the names it would warn that the array has none.
        est.__dict__.pop("feature_names_in_", None)
        self.estimator = est
        self.task = "classify" if which == "NeuronClassifier" else "regress"
        self.encoding = Encoding.of_numbers(names)
        self.classes = est.classes_.tolist() if self.task == "classify" else None
        self.feature_names = names
        self.weights = np.reshape(est.coef_, (-1, est.n_features_in_))
        self.biases = np.reshape(est.intercept_, -1)
        self.scaler = None
        self.activation = est.activation
        self.threshold = 0.5
        self.n_neurons = self.weights.shape[0]

    # -- answering ------------------------------------------------------------

    @property
    def columns(self) -> list[str]:
        """The raw columns a request must send."""
        return self.encoding.names

    def features(self, columns: dict) -> np.ndarray:
        """The feature matrix of the model's raw columns, through its encoding.

        ``columns`` maps each of :attr:`columns` to its values, typed as its kind (see
        :func:`neurona.face.serving_codec.typed_columns`): float64 arrays (NaN where
        missing) for numbers and booleans, pyarrow text arrays for the others. A bad
        value is a :class:`~neurona.errors.DataError` naming its row and column.
        """
        import pyarrow as pa

        from .serving_codec import RequestPlace

        if self._numbers_only:  # the encoding of finite numbers is the numbers themselves
            X = np.column_stack([columns[name] for name in self.columns])
            if np.isfinite(X).all():
                return X
        table = pa.table({name: columns[name] for name in self.columns})
        X, _ = self.encoding.transform(table, RequestPlace(), np.arange(table.num_rows))
        return X

    @property
    def _numbers_only(self) -> bool:
        return all(c.kind in ("number", "boolean") for c in self.encoding.columns)

    def answer(self, X: np.ndarray) -> Answer:
        """The model's outputs for the feature rows ``X`` (see :attr:`outputs`)."""
        out = {}
        if self.neuron is not None:
            if self.task == "regress":
                out["prediction"] = self.neuron.predict(X)
            else:
                out["probability"] = self.neuron.predict_proba(X)
                out["label"] = self._labels(self.neuron.predict(X))
        elif self.task == "regress":
            out["prediction"] = self.estimator.predict(X)
        else:
            labels = self.estimator.predict(X).tolist()
            if self.n_neurons == 1:
                out["probability"] = self._binary_output(X)
            elif "probabilities" in self.outputs:
                out["probabilities"] = self.estimator.predict_proba(X)
            out["label"] = labels
        for key, value in out.items():
            if key != "label":
                self._check_finite(value)
        return Answer(out)

    def _labels(self, predicted: np.ndarray) -> list:
        """The neuron's predicted labels as the model file holds them (their own types:
        NumPy turns a mix of numbers and text into text)."""
        if self.neuron.classes is None:
            return predicted.tolist()
        own = dict(zip(np.asarray(self.neuron.classes).tolist(), self.neuron.classes))
        return [own[v] for v in predicted.tolist()]

    def _binary_output(self, X) -> np.ndarray:
        if self.activation == "sigmoid":
            return self.estimator.predict_proba(X)[:, 1]
        z = X @ self.weights[0] + self.biases[0]
        return ACTIVATIONS[self.activation].value(z)

    @staticmethod
    def _check_finite(values) -> None:
        values = np.asarray(values)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise DataValueError(f"the request, row {row + 1}: the model's output is not a "
                                 f"finite number (the inputs are too large for it); send "
                                 f"values of the size the model was trained on.")

    def logits(self, X: np.ndarray) -> np.ndarray:
        """The net input ``z`` of every neuron, shape (n, n_neurons): the model's own."""
        if self.neuron is not None:
            return self.neuron.net_input(X)[:, None]
        return self.estimator._net_input(X)

    def scaled(self, X: np.ndarray) -> np.ndarray:
        """The features the weights multiply: ``X`` after the model's scaling."""
        return self.scaler.transform(X) if self.scaler is not None else X

    def explain(self, X: np.ndarray) -> list[dict]:
        """Per row: the logit (a regression's net input), the output, the label, the bias
        and each feature's contribution ``w_i * x_i`` (after scaling), which add up with
        the bias to the logit."""
        answer = self.answer(X)
        z = self.logits(X)
        parts = self.scaled(X)[:, None, :] * self.weights[None, :, :]  # (n, neurons, features)
        names = self.feature_names
        rows = []
        for i in range(X.shape[0]):
            terms = [{"logit" if self.task == "classify" else "net_input": float(z[i, k]),
                      "bias": float(self.biases[k]),
                      "contributions": dict(zip(names, parts[i, k].tolist()))}
                     for k in range(self.n_neurons)]
            if self.task == "regress":
                rows.append({**terms[0], "prediction": float(answer["prediction"][i])})
            elif self.n_neurons == 1:
                rows.append({**terms[0], "probability": float(answer["probability"][i]),
                             "label": answer["label"][i]})
            else:
                for k, term in enumerate(terms):
                    term["class"] = self.classes[k]
                    if "probabilities" in answer.outputs:
                        term["probability"] = float(answer["probabilities"][i, k])
                rows.append({"label": answer["label"][i], "classes": terms})
        return rows

    # -- describing -----------------------------------------------------------

    def describe(self) -> dict:
        """What the model is: its file, task, columns, features and classes (JSON data)."""
        doc = {"name": self.name, "format": self.file_format,
               "task": self.task, "activation": self.activation,
               "columns": [{"name": c.name, "kind": c.kind} for c in self.encoding.columns],
               "features": self.feature_names, "outputs": list(self.outputs)}
        if self.classes is not None:
            doc["classes"] = self.classes
            doc["threshold"] = self.threshold
        if self.n_neurons > 1:
            doc["one_vs_rest"] = True
        return doc
