"""An experiment end to end: data, split, initial neuron, training, evaluation, run directory.

The command line maps its options onto a config dict and calls :func:`run`
and :func:`write_run`; nothing here prints. The config is what ``config.json``
records, so a run directory says exactly how to repeat it.

A run that checkpoints (``checkpoint_every``) or is interrupted also keeps
``checkpoint.json``, the trainer's whole state; :func:`load_run` reads a run
directory back so that :func:`run` can resume it, bit for bit, into a new
run directory (the earlier one is never touched).
"""

from __future__ import annotations

import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__, data, io, report
from .data import scaling
from .callbacks import Callback, Checkpoint, EarlyStopping, History, load_checkpoint
from .errors import NeuronaError, OptionError, RunDirectoryError
from .neuron import Neuron
from .training import DivergenceError, Trainer
from .trajectory import WeightTrajectory

DEFAULTS: dict = {
    # A built-in dataset {"name": "blobs", ...parameters}, or a file: {"name": "file",
    # "path", "target", "features" (None: all but the target), "delimiter", "encoding"}.
    "dataset": dict(name="blobs", **data.BLOBS_DEFAULTS),
    "split": dict(data.SPLIT_DEFAULTS, stratify=False),
    "scale": "none",            # none, standard or minmax, fitted on the training split
    "stream": None,             # None: stream a file larger than memory_budget
    "memory_budget": None,      # bytes; None: a quarter of the physical memory
    "shuffle_buffer": 65_536,   # rows, for mini-batch training on a stream
    "engine": "numpy",          # numpy (in this process) or dask (on a Dask cluster)
    "scheduler": None,          # the Dask scheduler's address; None: a local cluster
    "dask_timeout": 10.0,       # seconds to reach the scheduler
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
    # optimizer hyperparameters (each optimizer uses its own, see neurona.optimizers)
    "momentum": 0.9,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "epsilon": 1e-8,
    "rho": 0.9,
    "weight_decay": 0.01,
    # learning-rate schedule
    "schedule": "constant",
    "decay_rate": None,
    "decay_steps": None,
    "power_t": 0.5,
    "end_learning_rate": 0.0,
    # batches, penalties, weights
    "shuffle": True,
    "l1": 0.0,
    "l2": 0.0,
    "class_weight": None,
    # validation and early stopping
    "validation_fraction": None,
    "early_stopping": False,
    "monitor": None,
    "patience": 10,
    "min_delta": 0.0,
    "restore_best_weights": True,
    # checkpoints
    "checkpoint_every": None,
    # speed
    "dtype": "float64",
}

#: Config keys passed to :class:`neurona.training.Trainer` under the same name.
TRAINER_KEYS = ("learning_rate", "loss", "reduction", "optimizer", "batch_size", "shuffle",
                "schedule", "decay_rate", "decay_steps", "power_t", "end_learning_rate",
                "momentum", "beta_1", "beta_2", "epsilon", "rho", "weight_decay", "l1", "l2",
                "class_weight", "validation_fraction", "dtype")
#: Files that may be in a run directory while its training runs (checkpointing).
IN_PROGRESS_FILES = {"config.json", "checkpoint.json"}


def make_config(**overrides) -> dict:
    """The post's experiment with ``overrides`` applied (unknown keys are refused)."""
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise NeuronaError(f"Unknown setting(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}.")
    config = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULTS.items()}
    config.update(overrides)
    return config


def resolve_config(config: dict) -> dict:
    """``config`` with the settings that depend on others made explicit.

    Early stopping validates on a held-out split (10% unless
    ``validation_fraction`` says otherwise, as scikit-learn does) and
    monitors ``val_loss`` (``loss`` when there is no validation split).
    """
    config = dict(config)
    if config["early_stopping"]:
        if config["validation_fraction"] is None:
            config["validation_fraction"] = 0.1
        if config["monitor"] is None:
            config["monitor"] = "val_loss"
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
    status: str = "finished"
    error: str | None = None
    checkpoint: dict | None = None
    resumed_from: str | None = None
    early_stopping: EarlyStopping | None = None
    trajectory: WeightTrajectory | None = None
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


def training_arguments(config: dict) -> dict:
    """The keyword arguments of :class:`neurona.training.Trainer` that ``config`` sets."""
    return dict({k: config[k] for k in TRAINER_KEYS}, epochs=config["epochs"],
                random_state=config["seed"])


