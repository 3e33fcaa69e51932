"""The training animation: the boundary (or the fit) and the loss, epoch by epoch.

:func:`animate_training` writes a GIF (and an MP4 with imageio-ffmpeg) of
the frames :func:`frame_epochs` picks. Each frame redraws only what moves
over a background drawn once: the neuron's output on the left (a
classification's boundary, a regression's fit) and a marker on each loss
curve on the right.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.callbacks import History
from ..core.neuron import Neuron
from ..errors import NeuronaError
from .classification_figures import _plot_boundary_1d, _scatter_split, class_legend_handles
from .curves import _epochs, plot_loss
from .feature_plane import BoundaryField, _box, boundary_features
from .i18n import messages
from .regression_figures import (FitField, _padded, _point_handles, _predict,
                                 _scatter_points_1d, _target_label, _value_limits)
from .style import (FIELD_ALPHA, FIT_COLOR, POINT_COLORS, TARGET_CMAP, _cmaps, _names,
                    _new_figure, _sample)

ANIMATION_SIZE = (9.6, 4.0)  # inches at ANIMATION_DPI: 768 x 320, a multiple of 16 for video
ANIMATION_DPI = 80


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


def _legend_below(ax, handles=None, ncols: int = 2):
    """A panel's legend under its axes and their x label: it never hides what they draw."""
    kw = {} if handles is None else {"handles": handles}
    return ax.legend(**kw, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=ncols,
                     borderaxespad=0.0, fontsize="small", frameon=False)


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
        _legend_below(ax)
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
    legend = _legend_below(ax, class_legend_handles(t, labels=neuron.classes))
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
        _legend_below(ax, [*_point_handles(t, False, color=POINT_COLORS["test"]), line])
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
    # The curves on one (log) axis, named by the legend under the panel: the panel is
    # narrow, the long labels fit there, and cover no curve.
    plot_loss(history, ax_l, lang=lang, scaled_target=neuron.target_scaler is not None,
              legend=False, twin=False)
    epochs = _epochs(history)
    curves = list(ax_l.get_lines())
    _legend_below(ax_l, curves, ncols=1)
    markers = [ax_l.plot([], [], "o", color=line.get_color(), ms=7)[0] for line in curves]
    cursor = ax_l.axvline(0, color="#888888", lw=1)
    title = fig.suptitle(t("fig.animation_title", epoch=n, n=n))
    moving = [*moving_b, *markers, cursor, title]
    for artist in moving:
        artist.set_animated(True)

    # Laid out twice: the first pass sizes the axes around the legends under them, which
    # can change the tick labels the second pass makes room for.
    canvas.draw()
    canvas.draw()  # the layout kept for every frame, drawn without the moving parts
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
