"""An experiment end to end: data, split, initial neuron, training, evaluation, run directory.

The command line maps its options onto a config dict and calls :func:`run`
and :func:`write_run`; nothing here prints. The config is what ``config.json``
records, so a run directory says exactly how to repeat it. Its training
settings are those of :class:`neurona.core.spec.TrainSpec` (their defaults
come from there); the others say what data, which neuron and where.

The rows go to one of three engines (:mod:`neurona.engines`): a file or a
built-in dataset in memory, a file streamed in record batches, or files read
by Dask. All three run the same training loop with the same settings, and a
file is split into the same training, validation and test rows on each.

Every run directory keeps ``checkpoint.json``, the trainer's whole state (but
for a run that diverged); :func:`load_run` reads a run directory back so that
:func:`run` can resume it, bit for bit, into a new run directory (the earlier
one is never touched).

A run directory appears whole: its files are staged in a hidden folder and
renamed into place (:func:`neurona.files.rundir.reserve_run`), a run that
checkpoints at its first checkpoint (then holding ``model.json``,
``history.csv``, ``checkpoint.json`` and ``config.json`` with ``"status":
"running"``), any other once its model, history, report, checkpoint,
weights and config are written. The figures and ``report.html`` are drawn
into it after that; ``config.json``'s ``figures`` says how that went:
``"drawn"``, ``"none"`` (not asked for), ``"pending"`` (being drawn, or the
process was killed meanwhile), ``"interrupted"`` (Ctrl-C or SIGTERM) or
``"failed"``; ``neurona report`` draws them later.
"""

from __future__ import annotations

import copy
import math
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__, data
from ..core.callbacks import Callback, EarlyStopping, History
from ..core.losses import check_pair
from ..core.neuron import Neuron, check_threshold
from ..core.spec import KERNELS, TrainSpec
from ..core.trainer import DivergenceError, Trainer
from ..core.trajectory import WeightTrajectory
from ..data import scaling
from ..data.encoding import ColumnRules
from ..data.filestream import FileStream, default_memory_budget
from ..data.split import check_class_rows
from ..engines import kernels
from ..engines.memory import MemoryEngine, as_rows
from ..engines.stream import SHUFFLE_BUFFER, StreamEngine, test_pass
from ..errors import DataError, NeuronaError, OptionError, RunDirectoryError
from ..files import model as model_file, rundir
from ..files.checkpoint import (Checkpoint, checkpoint_document, checkpoint_path,
                                load_checkpoint)
from ..files.jsonfile import dumps
from ..show import metrics
from ..show.i18n import DEFAULT_LANG, messages

#: The training settings a config holds: the spec's, but the seed (``seed``, which also
#: draws the initial weights) and how a pass is computed (the config's own ``kernel``,
#: which the engine takes: it is not part of the run's numbers beyond rounding).
SPEC_KEYS = tuple(k for k in TrainSpec.names() if k not in ("random_state", "kernel"))

DEFAULTS: dict = {
    # A built-in dataset {"name": "blobs", ...parameters}, or a file: {"name": "file",
    # "path", "target", "features" (None: all but the target), "delimiter", "encoding"}.
    "dataset": dict(name="blobs", **data.BLOBS_DEFAULTS),
    "split": dict(data.SPLIT_DEFAULTS, stratify=False),
    "scale": "none",            # none, standard or minmax, fitted on the training split
    "scale_target": "none",     # a regression's target: none or standard (training split)
    # A file's columns: missing values, unknown categories, hashed columns (ColumnRules).
    "columns": ColumnRules().to_dict(),
    "stream": None,             # None: stream a file larger than memory_budget
    "memory_budget": None,      # bytes; None: a quarter of the physical memory
    "shuffle_buffer": SHUFFLE_BUFFER,   # rows, for mini-batch training on a stream
    "engine": "numpy",          # numpy (in this process) or dask (on a Dask cluster)
    "kernel": "auto",           # how a pass is computed in this process: auto, numpy, numba
    "scheduler": None,          # the Dask scheduler's address; None: a local cluster
    "dask_timeout": 10.0,       # seconds to reach the scheduler
    "activation": "sigmoid",
    "threshold": 0.5,
    "seed": 1,                  # the initial weights' draw and the run's generator
    "init_weights": None,
    "checkpoint_every": None,   # epochs between checkpoints (None: at the end only)
    **{k: TrainSpec.defaults()[k] for k in SPEC_KEYS},
}


def make_config(**overrides) -> dict:
    """The post's experiment with ``overrides`` applied (unknown keys are refused)."""
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise NeuronaError(f"Unknown setting(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}.")
    config = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULTS.items()}
    config.update(overrides)
    return config


def train_spec(config: dict) -> TrainSpec:
    """The config's training settings as a (checked) :class:`TrainSpec`."""
    return TrainSpec(**{k: config[k] for k in SPEC_KEYS}, random_state=config["seed"])


def resolve_config(config: dict) -> dict:
    """``config`` with the settings that depend on others made explicit, after checking them.

    Early stopping validates on a held-out split (10% unless
    ``validation_fraction`` says otherwise, as scikit-learn does) and
    monitors ``val_loss``.
    """
    config = dict(config)
    spec = train_spec(config)
    activation, _ = check_pair(config["activation"], spec.loss)
    check_threshold(config["threshold"], activation)
    config["task"] = spec.resolved_task(activation.name)
    config["validation_fraction"] = spec.validation()
    if spec.early_stopping:
        config["monitor"] = spec.monitored()
    scaling.check_kind(config["scale"])
    if config["scale_target"] not in TARGET_SCALINGS:
        raise OptionError(f"Unknown target scaling {config['scale_target']!r}; choose one of "
                          f"{', '.join(TARGET_SCALINGS)}.")
    ColumnRules.from_dict(config["columns"])
    if config["scale_target"] != "none" and config["task"] != "regress":
        raise OptionError("--scale-target scales a regression's numbers; a classifier's "
                          "target is two classes: drop it, or pass --task regress.")
    return config


