"""The model: one neuron, ``a = g(X w + b)``.

Weights and bias are stored apart (no hidden column of ones), and every
method takes the raw feature matrix of shape (n_samples, n_features).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import NeuronaError, SettingError
from .activations import Activation, get_activation
from .checks import is_real


def check_features(X, n_features: int, owner: str = "Neuron") -> np.ndarray:
    """Return ``X`` as a 2-D float array with ``n_features`` columns, or raise."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise NeuronaError(
            f"Expected a 2-D array of shape (n_samples, n_features), got an array of "
            f"shape {X.shape}; reshape a single sample with X.reshape(1, -1)."
        )
    if X.shape[1] != n_features:
        raise NeuronaError(
            f"X has {X.shape[1]} features, but {owner} is expecting {n_features} "
            f"features as input."
        )
    if X.dtype.kind not in "fiub":
        raise NeuronaError(f"X must be numeric, got dtype {X.dtype}.")
    return X if X.dtype.kind == "f" else X.astype(np.float64)


def check_threshold(threshold, activation: Activation) -> float:
    """``threshold`` as a float inside the activation's output range (a probability for a sigmoid)."""
    low, high = activation.output_range
    if not (is_real(threshold) and low <= threshold <= high):
        where = (f"[{low:g}, {high:g}], the range of the {activation.name}'s output"
                 if math.isfinite(low) else "a finite number")
        raise SettingError("threshold", f"must be {'in ' if math.isfinite(low) else ''}"
                                        f"{where}, got {threshold!r}.")
    return float(threshold)


