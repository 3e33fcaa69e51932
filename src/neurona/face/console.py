"""The console side of training: epoch lines, a live progress bar, Ctrl-C and SIGTERM.

Both are callbacks: :class:`ProgressBar` prints (and draws a bar on a
terminal), :class:`GracefulInterrupt` turns the first Ctrl-C into a stop after
the current batch.
"""

from __future__ import annotations

import signal
import sys
import threading

from ..core.callbacks import Callback

def readable(value: float, decimals: int = 6) -> str:
    """``value`` with ``decimals`` decimals, or in exponent form when that would be unreadable.

    ``1745.026102``, but ``1.234568e+300`` and ``3.100000e-09``, never hundreds of digits.
    """
    if value != 0 and not (1e-4 <= abs(value) < 1e9):
        return f"{value:.{decimals}e}"
    return f"{value:.{decimals}f}"


def format_epoch(logs: dict, loss_name: str = "loss", width: int = 1) -> str:
    """One epoch as a line: the objective, the post's SSE, the accuracy, then validation.

    ``[ 0] log_loss: 1745.026102  sse: 318.732960  accuracy: 0.0257``
    """
    score = "accuracy" if "accuracy" in logs else "r2"  # a regression's history has r2
    line = (f"[{logs['epoch']:>{width}}] {loss_name}: {readable(logs['loss'])}  "
            f"sse: {readable(logs['sse'])}  {score}: {logs[score]:.4f}")
    if "val_loss" in logs:
        line += f"  val_{loss_name}: {readable(logs['val_loss'])}  " \
                f"val_{score}: {logs[f'val_{score}']:.4f}"
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
                              loss=f"{self.loss_name} {readable(logs['loss'])}")
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