#: How a regression's target may be scaled for training (and mapped back at prediction).
TARGET_SCALINGS = ("none", "standard")


def choose_task(config: dict, given, lang: str = DEFAULT_LANG) -> tuple[dict, str | None]:
    """``config`` with the task the user's settings or data imply, and a note saying why.

    ``given`` names the settings the user set. A task given is kept; else the
    activation and loss imply one when either was given (identity with squared
    error: a regression); else the data decide: a regression dataset
    (:data:`neurona.data.REGRESSION_DATASETS`), or a file's target column holding
    numbers with more than two distinct values, is a regression; anything else a
    classifier. A regression given or chosen so, when neither the activation nor
    the loss was given, trains the identity activation on the squared error
    (with the mean reduction unless one was given), and on the ``plane`` dataset
    when no data were given. The note says which task was chosen and from what
    when that was a regression the activation and loss did not imply (None
    otherwise, as for the post's experiment), in ``lang``.
    """
    t = messages(lang)
    config, dataset = dict(config), config["dataset"]
    why = None  # what made the task a regression, when no setting said so
    if "task" in given:
        task = config["task"]
    elif given & {"activation", "loss"}:
        task = train_spec(dict(config, task=None)).resolved_task(config["activation"])
    elif dataset.get("name") == "file":
        from ..data.readers import DataFile
        from ..data.target import numeric_target

        path = dataset["path"]
        if config["engine"] == "dask":  # a glob, or a folder of Parquet files: the first
            import glob

            found = sorted(glob.glob(path) if not Path(path).is_dir() else
                           glob.glob(str(Path(path) / "*.parquet")))
            path = found[0] if found else path
        datafile = DataFile(path, delimiter=dataset.get("delimiter"),
                            encoding=dataset.get("encoding"))
        # A missing target column is left for the reading to report, in its own words.
        task = "regress" if dataset["target"] in datafile.columns and \
            numeric_target(datafile, dataset["target"]) else "classify"
        why = t("cli.task_why_column", column=repr(dataset["target"]))
    else:
        task = "regress" if dataset.get("name") in data.REGRESSION_DATASETS else "classify"
        why = t("cli.task_why_dataset", name=dataset.get("name"))
    config["task"] = task
    if task == "classify":
        return config, None
    for option, does in (("threshold", "turns the output into a class"),
                         ("class_weight", "weighs the classes")):
        if option in given:
            raise OptionError(f"--{option.replace('_', '-')} applies to a classifier (it "
                              f"{does}); a regression predicts numbers: drop it, or pass "
                              f"--task classify.")
    if given & {"activation", "loss"}:
        return config, None
    if "dataset" not in given:
        config["dataset"] = data.dataset_spec("plane")
        why = t("cli.task_why_plane")
    config["activation"], config["loss"] = "identity", "squared_error"
    if "reduction" not in given:  # the mean: a learning rate that does not depend on n
        config["reduction"] = "mean"
    return config, t(f"cli.task_note_{config['reduction']}", why=why)


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
    report_text: str | None = None
    test_accuracy: float | None = None
    initial: list[float] = field(default_factory=list)
    status: str = "finished"
    error: str | None = None
    checkpoint: dict | None = None
    resumed_from: str | None = None
    early_stopping: EarlyStopping | None = None
    trajectory: WeightTrajectory | None = None
    sizes: dict | None = None  # n_train, n_test where parts holds a sample (streamed runs)
    figures: str | None = None  # how drawing the figures went (config.json's "figures")
    #: A regression's scores on every test row (``show.metrics.regression_scores``); a
    #: regression's ``y``, ``parts.y_*`` and ``test_pred`` are in the target's units.
    test_scores: dict | None = None
    #: The run directory :func:`run` reserved for its checkpoints when given a path;
    #: :func:`write_run` completes it and gives it back.
    reservation: rundir.Reservation | None = None
    #: One-line notes for the user (a streamed file's cache rebuilt, or not written).
    notes: list = field(default_factory=list)

    @property
    def classes(self) -> list | None:
        return self.parts.classes


def load_data(config: dict) -> tuple[np.ndarray, np.ndarray, data.Split]:
    """The dataset and its train/test split described by ``config``.

    A classifier's ``y`` is 0/1 (for a file, ``split.classes`` holds the
    original labels), a regression's the target's numbers. A built-in dataset
    is split by scikit-learn's ``train_test_split`` (the post's split); a file
    by the per-row rule every engine uses (:mod:`neurona.data.split`).
    """
    spec = dict(config["dataset"])
    task = config.get("task") or "classify"
    if spec.get("name") == "file":
        if config["split"].get("stratify"):
            raise OptionError(
                "--stratify applies to the built-in datasets; a file is split row by row from "
                "a hash of --random-state and the row's position (the same rows in memory, "
                "streamed or on Dask), which keeps the class proportions in expectation: "
                "drop --stratify.")
        sp = config["split"]
        ds = data.read_data(spec["path"], spec.get("target"), spec.get("features"),
                            delimiter=spec.get("delimiter"), encoding=spec.get("encoding"),
                            task=task, rules=ColumnRules.from_dict(config["columns"]),
                            test_size=sp["test_size"], random_state=sp["random_state"])
        parts = data.split_rows(ds.X, ds.y, sp["test_size"], sp["random_state"],
                                feature_names=ds.feature_names, classes=ds.classes,
                                rows=ds.rows)
        parts.encoding, parts.n_dropped = ds.encoding, ds.n_dropped
        if ds.classes is None:
            counts = [{None: len(y)} for y in (parts.y_train, parts.y_test)]
        else:
            counts = [{c: int(np.sum(y == k)) for k, c in enumerate(ds.classes)}
                      for y in (parts.y_train, parts.y_test)]
        check_class_rows(*counts, ds.classes, sp["test_size"], spec["path"])
        return ds.X, ds.y, parts
    name = spec.get("name")
    if task == "classify" and name in data.REGRESSION_DATASETS:
        raise OptionError(f"the {name} dataset's targets are numbers, not two classes: train "
                          f"it with --task regress.")
    if task == "regress" and config["split"].get("stratify"):
        raise OptionError("--stratify keeps the classes' proportions; a regression's targets "
                          "are numbers: drop --stratify.")
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
    from ..data.readers import DataFile

    budget = config.get("memory_budget") or default_memory_budget()
    datafile = DataFile(spec["path"], delimiter=spec.get("delimiter"),
                        encoding=spec.get("encoding"))
    n_columns = len(spec["features"]) + 1 if spec.get("features") else None
    return datafile.estimated_bytes(n_columns) > budget


