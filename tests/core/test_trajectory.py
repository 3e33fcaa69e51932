import numpy as np
import pytest

from neurona import Neuron, NeuronaError, train
from neurona.core.trajectory import WeightTrajectory


def _problem():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3))
    y = (X @ [1.0, -2.0, 0.5] + 0.3 > 0).astype(int)
    return X, y


def test_row_e_holds_the_weights_that_made_history_row_e():
    X, y = _problem()
    neuron = Neuron.random(3, 0)
    start = np.r_[neuron.weights, neuron.bias]
    path = WeightTrajectory(neuron)
    history = train(neuron, X, y, epochs=12, learning_rate=0.05, callbacks=[path])
    assert path.epoch.tolist() == list(range(13))
    np.testing.assert_array_equal(np.r_[path.weights[0], path.bias[0]], start)
    np.testing.assert_array_equal(path.weights[-1], neuron.weights)
    assert path.bias[-1] == neuron.bias
    for e in range(12):
        a = 1 / (1 + np.exp(-(X @ path.weights[e] + path.bias[e])))
        assert np.sum((a - y) ** 2) == pytest.approx(history["sse"][e], rel=1e-12)


def test_the_recorder_never_changes_training():
    X, y = _problem()
    a, b = Neuron.random(3, 1), Neuron.random(3, 1)
    train(a, X, y, epochs=5)
    train(b, X, y, epochs=5, callbacks=[WeightTrajectory(b)])
    np.testing.assert_array_equal(a.weights, b.weights)


def test_csv_round_trip_is_exact():
    X, y = _problem()
    neuron = Neuron.random(3, 2, feature_names=["a", "b", "c"])
    path = WeightTrajectory(neuron)
    train(neuron, X, y, epochs=4, callbacks=[path])
    text = path.to_csv()
    assert text.splitlines()[0] == "epoch,w[a],w[b],w[c],b"
    back = WeightTrajectory.from_csv(text)
    np.testing.assert_array_equal(back.weights, path.weights)
    np.testing.assert_array_equal(back.bias, path.bias)
    assert back.feature_names == ["a", "b", "c"]
    w, b = back.at(2)
    np.testing.assert_array_equal(w, path.weights[2])
    with pytest.raises(NeuronaError, match="epoch 9 is not in the trajectory"):
        back.at(9)


@pytest.mark.parametrize("text,match", [
    ("", "empty file"),
    ("epoch,x,b\n0,1,2\n", "is not epoch,w\\[name\\],...,b"),
    ("epoch,w[a],b\n0,1\n", "line 2: 2 values, expected 3"),
    ("epoch,w[a],b\n0,x,1\n", "line 2: not a number"),
    ("epoch,w[a],b\n0,nan,1\n", "line 2: weights must be finite"),
    ("epoch,w[a],b\n", "no rows after the header"),
])
def test_bad_weights_files_are_refused(text, match):
    with pytest.raises(NeuronaError, match=match):
        WeightTrajectory.from_csv(text, "run/weights.csv")
