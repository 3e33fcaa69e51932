"""The look shared by every figure: colours, sizes, and the small helpers all draw with.

The two classes keep one colour each everywhere: :data:`CLASS_COLORS`, blue
for class 0 and red for class 1, and the decision boundary's shading runs
between the same two colours (:func:`_cmaps`). A regression's target is drawn
on one sequential, colour-blind-safe scale, :data:`TARGET_CMAP`, shared by the
points and the neuron's prediction wherever both appear.

matplotlib is imported inside the functions only, so importing neurona never
loads it.
"""

from __future__ import annotations

import numpy as np

CLASS_COLORS = ("#2166ac", "#d6604d")  # class 0, class 1
NEUTRAL = "#333333"
METRIC_COLORS = {"sse": "#1b7837", "loss": "#5e3c99"}  # the loss curves
SPLIT_COLORS = ("#5e3c99", "#e66101")  # learning curves: training, validation
DPI = 100
FIGSIZE = (6.4, 4.8)  # inches: 640 x 480 pixels at DPI
PANEL_SIZE = (4.2, 3.4)  # one learning-curve panel
MAX_POINTS = 5000  # points drawn per scatter; more are sampled with a fixed seed
TARGET_CMAP = "viridis"  # a regression's target and prediction
POINT_COLORS = {"train": "#92c5de", "test": "#2166ac"}  # a regression's points
FIT_COLOR = "#e66101"  # a regression's fitted line
FIELD_ALPHA = 0.6  # a regression's prediction field, lighter than the points on it


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    return ax


def _cmaps():
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap

    classes = ListedColormap(CLASS_COLORS, name="neurona_classes")
    field = LinearSegmentedColormap.from_list(
        "neurona_field", [CLASS_COLORS[0], "#f7f7f7", CLASS_COLORS[1]])
    return classes, field


def _names(feature_names, n: int) -> list[str]:
    names = list(feature_names) if feature_names is not None else []
    return names if len(names) >= n else [f"x{i}" for i in range(n)]


def _sample(n: int, max_points: int | None) -> np.ndarray:
    """Indices of at most ``max_points`` of ``n`` rows, the same on every call."""
    if max_points is None or n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=max_points, replace=False))


def _new_figure(size=FIGSIZE, dpi=DPI):
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=dpi, layout="constrained")