def _test_report(config: dict, y_test, test_pred, classes) -> dict:
    """The Run's ``report_text`` and ``test_accuracy`` (a classifier) or ``test_scores``
    (a regression) of the test rows; none without test rows."""
    if len(y_test) == 0:
        return {}
    if config.get("task") == "regress":
        scores = metrics.regression_scores(y_test, test_pred)
        return {"report_text": metrics.regression_report(scores, _target(config)),
                "test_scores": scores}
    text = metrics.classification_report(y_test, test_pred, labels=[0, 1],
                                         target_names=metrics.label_names(classes),
                                         zero_division=0)
    return {"report_text": text, "test_accuracy": metrics.accuracy(y_test, test_pred)}


def _target(config: dict) -> str | None:
    return config["dataset"].get("target") if config["dataset"].get("name") == "file" else None


def initial_neuron(config: dict, n_features: int, feature_names=None) -> Neuron:
    """The starting neuron: ``init_weights`` (bias last) if given, else a seeded draw."""
    kwargs = dict(activation=config["activation"], threshold=config["threshold"],
                  feature_names=feature_names, task=config.get("task") or "classify")
    init = config["init_weights"]
    if init is None:
        return Neuron.random(n_features, config["seed"], **kwargs)
    if len(init) != n_features + 1:
        raise NeuronaError(
            f"--init-weights has {len(init)} values, expected {n_features + 1}: one weight "
            f"per feature ({n_features}) and the bias last.")
    return Neuron(init[:-1], init[-1], **kwargs)


def _file_settings(config: dict) -> dict:
    spec = config["dataset"]
    return dict(path=spec["path"], target=spec.get("target"), features=spec.get("features"),
                delimiter=spec.get("delimiter"), encoding=spec.get("encoding"),
                rules=ColumnRules.from_dict(config.get("columns")),
                test_size=config["split"]["test_size"],
                random_state=config["split"]["random_state"], task=config.get("task") or "classify")


def run(config: dict, callbacks: list[Callback] | tuple = (), *, resume: dict | None = None,
        run_dir: "str | Path | rundir.Reservation | None" = None,
        resumed_from: str | None = None, cache=True) -> Run:
    """Run the experiment described by ``config`` (see :func:`make_config`).

    ``cache`` says where a streamed file's parsed rows are cached
    (:mod:`neurona.data.cache`: True the default folder, a path, or False for
    no cache); it changes no number of the run.

    ``resume`` is a checkpoint (see :func:`load_run`) to continue from. With
    ``config["checkpoint_every"]`` and a ``run_dir`` (a path, or a
    :class:`~neurona.files.rundir.Reservation`), the run directory is
    written at the first checkpoint and its checkpoint, model and history are
    rewritten (each atomically) every that many epochs, so a run killed on
    the way can be resumed (see :class:`RunCheckpoint`); :func:`write_run`
    completes the directory. A path is reserved now and held until
    :func:`write_run`. A run that diverges returns with ``status ==
    "diverged"`` and the error in ``error``, its neuron holding the last
    finite weights.
    """
    own = None
    if run_dir is not None and not isinstance(run_dir, rundir.Reservation):
        run_dir = own = rundir.reserve_run(run_dir) if config.get("checkpoint_every") else None
    try:
        result = _run(config, callbacks, resume, run_dir, resumed_from, cache)
    except BaseException:
        if own is not None:
            own.close()
        raise
    result.reservation = own
    return result


def _run(config, callbacks, resume, run_dir, resumed_from, cache=True) -> Run:
    config = resolve_config(config)
    kernels.check_kernel(config["kernel"])  # numba without Numba: said before the reading
    spec = train_spec(config)
    if config["engine"] == "dask":
        return _run_dask(config, spec, callbacks, resume, run_dir, resumed_from)
    config["stream"] = resolve_stream(config)
    if config["stream"]:
        return _run_streamed(config, spec, callbacks, resume, run_dir, resumed_from, cache)
    X, y, parts = load_data(config)
    # The scaler is fitted on the training rows, then attached to the trained neuron,
    # which then takes raw features (and answers in the original labels).
    where = config["dataset"].get("path") or f"the {config['dataset']['name']} dataset"
    scaler = scaling.fit(config["scale"], parts.X_train, parts.feature_names, where)
    X_fit = parts.X_train if scaler is None else scaler.transform(parts.X_train)
    # A regression's target scaler likewise: trained on scaled targets, answering in units.
    target_scaler = scaling.fit(config["scale_target"], parts.y_train[:, None],
                                [_target(config) or "y"], where)
    y_fit = parts.y_train if target_scaler is None else \
        target_scaler.transform(parts.y_train[:, None])[:, 0]
    engine = MemoryEngine(*as_rows(X_fit, y_fit, dtype=spec.dtype), rows=parts.rows_train,
                          kernel=config["kernel"])
    neuron = initial_neuron(config, X.shape[1], parts.feature_names)
    neuron.encoding = parts.encoding
    initial = [*map(float, neuron.weights), neuron.bias]
    trainer, error = _train(
        config, spec, neuron, engine, callbacks, resume, run_dir,
        lambda: _recorded(config, parts, initial, status="running", resumed_from=resumed_from),
        lambda: _as_saved(neuron, scaler, parts.classes, target_scaler), resumed_from)
    neuron.scaler, neuron.target_scaler = scaler, target_scaler
    test_pred = neuron.predict(parts.X_test)
    neuron.classes = parts.classes
    if config["dataset"].get("name") == "file":  # the raw columns the encoding reads
        config["dataset"] = dict(config["dataset"], features=parts.encoding.names)
    return Run(config, neuron, trainer.history, X, y, parts, test_pred, initial=initial,
               **_test_report(config, parts.y_test, test_pred, parts.classes),
               status=trainer.status, error=error, checkpoint=trainer.checkpoint(),
               resumed_from=resumed_from, early_stopping=trainer.early_stopping,
               trajectory=_trajectory(trainer))


