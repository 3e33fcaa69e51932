import numpy as np
import pytest
from PIL import Image

from neurona import Neuron, train
from neurona.plots import plot_decision_boundary, plot_loss, plot_points, save_run_figures


@pytest.fixture
def fitted():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-2, 1, size=(40, 2)), rng.normal(2, 1, size=(40, 2))]
    y = np.r_[np.zeros(40), np.ones(40)].astype(int)
    n = Neuron.random(2, 0)
    history = train(n, X, y, epochs=20, learning_rate=0.05)
    return n, X, y, history


def test_figures_are_valid_non_blank_pngs(tmp_path, fitted):
    n, X, y, history = fitted
    paths = save_run_figures(tmp_path, n, X, y, X[:10], y[:10], n.predict(X[:10]), history)
    assert {p.name for p in paths} == {"data.png", "test_truth.png", "test_predictions.png",
                                       "loss.png", "decision_boundary.png",
                                       "learning_curves.png", "confusion_matrix.png",
                                       "roc_curve.png"}
    for path in paths:
        with Image.open(path) as im:
            expected = (640, 480) if path.name != "learning_curves.png" else (1260, 340)
            assert im.format == "PNG" and im.size == expected
            pixels = np.asarray(im.convert("L"))
        assert pixels.std() > 5, f"{path.name} looks blank"


def test_plot_functions_take_and_return_axes(fitted):
    from matplotlib.figure import Figure

    n, X, y, history = fitted
    for draw in (lambda ax: plot_points(X, y, ax, marker="x"),
                 lambda ax: plot_loss(history, ax),
                 lambda ax: plot_decision_boundary(n, X, y, ax)):
        ax = Figure().subplots()
        assert draw(ax) is ax
        assert ax.has_data()


def test_plot_without_axes_uses_pyplot(fitted):
    import matplotlib.pyplot as plt

    n, X, y, history = fitted
    try:
        ax = plot_loss(history)
        assert ax is plt.gca()
        assert [line.get_label() for line in ax.get_lines()][0].startswith("summed squared error")
    finally:
        plt.close("all")
