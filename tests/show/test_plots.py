import numpy as np
import pytest
from PIL import Image

from neurona import Neuron, train
from neurona.show.plots import (figure_size, plot_decision_boundary, plot_loss, plot_points, save_run_figures)


@pytest.fixture
def fitted():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-2, 1, size=(40, 2)), rng.normal(2, 1, size=(40, 2))]
    y = np.r_[np.zeros(40), np.ones(40)].astype(int)
    n = Neuron.random(2, 0)
    history = train(n, X, y, epochs=20, learning_rate=0.05)
    return n, X, y, history


def test_figures_are_valid_non_blank_pngs(tmp_path, fitted):
    n, X, y, history = fitted
    paths = save_run_figures(tmp_path, n, X, y, X[:10], y[:10], n.predict(X[:10]), history)
    assert {p.name for p in paths} == {"data.png", "test_truth.png", "test_predictions.png",
                                       "loss.png", "decision_boundary.png",
                                       "learning_curves.png", "confusion_matrix.png",
                                       "roc_curve.png"}
    for path in paths:
        with Image.open(path) as im:
            assert im.format == "PNG" and im.size == figure_size(path.name, history)
            pixels = np.asarray(im.convert("L"))
        assert pixels.std() > 5, f"{path.name} looks blank"


def test_plot_functions_take_and_return_axes(fitted):
    from matplotlib.figure import Figure

    n, X, y, history = fitted
    for draw in (lambda ax: plot_points(X, y, ax, marker="x"),
                 lambda ax: plot_loss(history, ax),
                 lambda ax: plot_decision_boundary(n, X, y, ax)):
        ax = Figure().subplots()
        assert draw(ax) is ax
        assert ax.has_data()


def test_plot_without_axes_uses_pyplot(fitted):
    import matplotlib.pyplot as plt

    n, X, y, history = fitted
    try:
        ax = plot_loss(history)
        assert ax is plt.gca()
        assert [line.get_label() for line in ax.get_lines()][0].startswith("summed squared error")
    finally:
        plt.close("all")


# --- the figures of issue "see it learn" ------------------------------------------------

import sys  # noqa: E402

from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import confusion_matrix, roc_curve  # noqa: E402

from neurona import History, NeuronaError  # noqa: E402
from neurona.show.plots import (CLASS_COLORS, animate_training, boundary_features, frame_epochs, learning_curve_panels, plot_confusion_matrix, plot_learning_curves, plot_metric, plot_roc_curve, plot_weight_trajectory)
from neurona.core.trajectory import WeightTrajectory  # noqa: E402


def _ax():
    return Figure().subplots()


def _png_pixels(path):
    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size, np.asarray(im.convert("RGB")).astype(int)


def _count_colour(pixels, hex_colour, tol=12):
    rgb = np.array(to_rgb(hex_colour)) * 255
    return int(np.sum(np.all(np.abs(pixels - rgb) <= tol, axis=-1)))


