"""Figures of a run. Every ``plot_*`` function takes ``ax=None`` and returns the axes.

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
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..core.callbacks import History
from ..errors import NeuronaError
from .i18n import messages
from ..core.neuron import Neuron

CLASS_COLORS = ("#2166ac", "#d6604d")  # class 0, class 1
NEUTRAL = "#333333"
METRIC_COLORS = {"sse": "#1b7837", "loss": "#5e3c99"}  # the loss curves
SPLIT_COLORS = ("#5e3c99", "#e66101")  # learning curves: training, validation
DPI = 100
FIGSIZE = (6.4, 4.8)  # inches: 640 x 480 pixels at DPI
PANEL_SIZE = (4.2, 3.4)  # one learning-curve panel
ANIMATION_SIZE = (9.6, 4.0)  # inches at ANIMATION_DPI: 768 x 320, a multiple of 16 for video
ANIMATION_DPI = 80
MAX_POINTS = 5000  # points drawn per scatter; more are sampled with a fixed seed
LOG_SCALED = ("loss", "sse", "grad_norm", "mae")
PREFERRED_PANELS = ("loss", "sse", "accuracy", "r2", "mae", "learning_rate", "grad_norm")
TARGET_CMAP = "viridis"  # a regression's target and prediction
POINT_COLORS = {"train": "#92c5de", "test": "#2166ac"}  # a regression's points
FIT_COLOR = "#e66101"  # a regression's fitted line
FIELD_ALPHA = 0.6  # a regression's prediction field, lighter than the points on it
DRAWABLE = 1e150  # a regression's figures leave out larger numbers (see _drawable)
TASKS = ("classify", "regress")


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


def class_legend_handles(t, classes=(0, 1)):
    """Legend proxies: one coloured dot per class."""
    from matplotlib.lines import Line2D

    return [Line2D([], [], ls="", marker="o", ms=7, mfc=CLASS_COLORS[k], mec="white",
                   label=t("fig.class", k=k)) for k in classes]


# --- the post's four ---------------------------------------------------------

def plot_points(X, labels, ax=None, *, title: str = "", feature_names=None,
                features=(0, 1), lang: str = "en", legend: bool = True,
                max_points: int | None = MAX_POINTS, **style):
    """Scatter two features of ``X`` coloured by the 0/1 ``labels`` (the post's plot)."""
    ax = _axes(ax)
    t = messages(lang)
    X, labels = np.asarray(X), np.asarray(labels).ravel()
    i, j = features
    names = _names(feature_names, X.shape[1])
    keep = _sample(len(X), max_points)
    classes, _ = _cmaps()
    kw = dict(c=labels[keep], cmap=classes, vmin=0, vmax=1, s=18, alpha=0.9)
    kw.update(style)
    ax.scatter(X[keep, i], X[keep, j], **kw)
    ax.set_title(title)
    ax.set_xlabel(names[i])
    ax.set_ylabel(names[j])
    if legend:
        ax.legend(handles=class_legend_handles(t), loc="best", fontsize="small")
    return ax


def plot_loss(history: History, ax=None, *, keys=("sse", "loss"), lang: str = "en",
              scaled_target: bool = False, **style):
    """The loss curve: the post's summed squared error and the objective, per epoch.

    ``scaled_target``: a regression trained on its standardised target, whose
    losses the title says are of that target."""
    ax = _axes(ax)
    t = messages(lang)
    epochs = _epochs(history)
    for key in keys:
        if key in history.keys:
            kw = dict(color=METRIC_COLORS.get(key), lw=1.8, label=t.metric(key))
            kw.update(style)
            ax.plot(epochs, history[key], **kw)
    ax.set_title(t("fig.loss_title") + (f"\n{t('fig.scaled_target')}" if scaled_target else ""))
    ax.set_xlabel(t("fig.epoch"))
    ax.set_ylabel(t("fig.loss"))
    ax.legend()
    return ax


#: The history's columns in the target's units (squared, for the losses), which a run on a
#: standardised target records in that target's units instead.
TARGET_UNIT_METRICS = ("loss", "sse", "mae")


def _epochs(history: History) -> np.ndarray:
    return history["epoch"] if "epoch" in history.keys else np.arange(len(history))


# --- the decision boundary ---------------------------------------------------

def boundary_features(neuron: Neuron, features=None) -> tuple[int, int]:
    """The two features a boundary is drawn over: ``features``, or the two largest |w|.

    Returned in increasing column order; raises ``NeuronaError`` for a bad pair.
    """
    d = neuron.n_features
    if features is None:
        if d < 2:
            raise NeuronaError("A decision boundary over two features needs two features.")
        order = np.argsort(-np.abs(neuron.weights), kind="stable")
        return tuple(sorted(int(k) for k in order[:2]))
    pair = tuple(int(k) for k in features)
    if len(pair) != 2 or pair[0] == pair[1] or not all(0 <= k < d for k in pair):
        raise NeuronaError(
            f"features must be two different column indices in 0..{d - 1}, got {features!r}.")
    return pair


def _held_note(t, names, held) -> str:
    if not held:
        return ""
    if len(held) <= 3:
        return t("fig.held_at_mean", names=", ".join(names[k] for k in held))
    return t("fig.others_held_at_mean", n=len(held))


class BoundaryField:
    """The neuron's output over a grid of two features, the others fixed at ``base``."""

    def __init__(self, neuron: Neuron, pair, base, lo, hi, resolution: int = 200):
        self.pair, self.base = pair, np.asarray(base, dtype=np.float64)
        i, j = pair
        self.g0, self.g1 = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                                       np.linspace(lo[1], hi[1], resolution))
        self.grid = np.tile(self.base, (self.g0.size, 1))
        self.grid[:, i] = self.g0.ravel()
        self.grid[:, j] = self.g1.ravel()
        self.bounded = neuron.activation.name in ("sigmoid", "step")

    def values(self, neuron: Neuron) -> np.ndarray:
        return neuron.forward(self.grid).reshape(self.g0.shape)

    def levels(self, field: np.ndarray) -> np.ndarray:
        if self.bounded:
            return np.linspace(0.0, 1.0, 11)
        lo, hi = float(field.min()), float(field.max())
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        return np.linspace(lo, hi, 11)

    def draw(self, ax, neuron: Neuron, alpha: float = 0.5):
        """Shade the field and draw the threshold contour; return the shading."""
        _, cmap = _cmaps()
        field = self.values(neuron)
        shade = ax.contourf(self.g0, self.g1, field, levels=self.levels(field), cmap=cmap,
                            alpha=alpha, extend="both" if not self.bounded else "neither")
        t = neuron.threshold
        if field.min() < t < field.max():
            ax.contour(self.g0, self.g1, field, levels=[t], colors="black", linewidths=1.8)
        return shade


