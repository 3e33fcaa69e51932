"""Datasets, data files and splits.

``blobs`` and ``split`` call scikit-learn's ``make_blobs`` and
``train_test_split`` with the tutorial post's parameters as defaults, so the
data and the split are the post's own. ``moons`` and ``circles`` are
scikit-learn's generators too; ``xor`` and ``linear`` (which scikit-learn has
no generator for) are drawn here from a seeded NumPy generator.

:func:`read_data` reads a CSV, Parquet or NumPy file into memory (see
:mod:`neurona.readers` for the formats and the checks); the target's two
labels become 0 and 1 in sorted order, and are kept in ``classes``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import DataFileError, DataValueError, OptionError
from .readers import DataFile, Labels, quote_list

BLOBS_DEFAULTS = dict(n_samples=500, n_features=2, centers=2, cluster_std=2.5, random_state=1)
SPLIT_DEFAULTS = dict(test_size=0.3, random_state=1)

DATASETS: dict[str, dict] = {
    "blobs": BLOBS_DEFAULTS,
    "moons": dict(n_samples=500, noise=0.2, random_state=1),
    "circles": dict(n_samples=500, noise=0.1, factor=0.5, random_state=1),
    "xor": dict(n_samples=500, noise=0.1, random_state=1),
    "linear": dict(n_samples=500, n_features=2, noise=0.1, random_state=1),
}


@dataclass
class Split:
    """A train/test split of a dataset, with the feature names.

    ``classes`` holds the original labels of 0 and 1 when the data had others.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    classes: list | None = None


@dataclass
class Dataset:
    """Features, 0/1 targets and what they mean, as read from a file.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), int64
        0 or 1: the index of each row's label in ``classes``.
    feature_names : list of str
    classes : list
        The original labels of 0 and 1.
    target : str
        The name of the target column.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    classes: list
    target: str
    path: str = ""
    n_rows: int = field(init=False)

    def __post_init__(self):
        self.n_rows = len(self.y)

    @property
    def labels(self) -> np.ndarray:
        """Each row's original label."""
        return np.asarray(self.classes)[self.y]


# --- built-in datasets -------------------------------------------------------------

def blobs(n_samples: int = 500, n_features: int = 2, centers: int = 2,
          cluster_std: float = 2.5, random_state: int | None = 1):
    """Gaussian blobs, ``(X, y)``; the defaults are the post's toy dataset."""
    from sklearn.datasets import make_blobs

    return make_blobs(n_samples=n_samples, n_features=n_features, centers=centers,
                      cluster_std=cluster_std, random_state=random_state)


def moons(n_samples: int = 500, noise: float = 0.2, random_state: int | None = 1):
    """Two interleaving half circles (scikit-learn's ``make_moons``): not linearly separable."""
    from sklearn.datasets import make_moons

    return make_moons(n_samples=n_samples, noise=noise, random_state=random_state)


def circles(n_samples: int = 500, noise: float = 0.1, factor: float = 0.5,
            random_state: int | None = 1):
    """A circle inside another (scikit-learn's ``make_circles``): no line separates them."""
    from sklearn.datasets import make_circles

    return make_circles(n_samples=n_samples, noise=noise, factor=factor,
                        random_state=random_state)


def xor(n_samples: int = 500, noise: float = 0.1, random_state: int | None = 1):
    """The XOR problem: points in the square [-1, 1]^2, class 1 where ``x0 * x1 > 0``.

    Labels come from the clean points; Gaussian noise of standard deviation
    ``noise`` is then added to the coordinates. A single neuron cannot
    separate it, which is the point.
    """
    rng = np.random.default_rng(random_state)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + noise * rng.standard_normal(X.shape), y


def linear(n_samples: int = 500, n_features: int = 2, noise: float = 0.1,
           random_state: int | None = 1):
    """Linearly separable classes: standard normal points on either side of a random hyperplane.

    The normal ``w`` of the hyperplane through the origin is a seeded draw;
    class 1 where ``x . w + noise * e > 0`` with ``e`` standard normal, so
    ``noise`` blurs the boundary (0: perfectly separable).
    """
    rng = np.random.default_rng(random_state)
    w = rng.standard_normal(n_features)
    w /= np.linalg.norm(w)
    X = rng.standard_normal((n_samples, n_features))
    y = (X @ w + noise * rng.standard_normal(n_samples) > 0).astype(np.int64)
    return X, y


GENERATORS = {"blobs": blobs, "moons": moons, "circles": circles, "xor": xor, "linear": linear}


def dataset_spec(name: str, **params) -> dict:
    """The full description of a built-in dataset: its name and every parameter's value."""
    if name not in DATASETS:
        raise OptionError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)} "
                          f"or read a file.")
    unknown = [k for k in params if k not in DATASETS[name]]
    if unknown:
        raise OptionError(
            f"dataset {name!r} has no parameter {', '.join(map(repr, unknown))}; its "
            f"parameters are {', '.join(DATASETS[name])}.")
    spec = {"name": name, **DATASETS[name]}
    spec.update({k: v for k, v in params.items() if v is not None})
    for key in ("n_samples", "n_features", "centers"):
        if key in spec and (isinstance(spec[key], bool) or not isinstance(spec[key], int)
                            or spec[key] < (2 if key != "n_features" else 1)):
            raise OptionError(f"{key} must be an integer of at least "
                              f"{2 if key != 'n_features' else 1}, got {spec[key]!r}.")
    for key in ("noise", "cluster_std", "factor"):
        if key in spec:
            v = spec[key]
            low_ok = v > 0 if key == "cluster_std" else v >= 0
            if not (isinstance(v, (int, float)) and math.isfinite(v) and low_ok):
                sign = "positive" if key == "cluster_std" else "non-negative"
                raise OptionError(f"{key} must be a {sign} number, got {v!r}.")
    return spec


