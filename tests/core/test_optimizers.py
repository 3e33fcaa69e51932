"""Optimizers and schedules: one table, every entry on the same problems."""

import json
import math

import numpy as np
import pytest

from neurona import NeuronaError
from neurona.core import optimizers as optim

# A convex quadratic f(p) = 1/2 (p - p*)^T A (p - p*) with a known minimiser p*.
A = np.array([[3.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.5]])
P_STAR = np.array([1.0, -2.0, 0.5])


def quadratic_grad(p):
    return A @ (p - P_STAR)


# name -> (optimizer, steps). RMSProp with a constant rate circles the optimum at a
# distance of about the rate, so it gets a decaying schedule, as it needs in practice.
OPTIMIZER_TABLE = {
    "gd": (optim.gd(0.5), 300),
    "momentum": (optim.momentum(0.1, momentum=0.9), 500),
    "nesterov": (optim.nesterov(0.1, momentum=0.9), 300),
    "adagrad": (optim.adagrad(1.0), 2000),
    "rmsprop": (optim.rmsprop(optim.cosine_schedule(0.05, 3000)), 3000),
    "adam": (optim.adam(0.1), 1000),
    "adamw": (optim.adamw(0.1, weight_decay=0.0), 1000),
    "nesterov_restart": (optim.nesterov_restart(0.1, momentum=0.9), 300),
}


def test_the_table_covers_every_named_optimizer():
    assert set(OPTIMIZER_TABLE) == set(optim.OPTIMIZERS)


@pytest.mark.parametrize("name", sorted(OPTIMIZER_TABLE))
def test_every_optimizer_reaches_the_minimiser_of_a_quadratic(name):
    opt, steps = OPTIMIZER_TABLE[name]
    p = np.zeros(3)
    state = opt.init(p)
    for _ in range(steps):
        step, state = opt.update(quadratic_grad(p), state, p)
        p = optim.apply_updates(p, step)
    np.testing.assert_allclose(p, P_STAR, atol=1e-6)


def test_restart_drops_the_momentum_that_opposes_the_gradient():
    opt = optim.nesterov_restart(0.1, momentum=0.5)
    p = np.zeros(2)
    _, state = opt.update(np.array([1.0, 0.0]), opt.init(p), p)
    step, state = opt.update(np.array([1.0, 1.0]), state, p)  # agrees: momentum kept
    np.testing.assert_allclose(state[0]["trace"], [1.5, 1.0])
    step, state = opt.update(np.array([-1.0, 0.0]), state, p)  # opposes: from rest
    np.testing.assert_allclose(state[0]["trace"], [-1.0, 0.0])
    np.testing.assert_allclose(step, -0.1 * np.array([-1.5, 0.0]))


def test_restart_removes_the_ripple_of_momentum_on_an_ill_conditioned_quadratic():
    a = np.diag([1.0, 0.01])  # f(p) = 1/2 p^T A p, from p = (1, 1), steps of 1/L

    def losses(opt):
        p, state, out = np.ones(2), opt.init(np.ones(2)), []
        for _ in range(300):
            out.append(0.5 * p @ a @ p)
            step, state = opt.update(a @ p, state, p)
            p = p + step
        return np.array(out)

    plain, restarted = losses(optim.nesterov(1.0)), losses(optim.nesterov_restart(1.0))
    rises = lambda f: int(np.sum(np.diff(f) > 0))  # noqa: E731
    assert rises(plain) > 50 and rises(restarted) == 0
    # still accelerated: far ahead of plain gradient descent with the same step
    assert restarted[100] < 1e-6 * losses(optim.gd(1.0))[100]


SCHEDULE_TABLE = {
    "constant": {},
    "step": dict(decay_rate=0.5, decay_steps=100),
    "exponential": dict(decay_rate=0.5, decay_steps=100),
    "invscaling": dict(power_t=0.25),
    "cosine": dict(decay_steps=300),
}


def test_the_schedule_table_covers_every_schedule():
    assert set(SCHEDULE_TABLE) == set(optim.SCHEDULES)