def _box(*arrays, pair):
    X = np.vstack([a[:, list(pair)] for a in arrays if a is not None and len(a)])
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.05 * (hi - lo) + 1e-9
    return lo - pad, hi + pad


def _scatter_split(ax, X, y, pair, marker, size, edge, max_points, gid=None, **style):
    classes, _ = _cmaps()
    keep = _sample(len(X), max_points)
    kw = dict(c=y[keep], cmap=classes, vmin=0, vmax=1, s=size, marker=marker,
              edgecolors=edge, linewidths=0.7, zorder=3, gid=gid)
    kw.update(style)
    ax.scatter(X[keep, pair[0]], X[keep, pair[1]], **kw)


def plot_decision_boundary(neuron: Neuron, X, y, ax=None, *, X_test=None, y_test=None,
                           features=None, resolution: int = 200, title: str | None = None,
                           feature_names=None, lang: str = "en", colorbar: bool = True,
                           max_points: int | None = MAX_POINTS, **style):
    """The neuron's output as a shaded field, its threshold contour and the points.

    Parameters
    ----------
    neuron : Neuron
    X, y : array-like
        The training points (circles), coloured by their true class.
    X_test, y_test : array-like, default=None
        The test points (diamonds with a dark edge), if given.
    features : pair of int, default=None
        The two feature columns on the axes. By default the two with the
        largest absolute weights; every other feature is held at its mean
        over ``X``, and the title says so.
    resolution : int, default=200
        Grid points per axis.
    colorbar : bool, default=True
    max_points : int or None, default=5000
        At most this many points of each set are drawn (a seeded sample).

    Points the neuron misclassifies (with all their features) are circled in
    black. A neuron of one feature gets its output curve along that feature.
    """
    ax = _axes(ax)
    t = messages(lang)
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y).ravel()
    has_test = X_test is not None and y_test is not None
    Xt = np.asarray(X_test, dtype=np.float64) if has_test else None
    yt = np.asarray(y_test).ravel() if has_test else None
    names = _names(feature_names if feature_names is not None else neuron.feature_names,
                   neuron.n_features)
    if neuron.n_features == 1:
        return _plot_boundary_1d(neuron, X, y, Xt, yt, ax, t, names, title, **style)
    pair = boundary_features(neuron, features)
    field = BoundaryField(neuron, pair, X.mean(axis=0), *_box(X, Xt, pair=pair),
                          resolution=resolution)
    shade = field.draw(ax, neuron)
    value = "P" if neuron.activation.name == "sigmoid" else "a"
    if colorbar:
        label = t("fig.proba") if neuron.activation.name == "sigmoid" else t("fig.output")
        ax.figure.colorbar(shade, ax=ax, label=label)

    _scatter_split(ax, X, y, pair, "o", 20, "white", max_points, "train", **style)
    # Classes as 0/1 (predict returns a data file's own labels when the neuron has them).
    wrong = [X[(neuron.forward(X) > neuron.threshold) != y]]
    if has_test:
        _scatter_split(ax, Xt, yt, pair, "D", 26, NEUTRAL, max_points, "test", **style)
        wrong.append(Xt[(neuron.forward(Xt) > neuron.threshold) != yt])
    wrong = np.vstack(wrong)
    keep = _sample(len(wrong), max_points)
    ax.scatter(wrong[keep, pair[0]], wrong[keep, pair[1]], s=110, facecolors="none",
               edgecolors="black", linewidths=1.3, zorder=4, gid="misclassified")

    from matplotlib.lines import Line2D

    handles = class_legend_handles(t) + [
        Line2D([], [], ls="", marker="o", ms=6, mfc="#bbbbbb", mec="white",
               label=t("fig.train")),
    ]
    if has_test:
        handles.append(Line2D([], [], ls="", marker="D", ms=6, mfc="#bbbbbb", mec=NEUTRAL,
                              label=t("fig.test")))
    handles += [
        Line2D([], [], ls="", marker="o", ms=10, mfc="none", mec="black", mew=1.3,
               label=t("fig.misclassified", n=len(wrong))),
        Line2D([], [], color="black", lw=1.8,
               label=t("fig.threshold", value=value, t=neuron.threshold)),
    ]
    ax.legend(handles=handles, loc="best", fontsize="small", framealpha=0.85)
    held = [k for k in range(neuron.n_features) if k not in pair]
    head = t("fig.boundary") if title is None else title
    note = _held_note(t, names, held)
    ax.set_title(f"{head}\n{note}" if note else head)
    ax.set_xlabel(names[pair[0]])
    ax.set_ylabel(names[pair[1]])
    return ax


