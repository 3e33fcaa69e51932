"""Hooks into training, and the built-in callbacks.

A callback's methods do nothing by default; override the ones you need:
``on_train_begin``, ``on_epoch_begin``, ``on_batch_end``, ``on_epoch_end`` and
``on_train_end``. ``logs`` is a plain dict: at the end of an epoch it is the
history row (``epoch``, ``loss``, ``sse``, ``accuracy``, ``grad_norm``,
``learning_rate`` and, when validating, ``val_loss``, ``val_sse``,
``val_accuracy``).

Before training starts, each callback's ``trainer`` attribute is set to the
running :class:`neurona.training.Trainer`. Call ``self.trainer.stop(reason)``
(or set ``self.trainer.stop_training = True``, as in Keras) to stop training
after the current batch. ``self.trainer.params`` holds the current weights and
bias, ``self.trainer.neuron`` the neuron being trained.

A callback that keeps state across epochs (like :class:`EarlyStopping`) can
define ``get_state() -> dict`` and ``set_state(dict)`` with JSON-ready values;
the trainer puts that state into checkpoints, so a resumed run continues it.

The built-ins here: :class:`History` (always there; ``train`` returns it) and
:class:`EarlyStopping`. Others live with what they touch:
:class:`neurona.files.checkpoint.Checkpoint` writes files,
:class:`neurona.face.console.ProgressBar` prints and
:class:`neurona.face.console.GracefulInterrupt` handles Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from ..errors import NeuronaError
from . import numeric_csv


class Callback:
    """Base class: every hook is a no-op."""

    trainer = None
    #: Callbacks with ``run_last = True`` are called after all others (a
    #: checkpoint must see the state every other callback has updated).
    run_last = False

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: dict | None = None) -> None:
        pass

    def on_train_end(self, logs: dict | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        pass


def overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` defines its own ``hook`` (so the trainer must call it)."""
    return getattr(type(callback), hook, None) is not getattr(Callback, hook)


class History(Callback):
    """The per-epoch record of a training run: one row (a dict) per epoch.

    ``history["loss"]`` is the column as a NumPy array; ``history.rows`` the
    rows in order; ``history.to_csv()`` the CSV text with a header row.
    """

    def __init__(self, rows: list[dict] | None = None):
        self.rows: list[dict] = list(rows or [])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.rows.append(dict(logs or {}))

    @property
    def keys(self) -> list[str]:
        keys: list[str] = []
        for row in self.rows:
            keys.extend(k for k in row if k not in keys)
        return keys

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.keys:
            raise KeyError(f"{key!r} is not in the history; it has {self.keys}.")
        return np.array([row.get(key, np.nan) for row in self.rows])

    def __len__(self) -> int:
        return len(self.rows)


    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.keys, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in row.items()})
        return out.getvalue()

    @classmethod
    def from_csv(cls, text: str, where: str = "history.csv") -> "History":
        """Read the text :meth:`to_csv` writes; raise ``NeuronaError`` naming ``where``.

        The first column is ``epoch``, numbering the rows 0, 1, 2, ...; every
        other cell is a finite number. Text with no header (a run stopped
        before its first epoch) is an empty history.
        """
        header, cells = numeric_csv.read_table(text, where, "history")
        if not header:
            return cls()
        if header[0] != "epoch":
            raise NeuronaError(f"{where}, line 1: the header {','.join(header)[:80]!r} does "
                               f"not start with epoch; is it a history file?")
        rows = []
        for line, raw in enumerate(cells, start=2):
            row = {"epoch": numeric_csv.count(raw[0], where, line, "epoch")}
            for key, cell in zip(header[1:], raw[1:]):
                row[key] = numeric_csv.count(cell, where, line, key) if key in COUNTS else \
                    numeric_csv.number(cell, where, line, key, "history values")
            rows.append(row)
        numeric_csv.consecutive([row["epoch"] for row in rows], where)
        return cls(rows)


#: The history's columns that count (whole numbers, read back as ints), besides ``epoch``.
COUNTS = ("passes",)


