"""A regression's figures: its points by target, its fit, and its residuals.

:func:`plot_target_points` colours the points by their target;
:func:`plot_fit` draws the neuron's prediction over them (a line for one
feature, a field over the plane of two, :class:`FitField`);
:func:`plot_predicted_vs_actual`, :func:`plot_residuals` and
:func:`plot_residual_distribution` judge the test set. Everything is in the
target's units. A diverged regression predicts numbers too large to draw
(beyond :data:`DRAWABLE`): the figures leave them out and say so.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.neuron import Neuron
from .feature_plane import BoundaryField, _box, _held_note, boundary_features
from .i18n import messages
from .style import (FIELD_ALPHA, FIT_COLOR, MAX_POINTS, NEUTRAL, POINT_COLORS, TARGET_CMAP,
                    _axes, _names, _sample)

DRAWABLE = 1e150  # a regression's figures leave out larger numbers (see _drawable)


def _target_label(t, target_name) -> str:
    return t("fig.target_named", name=target_name) if target_name else t("fig.target")


def _target_value(t, target_name) -> str:
    """The target in "actual price" and "predicted price": its name, or "target y"."""
    return target_name or t("fig.target")


def _readable_ticks(ax, *axes: str) -> None:
    """Ticks of large values as 50k, 1.2M (engineering notation), so that they never run
    into each other; values under 10 000 keep matplotlib's plain labels."""
    from matplotlib.ticker import EngFormatter

    for name in axes:
        axis = getattr(ax, f"{name}axis")
        low, high = getattr(ax, f"get_{name}lim")()
        if max(abs(low), abs(high)) >= 1e4:
            axis.set_major_formatter(EngFormatter(sep=""))


def _drawable(values) -> np.ndarray:
    """``values`` as a new float array, NaN where one is not finite or beyond ±:data:`DRAWABLE`.

    A diverged regression predicts numbers near the largest float, which
    matplotlib's axes cannot span; its figures leave them out and say so.
    """
    v = np.array(values, dtype=np.float64).ravel()
    with np.errstate(invalid="ignore"):
        v[~(np.abs(v) <= DRAWABLE)] = np.nan
    return v


def _predict(neuron: Neuron, X) -> np.ndarray:
    """A regression's predictions for drawing (see :func:`_drawable`), without overflow noise."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _drawable(neuron.predict(X))


def _drawn_pairs(y_true, y_pred):
    """The rows of ``(y_true, y_pred)`` both drawable, and how many were left out."""
    y_true, y_pred = _drawable(y_true), _drawable(y_pred)
    keep = ~(np.isnan(y_true) | np.isnan(y_pred))
    return y_true[keep], y_pred[keep], int(np.sum(~keep))


def _title(ax, t, head: str, left_out: int) -> None:
    ax.set_title(f"{head}\n{t('fig.left_out', n=left_out)}" if left_out else head)


def _point_handles(t, has_test: bool, *, color: str = "#bbbbbb"):
    """Legend proxies of the training circles and the test diamonds."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker="o", ms=6, mfc=color, mec="white",
                      label=t("fig.train"))]
    if has_test:
        handles.append(Line2D([], [], ls="", marker="D", ms=6, mfc=color, mec=NEUTRAL,
                              label=t("fig.test")))
    return handles


def plot_target_points(X, y, ax=None, *, title: str = "", feature_names=None,
                       features=(0, 1), target_name: str | None = None, lang: str = "en",
                       colorbar: bool = True, max_points: int | None = MAX_POINTS, **style):
    """Scatter two features of ``X`` coloured by the numeric target ``y``.

    The colour scale is :data:`TARGET_CMAP`, with a colour bar. With one
    feature the points are drawn against the target itself.
    """
    ax = _axes(ax)
    t = messages(lang)
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64).ravel()
    names = _names(feature_names, X.shape[1])
    keep = _sample(len(X), max_points)
    label = _target_label(t, target_name)
    if X.shape[1] == 1:
        kw = dict(color=POINT_COLORS["test"], s=18, alpha=0.8, edgecolors="white",
                  linewidths=0.5)
        kw.update(style)
        ax.scatter(X[keep, 0], y[keep], **kw)
        ax.set_xlabel(names[0])
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    else:
        i, j = features
        kw = dict(c=y[keep], cmap=TARGET_CMAP, s=22, edgecolors="white", linewidths=0.4)
        kw.update(style)
        points = ax.scatter(X[keep, i], X[keep, j], **kw)
        if colorbar:
            ax.figure.colorbar(points, ax=ax, label=label)
        ax.set_xlabel(names[i])
        ax.set_ylabel(names[j])
    ax.set_title(title)
    return ax