@pytest.fixture
def four_features():
    """Synthetic data of four features where only x1 and x3 matter."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 4)) + [10.0, 0.0, -3.0, 0.0]
    y = (2.0 * X[:, 1] - 3.0 * X[:, 3] > 0).astype(int)
    neuron = Neuron([0.05, 2.0, -0.1, -3.0], 0.0, feature_names=["a", "b", "c", "d"])
    return neuron, X, y


def test_run_figures_with_a_trajectory_have_their_sizes_and_the_class_colours(tmp_path,
                                                                              fitted):
    n0, X, y, _ = fitted
    neuron = Neuron.random(2, 0)
    path = WeightTrajectory(neuron)
    history = train(neuron, X[::2], y[::2], epochs=15, learning_rate=0.05, callbacks=[path])
    paths = save_run_figures(tmp_path, neuron, X, y, X[1::2], y[1::2], neuron.predict(X[1::2]),
                             history, X_train=X[::2], y_train=y[::2], trajectory=path)
    assert "weights.png" in {p.name for p in paths}
    for p in paths:
        size, pixels = _png_pixels(p)
        assert size == figure_size(p.name, history)
        assert pixels.std() > 5, f"{p.name} looks blank"
    _, data = _png_pixels(tmp_path / "data.png")
    # Both classes drawn in their own colour, in about their proportions (40/40).
    blue, red = (_count_colour(data, c) for c in CLASS_COLORS)
    assert blue > 500 and red > 500 and 0.5 < blue / red < 2


def test_boundary_over_more_than_two_features_uses_the_largest_weights(four_features):
    neuron, X, y = four_features
    assert boundary_features(neuron) == (1, 3)
    ax = plot_decision_boundary(neuron, X, y, _ax())
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("b", "d")
    assert "a, c held at their mean" in ax.get_title()
    ax = plot_decision_boundary(neuron, X, y, _ax(), features=(0, 2), lang="es")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("a", "c")
    assert "b, d fijadas en su media" in ax.get_title()
    with pytest.raises(NeuronaError, match="two different column indices in 0..3"):
        plot_decision_boundary(neuron, X, y, _ax(), features=(1, 1))


def test_boundary_holds_the_other_features_at_their_mean(four_features):
    neuron, X, y = four_features
    ax = plot_decision_boundary(neuron, X, y, _ax(), resolution=50)
    # The shaded field is the neuron's output with x0, x2 at their means: check one corner.
    shade = next(c for c in ax.collections if hasattr(c, "levels") and len(c.levels) > 2)
    x0, x1 = ax.get_xlim()[0], ax.get_ylim()[0]
    point = X.mean(axis=0)
    point[1], point[3] = x0, x1
    assert shade.levels[0] <= neuron.forward(point[None])[0] <= shade.levels[-1]
    many = Neuron(np.r_[[5.0, 4.0], np.full(6, 0.1)], 0.0)
    Xm = np.random.default_rng(0).normal(size=(50, 8))
    ax = plot_decision_boundary(many, Xm, (Xm[:, 0] > 0).astype(int), _ax())
    assert "the other 6 features held at their mean" in ax.get_title()


def test_boundary_circles_exactly_the_misclassified_points(fitted):
    n, X, y, _ = fitted
    n = Neuron(n.weights, n.bias + 3.0)  # shift the boundary so that some points are wrong
    Xt, yt = X[::3], y[::3]
    wrong = int(np.sum(n.predict(X) != y) + np.sum(n.predict(Xt) != yt))
    assert wrong > 0
    ax = plot_decision_boundary(n, X, y, _ax(), X_test=Xt, y_test=yt)
    drawn = {c.get_gid(): c for c in ax.collections if c.get_gid()}
    expected = np.r_[X[n.predict(X) != y], Xt[n.predict(Xt) != yt]]
    np.testing.assert_array_equal(drawn["misclassified"].get_offsets(), expected)
    assert len(drawn["train"].get_offsets()) == len(X)
    assert len(drawn["test"].get_offsets()) == len(Xt)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"misclassified ({wrong})" in labels and "test" in labels


def test_boundary_of_one_feature_draws_the_output_curve():
    X = np.linspace(-3, 3, 40)[:, None]
    y = (X[:, 0] > 0).astype(int)
    neuron = Neuron([2.0], 0.0)
    ax = plot_decision_boundary(neuron, X, y, _ax())
    curve = ax.get_lines()[0]
    np.testing.assert_allclose(curve.get_ydata(), neuron.forward(curve.get_xdata()[:, None]))


def _rich_history(n=30):
    """A history with every column the training issue records, validation included."""
    e = np.arange(n)
    loss = 100 * np.exp(-e / 8) + 1
    return History([{"epoch": int(k), "loss": loss[k], "sse": loss[k] / 4,
                     "accuracy": 1 - 0.5 * np.exp(-k / 5), "val_loss": loss[k] * 1.1,
                     "val_sse": loss[k] / 3, "val_accuracy": 0.9 - 0.4 * np.exp(-k / 5),
                     "learning_rate": 0.1 * 0.95 ** k, "grad_norm": 50 * np.exp(-k / 6)}
                    for k in e])


def test_learning_curves_draw_every_recorded_column():
    history = _rich_history()
    panels = learning_curve_panels(history)
    assert panels == [("loss", ["loss", "val_loss"]), ("sse", ["sse", "val_sse"]),
                      ("accuracy", ["accuracy", "val_accuracy"]),
                      ("learning_rate", ["learning_rate"]), ("grad_norm", ["grad_norm"])]
    axes = plot_learning_curves(history, Figure().subplots(2, 3))
    assert len(axes) == 5
    for ax, (metric, columns) in zip(axes, panels):
        lines = ax.get_lines()
        assert len(lines) == len(columns)
        for line, column in zip(lines, columns):
            np.testing.assert_array_equal(line.get_ydata(), history[column])
    assert axes[0].get_yscale() == "log" and axes[2].get_yscale() == "linear"
    assert [a.get_title() for a in axes[3:]] == ["learning rate", "gradient norm"]
    with pytest.raises(NeuronaError, match="5 metrics to draw .* but 2 axes"):
        plot_learning_curves(history, Figure().subplots(1, 2))
    with pytest.raises(NeuronaError, match="'nope' is not in the history"):
        plot_metric(history, "nope", _ax())


def test_learning_curves_figure_grows_with_the_columns(tmp_path, fitted):
    n, X, y, _ = fitted
    history = _rich_history()
    save_run_figures(tmp_path, n, X, y, X, y, n.predict(X), history)
    size, pixels = _png_pixels(tmp_path / "learning_curves.png")
    assert size == figure_size("learning_curves.png", history) == (1260, 680)
    assert pixels.std() > 5


def test_weight_trajectory_draws_each_weight_and_the_bias(fitted):
    _, X, y, _ = fitted
    neuron = Neuron.random(2, 4, feature_names=["u", "v"])
    path = WeightTrajectory(neuron)
    train(neuron, X, y, epochs=10, learning_rate=0.05, callbacks=[path])
    ax = plot_weight_trajectory(path, _ax())
    lines = ax.get_lines()[:3]
    assert [l.get_label() for l in lines] == ["w[u]", "w[v]", "bias b"]
    np.testing.assert_array_equal(lines[0].get_ydata(), path.weights[:, 0])
    np.testing.assert_array_equal(lines[2].get_ydata(), path.bias)
    np.testing.assert_array_equal(lines[0].get_xdata(), np.arange(11))


def test_confusion_matrix_shows_scikit_learns_counts():
    y_true = np.array([0, 0, 0, 1, 1, 1, 1, 0, 1])
    y_pred = np.array([0, 1, 0, 1, 1, 0, 1, 0, 1])
    ax = plot_confusion_matrix(y_true, y_pred, _ax())
    shown = [int(t.get_text()) for t in ax.texts]
    assert shown == confusion_matrix(y_true, y_pred).ravel().tolist()


def test_roc_curve_follows_scikit_learn_and_handles_one_class(recwarn):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 80)
    score = y * 0.5 + rng.random(80)
    ax = plot_roc_curve(y, score, _ax())
    fpr, tpr, _ = roc_curve(y, score)
    line = ax.get_lines()[1]
    np.testing.assert_array_equal(line.get_xdata(), fpr)
    np.testing.assert_array_equal(line.get_ydata(), tpr)
    assert line.get_label().startswith("neuron (AUC = 0.")
    ax = plot_roc_curve(np.zeros(5), np.linspace(0, 1, 5), _ax(), lang="es")
    assert "una sola clase" in ax.texts[0].get_text()
    assert len(recwarn) == 0


def test_figure_labels_follow_the_language(fitted):
    n, X, y, history = fitted
    assert plot_loss(history, _ax(), lang="es").get_title() == "Pérdida en entrenamiento"
    ax = plot_decision_boundary(n, X, y, _ax(), lang="es")
    assert ax.get_title() == "Frontera de decisión"
    assert "clase 1" in [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.mark.parametrize("n_epochs,max_frames", [(5, 48), (47, 48), (48, 48), (100, 48),
                                                 (100_000, 30), (7, 2)])
def test_frame_epochs_are_bounded_and_keep_both_ends(n_epochs, max_frames):
    frames = frame_epochs(n_epochs, max_frames)
    assert len(frames) == min(n_epochs + 1, max_frames)
    assert frames[0] == 0 and frames[-1] == n_epochs
    assert np.all(np.diff(frames) > 0)


def test_frame_epochs_refuses_fewer_than_two_frames():
    with pytest.raises(NeuronaError, match="max_frames must be at least 2"):
        frame_epochs(10, 1)


@pytest.fixture
def trained_path(fitted):
    _, X, y, _ = fitted
    neuron = Neuron.random(2, 0)
    path = WeightTrajectory(neuron)
    history = train(neuron, X, y, epochs=30, learning_rate=0.05, callbacks=[path])
    return neuron, path, history, X, y


@pytest.mark.animation
def test_animation_is_a_looping_gif_of_bounded_frames_that_move(tmp_path, trained_path):
    neuron, path, history, X, y = trained_path
    written = animate_training(neuron, path, history, X, y, tmp_path / "a.gif", max_frames=12,
                               mp4=False)
    assert written == [tmp_path / "a.gif"]
    with Image.open(tmp_path / "a.gif") as im:
        assert im.format == "GIF" and im.size == (768, 320)
        assert im.n_frames == 12 and im.info.get("loop") == 0
        frames = []
        for k in (0, im.n_frames - 1):
            im.seek(k)
            frames.append(np.asarray(im.convert("RGB")).astype(int))
    assert frames[0].std() > 5
    assert np.abs(frames[0] - frames[1]).mean() > 1, "the boundary did not move"


@pytest.mark.animation
def test_animation_of_a_neuron_with_four_features(tmp_path, four_features):
    neuron, X, y = four_features
    path = WeightTrajectory(neuron)
    history = train(neuron, X, y, epochs=5, learning_rate=0.01, callbacks=[path])
    animate_training(neuron, path, history, X, y, tmp_path / "a.gif", mp4=False)
    with Image.open(tmp_path / "a.gif") as im:
        assert im.n_frames == 6


@pytest.mark.animation
def test_animation_writes_an_mp4_when_imageio_ffmpeg_is_there(tmp_path, trained_path):
    pytest.importorskip("imageio_ffmpeg", reason="the test extra installs imageio-ffmpeg")
    neuron, path, history, X, y = trained_path
    written = animate_training(neuron, path, history, X, y, tmp_path / "a.gif", max_frames=6)
    assert written == [tmp_path / "a.gif", tmp_path / "a.mp4"]
    head = (tmp_path / "a.mp4").read_bytes()[:12]
    assert head[4:8] == b"ftyp"


@pytest.mark.animation
def test_animation_without_imageio_ffmpeg(tmp_path, trained_path, monkeypatch):
    neuron, path, history, X, y = trained_path
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if not installed
    written = animate_training(neuron, path, history, X, y, tmp_path / "a.gif", max_frames=4)
    assert written == [tmp_path / "a.gif"]
    with pytest.raises(NeuronaError, match=r"pip install 'neurona\[video\]'"):
        animate_training(neuron, path, history, X, y, tmp_path / "b.gif", max_frames=4,
                         mp4=True)


def test_animation_needs_a_trajectory(tmp_path, trained_path):
    neuron, _, history, X, y = trained_path
    with pytest.raises(NeuronaError, match="weights per epoch"):
        animate_training(neuron, WeightTrajectory(), history, X, y, tmp_path / "a.gif")
