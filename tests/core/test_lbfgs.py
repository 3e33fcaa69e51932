"""L-BFGS on its own (neurona.core.lbfgs): the direction, the line search, the state."""

import json

import numpy as np
import pytest

from neurona.core import lbfgs
from neurona.core.gradient import NonFinite
from neurona.core.optimizers import state_from_json, state_to_json


class Counted:
    """An objective ``(f, grad, info)`` that counts its evaluations (one pass each)."""

    def __init__(self, f, grad):
        self.f, self.grad, self.calls = f, grad, 0

    def __call__(self, x):
        self.calls += 1
        return self.f(x), self.grad(x), {"at": x.copy()}


def quadratic(n=6, seed=0):
    rng = np.random.default_rng(seed)
    Q = rng.normal(size=(n, n))
    A = Q @ Q.T + n * np.eye(n)
    b = rng.normal(size=n)
    return A, b, Counted(lambda x: 0.5 * x @ A @ x - b @ x, lambda x: A @ x - b)


def rosenbrock():
    def f(x):
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    def g(x):
        return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
                         200 * (x[1] - x[0] ** 2)])
    return Counted(f, g)


def run(objective, x0, iterations, tol=0.0, memory=lbfgs.MEMORY):
    method = lbfgs.LBFGS(memory)
    x, state = np.array(x0, dtype=float), method.init(np.asarray(x0, dtype=float))
    steps = []
    for _ in range(iterations):
        it = method.iterate(x, state, objective)
        x, state = it.params, it.state
        steps.append(it)
        if lbfgs.converged(state, tol):
            break
    return x, state, steps


def test_the_two_loop_recursion_is_the_inverse_hessian_on_a_quadratic():
    # With n exact pairs of a quadratic along conjugate directions (its eigenvectors, as
    # exact line searches would give), BFGS's estimate is the inverse Hessian.
    A, _, _ = quadratic(4)
    s = np.linalg.eigh(A)[1].T * np.array([1.0, -2.0, 0.5, 3.0])[:, None]
    y = s @ A
    for g in np.random.default_rng(2).normal(size=(3, 4)):
        H_g = -lbfgs.direction(g, np.vstack([np.zeros((2, 4)), s]), np.vstack([np.zeros((2, 4)), y]))
        np.testing.assert_allclose(H_g, np.linalg.solve(A, g), rtol=1e-9)
    # With no pair it is steepest descent.
    np.testing.assert_array_equal(lbfgs.direction(g, np.zeros((3, 4)), np.zeros((3, 4))), -g)


def test_a_quadratic_is_minimised_in_about_n_iterations_of_one_pass_each():
    A, b, objective = quadratic(6)
    x, state, steps = run(objective, np.zeros(6), 40, tol=1e-10)
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-8)
    # Stopped by the gradient test, or at the rounding floor of the loss just before it.
    assert lbfgs.converged(state, 1e-10) is not None
    assert np.max(np.abs(state[0]["grad"])) <= 1e-9 * state[0]["initial_gradient"]
    assert len(steps) <= 12
    assert objective.calls == sum(it.passes for it in steps)
    assert [it.passes for it in steps[1:]].count(1) >= len(steps) - 3  # the full step, at once


def test_rosenbrock_valley_is_followed_to_its_minimum():
    objective = rosenbrock()
    x, state, steps = run(objective, [-1.2, 1.0], 200, tol=1e-10)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-7)
    assert lbfgs.converged(state, 1e-10) is not None
    assert len(steps) < 60 and objective.calls < 100
    losses = [it.state[0]["loss"] for it in steps]
    assert all(b <= a for a, b in zip(losses, losses[1:]))  # every step lowers the loss


@pytest.mark.parametrize("start, alpha", [(3.0, 1.0), (3.0, 1e-6), (0.01, 1.0)])
def test_the_line_search_meets_the_strong_wolfe_conditions(start, alpha):
    # f = x^4: a unit step overshoots from 3, a tiny one must be lengthened many times.
    objective = Counted(lambda x: float(x[0] ** 4), lambda x: np.array([4 * x[0] ** 3]))
    x = np.array([start])
    f0, g0 = objective.f(x), objective.grad(x)
    d = -g0 / abs(g0)
    point, used = lbfgs.line_search(objective, x, f0, g0, d, alpha)
    assert point is not None and used == objective.calls <= lbfgs.MAX_EVALUATIONS
    assert point.loss <= f0 + lbfgs.C1 * point.alpha * (g0 @ d)
    assert abs(point.slope) <= lbfgs.C2 * abs(g0 @ d)
    np.testing.assert_allclose(point.info["at"], x + point.alpha * d)


