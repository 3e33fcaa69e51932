"""Metrics and the classification report (computed by scikit-learn)."""

from __future__ import annotations

import numpy as np


def classification_report(y_true, y_pred, **kwargs) -> str:
    """scikit-learn's text classification report of ``y_pred`` against ``y_true``."""
    from sklearn.metrics import classification_report as sk_report

    return sk_report(y_true, y_pred, **kwargs)


def accuracy(y_true, y_pred) -> float:
    """The fraction of samples whose prediction equals the truth."""
    return float(np.mean(np.asarray(y_true).ravel() == np.asarray(y_pred).ravel()))
