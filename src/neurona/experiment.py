"""An experiment end to end: data, split, initial neuron, training, evaluation, run directory.

The command line maps its options onto a config dict and calls :func:`run`
and :func:`write_run`; nothing here prints. The config is what ``config.json``
records, so a run directory says exactly how to repeat it.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__, data, io, report
from .callbacks import Callback, History
from .errors import NeuronaError, RunDirectoryError
from .neuron import Neuron
from .training import train
from .trajectory import WeightTrajectory

DEFAULTS: dict = {
    "dataset": dict(name="blobs", **data.BLOBS_DEFAULTS),
    "split": dict(data.SPLIT_DEFAULTS),
    "activation": "sigmoid",
    "loss": "log_loss",
    "reduction": "sum",
    "optimizer": "gd",
    "learning_rate": 0.01,
    "epochs": 100,
    "batch_size": None,
    "threshold": 0.5,
    "seed": 1,
    "init_weights": None,
}


def make_config(**overrides) -> dict:
    """The post's experiment with ``overrides`` applied (unknown keys are refused)."""
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise NeuronaError(f"Unknown setting(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}.")
    config = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULTS.items()}
    config.update(overrides)
    return config


@dataclass
class Run:
    """Everything one experiment produced."""

    config: dict
    neuron: Neuron
    history: History
    X: np.ndarray
    y: np.ndarray
    parts: data.Split
    test_pred: np.ndarray
    report_text: str
    test_accuracy: float
    initial: list[float] = field(default_factory=list)
    trajectory: WeightTrajectory | None = None


def load_data(config: dict) -> tuple[np.ndarray, np.ndarray, data.Split]:
    """The dataset and its train/test split described by ``config``."""
    spec = dict(config["dataset"])
    name = spec.pop("name")
    if name != "blobs":
        raise NeuronaError(f"Unknown dataset {name!r}; choose 'blobs'.")
    X, y = data.blobs(**spec)
    return X, y, data.split(X, y, **config["split"])


def initial_neuron(config: dict, n_features: int, feature_names=None) -> Neuron:
    """The starting neuron: ``init_weights`` (bias last) if given, else a seeded draw."""
    kwargs = dict(activation=config["activation"], threshold=config["threshold"],
                  feature_names=feature_names)
    init = config["init_weights"]
    if init is None:
        return Neuron.random(n_features, config["seed"], **kwargs)
    if len(init) != n_features + 1:
        raise NeuronaError(
            f"--init-weights has {len(init)} values, expected {n_features + 1}: one weight "
            f"per feature ({n_features}) and the bias last.")
    return Neuron(init[:-1], init[-1], **kwargs)


def run(config: dict, callbacks: list[Callback] | tuple = ()) -> Run:
    """Run the experiment described by ``config`` (see :func:`make_config`)."""
    X, y, parts = load_data(config)
    neuron = initial_neuron(config, X.shape[1], parts.feature_names)
    initial = [*map(float, neuron.weights), neuron.bias]
    trajectory = WeightTrajectory(neuron)
    history = train(neuron, parts.X_train, parts.y_train, epochs=config["epochs"],
                    learning_rate=config["learning_rate"], loss=config["loss"],
                    reduction=config["reduction"], callbacks=[*callbacks, trajectory])
    test_pred = neuron.predict(parts.X_test)
    return Run(config, neuron, history, X, y, parts, test_pred,
               report.classification_report(parts.y_test, test_pred),
               report.accuracy(parts.y_test, test_pred), initial, trajectory)


def versions() -> dict:
    import matplotlib
    import scipy
    import sklearn

    return {"neurona": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__, "matplotlib": matplotlib.__version__,
            "platform": platform.platform()}


def recorded_config(result: Run) -> dict:
    """``config.json``: the settings, the actual starting weights, sizes and versions."""
    parts = result.parts
    return {
        "command": "train",
        **result.config,
        "split": dict(result.config["split"], n_train=len(parts.y_train),
                      n_test=len(parts.y_test)),
        "seed": None if result.config["init_weights"] is not None else result.config["seed"],
        "init_weights": result.initial,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": versions(),
    }