def run(config: dict, callbacks: list[Callback] | tuple = (), *, resume: dict | None = None,
        run_dir: str | Path | None = None, resumed_from: str | None = None) -> Run:
    """Run the experiment described by ``config`` (see :func:`make_config`).

    ``resume`` is a checkpoint (see :func:`load_run`) to continue from. With
    ``config["checkpoint_every"]`` and a ``run_dir``, the run directory is
    created now, with ``config.json``, and ``checkpoint.json`` is rewritten
    (atomically) every that many epochs, so a run killed on the way can be
    resumed; :func:`write_run` completes the directory. A run that diverges
    returns with ``status == "diverged"`` and the error in ``error``, its
    neuron holding the last finite weights.
    """
    config = resolve_config(config)
    scaling.check_kind(config["scale"])
    if config["engine"] == "dask":
        return _run_dask(config, callbacks, resume=resume, run_dir=run_dir,
                         resumed_from=resumed_from)
    config["stream"] = resolve_stream(config)
    if config["stream"]:
        if resume is not None:
            raise OptionError("a streamed run cannot be resumed; start a new run.")
        return _run_streamed(config, callbacks)
    X, y, parts = load_data(config)
    # The scaler is fitted on the training rows, then attached to the trained neuron,
    # which then takes raw features (and answers in the original labels).
    scaler = scaling.fit(config["scale"], parts.X_train)
    X_fit = parts.X_train if scaler is None else scaler.transform(parts.X_train)
    neuron = initial_neuron(config, X.shape[1], parts.feature_names)
    initial = [*map(float, neuron.weights), neuron.bias]
    trainer, stopper, trajectory, error = _train(
        config, neuron, X_fit, parts.y_train, callbacks, resume, run_dir, resumed_from,
        lambda: _recorded(config, parts, initial, status="running",
                          resumed_from=resumed_from))
    neuron.scaler = scaler
    test_pred = neuron.predict(parts.X_test)
    neuron.classes = parts.classes
    if parts.classes is not None:
        config["dataset"] = dict(config["dataset"], features=parts.feature_names)
    return Run(config, neuron, trainer.history, X, y, parts, test_pred,
               *_test_report(parts.y_test, test_pred, parts.classes), initial,
               status=trainer.status, error=error, checkpoint=trainer.checkpoint(),
               resumed_from=resumed_from, early_stopping=stopper, trajectory=trajectory)


def _train(config, neuron, X_fit, y_fit, callbacks, resume, run_dir, resumed_from,
           recorded) -> tuple:
    """Build the trainer (callbacks, early stopping, checkpoints) and run it.

    Returns ``(trainer, early_stopping, trajectory, divergence message)``.
    """
    trajectory = WeightTrajectory(feature_names=neuron.feature_names)
    callbacks = [*callbacks, trajectory]
    stopper = None
    if config["early_stopping"]:
        stopper = EarlyStopping(monitor=config["monitor"], patience=config["patience"],
                                min_delta=config["min_delta"],
                                restore_best_weights=config["restore_best_weights"])
        callbacks.insert(0, stopper)
    trainer = Trainer(neuron, X_fit, y_fit, callbacks=callbacks, resume=resume,
                      **training_arguments(config))
    created = None
    if run_dir is not None and config["checkpoint_every"]:
        run_dir = io.check_run_path(run_dir)
        if not run_dir.exists():
            created = run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        io.atomic_write_text(run_dir / "config.json", io.dumps(recorded()))
        trainer.callbacks.append(Checkpoint(run_dir / "checkpoint.json",
                                            every=config["checkpoint_every"]))
    error = None
    try:
        trainer.run()
    except DivergenceError as exc:
        error = str(exc)
    except BaseException:
        # A run that failed before its first checkpoint leaves nothing behind.
        if created is not None and not (created / "checkpoint.json").exists():
            shutil.rmtree(created, ignore_errors=True)
        raise
    return trainer, stopper, trajectory, error


