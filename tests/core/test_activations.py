import warnings

import numpy as np
import pytest

from neurona.core.activations import ACTIVATIONS, get_activation, sigmoid, step
from neurona.errors import NeuronaError

SMOOTH = ["sigmoid", "tanh", "identity"]


def test_sigmoid_is_exact_in_the_limits_without_warnings():
    z = np.array([-1e308, -1e4, -800.0, 0.0, 800.0, 1e4, 1e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            a = sigmoid(z)
    assert a[0] == 0.0 and a[-1] == 1.0
    assert a[3] == 0.5
    assert np.all((a >= 0) & (a <= 1))
    assert np.all(np.diff(a) >= 0)


def test_sigmoid_keeps_float32():
    assert sigmoid(np.array([-1e30, 0, 1e30], dtype=np.float32)).dtype == np.float32


def test_a_float32_sigmoid_is_the_float64_one_rounded_once():
    z = np.random.default_rng(0).normal(scale=8.0, size=100_000).astype(np.float32)
    exact = (1.0 / (1.0 + np.exp(-z.astype(np.float64)))).astype(np.float32)
    np.testing.assert_array_equal(sigmoid(z), exact)


@pytest.mark.parametrize("z", [True, 3, np.array([0, 1], dtype=np.int8)])
def test_a_sigmoid_of_integers_or_booleans_is_float64(z):
    a = sigmoid(z)
    assert a.dtype == np.float64
    np.testing.assert_allclose(a, 1 / (1 + np.exp(-np.asarray(z, dtype=np.float64))))


def test_sigmoid_matches_its_definition_where_that_is_safe():
    z = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-14)


@pytest.mark.parametrize("name", SMOOTH)
def test_derivative_matches_central_differences(name):
    act = ACTIVATIONS[name]
    z = np.linspace(-6, 6, 121)
    h = 1e-6
    numeric = (act.value(z + h) - act.value(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z), numeric, rtol=1e-6, atol=1e-9)


def test_step_splits_at_zero_and_uses_the_perceptron_surrogate():
    z = np.array([-2.0, 0.0, 1e-12, 3.0])
    np.testing.assert_array_equal(step(z), [0, 0, 1, 1])
    np.testing.assert_array_equal(ACTIVATIONS["step"].derivative(z), np.ones(4))


def test_unknown_activation_names_the_choices():
    with pytest.raises(NeuronaError, match="Unknown activation 'relu'.*sigmoid"):
        get_activation("relu")