def _trajectory(trainer) -> WeightTrajectory:
    return next(cb for cb in trainer.callbacks if isinstance(cb, WeightTrajectory))


def _train(config, spec, neuron, engine, callbacks, resume, reservation, recorded,
           saved, resumed_from=None) -> tuple:
    """Build the trainer (callbacks, checkpoints) on ``engine`` and run it.

    ``recorded()`` is the run's ``config.json`` while it trains, ``saved()`` the
    neuron as its ``model.json`` holds it; ``resumed_from`` (the run directory
    ``resume`` was read from) is named when the checkpoint does not fit this run.
    Returns ``(trainer, divergence message or None)``. A run that fails before its
    first checkpoint leaves nothing behind (its staging folder goes with its
    reservation).
    """
    callbacks = [*callbacks, WeightTrajectory(feature_names=neuron.feature_names)]
    source = None if resumed_from is None else str(checkpoint_path(resumed_from))
    trainer = Trainer(neuron, engine, spec, callbacks=callbacks, resume=resume,
                      resume_from=source)
    if reservation is not None and config["checkpoint_every"]:
        trainer.callbacks.append(RunCheckpoint(reservation, config["checkpoint_every"],
                                               recorded, saved))
    error = None
    try:
        trainer.run()
    except DivergenceError as exc:
        error = str(exc)
    return trainer, error


def _as_saved(neuron: Neuron, scaler, classes, target_scaler=None) -> Neuron:
    """A copy of the neuron being trained, with the scalers and labels it carries at the end."""
    saved = copy.copy(neuron)
    saved.weights = np.array(neuron.weights, copy=True)
    saved.scaler, saved.classes, saved.target_scaler = scaler, classes, target_scaler
    return saved


class RunCheckpoint(Checkpoint):
    """Checkpoints into the run directory being written, which appears at the first one.

    Each checkpoint rewrites ``checkpoint.json``, and ``model.json`` and
    ``history.csv`` as of that epoch (each atomically), so the directory is at
    any moment a run that loads, predicts and resumes; its ``config.json``
    says ``"status": "running"`` until :func:`write_run` completes it. The
    first writes ``config.json`` too and renames the staged directory into
    place (:meth:`neurona.files.rundir.Reservation.commit`).

    Parameters
    ----------
    reservation : neurona.files.rundir.Reservation
    every : int
    recorded : callable
        Returns the run's ``config.json`` content while it trains.
    saved : callable
        Returns the neuron as ``model.json`` holds it (with its scaler and labels).
    """

    def __init__(self, reservation: rundir.Reservation, every: int, recorded, saved):
        super().__init__(reservation.path / "checkpoint.json", every)
        self.reservation = reservation
        self._recorded, self._saved = recorded, saved
        self._config = None

    def write(self) -> None:
        directory = self.reservation.directory
        if self._config is None:
            self._config = self._recorded()
        try:
            _save_model(self._saved(), directory / "model.json", self._config)
            rundir.atomic_write_text(directory / "history.csv", self.trainer.history.to_csv())
            rundir.atomic_write_text(directory / "checkpoint.json",
                                     dumps(checkpoint_document(self.trainer.checkpoint())))
            if not self.reservation.committed:
                rundir.atomic_write_text(directory / "config.json", dumps(self._config))
                self.reservation.commit()
        except OSError as exc:
            raise RunDirectoryError(f"cannot write the checkpoint of {self.reservation.path}: "
                                    f"{exc.strerror or exc}.") from None

    def on_train_end(self, logs=None):
        if self.reservation.committed:  # else write_run writes the whole directory at once
            super().on_train_end(logs)


def _run_dask(config, spec, callbacks, resume, run_dir, resumed_from) -> Run:
    """The experiment on a Dask cluster: files read partition by partition (see
    :mod:`neurona.engines.dask`); the Run holds a sample of rows for the figures, and the
    report counts every test row."""
    from ..engines.dask import cluster_client

    if config["dataset"].get("name") != "file":
        raise OptionError("--engine dask trains on files: pass --data PATH (a CSV or Parquet "
                          "file, or a glob of them) and --target COLUMN.")
    if config.get("stream"):
        raise OptionError("--stream and --engine dask are two ways to train on large files; "
                          "choose one.")
    config["stream"] = False
    with cluster_client(config["scheduler"], config["dask_timeout"]):
        files = _dask_files(config, config["scale"], config["scale_target"])
        result = _sampled_run(config, spec, callbacks, resume, run_dir, resumed_from,
                              files.training_data(), files.feature_names, files.classes,
                              (files.scaler, files.target_scaler), _sizes(files),
                              files.test_view, encoding=files.encoding)
    return result


def _dask_files(config: dict, scale: str, scale_target: str = "none"):
    from ..engines.dask import DaskFiles

    return DaskFiles(**_file_settings(config)).scan(scale, scale_target)


def _run_streamed(config, spec, callbacks, resume, run_dir, resumed_from, cache=True) -> Run:
    """The experiment on a file read in record batches (see :mod:`neurona.engines.stream`):
    parsed once, into the cache (unless ``cache`` is False), which the epochs and the test
    pass read."""
    fs = FileStream(**_file_settings(config), dtype=config["dtype"], cache=cache).scan(
        config["scale"], scale_target=config["scale_target"])
    engine = StreamEngine(fs.part("train"), shuffle_buffer=config["shuffle_buffer"],
                          kernel=config["kernel"])
    result = _sampled_run(config, spec, callbacks, resume, run_dir, resumed_from, engine,
                          fs.feature_names, fs.classes, (fs.scaler, fs.target_scaler),
                          _sizes(fs), lambda n: test_pass(n, fs), encoding=fs.encoding)
    result.notes.extend(fs.notes)
    return result


