import numpy as np
import pytest

import neurona
from neurona import Neuron, NeuronaError, train


def test_forward_is_the_activation_of_the_net_input():
    n = Neuron([2.0, -1.0], bias=0.5)
    X = np.array([[1.0, 1.0], [-1.0, 1.0], [0.0, 0.0]])
    z = X @ [2.0, -1.0] + 0.5
    np.testing.assert_allclose(n.net_input(X), z)
    np.testing.assert_allclose(n.predict_proba(X), 1 / (1 + np.exp(-z)))
    np.testing.assert_array_equal(n.predict(X), [1, 0, 1])
    np.testing.assert_array_equal(n.predict(X, threshold=0.99), [0, 0, 0])


def test_threshold_boundary_belongs_to_class_zero():
    n = Neuron([1.0], bias=0.0)
    assert n.predict(np.array([[0.0]]))[0] == 0


def test_wrong_number_of_features_is_reported_like_scikit_learn():
    with pytest.raises(NeuronaError, match="X has 3 features, but Neuron is expecting 2"):
        Neuron([1.0, 2.0]).predict(np.zeros((4, 3)))


def test_one_dimensional_input_is_refused_with_a_hint():
    with pytest.raises(NeuronaError, match="reshape"):
        Neuron([1.0, 2.0]).predict(np.zeros(2))


def test_random_draws_weights_then_bias_from_the_seed():
    n = Neuron.random(2, 7)
    wb = np.random.default_rng(7).standard_normal(3)
    np.testing.assert_array_equal(n.weights, wb[:2])
    assert n.bias == wb[2]


def test_train_learns_a_separable_problem_and_records_history():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    n = Neuron.random(2, 0)
    history = train(n, X, y, epochs=50, learning_rate=0.05)
    assert len(history) == 50
    assert history["loss"][-1] < history["loss"][0] / 5
    assert np.mean(n.predict(X) == y) > 0.97
    assert history.keys == ["epoch", "loss", "sse", "accuracy", "grad_norm", "learning_rate",
                            "passes"]
    assert list(history["passes"]) == list(range(1, 51))  # one pass per epoch


def test_history_rows_are_taken_before_each_update():
    X = np.array([[1.0], [-1.0]])
    y = np.array([1, 0])
    n = Neuron([0.0], 0.0)
    history = train(n, X, y, epochs=2, learning_rate=0.1)
    assert history["sse"][0] == pytest.approx(0.5)  # both outputs 0.5 before any step
    assert history["sse"][1] < 0.5


@pytest.mark.parametrize("kwargs,match", [
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(learning_rate=-0.1), "learning_rate must be a positive number"),
    (dict(loss="hinge"), "Unknown loss 'hinge'"),
    (dict(reduction="max"), "Unknown reduction 'max'"),
])
def test_bad_training_options_raise(kwargs, match):
    with pytest.raises(NeuronaError, match=match):
        train(Neuron([0.0]), np.zeros((2, 1)), [0, 1], **kwargs)


@pytest.mark.parametrize("X,y,match", [
    (np.array([[np.nan], [1.0]]), [0, 1], "Input X contains NaN"),
    (np.array([[np.inf], [1.0]]), [0, 1], "Input X contains infinity"),
    (np.zeros((2, 1)), [0, 1, 1], "different numbers of samples: 2 and 3"),
    (np.zeros((2, 1)), ["a", "b"], "y must be numeric"),
])
def test_bad_data_raises(X, y, match):
    with pytest.raises(NeuronaError, match=match):
        train(Neuron([0.0]), X, y)


def test_errors_are_value_errors():
    assert issubclass(NeuronaError, ValueError)
    assert issubclass(neurona.ModelFileError, NeuronaError)


def test_callbacks_see_every_epoch():
    seen = []

    class Spy(neurona.Callback):
        def on_train_begin(self, logs=None):
            seen.append("begin")

        def on_epoch_end(self, epoch, logs=None):
            seen.append((epoch, round(logs["loss"], 12)))

        def on_train_end(self, logs=None):
            seen.append("end")

    h = train(Neuron([0.1]), np.array([[1.0], [-1.0]]), [1, 0], epochs=3, callbacks=[Spy()])
    assert seen[0] == "begin" and seen[-1] == "end"
    assert [s[0] for s in seen[1:-1]] == [0, 1, 2]
    assert [s[1] for s in seen[1:-1]] == [round(v, 12) for v in h["loss"]]
