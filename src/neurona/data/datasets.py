"""Built-in datasets: the post's blobs, scikit-learn's moons and circles, xor and linear,
and two regressions, plane and gaussians.

``blobs`` calls scikit-learn's ``make_blobs`` with the tutorial post's
parameters as defaults, so the data are the post's own. ``moons`` and
``circles`` are scikit-learn's generators too; ``xor`` and ``linear`` (which
scikit-learn has no generator for) are drawn here from a seeded NumPy generator, as are the two regressions, whose
targets are numbers: ``plane``, a noisy linear function, and ``gaussians``, a sum of
four Gaussian bumps that no linear unit fits (TensorFlow Playground's two regression sets).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import OptionError

BLOBS_DEFAULTS = dict(n_samples=500, n_features=2, centers=2, cluster_std=2.5, random_state=1)

DATASETS: dict[str, dict] = {
    "blobs": BLOBS_DEFAULTS,
    "moons": dict(n_samples=500, noise=0.2, random_state=1),
    "circles": dict(n_samples=500, noise=0.1, factor=0.5, random_state=1),
    "xor": dict(n_samples=500, noise=0.1, random_state=1),
    "linear": dict(n_samples=500, n_features=2, noise=0.1, random_state=1),
    "plane": dict(n_samples=500, n_features=2, noise=0.5, random_state=1),
    "gaussians": dict(n_samples=500, noise=0.1, random_state=1),
}
#: The datasets whose targets are numbers (the others hold two classes, 0 and 1).
REGRESSION_DATASETS = ("plane", "gaussians")


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


def plane_coefficients(n_features: int = 2) -> tuple[np.ndarray, float]:
    """The weights and bias of :func:`plane`'s function: ``w_j = (-1)^j (j + 1)``, ``b = 0.5``."""
    j = np.arange(n_features)
    return np.where(j % 2 == 0, 1.0, -1.0) * (j + 1), 0.5


def plane(n_samples: int = 500, n_features: int = 2, noise: float = 0.5,
          random_state: int | None = 1):
    """A noisy linear function: ``y = X w + b + noise * e`` on points uniform in [-3, 3]^d.

    ``w`` and ``b`` are :func:`plane_coefficients` (``y = x0 - 2 x1 + 0.5`` for two
    features) and ``e`` is standard normal, so a linear unit fitted to enough rows
    finds ``w`` and ``b`` to within the noise. The targets are numbers: a regression.
    """
    rng = np.random.default_rng(random_state)
    w, b = plane_coefficients(n_features)
    X = rng.uniform(-3.0, 3.0, size=(n_samples, n_features))
    return X, X @ w + b + noise * rng.standard_normal(n_samples)


#: :func:`gaussians`' bumps: centre (x0, x1) and height; width 1 each.
BUMPS = ((-1.5, -1.5, 1.0), (1.5, 1.5, 1.0), (-1.5, 1.5, -1.0), (1.5, -1.5, -1.0))


def gaussians(n_samples: int = 500, noise: float = 0.1, random_state: int | None = 1):
    """A sum of Gaussian bumps: ``y = sum_k h_k exp(-|x - c_k|^2 / 2) + noise * e``.

    The points are uniform in [-3, 3]^2; the four bumps (:data:`BUMPS`) rise on
    one diagonal and sink on the other, so the best plane through them is nearly
    flat: a single linear unit explains almost none of it (R^2 near 0), which is
    what this dataset shows a learner. The targets are numbers: a regression.
    """
    rng = np.random.default_rng(random_state)
    X = rng.uniform(-3.0, 3.0, size=(n_samples, 2))
    y = sum(h * np.exp(-((X[:, 0] - c0) ** 2 + (X[:, 1] - c1) ** 2) / 2.0)
            for c0, c1, h in BUMPS)
    return X, y + noise * rng.standard_normal(n_samples)


GENERATORS = {"blobs": blobs, "moons": moons, "circles": circles, "xor": xor, "linear": linear,
              "plane": plane, "gaussians": gaussians}


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
            number = isinstance(v, (int, float)) and not isinstance(v, bool) \
                and math.isfinite(v)
            if not (number and (v > 0 if key == "cluster_std" else v >= 0)):
                sign = "positive" if key == "cluster_std" else "non-negative"
                raise OptionError(f"{key} must be a {sign} number, got {v!r}.")
    seed = spec.get("random_state")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not 0 <= seed < 2**32):
        raise OptionError(f"random_state must be an integer in [0, 2**32) or None, got "
                          f"{seed!r}.")
    return spec


def make_dataset(spec: dict):
    """``(X, y)`` of the built-in dataset described by ``spec`` (see :func:`dataset_spec`)."""
    params = dict(spec)
    name = params.pop("name")
    spec = dataset_spec(name, **params)
    params = {k: v for k, v in spec.items() if k != "name"}
    return GENERATORS[name](**params)


