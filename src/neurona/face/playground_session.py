"""One playground session: a page's data, neuron and trainer, advanced a few updates at a time.

The playground's page draws; this module trains, with the same pieces as
``neurona train``: the config of :mod:`neurona.face.experiment` (its defaults
are the post's experiment), its data and split (:func:`~neurona.face.experiment.load_data`),
its initial neuron, the in-memory engine and the one :class:`~neurona.core.trainer.Trainer`.
So with the default settings, training to the end gives exactly the loss and the
weights that ``neurona train`` prints.

A session advances by a number of optimizer updates (:meth:`Session.advance`): the
trainer is stopped after that many batches and run again later, which continues
the same run bit for bit (an epoch cut short is finished in the same order).
:meth:`Session.reset` builds a new trainer from the same initial neuron.
Everything the page receives is a JSON-ready dict of finite numbers
(:meth:`Session.start`, :meth:`Session.frame`): a run that diverges keeps its
last finite weights and says so.

Nothing here knows about HTTP; :mod:`neurona.face.playground` serves sessions.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from .. import data
from ..core.activations import ACTIVATIONS
from ..core.callbacks import Callback
from ..core.trajectory import WeightTrajectory
from ..core.explain import explain_row, gradient_sizes
from ..core.gradient import evaluate, numpy_pass, penalty
from ..core.loss_surface import loss_surface
from ..core.losses import reduction_scale
from ..core.losses import LOSSES
from ..core.lbfgs import NAME as LBFGS
from ..core.optimizers import OPTIMIZERS, SCHEDULES
from ..core.spec import LBFGS_UNUSED, TrainSpec
from ..core.trainer import DivergenceError, Trainer
from ..data import scaling
from ..data.encoding import MISSING
from ..engines.memory import MemoryEngine, as_rows
from ..errors import NeuronaError, OptionError
from ..files import model as model_file
from ..show.feature_plane import BoundaryField
from . import experiment
from .playground_upload import Upload, UploadError

#: The settings a page may send, each with how its value is read.
SETTINGS = {
    "dataset": ("choice", (*data.DATASETS, "file")),
    "n_samples": ("int", (20, 5000)),
    "noise": ("float", (0.0, 10.0)),
    "activation": ("choice", tuple(ACTIVATIONS)),
    "loss": ("choice", tuple(LOSSES)),
    "optimizer": ("choice", (*OPTIMIZERS, LBFGS)),
    "learning_rate": ("float", (1e-6, 100.0)),
    "batch_size": ("batch", (1, 5000)),
    "epochs": ("int", (1, 5000)),
    "l1": ("float", (0.0, 100.0)),
    "l2": ("float", (0.0, 100.0)),
    # The optimizer's and the schedule's own parameters (TrainSpec checks each further).
    "momentum": ("float", (0.0, 1.0)),
    "beta_1": ("float", (0.0, 1.0)),
    "beta_2": ("float", (0.0, 1.0)),
    "epsilon": ("float", (1e-12, 1.0)),
    "rho": ("float", (0.0, 1.0)),
    "weight_decay": ("float", (0.0, 10.0)),
    "schedule": ("choice", tuple(SCHEDULES)),
    "decay_rate": ("float", (1e-6, 1.0)),
    "decay_steps": ("int", (1, 10**6)),
    "power_t": ("float", (0.0, 10.0)),
    "end_learning_rate": ("float", (0.0, 100.0)),
    # A second optimizer racing the first from the same start on the same rows.
    "race": ("choice", ("none", *OPTIMIZERS, LBFGS)),
    "race_learning_rate": ("float", (1e-6, 100.0)),
    "scale": ("choice", ("none", "standard", "minmax")),
    "seed": ("int", (0, 2**31 - 1)),
    # An uploaded file's columns: the target, the missing-value rule, the plane's two features.
    "target": ("column", None),
    "missing": ("choice", MISSING),
    "plane_x": ("column", None),
    "plane_y": ("column", None),
}

#: The most points a page may add by clicking.
MAX_ADDED = 2000

#: The points of the field drawn behind the data, along each axis.
GRID = 60


def read_settings(given: dict) -> dict:
    """The page's settings checked and typed: ``{name: value}``.

    Unknown names and values of the wrong kind or out of range are refused
    with an :class:`~neurona.errors.OptionError` naming the setting; an empty
    value means the default.
    """
    if not isinstance(given, dict):
        raise OptionError("the settings must be an object of name: value.")
    out = {}
    for name, value in given.items():
        if name not in SETTINGS:
            raise OptionError(f"unknown setting {str(name)[:40]!r}; known: "
                              f"{', '.join(SETTINGS)}.")
        if value is None or value == "":
            continue
        kind, allowed = SETTINGS[name]
        if kind == "column":  # checked against the uploaded file's columns by the session
            out[name] = str(value)[:200]
            continue
        text = str(value).strip()[:40]
        if kind == "choice":
            if text not in allowed:
                raise OptionError(f"{name} must be one of {', '.join(allowed)}, got {text!r}.")
            out[name] = text
            continue
        if kind == "batch" and text in ("all", "full"):
            continue  # one batch of every row: the default
        try:
            number = float(text)
        except ValueError:
            raise OptionError(f"{name} must be a number, got {text!r}.") from None
        lo, hi = allowed
        if not (math.isfinite(number) and lo <= number <= hi):
            raise OptionError(f"{name} must be between {lo:g} and {hi:g}, got {text}.")
        if kind in ("int", "batch"):
            if number != int(number):
                raise OptionError(f"{name} must be a whole number, got {text}.")
            number = int(number)
        out[name] = number
    return out


def make_session_config(settings: dict, upload: Upload | None = None) -> dict:
    """The experiment config of checked ``settings``: the post's, with them applied.

    See :func:`session_overrides`.
    """
    overrides = session_overrides(settings, upload)
    config = experiment.make_config(**overrides)
    config, _ = experiment.choose_task(config, set(overrides))
    return experiment.resolve_config(config)


def session_overrides(settings: dict, upload: Upload | None = None) -> dict:
    """The :func:`~neurona.face.experiment.make_config` overrides of checked ``settings``.

    The task follows :func:`neurona.face.experiment.choose_task` (the ``plane``
    dataset is a regression with the identity unit). ``noise`` is the blobs'
    ``cluster_std`` and the other datasets' ``noise``. The dataset ``file`` is
    the ``upload`` (its ``target``, by default its last column, and every other
    column as a feature), read with the ``missing`` rule as ``--missing`` does.
    """
    settings = dict(settings)
    name = settings.pop("dataset", "blobs")
    target, missing = settings.pop("target", None), settings.pop("missing", None)
    for key in ("plane_x", "plane_y", "race", "race_learning_rate"):  # the page's own
        settings.pop(key, None)
    params = {}
    if "n_samples" in settings:
        params["n_samples"] = settings.pop("n_samples")
    if "noise" in settings:
        params["cluster_std" if name == "blobs" else "noise"] = settings.pop("noise")
    overrides = dict(settings)
    if name == "file":
        if upload is None:
            raise OptionError("no file uploaded yet: choose a CSV or Parquet file first.")
        if params:
            raise OptionError("noise and points apply to the built-in datasets, not to a file.")
        target = target or upload.columns[-1]
        if target not in upload.columns:
            raise OptionError(f"the file {upload.name} has no column {target[:40]!r}; its "
                              f"columns: {', '.join(upload.columns)[:300]}.")
        overrides["dataset"] = {"name": "file", "path": str(upload.path), "target": target,
                                "features": None, "delimiter": None, "encoding": None}
        if missing:
            overrides["columns"] = dict(experiment.DEFAULTS["columns"], missing=missing)
    elif name != "blobs" or params:
        overrides["dataset"] = data.dataset_spec(name, **params)
    return overrides


#: The optimizer's and the schedule's own settings (the page shows those that apply).
OPTIMIZER_KEYS = ("momentum", "beta_1", "beta_2", "epsilon", "rho", "weight_decay", "schedule",
                  "decay_rate", "decay_steps", "power_t", "end_learning_rate")
#: Settings of the page that are no ``neurona train`` option of the same name.
NOT_OPTIONS = ("noise", "target", "plane_x", "plane_y", "race", "race_learning_rate")
#: ``neurona train``'s option for each setting the page sends (the file's are written apart).
OPTIONS = {name: "--" + name.replace("_", "-") for name in SETTINGS if name not in NOT_OPTIONS}

#: A trainer's statuses that end a run before its last epoch.
STOPPED = ("converged", "early_stopping")

#: The loss surface's grid along each weight, and the most training rows it is drawn
#: from at every frame (on more rows, once an epoch: each value is a pass over them).
SURFACE = 41
SURFACE_ROWS = 5000
#: While playing, the loss surface is computed again at most this often (seconds).
SURFACE_SECONDS = 0.2


def _finite(values) -> list[float]:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, float).ravel()]


def _scores(metrics: dict, task: str) -> dict:
    key = "accuracy" if task == "classify" else "r2"
    return {"loss": metrics.get("loss"), "sse": metrics.get("sse"), key: metrics.get(key)}


class _EachUpdate(Callback):
    """Calls :meth:`update` after every optimizer update: each batch of a mini-batch
    epoch, or each epoch when one batch holds every row."""

    def update(self) -> None:
        raise NotImplementedError

    def on_batch_end(self, batch, logs=None):
        if self.trainer.n_batches > 1:
            self.update()

    def on_epoch_end(self, epoch, logs=None):
        if self.trainer.n_batches == 1:
            self.update()


class _Budget(_EachUpdate):
    """Stops the trainer once it has made ``left`` optimizer updates (at least one)."""

    def __init__(self):
        self.left = 0

    def update(self):
        self.left -= 1
        if self.left <= 0:
            self.trainer.stop("paused")


class _Path(_EachUpdate):
    """The two plane weights after every update, from the initial ones: the optimizer's path,
    with the box that holds it; the page is sent each point once (:meth:`unsent`)."""

    def __init__(self, pair, params):
        self.pair = list(pair)
        self.points: list[list[float]] = []
        self.lo = np.full(2, np.inf)
        self.hi = np.full(2, -np.inf)
        self.sent = 0
        self._add(np.asarray(params, float)[self.pair])

    def _add(self, point) -> None:
        self.points.append([float(v) for v in point])
        if np.isfinite(point).all():
            self.lo, self.hi = np.minimum(self.lo, point), np.maximum(self.hi, point)

    def update(self):
        self._add(self.trainer.params[self.pair])

    def unsent(self) -> dict:
        """The points not sent yet: ``{"start": index of the first, "points": [...]}``."""
        start, self.sent = self.sent, len(self.points)
        return {"start": start, "points": self.points[start:]}


class _TestScores(Callback):
    """Each epoch's scores on the test rows, for the curves (evaluation, no update)."""

    def __init__(self, runner):
        self.runner = runner
        self.rows: list[dict] = []

    def on_epoch_end(self, epoch, logs=None):
        self.rows.append({"epoch": epoch + 1,
                          "train": _scores(logs or {}, self.runner.session.task),
                          "test": self.runner.test_scores()})


