"""The HTML report of a run, and the compact HTML a notebook shows for a neuron or a history.

``report.html`` is one self-contained file: its figures and animation are
embedded as base64 ``data:`` URIs, its style is inline, it has no script,
and a Content-Security-Policy forbids any request, so it reads the same
offline, attached to an e-mail or years later. The page is rendered from the
Jinja2 templates in ``templates/`` (``report.html.j2`` and the pieces of
``parts.html.j2``) with autoescaping: every value from a run is escaped once,
there, and only the pieces the templates themselves rendered pass as markup.

:func:`render_run` draws a run's figures and animation and writes the
report; both ``neurona train`` (through :func:`neurona.experiment.write_run`)
and ``neurona report`` (which rebuilds them from the files of a run
directory) use it. This module imports matplotlib only inside
:func:`render_run`, so the notebook representations stay light.
"""

from __future__ import annotations

import base64
import functools
import html
import numbers
import os
import shutil
import tempfile
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from markupsafe import Markup

from ..files import model as model_file, rundir
from .i18n import messages
from .metrics import REGRESSION_SCORES, own_labels
from .curves import TARGET_UNIT_METRICS, top_weights

HISTORY_ROWS = 1000  # longer histories are thinned in the report (history.csv has all)
#: A model of more features than MAX_WEIGHT_ROWS lists only its REPORT_TOP_WEIGHTS largest
#: weights (and those features' statistics), with a note giving the count.
MAX_WEIGHT_ROWS = 50
REPORT_TOP_WEIGHTS = 20
FEATURE_NAMES_SHOWN = 10  # the dataset table names this many features of a wide model

FIGURES = (  # a classification's (file in figures/, caption key), in the report's order
    ("data.png", "caption.data"),
    ("test_truth.png", "caption.test_truth"),
    ("test_predictions.png", "caption.test_predictions"),
    ("loss.png", "caption.loss"),
    ("decision_boundary.png", "caption.decision_boundary"),
    ("weights.png", "caption.weights"),
    ("learning_curves.png", "caption.learning_curves"),
    ("confusion_matrix.png", "caption.confusion_matrix"),
    ("roc_curve.png", "caption.roc_curve"),
)
REGRESSION_FIGURES = (  # a regression's, in the report's order
    ("data.png", "caption.data_regress"),
    ("fit.png", "caption.fit"),
    ("predicted_vs_actual.png", "caption.predicted_vs_actual"),
    ("residuals.png", "caption.residuals"),
    ("residual_distribution.png", "caption.residual_distribution"),
    ("loss.png", "caption.loss_regress"),
    ("weights.png", "caption.weights"),
    ("learning_curves.png", "caption.learning_curves"),
)
ANIMATION = "training.gif"


def task_of(result, config: dict) -> str:
    """The run's task: its neuron's, which says what its predictions are.

    ``config.json`` records the same task; a run without a neuron task (a
    stand-in) falls back on the configuration's, "classify" for older runs.
    """
    return getattr(result.neuron, "task", None) or config.get("task", "classify")


