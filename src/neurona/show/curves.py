"""A run's curves per epoch: its loss, every recorded metric, and its weights.

:func:`plot_loss` is the post's loss curve; :func:`plot_learning_curves`
draws each column of the history in its own panel (:func:`plot_metric`,
laid out by :func:`learning_curve_panels` and :func:`learning_curves_grid`);
:func:`plot_weight_trajectory` follows each weight and the bias. Loss-like
metrics spanning a wide range get a log axis.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.callbacks import History
from ..errors import NeuronaError
from .i18n import messages
from .style import METRIC_COLORS, NEUTRAL, SPLIT_COLORS, _axes, _names

LOG_SCALED = ("loss", "sse", "grad_norm", "mae")
#: A model with more weights than this gets only its TOP_WEIGHTS largest (by final |w|)
#: in the weights figure, and says so: thousands of lines would read as a grey band.
MAX_WEIGHT_LINES = 20
TOP_WEIGHTS = 10
PREFERRED_PANELS = ("loss", "sse", "accuracy", "r2", "mae", "learning_rate", "grad_norm")
#: History columns that count rather than measure: no panel of their own.
_COUNTERS = ("epoch", "passes")


def plot_loss(history: History, ax=None, *, keys=("sse", "loss"), lang: str = "en",
              scaled_target: bool = False, legend: bool = True, twin: bool = True, **style):
    """The loss curve: the post's summed squared error and the objective, per epoch.

    Each curve gets its own y axis in its colour (the first, the SSE, on the left of
    ``ax``; the second on a twin axis on the right), so both read at their own scale:
    on one axis the SSE of a run whose log loss is a thousand times larger would be a
    flat line. A curve spanning more than 20x gets a log axis. ``ax`` is returned (and
    stays the current axes); :func:`loss_axes` gives it with its twin.
    ``scaled_target``: a regression trained on its standardised target, whose
    losses the title says are of that target. ``legend=False`` leaves the legend to
    the caller; ``twin=False`` draws every curve on ``ax`` (on a log axis if they span
    more than 20x together)."""
    ax = _axes(ax)
    t = messages(lang)
    epochs = _epochs(history)
    present = [key for key in keys if key in history.keys]
    twin = twin and len(present) > 1
    lines = []
    for k, key in enumerate(present):
        on = ax.twinx() if twin and k else ax
        color = METRIC_COLORS.get(key)
        kw = dict(color=color, lw=1.8, label=t.metric(key))
        kw.update(style)
        lines += on.plot(epochs, history[key], **kw)
        if twin:
            _log_y(on, key, np.asarray(history[key], dtype=float))
            on.set_ylabel(t.metric(key), color=color)
            on.tick_params(axis="y", colors=color)
    if not twin and present:
        _log_y(ax, present[0], np.concatenate(
            [np.asarray(history[key], dtype=float) for key in present]))
    ax.set_title(t("fig.loss_title") + (f"\n{t('fig.scaled_target')}" if scaled_target else ""))
    ax.set_xlabel(t("fig.epoch"))
    if not twin:
        ax.set_ylabel(t("fig.loss"))
    if legend:  # on the top axes, so that no curve of the twin runs over it
        loss_axes(ax)[-1].legend(handles=lines, loc="upper right")
    ax.figure.sca(ax)  # twinx made its twin the current axes
    return ax


def loss_axes(ax) -> list:
    """``ax`` of :func:`plot_loss` and its twin axes (if any), bottom first."""
    shared = ax.get_shared_x_axes()
    return [a for a in ax.figure.axes if a is ax or (shared.joined(a, ax) and
                                                    a.bbox.bounds == ax.bbox.bounds)]


#: The history's columns in the target's units (squared, for the losses), which a run on a
#: standardised target records in that target's units instead.
TARGET_UNIT_METRICS = ("loss", "sse", "mae")


def _epochs(history: History) -> np.ndarray:
    return history["epoch"] if "epoch" in history.keys else np.arange(len(history))


def learning_curve_panels(history: History) -> list[tuple[str, list[str]]]:
    """The panels :func:`plot_learning_curves` draws: ``(metric, [columns])`` pairs.

    Every numeric history column except the counters (``epoch``, ``passes``) is
    drawn; ``val_<m>`` shares the panel of ``<m>``. Known metrics come first
    (objective, SSE, accuracy, learning rate, gradient norm), then the others in
    the history's order.
    """
    keys = [k for k in history.keys if k not in _COUNTERS]
    numeric = []
    for k in keys:
        values = history[k]
        if values.dtype.kind in "fiub" and np.isfinite(values.astype(float)).any():
            numeric.append(k)
    panels: dict[str, list[str]] = {}
    for k in numeric:
        base = k[4:] if k.startswith("val_") else k
        panels.setdefault(base, [])
        panels[base].append(k)
    rank = {name: i for i, name in enumerate(PREFERRED_PANELS)}
    order = sorted(panels, key=lambda b: (rank.get(b, len(rank)), list(panels).index(b)))
    return [(b, sorted(panels[b], key=lambda c: c.startswith("val_"))) for b in order]


def plot_metric(history: History, metric: str, ax=None, *, lang: str = "en",
                scaled_target: bool = False, **style):
    """One metric per epoch, its training column and ``val_`` column if recorded.

    ``scaled_target``: the run trained on its standardised target; the title of a
    metric in the target's units (:data:`TARGET_UNIT_METRICS`) says so."""
    ax = _axes(ax)
    t = messages(lang)
    epochs = _epochs(history)
    columns = [c for c in (metric, f"val_{metric}") if c in history.keys]
    if not columns:
        raise NeuronaError(f"{metric!r} is not in the history; it has {history.keys}.")
    for column, color in zip(columns, SPLIT_COLORS):
        values = history[column].astype(float)
        val = column.startswith("val_")
        kw = dict(color=color, lw=1.8, ls="--" if val else "-",
                  label=t("fig.validation") if val else t("fig.train"))
        kw.update(style)
        ax.plot(epochs, values, **kw)
    _log_y(ax, metric, np.concatenate([history[c].astype(float) for c in columns]))
    note = f"\n{t('fig.scaled_target')}" if scaled_target and metric in TARGET_UNIT_METRICS \
        else ""
    ax.set_title(t.metric(metric) + note)
    ax.set_xlabel(t("fig.epoch"))
    ax.grid(alpha=0.3)
    if len(columns) > 1:
        ax.legend(fontsize="small")
    return ax