@pytest.mark.parametrize("name", sorted(SCHEDULE_TABLE))
def test_gradient_descent_reaches_the_minimiser_with_every_schedule(name):
    opt = optim.gd(optim.make_schedule(name, 0.5, **SCHEDULE_TABLE[name]))
    p = np.zeros(3)
    state = opt.init(p)
    for _ in range(300):
        step, state = opt.update(quadratic_grad(p), state, p)
        p = p + step
    np.testing.assert_allclose(p, P_STAR, atol=1e-6)


@pytest.mark.parametrize("name,params,expected", [
    ("constant", {}, [0.1, 0.1, 0.1, 0.1]),
    ("step", dict(decay_rate=0.5, decay_steps=2), [0.1, 0.1, 0.05, 0.05]),
    ("exponential", dict(decay_rate=0.25, decay_steps=2), [0.1, 0.05, 0.025, 0.0125]),
    ("invscaling", dict(power_t=1.0), [0.1, 0.05, 0.1 / 3, 0.025]),
    ("cosine", dict(decay_steps=2, end_learning_rate=0.02), [0.1, 0.06, 0.02, 0.02]),
])
def test_schedules_are_functions_of_the_step(name, params, expected):
    s = optim.make_schedule(name, 0.1, **params)
    np.testing.assert_allclose([s(t) for t in range(4)], expected, rtol=1e-12)


def test_schedule_needs_its_parameters_and_known_names():
    with pytest.raises(NeuronaError, match="schedule='cosine' needs decay_steps"):
        optim.make_schedule("cosine", 0.1)
    with pytest.raises(NeuronaError, match="Unknown schedule 'linear'"):
        optim.make_schedule("linear", 0.1)


def test_gd_is_the_posts_update_exactly():
    p = np.array([0.3, -0.7, 0.1])
    g = np.array([12.5, -3.25, 0.001])
    opt = optim.gd(0.01)
    step, state = opt.update(g, opt.init(p), p)
    np.testing.assert_array_equal(p + step, p - 0.01 * g)
    assert state == ({"count": 1},)


def test_momentum_and_nesterov_by_hand():
    g1, g2 = np.array([1.0]), np.array([2.0])
    p = np.zeros(1)
    opt = optim.momentum(0.1, momentum=0.5)
    s = opt.init(p)
    u1, s = opt.update(g1, s, p)
    u2, s = opt.update(g2, s, p)
    np.testing.assert_allclose([u1[0], u2[0]], [-0.1, -0.1 * (0.5 * 1 + 2)])
    opt = optim.nesterov(0.1, momentum=0.5)
    s = opt.init(p)
    u1, s = opt.update(g1, s, p)
    u2, s = opt.update(g2, s, p)
    np.testing.assert_allclose([u1[0], u2[0]], [-0.1 * 1.5, -0.1 * (2 + 0.5 * 2.5)])


def test_adam_first_step_is_the_learning_rate_times_the_sign():
    opt = optim.adam(0.01)
    p = np.zeros(3)
    step, _ = opt.update(np.array([3.0, -0.5, 0.0]), opt.init(p), p)
    np.testing.assert_allclose(step, [-0.01, 0.01, 0.0], atol=1e-9)


def test_adamw_decays_the_masked_weights_only_and_outside_the_moments():
    mask = np.array([True, True, False])
    opt = optim.adamw(0.1, weight_decay=0.5, decay_mask=mask)
    p = np.array([2.0, -4.0, 3.0])
    step, state = opt.update(np.zeros(3), opt.init(p), p)
    # zero gradient: Adam's direction is 0, only the decay -lr * wd * p remains
    np.testing.assert_allclose(step, [-0.1, 0.2, 0.0])
    np.testing.assert_array_equal(state[0]["mu"], 0.0)


def test_named_optimizers_are_compositions_of_transformations():
    for name in optim.OPTIMIZERS:
        opt = optim.get_optimizer(name, 0.1)
        state = opt.init(np.zeros(2))
        assert isinstance(state, tuple) and all(isinstance(s, dict) for s in state)
        assert state[-1] == {"count": 0}  # every chain ends in scale_by_learning_rate


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
def test_state_round_trips_through_json_bit_for_bit(name):
    opt = optim.get_optimizer(name, 0.05)
    rng = np.random.default_rng(0)
    p = rng.normal(size=4)
    state = opt.init(p)
    for _ in range(3):
        step, state = opt.update(rng.normal(size=4), state, p)
        p = p + step
    text = json.dumps(optim.state_to_json(state), allow_nan=False)
    back = optim.state_from_json(json.loads(text))
    g = rng.normal(size=4)
    a, sa = opt.update(g, state, p)
    b, sb = opt.update(g, back, p)
    np.testing.assert_array_equal(a, b)
    assert optim.state_to_json(sa) == optim.state_to_json(sb)