class Runner:
    """One optimizer's run in a session: a neuron from the session's initial one, its
    trainer on the session's engine, and what the page is shown of it."""

    def __init__(self, session: "Session", spec):
        self.session, self.spec = session, spec
        self.neuron = session.initial.copy()
        self.budget = _Budget()
        self.tests = _TestScores(self)
        self.trajectory = WeightTrajectory(feature_names=self.neuron.feature_names)
        start = [*self.neuron.weights, self.neuron.bias]
        self.path = _Path(session.plane, start)
        self.trainer = Trainer(self.neuron, session.engine, spec,
                               callbacks=[self.tests, self.trajectory, self.path, self.budget])
        self.error = None
        self.sent = 0  # curve rows already sent

    @property
    def done(self) -> bool:
        """Diverged, trained for every epoch, or stopped by a rule (lbfgs has converged)."""
        t = self.trainer
        return self.error is not None or t.epoch >= t.epochs or t.status in STOPPED

    def advance(self, updates: int) -> None:
        """Make up to ``updates`` optimizer updates (fewer at the last epoch)."""
        if self.done or updates < 1:
            return
        self.budget.left = int(updates)
        try:
            self.trainer.run()
        except DivergenceError as exc:
            self.error = str(exc)

    def test_scores(self) -> dict:
        session = self.session
        if len(session.parts.y_test) == 0:
            return {}
        t = self.trainer
        w, b = t.params[:-1], t.params[-1]
        with np.errstate(all="ignore"):
            m = evaluate(session.X_test, session.parts.y_test, w, b, t.activation, t.loss,
                         t.reduction, self.neuron.threshold, task=session.task)
            m["loss"] += penalty(w, t.l1, t.l2)
        return {k: (v if v is None or math.isfinite(v) else None)
                for k, v in _scores(m, session.task).items()}

    def status(self) -> str:
        t = self.trainer
        if self.error:
            return "diverged"
        if t.status in STOPPED:
            return t.status
        return "finished" if self.done else ("ready" if t.step == 0 and t.epoch == 0
                                             else "paused")

    def frame(self) -> dict:
        """Where this run is: epoch, batch, weights, bias, scores and the new curve rows."""
        t = self.trainer
        last = t.history.rows[-1] if t.history.rows else None
        rows = self.tests.rows[self.sent:]
        self.sent = len(self.tests.rows)
        return {"status": self.status(), "error": self.error,
                "optimizer": self.spec.optimizer_name, "learning_rate": self.spec.learning_rate,
                "epoch": int(t.epoch), "epochs": int(t.epochs), "batch": int(t.batch),
                "step": int(t.step), "weights": _finite(t.params[:-1]),
                "bias": _finite(t.params[-1:])[0],
                "train": _scores(last, self.session.task) if last else None,
                "test": self.test_scores(), "curves": rows}


