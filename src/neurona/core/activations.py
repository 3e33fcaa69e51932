"""Activation functions ``a = g(z)``, each with its derivative ``da/dz`` beside it.

Every function takes and returns NumPy arrays of the input's floating dtype.
The sigmoid is the post's own ``1 / (1 + exp(-z))`` in NumPy, and never warns:
it is exactly 0 or 1 in the limits, for any finite ``z`` (down to -1e308 and up
to 1e308), where ``exp(-z)`` overflows to infinity (or underflows to 0) on purpose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """An activation: its name, its value ``g(z)`` and its derivative ``g'(z)``."""

    name: str
    value: Callable[[Array], Array]
    derivative: Callable[[Array], Array]
    #: The interval ``[low, high]`` the output lies in (a threshold must lie in it too).
    output_range: tuple[float, float] = (-math.inf, math.inf)

    def __call__(self, z: Array) -> Array:
        return self.value(z)


# Logistic: g(z) = 1 / (1 + exp(-z)); g'(z) = g(z) (1 - g(z)).
# Computed in float64 whatever the input's precision (a float32 z gets the
# float64 result rounded once, so float32 training follows float64 closely);
# NumPy's own, so that SciPy stays out of a run's start-up.
def sigmoid(z: Array) -> Array:
    z = np.asarray(z)
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    with np.errstate(over="ignore", under="ignore"):
        a = 1.0 / (1.0 + np.exp(-z, dtype=np.promote_types(z.dtype, np.float64)))
    return a.astype(z.dtype, copy=False)


def sigmoid_derivative(z: Array) -> Array:
    a = sigmoid(z)
    return a * (1.0 - a)


# Hyperbolic tangent: g'(z) = 1 - g(z)^2.
def tanh(z: Array) -> Array:
    return np.tanh(z)


def tanh_derivative(z: Array) -> Array:
    a = np.tanh(z)
    return 1.0 - a * a


# Identity (a linear unit, Adaline): g'(z) = 1.
def identity(z: Array) -> Array:
    return np.asarray(z)


def identity_derivative(z: Array) -> Array:
    return np.ones_like(z)


# Heaviside step, 1 where z > 0 (so z = 0 gives class 0, as thresholding a
# sigmoid at 0.5 does). Its true derivative is 0 almost everywhere, which
# would never move the weights; the perceptron rule uses 1 instead, so that
# the update is ``w -= eta * (a - y) x``. This is a surrogate, not a gradient.
def step(z: Array) -> Array:
    z = np.asarray(z)
    return (z > 0).astype(z.dtype if z.dtype.kind == "f" else np.float64)


def step_derivative(z: Array) -> Array:
    return np.ones_like(z, dtype=np.result_type(z, np.float64))


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid, sigmoid_derivative, (0.0, 1.0)),
        Activation("tanh", tanh, tanh_derivative, (-1.0, 1.0)),
        Activation("identity", identity, identity_derivative),
        Activation("step", step, step_derivative, (0.0, 1.0)),
    )
}


def get_activation(name: str | Activation) -> Activation:
    """Return the activation called ``name`` (or ``name`` itself if already one)."""
    if isinstance(name, Activation):
        return name
    try:
        return ACTIVATIONS[name]
    except KeyError:
        from ..errors import NeuronaError

        raise NeuronaError(
            f"Unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}."
        ) from None
