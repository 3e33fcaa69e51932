"""Datasets and splits.

``blobs`` and ``split`` call scikit-learn's ``make_blobs`` and
``train_test_split`` with the tutorial post's parameters as defaults, so the
data and the split are the post's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOBS_DEFAULTS = dict(n_samples=500, n_features=2, centers=2, cluster_std=2.5, random_state=1)
SPLIT_DEFAULTS = dict(test_size=0.3, random_state=1)


@dataclass
class Split:
    """A train/test split of a dataset, with the feature names."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]


def blobs(n_samples: int = 500, n_features: int = 2, centers: int = 2,
          cluster_std: float = 2.5, random_state: int | None = 1):
    """Gaussian blobs, ``(X, y)``; the defaults are the post's toy dataset."""
    from sklearn.datasets import make_blobs

    return make_blobs(n_samples=n_samples, n_features=n_features, centers=centers,
                      cluster_std=cluster_std, random_state=random_state)


def split(X, y, test_size: float = 0.3, random_state: int | None = 1,
          feature_names: list[str] | None = None) -> Split:
    """Split ``(X, y)`` with scikit-learn's ``train_test_split``."""
    from sklearn.model_selection import train_test_split

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=random_state)
    names = feature_names or [f"x{i}" for i in range(np.shape(X)[1])]
    return Split(X_train, X_test, y_train, y_test, list(names))