def target_name_of(config: dict) -> str | None:
    """The name of a data file's target column, if the configuration names one."""
    target = config.get("dataset", {}).get("target")
    return target if isinstance(target, str) and target else None

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #222; background: #fafafa; margin: 0; }
main { max-width: 1300px; margin: 0 auto; padding: 1.5em 2em 4em; background: #fff; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 2px solid #2166ac; }
p.meta { color: #555; margin-top: 0; }
nav ul { display: flex; flex-wrap: wrap; gap: 0.4em 1.6em; list-style: none; padding: 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.7em; text-align: left; }
th { background: #eef3f9; } td.num { text-align: right; }
.row { display: flex; flex-wrap: wrap; gap: 0 2.5em; align-items: flex-start; }
.row h3 { margin-bottom: 0; }
tbody tr:nth-child(even) { background: #f6f6f6; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr));
        gap: 1.2em; }
figure { margin: 0; } figure.wide { grid-column: 1 / -1; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
.scroll { max-height: 32em; overflow: auto; display: inline-block; }
.note { color: #8a5a00; }
"""


# --- small builders ----------------------------------------------------------

@functools.cache
def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("neurona.show", "templates"), autoescape=True,
                       undefined=StrictUndefined, keep_trailing_newline=True)


def _parts():
    """The macros of ``templates/parts.html.j2`` (each returns escaped markup)."""
    return _environment().get_template("parts.html.j2").module


def escape(value) -> str:
    """``value`` as HTML text (the notebook views' escaping; the pages escape in Jinja2)."""
    return html.escape(str(value), quote=True)


def format_number(value, fmt: str = ".6g") -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return format(float(value), fmt)
    if isinstance(value, (list, tuple)):
        return ", ".join(format_number(v, fmt) for v in value)
    return str(value)


def _cell(value, fmt: str = ".6g", tag: str = "td", scope: bool = False) -> dict:
    """A table cell for the templates; a number keeps its exact value in ``data-value``."""
    exact = None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        exact = repr(float(value)) if not isinstance(value, numbers.Integral) else str(value)
    return {"tag": tag, "scope": scope, "exact": exact, "text": format_number(value, fmt)}


def _row(row, fmt: str) -> list[dict]:
    """A body row: its first cell a row header when it is a label."""
    first, rest = row[0], row[1:]
    label = isinstance(first, str)
    return [_cell(first, fmt, "th" if label else "td", scope=label),
            *(_cell(v, fmt) for v in rest)]


def table(header, rows, *, id: str | None = None, fmt: str = ".6g") -> Markup:
    """An HTML table: ``header`` a list of labels, ``rows`` lists of cells (first is a label)."""
    return _parts().table(list(header), [_row(row, fmt) for row in rows], id)


def data_uri(path: str | os.PathLike, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(Path(path).read_bytes()).decode('ascii')}"


def _image(path: Path, mime: str, alt: str) -> dict:
    """An embedded image for the templates: its data URI, text and size."""
    from PIL import Image

    with Image.open(path) as im:
        width, height = im.size
    return {"src": data_uri(path, mime), "alt": alt, "width": width, "height": height}


def flatten(config: dict, prefix: str = "") -> list[tuple[str, object]]:
    """``config`` as (dotted key, value) pairs, nested dicts unrolled."""
    pairs = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            pairs.extend(flatten(value, f"{name}."))
        else:
            pairs.append((name, value))
    return pairs


# --- the sections of the report ------------------------------------------------

def classification_rows(y_true, y_pred, t, classes=None) -> list[list]:
    """The classification report (scikit-learn's numbers) as table rows.

    Drawn with two decimals, as in ``report.txt``; each cell keeps the exact
    value in its ``data-value`` attribute. ``y_true`` and ``y_pred`` are
    0/1; ``classes`` names them (the original labels of a data file). No
    rows without test samples.
    """
    from .metrics import label_names
    from .metrics import classification_report

    if len(y_true) == 0:
        return []
    rep = classification_report(y_true, y_pred, output_dict=True, labels=[0, 1],
                                target_names=label_names(classes), zero_division=0)
    rows = []
    for label, scores in rep.items():
        if label == "accuracy":
            total = rep["macro avg"]["support"]
            rows.append([t("report.accuracy_row"), "", "", float(scores), int(total)])
            continue
        name = {"macro avg": t("report.macro_avg"),
                "weighted avg": t("report.weighted_avg")}.get(label, label)
        rows.append([name, float(scores["precision"]), float(scores["recall"]),
                     float(scores["f1-score"]), int(scores["support"])])
    return rows


def numeric_columns(history) -> list[str]:
    return [k for k in history.keys if history[k].dtype.kind in "fiub"]


def history_rows(history, limit: int = HISTORY_ROWS) -> tuple[list[int], int]:
    """The row indices the report shows, and the step between them (1: every row)."""
    n = len(history)
    if n <= limit:
        return list(range(n)), 1
    step = -(-n // (limit - 1))
    shown = list(range(0, n, step))
    if shown[-1] != n - 1:
        shown.append(n - 1)
    return shown, step


HISTORY_FORMATS = {"loss": ".6f", "sse": ".6f", "accuracy": ".4f", "val_loss": ".6f",
                   "val_sse": ".6f", "val_accuracy": ".4f"}


def history_section(history, t) -> Markup:
    keys = history.keys
    shown, step = history_rows(history)
    rows = [[_cell(history.rows[i].get(k, ""), HISTORY_FORMATS.get(k, ".6g")) for k in keys]
            for i in shown]
    note = (t("report.history_all", n=len(history)) if step == 1 else
            t("report.history_thinned", shown=len(shown), n=len(history), step=step))
    return _parts().history(note, [t.column(k) for k in keys], rows)


def _stats_row(name: str, values) -> list:
    values = np.asarray(values, dtype=np.float64).ravel()
    if not values.size:
        return [name, "", "", "", ""]
    return [name, float(values.mean()), float(values.std()), float(values.min()),
            float(values.max())]


def shown_features(neuron) -> np.ndarray | None:
    """The features the report lists of a model wider than :data:`MAX_WEIGHT_ROWS`: those
    of the :data:`REPORT_TOP_WEIGHTS` largest final weights; None: every feature."""
    if neuron.n_features <= MAX_WEIGHT_ROWS:
        return None
    return top_weights(neuron.weights, REPORT_TOP_WEIGHTS)


def dataset_section(result, config: dict, t) -> Markup:
    """The dataset's settings and sizes, and each feature's statistics on the training set.

    A classification counts each class in both parts; a regression adds its
    target to the statistics instead.
    """
    parts = result.parts
    names = list(parts.feature_names)
    dataset = config.get("dataset", {})
    rows = [[f"dataset.{k}", v] for k, v in dataset.items()]
    rows += [
        [t("report.samples"), int(len(result.y))],
        [t("report.features"), f"{len(names)}: {', '.join(names)}"
         if len(names) <= MAX_WEIGHT_ROWS else t(
             "report.feature_names_more", names=", ".join(names[:FEATURE_NAMES_SHOWN]),
             n=len(names))],
        # A streamed run's parts are a sample; its sizes are the real counts.
        [t("report.train_samples"), int((result.sizes or {}).get("n_train", len(parts.y_train)))],
        [t("report.test_samples"), int((result.sizes or {}).get("n_test", len(parts.y_test)))],
    ]
    regression = task_of(result, config) == "regress"
    if not regression:
        for part, y in ((t("fig.train"), parts.y_train), (t("fig.test"), parts.y_test)):
            y = np.asarray(y).ravel()
            classes = own_labels(getattr(result, "classes", None))
            rows.append([t("report.class_counts", part=part) if classes is None else
                         t("report.class_counts_named", first=classes[0], second=classes[1],
                           part=part),
                         f"{int(np.sum(y == 0))} / {int(np.sum(y == 1))}"])
    X = np.asarray(parts.X_train, dtype=np.float64)
    shown = shown_features(result.neuron)
    shown = range(len(names)) if shown is None else shown
    stats = [_stats_row(names[k], X[:, k]) for k in shown]
    if regression:
        target = target_name_of(config)
        stats.append(_stats_row(t("report.target_named", name=target) if target
                                else t("report.target"), parts.y_train))
    features = table([t("report.feature"), t("report.mean"), t("report.std"), t("report.min"),
                      t("report.max")], stats, id="features", fmt=".4g")
    if len(shown) < len(names):
        features += _parts().note(t("report.top_features", k=len(shown), n=len(names)))
    return _side_by_side(
        (t("report.dataset"), table([t("report.setting"), t("report.value")], rows,
                                    id="dataset")),
        (t("report.feature_stats"), features))


def metrics_section(result, t, task: str = "classify") -> Markup:
    """The test accuracy and ROC AUC (a classification's), the last epoch's history values
    and the number of epochs."""
    from sklearn.metrics import roc_auc_score

    parts = result.parts
    rows = ([] if result.test_accuracy is None
            else [[t("report.test_accuracy"), float(result.test_accuracy)]])
    y_test = np.asarray(parts.y_test).ravel()
    if task == "classify" and len(np.unique(y_test)) == 2:
        rows.append([t("report.roc_auc"),
                     float(roc_auc_score(y_test, result.neuron.predict_proba(parts.X_test)))])
    last = result.history.rows[-1] if len(result.history) else {}
    scaled = getattr(result.neuron, "target_scaler", None) is not None
    for key in numeric_columns(result.history):
        if key != "epoch":
            name = t("report.final", name=t.column(key))
            if scaled and key.removeprefix("val_") in TARGET_UNIT_METRICS:
                name += f" {t('fig.scaled_target')}"
            rows.append([name, last.get(key, float("nan"))])
    rows.append([t("report.epochs_run"), int(len(result.history))])
    return table([t("report.metric"), t("report.value")], rows, id="metrics")


def regression_rows(scores: dict | None, t) -> list[list]:
    """A regression's test scores (``show.metrics.regression_scores``) as table rows."""
    if scores is None:
        return []
    labels = {"r2": t("report.score_r2"), "mae": t("report.score_mae"),
              "rmse": t("report.score_rmse"),
              "explained_variance": t("report.score_explained_variance")}
    return [[t("report.test_rows"), int(scores["n_samples"])],
            *([labels[k], float(scores[k])] for k in REGRESSION_SCORES)]


def scores_section(result, t) -> Markup:
    """A regression's scores on the test set, or a note that it has no test rows."""
    rows = regression_rows(getattr(result, "test_scores", None), t)
    if not rows:
        return _parts().note(t("report.no_test_rows"))
    return table([t("report.metric"), t("report.value")], rows, id="regression-scores")


def model_section(result, config: dict, t) -> Markup:
    neuron = result.neuron
    names = neuron.feature_names or [f"x{i}" for i in range(neuron.n_features)]
    initial = list(result.initial) or [None] * (neuron.n_features + 1)
    rows = [[t("report.weight", name=name), initial[k], float(neuron.weights[k])]
            for k, name in enumerate(names)]
    encoding = getattr(neuron, "encoding", None)
    top = shown_features(neuron)
    if top is not None:  # a wide model: its largest weights, largest first
        rows = [rows[k] for k in top]
    elif encoding is not None:  # a column's categories under a row naming the column
        for column in reversed(encoding.columns):
            if column.kind in ("category", "hash"):
                start = names.index(column.feature_names[0])
                rows.insert(start, [t(f"report.{column.kind}_column", name=column.name,
                                      n=column.width), None, None])
    rows.append([t("report.bias"), initial[-1], float(neuron.bias)])
    settings = [[t("report.activation"), neuron.activation.name],
                [t("report.loss_name"), config.get("loss", "")]]
    if task_of(result, config) == "regress":
        settings.append([t("report.task"), t("report.task_regress")])
        if neuron.target_scaler is not None:
            settings.append([t("report.target_scaling"), neuron.target_scaler.kind])
    else:
        settings.append([t("report.threshold"), neuron.threshold])
    if encoding is not None and not encoding.plain:
        settings += [[t("report.missing_rule"), encoding.missing],
                     [t("report.unknown_rule"), encoding.unknown]]
    weights = table([t("report.parameter"), t("report.initial"), t("report.final_value")],
                    rows, id="weights")
    if top is not None:
        weights += _parts().note(t("report.top_weights", k=len(top), n=neuron.n_features))
    return weights + table([t("report.setting"), t("report.value")], settings, id="model")


def figures_for(task: str) -> tuple[tuple[str, str], ...]:
    """The (figure file, caption key) pairs a report of ``task`` shows, in order."""
    return REGRESSION_FIGURES if task == "regress" else FIGURES


def figures_section(figures_dir: Path, t, task: str = "classify") -> Markup:
    parts = _parts()
    items = [parts.figure(_image(figures_dir / name, "image/png", t(caption)), t(caption),
                          f"fig-{Path(name).stem}", wide=name == "learning_curves.png")
             for name, caption in figures_for(task) if (figures_dir / name).exists()]
    return parts.grid(items)


def animation_section(figures_dir: Path, t, task: str = "classify") -> Markup:
    path = figures_dir / ANIMATION
    if not path.exists():
        return _parts().note(t("report.no_trajectory"))
    from PIL import Image

    with Image.open(path) as im:
        frames = im.n_frames
    caption = (t("report.animation_caption_regress", frames=frames) if task == "regress"
               else t("report.animation_caption", frames=frames))
    return _parts().figure(_image(path, "image/gif", caption), caption, "animation")


def _side_by_side(*blocks: tuple[str, Markup]) -> Markup:
    return _parts().side_by_side(list(blocks))


def report_page(result, config: dict, figures_dir: Path, *, name: str,
                lang: str = "en") -> str:
    """The whole HTML page of a run (figures read from ``figures_dir``)."""
    from .. import __version__

    t = messages(lang)
    task = task_of(result, config)
    if task == "regress":
        test_block = (t("report.regression_scores"), scores_section(result, t))
    else:
        test_block = (t("report.classification_report"), table(
            [t("report.class"), t("report.precision"), t("report.recall"), t("report.f1"),
             t("report.support")],
            classification_rows(result.parts.y_test, result.test_pred, t,
                                getattr(result, "classes", None)),
            id="classification-report", fmt=".2f"))
    sections = [
        ("summary", t("report.summary"), _side_by_side(
            (t("report.metrics"), metrics_section(result, t, task)),
            test_block,
            (t("report.model"), model_section(result, config, t)))),
        ("animation-section", t("report.animation"), animation_section(figures_dir, t, task)),
        ("figures", t("report.figures"), figures_section(figures_dir, t, task)),
        ("data", t("report.dataset"), dataset_section(result, config, t)),
        ("configuration", t("report.configuration"),
         table([t("report.setting"), t("report.value")], flatten(config), id="config")),
        ("history-section", t("report.history"), history_section(result.history, t)),
    ]
    subtitle = t("report.subtitle", name=name, created=config.get("created", ""),
                 version=config.get("versions", {}).get("neurona", __version__))
    policy = Markup("default-src 'none'; img-src data:; media-src data:; "
                    "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
    return _environment().get_template("report.html.j2").render(
        lang=t.lang, policy=policy, css=Markup(CSS), title=t("report.title"), name=name,
        subtitle=subtitle, offline=t("report.offline"), contents=t("report.contents"),
        sections=sections)


# --- drawing a run and rebuilding one -------------------------------------------

def render_run(result, directory, *, config: dict, name: str | None = None,
               lang: str = "en", animation: bool = True) -> list[Path]:
    """Draw ``result``'s figures into ``directory/figures`` and write ``directory/report.html``.

    Parameters
    ----------
    result : neurona.experiment.Run
    directory : path-like
        Where ``figures/`` and ``report.html`` go (created if needed).
    config : dict
        The run's recorded configuration (``config.json``'s content).
    name : str, default=None
        The run's name in the report (default: the directory's name).
    lang : {"en", "es"}, default="en"
    animation : bool, default=True
        Also write ``figures/training.gif`` (and ``.mp4`` with imageio-ffmpeg)
        when the run recorded its weights per epoch.

    Returns
    -------
    list of Path
        Every file written, ``report.html`` last.
    """
    from .animation import animate_training
    from .run_figures import save_run_figures

    directory = Path(directory)
    figures = directory / "figures"
    parts = result.parts
    trajectory = result.trajectory
    target = dict(target_name=target_name_of(config), lang=lang)
    written = save_run_figures(
        figures, result.neuron, result.X, result.y, parts.X_test, parts.y_test,
        result.test_pred, result.history, parts.feature_names, X_train=parts.X_train,
        y_train=parts.y_train, trajectory=trajectory, task=task_of(result, config),
        **target)
    if animation and trajectory is not None and len(trajectory):
        written += animate_training(result.neuron, trajectory, result.history, parts.X_train,
                                    parts.y_train, figures / ANIMATION,
                                    feature_names=parts.feature_names, **target)
    page = report_page(result, config, figures, name=name or directory.name, lang=lang)
    rundir.atomic_write_text(directory / "report.html", page)
    return [*written, directory / "report.html"]


def render_in_place(result, directory, *, config: dict, name: str | None = None,
                    lang: str = "en", animation: bool = True, drawing=None) -> Path:
    """:func:`render_run` into ``directory``, replacing its figures and report only at the end.

    Everything is drawn in a hidden staging folder inside ``directory``;
    ``figures/`` and ``report.html`` are swapped into place once all of them
    exist, so an error leaves ``directory`` as it was. ``drawing`` is a
    context manager entered only while they are drawn (the command's: a
    signal then interrupts the drawing, never the swap or the clean-up).
    """
    directory = Path(directory)
    staging = Path(tempfile.mkdtemp(prefix=".report.", suffix=".partial", dir=directory))
    try:
        with drawing if drawing is not None else nullcontext():
            render_run(result, staging, config=config, name=name or directory.resolve().name,
                       lang=lang, animation=animation)
        figures, kept = directory / "figures", staging / "figures.old"
        if figures.exists():
            os.rename(figures, kept)
        try:
            os.rename(staging / "figures", figures)
        except OSError:
            if kept.exists():
                os.rename(kept, figures)
            raise
        os.replace(staging / "report.html", directory / "report.html")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory / "report.html"
