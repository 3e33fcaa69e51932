"""The library's entry points for training: :func:`train` and :class:`Trainer` on any data.

They take what users have (NumPy arrays, Dask collections, a streamed file, a
checkpoint file to resume from), turn it into an engine
(:func:`neurona.engines.engine_for`) and a :class:`~neurona.core.spec.TrainSpec`,
and run the one training loop, :class:`neurona.core.trainer.Trainer`.
"""

from __future__ import annotations

import os
from typing import Iterable

from ..core import trainer as core
from ..core.callbacks import Callback, History
from ..core.spec import TrainSpec, build_spec
from ..engines.choose import engine_for
from ..errors import NeuronaError
from ..files.checkpoint import checkpoint_path, load_checkpoint


class Trainer(core.Trainer):
    """The training loop of :mod:`neurona.core.trainer` on any data.

    Parameters
    ----------
    neuron : Neuron
        The neuron to train; its weights and bias are the starting point.
    X : array-like, Dask collection, FileStream part or Engine
        The training rows (see :func:`neurona.engines.engine_for`).
    y : array-like of shape (n_samples,), default=None
        Targets, 0/1 for classification (None when ``X`` holds its own).
    spec : TrainSpec, default=None
        The settings; keyword ``settings`` (any field of ``TrainSpec``) are
        applied on top.
    sample_weight : array-like of shape (n_samples,), default=None
        Per-sample weights (multiplied by the class weights, if any).
    validation_data : tuple (X_val, y_val), default=None
        Validate on these rows instead of a split of the training rows.
    callbacks : iterable of Callback, default=()
    resume : dict or path, default=None
        A checkpoint (a dict, a checkpoint file, or a run directory holding
        ``checkpoint.json``) to continue from.
    """

    def __init__(self, neuron, X, y=None, *, spec: TrainSpec | None = None, sample_weight=None,
                 validation_data=None, callbacks: Iterable[Callback] = (), resume=None,
                 **settings):
        spec = build_spec(spec, **settings)
        engine = engine_for(X, y, sample_weight, n_features=neuron.n_features,
                            dtype=spec.dtype, kernel=spec.kernel)
        validation = None
        if validation_data is not None:
            try:
                X_val, y_val = validation_data[:2]
            except (TypeError, ValueError):
                raise NeuronaError("validation_data must be a pair (X_val, y_val).") from None
            validation = engine_for(X_val, y_val, n_features=neuron.n_features,
                                    dtype=spec.dtype, kernel=spec.kernel, name="X_val")
        source = None
        if resume is not None and isinstance(resume, (str, os.PathLike)):
            source = str(checkpoint_path(resume))
            resume = load_checkpoint(resume)
        super().__init__(neuron, engine, spec, callbacks=callbacks, validation=validation,
                         resume=resume, resume_from=source)


def train(neuron, X, y=None, *, spec: TrainSpec | None = None, sample_weight=None,
          validation_data=None, callbacks: Iterable[Callback] = (), resume=None,
          **settings) -> History:
    """Train ``neuron`` in place by gradient descent; return its history.

    With the defaults this is exactly the tutorial post's loop: one full batch
    per epoch, ``w -= learning_rate * dL_dw`` and ``b -= learning_rate * dL_db``
    with the summed log loss.

    Parameters
    ----------
    neuron : Neuron
        The neuron to train; its weights and bias are the starting point.
    X : array-like of shape (n_samples, n_features), Dask collection or FileStream part
        The training rows; a Dask collection trains on the active Dask cluster,
        a part of a :class:`neurona.data.filestream.FileStream` reads its file
        in record batches every epoch.
    y : array-like of shape (n_samples,), default=None
        Targets: 0/1 for classification, any finite numbers for a regression.
    spec : TrainSpec, default=None
        The settings as one object; keyword settings are applied on top.
    sample_weight : array-like of shape (n_samples,), default=None
    validation_data : tuple (X_val, y_val), default=None
    callbacks : iterable of Callback, default=()
        Hooks called at the start and end of training, of each epoch and after
        each batch; see :mod:`neurona.core.callbacks`.
    resume : dict or path, default=None
        A checkpoint to continue from. The other settings must be those of the
        run that wrote it, except ``epochs`` (the new total). Training ``k``
        epochs and resuming to ``n`` gives the same weights and history, bit
        for bit, as training ``n`` at once.
    **settings
        Any field of :class:`neurona.core.spec.TrainSpec`: ``epochs``,
        ``learning_rate``, ``loss``, ``task``, ``reduction``, ``optimizer``,
        ``batch_size``, ``shuffle``, the schedule (``schedule``,
        ``decay_rate``, ``decay_steps``, ``power_t``, ``end_learning_rate``),
        the optimizers' hyperparameters (``momentum``, ``beta_1``, ``beta_2``,
        ``epsilon``, ``rho``, ``weight_decay``), ``l1``, ``l2``,
        ``class_weight``, ``validation_fraction``, early stopping
        (``early_stopping``, ``monitor``, ``patience``, ``min_delta``,
        ``restore_best_weights``), ``random_state``, ``dtype`` and ``kernel``.
        ``docs/training.md`` says what each computes.

    Returns
    -------
    History
        One row per epoch: ``epoch``, ``loss``, ``sse``, ``accuracy``,
        ``grad_norm``, ``learning_rate``, and ``val_loss``, ``val_sse``,
        ``val_accuracy`` when validating; a regression (``task="regress"``,
        the default of the identity activation with the squared error) has
        ``r2`` and ``mae`` (``val_r2``, ``val_mae``) instead of the accuracy.

    Raises
    ------
    DivergenceError
        When the loss or the weights become NaN or infinite; the neuron keeps
        the last finite weights and the error carries the history so far.

    Examples
    --------
    >>> import numpy as np
    >>> from neurona import Neuron, train
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> h = train(Neuron([0.0]), X, y, epochs=50, learning_rate=0.5, optimizer="adam",
    ...           batch_size=2, random_state=0)
    >>> h.keys[:6]
    ['epoch', 'loss', 'sse', 'accuracy', 'grad_norm', 'learning_rate']
    """
    return Trainer(neuron, X, y, spec=spec, sample_weight=sample_weight,
                   validation_data=validation_data, callbacks=callbacks, resume=resume,
                   **settings).run()