def write_run(result: Run, path: str | Path, plots: bool = True, *, lang: str = "en",
              animation: bool = True) -> Path:
    """Write the run directory at ``path``, whole or not at all; return its path.

    With ``plots``, the figures (and with ``animation`` the training
    animation) go to ``figures/`` and the HTML report to ``report.html``, in
    language ``lang``.
    """
    path = Path(path)
    config = recorded_config(result)
    training = {k: config[k] for k in ("reduction", "optimizer", "learning_rate", "epochs",
                                       "batch_size", "seed", "init_weights")}
    with io.staged_directory(path) as tmp:
        io.save(result.neuron, tmp / "model.json", loss=config["loss"], training=training)
        io.atomic_write_text(tmp / "history.csv", result.history.to_csv())
        io.atomic_write_text(tmp / "report.txt", result.report_text)
        io.atomic_write_text(tmp / "config.json", io.dumps(config))
        if result.trajectory is not None:
            io.atomic_write_text(tmp / "weights.csv", result.trajectory.to_csv())
        if plots:
            from .report_html import render_run

            render_run(result, tmp, config=config, name=path.name, lang=lang,
                       animation=animation)
    return path


def _read_text(run_dir: Path, name: str) -> str:
    path = run_dir / name
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunDirectoryError(
            f"{path} is missing; is {run_dir} a run directory written by 'neurona train'?"
        ) from None


def load_run(run_dir: str | Path) -> tuple[Run, dict]:
    """Rebuild a finished run from its directory, without training; return it and its config.

    The model, history, weights per epoch (if recorded) and configuration come
    from the run's files; the data and split are made again from
    ``config.json``'s dataset and split settings and checked against the
    recorded sizes.
    """
    import json

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirectoryError(f"{run_dir} is not a directory; pass a run directory.")
    try:
        config = json.loads(_read_text(run_dir, "config.json"))
    except json.JSONDecodeError as exc:
        raise RunDirectoryError(f"{run_dir / 'config.json'}: not valid JSON ({exc.msg}).") \
            from None
    neuron = io.load(run_dir / "model.json")
    history = History.from_csv(_read_text(run_dir, "history.csv"))
    trajectory = None
    if (run_dir / "weights.csv").exists():
        trajectory = WeightTrajectory.from_csv(_read_text(run_dir, "weights.csv"),
                                               str(run_dir / "weights.csv"))
        if trajectory.n_features != neuron.n_features:
            raise RunDirectoryError(
                f"{run_dir / 'weights.csv'} has {trajectory.n_features} weights per row but "
                f"the model has {neuron.n_features}; is it from another run?")
    recorded = dict(config.get("split", {}))
    sizes = {k: recorded.pop(k, None) for k in ("n_train", "n_test")}
    X, y, parts = load_data({**config, "split": recorded})
    if parts.feature_names and neuron.feature_names:
        parts.feature_names = list(neuron.feature_names)
    found = {"n_train": len(parts.y_train), "n_test": len(parts.y_test)}
    if X.shape[1] != neuron.n_features or any(
            sizes[k] is not None and sizes[k] != found[k] for k in found):
        raise RunDirectoryError(
            f"{run_dir}: the data made again from config.json ({found['n_train']} training "
            f"and {found['n_test']} test rows of {X.shape[1]} features) do not match the run "
            f"({sizes['n_train']} and {sizes['n_test']} rows, {neuron.n_features} features); "
            f"was the data changed since?")
    test_pred = neuron.predict(parts.X_test)
    result = Run(config, neuron, history, X, y, parts, test_pred,
                 report.classification_report(parts.y_test, test_pred),
                 report.accuracy(parts.y_test, test_pred),
                 list(config.get("init_weights") or []), trajectory)
    return result, config
