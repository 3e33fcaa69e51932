"""Figures and the report name the classes by the run's own labels ("fail"/"pass") when it
has them, and "class 0"/"class 1" when it has none."""

import numpy as np
import pytest

from neurona import Neuron
from neurona.face.cli import main

pytest.importorskip("matplotlib")


def _points():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def _legend(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


@pytest.fixture
def axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_the_scatter_legend_uses_the_labels(axes):
    from neurona.show.classification_figures import plot_points

    X, y = _points()
    assert _legend(plot_points(X, y, axes, class_labels=["fail", "pass"])) == ["fail", "pass"]
    axes.clear()
    assert _legend(plot_points(X, y, axes, lang="es")) == ["clase 0", "clase 1"]


def test_the_boundary_uses_the_neurons_labels(axes):
    from neurona.show.classification_figures import plot_decision_boundary

    X, y = _points()
    neuron = Neuron([1.0, 1.0], 0.0, classes=["fail", "pass"])
    plot_decision_boundary(neuron, X, y, axes)
    legend = _legend(axes)
    assert legend[:2] == ["fail", "pass"] and "class 0" not in legend
    assert axes.figure.axes[-1].get_ylabel() == "P(pass)"  # the colour bar


def test_the_confusion_matrix_axes_use_the_labels(axes):
    from neurona.show.classification_figures import plot_confusion_matrix

    plot_confusion_matrix([0, 1, 1], [0, 1, 0], axes, class_labels=["fail", "pass"])
    assert [t.get_text() for t in axes.get_xticklabels()] == ["fail", "pass"]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["fail", "pass"]
    axes.clear()
    plot_confusion_matrix([0, 1, 1], [0, 1, 0], axes)
    assert [t.get_text() for t in axes.get_xticklabels()] == ["class 0", "class 1"]


def test_the_report_counts_the_classes_by_their_labels(tmp_path, capsys):
    import re
    from pathlib import Path

    data = Path(__file__).resolve().parents[2] / "examples" / "students.csv"
    out = tmp_path / "r"
    assert main(["train", "--data", str(data), "--target", "result", "--epochs", "3",
                 "--no-animation", "--out", str(out), "--quiet"]) == 0
    text = (out / "report.html").read_text(encoding="utf-8")
    assert len(re.findall(r'<th scope="row">fail / pass \((train|test)\)</th>', text)) == 2
    assert "class 0 / class 1" not in text


def test_labels_that_are_just_0_and_1_stay_class_0_and_class_1():
    from neurona.show.classification_figures import class_names, proba_label
    from neurona.show.i18n import messages

    t = messages("en")
    assert class_names(t, [0, 1]) == ["class 0", "class 1"]
    assert class_names(t, ["no", "yes"]) == ["no", "yes"]
    assert proba_label(t, [0, 1]) == "P(class 1)" and proba_label(t, ["a", "b"]) == "P(b)"
