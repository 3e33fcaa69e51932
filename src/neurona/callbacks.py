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

The built-ins: :class:`History` (always there; ``train`` returns it),
:class:`EarlyStopping`, :class:`Checkpoint`, :class:`ProgressBar` and
:class:`GracefulInterrupt` (Ctrl-C finishes the current batch, then stops).
"""

from __future__ import annotations

import csv
import io
import math
import signal
import sys
import threading
from pathlib import Path

import numpy as np

from .errors import NeuronaError


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

    def _repr_html_(self) -> str:
        from .report_html import history_html

        return history_html(self)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.keys, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in row.items()})
        return out.getvalue()

    @classmethod
    def from_csv(cls, text: str) -> "History":
        rows = []
        for raw in csv.DictReader(io.StringIO(text)):
            rows.append({k: int(v) if k == "epoch" else float(v) for k, v in raw.items()})
        return cls(rows)


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
        that contain ``accuracy`` and smaller for the others.
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
        return self.mode == "max" or (self.mode == "auto" and "acc" in self.monitor)

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

    def set_state(self, state: dict) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.wait, self.stopped_epoch = state["wait"], state["stopped_epoch"]
        bw = state["best_weights"]
        self.best_weights = None if bw is None else np.array(bw, dtype=np.float64)


# --- checkpoints ------------------------------------------------------------------

CHECKPOINT_FORMAT = "neurona-checkpoint"
CHECKPOINT_VERSION = 1
CHECKPOINT_FIELDS = ("format", "format_version", "status", "epoch", "batch", "step", "params",
                     "optimizer_state", "rng_initial", "rng", "partial", "history",
                     "callbacks", "settings")


class Checkpoint(Callback):
    """Write the trainer's whole state to a JSON file every ``every`` epochs and at the end.

    The file (see :meth:`neurona.training.Trainer.checkpoint`) holds the
    parameters, the optimizer state, the random generator's state, the epoch,
    the batch reached within it, the history and the state of callbacks like
    :class:`EarlyStopping`: ``train(..., resume=path)`` continues the run bit
    for bit. Each write is atomic (a temporary file, then a rename), so the
    file is always a whole checkpoint. Nothing is written at the end of a run
    that diverged or failed with an error: the previous checkpoint stays.

    Parameters
    ----------
    path : str or Path
        The checkpoint file, e.g. ``run/checkpoint.json``.
    every : int, default=1
        Write after every ``every``-th epoch (and always at the end).
    """

    run_last = True

    def __init__(self, path, every: int = 1):
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise NeuronaError(f"every must be a positive integer, got {every!r}.")
        self.path = Path(path)
        self.every = int(every)

    def write(self) -> None:
        from .io import atomic_write_text, dumps

        atomic_write_text(self.path, dumps(self.trainer.checkpoint()))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self.write()

    def on_train_end(self, logs=None):
        if self.trainer.status not in ("diverged", "failed"):
            self.write()


def load_checkpoint(path) -> dict:
    """Read and check a checkpoint file written by :class:`Checkpoint`; return it as a dict."""
    from .jsonfile import check_format, read_json

    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.json"
    doc = read_json(path, what="checkpoint", error=NeuronaError, missing=(
        f"{path}: no checkpoint; a run directory holds one when it was trained with "
        f"--checkpoint-every or interrupted with Ctrl-C."))
    return check_format(doc, format=CHECKPOINT_FORMAT, versions=(CHECKPOINT_VERSION,),
                        where=str(path), what="checkpoint", error=NeuronaError,
                        fields=CHECKPOINT_FIELDS)


# --- output -------------------------------------------------------------------------

def format_epoch(logs: dict, loss_name: str = "loss", width: int = 1) -> str:
    """One epoch as a line: the objective, the post's SSE, the accuracy, then validation.

    ``[ 0] log_loss: 1745.026102  sse: 318.732960  accuracy: 0.0257``
    """
    line = (f"[{logs['epoch']:>{width}}] {loss_name}: {logs['loss']:.6f}  "
            f"sse: {logs['sse']:.6f}  accuracy: {logs['accuracy']:.4f}")
    if "val_loss" in logs:
        line += f"  val_{loss_name}: {logs['val_loss']:.6f}  " \
                f"val_accuracy: {logs['val_accuracy']:.4f}"
    return line


class ProgressBar(Callback):
    """Show training as it goes: one line per epoch, and a live bar on a terminal.

    On a terminal, a rich progress bar (epoch, loss, elapsed time, ETA) stays
    at the bottom while the epoch lines scroll above it, and disappears at the
    end. Anywhere else (a pipe, a file, a notebook log) it prints the plain
    lines only, exactly those of :func:`format_epoch`. Leave it out to be
    silent (``--quiet``).

    Parameters
    ----------
    epochs : int
        The total number of epochs (for the bar and the width of the epoch column).
    loss_name : str, default="loss"
        How the objective is named in the lines (``log_loss``, ``squared_error``).
    stream : file, default=sys.stdout
    live : bool, default=None
        Draw the live bar; ``None``: only when ``stream`` is a terminal.
    """

    def __init__(self, epochs: int, loss_name: str = "loss", stream=None,
                 live: bool | None = None):
        self.epochs = int(epochs)
        self.loss_name = loss_name
        self.width = len(str(max(self.epochs - 1, 0)))
        self.stream = stream
        self.live = live
        self._progress = None

    def _out(self):
        return self.stream or sys.stdout

    def on_train_begin(self, logs=None):
        out = self._out()
        live = self.live if self.live is not None else bool(getattr(out, "isatty", lambda: 0)())
        if not live:
            return
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        done = len(self.trainer.history) if self.trainer is not None else 0
        self._progress = Progress(
            TextColumn("epoch"), MofNCompleteColumn(), BarColumn(),
            TextColumn("{task.fields[loss]}"), TimeElapsedColumn(), TextColumn("ETA"),
            TimeRemainingColumn(), console=Console(file=out), transient=True,
            redirect_stdout=False, redirect_stderr=False)
        self._task = self._progress.add_task("train", total=self.epochs, completed=done,
                                             loss="")
        self._progress.start()

    def on_epoch_end(self, epoch, logs=None):
        line = format_epoch(logs, self.loss_name, self.width)
        if self._progress is None:
            print(line, file=self._out())
            return
        self._progress.update(self._task, advance=1,
                              loss=f"{self.loss_name} {logs['loss']:.6f}")
        self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def on_train_end(self, logs=None):
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class GracefulInterrupt(Callback):
    """Ctrl-C (SIGINT) stops training after the current batch instead of killing it.

    While training runs, the first SIGINT asks the trainer to stop
    (``trainer.stop("interrupted")``); the run then ends normally, with
    ``trainer.status == "interrupted"``, so its state can be saved. The
    previous handler is put back at once, so a second Ctrl-C interrupts
    immediately. Does nothing outside the main thread.

    Attributes
    ----------
    interrupted : bool
        Whether a SIGINT arrived.
    """

    def __init__(self):
        self.interrupted = False
        self._previous = None

    def _handle(self, signum, frame):
        self.interrupted = True
        signal.signal(signal.SIGINT, self._previous)
        self.trainer.stop("interrupted")

    def on_train_begin(self, logs=None):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def on_train_end(self, logs=None):
        if self._previous is not None and signal.getsignal(signal.SIGINT) == self._handle:
            signal.signal(signal.SIGINT, self._previous)
        self._previous = None