def test_get_optimizer_ignores_hyperparameters_it_does_not_take():
    opt = optim.get_optimizer("gd", 0.1, momentum=0.5, beta_1=0.3, decay_mask=None)
    assert opt.name == "gd"
    with pytest.raises(NeuronaError, match="Unknown optimizer 'sgdx'"):
        optim.get_optimizer("sgdx")


def _rmsprop_momentum(learning_rate, rho=0.9, epsilon=1e-8, momentum=0.9):
    """A new optimizer, added the way the module docstring says."""
    return optim.chain(
        optim.scale_by_rms(rho, epsilon), optim.trace(momentum),
        optim.scale_by_learning_rate(learning_rate), name="rmsprop_momentum",
        spec=optim.make_spec("rmsprop_momentum", learning_rate, rho=rho, epsilon=epsilon,
                             momentum=momentum))


def test_an_optimizer_added_as_documented_is_found_by_name_and_resumes(monkeypatch):
    from neurona import Neuron
    from neurona.face.api import Trainer

    monkeypatch.setitem(optim.OPTIMIZERS, "rmsprop_momentum", _rmsprop_momentum)
    assert optim.optimizer_parameters("rmsprop_momentum") == ("rho", "epsilon", "momentum")
    opt = optim.get_optimizer("rmsprop_momentum", 0.05, momentum=0.5, rho=0.8, beta_1=0.3)
    assert opt.name == opt.spec["name"] == "rmsprop_momentum"
    assert (opt.spec["rho"], opt.spec["momentum"], opt.spec["schedule"](3)) == (0.8, 0.5, 0.05)
    p = np.array([1.0, 2.0])
    g1, g2 = np.array([0.5, -1.0]), np.array([0.25, 0.5])
    step1, state = opt.update(g1, opt.init(p), p)
    step2, state = opt.update(g2, state, p)
    nu1 = (1.0 - 0.8) * g1 * g1
    nu2 = 0.8 * nu1 + (1.0 - 0.8) * (g2 * g2)
    v1 = g1 / (np.sqrt(nu1) + 1e-8)
    v2 = 0.5 * v1 + g2 / (np.sqrt(nu2) + 1e-8)
    np.testing.assert_allclose(step1, -0.05 * v1, rtol=1e-15)
    np.testing.assert_allclose(step2, -0.05 * v2, rtol=1e-15)
    # Trained by name, checkpointed and resumed by name: the same as one run.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    y = (X @ [1.0, -1.0] > 0).astype(int)

    def trainer(epochs, resume=None):
        return Trainer(Neuron([0.3, -0.1], 0.2), X, y, epochs=epochs, learning_rate=0.05,
                       optimizer="rmsprop_momentum", batch_size=6, momentum=0.5,
                       random_state=1, resume=resume)

    once = trainer(6)
    once.run()
    first = trainer(3)
    first.run()
    rest = trainer(6, resume=json.loads(json.dumps(first.checkpoint(), allow_nan=False)))
    rest.run()
    np.testing.assert_array_equal(rest.params, once.params)
    assert optim.state_to_json(rest.opt_state) == optim.state_to_json(once.opt_state)
    assert once.history["loss"][-1] < once.history["loss"][0]


def test_bad_state_is_refused():
    with pytest.raises(NeuronaError):
        optim.state_from_json({"count": 1})
    with pytest.raises(NeuronaError):
        optim.state_from_json([{"count": "one"}])


def test_invscaling_matches_scikit_learn_formula():
    # scikit-learn: eta = eta0 / pow(t, power_t), t counted from 1
    s = optim.invscaling_schedule(0.3, 0.25)
    assert s(9) == pytest.approx(0.3 / math.pow(10, 0.25), rel=1e-15)


def test_docstring_examples_run():
    import doctest

    import neurona.face.api

    for module in (optim, neurona.face.api):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0
