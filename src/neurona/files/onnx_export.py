"""A trained neuron as an ONNX graph, written whole or not at all.

The graph computes what neurona's own ``predict`` and ``predict_proba``
compute, node by node: the encoding's filled-in missing values and one-hot
categories, the scaler ``(x - center) / scale``, ``MatMul`` and ``Add`` (the
net input of every neuron), the activation, and then

- a neurona model file's classifier: its output (``probability``) and the
  label, the output against the threshold mapped to the original labels;
- a regression: its output mapped back through the target's scaling
  (``prediction``, in the target's units);
- the scikit-learn estimators' classifiers: ``label`` (the net input against
  the activation's value at 0.5, or the largest of the one-vs-rest net inputs)
  and ``probabilities`` (``predict_proba``: ``[1 - p, p]``, or the one-vs-rest
  sigmoids normalised to sum to 1), or ``decision`` without a sigmoid.

The input ``X`` is float32, as most ONNX consumers hand it; inside, the graph
computes in float64 like neurona, so its float32 outputs are neurona's
float64 results rounded once. What a graph cannot express is refused before
anything is written (:func:`check_exportable`): a hashed text column
(BLAKE2b has no ONNX operator). ``onnx`` is imported only when a graph is
built, so neurona imports without it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from ..core.neuron import Neuron
from ..errors import ExportError
from .rundir import atomic_file, check_output_path

#: The ONNX operator set the graphs use (ONNX Runtime runs it from version 1.13 on), the
#: one of its machine-learning domain (the text columns' encoders) and the file's IR version.
OPSET = 17
ML_OPSET = 3
IR_VERSION = 8
#: The numeric input's name.
INPUT = "X"
#: What the graph's outputs are called, by what they hold.
PROBABILITY, PROBABILITIES, LABEL, PREDICTION, DECISION = (
    "probability", "probabilities", "label", "prediction", "decision")


@dataclass
class Predictor:
    """What an exported graph computes: ``k`` neurons over the same features, and how their
    outputs become predictions.

    Parameters
    ----------
    weights : array of shape (k, n_features)
        One row per neuron.
    bias : array of shape (k,)
    activation : str
        The name of the neurons' activation (``neurona.ACTIVATIONS``).
    task : {"classify", "regress"}
    rule : {"threshold", "net_input"}
        How a classifier's class is chosen: ``"threshold"``, a neuron's output
        above ``threshold`` (a :class:`~neurona.Neuron`, one neuron);
        ``"net_input"``, the estimators' rule: the net input above ``offset``
        (one neuron) or the largest net input minus ``offset`` (one-vs-rest).
    threshold : float
    offset : float
        The net input at which the activation equals 0.5 (``"net_input"``).
    classes : sequence or None
        The labels the classes' indices stand for; None: the indices 0 and 1.
    probabilities : bool
        Whether the estimator's classifier has ``predict_proba`` (a sigmoid).
    feature_names : list of str
    scaler, target_scaler : neurona.data.scaling.Scaler or None
    encoding : neurona.data.encoding.Encoding or None
    source : str
        What the model is, for the graph's description (``"neurona model"``,
        ``"NeuronClassifier"``).
    """

    weights: np.ndarray
    bias: np.ndarray
    activation: str
    task: str = "classify"
    rule: str = "threshold"
    threshold: float = 0.5
    offset: float = 0.0
    classes: object = None
    probabilities: bool = False
    feature_names: list = field(default_factory=list)
    scaler: object = None
    target_scaler: object = None
    encoding: object = None
    source: str = "neurona model"

    def __post_init__(self):
        self.weights = np.atleast_2d(np.asarray(self.weights, dtype=np.float64))
        self.bias = np.atleast_1d(np.asarray(self.bias, dtype=np.float64))
        if not self.feature_names:
            self.feature_names = [f"x{i}" for i in range(self.weights.shape[1])]

    @property
    def n_neurons(self) -> int:
        return self.weights.shape[0]

    @property
    def text_columns(self) -> list:
        """The encoding's category columns: each is a string input of its own."""
        if self.encoding is None:
            return []
        return [c for c in self.encoding.columns if c.kind == "category"]

    @property
    def x_columns(self) -> list[str]:
        """The names of ``X``'s columns, in order: the features, or with an encoding its
        number and boolean columns (the category columns come as their own inputs)."""
        if self.encoding is None:
            return list(self.feature_names)
        return [c.name for c in self.encoding.columns if c.kind in ("number", "boolean")]

    @property
    def outputs(self) -> list[str]:
        if self.task == "regress":
            return [PREDICTION]
        if self.rule == "threshold":
            return [PROBABILITY, LABEL]
        return [PROBABILITIES if self.probabilities else DECISION, LABEL]