class EarlyStopping(Callback):
    """Stop training when a history key has stopped improving.

    Parameters
    ----------
    monitor : str, default="val_loss"
        The history key to watch (any of them: ``loss``, ``val_loss``,
        ``val_accuracy``, ``grad_norm``...). A key missing from the epoch's
        row is an error (validate, with ``validation_fraction``, to get
        ``val_`` keys).
    patience : int, default=10
        Epochs without improvement after which training stops.
    min_delta : float, default=0.0
        The smallest change that counts as an improvement.
    mode : {"auto", "min", "max"}, default="auto"
        Whether smaller or larger is better; ``"auto"`` means larger for keys
        that contain ``acc`` or ``r2`` (``val_accuracy``, ``val_r2``) and smaller
        for the others.
    restore_best_weights : bool, default=True
        At the end of training, set the neuron to the weights it had at the
        end of the best epoch.

    Attributes
    ----------
    best : float
        The best value seen (``None`` before the first epoch).
    best_epoch : int
        The epoch that gave it.
    stopped_epoch : int
        The epoch after which training was stopped (``None`` if it was not).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True):
        if mode not in ("auto", "min", "max"):
            raise NeuronaError(f"Unknown mode {mode!r}; choose 'auto', 'min' or 'max'.")
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) \
                or patience < 1:
            raise NeuronaError(f"patience must be a positive integer, got {patience!r}.")
        if not (isinstance(min_delta, (int, float)) and math.isfinite(min_delta)
                and min_delta >= 0):
            raise NeuronaError(f"min_delta must be a number >= 0, got {min_delta!r}.")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.mode = mode
        self.restore_best_weights = restore_best_weights
        self.best = None
        self.best_epoch = None
        self.best_weights = None
        self.wait = 0
        self.stopped_epoch = None

    @property
    def greater_is_better(self) -> bool:
        return self.mode == "max" or (self.mode == "auto" and (
            "acc" in self.monitor or "r2" in self.monitor))

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.greater_is_better:
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            hint = (" Pass validation_fraction (or validation_data) to get the val_ keys, or "
                    "monitor 'loss'." if self.monitor.startswith("val_") else "")
            raise NeuronaError(
                f"EarlyStopping monitors {self.monitor!r}, which is not in the history; it "
                f"has {sorted(logs)}.{hint}")
        value = float(logs[self.monitor])
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = np.array(self.trainer.params, dtype=np.float64)
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop("early_stopping")

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.trainer.neuron.weights = self.best_weights[:-1].copy()
            self.trainer.neuron.bias = float(self.best_weights[-1])

    def get_state(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_epoch": self.stopped_epoch,
                "best_weights": None if self.best_weights is None
                else [float(v) for v in self.best_weights]}

    def set_state(self, state: dict, n_params: int | None = None) -> None:
        """Continue from a state :meth:`get_state` returned (read back from a checkpoint).

        ``n_params`` is the number of the run's parameters, which the best
        weights must have. Raises ``NeuronaError`` naming the first field
        that is missing or of the wrong type.
        """
        kinds = {"best": "a finite number or null", "best_epoch": "an epoch number or null",
                 "wait": "a non-negative integer", "stopped_epoch": "an epoch number or null",
                 "best_weights": "a list of finite numbers or null"}
        if not isinstance(state, dict) or set(state) != set(kinds):
            raise NeuronaError(f"the state must be an object of {', '.join(kinds)}.")

        def count(v):
            return isinstance(v, int) and not isinstance(v, bool) and v >= 0

        def number(v):
            return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

        bw = state["best_weights"]
        ok = {"best": state["best"] is None or number(state["best"]),
              "best_epoch": state["best_epoch"] is None or count(state["best_epoch"]),
              "wait": count(state["wait"]),
              "stopped_epoch": state["stopped_epoch"] is None or count(state["stopped_epoch"]),
              "best_weights": bw is None or (isinstance(bw, list) and all(map(number, bw))
                                             and (n_params is None or len(bw) == n_params))}
        wrong = next((k for k, good in ok.items() if not good), None)
        if wrong is not None:
            size = "" if n_params is None or wrong != "best_weights" else f" (of {n_params})"
            raise NeuronaError(f"{wrong} must be {kinds[wrong]}{size}, got "
                               f"{state[wrong]!r:.60}.")
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.wait, self.stopped_epoch = state["wait"], state["stopped_epoch"]
        self.best_weights = None if bw is None else np.array(bw, dtype=np.float64)
