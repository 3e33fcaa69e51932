"""The loss surface over two weights and one row's forward pass, against the core's own passes."""

import numpy as np
import pytest

from neurona.core.activations import get_activation
from neurona.core.explain import explain_row, gradient_sizes
from neurona.core.gradient import evaluate, numpy_pass, penalty
from neurona.core.loss_surface import loss_surface
from neurona.core.losses import get_loss, reduction_scale

PAIRS = [("sigmoid", "log_loss"), ("sigmoid", "squared_error"), ("tanh", "squared_error"),
         ("identity", "squared_error")]


def _rows(seed=0, n=60, d=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, (X[:, 0] - X[:, 2] + 0.3 * rng.normal(size=n) > 0).astype(float)


@pytest.mark.parametrize("activation, loss", PAIRS)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_each_surface_value_is_the_objective_at_those_weights(activation, loss, reduction):
    X, y = _rows()
    act, lo = get_activation(activation), get_loss(loss)
    params = np.array([0.4, -0.2, 0.7, 0.1])
    w1, w2 = np.linspace(-2, 2, 5), np.linspace(3, -1, 4)
    values = loss_surface(X, y, params, (0, 2), w1, w2, act, lo, reduction, l1=0.05, l2=0.3)
    assert values.shape == (4, 5)
    for r, b in enumerate(w2):
        for c, a in enumerate(w1):
            w = params[:-1].copy()
            w[[0, 2]] = a, b
            expected = evaluate(X, y, w, params[-1], act, lo, reduction)["loss"] + \
                penalty(w, 0.05, 0.3)
            assert values[r, c] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_a_large_surface_is_worked_through_in_blocks_with_the_same_values(monkeypatch):
    from neurona.core import loss_surface as module

    X, y = _rows(n=300)
    args = (X, y, np.array([0.1, 0.2, 0.3, 0.0]), (1, 0), np.linspace(-1, 1, 9),
            np.linspace(-1, 1, 7), get_activation("sigmoid"), get_loss("log_loss"))
    whole = loss_surface(*args)
    monkeypatch.setattr(module, "BLOCK", 600)  # two grid points a block
    np.testing.assert_allclose(loss_surface(*args), whole, rtol=1e-14)  # sums in other order


@pytest.mark.parametrize("activation, loss", PAIRS)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_the_rows_parts_add_up_to_the_gradient_and_their_shares_to_one(activation, loss,
                                                                        reduction):
    """Shares are of the rows' summed pull; alignment is the cosine with the whole."""
    X, y = _rows(seed=1)
    act, lo = get_activation(activation), get_loss(loss)
    w, b = np.array([0.5, -1.0, 0.25]), -0.2
    dw, db, metrics = numpy_pass(X, y, w, b, act, lo, reduction)
    whole = np.append(dw, db)
    scale = reduction_scale(reduction, len(y))
    sizes = gradient_sizes(X, y, w, b, act, lo, scale)
    rows = [explain_row(X[k], y[k], w, b, act, lo, scale, whole, float(sizes.sum()))
            for k in range(len(y))]
    parts = np.array([r["gradient"] for r in rows])
    np.testing.assert_allclose(parts.sum(axis=0), whole, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sizes, np.linalg.norm(parts, axis=1), rtol=1e-12)
    assert sum(r["share"] for r in rows) == pytest.approx(1.0, abs=1e-10)
    assert all(0 <= r["share"] <= 1 for r in rows)
    cosines = parts @ whole / (np.linalg.norm(parts, axis=1) * np.linalg.norm(whole))
    np.testing.assert_allclose([r["alignment"] for r in rows], cosines, rtol=1e-10)
    assert sum(r["loss"] for r in rows) * scale == pytest.approx(metrics["loss"], rel=1e-12)
    r = rows[7]
    assert r["z"] == pytest.approx(float(X[7] @ w + b), abs=1e-12)
    assert r["terms"] == pytest.approx(list(X[7] * w))
    assert r["a"] == pytest.approx(float(act.value(np.array([r["z"]]))[0]))
    assert r["slope"] == pytest.approx(float(act.derivative(np.array([r["z"]]))[0]))


def test_the_post_rows_step_is_a_minus_y_times_x():
    act, lo = get_activation("sigmoid"), get_loss("log_loss")
    r = explain_row(np.array([1.0, 2.0]), 0.0, np.array([0.0, 0.0]), 0.0, act, lo)
    assert r["a"] == 0.5 and r["dl_dz"] == 0.5 and r["gradient"] == [0.5, 1.0, 0.5]
    assert r["share"] is None and r["alignment"] is None  # no totals given
    zero = explain_row(np.array([1.0]), 0.5, np.array([0.0]), 0.0, act, lo, 1.0, np.zeros(2),
                       0.0)
    assert zero["share"] is None and zero["alignment"] is None  # nothing pulls: no share