def _run_dask(config: dict, callbacks, *, resume=None, run_dir=None, resumed_from=None) -> Run:
    """The experiment on a Dask cluster: files read partition by partition (see
    :mod:`neurona.distributed`); the Run holds a sample of rows for the figures, and the
    report counts every test row."""
    from .distributed import cluster_client

    spec = config["dataset"]
    if spec.get("name") != "file":
        raise OptionError("--engine dask trains on files: pass --data PATH (a CSV or Parquet "
                          "file, or a glob of them) and --target COLUMN.")
    if config.get("stream"):
        raise OptionError("--stream and --engine dask are two ways to train on large files; "
                          "choose one.")
    config["stream"] = False
    with cluster_client(config["scheduler"], config["dask_timeout"]):
        files = _dask_files(config, config["scale"])
        neuron = initial_neuron(config, len(files.features), files.features)
        initial = [*map(float, neuron.weights), neuron.bias]
        sizes = {"n_train": files.n_train, "n_test": files.n_test}
        X_fit, y_fit = files.training_data()
        placeholder = data.Split(np.empty((0, len(files.features))), None, np.empty(0), None,
                                 files.features, files.classes)
        trainer, stopper, trajectory, error = _train(
            config, neuron, X_fit, y_fit, callbacks, resume, run_dir, resumed_from,
            lambda: _recorded(config, placeholder, initial, sizes, status="running",
                              resumed_from=resumed_from))
        neuron.scaler = files.scaler
        view = _sampled_view(neuron, files.test_view, files.features, files.classes,
                                 files.n_test)
    config["dataset"] = dict(spec, features=files.features)
    return Run(config, neuron, trainer.history, *view, initial, status=trainer.status,
               error=error, checkpoint=trainer.checkpoint(), resumed_from=resumed_from,
               early_stopping=stopper, trajectory=trajectory, sizes=sizes)


def _dask_files(config: dict, scale: str, classes=None):
    from .distributed import DaskFiles

    spec = config["dataset"]
    return DaskFiles(spec["path"], spec.get("target"), spec.get("features"),
                     delimiter=spec.get("delimiter"), encoding=spec.get("encoding"),
                     test_size=config["split"]["test_size"],
                     random_state=config["split"]["random_state"]).scan(scale)


#: Training settings a streamed run does not support: a validation split and early
#: stopping need held-out rows at hand, class weights are not implemented for streams,
#: and a streamed run keeps no checkpoint.
NOT_STREAMED = {"validation_fraction": "--validation-fraction",
                "early_stopping": "--early-stopping", "class_weight": "--class-weight",
                "checkpoint_every": "--checkpoint-every"}


def _run_streamed(config: dict, callbacks) -> Run:
    """The experiment on a file read in record batches (see :mod:`neurona.stream`)."""
    from . import stream

    given = [option for key, option in NOT_STREAMED.items() if config[key]]
    if given:
        raise OptionError(f"{', '.join(given)} cannot be used with a streamed file (the run "
                          f"would need the rows in memory); drop "
                          f"{'it' if len(given) == 1 else 'them'} or pass --no-stream.")
    spec, sp = config["dataset"], config["split"]
    fs = stream.FileStream(spec["path"], spec.get("target"), spec.get("features"),
                           delimiter=spec.get("delimiter"), encoding=spec.get("encoding"),
                           test_size=sp["test_size"], random_state=sp["random_state"])
    fs.scan(config["scale"])
    neuron = initial_neuron(config, len(fs.features), fs.features)
    initial = [*map(float, neuron.weights), neuron.bias]
    if config["dtype"] != "float64":
        raise OptionError(f"--dtype {config['dtype']} applies to data held in memory; a streamed "
                          f"file is trained in float64: drop --dtype or pass --no-stream.")
    arguments = training_arguments(config)
    for key in ("class_weight", "validation_fraction", "random_state", "dtype"):
        del arguments[key]
    trajectory = WeightTrajectory(feature_names=fs.features)
    trainer = stream.StreamTrainer(neuron, fs.part("train"),
                                   callbacks=[*callbacks, trajectory],
                                   shuffle_buffer=config["shuffle_buffer"],
                                   seed=config["seed"], **arguments)
    error = None
    try:
        trainer.run()
    except DivergenceError as exc:
        error = str(exc)
    neuron.scaler = fs.scaler
    view = _streamed_view(fs, neuron)
    config["dataset"] = dict(spec, features=fs.features)
    return Run(config, neuron, trainer.history, *view, initial, status=trainer.status,
               error=error, trajectory=trajectory,
               sizes={"n_train": fs.n_train, "n_test": fs.n_test})


def _streamed_view(fs, neuron: Neuron) -> tuple:
    """What a Run holds of a streamed file (see :func:`_sampled_view`)."""
    from . import stream

    return _sampled_view(neuron, lambda n: stream.test_pass(n, fs), fs.features, fs.classes,
                         fs.n_test)


