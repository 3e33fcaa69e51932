"""A regression's scores from a pass's additive sums, for rows too many to keep.

A pass over the test rows adds up :data:`ERROR_SUMS` batch by batch (or
partition by partition); :func:`regression_scores_from_sums` turns them into
the scores ``sklearn.metrics`` gives on the same rows (``r2_score``,
``mean_absolute_error``, the root of ``mean_squared_error`` and
``explained_variance_score``), so a streamed or distributed run reports what a
run in memory does.
"""

from __future__ import annotations

import numpy as np

#: The additive sums of a pass from which :func:`regression_scores_from_sums` gives the
#: scores: the rows, the target, its square, the error ``e = prediction - target``, its
#: square and its absolute value.
ERROR_SUMS = ("n", "sum_y", "sum_y2", "sum_e", "sum_e2", "sum_abs")


def error_sums(y_true, y_pred) -> dict:
    """The :data:`ERROR_SUMS` of some rows; the sums of two sets of rows add up."""
    y = np.asarray(y_true, dtype=np.float64)
    e = np.asarray(y_pred, dtype=np.float64) - y
    return {"n": int(len(y)), "sum_y": float(y.sum()), "sum_y2": float(y @ y),
            "sum_e": float(e.sum()), "sum_e2": float(e @ e), "sum_abs": float(np.abs(e).sum())}


def add_sums(total: dict | None, sums: dict) -> dict:
    """``total`` plus ``sums`` (either may come from :func:`error_sums`; None is empty)."""
    return dict(sums) if total is None else {k: total[k] + sums[k] for k in ERROR_SUMS}


def regression_scores_from_sums(sums: dict) -> dict:
    """What :func:`regression_scores` gives for the rows the :data:`ERROR_SUMS` describe.

    ``r2 = 1 - SSE / SST`` and ``explained_variance = 1 - Var(e) / Var(y)`` with
    ``SST = sum y^2 - (sum y)^2 / n``; constant targets follow scikit-learn's rule.
    """
    n = sums["n"]
    sst = sums["sum_y2"] - sums["sum_y"] ** 2 / n
    var_e = sums["sum_e2"] - sums["sum_e"] ** 2 / n

    def score(residual: float) -> float:
        if sst > 1e-12 * sums["sum_y2"]:
            return 1.0 - residual / sst
        return 1.0 if residual <= 0 else 0.0

    return {"n_samples": int(n), "r2": score(sums["sum_e2"]), "mae": sums["sum_abs"] / n,
            "rmse": float(np.sqrt(sums["sum_e2"] / n)),
            "explained_variance": score(max(var_e, 0.0))}