def make_dataset(spec: dict):
    """``(X, y)`` of the built-in dataset described by ``spec`` (see :func:`dataset_spec`)."""
    params = dict(spec)
    name = params.pop("name")
    spec = dataset_spec(name, **params)
    params = {k: v for k, v in spec.items() if k != "name"}
    return GENERATORS[name](**params)


# --- splits -------------------------------------------------------------------

def check_test_size(test_size: float) -> float:
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) \
            or not (0 <= test_size < 1):
        raise OptionError(f"test_size must be a fraction in [0, 1), got {test_size!r}; "
                          f"0 trains on every row.")
    return float(test_size)


def split(X, y, test_size: float = 0.3, random_state: int | None = 1,
          feature_names: list[str] | None = None, *, stratify: bool = False,
          classes: list | None = None) -> Split:
    """Split ``(X, y)`` with scikit-learn's ``train_test_split``.

    ``test_size=0`` keeps every row for training (the test arrays are
    empty); ``stratify=True`` keeps the class proportions in both parts.
    """
    from sklearn.model_selection import train_test_split

    names = list(feature_names or [f"x{i}" for i in range(np.shape(X)[1])])
    if check_test_size(test_size) == 0:
        X, y = np.asarray(X), np.asarray(y)
        return Split(X, X[:0], y, y[:0], names, classes)
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=test_size, random_state=random_state,
            stratify=y if stratify else None)
    except ValueError as exc:
        raise OptionError(f"cannot split {len(y)} rows with test_size={test_size}"
                          f"{' and stratify' if stratify else ''}: {exc}") from None
    return Split(X_train, X_test, y_train, y_test, names, classes)


# --- files -------------------------------------------------------------------------

def parse_names(text: str | None) -> list[str] | None:
    """``"a, b,c"`` -> ``["a", "b", "c"]``; None stays None."""
    if text is None:
        return None
    return [name.strip() for name in text.split(",")]


def resolve_columns(datafile: DataFile, target: str | None, features=None) -> list[str]:
    """The feature columns: ``features`` checked, or every column but the target and
    a stored pandas index (:attr:`DataFile.index_columns`)."""
    if target is None:
        raise OptionError(f"{datafile.path}: name the target column (--target); columns "
                          f"found: {quote_list(datafile.columns)}.")
    datafile.check_columns([target], what="target column")
    if features is None:
        features = [c for c in datafile.columns
                    if c != target and c not in datafile.index_columns]
        if not features:
            index = (f" (the stored index {quote_list(datafile.index_columns)} is a "
                     f"feature only when named in --features)" if datafile.index_columns
                     else "")
            raise DataFileError(f"{datafile.path}: no feature columns besides the target "
                                f"{target!r}{index}.", path=datafile.path)
    else:
        features = list(features)
        if not features or any(not f for f in features):
            raise OptionError(f"--features {','.join(features)!r} has an empty name; list "
                              f"the columns separated by commas.")
        twice = sorted({f for f in features if features.count(f) > 1})
        if twice:
            raise OptionError(f"--features names {quote_list(twice)} more than once.")
        if target in features:
            raise OptionError(f"the target {target!r} cannot also be a feature; remove it "
                              f"from --features.")
        datafile.check_columns(features, what="feature column")
    datafile.check_columns(features, numeric=features)
    return features


def check_constant(datafile: DataFile, X: np.ndarray, features: list[str],
                   low=None, high=None) -> None:
    """Refuse a feature that has the same value in every row (it carries no information)."""
    low = X.min(axis=0) if low is None else low
    high = X.max(axis=0) if high is None else high
    for j, name in enumerate(features):
        if low[j] == high[j]:
            others = [f for f in features if f != name]
            hint = (f"leave it out with --features {','.join(others)}" if others
                    else "add a feature that varies")
            raise DataValueError(
                f"{datafile.path}, column {name!r}: the feature is constant (every row holds "
                f"{low[j]:g}), so it carries no information; {hint}.", path=datafile.path,
                column=name)


def read_data(path, target: str, features: list[str] | None = None, *,
              delimiter: str | None = None, encoding: str | None = None,
              allow_constant: bool = False) -> Dataset:
    """Read a data file into memory: the feature matrix and the 0/1-coded target.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``, ``.csv.gz``, ``.parquet``, ``.npy`` or ``.npz`` file.
    target : str
        The target column: 0/1, booleans or any two distinct values.
    features : list of str, default=None
        The feature columns (default: every other column), all numeric.
    delimiter, encoding : str, default="," and "utf-8"
        For CSV files.
    allow_constant : bool, default=False
        Accept a feature that has one value in every row.

    Raises
    ------
    neurona.errors.DataError
        A subclass naming the file, column and line of the first problem.
    """
    datafile = DataFile(path, delimiter=delimiter, encoding=encoding)
    features = resolve_columns(datafile, target, features)
    labels = Labels(datafile, target)
    blocks, targets = [], []
    for row0, table in datafile.batches([*features, target], numeric=features):
        blocks.append(datafile.features(table, features, row0))
        labels.observe(table, row0)
        targets.append((row0, table.select([target])))
    if not blocks or sum(len(b) for b in blocks) == 0:
        raise DataFileError(f"{datafile.path}: no data rows; add rows below the header.",
                            path=datafile.path)
    classes = labels.finish()
    X = np.concatenate(blocks)
    y = np.concatenate([labels.encode(t, row0) for row0, t in targets]).astype(np.int64)
    if not allow_constant:
        check_constant(datafile, X, features)
    return Dataset(X, y, features, classes, target, str(path))