def _sizes(source) -> dict:
    """A file's training and test rows, and those left out for missing values (if any)."""
    sizes = {"n_train": source.n_train, "n_test": source.n_test}
    if getattr(source, "n_read", 0) > source.n_rows:
        sizes["n_dropped"] = source.n_read - source.n_rows
    return sizes


def _sampled_run(config, spec, callbacks, resume, run_dir, resumed_from, engine, features,
                 classes, scalers, sizes, test_view, encoding=None) -> Run:
    """A run on data too large to keep: trained on ``engine``, reported from ``test_view``.

    ``scalers`` is ``(feature scaler, target scaler)``, either None; ``features`` are
    the neuron's, which ``encoding`` (if any) makes from the file's columns."""
    scaler, target_scaler = scalers
    neuron = initial_neuron(config, len(features), features)
    neuron.encoding = encoding
    initial = [*map(float, neuron.weights), neuron.bias]
    placeholder = data.Split(np.empty((0, len(features))), None, np.empty(0), None,
                             features, classes)
    trainer, error = _train(
        config, spec, neuron, engine, callbacks, resume, run_dir,
        lambda: _recorded(config, placeholder, initial, sizes, status="running",
                          resumed_from=resumed_from),
        lambda: _as_saved(neuron, scaler, classes, target_scaler), resumed_from)
    neuron.scaler, neuron.target_scaler = scaler, target_scaler
    view, report = _sampled_view(config, neuron, test_view, features, classes, sizes["n_test"])
    config["dataset"] = dict(config["dataset"],
                             features=features if encoding is None else encoding.names)
    return Run(config, neuron, trainer.history, *view, initial=initial, **report,
               status=trainer.status,
               error=error, checkpoint=trainer.checkpoint(), resumed_from=resumed_from,
               early_stopping=trainer.early_stopping, trajectory=_trajectory(trainer),
               sizes=sizes)


def _sampled_view(config: dict, neuron: Neuron, test_pass, features, classes,
                  n_test: int) -> tuple:
    """What a Run holds of data too large to keep: a sample of rows, and the test tally's report.

    ``test_pass(neuron)`` returns the test rows' tally (a classifier's 2x2
    confusion counts, a regression's error sums) and a sample ``(X, y, is_test)``.
    ``neuron`` (its scalers attached) gets the data's classes at the end. Returns
    ``((X, y, parts, test_pred), report)``,
    where ``X``, ``y`` and ``parts`` hold the sample (for the figures) and
    ``report`` (the Run's ``report_text`` and ``test_accuracy`` or
    ``test_scores``) covers every test row.
    """
    neuron.classes = None  # 0/1 predictions for the figures, labels in the report
    tally, (X, y, is_test) = test_pass(neuron)
    parts = data.Split(X[~is_test], X[is_test], y[~is_test], y[is_test], features, classes)
    test_pred = neuron.predict(parts.X_test)
    neuron.classes = classes
    report = {}
    if n_test and config.get("task") == "regress":
        scores = metrics.regression_scores_from_sums(tally)
        report = {"report_text": metrics.regression_report(scores, _target(config)),
                  "test_scores": scores}
    elif n_test:
        report = {"report_text": metrics.report_from_confusion(tally, classes),
                  "test_accuracy": float(np.trace(tally) / tally.sum())}
    return (X, y, parts, test_pred), report


def read_recorded_config(path: str | Path) -> dict:
    """The ``config.json`` of the run directory at ``path``, checked to be a training run's.

    Every setting it records is checked for its type and range (as
    :func:`check_recorded` does), so that reading the run back never fails
    on a setting.
    """
    from ..files.jsonfile import read_json

    path = Path(path)
    if not path.is_dir():
        raise RunDirectoryError(f"{path} is not a run directory.")
    recorded = read_json(path / "config.json", what="run configuration",
                         error=RunDirectoryError,
                         missing=f"{path} has no config.json; is it a neurona run directory?")
    if not isinstance(recorded, dict) or recorded.get("command") != "train":
        raise RunDirectoryError(f"{path / 'config.json'} does not describe a training run.")
    return check_recorded(recorded, str(path / "config.json"))


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


#: What each recorded setting outside the training spec must be: a check and its words.
_RECORDED = {
    "stream": (lambda v: v is None or isinstance(v, bool), "true, false or null"),
    "memory_budget": (lambda v: v is None or (_is_int(v) and v > 0),
                      "a positive number of bytes or null"),
    "shuffle_buffer": (lambda v: _is_int(v) and v > 0, "a positive integer"),
    "engine": (lambda v: v in ("numpy", "dask"), "'numpy' or 'dask'"),
    "kernel": (lambda v: v in KERNELS, ", ".join(repr(k) for k in KERNELS)),
    "scheduler": (lambda v: v is None or isinstance(v, str), "an address or null"),
    "dask_timeout": (lambda v: _is_number(v) and v > 0, "a positive number of seconds"),
    "threshold": (_is_number, "a finite number"),
    "scale_target": (lambda v: v in TARGET_SCALINGS, "one of " + ", ".join(TARGET_SCALINGS)),
    "seed": (lambda v: v is None or (_is_int(v) and v >= 0), "a non-negative integer"),
    "init_weights": (lambda v: v is None or (isinstance(v, list) and len(v) >= 2
                                             and all(map(_is_number, v))),
                     "a list of finite numbers (the weights, then the bias) or null"),
    "checkpoint_every": (lambda v: v is None or (_is_int(v) and v > 0),
                         "a positive integer or null"),
    "status": (lambda v: isinstance(v, str), "a string"),
    "created": (lambda v: isinstance(v, str), "a string"),
    "resumed_from": (lambda v: v is None or isinstance(v, str), "a path or null"),
    "versions": (lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
                 "an object of version strings"),
    "classes": (lambda v: isinstance(v, list) and len(v) == 2 and v[0] != v[1]
                and all(isinstance(c, (str, bool)) or _is_number(c) for c in v),
                "a list of two labels"),
}
_FILE_DATASET = {
    "path": (lambda v: isinstance(v, str) and v != "", "a path"),
    "target": (lambda v: isinstance(v, str) and v != "", "a column name"),
    "features": (lambda v: v is None or (isinstance(v, list) and v
                                         and all(isinstance(f, str) and f for f in v)
                                         and len(set(v)) == len(v)),
                 "a list of distinct column names or null"),
    "delimiter": (lambda v: v is None or (isinstance(v, str) and len(v) == 1),
                  "one character or null"),
    "encoding": (lambda v: v is None or isinstance(v, str), "a codec name or null"),
}