def neuron_predictor(neuron: Neuron, source: str = "neurona model") -> Predictor:
    """The :class:`Predictor` of a :class:`~neurona.Neuron` (a model file's neuron)."""
    encoding = neuron.encoding if neuron.encoding is not None and not neuron.encoding.plain \
        else None
    names = neuron.feature_names or [f"x{i}" for i in range(neuron.n_features)]
    return Predictor(neuron.weights[None, :], [neuron.bias], neuron.activation.name,
                     task=neuron.task, rule="threshold", threshold=neuron.threshold,
                     classes=neuron.classes, feature_names=list(names), scaler=neuron.scaler,
                     target_scaler=neuron.target_scaler, encoding=encoding, source=source)


# --- what a graph cannot express -------------------------------------------------------

def check_exportable(predictor: Predictor, where: str = "the model") -> None:
    """Raise :class:`~neurona.errors.ExportError` (one line) for what ONNX cannot compute."""
    encoding = predictor.encoding
    if encoding is not None:
        for c in encoding.columns:
            if c.kind == "hash":
                raise ExportError(
                    f"{where}: column {c.name!r} is hashed into {c.n} features (BLAKE2b of its "
                    f"text), which no ONNX operator computes, so the model cannot be exported; "
                    f"train it without --hash {c.name} (one-hot categories) or with the column "
                    f"left out (--features).")
        taken = {INPUT, *predictor.outputs}
        for c in predictor.text_columns:
            if c.name in taken:
                raise ExportError(
                    f"{where}: the text column {c.name!r} would be a graph input of that name, "
                    f"which the graph already uses ({', '.join(sorted(taken))}); rename the "
                    f"column and train again to export.")
    if predictor.classes is not None:
        _label_values(predictor.classes, where)


def _label_values(classes, where: str) -> np.ndarray:
    """The classes as the label tensor's values: int64, float64, bool or strings."""
    values = np.asarray(classes)
    kind = values.dtype.kind
    if kind in "iu":
        return values.astype(np.int64)
    if kind in "fb":
        return values.astype(np.float64 if kind == "f" else np.bool_)
    if kind == "U" or (kind == "O" and all(isinstance(v, str) for v in values)):
        return np.array([str(v) for v in values], dtype=object)
    raise ExportError(f"{where}: class labels of type {values.dtype} cannot be an ONNX tensor; "
                      f"use ints, floats, booleans or strings.")


def require_onnx():
    """The ``onnx`` module, or a one-line error saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise ExportError("writing an ONNX file needs the onnx package: "
                          "pip install 'neurona[onnx]'.") from None
    return onnx


# --- the graph ---------------------------------------------------------------------------

class _Graph:
    """The nodes, constants and inputs of a graph being built, with fresh names."""

    def __init__(self, onnx):
        self.onnx, self.helper = onnx, onnx.helper
        self.nodes, self.initializers, self.inputs = [], [], []
        self._count = 0

    def name(self, stem: str) -> str:
        self._count += 1
        return f"neurona/{stem}_{self._count}"

    def constant(self, stem: str, values) -> str:
        from onnx import numpy_helper

        name = self.name(stem)
        self.initializers.append(numpy_helper.from_array(np.asarray(values), name))
        return name

    def op(self, op_type: str, inputs: list[str], stem: str | None = None, *,
           output: str | None = None, domain: str = "", **attributes) -> str:
        out = output or self.name(stem or op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, inputs, [out], domain=domain,
                                                name=self.name(op_type), **attributes))
        return out


def _features(g: _Graph, p: Predictor) -> str:
    """The float64 feature matrix ``[N, n_features]``: ``X`` with its missing values filled
    in, and the text columns one-hot encoded, in the encoding's order."""
    T = g.onnx.TensorProto
    x_columns = p.x_columns
    x = None
    if x_columns:
        g.inputs.append(g.helper.make_tensor_value_info(
            INPUT, T.FLOAT, ["N", len(x_columns)],
            doc_string=f"the features {', '.join(x_columns)} in this order (float32)"))
        x = g.op("Cast", [INPUT], "x", to=T.DOUBLE)
    if p.encoding is None:
        return x
    numeric = [c for c in p.encoding.columns if c.kind in ("number", "boolean")]
    if any(c.fill is not None for c in numeric):  # a NaN takes its column's training value
        fill = np.array([np.nan if c.fill is None else c.fill for c in numeric])
        x = g.op("Where", [g.op("IsNaN", [x]), g.constant("fill", fill), x], "filled")
    if not p.text_columns:
        return x
    blocks, start, run = [], 0, 0
    for c in p.encoding.columns + [None]:
        if c is not None and c.kind in ("number", "boolean"):
            run += 1
            continue
        if run:  # the X columns since the last text column
            columns = g.constant("columns", np.arange(start, start + run))
            blocks.append(g.op("Gather", [x, columns], "numbers", axis=1))
            start, run = start + run, 0
        if c is not None:
            blocks.append(_one_hot(g, c, p.encoding.unknown))
    return blocks[0] if len(blocks) == 1 else g.op("Concat", blocks, "features", axis=1)


