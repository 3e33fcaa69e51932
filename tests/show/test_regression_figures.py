"""A regression's figures, animation and report: what they draw is the neuron's prediction."""

import re
from html.parser import HTMLParser

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image
from sklearn.metrics import r2_score

from neurona import Neuron, NeuronaError, train
from neurona.core.trajectory import WeightTrajectory
from neurona.data import plane, scaling
from neurona.data.split import Split
from neurona.face.experiment import Run
from neurona.show.i18n import CATALOGUE
from neurona.show.metrics import REGRESSION_SCORES, regression_report, regression_scores
from neurona.show.plots import (FitField, animate_training, boundary_features, figure_size,
                                fit_equation, learning_curve_panels, plot_fit,
                                plot_predicted_vs_actual, plot_residual_distribution,
                                plot_residuals, save_run_figures)
from neurona.show.report_html import REGRESSION_FIGURES, render_run, report_page

REGRESSION_PNGS = {"data.png", "loss.png", "fit.png", "predicted_vs_actual.png",
                   "residuals.png", "residual_distribution.png", "learning_curves.png",
                   "weights.png"}
CLASSIFICATION_ONLY = {"test_truth.png", "test_predictions.png", "decision_boundary.png",
                       "confusion_matrix.png", "roc_curve.png"}


def regression_run(n_features: int, *, n_samples: int = 200, test_fraction: float = 0.3,
                   epochs: int = 30, validation: float | None = None) -> Run:
    """A regression Run as an experiment makes one: scaled features and target, raw units out.

    The neuron is trained on standardised features and targets, then given both
    scalers, so that it predicts from raw features in the target's units.
    """
    X, y = plane(n_samples, n_features, 0.5, 1)
    n_test = int(round(test_fraction * n_samples))
    X_train, X_test, y_train, y_test = X[n_test:], X[:n_test], y[n_test:], y[:n_test]
    features = scaling.fit("standard", X_train)
    target = scaling.Scaler("standard", [y_train.mean()], [y_train.std()])
    names = [f"x{k}" for k in range(n_features)]
    neuron = Neuron.random(n_features, 3, activation="identity", task="regress",
                           feature_names=names)
    initial = [*neuron.weights, neuron.bias]
    trajectory = WeightTrajectory(neuron)
    extra = {} if validation is None else {"validation_fraction": validation}
    history = train(neuron, features.transform(X_train),
                    (y_train - target.center[0]) / target.scale[0], task="regress",
                    loss="squared_error", reduction="mean", epochs=epochs, learning_rate=0.05,
                    random_state=0, callbacks=[trajectory], **extra)
    neuron.scaler, neuron.target_scaler = features, target
    test_pred = neuron.predict(X_test)
    scores = regression_scores(y_test, test_pred) if len(y_test) else None
    config = {"task": "regress", "dataset": {"name": "plane", "n_samples": n_samples,
                                             "n_features": n_features},
              "activation": "identity", "loss": "squared_error", "seed": 1}
    parts = Split(X_train, X_test, y_train, y_test, names)
    return Run(config, neuron, history, X, y, parts, test_pred,
               regression_report(scores) if scores else None, None, initial,
               trajectory=trajectory, test_scores=scores)


def _save(run: Run, directory, **kwargs):
    p = run.parts
    return save_run_figures(directory, run.neuron, run.X, run.y, p.X_test, p.y_test,
                            run.test_pred, run.history, p.feature_names, X_train=p.X_train,
                            y_train=p.y_train, trajectory=run.trajectory, **kwargs)


def _ax():
    return Figure().subplots()


def _by_gid(ax):
    return {c.get_gid(): c for c in [*ax.collections, *ax.get_lines()] if c.get_gid()}


@pytest.fixture(scope="module")
def runs():
    return {d: regression_run(d) for d in (1, 2, 3)}


# --- the figures ------------------------------------------------------------------------

