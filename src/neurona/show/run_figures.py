"""The figures of a run, written as PNG files: which ones for its task, and their size.

:func:`save_run_figures` draws a classification's or a regression's set (the
tables ``_classification_drawings`` and ``_regression_drawings``, file name to
drawing), leaves out the test set's figures when there are no test rows, and
writes each on its own figure, never through pyplot, so it works headless.
:func:`figure_size` says the pixel size of each.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.callbacks import History
from ..core.neuron import Neuron
from ..errors import NeuronaError
from .classification_figures import (plot_confusion_matrix, plot_decision_boundary,
                                     plot_points, plot_roc_curve)
from .curves import (learning_curve_panels, learning_curves_grid, plot_learning_curves,
                     plot_loss, plot_weight_trajectory)
from .i18n import messages
from .regression_figures import (_predict, plot_fit, plot_predicted_vs_actual,
                                 plot_residual_distribution, plot_residuals,
                                 plot_target_points)
from .style import DPI, FIGSIZE, PANEL_SIZE, _names, _new_figure

TASKS = ("classify", "regress")


def figure_size(name: str, history: History | None = None) -> tuple[int, int]:
    """The pixel size of figure ``name`` as :func:`save_run_figures` writes it."""
    if name == "learning_curves.png":
        rows, cols = learning_curves_grid(len(learning_curve_panels(history)))
        return round(PANEL_SIZE[0] * cols * DPI), round(PANEL_SIZE[1] * rows * DPI)
    return round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI)


def check_task(task: str) -> str:
    """Return ``task`` if it is one of :data:`TASKS`, else raise a one-line error."""
    if task not in TASKS:
        raise NeuronaError(f"task must be one of {', '.join(map(repr, TASKS))}, got {task!r}.")
    return task


def save_run_figures(directory, neuron: Neuron, X, y, X_test, y_test, test_pred,
                     history: History, feature_names=None, *, X_train=None, y_train=None,
                     trajectory=None, lang: str = "en", task: str | None = None,
                     target_name: str | None = None) -> list[Path]:
    """Write a run's figures as PNGs into ``directory``; return their paths.

    A classification (``task="classify"``): the post's four (``data``,
    ``test_truth``, ``test_predictions``, ``loss``), then
    ``decision_boundary`` (training points ``X_train, y_train``, or ``X, y``
    if not given, and the test points), ``learning_curves``,
    ``confusion_matrix``, ``roc_curve``.

    A regression (``task="regress"``, targets and ``test_pred`` in the
    target's units, named ``target_name``): ``data`` (the points coloured by
    their target), ``loss``, ``fit`` (the prediction over the training and
    test points), ``predicted_vs_actual``, ``residuals``,
    ``residual_distribution`` and ``learning_curves``.

    Either way, given a ``trajectory``, ``weights``; with no test rows the
    figures of the test set are left out. ``task=None`` is the neuron's own
    task. Every figure is :func:`figure_size` pixels.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    task = check_task(neuron.task if task is None else task)
    t = messages(lang)
    names = _names(feature_names if feature_names is not None else neuron.feature_names,
                   neuron.n_features)
    X_train = X if X_train is None else X_train
    y_train = y if y_train is None else y_train
    points = dict(feature_names=names, lang=lang)
    has_test = len(np.asarray(y_test)) > 0
    if task == "regress":
        drawings = _regression_drawings(neuron, X, y, X_test, y_test, test_pred, history,
                                        X_train, y_train, t, names, lang, target_name)
    else:
        drawings = _classification_drawings(neuron, X, y, X_test, y_test, test_pred,
                                            history, X_train, y_train, t,
                                            dict(points, class_labels=neuron.classes))
    if not has_test:  # every row trained (test_size=0): no test figures
        for name in TEST_FIGURES:
            drawings.pop(name, None)
    if trajectory is not None and len(trajectory):
        drawings["weights.png"] = lambda ax: plot_weight_trajectory(
            trajectory, ax, feature_names=names, lang=lang,
            groups=None if neuron.encoding is None else neuron.encoding.groups())
    written = []
    for name, draw in drawings.items():
        if name == "learning_curves.png":
            rows, cols = learning_curves_grid(len(learning_curve_panels(history)))
            fig = _new_figure((PANEL_SIZE[0] * cols, PANEL_SIZE[1] * rows))
            plot_learning_curves(history, fig.subplots(rows, cols, squeeze=False), lang=lang,
                                 scaled_target=neuron.target_scaler is not None)
        else:
            fig = _new_figure()
            draw(fig.subplots())
        path = directory / name
        fig.savefig(path, format="png")
        written.append(path)
    return written


#: The figures drawn from the test rows only, left out when there are none.
TEST_FIGURES = ("test_truth.png", "test_predictions.png", "confusion_matrix.png",
                "roc_curve.png", "predicted_vs_actual.png", "residuals.png",
                "residual_distribution.png")


def _classification_drawings(neuron, X, y, X_test, y_test, test_pred, history, X_train,
                             y_train, t, points) -> dict:
    lang = points["lang"]
    drawings = {
        "data.png": lambda ax: plot_points(X, y, ax, title=t("fig.dataset"), **points),
        "test_truth.png": lambda ax: plot_points(X_test, y_test, ax,
                                                 title=t("fig.test_truth"), **points),
        "test_predictions.png": lambda ax: plot_points(
            X_test, test_pred, ax, title=t("fig.test_predictions"), **points),
        "loss.png": lambda ax: plot_loss(history, ax, lang=lang),
        "decision_boundary.png": lambda ax: plot_decision_boundary(
            neuron, X_train, y_train, ax, X_test=X_test, y_test=y_test,
            feature_names=points["feature_names"], lang=lang),
        "learning_curves.png": None,
        "confusion_matrix.png": lambda ax: plot_confusion_matrix(
            y_test, test_pred, ax, lang=lang, class_labels=points["class_labels"]),
        "roc_curve.png": lambda ax: plot_roc_curve(y_test, neuron.predict_proba(X_test), ax,
                                                   lang=lang),
    }
    if neuron.n_features < 2:  # one feature: nothing to scatter in a plane
        for name in ("data.png", "test_truth.png", "test_predictions.png"):
            drawings.pop(name)
    return drawings


def _regression_drawings(neuron, X, y, X_test, y_test, test_pred, history, X_train,
                         y_train, t, names, lang, target_name) -> dict:
    target = dict(target_name=target_name, lang=lang)
    return {
        "data.png": lambda ax: plot_target_points(X, y, ax, title=t("fig.dataset"),
                                                  feature_names=names, **target),
        "loss.png": lambda ax: plot_loss(history, ax, lang=lang,
                                         scaled_target=neuron.target_scaler is not None),
        "fit.png": lambda ax: plot_fit(neuron, X_train, y_train, ax, X_test=X_test,
                                       y_test=y_test, feature_names=names, **target),
        "predicted_vs_actual.png": lambda ax: plot_predicted_vs_actual(
            y_test, test_pred, ax, y_train=y_train, pred_train=_predict(neuron, X_train),
            **target),
        "residuals.png": lambda ax: plot_residuals(y_test, test_pred, ax, **target),
        "residual_distribution.png": lambda ax: plot_residual_distribution(
            y_test, test_pred, ax, lang=lang),
        "learning_curves.png": None,
    }