class Session:
    """One page's playground: its config, data, initial neuron and trainer.

    Parameters
    ----------
    settings : dict
        What the page sent (see :data:`SETTINGS`); checked here, a bad one
        raises :class:`~neurona.errors.OptionError`.
    upload : Upload, default=None
        The page's uploaded file, which the dataset ``file`` reads.
    """

    def __init__(self, settings: dict | None = None, upload: Upload | None = None):
        self.settings = read_settings(settings or {})
        self.upload = upload if self.settings.get("dataset") == "file" else None
        self.config = make_session_config(self.settings, self.upload)
        self.task = self.config["task"]
        self.spec = experiment.train_spec(self.config)
        self.race_spec = self._race_spec(self.settings.get("race", "none"))
        try:
            X, y, parts = experiment.load_data(self.config)
        except NeuronaError as exc:  # the page names its file, not the folder it is kept in
            if self.upload is None:
                raise
            raise UploadError(str(exc).replace(str(self.upload.path), self.upload.name)) \
                from None
        self.parts = parts
        self.plane = self._plane(parts.feature_names)
        self.initial = experiment.initial_neuron(self.config, X.shape[1], parts.feature_names)
        self.initial.encoding = getattr(parts, "encoding", None)
        self.edited, self.added = False, 0  # points added or removed by clicking
        self.inspected = None  # the training row whose forward pass the page shows
        self._box = None  # the loss surface's (w1, w2) window, and its last values
        self._surface = None
        self._fit()

    def _race_spec(self, race: str):
        """The racing optimizer's spec: the run's, with its optimizer and learning rate.
        lbfgs races with the full batch and its own steps (the settings it has no use
        for at their defaults)."""
        if race == "none":
            return None
        config = dict(self.config, optimizer=race, learning_rate=self.settings.get(
            "race_learning_rate", self.config["learning_rate"]))
        if race == LBFGS:
            defaults = TrainSpec.defaults()
            config.update({k: defaults[k] for k in LBFGS_UNUSED}, batch_size=None)
        return experiment.train_spec(config)

    def _plane(self, names) -> tuple[int, int]:
        """The two features the plane shows: ``plane_x`` and ``plane_y``, else the first two."""
        names = list(names or [])
        if len(names) < 2:
            raise OptionError(f"the plane shows two features and the data have {len(names)}: "
                              f"pick a file with at least two feature columns.")
        pair = []
        for key, default in (("plane_x", 0), ("plane_y", 1)):
            name = self.settings.get(key)
            if name is None:
                pair.append(default)
            elif name in names:
                pair.append(names.index(name))
            else:
                raise OptionError(f"{key} must be one of the features {', '.join(names)[:300]}, "
                                  f"got {name[:40]!r}.")
        if pair[0] == pair[1] and "plane_y" not in self.settings:
            pair[1] = 1 if pair[0] == 0 else 0
        if pair[0] == pair[1]:
            raise OptionError("plane_x and plane_y must be two different features.")
        return tuple(pair)

    def _fit(self) -> None:
        """The scaler and the engine of the training rows, and a new trainer."""
        parts = self.parts
        self.X = np.concatenate([parts.X_train, parts.X_test])
        self.y = np.concatenate([parts.y_train, parts.y_test])
        where = self.upload.name if self.upload else f"the {self.config['dataset']['name']} dataset"
        self.scaler = scaling.fit(self.config["scale"], parts.X_train, parts.feature_names,
                                  where)
        self.X_fit = parts.X_train if self.scaler is None else \
            self.scaler.transform(parts.X_train)
        self.X_test = parts.X_test if self.scaler is None else \
            self.scaler.transform(parts.X_test)
        self.engine = MemoryEngine(*as_rows(self.X_fit, parts.y_train, dtype=self.spec.dtype),
                                   rows=parts.rows_train)
        self.inspected = None
        self.reset()

    # -- the points, by clicking --

    def _check_editable(self) -> None:
        if self.upload is not None or self.task != "classify" or self.X.shape[1] != 2:
            raise OptionError("points are added and removed on the built-in two-class "
                              "datasets (blobs, moons, circles, xor, linear).")

    def add_point(self, x: float, y: float, label: int) -> None:
        """A training point of class ``label`` (0 or 1) at (x, y); training starts again."""
        self._check_editable()
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                   for v in (x, y)):
            raise OptionError("a point's x and y must be finite numbers.")
        if label not in (0, 1) or isinstance(label, bool):
            raise OptionError(f"a point's class must be 0 or 1, got {str(label)[:20]!r}.")
        if self.added >= MAX_ADDED:
            raise OptionError(f"at most {MAX_ADDED} points may be added.")
        parts = self.parts
        parts.X_train = np.vstack([parts.X_train, [[float(x), float(y)]]])
        parts.y_train = np.append(parts.y_train, float(label)).astype(parts.y_train.dtype)
        self.added += 1
        self.edited = True
        self._fit()

    def remove_point(self, x: float, y: float) -> None:
        """The training point nearest (x, y) left out; training starts again."""
        self._check_editable()
        parts = self.parts
        if len(parts.y_train) <= 2:
            raise OptionError("the last two training points stay.")
        d = np.sum((parts.X_train - np.array([float(x), float(y)])) ** 2, axis=1)
        keep = np.arange(len(d)) != int(np.argmin(d))
        parts.X_train, parts.y_train = parts.X_train[keep], parts.y_train[keep]
        self.edited = True
        self._fit()

    # -- training --

    def reset(self) -> None:
        """New trainers from the same initial neuron: the run (and the race) start again, the same."""
        self.runner = Runner(self, self.spec)
        self.racer = None if self.race_spec is None else Runner(self, self.race_spec)
        self._box, self._surface = None, None

    @property
    def runners(self) -> list[Runner]:
        return [self.runner] + ([self.racer] if self.racer is not None else [])

    @property
    def trainer(self) -> Trainer:
        return self.runner.trainer

    @property
    def neuron(self):
        return self.runner.neuron

    @property
    def trajectory(self) -> WeightTrajectory:
        return self.runner.trajectory

    @property
    def error(self) -> str | None:
        return self.runner.error

    @property
    def done(self) -> bool:
        return all(r.done for r in self.runners)

    def advance(self, updates: int) -> None:
        """Make up to ``updates`` optimizer updates in each run (fewer at the last epoch)."""
        for runner in self.runners:
            runner.advance(updates)

    def updates_left_in_epoch(self) -> int:
        """The updates that finish the current epoch."""
        return self.trainer.n_batches - self.trainer.batch

    # -- what the page is sent --

    def test_scores(self) -> dict:
        return self.runner.test_scores()

    def model(self, runner: Runner | None = None) -> "experiment.Neuron":
        """The neuron as trained so far (the race's with ``runner``), carrying its scaler
        and labels, as model.json holds it."""
        neuron = (runner or self.runner).neuron
        return experiment._as_saved(neuron, self.scaler, self.parts.classes)

    def model_document(self) -> dict:
        """The ``model.json`` document ``neurona train`` would write for this neuron."""
        training = {k: self.config[k] for k in ("reduction", "optimizer", "learning_rate",
                                                 "epochs", "batch_size", "seed",
                                                 "init_weights", "dtype")}
        return model_file.model_document(self.model(), loss=self.config["loss"],
                                         training=training, target=None)

    # -- take it with you --

    def command(self, race: bool = False) -> str:
        """The ``neurona train`` command line of this setup (the file by its own name);
        with ``race``, of the racing optimizer's run."""
        import shlex

        words = ["neurona", "train"]
        settings = dict(self.settings)
        if race:
            settings["optimizer"] = self.race_spec.optimizer_name
            settings["learning_rate"] = self.race_spec.learning_rate
        if settings.get("dataset") == "file":
            words += ["--data", self.upload.name, "--target", self.config["dataset"]["target"]]
            settings.pop("dataset")
        elif "noise" in settings:
            name = settings.get("dataset", "blobs")
            words += ["--cluster-std" if name == "blobs" else "--noise", f"{settings['noise']!r}"]
        for name, value in settings.items():
            if name in OPTIONS:
                words += [OPTIONS[name], str(value)]
        return " ".join(shlex.quote(w) for w in words)

    def python(self) -> str:
        """Python code that runs this setup as ``neurona train`` does and writes its run."""
        overrides = session_overrides(self.settings, self.upload)
        if self.upload is not None:
            overrides["dataset"] = dict(overrides["dataset"], path=self.upload.name)
        args = "".join(f"\n    {k}={v!r}," for k, v in overrides.items())
        return ("from neurona.face import experiment\n\n"
                f"settings = dict({args}\n)\n"
                "config, _ = experiment.choose_task(experiment.make_config(**settings), "
                "set(settings))\n"
                "result = experiment.run(config)\n"
                "experiment.write_run(result, \"runs/playground\")\n"
                "print(result.history.rows[-1][\"loss\"], result.neuron.weights, "
                "result.neuron.bias)\n")

    def run(self) -> "experiment.Run":
        """The session's run as it stands, as :func:`neurona.face.experiment.run` returns one."""
        parts, config = self.parts, dict(self.config)
        neuron = self.model()
        neuron.classes = None  # the test predictions as 0/1, as the run keeps them
        test_pred = neuron.predict(parts.X_test)
        neuron.classes = parts.classes
        if self.upload is not None:  # the file by its own name, its columns as read
            config["dataset"] = dict(config["dataset"], path=self.upload.name,
                                     features=parts.encoding.names)
        status = self.trainer.status if self.trainer.status != "ready" else "paused"
        initial = [*map(float, self.initial.weights), float(self.initial.bias)]
        return experiment.Run(
            config, neuron, self.trainer.history, self.X, self.y, parts, test_pred,
            initial=initial, **experiment._test_report(config, parts.y_test, test_pred,
                                                       parts.classes),
            status="diverged" if self.error else status, error=self.error,
            checkpoint=self.trainer.checkpoint(), trajectory=self.trajectory)

    def run_zip(self, lang: str = "en") -> bytes:
        """The run directory ``neurona train`` writes for this run, zipped (made in a
        temporary folder, removed after)."""
        import io
        import tempfile
        import zipfile

        with tempfile.TemporaryDirectory(prefix="neurona-playground-run-") as folder:
            path = experiment.write_run(self.run(), Path(folder) / "run", lang=lang,
                                        animation=False)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for file in sorted(path.rglob("*")):
                    if file.is_file():
                        archive.write(file, Path("run") / file.relative_to(path))
        return buffer.getvalue()

    def _bounds(self) -> list[float]:
        plane = list(self.plane)
        lo, hi = self.X[:, plane].min(axis=0), self.X[:, plane].max(axis=0)
        pad = 0.08 * (hi - lo) + 1e-9
        return [float(lo[0] - pad[0]), float(hi[0] + pad[0]),
                float(lo[1] - pad[1]), float(hi[1] + pad[1])]

    def field(self, runner: Runner | None = None) -> dict:
        """The neuron's output over a grid of the plane (rows from the top), for drawing;
        the features off the plane are held at their mean on the training rows."""
        x0, x1, y0, y1 = self._bounds()
        base = self.parts.X_train.mean(axis=0) if len(self.parts.y_train) else \
            np.zeros(self.X.shape[1])
        grid = BoundaryField(self.initial, self.plane, base, (x0, y1), (x1, y0), GRID).grid
        with np.errstate(all="ignore"):
            values = self.model(runner).forward(grid)
        return {"n": GRID, "bounds": [x0, x1, y0, y1],
                "values": [None if not math.isfinite(v) else round(float(v), 4)
                           for v in values]}

    def start(self) -> dict:
        """The page's first message: the resolved settings, the points, the first frame
        (the paths whole)."""
        for runner in self.runners:
            runner.path.sent = 0
        parts, plane = self.parts, list(self.plane)
        names = list(parts.feature_names or [f"x{k + 1}" for k in range(self.X.shape[1])])
        resolved = {k: self.config[k] for k in ("activation", "loss", "optimizer",
                                                 "learning_rate", "batch_size", "epochs",
                                                 "l1", "l2", "scale", "seed", *OPTIMIZER_KEYS)}
        resolved.update(race="none" if self.race_spec is None else self.race_spec.optimizer_name,
                        race_learning_rate=(self.race_spec or self.spec).learning_rate)
        ds = self.config["dataset"]
        resolved.update(dataset=ds["name"], n_samples=ds.get("n_samples"),
                        noise=ds.get("cluster_std", ds.get("noise")))
        if self.upload is not None:
            resolved.update(target=ds["target"], missing=self.config["columns"]["missing"],
                            plane_x=names[plane[0]], plane_y=names[plane[1]])
        return {"type": "start", "task": self.task, "settings": resolved,
                "features": [names[k] for k in plane], "feature_names": names,
                "plane": plane, "editable": self.upload is None and self.task == "classify"
                and self.X.shape[1] == 2, "edited": self.edited,
                "upload": None if self.upload is None else self.upload.describe(),
                "command": self.command(), "python": self.python(),
                "race_command": None if self.racer is None else self.command(race=True), "n_train": int(len(parts.y_train)),
                "n_test": int(len(parts.y_test)), "threshold": float(self.initial.threshold),
                "n_batches": int(self.trainer.n_batches),
                "initial": {"weights": _finite(self.initial.weights),
                            "bias": float(self.initial.bias)},
                "points": {"train": {"x": _finite(parts.X_train[:, plane]),
                                     "y": _finite(parts.y_train)},
                           "test": {"x": _finite(parts.X_test[:, plane]),
                                    "y": _finite(parts.y_test)}},
                **self.frame(), "type": "start"}

    def frame(self, fresh: bool = True) -> dict:
        """Where training is: the run's epoch, weights, scores, new curve rows and field;
        the loss surface with the paths' new points (see :meth:`surface` for ``fresh``);
        the inspected row; the racer's run."""
        out = {"type": "frame", **self.runner.frame(), "field": self.field(),
               "surface": self.surface(fresh or self.done), "point": self.point()}
        if self.racer is not None:
            race = self.racer.frame()
            race["field"] = self.field(self.racer)["values"]
            out["race"] = race
        return out

    # -- the loss surface over the plane's two weights --

    def _window(self) -> tuple[list[float], bool]:
        """The surface's (w1, w2) window: around the start, grown (doubled about its
        centre) until it holds every path; and whether it changed."""
        paths = [r.path for r in self.runners]
        low = np.min([p.lo for p in paths], axis=0)
        high = np.max([p.hi for p in paths], axis=0)
        box = self._box
        if box is None:
            centre = np.asarray(paths[0].points[0], float)
            half = np.maximum(1.0, 2.0 * np.abs(centre))
            box = [centre[0] - half[0], centre[0] + half[0], centre[1] - half[1],
                   centre[1] + half[1]]
        grown = list(box)
        for axis in (0, 1):
            lo, hi = grown[2 * axis], grown[2 * axis + 1]
            while low[axis] < lo or high[axis] > hi:
                mid, half = (lo + hi) / 2, hi - lo
                lo, hi = mid - half, mid + half
            grown[2 * axis], grown[2 * axis + 1] = lo, hi
        changed = grown != self._box
        self._box = grown
        return grown, changed

    def surface(self, fresh: bool = True) -> dict:
        """The objective over a grid of the plane's two weights, the bias and the other
        weights held at the run's current values, computed on the training rows
        (:func:`~neurona.core.loss_surface.loss_surface`), with the points each
        optimizer's path gained since the last frame (``paths``: ``{"start", "points"}``,
        the page keeps the rest).

        On more than :data:`SURFACE_ROWS` training rows the values are computed again
        only when the window grows or an epoch ends (each value is a pass over the rows).
        Not ``fresh`` (while playing), they are computed again at most every
        :data:`SURFACE_SECONDS` and sent only when new: ``values`` is then left out
        and the page keeps drawing the last ones under the moving paths.
        """
        box, changed = self._window()
        t = self.trainer
        key = (t.epoch, t.step) if len(self.parts.y_train) <= SURFACE_ROWS else t.epoch
        names = self.parts.feature_names or [f"x{k + 1}" for k in range(self.X.shape[1])]
        out = {"n": SURFACE, "bounds": box, "weights": [f"w[{names[k]}]" for k in self.plane],
               "paths": [r.path.unsent() for r in self.runners]}
        now = time.monotonic()
        old = self._surface
        if old is not None and not changed and not fresh and \
                (old[0] == key or now - old[2] < SURFACE_SECONDS):
            return out
        if changed or old is None or old[0] != key:
            w1 = np.linspace(box[0], box[1], SURFACE)
            w2 = np.linspace(box[3], box[2], SURFACE)  # rows from the top, as the field's
            with np.errstate(all="ignore"):
                values = loss_surface(self.X_fit, self.parts.y_train, t.params, self.plane, w1,
                                      w2, t.activation, t.loss, t.reduction, t.l1, t.l2)
            self._surface = (key, [None if not math.isfinite(v) else float(f"{v:.6g}")
                                   for v in values.ravel()], now)
        return dict(out, values=self._surface[1])

    # -- one training row, step by step --

    def inspect(self, x: float | None, y: float | None = None) -> None:
        """The page shows the forward pass of the training row nearest (x, y) on the plane
        (distances in each axis' range), or of none (``x`` None)."""
        if x is None:
            self.inspected = None
            return
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                   for v in (x, y)):
            raise OptionError("a point's x and y must be finite numbers.")
        shown = self.parts.X_train[:, list(self.plane)]
        span = np.ptp(self.X[:, list(self.plane)], axis=0)
        span[span == 0] = 1.0
        d = np.sum(((shown - np.array([float(x), float(y)])) / span) ** 2, axis=1)
        self.inspected = int(np.argmin(d))

    def point(self) -> dict | None:
        """The inspected row's forward pass and share of the gradient at the current
        weights (:func:`~neurona.core.explain.explain_row`), or None."""
        k = self.inspected
        if k is None:
            return None
        t, parts = self.trainer, self.parts
        w, b = t.params[:-1], t.params[-1]
        with np.errstate(all="ignore"):
            dw, db, _ = numpy_pass(self.X_fit, parts.y_train, w, b, t.activation, t.loss,
                                   t.reduction, task=self.task)
            scale = reduction_scale(t.reduction, len(parts.y_train))
            sizes = gradient_sizes(self.X_fit, parts.y_train, w, b, t.activation, t.loss, scale)
            steps = explain_row(self.X_fit[k], parts.y_train[k], w, b, t.activation, t.loss,
                                scale, np.append(dw, db), float(sizes.sum()))
        names = self.parts.feature_names or [f"x{j + 1}" for j in range(self.X.shape[1])]
        label = self.parts.classes[int(parts.y_train[k])] if self.task == "classify" and \
            self.parts.classes is not None else float(parts.y_train[k])
        return clean({"index": k, "features": list(names), "raw": _finite(parts.X_train[k]),
                      "x": _finite(self.X_fit[k]), "y": float(parts.y_train[k]),
                      "label": label if isinstance(label, (int, float)) else str(label),
                      "weights": _finite(w), "bias": float(b), "loss_name": t.loss.name,
                      "activation": t.activation.name, "reduction": t.reduction,
                      "n_rows": int(len(parts.y_train)),
                      "data_gradient": _finite(np.append(dw, db)), **steps})


def clean(obj):
    """``obj`` with every non-finite float made None (JSON is written with allow_nan=False)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, np.generic):
        return clean(obj.item())
    return obj


__all__ = ["Session", "SETTINGS", "read_settings", "make_session_config", "clean"]