class Neuron:
    """A single artificial neuron.

    Parameters
    ----------
    weights : array-like of shape (n_features,)
        One weight per input feature.
    bias : float, default=0.0
        The bias (intercept), kept apart from the weights.
    activation : {"sigmoid", "tanh", "identity", "step"}, default="sigmoid"
        The activation ``g`` applied to the net input ``z = X w + b``.
    threshold : float, default=0.5
        ``predict`` returns 1 where the activation is above it.
    feature_names : list of str, default=None
        The names of the input features, kept for reports and model files.
    scaler : neurona.scaling.Scaler, default=None
        Applied to ``X`` before the weights, so that a neuron trained on
        scaled features predicts from raw ones. The training functions take
        features as given: train on ``scaler.transform(X)``, then attach it.
    classes : sequence of two labels, default=None
        The original labels of classes 0 and 1; ``predict`` returns them.
    task : {"classify", "regress"}, default="classify"
        What ``predict`` returns: a class (the output against the threshold) or
        a number (the output itself, in the target's units).
    target_scaler : neurona.data.scaling.Scaler, default=None
        A regression trained on scaled targets ``(y - center) / scale``: its
        output is mapped back, ``predict`` answering in the target's units.
    encoding : neurona.data.encoding.Encoding, default=None
        How raw columns become the features (one-hot categories, filled-in
        missing values): with it, every method also takes raw rows (a pandas
        DataFrame, a pyarrow Table, a dict of columns or a list of records),
        encoded first; an array is taken as features already.

    Examples
    --------
    >>> import numpy as np
    >>> n = Neuron([2.0, -1.0], bias=0.5)
    >>> n.predict(np.array([[1.0, 1.0], [-1.0, 1.0]]))
    array([1, 0])
    """

    def __init__(self, weights, bias: float = 0.0, activation: str | Activation = "sigmoid",
                 threshold: float = 0.5, feature_names=None, *, scaler=None, classes=None,
                 task: str = "classify", target_scaler=None, encoding=None):
        w = np.array(weights, dtype=np.float64)
        if w.ndim != 1 or w.size == 0:
            raise NeuronaError(
                f"weights must be a non-empty 1-D array, got shape {w.shape}."
            )
        self.weights = w
        self.bias = float(bias)
        self.activation = get_activation(activation)
        self.threshold = check_threshold(threshold, self.activation)
        self.feature_names = None if feature_names is None else list(feature_names)
        self.scaler = scaler
        self.classes = classes
        if task not in ("classify", "regress"):
            raise NeuronaError(f"task must be 'classify' or 'regress', got {task!r}.")
        if task == "classify" and target_scaler is not None:
            raise NeuronaError("a target scaler maps a regression's output; a classifier "
                               "has none.")
        self.task = task
        self.target_scaler = target_scaler
        if encoding is not None and encoding.n_features != self.n_features:
            raise NeuronaError(f"The encoding gives {encoding.n_features} features, but the "
                               f"neuron has {self.n_features}.")
        self.encoding = encoding
        self.metadata: dict = {}

    @property
    def scaler(self):
        return self._scaler

    @scaler.setter
    def scaler(self, scaler) -> None:
        if scaler is not None and scaler.n_features != self.n_features:
            raise NeuronaError(f"The scaler has {scaler.n_features} features, but the neuron "
                               f"has {self.n_features}.")
        self._scaler = scaler

    @property
    def classes(self) -> list | None:
        return self._classes

    @classes.setter
    def classes(self, classes) -> None:
        if classes is not None:
            classes = list(classes)
            if len(classes) != 2 or classes[0] == classes[1]:
                raise NeuronaError(f"classes must be two distinct labels (for 0 and 1), "
                                   f"got {classes!r}.")
        self._classes = classes

    @classmethod
    def random(cls, n_features: int, rng: np.random.Generator | int | None = None,
               **kwargs) -> "Neuron":
        """A neuron whose weights and bias are drawn from a standard normal.

        The draw is ``rng.standard_normal(n_features + 1)``: the weights, then
        the bias, in the order of the tutorial's weight column ``[w1, ..., b]``.
        """
        rng = np.random.default_rng(rng)
        wb = rng.standard_normal(n_features + 1)
        return cls(wb[:-1], wb[-1], **kwargs)

    @property
    def n_features(self) -> int:
        return self.weights.shape[0]

    def net_input(self, X) -> np.ndarray:
        """The net input ``z = X w + b``, one value per sample (``X`` encoded and scaled
        first, if the neuron has an encoding and a scaler)."""
        if self.encoding is not None:
            X = self.encoding.features_of(X)
        X = check_features(X, self.n_features)
        if self.scaler is not None:
            X = self.scaler.transform(X)
        return X @ self.weights.astype(X.dtype, copy=False) + X.dtype.type(self.bias)

    def forward(self, X) -> np.ndarray:
        """The activation ``a = g(z)``, one value per sample."""
        return self.activation.value(self.net_input(X))

    def predict_proba(self, X) -> np.ndarray:
        """The probability of class 1 for each sample (the sigmoid's output)."""
        if self.task == "regress":
            raise NeuronaError("predict_proba is a classifier's; this neuron is a regression: "
                               "predict gives its numbers.")
        return self.forward(X)

    def predict(self, X, threshold: float | None = None) -> np.ndarray:
        """Class labels: 1 where the activation is above ``threshold``, else 0.

        With ``classes`` set, the original labels of 0 and 1 instead. A
        regression (``task="regress"``) returns its output, in the target's
        units when it has a ``target_scaler``.
        """
        if self.task == "regress":
            if threshold is not None:
                raise NeuronaError("a threshold turns an output into a class; this neuron "
                                   "is a regression.")
            a = self.forward(X)
            if self.target_scaler is None:
                return a
            return a * self.target_scaler.scale[0] + self.target_scaler.center[0]
        t = self.threshold if threshold is None else check_threshold(threshold, self.activation)
        index = (self.forward(X) > t).astype(np.int64)
        return index if self.classes is None else np.asarray(self.classes)[index]

    def copy(self) -> "Neuron":
        return Neuron(self.weights.copy(), self.bias, self.activation, self.threshold,
                      self.feature_names, scaler=self.scaler, classes=self.classes,
                      task=self.task, target_scaler=self.target_scaler,
                      encoding=self.encoding)

    def __repr__(self) -> str:
        w = np.array2string(self.weights, precision=6, separator=", ")
        return (f"Neuron(weights={w}, bias={self.bias:.6g}, "
                f"activation={self.activation.name!r}, threshold={self.threshold:g})")