def test_a_point_whose_loss_is_not_finite_counts_as_too_far():
    def f(x):
        return np.inf if x[0] > 2.5 else float((x[0] - 2) ** 2)

    objective = Counted(f, lambda x: np.array([np.nan if x[0] > 2.5 else 2 * (x[0] - 2)]))
    x = np.array([0.0])
    point, _ = lbfgs.line_search(objective, x, 4.0, np.array([-4.0]), np.array([1.0]), 100.0)
    assert point is not None and 0 < point.alpha <= 2.5 and np.isfinite(point.loss)
    assert point.loss < 4.0


def test_no_lower_loss_means_no_step_and_convergence():
    # A flat objective with a misleading gradient: nothing along -g is lower.
    objective = Counted(lambda x: 1.0, lambda x: np.array([1.0, -2.0]))
    method = lbfgs.LBFGS()
    x = np.array([0.5, 0.5])
    it = method.iterate(x, method.init(x), objective)
    assert it.step_length == 0.0 and np.array_equal(it.params, x)
    assert it.passes == objective.calls <= 1 + lbfgs.MAX_EVALUATIONS
    assert lbfgs.converged(it.state, 1e-8) == "loss_change"


def test_a_zero_gradient_takes_no_step():
    objective = Counted(lambda x: float(x @ x), lambda x: 2 * x)
    method = lbfgs.LBFGS()
    it = method.iterate(np.zeros(3), method.init(np.zeros(3)), objective)
    assert (it.step_length, it.passes, objective.calls) == (0.0, 1, 1)
    assert lbfgs.converged(it.state, 0.0) == "gradient"


def test_a_start_that_is_not_finite_raises_non_finite():
    objective = Counted(lambda x: np.inf, lambda x: np.full(2, np.nan))
    method = lbfgs.LBFGS()
    state = method.init(np.ones(2))
    with pytest.raises(NonFinite) as info:
        method.iterate(np.ones(2), state, objective)
    assert info.value.opt_state is state and np.array_equal(info.value.params, np.ones(2))


def test_the_state_survives_json_and_the_run_continues_bit_for_bit():
    _, _, objective = quadratic(5, seed=3)
    method = lbfgs.LBFGS(memory=3)
    x, state = np.zeros(5), method.init(np.zeros(5))
    for _ in range(3):
        it = method.iterate(x, state, objective)
        x, state = it.params, it.state
    text = json.dumps(state_to_json(state), allow_nan=False)
    again = state_from_json(json.loads(text))
    assert set(again[0]) == set(method.init(x)[0])
    a, b = (x, state), (x.copy(), again)
    for _ in range(4):
        ia = method.iterate(*a, objective)
        ib = method.iterate(*b, objective)
        a, b = (ia.params, ia.state), (ib.params, ib.state)
        assert np.array_equal(ia.params, ib.params) and ia.passes == ib.passes
    assert a[1][0]["count"] == 7


def test_weights_changed_from_outside_are_evaluated_and_the_pairs_dropped():
    _, _, objective = quadratic(4)
    method = lbfgs.LBFGS()
    x, state = np.zeros(4), method.init(np.zeros(4))
    for _ in range(3):
        it = method.iterate(x, state, objective)
        x, state = it.params, it.state
    s, _ = method.pairs(state)
    assert np.any(s)
    calls = objective.calls
    moved = x + 0.5
    it = method.iterate(moved, state, objective)
    assert objective.calls - calls == it.passes >= 2  # the new start, then the line search
    assert it.state[0]["previous_loss"] == objective.f(moved)
    s, _ = method.pairs(it.state)
    assert np.count_nonzero(s.any(axis=1)) == 1  # only the pair of this iteration


def test_a_stop_between_passes_abandons_the_iteration():
    _, _, objective = quadratic(4)
    method = lbfgs.LBFGS()
    state = method.init(np.zeros(4))
    asked = []

    def should_stop():
        asked.append(objective.calls)
        return objective.calls >= 1

    with pytest.raises(lbfgs.Abandoned):
        method.iterate(np.zeros(4), state, objective, should_stop=should_stop)
    assert asked == [0, 1] and state[0]["count"] == 0


def test_converged_reads_the_state():
    part = {"count": 2, "loss": 5.0, "previous_loss": 6.0, "grad": np.array([0.5, -1e-3]),
            "initial_gradient": 10.0}
    assert lbfgs.converged((part,), 1e-2) is None
    assert lbfgs.converged((part,), 0.06) == "gradient"
    assert lbfgs.converged(({**part, "previous_loss": 5.0 + 4e-4},), 1e-2) == "loss_change"
    assert lbfgs.converged(({**part, "count": 0},), 1.0) is None
