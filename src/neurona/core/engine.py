"""The engine protocol: where the rows live, and the questions the training loop asks them.

The training loop (:class:`neurona.core.trainer.Trainer`) is written once. It
never looks at the data; it asks an engine, an object that holds the training
rows somewhere (a NumPy array in memory, a file read in record batches, a Dask
collection on a cluster) and answers the same few questions:

============================== ==================================================
``n_rows``, ``n_features``     how many training rows and features
``n_batches(batch_size)``      updates per epoch
``draw_order(rng)``            an epoch's batch order, drawn from the run's
                               generator (only when shuffling mini-batches)
``run_epoch(params, ...)``     one epoch's updates: see :meth:`Engine.run_epoch`
``evaluate(w, b, ...)``        ``loss``, ``sse``, and ``accuracy`` (or a regression's
                               ``r2``, ``mae``) of the rows at (w, b)
``forward_backward(w, b, ...)`` one pass over every row: the gradient of the reduced
                               loss and the pass's metrics, loss included (what
                               the lbfgs optimizer evaluates, once per pass)
``split(fraction, seed)``      ``(training, validation)`` engines: the rows whose
                               :func:`neurona.data.split.row_uniform` draw is below
                               ``fraction`` validate, the same rows on every engine
``label_counts()``             the (unweighted) count of each target value
``reweighted(mapping)``        the same rows, each weighted by its label's weight
``refuse(spec)``               raise for a setting this engine cannot honour
============================== ==================================================

An engine is one module under :mod:`neurona.engines`, and one line in
:func:`neurona.engines.engine_for`, the only function that looks at the type
of the data to choose one.
"""

from __future__ import annotations

import abc
import functools

import numpy as np

from ..errors import OptionError, SettingError


class Engine(abc.ABC):
    """Training rows and the pass over them (see the module's notes).

    Attributes
    ----------
    n_rows : int
        Training rows.
    n_features : int
    weighted : bool
        Whether the rows carry weights (sample or class weights).
    name : str
        How messages name the engine's data (``"in-memory"``, ``"streamed"``, ``"Dask"``).
    """

    n_rows: int
    n_features: int
    weighted: bool = False
    name: str = "engine"
    #: Settings this engine refuses: ``{setting: reason}`` (see :meth:`refuse`).
    unsupported: dict = {}

    @abc.abstractmethod
    def n_batches(self, batch_size: int | None) -> int:
        """Updates per epoch with ``batch_size`` rows per batch (``None``: one full batch)."""

    @abc.abstractmethod
    def draw_order(self, rng: np.random.Generator):
        """An epoch's order of the rows (whatever :meth:`run_epoch` takes as ``order``)."""

    @abc.abstractmethod
    def run_epoch(self, params, opt_state, order=None, *, optimizer, activation, loss,
                  reduction="sum", threshold=0.5, batch_size=None, l1=0.0, l2=0.0,
                  totals=None, on_batch_end=None, should_stop=None, task="classify"):
        """One epoch: every batch's forward pass, gradient, penalty and optimizer step.

        Returns ``(params, opt_state, metrics)`` after the epoch's updates, with
        ``metrics`` the epoch's ``loss``, ``sse``, the task's metrics
        (``accuracy``, or ``r2`` and ``mae`` for ``task="regress"``: see
        :func:`neurona.core.gradient.epoch_metrics`, which every engine's epoch
        ends with) and ``grad_norm``, or ``None`` when ``should_stop()`` cut the epoch short
        (``totals["batches"]`` then says how many batches were done, and a
        later call with the same ``totals`` and ``order`` finishes it).
        Raises :class:`neurona.core.gradient.NonFinite` on divergence.
        """

    def bind_epoch(self, **settings):
        """:meth:`run_epoch` with the run's fixed ``settings`` bound once.

        The trainer calls the result every epoch with ``(params, opt_state,
        order, totals=..., on_batch_end=...)``; an engine may bind its own
        arguments too, so that an epoch at the post's size pays no more than
        its arithmetic.
        """
        return functools.partial(self.run_epoch, **settings)

    @abc.abstractmethod
    def evaluate(self, w, b, activation, loss, reduction="sum", threshold=0.5,
                 task="classify") -> dict:
        """The metrics ``loss``, ``sse`` and ``accuracy`` of the rows at ``(w, b)``; for
        ``task="regress"`` ``r2`` and ``mae`` instead of ``accuracy``."""

    @abc.abstractmethod
    def forward_backward(self, w, b, activation, loss, reduction="sum", threshold=0.5,
                         task="classify"):
        """One pass over every row at ``(w, b)``: ``(dL_dw, dL_db, metrics)``.

        The gradient of the reduced loss (no penalty) and the pass's metrics as
        :func:`neurona.core.gradient.numpy_pass` returns them: ``loss`` (the
        reduced loss), ``sse``, and ``accuracy`` or, for ``task="regress"``, the
        :data:`~neurona.core.gradient.REGRESSION_SUMS`. It is the full-batch
        pass of :meth:`run_epoch`, without the update.
        """

    @abc.abstractmethod
    def split(self, fraction: float, seed: int) -> tuple["Engine", "Engine"]:
        """The training and validation rows: a row validates when its draw is below ``fraction``."""

    @abc.abstractmethod
    def label_counts(self) -> dict[float, int]:
        """How many rows hold each target value (for ``class_weight="balanced"``)."""

    @abc.abstractmethod
    def reweighted(self, mapping: dict[float, float]) -> "Engine":
        """The same rows, each row's weight multiplied by its label's weight in ``mapping``."""

    def binary_targets(self) -> bool:
        """Whether every target is 0 or 1 (what the log loss needs)."""
        return set(self.label_counts()) <= {0.0, 1.0}

    def refuse(self, spec) -> None:
        """Raise :class:`~neurona.errors.SettingError` for a setting this engine cannot honour."""
        defaults = type(spec).defaults()
        for name, reason in self.unsupported.items():
            if getattr(spec, name) != defaults[name]:
                raise SettingError(name, f"is {getattr(spec, name)!r}, which cannot be used "
                                         f"with {self.name} data: {reason}")


def check_split(n_train: int, n_val: int, fraction: float) -> None:
    """Refuse a validation split that leaves either part empty."""
    if n_train == 0 or n_val == 0:
        raise OptionError(
            f"validation_fraction={fraction} leaves {n_train} training and {n_val} "
            f"validation rows out of {n_train + n_val}; both must be at least 1.")
