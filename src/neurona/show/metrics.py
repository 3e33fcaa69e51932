"""Evaluating a trained neuron: a classifier's report, confusion matrix, ROC AUC and log
loss, or a regression's R², MAE, RMSE and explained variance.

The metrics are scikit-learn's (a regression's, for data too large to keep one
prediction per row, come from a pass's additive sums by the same formulas:
:func:`neurona.core.scores.regression_scores_from_sums`). The log loss is the mean of neurona's own
log loss, computed from the logit ``z`` (``log(1 + e^z) - y z``), so it is
exact even where the sigmoid saturates at 0 or 1; it is defined for the
sigmoid activation only.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from ..core.losses import log_loss as pointwise_log_loss
from ..core.scores import ERROR_SUMS, add_sums, error_sums, regression_scores_from_sums  # noqa: F401


def classification_report(y_true, y_pred, **kwargs) -> str:
    """scikit-learn's text classification report of ``y_pred`` against ``y_true``."""
    from sklearn.metrics import classification_report as sk_report

    return sk_report(y_true, y_pred, **kwargs)


def accuracy(y_true, y_pred) -> float:
    """The fraction of samples whose prediction equals the truth."""
    return float(np.mean(np.asarray(y_true).ravel() == np.asarray(y_pred).ravel()))


def label_names(classes) -> list[str]:
    """The text of each class label, as reports print it."""
    return [str(c) for c in (classes if classes is not None else (0, 1))]


def own_labels(classes) -> list[str] | None:
    """The text of a run's own class labels (``["fail", "pass"]``), or None when it has
    none or they are just 0 and 1: figures and reports then say "class 0" and "class 1"."""
    if classes is None:
        return None
    names = label_names(classes)
    return None if names == ["0", "1"] else names


def report_from_confusion(confusion: np.ndarray, classes=None, digits: int = 2) -> str:
    """scikit-learn's classification report from 2x2 counts ``confusion[true, predicted]``.

    For data too large to keep one prediction per row: the report is the one
    ``classification_report`` prints for the rows the counts describe.
    """
    from sklearn.metrics import classification_report

    t, p = np.divmod(np.arange(4), 2)
    text = classification_report(t, p, labels=[0, 1], target_names=label_names(classes),
                                  sample_weight=np.asarray(confusion).ravel(), digits=digits,
                                  zero_division=0)
    # With weights the support column is printed as a float ("53.0"): print the count.
    return re.sub(r"(\s+)(\d+)\.0$", lambda m: f"{m.group(2):>{len(m.group(0))}}", text,
                  flags=re.M)


def evaluate(y: np.ndarray, proba: np.ndarray, z: np.ndarray | None = None, *,
             threshold: float = 0.5, classes=None, activation: str = "sigmoid") -> dict:
    """Every metric of predictions ``proba`` against 0/1 targets ``y``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        0 or 1.
    proba : ndarray of shape (n_samples,)
        The neuron's output; class 1 where it is above ``threshold``.
    z : ndarray of shape (n_samples,), default=None
        The net input, for the log loss (sigmoid only).
    classes : list, default=None
        The original labels of 0 and 1, used in the report.

    Returns
    -------
    dict
        ``n_samples``, ``accuracy``, ``classes``, ``confusion_matrix``
        (rows: true class, columns: predicted class), ``roc_auc`` (None with
        one class only), ``log_loss`` (None unless sigmoid), ``report`` (the
        text) and ``report_dict``.
    """
    from sklearn.metrics import classification_report, confusion_matrix, roc_auc_score

    y = np.asarray(y).astype(np.int64)
    pred = (np.asarray(proba) > threshold).astype(np.int64)
    names = label_names(classes)
    both = len(np.unique(y)) == 2
    log_loss = None
    if activation == "sigmoid" and z is not None and len(y):
        log_loss = float(np.mean(pointwise_log_loss(y.astype(np.float64), z, proba)))
    kwargs = dict(labels=[0, 1], target_names=names, zero_division=0)
    return {
        "n_samples": int(len(y)),
        "classes": list(classes) if classes is not None else [0, 1],
        "threshold": float(threshold),
        "accuracy": float(np.mean(pred == y)) if len(y) else None,
        "confusion_matrix": confusion_matrix(y, pred, labels=[0, 1]).tolist(),
        "roc_auc": float(roc_auc_score(y, proba)) if both else None,
        "log_loss": log_loss,
        "report": classification_report(y, pred, **kwargs),
        "report_dict": classification_report(y, pred, output_dict=True, **kwargs),
    }


