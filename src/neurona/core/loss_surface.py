"""The training objective over a grid of two weights, the others held where they are.

A single neuron's objective is a function of its weights and bias; over two of the
weights (the two features a plane shows) with the bias and the other weights fixed, it
is a surface a learner can look at, with the optimizer's path drawn on it. Each value
is computed exactly on the rows given: the per-row loss of every grid point, reduced as
the run reduces it (sum or mean), plus the penalty. The grid is worked through in
blocks of columns so memory stays bounded by ``rows x block``.

>>> import numpy as np
>>> from neurona.core.activations import get_activation
>>> from neurona.core.losses import get_loss
>>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, 0.0])
>>> s = loss_surface(X, y, np.zeros(3), (0, 1), [0.0], [0.0], get_activation("sigmoid"),
...                  get_loss("log_loss"))
>>> round(float(s[0, 0]), 6)  # two rows at z = 0: 2 log 2
1.386294
"""

from __future__ import annotations

import numpy as np

from .losses import reduction_scale

#: Grid points worked on at once, times the rows: the block's size in floats.
BLOCK = 1 << 20


def loss_surface(X, y, params, pair, w_first, w_second, activation, loss, reduction="sum",
                 l1=0.0, l2=0.0) -> np.ndarray:
    """The objective at every ``(w_first[c], w_second[r])``: an array ``[r, c]``.

    Parameters
    ----------
    X, y : arrays
        The rows (as the neuron sees them: scaled) and their targets.
    params : array
        The weights then the bias; all but the two weights ``pair`` stay fixed.
    pair : (int, int)
        The indices of the two weights that vary.
    w_first, w_second : sequences of float
        Their values along the grid's columns and rows.
    activation, loss : Activation, Loss
    reduction : {"sum", "mean"}
    l1, l2 : float
        The penalty, as :func:`neurona.core.gradient.penalty` computes it.
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    params = np.asarray(params, float)
    w, b = params[:-1], params[-1]
    i, j = pair
    w1, w2 = np.meshgrid(np.asarray(w_first, float), np.asarray(w_second, float))
    w1, w2 = w1.ravel(), w2.ravel()
    held = w.copy()
    held[[i, j]] = 0.0
    base = X @ held + b  # every row's z but for the two varying terms
    out = np.empty(w1.size)
    step = max(1, BLOCK // max(1, len(y)))
    scale = reduction_scale(reduction, len(y))
    for start in range(0, w1.size, step):
        k = slice(start, start + step)
        z = base[:, None] + np.outer(X[:, i], w1[k]) + np.outer(X[:, j], w2[k])
        with np.errstate(over="ignore"):
            values = loss.pointwise(y[:, None], z, activation.value(z))
        out[k] = values.sum(axis=0) * scale
    if l1 or l2:
        rest = np.delete(w, [i, j])
        out += l1 * (np.abs(w1) + np.abs(w2) + np.abs(rest).sum())
        out += 0.5 * l2 * (w1 * w1 + w2 * w2 + rest @ rest)
    return out.reshape(len(w_second), len(w_first))


__all__ = ["loss_surface"]
