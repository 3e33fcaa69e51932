"""``neurona.plots``: the figures. Every ``plot_*`` function takes ``ax=None`` and returns the axes.

With ``ax=None`` the current pyplot axes are used (as in a notebook);
``save_run_figures`` and ``animate_training`` draw on their own figures and
never touch pyplot, so they work headless. Keyword arguments not named in a
signature go to the underlying matplotlib call as style overrides, and
``lang`` ("en" or "es") picks the language of titles and labels.

The two classes keep one colour each everywhere: :data:`CLASS_COLORS`, blue
for class 0 and red for class 1, and the decision boundary's shading runs
between the same two colours. A regression's target is drawn on one
sequential, colour-blind-safe scale, :data:`TARGET_CMAP`, shared by the
points and the neuron's prediction wherever both appear.

This module is the public namespace only; the figures live in one module
each of :mod:`neurona.show`:

- :mod:`~neurona.show.style`: colours, sizes and the helpers shared by all figures;
- :mod:`~neurona.show.feature_plane`: the plane of two features an output is drawn over;
- :mod:`~neurona.show.classification_figures`: points by class, the decision
  boundary, the confusion matrix and the ROC curve;
- :mod:`~neurona.show.regression_figures`: points by target, the fit, predicted
  against actual, the residuals and their distribution;
- :mod:`~neurona.show.curves`: the loss, the learning curves and the weights per epoch;
- :mod:`~neurona.show.run_figures`: a run's set of PNG files;
- :mod:`~neurona.show.animation`: the training animation.
"""

from .animation import ANIMATION_DPI, ANIMATION_SIZE, animate_training, frame_epochs
from .classification_figures import (class_legend_handles, class_names,
                                     plot_confusion_matrix, plot_decision_boundary,
                                     plot_points, plot_roc_curve, proba_label)
from .curves import (GROUP_STYLES, LOG_SCALED, MAX_WEIGHT_LINES, PREFERRED_PANELS,
                     TARGET_UNIT_METRICS, TOP_WEIGHTS, learning_curve_panels,
                     learning_curves_grid, loss_axes, plot_learning_curves, plot_loss,
                     plot_metric, plot_weight_trajectory, top_weights)
from .feature_plane import BoundaryField, boundary_features
from .regression_figures import (DRAWABLE, FitField, fit_equation, plot_fit,
                                 plot_predicted_vs_actual, plot_residual_distribution,
                                 plot_residuals, plot_target_points)
from .run_figures import TASKS, TEST_FIGURES, check_task, figure_size, save_run_figures
from .style import (CLASS_COLORS, DPI, FIELD_ALPHA, FIGSIZE, FIT_COLOR, MAX_POINTS,
                    METRIC_COLORS, NEUTRAL, PANEL_SIZE, POINT_COLORS, SPLIT_COLORS,
                    TARGET_CMAP)

__all__ = [
    # classification
    "class_legend_handles", "class_names", "proba_label", "plot_points",
    "plot_decision_boundary", "plot_confusion_matrix", "plot_roc_curve",
    # regression
    "plot_target_points", "plot_fit", "fit_equation", "plot_predicted_vs_actual",
    "plot_residuals", "plot_residual_distribution", "FitField", "DRAWABLE",
    # the plane of two features
    "boundary_features", "BoundaryField",
    # curves per epoch
    "plot_loss", "loss_axes", "plot_metric", "plot_learning_curves", "plot_weight_trajectory",
    "top_weights", "learning_curve_panels", "learning_curves_grid", "LOG_SCALED",
    "PREFERRED_PANELS", "TARGET_UNIT_METRICS", "GROUP_STYLES", "MAX_WEIGHT_LINES",
    "TOP_WEIGHTS",
    # a run's figures
    "save_run_figures", "figure_size", "check_task", "TASKS", "TEST_FIGURES",
    # the animation
    "animate_training", "frame_epochs", "ANIMATION_SIZE", "ANIMATION_DPI",
    # style
    "CLASS_COLORS", "NEUTRAL", "METRIC_COLORS", "SPLIT_COLORS", "POINT_COLORS", "FIT_COLOR",
    "FIELD_ALPHA", "TARGET_CMAP", "DPI", "FIGSIZE", "PANEL_SIZE", "MAX_POINTS",
]
