"""The plane of two features a neuron's output is drawn over, the others held fixed.

:func:`boundary_features` picks the two features (by default those of the
largest absolute weights), ``_box`` frames the points, and
:class:`BoundaryField` evaluates the neuron over a grid of the plane, every
other feature held at its mean. A classification shades it and draws its
threshold contour; a regression's :class:`~neurona.show.regression_figures.FitField`
colours it by the prediction.
"""

from __future__ import annotations

import numpy as np

from ..core.neuron import Neuron
from ..errors import NeuronaError
from .style import _cmaps


def boundary_features(neuron: Neuron, features=None) -> tuple[int, int]:
    """The two features a boundary is drawn over: ``features``, or the two largest |w|.

    Returned in increasing column order; raises ``NeuronaError`` for a bad pair.
    """
    d = neuron.n_features
    if features is None:
        if d < 2:
            raise NeuronaError("A decision boundary over two features needs two features.")
        order = np.argsort(-np.abs(neuron.weights), kind="stable")
        return tuple(sorted(int(k) for k in order[:2]))
    pair = tuple(int(k) for k in features)
    if len(pair) != 2 or pair[0] == pair[1] or not all(0 <= k < d for k in pair):
        raise NeuronaError(
            f"features must be two different column indices in 0..{d - 1}, got {features!r}.")
    return pair


def _held_note(t, names, held) -> str:
    if not held:
        return ""
    if len(held) <= 3:
        return t("fig.held_at_mean", names=", ".join(names[k] for k in held))
    return t("fig.others_held_at_mean", n=len(held))


class BoundaryField:
    """The neuron's output over a grid of two features, the others fixed at ``base``."""

    def __init__(self, neuron: Neuron, pair, base, lo, hi, resolution: int = 200):
        self.pair, self.base = pair, np.asarray(base, dtype=np.float64)
        i, j = pair
        self.g0, self.g1 = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                                       np.linspace(lo[1], hi[1], resolution))
        self.grid = np.tile(self.base, (self.g0.size, 1))
        self.grid[:, i] = self.g0.ravel()
        self.grid[:, j] = self.g1.ravel()
        self.bounded = neuron.activation.name in ("sigmoid", "step")

    def values(self, neuron: Neuron) -> np.ndarray:
        return neuron.forward(self.grid).reshape(self.g0.shape)

    def levels(self, field: np.ndarray) -> np.ndarray:
        if self.bounded:
            return np.linspace(0.0, 1.0, 11)
        lo, hi = float(field.min()), float(field.max())
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        return np.linspace(lo, hi, 11)

    def draw(self, ax, neuron: Neuron, alpha: float = 0.5):
        """Shade the field and draw the threshold contour; return the shading."""
        _, cmap = _cmaps()
        field = self.values(neuron)
        shade = ax.contourf(self.g0, self.g1, field, levels=self.levels(field), cmap=cmap,
                            alpha=alpha, extend="both" if not self.bounded else "neither")
        t = neuron.threshold
        if field.min() < t < field.max():
            ax.contour(self.g0, self.g1, field, levels=[t], colors="black", linewidths=1.8)
        return shade


def _box(*arrays, pair):
    X = np.vstack([a[:, list(pair)] for a in arrays if a is not None and len(a)])
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.05 * (hi - lo) + 1e-9
    return lo - pad, hi + pad
