"""The figures stay readable: the loss and the SSE each on their own axis, the animation's
legends outside the axes they name, a wide model's weights summarised."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from neurona import History, Neuron, WeightTrajectory, train
from neurona.show.curves import (MAX_WEIGHT_LINES, TOP_WEIGHTS, loss_axes, plot_loss,
                                 plot_weight_trajectory)


def _history():
    return History([{"epoch": k, "loss": 1745.0 / (k + 1), "sse": 318.0 / (k + 1) ** 2}
                    for k in range(50)])


def test_the_loss_and_the_sse_each_get_their_own_axis():
    ax = plot_loss(_history(), Figure().subplots())
    left, right = loss_axes(ax)
    assert [line.get_label() for line in left.get_lines()] == [
        "summed squared error (the post's loss)"]
    assert [line.get_label() for line in right.get_lines()] == ["objective (training loss)"]
    # Each axis spans its own curve: the SSE is not a flat line at the bottom of the loss's.
    for axis, key in ((left, "sse"), (right, "loss")):
        values = _history()[key]
        low, high = axis.get_ylim()
        assert low <= values.min() and values.max() <= high
        assert high < 20 * values.max()
    assert left.yaxis.label.get_text().startswith("summed squared error")
    assert right.yaxis.label.get_text().startswith("objective")
    legend = right.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [
        "summed squared error (the post's loss)", "objective (training loss)"]


def test_a_single_loss_curve_keeps_one_axis():
    history = History([{"epoch": k, "loss": 1.0 / (k + 1)} for k in range(5)])
    ax = plot_loss(history, Figure().subplots())
    assert loss_axes(ax) == [ax] and ax.get_ylabel() == "Loss"


def _overlaps(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("task", ["classify", "regress-1", "classify-1"])
def test_the_animations_legends_cover_no_axes(task, monkeypatch):
    from neurona.show import animation

    rng = np.random.default_rng(0)
    features = 1 if task.endswith("-1") else 2
    X = rng.normal(size=(80, features))
    if task.startswith("regress"):
        y = 2.0 * X[:, 0] + 0.1 * rng.normal(size=80)
        neuron = Neuron(np.zeros(features), activation="identity", task="regress")
        loss = "squared_error"
    else:
        y = (X.sum(axis=1) > 0).astype(int)
        neuron, loss = Neuron(np.zeros(features)), "log_loss"
    path = WeightTrajectory(neuron)
    history = train(neuron, X, y, epochs=8, learning_rate=0.01, loss=loss, callbacks=[path])
    made = []
    new_figure = animation._new_figure
    monkeypatch.setattr(animation, "_new_figure",
                        lambda *a, **k: made.append(new_figure(*a, **k)) or made[-1])
    animation._render_frames(neuron, path, history, X, y, frames=[0, 8], features=None,
                             feature_names=None, lang="es")
    fig = made[0]
    renderer = fig.canvas.get_renderer()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert len(legends) == 2
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not _overlaps(box, ax.bbox), (task, ax.get_title())
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and fig.bbox.y0 <= box.y0
    for ax in fig.axes:  # and the layout leaves every label inside the frame
        tight = ax.get_tightbbox(renderer)
        assert tight.x0 >= 0 and tight.x1 <= fig.bbox.x1 + 1, (task, ax.get_title())


def _wide_trajectory(n_features):
    neuron = Neuron(np.zeros(n_features))
    path = WeightTrajectory(neuron)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, n_features))
    y = (X[:, :3].sum(axis=1) > 0).astype(int)
    train(neuron, X, y, epochs=3, learning_rate=0.1, callbacks=[path])
    return neuron, path


def test_a_wide_models_weights_figure_draws_its_largest_weights_and_says_so():
    neuron, path = _wide_trajectory(500)
    ax = plot_weight_trajectory(path, Figure().subplots())
    assert len(ax.get_lines()) == TOP_WEIGHTS + 2  # and the bias, and the zero line
    largest = np.argsort(-np.abs(path.weights[-1]))[:TOP_WEIGHTS]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:TOP_WEIGHTS] == [f"w[x{k}]" for k in largest]
    assert "the 10 largest of 500 weights" in ax.get_title()
    small = plot_weight_trajectory(_wide_trajectory(MAX_WEIGHT_LINES)[1], Figure().subplots())
    assert len(small.get_lines()) == MAX_WEIGHT_LINES + 2
    assert "largest" not in small.get_title()


def test_a_wide_models_report_lists_its_largest_weights_and_a_count(tmp_path):
    import csv
    import re

    from neurona.face.cli import main

    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 300))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    data = tmp_path / "wide.csv"
    with open(data, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"f{k}" for k in range(300)] + ["y"])
        writer.writerows([*row, label] for row, label in zip(X.round(4), y))
    out = tmp_path / "r"
    assert main(["train", "--data", str(data), "--target", "y", "--epochs", "5",
                 "--no-animation", "--out", str(out), "--quiet"]) == 0
    text = (out / "report.html").read_text(encoding="utf-8")
    weights = re.search(r'<table id="weights">.*?</table>', text).group(0)
    assert weights.count("<tr>") == 1 + 20 + 1  # the header, the 20 largest, the bias
    assert "The 20 largest of the 300 weights by their final |w|" in text
    features = re.search(r'<table id="features">.*?</table>', text).group(0)
    assert features.count("<tr>") == 1 + 20
    assert "f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, … (300 in all)" in text
