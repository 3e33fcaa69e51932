"""Every (activation, loss) gradient against central finite differences."""

import numpy as np
import pytest

from neurona.core.activations import ACTIVATIONS
from neurona.errors import NeuronaError
from neurona.core.losses import LOSSES, check_pair, objective
from neurona.engines.memory import forward_backward

PAIRS = [("sigmoid", "log_loss"), ("sigmoid", "squared_error"),
         ("tanh", "squared_error"), ("identity", "squared_error")]


def _problem(seed=0, n=40, d=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (rng.random(n) < 0.5).astype(float)
    w = rng.normal(scale=0.5, size=d)
    b = 0.3
    sw = rng.uniform(0.2, 2.0, size=n)
    return X, y, w, b, sw


def _numeric_gradient(f, params, h=1e-6):
    grad = np.zeros_like(params)
    for i in range(params.size):
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad


def _rel_err(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-12)


def test_pairs_cover_every_defined_combination():
    defined = set()
    for a in ACTIVATIONS:
        for l in LOSSES:
            try:
                check_pair(a, l)
            except NeuronaError:
                continue
            defined.add((a, l))
    # step is the perceptron rule: its surrogate derivative is not a gradient.
    assert defined - {("step", "squared_error")} == set(PAIRS)


@pytest.mark.parametrize("activation,loss", PAIRS)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_matches_finite_differences(activation, loss, reduction, weighted):
    X, y, w, b, sw = _problem()
    sw = sw if weighted else None
    act, lo = check_pair(activation, loss)

    def f(params):
        z = X @ params[:-1] + params[-1]
        return objective(y, z, act, lo, reduction, sw)

    dw, db, metrics = forward_backward(X, y, w, b, act, lo, reduction, 0.5, sw)
    analytic = np.r_[dw, db]
    numeric = _numeric_gradient(f, np.r_[w, b])
    assert _rel_err(analytic, numeric) < 1e-6
    assert metrics["loss"] == pytest.approx(f(np.r_[w, b]), rel=1e-12)


def test_post_update_rule_is_the_summed_log_loss_gradient():
    X, y, w, b, _ = _problem(1)
    dw, db, _ = forward_backward(X, y, w, b, ACTIVATIONS["sigmoid"], LOSSES["log_loss"])
    Xb = np.c_[X, np.ones(len(X))]
    post = Xb.T @ (1 / (1 + np.exp(-(Xb @ np.r_[w, b]))) - y)
    np.testing.assert_allclose(np.r_[dw, db], post, rtol=1e-12)


def test_squared_error_uses_its_own_gradient_not_the_posts():
    X, y, w, b, _ = _problem(2)
    dw, db, _ = forward_backward(X, y, w, b, ACTIVATIONS["sigmoid"], LOSSES["squared_error"])
    a = 1 / (1 + np.exp(-(X @ w + b)))
    expected = X.T @ (2 * (a - y) * a * (1 - a))
    np.testing.assert_allclose(dw, expected, rtol=1e-12)
    assert not np.allclose(dw, X.T @ (a - y))


def test_step_squared_error_is_the_perceptron_rule():
    X, y, w, b, _ = _problem(3)
    dw, db, _ = forward_backward(X, y, w, b, ACTIVATIONS["step"], LOSSES["squared_error"])
    yhat = (X @ w + b > 0).astype(float)
    np.testing.assert_allclose(dw, 2 * X.T @ (yhat - y))
    assert db == pytest.approx(2 * np.sum(yhat - y))


def test_log_loss_is_finite_at_extreme_logits():
    z = np.array([-1e308, -1e3, 0.0, 1e3, 1e308])
    for y in (np.zeros(5), np.ones(5)):
        # Underflow to an exact 0 is the right answer; overflow or NaN is not.
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            per_sample = LOSSES["log_loss"].pointwise(y, z, ACTIVATIONS["sigmoid"].value(z))
        assert np.all(np.isfinite(per_sample))
    right = LOSSES["log_loss"].pointwise(np.array([1.0, 0.0]), np.array([1e308, -1e308]), None)
    np.testing.assert_array_equal(right, [0.0, 0.0])


def test_log_loss_needs_the_sigmoid():
    with pytest.raises(NeuronaError, match="log_loss.*'sigmoid'.*'tanh'"):
        check_pair("tanh", "log_loss")


def test_mean_reduction_is_sum_over_n():
    X, y, w, b, _ = _problem(4)
    act, lo = check_pair("sigmoid", "log_loss")
    z = X @ w + b
    assert objective(y, z, act, lo, "mean") == pytest.approx(objective(y, z, act, lo, "sum") / len(y))