@pytest.mark.parametrize("n_features", [1, 2, 3])
def test_a_regression_draws_its_figures_and_none_of_a_classifiers(tmp_path, runs, n_features):
    run = runs[n_features]
    paths = _save(run, tmp_path, task="regress")
    assert {p.name for p in paths} == REGRESSION_PNGS
    assert not CLASSIFICATION_ONLY & {p.name for p in tmp_path.iterdir()}
    for path in paths:
        with Image.open(path) as im:
            assert im.format == "PNG" and im.size == figure_size(path.name, run.history)
            assert np.asarray(im.convert("L")).std() > 5, f"{path.name} looks blank"
    # Without a task, the neuron's own: the same figures.
    again = _save(run, tmp_path / "again")
    assert [p.name for p in again] == [p.name for p in paths]


def test_a_regression_without_test_rows_leaves_out_the_test_figures(tmp_path):
    run = regression_run(2, test_fraction=0.0, epochs=5)
    assert len(run.parts.y_test) == 0 and run.test_scores is None
    names = {p.name for p in _save(run, tmp_path)}
    assert names == {"data.png", "loss.png", "fit.png", "learning_curves.png", "weights.png"}


def test_an_unknown_task_is_refused(tmp_path, runs):
    with pytest.raises(NeuronaError, match="task must be one of 'classify', 'regress'"):
        _save(runs[1], tmp_path, task="cluster")