def fit_equation(neuron: Neuron, names=None) -> str | None:
    """``ŷ = a · x + b`` in the raw units of a linear unit of one feature, else None."""
    if neuron.activation.name != "identity" or neuron.n_features != 1:
        return None
    at = _predict(neuron, np.array([[0.0], [1.0]]))
    if np.isnan(at).any():
        return None
    slope, intercept = float(at[1] - at[0]), float(at[0])
    sign = "−" if intercept < 0 else "+"
    name = _names(names if names is not None else neuron.feature_names, 1)[0]
    return f"ŷ = {slope:.3g} · {name} {sign} {abs(intercept):.3g}"


def _scatter_points_1d(ax, X, y, Xt, yt, max_points, **style):
    keep = _sample(len(X), max_points)
    kw = dict(color=POINT_COLORS["train"], s=18, edgecolors="white", linewidths=0.5,
              zorder=2, gid="train")
    kw.update(style)
    ax.scatter(X[keep, 0], y[keep], marker="o", **kw)
    if Xt is not None and len(Xt):
        keep = _sample(len(Xt), max_points)
        ax.scatter(Xt[keep, 0], yt[keep], marker="D",
                   **dict(kw, color=POINT_COLORS["test"], s=22, edgecolors=NEUTRAL,
                          linewidths=0.6, zorder=3, gid="test"))


def _value_limits(*arrays) -> tuple[float, float]:
    """The smallest and largest drawable value of ``arrays`` (never an empty range)."""
    arrays = [_drawable(a) for a in arrays if a is not None and np.size(a)]
    values = np.concatenate(arrays) if arrays else np.empty(0)
    values = values[~np.isnan(values)]
    if not values.size:
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    if hi - lo <= 1e-12 * max(1.0, abs(lo), abs(hi)):
        lo, hi = lo - 0.5 * max(1.0, abs(lo)), hi + 0.5 * max(1.0, abs(hi))
    return lo, hi


def _padded(lo: float, hi: float, pad: float = 0.06) -> tuple[float, float]:
    return lo - pad * (hi - lo), hi + pad * (hi - lo)


class FitField(BoundaryField):
    """A regression's prediction over a grid of two features, the others at ``base``.

    Its colour scale spans the field and the targets ``y`` given, so the points
    and the prediction under them share one :data:`TARGET_CMAP`, cut into
    bands at round :meth:`levels`.
    """

    def __init__(self, neuron: Neuron, pair, base, lo, hi, resolution: int = 200, *,
                 y=None):
        super().__init__(neuron, pair, base, lo, hi, resolution)
        targets = [] if y is None else [y] if isinstance(y, np.ndarray) else list(y)
        self.vmin, self.vmax = _value_limits(self.values(neuron), *targets)

    def values(self, neuron: Neuron) -> np.ndarray:
        """The prediction at each grid point (NaN where it cannot be drawn)."""
        return _predict(neuron, self.grid).reshape(self.g0.shape)

    def levels(self, field=None) -> np.ndarray:
        from matplotlib.ticker import MaxNLocator

        return MaxNLocator(12).tick_values(self.vmin, self.vmax)

    def norm(self, extend: str = "neither"):
        """The colour scale: :data:`TARGET_CMAP` cut at :meth:`levels`."""
        from matplotlib import colormaps
        from matplotlib.colors import BoundaryNorm

        return BoundaryNorm(self.levels(), colormaps[TARGET_CMAP].N, extend=extend)

    def draw(self, ax, neuron: Neuron, alpha: float = FIELD_ALPHA):
        """Shade the prediction in bands, one per level; return the shading."""
        return ax.contourf(self.g0, self.g1, self.values(neuron), levels=self.levels(),
                           cmap=TARGET_CMAP, norm=self.norm(), alpha=alpha)


