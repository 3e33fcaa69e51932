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

import numpy as np

from .. import data
from ..core.activations import ACTIVATIONS
from ..core.callbacks import Callback
from ..core.gradient import evaluate, penalty
from ..core.losses import LOSSES
from ..core.optimizers import OPTIMIZERS
from ..core.trainer import DivergenceError, Trainer
from ..data import scaling
from ..engines.memory import MemoryEngine, as_rows
from ..errors import OptionError
from ..files import model as model_file
from . import experiment

#: The settings a page may send, each with how its value is read.
SETTINGS = {
    "dataset": ("choice", tuple(data.DATASETS)),
    "n_samples": ("int", (20, 5000)),
    "noise": ("float", (0.0, 10.0)),
    "activation": ("choice", tuple(ACTIVATIONS)),
    "loss": ("choice", tuple(LOSSES)),
    "optimizer": ("choice", tuple(OPTIMIZERS)),
    "learning_rate": ("float", (1e-6, 100.0)),
    "batch_size": ("batch", (1, 5000)),
    "epochs": ("int", (1, 5000)),
    "l1": ("float", (0.0, 100.0)),
    "l2": ("float", (0.0, 100.0)),
    "scale": ("choice", ("none", "standard", "minmax")),
    "seed": ("int", (0, 2**31 - 1)),
}

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


def make_session_config(settings: dict) -> dict:
    """The experiment config of checked ``settings``: the post's, with them applied.

    The task follows :func:`neurona.face.experiment.choose_task` (the ``plane``
    dataset is a regression with the identity unit). ``noise`` is the blobs'
    ``cluster_std`` and the other datasets' ``noise``.
    """
    settings = dict(settings)
    name = settings.pop("dataset", "blobs")
    params = {}
    if "n_samples" in settings:
        params["n_samples"] = settings.pop("n_samples")
    if "noise" in settings:
        params["cluster_std" if name == "blobs" else "noise"] = settings.pop("noise")
    overrides = dict(settings)
    if name != "blobs" or params:
        overrides["dataset"] = data.dataset_spec(name, **params)
    given = set(overrides)
    config = experiment.make_config(**overrides)
    config, _ = experiment.choose_task(config, given)
    return experiment.resolve_config(config)


def _finite(values) -> list[float]:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, float).ravel()]


def _scores(metrics: dict, task: str) -> dict:
    key = "accuracy" if task == "classify" else "r2"
    return {"loss": metrics.get("loss"), "sse": metrics.get("sse"), key: metrics.get(key)}


class _Budget(Callback):
    """Stops the trainer once it has made ``left`` optimizer updates (at least one)."""

    def __init__(self):
        self.left = 0

    def _spend(self):
        self.left -= 1
        if self.left <= 0:
            self.trainer.stop("paused")

    def on_batch_end(self, batch, logs=None):  # mini-batches: one update per batch
        self._spend()

    def on_epoch_end(self, epoch, logs=None):  # one batch of every row: one per epoch
        if self.trainer.n_batches == 1:
            self._spend()


class _TestScores(Callback):
    """Each epoch's scores on the test rows, for the curves (evaluation, no update)."""

    def __init__(self, session):
        self.session = session
        self.rows: list[dict] = []

    def on_epoch_end(self, epoch, logs=None):
        self.rows.append({"epoch": epoch + 1, "train": _scores(logs or {}, self.session.task),
                          "test": self.session.test_scores()})