def _sampled_view(neuron: Neuron, test_pass, features, classes, n_test: int) -> tuple:
    """What a Run holds of data too large to keep: a sample of rows, and the test counts' report.

    ``test_pass(neuron)`` reads every row once and returns the test rows' 2x2
    confusion counts and a sample ``(X, y, is_test)``. ``neuron`` (its scaler
    attached) gets the data's classes at the end. Returns ``(X, y, parts,
    test_pred, report_text, test_accuracy)``, where ``X``, ``y`` and ``parts``
    hold the sample (for the figures) and the report and accuracy cover every
    test row.
    """
    from .evaluation import report_from_confusion

    neuron.classes = None  # 0/1 predictions for the figures, labels in the report
    confusion, (X, y, is_test) = test_pass(neuron)
    parts = data.Split(X[~is_test], X[is_test], y[~is_test], y[is_test], features, classes)
    test_pred = neuron.predict(parts.X_test)
    neuron.classes = classes
    report_text = test_accuracy = None
    if n_test:
        report_text = report_from_confusion(confusion, classes)
        test_accuracy = float(np.trace(confusion) / confusion.sum())
    return X, y, parts, test_pred, report_text, test_accuracy


def read_recorded_config(path: str | Path) -> dict:
    """The ``config.json`` of the run directory at ``path``, checked to be a training run's."""
    from .jsonfile import read_json

    path = Path(path)
    if not path.is_dir():
        raise RunDirectoryError(f"{path} is not a run directory.")
    recorded = read_json(path / "config.json", what="run configuration",
                         error=RunDirectoryError,
                         missing=f"{path} has no config.json; is it a neurona run directory?")
    if not isinstance(recorded, dict) or recorded.get("command") != "train":
        raise RunDirectoryError(f"{path / 'config.json'} does not describe a training run.")
    return recorded


def load_run(path: str | Path) -> tuple[dict, dict]:
    """The config and the checkpoint of the run directory at ``path``, for :func:`run`."""
    path = Path(path)
    recorded = read_recorded_config(path)
    checkpoint = load_checkpoint(path / "checkpoint.json")
    config = make_config(**{k: v for k, v in recorded.items() if k in DEFAULTS})
    config["split"] = {k: v for k, v in config["split"].items()
                       if k not in ("n_train", "n_test")}
    return config, checkpoint


def versions() -> dict:
    # From the installed packages' metadata: importing matplotlib for its version
    # would cost a run without plots a quarter of a second.
    from importlib.metadata import version

    return {"neurona": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "scipy": version("scipy"),
            "scikit-learn": version("scikit-learn"), "matplotlib": version("matplotlib"),
            "platform": platform.platform()}


def _recorded(config: dict, parts: data.Split, initial: list[float], sizes: dict | None = None,
              **extra) -> dict:
    sizes = sizes or {"n_train": len(parts.y_train), "n_test": len(parts.y_test)}
    classes = {} if parts.classes is None else {"classes": list(parts.classes)}
    return {
        "command": "train",
        **config,
        **classes,
        "split": dict(config["split"], **sizes),
        "init_weights": initial,
        **{k: v for k, v in extra.items() if v is not None},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": versions(),
    }


def recorded_config(result: Run) -> dict:
    """``config.json``: the settings, the actual starting weights, sizes, outcome and versions.

    ``seed`` seeds the initial weights (unless ``init_weights`` was given) and
    every random choice of training (shuffling, validation split).
    """
    return _recorded(result.config, result.parts, result.initial, result.sizes,
                     status=result.status, resumed_from=result.resumed_from)


def _writes_checkpoint(result: Run) -> bool:
    return result.checkpoint is not None and result.status != "diverged" and (
        bool(result.config["checkpoint_every"]) or result.status == "interrupted")


def write_run(result: Run, path: str | Path, plots: bool = True, *, lang: str = "en",
              animation: bool = True, replace: bool = False) -> Path:
    """Write the run directory at ``path``; return its path.

    With ``plots``, the figures (and with ``animation`` the training
    animation) go to ``figures/`` and the HTML report to ``report.html``, in
    language ``lang``.

    A new directory appears whole or not at all. A directory that
    :func:`run` created for checkpoints (holding only ``config.json`` and
    ``checkpoint.json``) is completed in place, each file written atomically.
    ``checkpoint.json`` is written for runs with ``checkpoint_every`` and for
    interrupted runs, never for one that diverged (its last checkpoint stays).
    ``replace=True`` replaces an existing run directory at ``path``. With no
    test rows there is no ``report.txt``.
    """
    path = Path(path)
    names = {p.name for p in path.iterdir() if not p.name.startswith(".")} \
        if path.is_dir() else set()
    drawing = dict(plots=plots, lang=lang, animation=animation, name=path.name)
    if names and names <= IN_PROGRESS_FILES:
        _write_files(result, path, **drawing)
        return path
    with io.staged_directory(path, replace=replace) as tmp:
        _write_files(result, tmp, **drawing)
    return path