def plot_fit(neuron: Neuron, X, y, ax=None, *, X_test=None, y_test=None, features=None,
             resolution: int = 200, title: str | None = None, feature_names=None,
             target_name: str | None = None, lang: str = "en", colorbar: bool = True,
             max_points: int | None = MAX_POINTS, **style):
    """A regression's fit: the neuron's prediction over the data.

    Parameters
    ----------
    neuron : Neuron
        A regression (``task="regress"``): its ``predict`` is drawn, in the
        target's units.
    X, y : array-like
        The training points (circles) and their targets.
    X_test, y_test : array-like, default=None
        The test points (diamonds with a dark edge), if given.
    features : pair of int, default=None
        With two or more features, the two on the axes: by default the two
        with the largest absolute weights, every other feature held at its
        mean over ``X`` (the title says so).
    resolution : int, default=200
        Grid points per axis.
    target_name : str, default=None
        The target's name, for the labels.
    colorbar : bool, default=True
    max_points : int or None, default=5000

    With one feature, the points ``(x, y)`` and the fitted line (its
    equation in the legend for a linear unit). With more, the prediction as
    a colour field over the plane of the two features, in bands, and the
    points coloured by their target on the same scale: a point whose colour
    matches the field under it is well predicted.
    """
    ax = _axes(ax)
    t = messages(lang)
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64).ravel()
    has_test = X_test is not None and y_test is not None and len(X_test) > 0
    Xt = np.asarray(X_test, dtype=np.float64) if has_test else None
    yt = np.asarray(y_test, dtype=np.float64).ravel() if has_test else None
    names = _names(feature_names if feature_names is not None else neuron.feature_names,
                   neuron.n_features)
    label = _target_label(t, target_name)
    head = t("fig.fit") if title is None else title
    if neuron.n_features == 1:
        lo, hi = _box(X, Xt, pair=(0, 0))
        grid = np.linspace(lo[0], hi[0], 400)[:, None]
        _scatter_points_1d(ax, X, y, Xt, yt, max_points, **style)
        equation = fit_equation(neuron, names)
        prediction = _predict(neuron, grid)
        line, = ax.plot(grid[:, 0], prediction, color=FIT_COLOR, lw=2.4, zorder=4, gid="fit",
                        label=t("fig.fit_line") + (f": {equation}" if equation else ""))
        handles = [*_point_handles(t, has_test, color=POINT_COLORS["test"]), line]
        handles[0].set_markerfacecolor(POINT_COLORS["train"])
        ax.legend(handles=handles, loc="best", fontsize="small", framealpha=0.85)
        ax.set_xlim(lo[0], hi[0])
        blank = np.isnan(prediction).any()
        ax.set_title(f"{head}\n{t('fig.fit_left_out')}" if blank else head)
        ax.set_xlabel(names[0])
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        return ax
    pair = boundary_features(neuron, features)
    field = FitField(neuron, pair, X.mean(axis=0), *_box(X, Xt, pair=pair),
                     resolution=resolution, y=(y, yt))
    field.draw(ax, neuron)
    norm = dict(cmap=TARGET_CMAP, norm=field.norm())
    if colorbar:  # in the points' full colours; the field under them is a lighter shade
        from matplotlib.cm import ScalarMappable

        ax.figure.colorbar(ScalarMappable(**norm), ax=ax,
                           label=t("fig.prediction_and_target", target=label))
    keep = _sample(len(X), max_points)
    kw = dict(norm, s=22, marker="o", edgecolors="white", linewidths=0.7, zorder=3, gid="train")
    kw.update(style)
    ax.scatter(X[keep, pair[0]], X[keep, pair[1]], c=y[keep], **kw)
    if has_test:
        keep = _sample(len(Xt), max_points)
        ax.scatter(Xt[keep, pair[0]], Xt[keep, pair[1]], c=yt[keep],
                   **dict(kw, s=28, marker="D", edgecolors=NEUTRAL, gid="test"))
    ax.legend(handles=_point_handles(t, has_test), loc="upper right", fontsize="small",
              framealpha=0.85)
    notes = [_held_note(t, names, [k for k in range(neuron.n_features) if k not in pair])]
    if np.isnan(field.values(neuron)).any():
        notes.append(t("fig.fit_left_out"))
    ax.set_title("\n".join([head, *filter(None, notes)]))
    ax.set_xlabel(names[pair[0]])
    ax.set_ylabel(names[pair[1]])
    return ax


def _format_r2(r2: float) -> str:
    return f"{r2:.3f}" if abs(r2) < 1000 else f"{r2:.3g}"


def plot_predicted_vs_actual(y_true, y_pred, ax=None, *, y_train=None, pred_train=None,
                             target_name: str | None = None, lang: str = "en",
                             max_points: int | None = MAX_POINTS, **style):
    """Each test row's prediction against its target, and the diagonal ``y = x``.

    Points on the diagonal are predicted exactly. ``y_train, pred_train``, if
    given, are drawn lighter underneath. The legend gives the test set's R²
    (scikit-learn's, over the rows drawn). Predictions too large to draw are
    left out, and the title counts them.
    """
    from .metrics import regression_scores

    ax = _axes(ax)
    t = messages(lang)
    y_true, y_pred, left_out = _drawn_pairs(y_true, y_pred)
    has_train = y_train is not None and pred_train is not None and len(y_train) > 0
    if has_train:
        y_train, pred_train, _ = _drawn_pairs(y_train, pred_train)
        keep = _sample(len(y_train), max_points)
        ax.scatter(y_train[keep], pred_train[keep], s=14, marker="o",
                   color=POINT_COLORS["train"], edgecolors="none", alpha=0.6, zorder=2,
                   gid="train", label=t("fig.train"))
    keep = _sample(len(y_true), max_points)
    label = t("fig.test")
    if len(y_true):
        label = t("fig.test_r2", r2=_format_r2(regression_scores(y_true, y_pred)["r2"]))
    kw = dict(s=26, marker="D", color=POINT_COLORS["test"], edgecolors="white",
              linewidths=0.5, zorder=3, gid="test", label=label)
    kw.update(style)
    ax.scatter(y_true[keep], y_pred[keep], **kw)
    lo, hi = _padded(*_value_limits(y_true, y_pred,
                                    *((y_train, pred_train) if has_train else ())))
    ax.plot([lo, hi], [lo, hi], color=NEUTRAL, ls="--", lw=1.2, zorder=4, gid="diagonal",
            label=t("fig.diagonal"))
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal", adjustable="box")
    target = _target_value(t, target_name)
    ax.set_xlabel(t("fig.actual", target=target))
    ax.set_ylabel(t("fig.predicted", target=target))
    _readable_ticks(ax, "x", "y")
    _title(ax, t, t("fig.predicted_vs_actual"), left_out)
    ax.legend(loc="upper left", fontsize="small", framealpha=0.85)
    ax.grid(alpha=0.3)
    return ax