def format_confusion(matrix, classes=None) -> str:
    """The confusion matrix as a small table, true classes down, predicted across."""
    names = label_names(classes)
    cells = [[str(v) for v in row] for row in matrix]
    width = max(len(s) for s in [*names, *(c for row in cells for c in row), "true"])
    lines = ["confusion matrix (rows: true class, columns: predicted class)",
             " ".join([f"{'':>{width}}", *(f"{n:>{width}}" for n in names)])]
    for name, row in zip(names, cells):
        lines.append(" ".join([f"{name:>{width}}", *(f"{c:>{width}}" for c in row)]))
    return "\n".join(lines) + "\n"


def format_evaluation(result: dict) -> str:
    """The text ``neurona evaluate`` prints."""
    auc = result["roc_auc"]
    ll = result["log_loss"]
    return "".join([
        result["report"], "\n",
        format_confusion(result["confusion_matrix"], result["classes"]), "\n",
        f"ROC AUC:  {auc:.4f}\n" if auc is not None else
        "ROC AUC:  undefined (the data hold one class only)\n",
        f"log loss: {ll:.4f} (mean, from the logit)\n" if ll is not None else
        "log loss: undefined (the activation is not a sigmoid)\n",
    ])


# --- regression --------------------------------------------------------------------

#: A regression's scores, in the order reports print them.
REGRESSION_SCORES = ("r2", "mae", "rmse", "explained_variance")
def regression_scores(y_true, y_pred) -> dict:
    """``n_samples`` and the :data:`REGRESSION_SCORES` of ``y_pred`` against ``y_true``,
    by ``sklearn.metrics`` (R² and explained variance of constant targets: 1 for exact
    predictions, else 0, scikit-learn's rule)."""
    from sklearn.metrics import (explained_variance_score, mean_absolute_error,
                                 mean_squared_error, r2_score)

    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    # A run that diverged predicts huge numbers: its scores overflow to inf, quietly.
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {"n_samples": int(len(y_true)),
                "r2": float(r2_score(y_true, y_pred)),
                "mae": float(mean_absolute_error(y_true, y_pred)),
                "rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))),
                "explained_variance": float(explained_variance_score(y_true, y_pred))}


SCORE_NAMES = {"r2": "R²", "mae": "MAE", "rmse": "RMSE",
               "explained_variance": "explained variance"}


def regression_report(scores: dict, target: str | None = None, lang="en") -> str:
    """The text report of a regression's scores (as ``report.txt`` and the console show it),
    in ``lang`` (a language code or a :class:`~neurona.show.i18n.Messages`)."""
    from .i18n import messages

    t = messages(lang)
    names = dict(SCORE_NAMES, explained_variance=t("report.score_explained_variance"))
    width = max(map(len, names.values()))
    head = (t("report.regression_of", target=repr(target), n=scores["n_samples"]) if target
            else t("report.regression_on", n=scores["n_samples"]))
    lines = [head]
    lines += [f"{names[k]:>{width}}  {scores[k]:.6g}" for k in REGRESSION_SCORES]
    return "\n".join(lines) + "\n"


def localized_report(text: str, lang="en") -> str:
    """scikit-learn's text classification report with its words in ``lang``.

    The header (precision, recall, f1-score, support) and the rows accuracy,
    macro avg and weighted avg are named in the language and the columns
    widened to fit them; the class labels and numbers are kept as printed.
    English returns ``text`` itself.
    """
    from .i18n import DEFAULT_LANG, messages

    t = messages(lang)
    if t.lang == DEFAULT_LANG or not text.strip():
        return text
    header = [t("report.precision"), t("report.recall"), t("report.f1"), t("report.support")]
    names = {"accuracy": t("report.accuracy_row"), "macro avg": t("report.macro_avg"),
             "weighted avg": t("report.weighted_avg")}
    rows = []  # (label, the four cells) or None for a blank line
    for line in text.splitlines()[1:]:
        tokens = line.split()
        if not tokens:
            rows.append(None)
        elif tokens[0] == "accuracy" and len(tokens) == 3:  # its f1 column and support only
            rows.append((names["accuracy"], ["", "", *tokens[1:]]))
        else:
            label = " ".join(tokens[:-4])
            rows.append((names.get(label, label), tokens[-4:]))
    width = max(len(row[0]) for row in rows if row is not None)
    cells = [max(9, len(h)) for h in header]
    out = [" " * width + " " + "".join(f" {h:>{w}}" for h, w in zip(header, cells))]
    for row in rows:
        out.append("" if row is None else f"{row[0]:>{width}} " + "".join(
            f" {c:>{w}}" for c, w in zip(row[1], cells)))
    return "\n".join(out) + "\n"