def _plot_boundary_1d(neuron, X, y, Xt, yt, ax, t, names, title, **style):
    lo, hi = _box(X, Xt, pair=(0, 0))
    grid = np.linspace(lo[0], hi[0], 400)[:, None]
    ax.plot(grid[:, 0], neuron.forward(grid), color=NEUTRAL, lw=2,
            label=t("fig.proba") if neuron.activation.name == "sigmoid" else t("fig.output"))
    ax.axhline(neuron.threshold, color="black", ls=":", lw=1,
               label=t("fig.threshold", value="P", t=neuron.threshold))
    classes, _ = _cmaps()
    kw = dict(cmap=classes, vmin=0, vmax=1, s=20, edgecolors="white", linewidths=0.6)
    kw.update(style)
    ax.scatter(X[:, 0], y, c=y, marker="o", **kw)
    if Xt is not None:
        ax.scatter(Xt[:, 0], yt, c=yt, **dict(kw, marker="D", edgecolors=NEUTRAL))
    ax.legend(loc="best", fontsize="small")
    ax.set_title(t("fig.boundary") if title is None else title)
    ax.set_xlabel(names[0])
    ax.set_ylabel(t("fig.output"))
    return ax


# --- a regression: its points, its fit and its residuals ---------------------

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


# --- learning curves and weights ---------------------------------------------