def _one_hot(g: _Graph, c, unknown: str) -> str:
    """A text column's input and its one-hot block ``[N, n_categories]`` (float64)."""
    T = g.onnx.TensorProto
    g.inputs.append(g.helper.make_tensor_value_info(
        c.name, T.STRING, ["N"],
        doc_string=f"the text column {c.name!r}; categories {', '.join(c.categories)}"
                   + ("; an empty string is a missing value" if c.fill is not None else "")))
    text = c.name
    if c.fill is not None and "" not in c.categories:  # a missing value takes the fill
        unseen = "\0unknown"
        while unseen in c.categories:
            unseen += "\0"
        text = g.op("LabelEncoder", [text], "filled", domain="ai.onnx.ml",
                    keys_strings=list(c.categories) + [""],
                    values_strings=list(c.categories) + [str(c.fill)],
                    default_string=unseen)
    block = g.op("OneHotEncoder", [text], "one_hot", domain="ai.onnx.ml",
                 cats_strings=list(c.categories), zeros=1 if unknown == "ignore" else 0)
    return g.op("Cast", [block], "one_hot", to=T.DOUBLE)


def _activation(g: _Graph, name: str, z: str) -> str:
    T = g.onnx.TensorProto
    if name == "sigmoid":
        return g.op("Sigmoid", [z], "output")
    if name == "tanh":
        return g.op("Tanh", [z], "output")
    if name == "step":  # 1 where z > 0
        return g.op("Cast", [g.op("Greater", [z, g.constant("zero", 0.0)])], "output",
                    to=T.DOUBLE)
    if name == "identity":
        return z
    raise ExportError(f"the activation {name!r} has no ONNX form in neurona.")


def _to_float(g: _Graph, value: str, output: str) -> str:
    return g.op("Cast", [value], output=output, to=g.onnx.TensorProto.FLOAT)


def _labels(g: _Graph, p: Predictor, index: str) -> tuple[str, int]:
    """The ``label`` output from the classes' indices (int64), and its element type."""
    T = g.onnx.TensorProto
    if p.classes is None:
        g.op("Identity", [index], output=LABEL)
        return LABEL, T.INT64
    values = _label_values(p.classes, "the model")
    g.op("Gather", [g.constant("classes", values), index], output=LABEL, axis=0)
    types = {"i": T.INT64, "f": T.DOUBLE, "b": T.BOOL, "O": T.STRING}
    return LABEL, types[values.dtype.kind]


def _log_sigmoid(g: _Graph, z: str) -> str:
    """``log(sigmoid(z)) = min(z, 0) - log(1 + exp(-|z|))``, without overflow."""
    negative_size = g.op("Neg", [g.op("Abs", [z])])
    soft = g.op("Log", [g.op("Add", [g.constant("one", 1.0), g.op("Exp", [negative_size])])])
    return g.op("Sub", [g.op("Min", [z, g.constant("zero", 0.0)]), soft], "log_sigmoid")


def _heads(g: _Graph, p: Predictor, z: str) -> list:
    """The output nodes after the net input ``z`` ``[N, k]``; their value infos."""
    helper, T = g.helper, g.onnx.TensorProto
    outputs = []

    def column(value: str, stem: str) -> str:  # [N, 1] -> [N]
        return g.op("Reshape", [value, g.constant("flat", np.array([-1], dtype=np.int64))],
                    stem)

    def out(name, elem, shape, doc):
        outputs.append(helper.make_tensor_value_info(name, elem, shape, doc_string=doc))

    if p.task == "regress":
        a = _activation(g, p.activation, column(z, "z"))
        if p.target_scaler is not None:
            a = g.op("Add", [g.op("Mul", [a, g.constant("target_scale",
                                                         p.target_scaler.scale[0])]),
                             g.constant("target_center", p.target_scaler.center[0])])
        _to_float(g, a, PREDICTION)
        out(PREDICTION, T.FLOAT, ["N"], "the prediction, in the target's units")
        return outputs
    if p.rule == "threshold":
        a = _activation(g, p.activation, column(z, "z"))
        _to_float(g, a, PROBABILITY)
        out(PROBABILITY, T.FLOAT, ["N"], f"the neuron's output ({p.activation}), "
                                         f"P(class 1) for a sigmoid")
        index = g.op("Cast", [g.op("Greater", [a, g.constant("threshold", p.threshold)])],
                     "index", to=T.INT64)
    else:
        d = g.op("Sub", [z, g.constant("offset", p.offset)], "decision")
        if p.n_neurons == 1:
            d = column(d, "decision")
            index = g.op("Cast", [g.op("Greater", [d, g.constant("zero", 0.0)])], "index",
                         to=T.INT64)
        else:
            index = g.op("ArgMax", [d], "index", axis=1, keepdims=0)
        k = len(p.classes)
        if p.probabilities:
            if p.n_neurons == 1:
                proba = g.op("Concat", [g.op("Sigmoid", [g.op("Neg", [z])]),
                                        g.op("Sigmoid", [z])], "proba", axis=1)
            else:
                proba = g.op("Softmax", [_log_sigmoid(g, z)], "proba", axis=1)
            _to_float(g, proba, PROBABILITIES)
            out(PROBABILITIES, T.FLOAT, ["N", k], "the probability of each class, in the "
                                                  "order of the classes")
        else:
            _to_float(g, d, DECISION)
            out(DECISION, T.FLOAT, ["N"] if p.n_neurons == 1 else ["N", k],
                "the decision function: positive for the class, largest for the class")
    label, elem = _labels(g, p, index)
    out(label, elem, ["N"], "the predicted class, in the original labels")
    return outputs