def plot_residuals(y_true, y_pred, ax=None, *, target_name: str | None = None,
                   lang: str = "en", max_points: int | None = MAX_POINTS, **style):
    """Each test row's residual (prediction − target) against its prediction.

    A good fit leaves a band of even width around the zero line; a trend or a
    funnel shows what the linear unit missed. Predictions too large to draw
    are left out, and the title counts them.
    """
    ax = _axes(ax)
    t = messages(lang)
    y_true, y_pred, left_out = _drawn_pairs(y_true, y_pred)
    residual = y_pred - y_true
    keep = _sample(len(residual), max_points)
    kw = dict(s=24, marker="D", color=POINT_COLORS["test"], edgecolors="white",
              linewidths=0.5, zorder=3, gid="residuals")
    kw.update(style)
    ax.scatter(y_pred[keep], residual[keep], **kw)
    ax.axhline(0.0, color=NEUTRAL, lw=1.2, ls="--", zorder=2, label=t("fig.zero_residual"))
    spread = float(np.max(np.abs(residual))) if residual.size else 1.0
    spread = 1.1 * spread if spread > 0 else 1.0
    ax.set_ylim(-spread, spread)  # zero in the middle
    ax.set_xlabel(t("fig.predicted", target=_target_value(t, target_name)))
    ax.set_ylabel(t("fig.residual"))
    _readable_ticks(ax, "x", "y")
    _title(ax, t, t("fig.residuals"), left_out)
    ax.legend(loc="upper right", fontsize="small", framealpha=0.85)
    ax.grid(alpha=0.3)
    return ax


def plot_residual_distribution(y_true, y_pred, ax=None, *, bins="auto", lang: str = "en",
                               **style):
    """A histogram of the test residuals, their mean and standard deviation noted.

    A normal density of the same mean and standard deviation, scaled to the
    counts, is drawn over it for comparison. Predictions too large to draw
    are left out, and the title counts them.
    """
    ax = _axes(ax)
    t = messages(lang)
    y_true, y_pred, left_out = _drawn_pairs(y_true, y_pred)
    residual = y_pred - y_true
    mean = float(residual.mean()) if residual.size else 0.0
    std = float(residual.std()) if residual.size else 0.0
    edges = np.histogram_bin_edges(residual, bins=bins)
    if len(edges) > 61:  # at most 60 bars
        edges = np.linspace(edges[0], edges[-1], 61)
    kw = dict(color=POINT_COLORS["test"], alpha=0.75, edgecolor="white", linewidth=0.6)
    kw.update(style)
    _, edges, _ = ax.hist(residual, bins=edges, gid="histogram", **kw)
    if std > 0:
        grid = np.linspace(edges[0], edges[-1], 200)
        width = edges[1] - edges[0]
        density = np.exp(-0.5 * ((grid - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))
        ax.plot(grid, density * len(residual) * width, color=FIT_COLOR, lw=1.6,
                label=t("fig.normal_density"))
    ax.axvline(0.0, color=NEUTRAL, lw=1.2, ls="--", label=t("fig.zero_residual"))
    ax.axvline(mean, color=FIT_COLOR, lw=1.2, ls=":", gid="mean")
    ax.text(0.02, 0.97, t("fig.mean_std", mean=mean, std=std, n=len(residual)),
            transform=ax.transAxes, ha="left", va="top", fontsize="small",
            bbox=dict(boxstyle="round", facecolor="white", edgecolor="#cccccc", alpha=0.9))
    ax.set_xlabel(t("fig.residual"))
    ax.set_ylabel(t("fig.count"))
    _readable_ticks(ax, "x")
    _title(ax, t, t("fig.residual_distribution"), left_out)
    ax.legend(loc="upper right", fontsize="small", framealpha=0.85)
    ax.grid(alpha=0.3, axis="y")
    return ax