def learning_curve_panels(history: History) -> list[tuple[str, list[str]]]:
    """The panels :func:`plot_learning_curves` draws: ``(metric, [columns])`` pairs.

    Every numeric history column except ``epoch`` is drawn; ``val_<m>`` shares
    the panel of ``<m>``. Known metrics come first (objective, SSE, accuracy,
    learning rate, gradient norm), then the others in the history's order.
    """
    keys = [k for k in history.keys if k != "epoch"]
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


def plot_weight_trajectory(trajectory, ax=None, *, feature_names=None, lang: str = "en",
                           **style):
    """Each weight and the bias at the start of every epoch.

    ``trajectory`` is a :class:`neurona.trajectory.WeightTrajectory`.
    """
    ax = _axes(ax)
    t = messages(lang)
    names = _names(feature_names or trajectory.feature_names, trajectory.n_features)
    epochs, W = trajectory.epoch, trajectory.weights
    for k in range(W.shape[1]):
        kw = dict(lw=1.8, label=f"w[{names[k]}]" if k < 10 else None)
        kw.update(style)
        ax.plot(epochs, W[:, k], **kw)
    kw = dict(color=NEUTRAL, lw=1.8, ls="--", label=t("fig.bias"))
    kw.update(style)
    ax.plot(epochs, trajectory.bias, **kw)
    ax.axhline(0.0, color="#999999", lw=0.8, zorder=0)
    ax.set_title(t("fig.weights"))
    ax.set_xlabel(t("fig.epoch"))
    ax.set_ylabel(t("fig.weight_value"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    return ax


# --- the test set: confusion matrix and ROC ----------------------------------

def plot_confusion_matrix(y_true, y_pred, ax=None, *, lang: str = "en", labels=(0, 1),
                          cmap: str = "Blues", **style):
    """Counts of true (rows) against predicted (columns) classes, by scikit-learn."""
    from sklearn.metrics import confusion_matrix

    ax = _axes(ax)
    t = messages(lang)
    cm = confusion_matrix(np.asarray(y_true).ravel(), np.asarray(y_pred).ravel(),
                          labels=list(labels))
    kw = dict(cmap=cmap, vmin=0, vmax=max(1, cm.max()))
    kw.update(style)
    ax.imshow(cm, **kw)
    for (r, c), count in np.ndenumerate(cm):
        dark = count > 0.55 * kw["vmax"]
        ax.text(c, r, str(count), ha="center", va="center", fontsize=16,
                color="white" if dark else NEUTRAL)
    ticks = [t("fig.class", k=k) for k in labels]
    ax.set_xticks(range(len(labels)), ticks)
    ax.set_yticks(range(len(labels)), ticks)
    ax.set_xlabel(t("fig.predicted_label"))
    ax.set_ylabel(t("fig.true_label"))
    ax.set_title(t("fig.confusion"))
    return ax


def plot_roc_curve(y_true, y_score, ax=None, *, lang: str = "en", **style):
    """The ROC curve of ``y_score`` (the neuron's output) against ``y_true``, with its AUC.

    A test set holding one class has no ROC curve: the axes say so instead.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    ax = _axes(ax)
    t = messages(lang)
    y_true, y_score = np.asarray(y_true).ravel(), np.asarray(y_score).ravel()
    ax.plot([0, 1], [0, 1], ls=":", color="#888888", label=t("fig.chance"))
    if len(np.unique(y_true)) < 2:
        ax.text(0.5, 0.5, t("fig.roc_one_class"), ha="center", va="center",
                transform=ax.transAxes, fontsize=12, color=NEUTRAL)
    else:
        fpr, tpr, _ = roc_curve(y_true, y_score)
        auc = roc_auc_score(y_true, y_score)
        kw = dict(color=CLASS_COLORS[1], lw=2, label=t("fig.auc", auc=auc))
        kw.update(style)
        ax.plot(fpr, tpr, **kw)
        ax.fill_between(fpr, tpr, color=CLASS_COLORS[1], alpha=0.08)
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel(t("fig.fpr"))
    ax.set_ylabel(t("fig.tpr"))
    ax.set_title(t("fig.roc"))
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


# --- the figures of a run ----------------------------------------------------

def _new_figure(size=FIGSIZE, dpi=DPI):
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=dpi, layout="constrained")


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
                                            history, X_train, y_train, t, points)
    if not has_test:  # every row trained (test_size=0): no test figures
        for name in TEST_FIGURES:
            drawings.pop(name, None)
    if trajectory is not None and len(trajectory):
        drawings["weights.png"] = lambda ax: plot_weight_trajectory(
            trajectory, ax, feature_names=names, lang=lang)
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
            neuron, X_train, y_train, ax, X_test=X_test, y_test=y_test, **points),
        "learning_curves.png": None,
        "confusion_matrix.png": lambda ax: plot_confusion_matrix(y_test, test_pred, ax,
                                                                 lang=lang),
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


# --- the training animation --------------------------------------------------

def frame_epochs(n_epochs: int, max_frames: int = 48) -> np.ndarray:
    """The epochs the animation shows: all of ``0..n_epochs`` if they fit, else a sample.

    The sample is spaced geometrically, denser at the start where the
    boundary moves most, and always holds epoch 0 and ``n_epochs``.
    """
    if max_frames < 2:
        raise NeuronaError(f"max_frames must be at least 2, got {max_frames}.")
    if n_epochs + 1 <= max_frames:
        return np.arange(n_epochs + 1)
    def sample(asked: int) -> np.ndarray:
        return np.unique(np.round(np.geomspace(1, n_epochs + 1, asked)).astype(int) - 1)

    # Rounding merges the dense early samples: ask for more (by bisection) until
    # as many frames as allowed remain.
    lo, hi = max_frames, 64 * (n_epochs + 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if len(sample(mid)) <= max_frames else (lo, mid)
    return sample(lo)


def _boundary_panel(ax, neuron, X, y, features, names, t):
    """The animation's left panel for a classification: the boundary over the points.

    Returns the moving artists and ``draw(snapshot)``, which draws them for the
    neuron ``snapshot``: the output field and its threshold contour (or the
    output curve for one feature).
    """
    from matplotlib.colors import BoundaryNorm

    ax.set_title(t("fig.boundary"))
    if neuron.n_features == 1:
        _plot_boundary_1d(neuron, X, y, None, None, ax, t, names, None)
        curve = ax.get_lines()[0]
        grid = curve.get_xdata()[:, None]

        def draw_curve(snapshot):
            curve.set_ydata(snapshot.forward(grid))
            ax.draw_artist(curve)
        return [curve], draw_curve

    pair = boundary_features(neuron, features)
    lo, hi = _box(X, pair=pair)
    field = BoundaryField(neuron, pair, X.mean(axis=0), lo, hi, resolution=120)
    _, cmap = _cmaps()
    levels = field.levels(field.values(neuron))
    image = ax.imshow(field.values(neuron), extent=(lo[0], hi[0], lo[1], hi[1]),
                      origin="lower", aspect="auto", interpolation="nearest",
                      cmap=cmap, norm=BoundaryNorm(levels, cmap.N), alpha=0.5)
    _scatter_split(ax, X, y, pair, "o", 16, "white", 2000)
    legend = ax.legend(handles=class_legend_handles(t), loc="upper right", fontsize="small")
    on_top = [*ax.collections, legend]
    ax.set_xlabel(names[pair[0]])
    ax.set_ylabel(names[pair[1]])

    def draw_field(snapshot):
        values = field.values(snapshot)
        image.set_data(values)
        ax.draw_artist(image)
        for artist in on_top:
            ax.draw_artist(artist)
        if values.min() < snapshot.threshold < values.max():
            contour = ax.contour(field.g0, field.g1, values, levels=[snapshot.threshold],
                                 colors="black", linewidths=1.8)
            ax.draw_artist(contour)
            contour.remove()
    return [image], draw_field


def _fit_panel(ax, neuron, X, y, features, names, t, target_name):
    """The animation's left panel for a regression: the fit over the points.

    With one feature the fitted line moves over the points ``(x, y)``; with
    more, the prediction field moves under the points coloured by their
    target (the scale fixed by the last epoch's field and the targets).
    Returns the moving artists and ``draw(snapshot)``, as
    :func:`_boundary_panel` does.
    """
    ax.set_title(t("fig.fit"))
    label = _target_label(t, target_name)
    if neuron.n_features == 1:
        lo, hi = _box(X, pair=(0, 0))
        grid = np.linspace(lo[0], hi[0], 200)[:, None]
        _scatter_points_1d(ax, X, y, None, None, 2000, color=POINT_COLORS["test"], s=14)
        line, = ax.plot(grid[:, 0], _predict(neuron, grid), color=FIT_COLOR, lw=2.4,
                        label=t("fig.fit_line"))
        ax.legend(handles=[*_point_handles(t, False, color=POINT_COLORS["test"]), line],
                  loc="upper left", fontsize="small")
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(*_padded(*_value_limits(y)))  # still while the line moves
        ax.set_xlabel(names[0])
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)

        def draw_line(snapshot):
            line.set_ydata(_predict(snapshot, grid))
            ax.draw_artist(line)
        return [line], draw_line

    pair = boundary_features(neuron, features)
    lo, hi = _box(X, pair=pair)
    field = FitField(neuron, pair, X.mean(axis=0), lo, hi, resolution=120, y=y)
    image = ax.imshow(field.values(neuron), extent=(lo[0], hi[0], lo[1], hi[1]),
                      origin="lower", aspect="auto", interpolation="nearest",
                      cmap=TARGET_CMAP, norm=field.norm("both"), alpha=FIELD_ALPHA)
    keep = _sample(len(X), 2000)
    ax.scatter(X[keep, pair[0]], X[keep, pair[1]], c=y[keep], cmap=TARGET_CMAP,
               norm=field.norm(), s=16, edgecolors="white", linewidths=0.6, zorder=3)
    from matplotlib.cm import ScalarMappable

    ax.figure.colorbar(ScalarMappable(cmap=TARGET_CMAP, norm=field.norm("both")), ax=ax,
                       label=label)
    on_top = list(ax.collections)
    ax.set_xlabel(names[pair[0]])
    ax.set_ylabel(names[pair[1]])

    def draw_field(snapshot):
        image.set_data(field.values(snapshot))
        ax.draw_artist(image)
        for artist in on_top:
            ax.draw_artist(artist)
    return [image], draw_field


def _render_frames(neuron, trajectory, history, X, y, *, frames, features, feature_names,
                   lang, target_name=None):
    """Draw one RGB image (uint8 array) per epoch in ``frames``.

    The still parts (points, axes, legends, the loss curves) are drawn once
    and copied under each frame; only the moving parts are drawn again
    (blitting), which keeps the animation to a few seconds.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    t = messages(lang)
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y).ravel()
    names = _names(feature_names or neuron.feature_names, neuron.n_features)
    fig = _new_figure(ANIMATION_SIZE, ANIMATION_DPI)
    canvas = FigureCanvasAgg(fig)
    ax_b, ax_l = fig.subplots(1, 2, width_ratios=(1.15, 1))
    snapshot = neuron.copy()
    n = int(trajectory.epoch[-1])

    # Left: the boundary of a classification, the fit of a regression.
    if neuron.task == "regress":
        moving_b, draw_left = _fit_panel(ax_b, neuron, X, y.astype(np.float64), features,
                                         names, t, target_name)
    else:
        moving_b, draw_left = _boundary_panel(ax_b, neuron, X, y, features, names, t)

    if neuron.task == "regress":  # room between the fit's colour bar and the loss axis
        fig.get_layout_engine().set(wspace=0.1)

    # Right: the loss curves. Moving: a dot on each curve and a vertical cursor.
    plot_loss(history, ax_l, lang=lang, scaled_target=neuron.target_scaler is not None)
    ax_l.legend(fontsize="small")  # the panel is narrow: a long label must fit in it
    epochs = _epochs(history)
    curves = list(ax_l.get_lines())
    _log_y(ax_l, "loss", np.concatenate([np.asarray(c.get_ydata(), dtype=float)
                                         for c in curves]))
    markers = [ax_l.plot([], [], "o", color=line.get_color(), ms=7)[0] for line in curves]
    cursor = ax_l.axvline(0, color="#888888", lw=1)
    title = fig.suptitle(t("fig.animation_title", epoch=n, n=n))
    moving = [*moving_b, *markers, cursor, title]
    for artist in moving:
        artist.set_animated(True)

    canvas.draw()  # lays the figure out once, without the moving parts
    fig.set_layout_engine("none")
    background = canvas.copy_from_bbox(fig.bbox)
    images = []
    for e in frames:
        snapshot.weights, snapshot.bias = trajectory.at(int(e))
        canvas.restore_region(background)
        draw_left(snapshot)
        row = min(int(np.searchsorted(epochs, e)), len(epochs) - 1)
        for marker, line in zip(markers, curves):
            marker.set_data([epochs[row]], [np.asarray(line.get_ydata(), dtype=float)[row]])
            ax_l.draw_artist(marker)
        cursor.set_xdata([epochs[row], epochs[row]])
        ax_l.draw_artist(cursor)
        title.set_text(t("fig.animation_title", epoch=int(e), n=n))
        fig.draw_artist(title)
        images.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    return images


def animate_training(neuron: Neuron, trajectory, history: History, X, y, path, *,
                     max_frames: int = 48, fps: int = 8, mp4: bool | None = None,
                     features=None, feature_names=None, target_name: str | None = None,
                     lang: str = "en") -> list[Path]:
    """Write the training animation: the boundary (or the fit) and the loss, epoch by epoch.

    A classification's boundary moves over its points; a regression's fitted
    line (one feature) or prediction field (two or more) moves over its points,
    coloured by their target.

    Parameters
    ----------
    neuron : Neuron
        The trained neuron (its task, activation, threshold and feature count).
    trajectory : WeightTrajectory
        The weights at each epoch boundary, recorded during training.
    history : History
    X, y : array-like
        The points drawn (the training set).
    path : path-like
        The GIF to write (``.gif``).
    target_name : str, default=None
        A regression's target, named in its labels.
    max_frames : int, default=48
        At most this many frames (see :func:`frame_epochs`), so the file stays small.
    fps : int, default=8
        Frames per second; the last frame is held for 1.5 seconds.
    mp4 : bool or None, default=None
        Also write an MP4 beside the GIF. None: when imageio-ffmpeg is
        installed; True: raise if it is not.

    Returns
    -------
    list of Path
        The GIF, then the MP4 if one was written.
    """
    from PIL import Image

    if trajectory is None or len(trajectory) == 0:
        raise NeuronaError("The animation needs the weights per epoch (a WeightTrajectory).")
    path = Path(path)
    frames = trajectory.epoch[frame_epochs(len(trajectory) - 1, max_frames)]
    images = _render_frames(neuron, trajectory, history, X, y, frames=frames,
                            features=features, feature_names=feature_names, lang=lang,
                            target_name=target_name)
    pictures = [Image.fromarray(im) for im in images]
    palette = _palette(images, regression=neuron.task == "regress")
    indexed = [p.quantize(palette=palette, dither=Image.Dither.NONE) for p in pictures]
    step_ms = round(1000 / fps)
    durations = [step_ms] * (len(indexed) - 1) + [1500]
    indexed[0].save(path, format="GIF", save_all=True, append_images=indexed[1:],
                    duration=durations, loop=0, optimize=True)
    written = [path]
    ffmpeg = _imageio_ffmpeg(required=mp4 is True) if mp4 is not False else None
    if ffmpeg is not None:
        video = path.with_suffix(".mp4")
        _write_mp4(ffmpeg, video, images, fps, hold=round(1.5 * fps))
        written.append(video)
    return written


def _palette(images, regression: bool):
    """The GIF's one palette: 64 colours of the last frame for a classification's two
    hues; a regression's colour scale needs more, from its first, middle and last frames
    (its field passes through colours the last frame lacks)."""
    from PIL import Image

    if not regression:
        return Image.fromarray(images[-1]).quantize(colors=64,
                                                    method=Image.Quantize.MEDIANCUT)
    picked = np.concatenate([images[0], images[len(images) // 2], images[-1]], axis=0)
    return Image.fromarray(picked).quantize(colors=192, method=Image.Quantize.MEDIANCUT)


def _imageio_ffmpeg(required: bool):
    try:
        import imageio_ffmpeg
    except ImportError:
        if required:
            raise NeuronaError("MP4 output needs imageio-ffmpeg: pip install "
                               "'neurona[video]' (or imageio-ffmpeg).") from None
        return None
    return imageio_ffmpeg


def _write_mp4(ffmpeg, path: Path, images, fps: int, hold: int) -> None:
    height, width = images[0].shape[:2]
    writer = ffmpeg.write_frames(str(path), (width, height), fps=fps, codec="libx264",
                                 pix_fmt_out="yuv420p", macro_block_size=16,
                                 output_params=["-loglevel", "error"])
    writer.send(None)
    try:
        for im in [*images, *[images[-1]] * hold]:
            writer.send(np.ascontiguousarray(im).tobytes())
    finally:
        writer.close()