def check_recorded(recorded: dict, where: str) -> dict:
    """Check the settings a run's ``config.json`` records; return ``recorded``.

    The training settings are checked by :class:`~neurona.core.spec.TrainSpec`,
    the built-in dataset by :func:`neurona.data.dataset_spec`, the others here.

    Raises
    ------
    RunDirectoryError
        Naming ``where`` and the first setting that is wrong.
    """
    def fail(message: str):
        raise RunDirectoryError(f"{where}: {message}")

    for key, (ok, expected) in _RECORDED.items():
        if key in recorded and not ok(recorded[key]):
            fail(f"{key} must be {expected}, got {recorded[key]!r:.60}.")
    for key in ("dataset", "split"):
        if not isinstance(recorded.get(key, {}), dict):
            fail(f"{key} must be a JSON object.")
    dataset = recorded.get("dataset", DEFAULTS["dataset"])
    split_ = recorded.get("split", {})
    try:
        config = resolve_config(make_config(**{k: v for k, v in recorded.items()
                                               if k in DEFAULTS}))
        if dataset.get("name") == "file":
            for key, (ok, expected) in _FILE_DATASET.items():
                if not ok(dataset.get(key)):
                    fail(f"dataset {key} must be {expected}, got {dataset.get(key)!r:.60}.")
        else:
            if not isinstance(dataset.get("name"), str):
                fail(f"dataset name must be a string, got {dataset.get('name')!r:.60}.")
            data.dataset_spec(**dataset)
            if config["stream"] or config["engine"] == "dask":
                fail("a run on a built-in dataset was neither streamed nor run on Dask.")
        data.check_test_size(split_.get("test_size", data.SPLIT_DEFAULTS["test_size"]))
    except RunDirectoryError:
        raise
    except NeuronaError as exc:
        fail(str(exc))
    unknown = sorted(set(split_) - {"test_size", "random_state", "stratify", "n_train",
                                    "n_test", "n_dropped"})
    if unknown:
        fail(f"split has unknown setting(s) {unknown!r:.60}.")
    if "split" in recorded and not {"test_size", "random_state"} <= set(split_):
        fail("split must record test_size and random_state.")
    seed = split_.get("random_state")
    if seed is not None and not (_is_int(seed) and 0 <= seed < 2**63):
        fail(f"split random_state must be a non-negative integer or null, got {seed!r:.60}.")
    if not isinstance(split_.get("stratify", False), bool):
        fail("split stratify must be true or false.")
    for key in ("n_train", "n_test", "n_dropped"):
        if key in split_ and not (_is_int(split_[key]) and split_[key] >= 0):
            fail(f"split {key} must be a non-negative integer, got {split_[key]!r:.60}.")
    return recorded


def load_run(path: str | Path) -> tuple[dict, dict]:
    """The config and the checkpoint of the run directory at ``path``, for :func:`run`."""
    path = Path(path)
    recorded = read_recorded_config(path)
    checkpoint = load_checkpoint(path / "checkpoint.json")
    _check_data_again(path, recorded)
    init = recorded.get("init_weights")
    if init is not None and len(init) != len(checkpoint["params"]):
        raise RunDirectoryError(
            f"{path}: config.json records {len(init)} initial weights (bias last) but "
            f"checkpoint.json holds {len(checkpoint['params'])} parameters; is one of them "
            f"from another run?")
    config = make_config(**{k: v for k, v in recorded.items() if k in DEFAULTS})
    config["split"] = {k: v for k, v in config["split"].items()
                       if k not in ("n_train", "n_test", "n_dropped")}
    return config, checkpoint


def _check_data_again(run_dir: Path, config: dict) -> None:
    """The data file ``config.json`` names can still be opened and has the run's columns.

    Only the header is read; a Dask run's path may be a glob, read by Dask itself.
    """
    from ..data.readers import DataFile
    from ..data.table import resolve_columns

    dataset = config.get("dataset", {})
    if dataset.get("name") != "file" or config.get("engine") == "dask":
        return
    try:
        datafile = DataFile(dataset["path"], delimiter=dataset.get("delimiter"),
                            encoding=dataset.get("encoding"))
        resolve_columns(datafile, dataset["target"], dataset.get("features"))
    except RunDirectoryError:
        raise
    except NeuronaError as exc:
        raise RunDirectoryError(f"{run_dir}: the data config.json names cannot be read "
                                f"again: {exc}") from None


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
    if sizes is None:
        sizes = {"n_train": len(parts.y_train), "n_test": len(parts.y_test)}
        if parts.n_dropped:
            sizes["n_dropped"] = parts.n_dropped
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


def recorded_config(result: Run, figures: str | None = None) -> dict:
    """``config.json``: the settings, the actual starting weights, sizes, outcome and versions.

    ``seed`` seeds the initial weights (unless ``init_weights`` was given) and
    every random choice of training (shuffling, validation split); ``figures``
    says whether the figures were drawn (see the module's docstring).
    """
    return _recorded(result.config, result.parts, result.initial, result.sizes,
                     status=result.status, resumed_from=result.resumed_from, figures=figures)


