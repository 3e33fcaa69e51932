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

from . import __version__, data, io, report, scaling
from .callbacks import Callback, History
from .errors import NeuronaError, OptionError
from .neuron import Neuron
from .training import train

DEFAULTS: dict = {
    # A built-in dataset {"name": "blobs", ...parameters}, or a file: {"name": "file",
    # "path", "target", "features" (None: all but the target), "delimiter", "encoding"}.
    "dataset": dict(name="blobs", **data.BLOBS_DEFAULTS),
    "split": dict(data.SPLIT_DEFAULTS, stratify=False),
    "scale": "none",            # none, standard or minmax, fitted on the training split
    "stream": None,             # None: stream a file larger than memory_budget
    "memory_budget": None,      # bytes; None: a quarter of the physical memory
    "shuffle_buffer": 65_536,   # rows, for mini-batch training on a stream
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
    report_text: str | None
    test_accuracy: float | None
    initial: list[float] = field(default_factory=list)
    sizes: dict | None = None  # n_train, n_test where parts holds a sample (streamed runs)

    @property
    def classes(self) -> list | None:
        return self.parts.classes


def load_data(config: dict) -> tuple[np.ndarray, np.ndarray, data.Split]:
    """The dataset and its train/test split described by ``config``.

    ``y`` is 0/1; for a file, ``split.classes`` holds the original labels.
    """
    spec = dict(config["dataset"])
    if spec.get("name") == "file":
        ds = data.read_data(spec["path"], spec.get("target"), spec.get("features"),
                            delimiter=spec.get("delimiter"), encoding=spec.get("encoding"))
        return ds.X, ds.y, data.split(ds.X, ds.y, **config["split"],
                                      feature_names=ds.feature_names, classes=ds.classes)
    X, y = data.make_dataset(spec)
    return X, y, data.split(X, y, **config["split"])


def resolve_stream(config: dict) -> bool:
    """Whether the run streams its file: as ``config["stream"]`` says, or by size if None."""
    spec = config["dataset"]
    if spec.get("name") != "file":
        if config.get("stream"):
            raise OptionError("streaming reads a data file: pass --data FILE with --stream.")
        return False
    if config.get("stream") is not None:
        return bool(config["stream"])
    from .readers import DataFile
    from .stream import default_memory_budget

    budget = config.get("memory_budget") or default_memory_budget()
    datafile = DataFile(spec["path"], delimiter=spec.get("delimiter"),
                        encoding=spec.get("encoding"))
    n_columns = len(spec["features"]) + 1 if spec.get("features") else None
    return datafile.estimated_bytes(n_columns) > budget


def _test_report(y_test, test_pred, classes) -> tuple[str | None, float | None]:
    if len(y_test) == 0:
        return None, None
    from .evaluation import label_names

    text = report.classification_report(y_test, test_pred, labels=[0, 1],
                                        target_names=label_names(classes), zero_division=0)
    return text, report.accuracy(y_test, test_pred)


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
    """Run the experiment described by ``config`` (see :func:`make_config`).

    The scaler is fitted on the training split and attached to the trained
    neuron (which then takes raw features), and so are the original labels.
    With ``test_size=0`` every row trains and there is no test report.
    """
    scaling.check_kind(config["scale"])
    config = dict(config, stream=resolve_stream(config))
    if config["stream"]:
        return _run_streamed(config, callbacks)
    X, y, parts = load_data(config)
    scaler = scaling.fit(config["scale"], parts.X_train)
    X_fit = parts.X_train if scaler is None else scaler.transform(parts.X_train)
    neuron = initial_neuron(config, X.shape[1], parts.feature_names)
    initial = [*map(float, neuron.weights), neuron.bias]
    history = train(neuron, X_fit, parts.y_train, epochs=config["epochs"],
                    learning_rate=config["learning_rate"], loss=config["loss"],
                    reduction=config["reduction"], callbacks=callbacks)
    neuron.scaler = scaler
    test_pred = neuron.predict(parts.X_test)
    neuron.classes = parts.classes
    if parts.classes is not None:
        config["dataset"] = dict(config["dataset"], features=parts.feature_names)
    return Run(config, neuron, history, X, y, parts, test_pred,
               *_test_report(parts.y_test, test_pred, parts.classes), initial)


def _run_streamed(config: dict, callbacks) -> Run:
    """The experiment on a file read in record batches (see :mod:`neurona.stream`)."""
    from . import stream
    from .evaluation import report_from_confusion

    spec, sp = config["dataset"], config["split"]
    fs = stream.FileStream(spec["path"], spec.get("target"), spec.get("features"),
                           delimiter=spec.get("delimiter"), encoding=spec.get("encoding"),
                           test_size=sp["test_size"], random_state=sp["random_state"])
    fs.scan(config["scale"])
    neuron = initial_neuron(config, len(fs.features), fs.features)
    initial = [*map(float, neuron.weights), neuron.bias]
    history = stream.train_stream(
        neuron, fs.part("train"), epochs=config["epochs"],
        learning_rate=config["learning_rate"], loss=config["loss"],
        reduction=config["reduction"], batch_size=config["batch_size"],
        shuffle_buffer=config["shuffle_buffer"], seed=config["seed"], callbacks=callbacks)
    neuron.scaler = fs.scaler
    confusion, (X, y, is_test) = stream.test_pass(neuron, fs)
    parts = data.Split(X[~is_test], X[is_test], y[~is_test], y[is_test], fs.features,
                       fs.classes)
    test_pred = neuron.predict(parts.X_test)
    neuron.classes = fs.classes
    report_text = test_accuracy = None
    if fs.n_test:
        report_text = report_from_confusion(confusion, fs.classes)
        test_accuracy = float(np.trace(confusion) / confusion.sum())
    config["dataset"] = dict(spec, features=fs.features)
    config["split"] = dict(sp, method="row_hash")
    return Run(config, neuron, history, X, y, parts, test_pred, report_text, test_accuracy,
               initial, sizes={"n_train": fs.n_train, "n_test": fs.n_test})


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
    sizes = result.sizes or {"n_train": len(parts.y_train), "n_test": len(parts.y_test)}
    extra = {} if result.classes is None else {"classes": list(result.classes)}
    return {
        "command": "train",
        **result.config,
        **extra,
        "split": dict(result.config["split"], **sizes),
        "seed": None if result.config["init_weights"] is not None else result.config["seed"],
        "init_weights": result.initial,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": versions(),
    }


def write_run(result: Run, path: str | Path, plots: bool = True, replace: bool = False) -> Path:
    """Write the run directory at ``path``, whole or not at all; return its path.

    ``replace=True`` replaces an existing run directory at ``path``. With no
    test rows there is no ``report.txt``; figures need two features or more.
    """
    path = Path(path)
    config = recorded_config(result)
    training = {k: config[k] for k in ("reduction", "optimizer", "learning_rate", "epochs",
                                       "batch_size", "seed", "init_weights")}
    with io.staged_directory(path, replace=replace) as tmp:
        io.save(result.neuron, tmp / "model.json", loss=config["loss"], training=training,
                target=config["dataset"].get("target"))
        io.atomic_write_text(tmp / "history.csv", result.history.to_csv())
        if result.report_text is not None:
            io.atomic_write_text(tmp / "report.txt", result.report_text)
        io.atomic_write_text(tmp / "config.json", io.dumps(config))
        if plots and result.neuron.n_features >= 2:
            from .plots import save_run_figures

            parts = result.parts
            save_run_figures(tmp / "figures", result.neuron, result.X, result.y, parts.X_test,
                             parts.y_test, result.test_pred, result.history,
                             parts.feature_names)
    return path
