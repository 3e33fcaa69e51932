"""Checkpoints: the trainer's whole state written to a file, and read back strictly.

:class:`Checkpoint` is a callback that writes the state every few epochs and
at the end; :func:`load_checkpoint` reads such a file (one strict JSON reader,
:mod:`neurona.files.jsonfile`) for ``train(..., resume=...)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.callbacks import Callback
from ..core.trainer import STATE_FIELDS, check_state
from ..errors import NeuronaError
from .jsonfile import check_format, dumps, read_json
from .rundir import atomic_write_text

CHECKPOINT_FORMAT = "neurona-checkpoint"
CHECKPOINT_VERSION = 1
CHECKPOINT_FIELDS = ("format", "format_version", *STATE_FIELDS)


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, dumps(checkpoint_document(self.trainer.checkpoint())))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self.write()

    def on_train_end(self, logs=None):
        if self.trainer.status not in ("diverged", "failed"):
            self.write()


def checkpoint_path(path) -> Path:
    """The checkpoint file ``path`` names: itself, or the ``checkpoint.json`` of a run directory."""
    path = Path(path)
    return path / "checkpoint.json" if path.is_dir() else path


def load_checkpoint(path) -> dict:
    """Read and check a checkpoint file written by :class:`Checkpoint`; return it as a dict.

    ``path`` is the file or a run directory holding ``checkpoint.json``. The
    format is checked, and every field of the run's state for its type and
    shape (:func:`neurona.core.trainer.check_state`); what depends on the run
    it continues is checked when training resumes.
    """
    path = checkpoint_path(path)
    doc = read_json(path, what="checkpoint", error=NeuronaError, missing=(
        f"{path}: no checkpoint; a run directory holds one when it was trained with "
        f"--checkpoint-every or interrupted with Ctrl-C."))
    check_format(doc, format=CHECKPOINT_FORMAT, versions=(CHECKPOINT_VERSION,),
                 where=str(path), what="checkpoint", error=NeuronaError,
                 fields=CHECKPOINT_FIELDS)
    return check_state(doc, str(path))


def checkpoint_document(state: dict) -> dict:
    """A trainer's state (:meth:`neurona.core.trainer.Trainer.checkpoint`) as a checkpoint file's content."""
    return {"format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_VERSION, **state}