def _write_files(result: Run, directory: Path, *, plots: bool, lang: str, animation: bool,
                 name: str) -> None:
    config = recorded_config(result)
    training = {k: config[k] for k in ("reduction", "optimizer", "learning_rate", "epochs",
                                       "batch_size", "seed", "init_weights", "dtype")}
    io.save(result.neuron, directory / "model.json", loss=config["loss"], training=training,
            target=config["dataset"].get("target"))
    io.atomic_write_text(directory / "history.csv", result.history.to_csv())
    if result.report_text is not None:
        io.atomic_write_text(directory / "report.txt", result.report_text)
    if _writes_checkpoint(result):
        io.atomic_write_text(directory / "checkpoint.json", io.dumps(result.checkpoint))
    if result.trajectory is not None and len(result.trajectory):
        io.atomic_write_text(directory / "weights.csv", result.trajectory.to_csv())
    if plots:
        from .report_html import render_in_place

        render_in_place(result, directory, config=config, name=name, lang=lang,
                        animation=animation)
    io.atomic_write_text(directory / "config.json", io.dumps(config))


def _read_text(run_dir: Path, name: str) -> str:
    path = run_dir / name
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunDirectoryError(
            f"{path} is missing; is {run_dir} a run directory written by 'neurona train'?"
        ) from None


def load_result(run_dir: str | Path) -> tuple[Run, dict]:
    """Rebuild a written run from its directory, without training; return it and its config.

    The model, history, weights per epoch (if recorded) and configuration come
    from the run's files; the data and split are made again from
    ``config.json``'s dataset and split settings and checked against the
    recorded sizes. ``neurona report`` draws its figures from it.
    """
    run_dir = Path(run_dir)
    config = read_recorded_config(run_dir)
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
    classes = neuron.classes
    if config.get("stream"):  # read the file again in batches, as the run did
        from .stream import FileStream

        spec = config["dataset"]
        fs = FileStream(spec["path"], spec.get("target"), spec.get("features"),
                        delimiter=spec.get("delimiter"), encoding=spec.get("encoding"),
                        test_size=recorded["test_size"],
                        random_state=recorded["random_state"], classes=classes).scan()
        view = _streamed_view(fs, neuron)
        X, parts = view[0], view[2]
        found = {"n_train": fs.n_train, "n_test": fs.n_test}
    elif config.get("engine") == "dask":  # read the files again on a cluster
        from .distributed import cluster_client

        with cluster_client(config.get("scheduler"), config.get("dask_timeout", 10.0)):
            files = _dask_files({**config, "split": recorded}, "none")
            view = _sampled_view(neuron, files.test_view, files.features, files.classes,
                                 files.n_test)
        X, parts = view[0], view[2]
        found = {"n_train": files.n_train, "n_test": files.n_test}
    else:
        X, y, parts = load_data({**config, "split": recorded})
        found = {"n_train": len(parts.y_train), "n_test": len(parts.y_test)}
    if neuron.feature_names:
        parts.feature_names = list(neuron.feature_names)
    if X.shape[1] != neuron.n_features or any(
            sizes[k] is not None and sizes[k] != found[k] for k in found):
        raise RunDirectoryError(
            f"{run_dir}: the data made again from config.json ({found['n_train']} training "
            f"and {found['n_test']} test rows of {X.shape[1]} features) do not match the run "
            f"({sizes['n_train']} and {sizes['n_test']} rows, {neuron.n_features} features); "
            f"was the data changed since?")
    sampled = config.get("stream") or config.get("engine") == "dask"
    if not sampled:
        neuron.classes = None  # 0/1 predictions for the figures, labels in the report
        test_pred = neuron.predict(parts.X_test)
        neuron.classes = classes
        view = (X, y, parts, test_pred, *_test_report(parts.y_test, test_pred, classes))
    result = Run(config, neuron, history, *view, list(config.get("init_weights") or []),
                 status=config.get("status", "finished"), trajectory=trajectory,
                 sizes=found if sampled else None)
    return result, config
