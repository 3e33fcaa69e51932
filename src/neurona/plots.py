"""Figures of a run. Every ``plot_*`` function takes ``ax=None`` and returns the axes.

With ``ax=None`` the current pyplot axes are used (as in a notebook);
``save_run_figures`` draws on its own figures and never touches pyplot, so it
works headless. Keyword arguments not named in a signature go to the
underlying matplotlib call as style overrides.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .callbacks import History
from .neuron import Neuron


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    return ax


def plot_points(X, labels, ax=None, *, title: str = "", feature_names=("x0", "x1"), **style):
    """Scatter the first two features of ``X``, coloured by ``labels`` (the post's plot)."""
    ax = _axes(ax)
    X = np.asarray(X)
    kw = dict(c=np.asarray(labels).ravel(), cmap="viridis", s=18)
    kw.update(style)
    ax.scatter(X[:, 0], X[:, 1], **kw)
    ax.set_title(title)
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    return ax


def plot_loss(history: History, ax=None, *, keys=("sse", "loss"), **style):
    """The loss curve: the post's summed squared error and the objective, per epoch."""
    ax = _axes(ax)
    epochs = history["epoch"]
    labels = {"sse": "summed squared error (the post's loss)", "loss": "objective"}
    for key in keys:
        ax.plot(epochs, history[key], label=labels.get(key, key), **style)
    ax.set_title("Training Loss")
    ax.set_xlabel("Epoch #")
    ax.set_ylabel("Loss")
    ax.legend()
    return ax


def plot_decision_boundary(neuron: Neuron, X, y, ax=None, *, resolution: int = 200,
                           title: str = "Decision boundary", feature_names=("x0", "x1"),
                           **style):
    """The neuron's output as a shaded field, its threshold contour and the points.

    Needs a neuron of two features.
    """
    ax = _axes(ax)
    X, y = np.asarray(X), np.asarray(y).ravel()
    pad = 0.05 * (X.max(axis=0) - X.min(axis=0)) + 1e-9
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    field = neuron.forward(np.c_[g0.ravel(), g1.ravel()]).reshape(g0.shape)
    shade = ax.contourf(g0, g1, field, levels=20, cmap="RdBu_r", alpha=0.6)
    ax.contour(g0, g1, field, levels=[neuron.threshold], colors="k", linewidths=1.5)
    ax.figure.colorbar(shade, ax=ax, label="neuron output")
    kw = dict(c=y, cmap="RdBu_r", s=18, edgecolors="w", linewidths=0.6)
    kw.update(style)
    ax.scatter(X[:, 0], X[:, 1], **kw)
    ax.set_title(title)
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    return ax


def save_run_figures(directory, neuron: Neuron, X, y, X_test, y_test, test_pred,
                     history: History, feature_names=("x0", "x1")) -> list[Path]:
    """Write the post's four figures and the decision boundary as PNGs into ``directory``."""
    from matplotlib.figure import Figure

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    names = tuple(feature_names[:2])
    drawings = {
        "data.png": lambda ax: plot_points(X, y, ax, title="Dataset", feature_names=names),
        "test_truth.png": lambda ax: plot_points(X_test, y_test, ax, title="Test set: truth",
                                                 feature_names=names),
        "test_predictions.png": lambda ax: plot_points(
            X_test, test_pred, ax, title="Test set: predictions", feature_names=names),
        "loss.png": lambda ax: plot_loss(history, ax),
    }
    if neuron.n_features == 2:
        drawings["decision_boundary.png"] = lambda ax: plot_decision_boundary(
            neuron, X, y, ax, feature_names=names)
    written = []
    for name, draw in drawings.items():
        fig = Figure(figsize=(6.4, 4.8), dpi=100, layout="constrained")
        draw(fig.subplots())
        path = directory / name
        fig.savefig(path, format="png")
        written.append(path)
    return written