def _metadata(p: Predictor) -> dict:
    from .. import __version__

    meta = {"neurona_version": __version__, "source": p.source, "task": p.task,
            "activation": p.activation, "feature_names": json.dumps(p.feature_names),
            "X_columns": json.dumps(p.x_columns), "opset": str(OPSET),
            "outputs": json.dumps(p.outputs)}
    if p.text_columns:
        meta["text_inputs"] = json.dumps([c.name for c in p.text_columns])
    if p.task == "classify" and p.rule == "threshold":
        meta["threshold"] = repr(float(p.threshold))
    if p.classes is not None:
        meta["classes"] = json.dumps(_label_values(p.classes, "the model").tolist())
    return meta


def _description(p: Predictor) -> str:
    inputs = [f"{INPUT} [N, {len(p.x_columns)}] float32: {', '.join(p.x_columns)}"] \
        if p.x_columns else []
    inputs += [f"{c.name} [N] string (one-hot)" for c in p.text_columns]
    what = (f"{p.source}: {p.n_neurons} neurons, one-vs-rest" if p.n_neurons > 1
            else f"{p.source}: one neuron")
    return (f"{what}, {p.activation}, task {p.task}. Inputs: {'; '.join(inputs)}. "
            f"Outputs: {', '.join(p.outputs)}.")


def onnx_model(predictor: Predictor, where: str = "the model"):
    """The ``onnx.ModelProto`` of ``predictor``, checked by ``onnx.checker``."""
    onnx = require_onnx()
    check_exportable(predictor, where)
    g = _Graph(onnx)
    p = predictor
    x = _features(g, p)
    if p.scaler is not None:
        x = g.op("Div", [g.op("Sub", [x, g.constant("center", p.scaler.center)]),
                         g.constant("scale", p.scaler.scale)], "scaled")
    z = g.op("Add", [g.op("MatMul", [x, g.constant("weights", p.weights.T.copy())]),
                     g.constant("bias", p.bias)], "net_input")
    outputs = _heads(g, p, z)
    graph = g.helper.make_graph(g.nodes, "neurona", g.inputs, outputs, g.initializers,
                                doc_string=_description(p))
    opsets = [g.helper.make_opsetid("", OPSET)]
    if p.text_columns:
        opsets.append(g.helper.make_opsetid("ai.onnx.ml", ML_OPSET))
    from .. import __version__

    model = g.helper.make_model(graph, opset_imports=opsets, ir_version=IR_VERSION,
                                producer_name="neurona", producer_version=__version__,
                                doc_string=_description(p))
    g.helper.set_model_props(model, _metadata(p))
    onnx.checker.check_model(model, full_check=True)
    return model


def check_output(path: str | os.PathLike, force: bool = False) -> None:
    """Before any work: the output file can be written (and is new, unless ``force``), and
    the onnx package is installed."""
    check_output_path(path, force)
    require_onnx()


def export(predictor: Predictor, path: str | os.PathLike | None = None, *,
           force: bool = False, where: str = "the model"):
    """Build ``predictor``'s graph and, with ``path``, write it there atomically.

    An existing file is refused unless ``force``. Returns the ``onnx.ModelProto``.
    """
    if path is not None:
        check_output(path, force)
    model = onnx_model(predictor, where)
    if path is not None:
        data = model.SerializeToString()
        with atomic_file(path, force) as tmp:
            tmp.write_bytes(data)
    return model