def _log_y(ax, metric: str, values: np.ndarray) -> None:
    """Put a loss-like metric spanning more than 20x on a log axis.

    Past 1e200 (a diverged run) the axis stays linear: matplotlib's log
    ticks overflow near the largest float.
    """
    values = values[np.isfinite(values)]
    if (metric in LOG_SCALED and values.size and np.all(values > 0)
            and 20 * values.min() < values.max() < 1e200):
        ax.set_yscale("log")


def learning_curves_grid(n_panels: int) -> tuple[int, int]:
    """Rows and columns of the learning-curves figure: at most three panels a row."""
    ncols = min(3, max(1, n_panels))
    return math.ceil(max(1, n_panels) / ncols), ncols


def plot_learning_curves(history: History, ax=None, *, lang: str = "en",
                         scaled_target: bool = False, **style):
    """Every recorded metric in its own panel (see :func:`learning_curve_panels`).

    ``ax`` is a sequence of at least as many axes as panels, or None to lay
    them out on the current pyplot figure. Returns the list of axes drawn on.
    """
    panels = learning_curve_panels(history)
    if ax is None:
        import matplotlib.pyplot as plt

        rows, cols = learning_curves_grid(len(panels))
        ax = plt.gcf().subplots(rows, cols, squeeze=False).ravel()
    axes = list(np.ravel(ax)) if not hasattr(ax, "plot") else [ax]
    if len(axes) < len(panels):
        raise NeuronaError(
            f"The history has {len(panels)} metrics to draw "
            f"({', '.join(p for p, _ in panels)}) but {len(axes)} axes were given; pass "
            f"{len(panels)} axes, or ax=None.")
    for (metric, _), a in zip(panels, axes):
        plot_metric(history, metric, a, lang=lang, scaled_target=scaled_target, **style)
    for a in axes[len(panels):]:
        a.set_visible(False)
    return axes[:len(panels)]


#: Line styles that tell apart the weights of one column's features (its categories).
GROUP_STYLES = ("-", "--", ":", "-.")


def top_weights(weights, k: int = TOP_WEIGHTS) -> np.ndarray:
    """The indices of the ``k`` largest ``|weights|``, largest first (ties: the first)."""
    weights = np.abs(np.asarray(weights, dtype=np.float64))
    return np.argsort(-weights, kind="stable")[:k]


def plot_weight_trajectory(trajectory, ax=None, *, feature_names=None, lang: str = "en",
                           groups=None, **style):
    """Each weight and the bias at the start of every epoch.

    ``trajectory`` is a :class:`neurona.trajectory.WeightTrajectory`. ``groups``
    (an encoding's ``groups()``: each raw column and its features' indices) draws
    a column's weights (its categories) in one colour, told apart by line style.
    A model of more than :data:`MAX_WEIGHT_LINES` weights gets its
    :data:`TOP_WEIGHTS` largest by final ``|w|``, each named in the legend, and the
    title says how many of how many are drawn.
    """
    ax = _axes(ax)
    t = messages(lang)
    names = _names(feature_names or trajectory.feature_names, trajectory.n_features)
    epochs, W = trajectory.epoch, trajectory.weights
    look = {}
    for g, (_, indices) in enumerate(groups or [(n, [k]) for k, n in enumerate(names)]):
        for j, k in enumerate(indices):
            look[k] = dict(color=f"C{g % 10}", ls=GROUP_STYLES[j % len(GROUP_STYLES)])
    summarised = W.shape[1] > MAX_WEIGHT_LINES
    drawn = top_weights(W[-1]) if summarised else range(W.shape[1])
    for rank, k in enumerate(drawn):
        if summarised:  # each its own colour: the ten named in the legend
            look[k] = dict(color=f"C{rank % 10}")
        kw = dict(lw=1.8, label=f"w[{names[k]}]" if rank < 10 else None, **look.get(k, {}))
        kw.update(style)
        ax.plot(epochs, W[:, k], **kw)
    kw = dict(color=NEUTRAL, lw=1.8, ls="--", label=t("fig.bias"))
    kw.update(style)
    ax.plot(epochs, trajectory.bias, **kw)
    ax.axhline(0.0, color="#999999", lw=0.8, zorder=0)
    ax.set_title(t("fig.weights") + (f"\n{t('fig.top_weights', k=len(drawn), n=W.shape[1])}"
                                     if summarised else ""))
    ax.set_xlabel(t("fig.epoch"))
    ax.set_ylabel(t("fig.weight_value"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    return ax