def _writes_checkpoint(result: Run) -> bool:
    """Every run keeps its state to be continued, except one that diverged (whose last
    checkpoint, if any, stays)."""
    return result.checkpoint is not None and result.status != "diverged"


def write_run(result: Run, path: "str | Path | rundir.Reservation", plots: bool = True, *,
              lang: str = "en", animation: bool = True, replace: bool = False,
              interrupt=None) -> Path:
    """Write the run directory at ``path``; return its path.

    The model, history, report, checkpoint, weights and ``config.json`` are
    staged and the directory renamed into place whole (a run that
    checkpointed is already in place: its files are rewritten, each
    atomically, ``config.json`` last). Then, with ``plots``, the figures (and
    with ``animation`` the training animation) go to ``figures/`` and the
    HTML report to ``report.html``, in language ``lang``, and ``config.json``
    says ``"figures": "drawn"``.

    ``path`` is a path or the :class:`~neurona.files.rundir.Reservation` the
    caller holds. ``checkpoint.json`` is written for every run but one that
    diverged (its last checkpoint stays), so any run can be continued with
    ``--resume``. ``replace=True`` replaces an existing run directory at
    ``path``. With no test rows there is no ``report.txt``.

    ``interrupt`` is the :class:`~neurona.face.console.GracefulInterrupt` of
    the command, if any: after a signal the figures are not drawn; a signal
    (or ``KeyboardInterrupt``) while they are drawn stops the drawing and
    leaves the run without them, ``config.json`` saying ``"figures":
    "interrupted"``, and is raised again. ``result.figures`` tells what happened.
    """
    if isinstance(path, rundir.Reservation):
        reservation, own = path, False
    elif result.reservation is not None and Path(path) == result.reservation.path:
        reservation, own = result.reservation, True
    else:
        reservation, own = rundir.reserve_run(path, replace=replace), True
    try:
        return _write_run(result, reservation, plots=plots, lang=lang, animation=animation,
                          interrupt=interrupt)
    finally:
        if own:
            reservation.close()
        if result.reservation is not None:
            result.reservation.close()
            result.reservation = None


def _write_run(result: Run, reservation: rundir.Reservation, *, plots: bool, lang: str,
               animation: bool, interrupt) -> Path:
    path = reservation.path
    stopped = interrupt is not None and interrupt.interrupted
    result.figures = "none" if not plots else "interrupted" if stopped else "pending"
    config = recorded_config(result, figures=result.figures)
    try:
        _write_files(result, reservation.directory, config)
        reservation.commit()
        if result.figures == "pending" and interrupt is not None and interrupt.interrupted:
            result.figures = "interrupted"  # a signal while the files were written
            _set_figures(path, config, result.figures)
    except OSError as exc:
        raise RunDirectoryError(f"cannot write the run directory {path}: "
                                f"{exc.strerror or exc}.") from None
    if result.figures != "pending":
        return path
    from ..show.report_html import render_in_place

    try:
        render_in_place(result, path, config=dict(config, figures="drawn"), name=path.name,
                        lang=lang, animation=animation,
                        drawing=None if interrupt is None else interrupt.raising())
    except KeyboardInterrupt:
        result.figures = "interrupted"
        _set_figures(path, config, result.figures)
        raise
    except OSError as exc:
        result.figures = "failed"
        _set_figures(path, config, result.figures)
        raise RunDirectoryError(f"cannot write the figures of {path}: {exc.strerror or exc}; "
                                f"the run is written without them (neurona report {path} "
                                f"draws them).") from None
    except BaseException:
        result.figures = "failed"
        _set_figures(path, config, result.figures)
        raise
    result.figures = "drawn"
    _set_figures(path, config, result.figures)
    return path


def _set_figures(directory: Path, config: dict, figures: str) -> None:
    rundir.atomic_write_text(directory / "config.json", dumps(dict(config, figures=figures)))


def _save_model(neuron: Neuron, path: Path, config: dict) -> None:
    """``model.json``, with what the run's recorded ``config`` says of its training."""
    training = {k: config[k] for k in ("reduction", "optimizer", "learning_rate", "epochs",
                                       "batch_size", "seed", "init_weights", "dtype")}
    model_file.save(neuron, path, loss=config["loss"], training=training,
                    target=config["dataset"].get("target"))


def _write_files(result: Run, directory: Path, config: dict) -> None:
    """Every file of a run directory but the figures and report, ``config.json`` last."""
    _save_model(result.neuron, directory / "model.json", config)
    rundir.atomic_write_text(directory / "history.csv", result.history.to_csv())
    if result.report_text is not None:
        rundir.atomic_write_text(directory / "report.txt", result.report_text)
    if _writes_checkpoint(result):
        rundir.atomic_write_text(directory / "checkpoint.json",
                                 dumps(checkpoint_document(result.checkpoint)))
    if result.trajectory is not None and len(result.trajectory):
        rundir.atomic_write_text(directory / "weights.csv", result.trajectory.to_csv())
    rundir.atomic_write_text(directory / "config.json", dumps(config))


def _read_text(run_dir: Path, name: str) -> str:
    from ..files.jsonfile import read_text

    path = run_dir / name
    return read_text(path, what=Path(name).stem + " file", error=RunDirectoryError,
                     missing=f"{path} is missing; is {run_dir} a run directory written by "
                             f"'neurona train'?")