class Session:
    """One page's playground: its config, data, initial neuron and trainer.

    Parameters
    ----------
    settings : dict
        What the page sent (see :data:`SETTINGS`); checked here, a bad one
        raises :class:`~neurona.errors.OptionError`.
    """

    def __init__(self, settings: dict | None = None):
        self.settings = read_settings(settings or {})
        self.config = make_session_config(self.settings)
        self.task = self.config["task"]
        self.spec = experiment.train_spec(self.config)
        X, y, parts = experiment.load_data(self.config)
        self.X, self.y, self.parts = X, y, parts
        where = f"the {self.config['dataset']['name']} dataset"
        self.scaler = scaling.fit(self.config["scale"], parts.X_train, parts.feature_names,
                                  where)
        X_fit = parts.X_train if self.scaler is None else self.scaler.transform(parts.X_train)
        self.X_test = parts.X_test if self.scaler is None else \
            self.scaler.transform(parts.X_test)
        self.engine = MemoryEngine(*as_rows(X_fit, parts.y_train, dtype=self.spec.dtype),
                                   rows=parts.rows_train)
        self.initial = experiment.initial_neuron(self.config, X.shape[1], parts.feature_names)
        self.reset()

    # -- training --

    def reset(self) -> None:
        """A new trainer from the same initial neuron: the run starts again, the same."""
        self.neuron = self.initial.copy()
        self.budget = _Budget()
        self.tests = _TestScores(self)
        self.trainer = Trainer(self.neuron, self.engine, self.spec,
                               callbacks=[self.tests, self.budget])
        self.error = None
        self.sent = 0  # curve rows already sent

    @property
    def done(self) -> bool:
        return self.error is not None or self.trainer.epoch >= self.trainer.epochs

    def advance(self, updates: int) -> None:
        """Make up to ``updates`` optimizer updates (fewer at the last epoch)."""
        if self.done or updates < 1:
            return
        self.budget.left = int(updates)
        try:
            self.trainer.run()
        except DivergenceError as exc:
            self.error = str(exc)

    def updates_left_in_epoch(self) -> int:
        """The updates that finish the current epoch."""
        return self.trainer.n_batches - self.trainer.batch

    # -- what the page is sent --

    def test_scores(self) -> dict:
        if len(self.parts.y_test) == 0:
            return {}
        w, b = self.trainer.params[:-1], self.trainer.params[-1]
        with np.errstate(all="ignore"):
            m = evaluate(self.X_test, self.parts.y_test, w, b, self.trainer.activation,
                         self.trainer.loss, self.trainer.reduction, self.neuron.threshold,
                         task=self.task)
            m["loss"] += penalty(w, self.trainer.l1, self.trainer.l2)
        return {k: (v if v is None or math.isfinite(v) else None)
                for k, v in _scores(m, self.task).items()}

    def model(self) -> "experiment.Neuron":
        """The neuron as trained so far, carrying its scaler and labels (as model.json holds it)."""
        return experiment._as_saved(self.neuron, self.scaler, self.parts.classes)

    def model_document(self) -> dict:
        """The ``model.json`` document ``neurona train`` would write for this neuron."""
        training = {k: self.config[k] for k in ("reduction", "optimizer", "learning_rate",
                                                 "epochs", "batch_size", "seed",
                                                 "init_weights", "dtype")}
        return model_file.model_document(self.model(), loss=self.config["loss"],
                                         training=training, target=None)

    def _bounds(self) -> list[float]:
        lo, hi = self.X[:, :2].min(axis=0), self.X[:, :2].max(axis=0)
        pad = 0.08 * (hi - lo) + 1e-9
        return [float(lo[0] - pad[0]), float(hi[0] + pad[0]),
                float(lo[1] - pad[1]), float(hi[1] + pad[1])]

    def field(self) -> dict:
        """The neuron's output over a grid of the plane (rows from the top), for drawing."""
        x0, x1, y0, y1 = self._bounds()
        gx = np.linspace(x0, x1, GRID)
        gy = np.linspace(y1, y0, GRID)
        xx, yy = np.meshgrid(gx, gy)
        grid = np.column_stack([xx.ravel(), yy.ravel()])
        with np.errstate(all="ignore"):
            values = self.model().forward(grid)
        return {"n": GRID, "bounds": [x0, x1, y0, y1],
                "values": [None if not math.isfinite(v) else round(float(v), 4)
                           for v in values]}

    def start(self) -> dict:
        """The page's first message: the resolved settings, the points, the first frame."""
        parts = self.parts
        names = list(parts.feature_names or ["x1", "x2"])
        resolved = {k: self.config[k] for k in ("activation", "loss", "optimizer",
                                                 "learning_rate", "batch_size", "epochs",
                                                 "l1", "l2", "scale", "seed")}
        ds = self.config["dataset"]
        resolved.update(dataset=ds["name"], n_samples=ds["n_samples"],
                        noise=ds.get("cluster_std", ds.get("noise")))
        return {"type": "start", "task": self.task, "settings": resolved,
                "features": names[:2], "n_train": int(len(parts.y_train)),
                "n_test": int(len(parts.y_test)), "threshold": float(self.initial.threshold),
                "n_batches": int(self.trainer.n_batches),
                "initial": {"weights": _finite(self.initial.weights),
                            "bias": float(self.initial.bias)},
                "points": {"train": {"x": _finite(parts.X_train[:, :2]),
                                     "y": _finite(parts.y_train)},
                           "test": {"x": _finite(parts.X_test[:, :2]),
                                    "y": _finite(parts.y_test)}},
                **self.frame(), "type": "start"}

    def frame(self) -> dict:
        """Where training is: epoch, batch, weights, bias, scores, the new curve rows, the field."""
        t = self.trainer
        last = t.history.rows[-1] if t.history.rows else None
        rows = self.tests.rows[self.sent:]
        self.sent = len(self.tests.rows)
        status = "diverged" if self.error else ("finished" if self.done else
                                                 ("ready" if t.step == 0 else "paused"))
        return {"type": "frame", "status": status, "error": self.error,
                "epoch": int(t.epoch), "epochs": int(t.epochs), "batch": int(t.batch),
                "step": int(t.step), "weights": _finite(t.params[:-1]),
                "bias": _finite(t.params[-1:])[0],
                "train": _scores(last, self.task) if last else None,
                "test": self.test_scores(), "curves": rows, "field": self.field()}


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
