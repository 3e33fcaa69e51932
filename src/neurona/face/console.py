"""The console side of training: epoch lines, a live progress bar, Ctrl-C and SIGTERM.

Both are callbacks: :class:`ProgressBar` prints (and draws a bar on a
terminal), :class:`GracefulInterrupt` turns the first Ctrl-C or SIGTERM into a
stop after the current batch.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager

from ..core.callbacks import Callback
from ..show.i18n import DEFAULT_LANG, messages

def readable(value: float, decimals: int = 6) -> str:
    """``value`` with ``decimals`` decimals, or in exponent form when that would be unreadable.

    ``1745.026102``, but ``1.234568e+300`` and ``3.100000e-09``, never hundreds of digits.
    """
    if value != 0 and not (1e-4 <= abs(value) < 1e9):
        return f"{value:.{decimals}e}"
    return f"{value:.{decimals}f}"


def format_epoch(logs: dict, loss_name: str = "loss", width: int = 1,
                 lang: str = DEFAULT_LANG) -> str:
    """One epoch as a line: the objective, the post's SSE, the accuracy, then validation.

    ``[ 0] log_loss: 1745.026102  sse: 318.732960  accuracy: 0.0257``; in another
    ``lang`` the accuracy is named in it (the loss names and ``sse`` are the history's
    column names, the same in every language).
    """
    score = "accuracy" if "accuracy" in logs else "r2"  # a regression's history has r2
    word = messages(lang)("cli.accuracy") if score == "accuracy" else score
    line = (f"[{logs['epoch']:>{width}}] {loss_name}: {readable(logs['loss'])}  "
            f"sse: {readable(logs['sse'])}  {word}: {_score(logs[score])}")
    if "val_loss" in logs:
        line += f"  val_{loss_name}: {readable(logs['val_loss'])}  " \
                f"val_{word}: {_score(logs[f'val_{score}'])}"
    return line


def _score(value: float) -> str:
    """An accuracy or R² with four decimals; a diverging regression's huge negative R² in
    scientific notation."""
    return f"{value:.4f}" if abs(value) < 1e6 else f"{value:.4e}"


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
    lang : str, default="en"
        The language of the lines' and the bar's words.
    """

    def __init__(self, epochs: int, loss_name: str = "loss", stream=None,
                 live: bool | None = None, lang: str = DEFAULT_LANG):
        self.epochs = int(epochs)
        self.loss_name = loss_name
        self.lang = lang
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
        t = messages(self.lang)
        self._progress = Progress(
            TextColumn(t("cli.bar_epoch")), MofNCompleteColumn(), BarColumn(),
            TextColumn("{task.fields[loss]}"), TimeElapsedColumn(), TextColumn(t("cli.bar_eta")),
            TimeRemainingColumn(), console=Console(file=out), transient=True,
            redirect_stdout=False, redirect_stderr=False)
        self._task = self._progress.add_task("train", total=self.epochs, completed=done,
                                             loss="")
        self._progress.start()

    def on_epoch_end(self, epoch, logs=None):
        line = format_epoch(logs, self.loss_name, self.width, self.lang)
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
    """Ctrl-C (SIGINT) and SIGTERM stop training after the current batch instead of killing it.

    While training runs, the first SIGINT or SIGTERM asks the trainer to stop
    (``trainer.stop("interrupted")``); the run then ends normally, with
    ``trainer.status == "interrupted"``, so its state can be saved. A second
    signal interrupts at once. Does nothing outside the main thread.

    As a callback alone, it handles the signals during training only and puts
    the previous handlers back after the first signal and at the end. A
    command holds it for its whole life (:meth:`held`): before training a
    signal raises ``KeyboardInterrupt`` at once; from the start of training
    until the command asks otherwise, the first signal is only recorded (the
    command writes what it has, then stops); inside :meth:`raising` (e.g.
    while figures are drawn) a signal raises ``KeyboardInterrupt`` at once.

    Attributes
    ----------
    interrupted : bool
        Whether a signal arrived.
    signum : int or None
        The first signal that arrived.
    exit_status : int
        What a command exits with after it: 128 + the signal's number (130 for
        SIGINT, 143 for SIGTERM).
    """

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self):
        self.signum = None
        self._previous = None  # {signal: handler} while installed
        self._held = False
        self._raising = True
        self._training = False

    @property
    def interrupted(self) -> bool:
        return self.signum is not None

    @property
    def exit_status(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    def _signals(self):
        return [getattr(signal, name) for name in self.SIGNALS if hasattr(signal, name)]

    def _install(self) -> bool:
        if self._previous is not None:
            return True
        if threading.current_thread() is not threading.main_thread():
            return False
        self._previous = {s: signal.signal(s, self._handle) for s in self._signals()}
        return True

    def _restore(self) -> None:
        previous, self._previous = self._previous, None
        for s, handler in (previous or {}).items():
            if signal.getsignal(s) == self._handle:
                signal.signal(s, handler)

    def _handle(self, signum, frame):
        first = self.signum is None
        if first:
            self.signum = signum
        if not self._held:  # a callback alone: stop training, then the old handlers again
            self._restore()
            if self.trainer is not None:
                self.trainer.stop("interrupted")
            return
        if self._raising or not first:
            raise KeyboardInterrupt
        if self._training and self.trainer is not None:
            self.trainer.stop("interrupted")

    @contextmanager
    def held(self):
        """Handle SIGINT and SIGTERM for the whole ``with`` block (see the class docstring)."""
        if not self._install():
            yield self
            return
        self._held, self._raising = True, True
        try:
            yield self
        finally:
            self._held = False
            self._restore()

    @contextmanager
    def raising(self):
        """Inside the ``with`` block a signal raises ``KeyboardInterrupt`` at once.

        One that arrived before, while held, raises it on entering the block.
        """
        if self._held and self.interrupted:
            raise KeyboardInterrupt
        before, self._raising = self._raising, True
        try:
            yield self
        finally:
            self._raising = before

    def on_train_begin(self, logs=None):
        self._training = True
        if self._held:
            self._raising = False
        else:
            self._install()

    def on_train_end(self, logs=None):
        self._training = False
        if not self._held:
            self._restore()