def _check_agreement(run_dir: Path, config: dict, neuron: Neuron, history: History,
                     trajectory: WeightTrajectory | None) -> None:
    """The run's files must tell one story: epochs, features, starting weights, classes."""
    def fail(message: str):
        raise RunDirectoryError(f"{run_dir}: {message}")

    epochs, status = config.get("epochs", DEFAULTS["epochs"]), config.get("status", "finished")
    if len(history) > epochs or (status == "finished" and len(history) != epochs):
        fail(f"history.csv holds {len(history)} epochs but config.json records a "
             f"{status} run of {epochs}; is one of them from another run?")
    if trajectory is not None:
        if trajectory.n_features != neuron.n_features:
            fail(f"weights.csv has {trajectory.n_features} weights per row but the model has "
                 f"{neuron.n_features}; is it from another run?")
        if trajectory.epoch[-1] != len(history):
            fail(f"weights.csv ends at epoch {trajectory.epoch[-1]} but history.csv holds "
                 f"{len(history)} epochs; is one of them from another run?")
    init = config.get("init_weights")
    if init is not None and len(init) != neuron.n_features + 1:
        fail(f"config.json records {len(init)} initial weights (bias last) for a model of "
             f"{neuron.n_features} features.")
    dataset = config.get("dataset", {})
    features = dataset.get("features") if dataset.get("name") == "file" \
        else [f"x{i}" for i in range(dataset.get("n_features", 2))]
    columns = neuron.n_features if neuron.encoding is None else len(neuron.encoding.names)
    if features is not None and len(features) != columns:
        fail(f"config.json names {len(features)} features but the model has "
             f"{columns}; is one of them from another run?")
    if dataset.get("name") != "file":
        split = config.get("split", {})
        sizes = [split.get(k) for k in ("n_train", "n_test")]
        n = dataset.get("n_samples", data.DATASETS.get(dataset.get("name"), {}).get("n_samples"))
        if None not in sizes and sum(sizes) != n:
            fail(f"the sizes config.json records ({sizes[0]} training and {sizes[1]} test "
                 f"rows) do not match the run's dataset of {n} rows; was config.json "
                 f"changed?")
    if "classes" in config and neuron.classes is not None and \
            list(config["classes"]) != list(neuron.classes):
        fail(f"config.json records the classes {config['classes']!r:.60} but model.json "
             f"{neuron.classes!r:.60}.")


def load_result(run_dir: str | Path, *, cache=True) -> tuple[Run, dict]:
    """Rebuild a written run from its directory, without training; return it and its config.

    The model, history, weights per epoch (if recorded) and configuration come
    from the run's files, checked to agree with each other (epochs, features,
    classes); the data and split are made again from ``config.json``'s dataset
    and split settings and checked against the recorded sizes. ``neurona
    report`` draws its figures from it. A streamed run's file is read through its cache
    (``cache``, as :func:`run` takes it).
    """
    run_dir = Path(run_dir)
    config = read_recorded_config(run_dir)
    neuron = model_file.load(run_dir / "model.json")
    history = History.from_csv(_read_text(run_dir, "history.csv"), str(run_dir / "history.csv"))
    trajectory = None
    if (run_dir / "weights.csv").exists():
        trajectory = WeightTrajectory.from_csv(_read_text(run_dir, "weights.csv"),
                                               str(run_dir / "weights.csv"))
    _check_agreement(run_dir, config, neuron, history, trajectory)
    _check_data_again(run_dir, config)
    try:
        return _rebuild(run_dir, config, neuron, history, trajectory, cache)
    except DataError as exc:
        raise RunDirectoryError(f"{run_dir}: the data config.json names cannot be read "
                                f"again: {exc}") from None


def _rebuild(run_dir: Path, config: dict, neuron: Neuron, history: History,
             trajectory: WeightTrajectory | None, cache=True) -> tuple[Run, dict]:
    """The Run of :func:`load_result`, its data made again."""
    recorded = dict(config.get("split", {}))
    sizes = {k: recorded.pop(k, None) for k in ("n_train", "n_test")}
    recorded.pop("n_dropped", None)
    classes = neuron.classes
    if config.get("stream"):  # read the file again in batches, as the run did
        fs = FileStream(**_file_settings({**config, "split": recorded}), classes=classes,
                        column_encoding=neuron.encoding,
                        dtype=config.get("dtype", DEFAULTS["dtype"]), cache=cache).scan()
        view, report = _sampled_view(config, neuron, lambda n: test_pass(n, fs),
                                     fs.feature_names, fs.classes, fs.n_test)
        X, parts = view[0], view[2]
        found = {"n_train": fs.n_train, "n_test": fs.n_test}
    elif config.get("engine") == "dask":  # read the files again on a cluster
        from ..engines.dask import cluster_client

        with cluster_client(config.get("scheduler"), config.get("dask_timeout", 10.0)):
            files = _dask_files({**config, "split": recorded}, "none")
            view, report = _sampled_view(config, neuron, files.test_view,
                                         files.feature_names, files.classes, files.n_test)
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
        view = (X, y, parts, test_pred)
        report = _test_report(config, parts.y_test, test_pred, classes)
    result = Run(config, neuron, history, *view, initial=list(config.get("init_weights") or []),
                 **report,
                 status=config.get("status", "finished"), trajectory=trajectory,
                 sizes=found if sampled else None,
                 notes=list(fs.notes) if config.get("stream") else [])
    return result, config


def rebuild_report(run_dir, *, lang: str = "en", animation: bool = True, cache=True,
                   notes: list | None = None) -> Path:
    """Redraw the figures and ``report.html`` of an existing run directory, without training.

    The model, history, weights and configuration are read from the run's
    files and the data made again from ``config.json`` (see
    :func:`load_result`); on any error the run directory is left as it
    was. A run whose ``config.json`` says its figures were not drawn says
    ``"figures": "drawn"`` afterwards. A run another process is writing is
    refused (see :func:`neurona.files.rundir.held_run`). ``cache`` is as
    :func:`load_result` takes it; the notes on a streamed file's cache go to
    ``notes`` (a list), if given.
    """
    from ..show.report_html import render_in_place

    result, config = load_result(run_dir, cache=cache)
    if notes is not None:
        notes.extend(result.notes)
    before = config.get("figures")
    if before is not None:
        config = dict(config, figures="drawn")
    with rundir.held_run(run_dir):
        page = render_in_place(result, run_dir, config=config, lang=lang, animation=animation)
        if before not in (None, "drawn"):
            rundir.atomic_write_text(Path(run_dir) / "config.json", dumps(config))
    return page
