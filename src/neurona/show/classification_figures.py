"""A classification's figures: its points by class, its decision boundary, and its test set.

:func:`plot_points` is the post's scatter of two features coloured by class;
:func:`plot_decision_boundary` shades the neuron's output over the plane of two
features with its threshold contour, the training and test points and the
misclassified ones circled; :func:`plot_confusion_matrix` and
:func:`plot_roc_curve` judge the test set. Each takes ``ax=None`` and returns
the axes.
"""

from __future__ import annotations

import numpy as np

from ..core.neuron import Neuron
from .feature_plane import BoundaryField, _box, _held_note, boundary_features
from .i18n import messages
from .style import CLASS_COLORS, MAX_POINTS, NEUTRAL, _axes, _cmaps, _names, _sample


def class_names(t, labels=None) -> list[str]:
    """How the figures name classes 0 and 1: the run's own labels (a data file's
    ``"fail"``/``"pass"``) when it has them, else "class 0" and "class 1"."""
    from .metrics import own_labels

    return own_labels(labels) or [t("fig.class", k=k) for k in (0, 1)]


def proba_label(t, labels=None) -> str:
    """The label of the sigmoid's output: the probability of class 1, by its name."""
    from .metrics import own_labels

    names = own_labels(labels)
    return t("fig.proba") if names is None else t("fig.proba_of", label=names[1])


def class_legend_handles(t, classes=(0, 1), labels=None):
    """Legend proxies: one coloured dot per class, named by :func:`class_names`."""
    from matplotlib.lines import Line2D

    names = class_names(t, labels)
    return [Line2D([], [], ls="", marker="o", ms=7, mfc=CLASS_COLORS[k], mec="white",
                   label=names[k]) for k in classes]


def plot_points(X, labels, ax=None, *, title: str = "", feature_names=None,
                features=(0, 1), lang: str = "en", legend: bool = True,
                max_points: int | None = MAX_POINTS, class_labels=None, **style):
    """Scatter two features of ``X`` coloured by the 0/1 ``labels`` (the post's plot);
    the legend names the classes by ``class_labels`` (e.g. ``["fail", "pass"]``) if given."""
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
        ax.legend(handles=class_legend_handles(t, labels=class_labels), loc="best",
                  fontsize="small")
    return ax


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
    black. A neuron of one feature gets its output curve along that feature. The
    legend names the classes by the neuron's own labels when it has them.
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
        label = (proba_label(t, neuron.classes) if neuron.activation.name == "sigmoid"
                 else t("fig.output"))
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

    handles = class_legend_handles(t, labels=neuron.classes) + [
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
            label=proba_label(t, neuron.classes) if neuron.activation.name == "sigmoid"
            else t("fig.output"))
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


def plot_confusion_matrix(y_true, y_pred, ax=None, *, lang: str = "en", labels=(0, 1),
                          cmap: str = "Blues", class_labels=None, **style):
    """Counts of true (rows) against predicted (columns) classes, by scikit-learn; the axes
    name the classes by ``class_labels`` (the run's own labels) if given."""
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
    names = class_names(t, class_labels)
    ticks = [names[k] for k in labels]
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