def test_the_fitted_line_is_the_neurons_prediction(runs):
    run = runs[1]
    p = run.parts
    ax = plot_fit(run.neuron, p.X_train, p.y_train, _ax(), X_test=p.X_test, y_test=p.y_test)
    drawn = _by_gid(ax)
    x, line = drawn["fit"].get_xdata(), drawn["fit"].get_ydata()
    np.testing.assert_allclose(line, run.neuron.predict(x[:, None]), rtol=1e-12)
    assert x.min() <= p.X_train.min() and x.max() >= p.X_train.max()
    np.testing.assert_array_equal(drawn["train"].get_offsets(), np.c_[p.X_train, p.y_train])
    np.testing.assert_array_equal(drawn["test"].get_offsets(), np.c_[p.X_test, p.y_test])
    # The legend gives the line's equation in the raw units: slope and intercept.
    slope = run.neuron.predict([[1.0]])[0] - run.neuron.predict([[0.0]])[0]
    intercept = run.neuron.predict([[0.0]])[0]
    equation = fit_equation(run.neuron)
    assert f"{slope:.3g} · x0" in equation and f"{abs(intercept):.3g}" in equation
    assert abs(slope - 1.0) < 0.1  # plane's own slope, y = x0 + 0.5
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["train", "test", f"prediction: {equation}"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("x0", "target y",
                                                                  "The neuron's fit")


def test_the_fit_field_is_the_prediction_with_the_others_at_their_mean(runs):
    run = runs[3]
    p, neuron = run.parts, run.neuron
    pair = boundary_features(neuron)
    assert pair == (1, 2)  # plane's weights are 1, -2, 3: the two largest
    ax = plot_fit(neuron, p.X_train, p.y_train, _ax(), X_test=p.X_test, y_test=p.y_test,
                  resolution=40)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")
    assert "x0 held at their mean" in ax.get_title()
    drawn = _by_gid(ax)
    np.testing.assert_array_equal(drawn["train"].get_offsets(), p.X_train[:, pair])
    np.testing.assert_array_equal(drawn["train"].get_array(), p.y_train)
    np.testing.assert_array_equal(drawn["test"].get_array(), p.y_test)
    # The field: the neuron's prediction on a grid, x0 at its training mean.
    field = FitField(neuron, pair, p.X_train.mean(axis=0), [-3, -3], [3, 3], resolution=5,
                     y=p.y_train)
    point = p.X_train.mean(axis=0)
    point[1], point[2] = field.g0[0, 0], field.g1[0, 0]
    assert field.values(neuron)[0, 0] == pytest.approx(neuron.predict(point[None])[0])
    # One colour scale for the points and the field under them, spanning both.
    shade = next(c for c in ax.collections if hasattr(c, "levels"))
    norm = drawn["train"].norm
    assert shade.norm.boundaries.tolist() == norm.boundaries.tolist()
    assert norm.boundaries[0] <= min(p.y_train.min(), p.y_test.min())
    assert norm.boundaries[-1] >= max(p.y_train.max(), p.y_test.max())


def test_a_well_fitted_point_has_the_colour_of_the_field_under_it(runs):
    """Two features, nothing held: each point's target and its prediction fall in one band
    for most points (the noise is small beside the band width)."""
    run = runs[2]
    p, neuron = run.parts, run.neuron
    ax = plot_fit(neuron, p.X_train, p.y_train, _ax())
    norm = _by_gid(ax)["train"].norm
    same = norm(p.y_train) == norm(neuron.predict(p.X_train))
    assert same.mean() > 0.5


def test_predicted_against_actual_has_the_diagonal_and_the_test_r2(runs):
    run = runs[2]
    p = run.parts
    pred_train = run.neuron.predict(p.X_train)
    ax = plot_predicted_vs_actual(p.y_test, run.test_pred, _ax(), y_train=p.y_train,
                                  pred_train=pred_train)
    drawn = _by_gid(ax)
    np.testing.assert_array_equal(drawn["test"].get_offsets(), np.c_[p.y_test, run.test_pred])
    np.testing.assert_array_equal(drawn["train"].get_offsets(), np.c_[p.y_train, pred_train])
    diagonal = drawn["diagonal"]
    np.testing.assert_array_equal(diagonal.get_xdata(), diagonal.get_ydata())
    assert ax.get_xlim() == ax.get_ylim()
    r2 = r2_score(p.y_test, run.test_pred)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"test (R² = {r2:.3f})" in labels
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("actual target y", "predicted target y")


def test_residuals_are_the_prediction_minus_the_actual_value(runs):
    run = runs[2]
    p = run.parts
    ax = plot_residuals(p.y_test, run.test_pred, _ax(), target_name="price")
    offsets = _by_gid(ax)["residuals"].get_offsets()
    np.testing.assert_allclose(offsets, np.c_[run.test_pred, run.test_pred - p.y_test])
    low, high = ax.get_ylim()
    assert low == -high and high >= np.abs(run.test_pred - p.y_test).max()
    assert ax.get_xlabel() == "predicted price"


def test_residual_distribution_counts_every_row_and_notes_mean_and_std(runs):
    run = runs[1]
    p = run.parts
    residual = run.test_pred - p.y_test
    ax = plot_residual_distribution(p.y_test, run.test_pred, _ax())
    assert sum(bar.get_height() for bar in ax.patches) == len(residual)
    note = ax.texts[0].get_text()
    assert f"mean = {residual.mean():.3g}" in note and f"std = {residual.std():.3g}" in note
    assert f"{len(residual)} rows" in note


def test_a_diverged_regression_still_gets_its_figures(tmp_path, runs):
    run = regression_run(2, epochs=3)
    run.neuron.weights = np.array([1e308, -1e308])  # its predictions overflow
    run.neuron.target_scaler = None
    with np.errstate(over="ignore", invalid="ignore"):
        run.test_pred = run.neuron.predict(run.parts.X_test)
    assert not np.isfinite(run.test_pred).all()
    assert {p.name for p in _save(run, tmp_path)} == REGRESSION_PNGS
    ax = plot_residuals(run.parts.y_test, run.test_pred, _ax())
    assert f"{len(run.test_pred)} rows left out" in ax.get_title()
    ax = plot_fit(run.neuron, run.parts.X_train, run.parts.y_train, _ax(), resolution=20)
    assert "left blank where the prediction is too large to draw" in ax.get_title()


def test_learning_curves_of_a_regression_show_r2_and_mae_after_the_losses():
    run = regression_run(2, epochs=5, validation=0.2)
    panels = learning_curve_panels(run.history)
    assert [name for name, _ in panels] == ["loss", "sse", "r2", "mae", "learning_rate",
                                            "grad_norm"]
    assert dict(panels)["r2"] == ["r2", "val_r2"] and dict(panels)["mae"] == ["mae", "val_mae"]


def test_regression_figures_speak_spanish(runs):
    run = runs[1]
    p = run.parts
    ax = plot_fit(run.neuron, p.X_train, p.y_train, _ax(), lang="es")
    assert ax.get_title() == "El ajuste de la neurona" and ax.get_ylabel() == "objetivo y"
    ax = plot_predicted_vs_actual(p.y_test, run.test_pred, _ax(), lang="es")
    assert ax.get_xlabel() == "objetivo y real"
    assert ax.get_title() == "Predicción frente a valor real (conjunto de test)"
    ax = plot_residual_distribution(p.y_test, run.test_pred, _ax(), lang="es")
    assert "desv. típica" in ax.texts[0].get_text()


def test_every_regression_caption_is_in_both_languages():
    for lang in CATALOGUE:
        for _, caption in REGRESSION_FIGURES:
            assert caption in CATALOGUE[lang], (lang, caption)


# --- the animation ------------------------------------------------------------------------

def _frames(path):
    with Image.open(path) as im:
        n = im.n_frames
        frames = []
        for k in (0, n - 1):
            im.seek(k)
            frames.append(np.asarray(im.convert("RGB")).astype(int))
    return n, frames


@pytest.mark.animation
@pytest.mark.parametrize("n_features", [1, 2])
def test_the_regression_animation_moves_the_fit(tmp_path, runs, n_features):
    run = runs[n_features]
    written = animate_training(run.neuron, run.trajectory, run.history, run.parts.X_train,
                               run.parts.y_train, tmp_path / "a.gif", max_frames=10, mp4=False)
    assert written == [tmp_path / "a.gif"]
    n, (first, last) = _frames(tmp_path / "a.gif")
    assert n == 10 and first.std() > 5
    left = slice(0, first.shape[1] // 2)  # the fit's panel
    assert np.abs(first[:, left] - last[:, left]).mean() > 1, "the fit did not move"


def test_the_animated_line_is_the_snapshot_neurons_prediction(runs):
    """The left panel's line at each frame is the neuron with that epoch's weights."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from neurona.show.i18n import messages
    from neurona.show.animation import _fit_panel

    run = runs[1]
    ax = _ax()
    FigureCanvasAgg(ax.figure)
    neuron = run.neuron
    moving, draw = _fit_panel(ax, neuron, run.parts.X_train, run.parts.y_train, None, ["x0"],
                              messages("en"), None)
    ax.figure.canvas.draw()
    snapshot = neuron.copy()
    snapshot.weights, snapshot.bias = run.trajectory.at(0)
    draw(snapshot)
    line = moving[0]
    np.testing.assert_allclose(line.get_ydata(), snapshot.predict(line.get_xdata()[:, None]))
    # The panel's scale is the data's: it does not follow the line.
    low, high = ax.get_ylim()
    assert low < run.parts.y_train.min() and high > run.parts.y_train.max()
    assert high - low < 2 * np.ptp(run.parts.y_train)


# --- the report ---------------------------------------------------------------------------

class Page(HTMLParser):
    """A report page's tables (by id: rows of {text, value}), figure ids and captions."""

    def __init__(self, text):
        super().__init__()
        self.tables, self.figures, self.captions = {}, [], []
        self._table = self._row = self._cell = None
        self._caption = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"text": "", "value": attrs.get("data-value")}
            self._row.append(self._cell)
        elif tag == "figure":
            self.figures.append(attrs.get("id"))
        elif tag == "figcaption":
            self._caption = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th"):
            self._cell = None
        elif tag == "figcaption":
            self.captions.append(self._caption)
            self._caption = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data
        if self._caption is not None:
            self._caption += data


def _rows(table):
    return {row[0]["text"]: row[1] for row in table[1:]}


@pytest.fixture(scope="module")
def rendered(runs, tmp_path_factory):
    """A two-feature regression run drawn and reported, in English and in Spanish."""
    out = {}
    for lang in ("en", "es"):
        directory = tmp_path_factory.mktemp(f"regression_{lang}")
        run = runs[2]
        render_run(run, directory, config=run.config, lang=lang, animation=lang == "en")
        out[lang] = directory
    return out


SCORE_LABELS = {
    "en": {"r2": "R² (coefficient of determination)", "mae": "MAE (mean absolute error)",
           "rmse": "RMSE (root mean squared error)", "explained_variance": "explained variance"},
    "es": {"r2": "R² (coeficiente de determinación)", "mae": "MAE (error absoluto medio)",
           "rmse": "RMSE (raíz del error cuadrático medio)",
           "explained_variance": "varianza explicada"},
}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_report_of_a_regression_shows_its_test_scores(rendered, runs, lang):
    run = runs[2]
    page = Page((rendered[lang] / "report.html").read_text(encoding="utf-8"))
    assert "classification-report" not in page.tables
    scores = _rows(page.tables["regression-scores"])
    for key in REGRESSION_SCORES:
        cell = scores[SCORE_LABELS[lang][key]]
        assert cell["value"] == repr(run.test_scores[key])
        assert float(cell["text"]) == pytest.approx(run.test_scores[key], rel=1e-5)
    assert int(scores["test rows" if lang == "en" else "filas de test"]["value"]) == 60
    metrics = _rows(page.tables["metrics"])
    assert not any(re.search(r"accuracy|exactitud|ROC", label) for label in metrics)
    model = _rows(page.tables["model"])
    assert ("threshold" if lang == "en" else "umbral") not in model
    assert model["task" if lang == "en" else "tarea"]["text"] in ("regression", "regresión")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_report_of_a_regression_shows_its_figures_with_their_captions(rendered, lang):
    page = Page((rendered[lang] / "report.html").read_text(encoding="utf-8"))
    shown = [f for f in page.figures if f and f.startswith("fig-")]
    expected = [f"fig-{name[:-4]}" for name, _ in REGRESSION_FIGURES]
    assert shown == expected
    for _, key in REGRESSION_FIGURES:
        assert CATALOGUE[lang][key] in page.captions
    if lang == "en":
        assert "animation" in page.figures
        assert any(c.startswith("The neuron's fit and the loss") for c in page.captions)


def test_the_dataset_section_of_a_regression_has_no_classes(rendered, runs):
    run = runs[2]
    page = Page((rendered["en"] / "report.html").read_text(encoding="utf-8"))
    dataset = _rows(page.tables["dataset"])
    assert not any(label.startswith("class 0 / class 1") for label in dataset)
    stats = {row[0]["text"]: row for row in page.tables["features"][1:]}
    target = stats["target"]
    assert float(target[1]["value"]) == pytest.approx(run.parts.y_train.mean())
    assert float(target[3]["value"]) == run.parts.y_train.min()


def test_a_regression_without_test_rows_says_so_in_its_report(tmp_path):
    run = regression_run(2, test_fraction=0.0, epochs=5)
    (tmp_path / "figures").mkdir()
    page = report_page(run, run.config, tmp_path / "figures", name="r", lang="en")
    assert "No test rows" in page and "regression-scores" not in page
    assert "classification-report" not in page


def test_curves_of_a_standardised_target_say_so_and_r2_needs_no_note():
    from neurona.show.plots import plot_learning_curves, plot_loss

    run = regression_run(2)
    fig = Figure()
    axes = plot_learning_curves(run.history, fig.subplots(2, 3), scaled_target=True)
    titles = {a.get_title().split("\n")[0]: a.get_title() for a in axes}
    note = "(of the standardised target)"
    assert titles["mean absolute error"].endswith(note)
    assert titles["objective (training loss)"].endswith(note)
    assert note not in titles["R² (coefficient of determination)"]
    assert note not in plot_learning_curves(run.history, Figure().subplots(2, 3))[0].get_title()
    assert plot_loss(run.history, _ax(), scaled_target=True, lang="es").get_title().endswith(
        "(del objetivo estandarizado)")


def test_large_target_values_get_compact_tick_labels():
    y = np.linspace(50_000, 400_000, 40)
    ax = plot_predicted_vs_actual(y, y * 1.01, _ax(), target_name="price")
    labels = [ax.xaxis.get_major_formatter()(v) for v in (100_000, 250_000)]
    assert labels == ["100k", "250k"]
    assert ax.get_xlabel() == "actual price" and ax.get_ylabel() == "predicted price"
    small = plot_predicted_vs_actual(y / 1e5, y / 1e5, _ax())
    assert small.xaxis.get_major_formatter()(0.5) != "500m"  # small values stay plain


def test_the_reports_last_epoch_rows_of_a_standardised_target_say_so(tmp_path):
    run = regression_run(2)
    page = report_page(run, run.config, tmp_path, name="r")
    assert "last epoch: mae (of the standardised target)" in page
    assert "last epoch: r2 (of the standardised" not in page
    run.neuron.target_scaler = None
    assert "standardised target" not in report_page(run, run.config, tmp_path, name="r")
