"""One row through the neuron, step by step: its forward pass and its share of the gradient.

A single neuron explains itself exactly. For a row ``x`` with target ``y``:

1. the net input ``z = sum_k w_k x_k + b``, the sum of its terms;
2. the output ``a = g(z)``, and the slope of the activation there, ``g'(z)``;
3. the row's loss ``l(y, z, a)`` and its derivative ``dl/dz``;
4. the row's part of the objective's gradient: ``s * dl/dz * x_k`` for each weight and
   ``s * dl/dz`` for the bias, with ``s`` the reduction's factor (1 for a sum, ``1/n``
   for a mean) - the rows' parts add up to the data part of the gradient;
5. how it pulls: its ``share`` of all the rows' pull, ``|g_row| / sum_k |g_k|`` (the
   shares of all rows sum to 1, whatever the gradient's size), and its ``alignment`` with
   the whole data gradient ``G``, the cosine ``(g_row . G) / (|g_row| |G|)``: near 1 it
   pulls the way the step goes, below 0 against it. (Its projection on ``G`` would also
   sum to 1 over the rows, but near the optimum ``G`` is tiny and each projection huge.)

>>> import numpy as np
>>> from neurona.core.activations import get_activation
>>> from neurona.core.losses import get_loss
>>> e = explain_row(np.array([2.0, -1.0]), 1.0, np.array([0.5, 1.0]), 0.0,
...                 get_activation("sigmoid"), get_loss("log_loss"))
>>> e["terms"], e["z"], round(e["dl_dz"], 4)
([1.0, -1.0], 0.0, -0.5)
"""

from __future__ import annotations

import numpy as np


def gradient_sizes(X, y, w, b, activation, loss, scale: float = 1.0) -> np.ndarray:
    """Every row's ``|g_row|``: the length of its part of the gradient, bias included."""
    X = np.asarray(X, float)
    z = X @ np.asarray(w, float) + b
    dl_dz = loss.dl_dz(np.asarray(y, float), z, activation.value(z), activation)
    return np.abs(scale * dl_dz) * np.sqrt(np.einsum("ij,ij->i", X, X) + 1.0)


def explain_row(x, y, w, b, activation, loss, scale: float = 1.0, gradient=None,
                total: float | None = None) -> dict:
    """The steps of one row's forward and backward pass (see the module's text).

    Parameters
    ----------
    x : array of shape (n_features,)
        The row as the neuron sees it (scaled).
    y : float
        Its target.
    w, b : array, float
        The neuron's weights and bias.
    activation, loss : Activation, Loss
    scale : float
        The reduction's factor of the pass this row belongs to.
    gradient : array of shape (n_features + 1,), optional
        The data part of the objective's gradient over all the rows (weights then
        bias); with it, the row's ``alignment`` with it.
    total : float, optional
        The sum of every row's :func:`gradient_sizes`; with it, the row's ``share``.

    Returns
    -------
    dict
        ``terms`` (``w_k x_k``), ``z``, ``a``, ``slope`` (``g'(z)``), ``loss``, ``dl_dz``,
        ``gradient`` (the row's part, weights then bias), ``share`` (None without
        ``total`` or when it is zero) and ``alignment`` (None without ``gradient`` or when
        either part is zero). Plain floats.
    """
    x = np.asarray(x, float)
    w = np.asarray(w, float)
    terms = w * x
    z = np.array([float(terms.sum() + b)])
    a = activation.value(z)
    yy = np.array([float(y)])
    dl_dz = float(loss.dl_dz(yy, z, a, activation)[0])
    part = np.append(scale * dl_dz * x, scale * dl_dz)
    size = float(np.sqrt(part @ part))
    share = size / total if total else None
    alignment = None
    if gradient is not None:
        whole = np.asarray(gradient, float)
        norms = size * float(np.sqrt(whole @ whole))
        alignment = float(part @ whole) / norms if norms > 0 else None
    return {"terms": [float(t) for t in terms], "z": float(z[0]), "a": float(a[0]),
            "slope": float(activation.derivative(z)[0]),
            "loss": float(loss.pointwise(yy, z, a)[0]), "dl_dz": dl_dz,
            "gradient": [float(g) for g in part], "share": share, "alignment": alignment}


__all__ = ["explain_row", "gradient_sizes"]
