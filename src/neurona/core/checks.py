"""Checks of training input at the boundary, and the weights of classes.

:class:`neurona.core.spec.TrainSpec` (the settings of a run) and
:class:`neurona.core.trainer.Trainer` (the data) check their arguments here
once, when a run starts; everything inside the training loop then trusts them. Each check raises a
:class:`~neurona.errors.NeuronaError` that names the argument, the value and
what is allowed.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import NeuronaError, OptionError, SettingError

#: The floating-point types the neuron trains in.
DTYPES = ("float64", "float32")


def check_dtype(dtype) -> np.dtype:
    """``dtype`` as a NumPy dtype, float64 or float32, or an OptionError."""
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError, KeyError):  # what NumPy raises for a non-dtype
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise OptionError(f"Unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}.")
    return dt


def check_targets(y, n_samples: int) -> np.ndarray:
    """``y`` as a float64 vector of ``n_samples`` numbers (a one-column 2-D ``y`` is taken too)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise NeuronaError(f"y must be 1-D (n_samples,), got shape {y.shape}.")
    if y.shape[0] != n_samples:
        raise NeuronaError(
            f"X and y have different numbers of samples: {n_samples} and {y.shape[0]}."
        )
    if y.dtype.kind not in "fiub":
        raise NeuronaError(
            f"y must be numeric (0/1 for classification), got dtype {y.dtype}."
        )
    return y.astype(np.float64)


def check_finite(name: str, a: np.ndarray) -> None:
    """Refuse NaN and infinities in the array called ``name``."""
    if not np.all(np.isfinite(a)):
        what = "NaN" if np.isnan(a).any() else "infinity"
        raise NeuronaError(f"Input {name} contains {what}.")


def is_int(v) -> bool:
    """Whether ``v`` is an integer (Python's or NumPy's), and not a bool."""
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def is_real(v) -> bool:
    """Whether ``v`` is a finite real number (not a bool, nor an integer too large for a float)."""
    if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def check_positive_int(name: str, value, allow_none: bool = False):
    """``value`` as an int >= 1 (or None when allowed)."""
    if value is None and allow_none:
        return None
    if not is_int(value) or value < 1:
        raise SettingError(name, f"must be a positive integer, got {value!r}.")
    return int(value)


def check_real(name: str, value, low: float, high: float = math.inf, *,
                low_open: bool = False, high_open: bool = True, allow_none: bool = False):
    """``value`` as a float in the interval from ``low`` to ``high`` (or None when allowed)."""
    if value is None and allow_none:
        return None
    ok = is_real(value) and (value > low if low_open else value >= low) \
        and (value < high if high_open else value <= high)
    if not ok:
        lo = "(" if low_open else "["
        hi = ")" if high_open or high == math.inf else "]"
        raise SettingError(name, f"must be a number in {lo}{low:g}, {high:g}{hi}, "
                                 f"got {value!r}.")
    return float(value)


def check_sample_weight(sample_weight, y) -> np.ndarray | None:
    """Non-negative, finite float64 weights, one per row of ``y``, or None."""
    if sample_weight is None:
        return None
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    if sample_weight.shape != y.shape:
        raise NeuronaError(
            f"sample_weight has shape {sample_weight.shape}, expected {y.shape}."
        )
    check_finite("sample_weight", sample_weight)
    if (sample_weight < 0).any():
        raise NeuronaError("sample_weight has negative values; weights must be >= 0.")
    return sample_weight


def normalise_class_weight(class_weight):
    """``None``, ``"balanced"`` or a ``{label: weight}`` dict with float labels."""
    if class_weight is None or class_weight == "balanced":
        return class_weight
    wrong = SettingError("class_weight", f"must be 'balanced', a mapping {{label: weight}} or "
                                         f"None, got {class_weight!r}.")
    if isinstance(class_weight, str):
        raise wrong
    try:
        items = dict(class_weight).items()
    except (TypeError, ValueError):
        raise wrong from None
    out = {}
    for label, weight in items:
        try:
            key = float(label)
        except (TypeError, ValueError):
            raise SettingError("class_weight", f"label {label!r} is not a number.") from None
        out[key] = check_real(f"class_weight[{label!r}]", weight, 0.0)
    return out


def class_weights(counts: dict, class_weight) -> dict[float, float]:
    """The weight of each label, from the training rows' label ``counts``.

    ``"balanced"`` is scikit-learn's ``n_samples / (n_classes * count(label))``
    (``compute_class_weight``); a mapping must name labels that occur.
    """
    labels = sorted(float(k) for k in counts)
    if class_weight == "balanced":
        n = sum(int(c) for c in counts.values())
        return {label: n / (len(labels) * int(counts[label])) for label in labels}
    mapping = normalise_class_weight(class_weight)
    unknown = sorted(set(mapping) - set(labels))
    if unknown:
        raise SettingError("class_weight", f"names label(s) {unknown} that are not in y "
                                           f"(its labels: {labels}).")
    return mapping


def row_weights(y: np.ndarray, mapping: dict[float, float]) -> np.ndarray:
    """The weight of each row's label (1 for labels ``mapping`` does not name)."""
    w = np.ones(len(y))
    for label, weight in mapping.items():
        w[y == label] = weight
    return w
