"""The training loop, written once: epochs over an engine, history, callbacks, stopping, resume.

:class:`Trainer` runs a :class:`~neurona.core.spec.TrainSpec` over an
:class:`~neurona.core.engine.Engine`. The engine holds the rows and runs each
epoch's batches; everything around the epochs is here: the validation split
(drawn from the run's generator, the same rows on every engine), class
weights, the optimizer and its schedule, the history, the callbacks, early
stopping, the divergence guard, and the run's whole state for checkpoints and
exact resume.

Each history row describes one epoch: ``loss``, ``sse`` and the task's
metrics (a classifier's ``accuracy``, a regression's ``r2`` and ``mae``) come
from the epoch's forward passes, each batch's taken before that batch's
update (with one full batch, exactly the tutorial post's record);
``grad_norm`` is the norm of the epoch's gradient; ``learning_rate`` the rate
of the epoch's first update; ``passes`` the passes over the training rows made
so far (one per epoch); the ``val_`` keys are measured on the validation rows
with the parameters at the end of the epoch.

With ``optimizer="lbfgs"`` an epoch is one iteration of
:class:`neurona.core.lbfgs.LBFGS`: its line search may take several passes
(``passes`` counts them all), and its row describes the point the iteration
ends at: ``loss``, ``sse``, the task's metrics and ``grad_norm`` there,
``learning_rate`` the step length its line search accepted. The run stops
with the status ``"converged"`` once :func:`neurona.core.lbfgs.converged`
says so (:attr:`Trainer.convergence` tells why).
"""

from __future__ import annotations

import json
from typing import Iterable

import numpy as np

from ..errors import NeuronaError
from . import lbfgs
from . import optimizers as optim
from .losses import check_pair
from .callbacks import Callback, EarlyStopping, History, overrides
from .checks import class_weights, is_int, is_real
from .engine import Engine
from .gradient import (REGRESSION_SUMS, NonFinite, epoch_metrics, new_totals, penalty,
                       penalty_gradient)
from .spec import TrainSpec, resolve_task

#: Settings a checkpoint must share with the run that resumes it (all but the epochs).
CHECKED_SETTINGS = tuple(n for n in TrainSpec.names() if n not in ("epochs", "kernel")) + (
    "activation", "threshold", "n_samples", "n_features", "sample_weight", "validation_data")
#: The fields of a run's state (what a checkpoint holds besides its format).
STATE_FIELDS = ("status", "epoch", "batch", "step", "params", "optimizer_state",
                "rng_initial", "rng", "partial", "history", "callbacks", "settings")


class DivergenceError(NeuronaError):
    """Training produced a NaN or infinite loss or weight and was stopped.

    The neuron keeps the weights of the last finite step. ``epoch`` is the
    epoch in which it happened (as numbered in the history), ``history`` the
    history of the epochs completed before it.
    """

    def __init__(self, message: str, epoch: int, history: History):
        super().__init__(message)
        self.epoch = epoch
        self.history = history


def _json_normal(obj):
    return json.loads(json.dumps(obj))


# --- a run's state, as read back ------------------------------------------------------

#: The running sums of an epoch cut short (``partial``), and their kinds: a classifier's
#: (with ``accuracy``) or a regression's (with the :data:`REGRESSION_SUMS`).
PARTIAL_FIELDS = {"batches": "count", "loss": "number", "sse": "number",
                  "accuracy": "number", "grad": "numbers"}
REGRESSION_PARTIAL_FIELDS = {**{k: v for k, v in PARTIAL_FIELDS.items() if k != "accuracy"},
                             **dict.fromkeys(REGRESSION_SUMS, "number")}


def _count(v) -> bool:
    return is_int(v) and v >= 0


def _numbers(v, n: int | None = None) -> bool:
    return (isinstance(v, list) and (n is None or len(v) == n)
            and all(is_real(x) for x in v))


def _rng_problem(state) -> str | None:
    """Why NumPy would refuse ``state`` as a bit generator's state (None if it accepts it)."""
    if not isinstance(state, dict) or not isinstance(state.get("bit_generator"), str):
        return "must be a JSON object naming its bit_generator"
    name = state["bit_generator"]
    kind = getattr(np.random, name, None) if name.isidentifier() else None
    if not (isinstance(kind, type) and issubclass(kind, np.random.BitGenerator)):
        return f"names an unknown bit generator {name[:40]!r}"
    try:
        kind().state = state  # (the base class itself cannot be built: refused too)
    except (TypeError, ValueError, KeyError, OverflowError, IndexError, NotImplementedError):
        return f"is not a state of NumPy's {name}"
    return None


def check_state(doc, where: str = "the run's state") -> dict:
    """Check the types and shapes of a run's state (:meth:`Trainer.checkpoint`); return it.

    What can be checked without the run's data is checked here: every field of
    :data:`STATE_FIELDS` is present with its type, the counts are non-negative
    integers that agree (one history row per epoch done, numbered from 0; a
    batch reached only with the sums of its epoch), the parameters and sums are
    finite numbers, the generators' states are states NumPy accepts.
    :meth:`Trainer._resume` checks the rest against the run it continues (the
    settings, the number of parameters, the optimizer's state).

    Raises
    ------
    NeuronaError
        Naming ``where`` and the first field that is wrong.
    """
    def fail(message: str):
        raise NeuronaError(f"{where}: {message}")

    if not isinstance(doc, dict):
        fail("the run's state must be a JSON object.")
    missing = [k for k in STATE_FIELDS if k not in doc]
    if missing:
        fail(f"the run's state is missing {', '.join(missing)}.")
    if not isinstance(doc["status"], str):
        fail(f"status must be a string, got {doc['status']!r:.60}.")
    for key in ("epoch", "batch", "step"):
        if not _count(doc[key]):
            fail(f"{key} must be a non-negative integer, got {doc[key]!r:.60}.")
    params = doc["params"]
    if not (_numbers(params) and params):
        fail("params must be a non-empty list of finite numbers (the weights, then the bias).")
    parts = doc["optimizer_state"]
    if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
        fail("optimizer_state must be a list of JSON objects.")
    for part in parts:
        for key, value in part.items():
            if not (is_real(value) or _numbers(value, len(params))):
                fail(f"optimizer_state {key!r:.40} must be a number or a list of "
                     f"{len(params)} finite numbers.")
    for key in ("rng_initial", "rng"):
        problem = _rng_problem(doc[key])
        if problem:
            fail(f"{key} {problem}.")
    partial = doc["partial"]
    if partial is not None:
        fields = (REGRESSION_PARTIAL_FIELDS if isinstance(partial, dict) and "sum_w" in partial
                  else PARTIAL_FIELDS)
        if not isinstance(partial, dict) or set(partial) != set(fields):
            fail(f"partial must be null or an object with {', '.join(fields)}.")
        for key, kind in fields.items():
            value = partial[key]
            ok = (_count(value) if kind == "count" else is_real(value) if kind == "number"
                  else _numbers(value, len(params)))
            if not ok:
                fail(f"partial {key} must be "
                     + {"count": "a non-negative integer", "number": "a finite number",
                        "numbers": f"a list of {len(params)} finite numbers"}[kind] + ".")
        if partial["batches"] != doc["batch"]:
            fail(f"partial holds {partial['batches']} batches but batch is {doc['batch']}.")
    elif doc["batch"]:
        fail(f"batch is {doc['batch']} but there are no partial sums of that epoch.")
    history = doc["history"]
    if not isinstance(history, list):
        fail("history must be a list of rows.")
    for i, row in enumerate(history):
        if not (isinstance(row, dict) and all(is_real(v) for v in row.values())):
            fail(f"history row {i} must be an object of finite numbers.")
        if row.get("epoch") != i or not is_int(row["epoch"]):
            fail(f"history row {i} has epoch {row.get('epoch')!r:.40}; the rows number the "
                 f"epochs from 0.")
    if len(history) != doc["epoch"]:
        fail(f"{len(history)} history rows for {doc['epoch']} epochs done; they must match.")
    callbacks = doc["callbacks"]
    if not (isinstance(callbacks, dict) and all(isinstance(v, dict) for v in callbacks.values())):
        fail("callbacks must be an object of JSON objects (each callback's state).")
    settings = doc["settings"]
    if not isinstance(settings, dict):
        fail("settings must be a JSON object.")
    resolved = settings.get("resolved")
    if not (isinstance(resolved, dict) and set(resolved) == {"decay_rate", "decay_steps"}
            and (resolved["decay_rate"] is None or is_real(resolved["decay_rate"]))
            and (resolved["decay_steps"] is None or _count(resolved["decay_steps"]))):
        fail("settings resolved must be an object of decay_rate (a number or null) and "
             "decay_steps (an integer or null).")
    return doc


class Trainer:
    """Trains one neuron over an engine; holds every piece of the run's state explicitly.

    Most users call :func:`neurona.train`, which picks the engine for the data
    and runs a ``Trainer``. Callbacks see the trainer as their ``trainer``
    attribute.

    Parameters
    ----------
    neuron : Neuron
        The neuron to train; its weights and bias are the starting point.
    engine : Engine
        The training rows.
    spec : TrainSpec
        The settings.
    callbacks : iterable of Callback, default=()
    validation : Engine, default=None
        Rows to validate on instead of a split of the training rows.
    resume : dict, default=None
        A run's state (:meth:`checkpoint`) to continue from.
    resume_from : str, default=None
        Where ``resume`` was read from (a checkpoint file), named in the
        messages when it does not fit this run.

    Attributes
    ----------
    neuron : Neuron
        The neuron being trained; its weights follow ``params`` after every epoch.
    params : ndarray of shape (n_features + 1,)
        The current weights, then the bias.
    opt_state : tuple
        The optimizer's state.
    rng : numpy.random.Generator
        The run's generator (validation split, then the epochs' shuffles).
    epoch, batch, step : int
        Epochs completed, batches completed within epoch ``epoch`` (nonzero only
        after a stop in the middle of an epoch), optimizer updates made.
    history : History
    early_stopping : EarlyStopping or None
        The stopper built from the spec's ``early_stopping`` settings.
    stop_training : bool
        Set it (or call :meth:`stop`) to stop after the current batch.
    passes : int
        Passes over the training rows made (one per epoch; those of its line
        searches with ``optimizer="lbfgs"``).
    convergence : dict or None
        With ``optimizer="lbfgs"``, once it has converged: ``reason``
        (``"gradient"`` or ``"loss_change"``, see
        :func:`neurona.core.lbfgs.converged`), ``epoch`` and ``passes``.
    status : str
        ``"running"``, then ``"finished"``, ``"early_stopping"``,
        ``"interrupted"``, ``"stopped"``, ``"converged"`` (lbfgs) or ``"diverged"``.
    """

    def __init__(self, neuron, engine: Engine, spec: TrainSpec, *,
                 callbacks: Iterable[Callback] = (), validation: Engine | None = None,
                 resume: dict | None = None, resume_from: str | None = None):
        if engine.n_features != neuron.n_features:
            raise NeuronaError(f"X has {engine.n_features} features, but the neuron is "
                               f"expecting {neuron.n_features} features as input.")
        activation, loss = check_pair(neuron.activation, spec.loss)
        engine.refuse(spec)
        self.lbfgs = isinstance(spec.optimizer, str) and spec.optimizer == lbfgs.NAME
        if self.lbfgs and activation.name == "step":
            raise NeuronaError(
                "the step activation trains by the perceptron rule, which is not the "
                "gradient of any loss, and the lbfgs optimizer needs the objective's own "
                "gradient: use activation sigmoid, tanh or identity, or another optimizer.")
        task = spec.resolved_task(activation.name)
        if task == "regress" and spec.class_weight is not None:
            raise NeuronaError(
                "class_weight weights classes, and a regression has none (the identity "
                "activation with the squared error regresses); use sample_weight to weight "
                "rows, or task='classify' for 0/1 targets.")
        if loss.name == "log_loss" and not engine.binary_targets():
            found = sorted(v for v in engine.label_counts() if v not in (0.0, 1.0))
            raise NeuronaError(
                f"y holds {', '.join(f'{v:g}' for v in found[:3])}"
                f"{', ...' if len(found) > 3 else ''}: the log loss needs targets 0 and 1; "
                f"map the two classes to 0 and 1 (neurona.data.read_data does it for a file), "
                f"or use loss='squared_error' for other targets.")
        fraction = spec.validation(validation is not None)
        if spec.validation_fraction is not None and validation is not None:
            raise NeuronaError("Pass validation_fraction or validation_data, not both.")
        rs = spec.random_state
        rng = rs if isinstance(rs, np.random.Generator) else np.random.default_rng(rs)

        if task == "classify" and getattr(neuron, "target_scaler", None) is not None:
            raise NeuronaError("the neuron maps its output with a target scaler, a "
                               "regression's; train it with task='regress'.")
        # The neuron learns the run's task: its predict answers in that task's terms.
        neuron.task = task
        self.neuron, self.spec = neuron, spec
        self.activation, self.loss = activation, loss
        self.task = task
        self.reduction = spec.reduction
        self.epochs = spec.epochs
        self.batch_size = spec.batch_size
        self.shuffle = spec.shuffle
        self.l1, self.l2 = spec.l1, spec.l2
        self.rng = rng
        self._rng_initial = rng.bit_generator.state
        self.settings = _json_normal({
            **spec.to_dict(), "task": task, "validation_fraction": fraction,
            "activation": activation.name, "threshold": neuron.threshold,
            "n_samples": int(engine.n_rows), "n_features": int(neuron.n_features),
            "sample_weight": bool(engine.weighted), "validation_data": validation is not None,
        })
        del self.settings["kernel"]  # how a pass is computed is not part of the run

        # The rows: the validation split comes first from the generator, the same rows on
        # every engine (a per-row draw from a seed the generator gives).
        if fraction is not None:
            engine, validation = engine.split(fraction, int(rng.integers(2**63)))
        if spec.class_weight is not None:
            mapping = class_weights(engine.label_counts(), spec.class_weight)
            engine = engine.reweighted(mapping)
            if validation is not None:
                validation = validation.reweighted(mapping)
        self.engine, self.validation = engine, validation
        self.n_batches = engine.n_batches(spec.batch_size)

        # The schedule; unset lengths and rates are resolved here and recorded.
        decay_rate, decay_steps = spec.decay_rate, spec.decay_steps
        if decay_rate is None:
            decay_rate = optim.DEFAULT_DECAY_RATE.get(spec.schedule)
        if decay_steps is None:
            decay_steps = (self.n_batches * self.epochs if spec.schedule == "cosine"
                           else self.n_batches * (10 if spec.schedule == "step" else 1))
        self.resolved = {"decay_rate": decay_rate, "decay_steps": decay_steps}
        self.settings["resolved"] = dict(self.resolved)
        self._build_optimizer()

        self.callbacks = list(callbacks)
        self.early_stopping = None
        if spec.early_stopping:
            self.early_stopping = EarlyStopping(
                monitor=spec.monitored(), patience=spec.patience, min_delta=spec.min_delta,
                restore_best_weights=spec.restore_best_weights)
            self.callbacks.insert(0, self.early_stopping)
        self.params = np.append(np.asarray(neuron.weights, dtype=np.float64),
                                np.float64(neuron.bias))
        self.opt_state = self.optimizer.init(self.params)
        self.epoch = self.batch = self.step = self.passes = 0
        self.convergence: dict | None = None
        self.partial: dict | None = None
        self._rng_epoch_state = rng.bit_generator.state
        self.history = History()
        self.stop_training = False
        self.stop_reason: str | None = None
        self.status = "ready"
        if resume is not None:
            self._resume(resume, resume_from or "the run's state to resume from")

    def _build_optimizer(self) -> None:
        spec = self.spec
        self.schedule = optim.make_schedule(
            spec.schedule, spec.learning_rate, power_t=spec.power_t,
            end_learning_rate=spec.end_learning_rate, **self.resolved)
        if self.lbfgs:  # whole iterations of its own (see _lbfgs_epoch), no epoch to bind
            self.optimizer = lbfgs.LBFGS(rounding=lbfgs.ROUNDING[spec.dtype])
            self._epoch = None
            return
        mask = np.ones(self.neuron.n_features + 1, dtype=bool)
        mask[-1] = False  # weight decay leaves the bias alone, like the penalties
        self.optimizer = optim.get_optimizer(
            spec.optimizer, self.schedule, decay_mask=mask, momentum=spec.momentum,
            beta_1=spec.beta_1, beta_2=spec.beta_2, epsilon=spec.epsilon, rho=spec.rho,
            weight_decay=spec.weight_decay)
        # What every epoch passes on, bound once: at the post's size, building these
        # arguments each epoch would cost a good part of the epoch's own arithmetic.
        self._epoch = self.engine.bind_epoch(
            optimizer=self.optimizer, activation=self.activation, loss=self.loss,
            reduction=self.reduction, threshold=self.neuron.threshold,
            batch_size=self.batch_size, l1=self.l1, l2=self.l2,
            should_stop=lambda: self.stop_training, task=self.task)

    # -- stopping --

    def stop(self, reason: str = "stopped") -> None:
        """Stop after the current batch (the epoch is finished first with one full batch)."""
        self.stop_training = True
        if self.stop_reason is None:
            self.stop_reason = reason

    # -- the loop --

    def _sync_neuron(self) -> None:
        self.neuron.weights = self.params[:-1].copy()
        self.neuron.bias = float(self.params[-1])

    def _hooks(self) -> list[Callback]:
        user = [cb for cb in self.callbacks if not cb.run_last]
        last = [cb for cb in self.callbacks if cb.run_last]
        return [self.history, *user, *last]

    def run(self) -> History:
        """Train until ``epochs`` epochs are done or something stops the run; return the history."""
        hooks = self._hooks()
        for cb in hooks:
            cb.set_trainer(self)
        batch_hooks = [cb for cb in hooks if overrides(cb, "on_batch_end")]

        def each_batch_end(j, logs):
            for cb in batch_hooks:
                cb.on_batch_end(j, logs)

        # Per-batch calls only when some callback wants them (a kernel can skip them).
        on_batch_end = each_batch_end if batch_hooks else None
        self.stop_training, self.stop_reason = False, None
        self.status = "running"
        for cb in hooks:
            cb.on_train_begin({"epoch": self.epoch, "epochs": self.epochs})
        if self.lbfgs:  # a resumed run that had converged stays where it was
            self._check_convergence()
        error = None
        try:
            # Overflow to inf/NaN is reported by the divergence guard, not as warnings.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                while self.epoch < self.epochs and not self.stop_training:
                    self._one_epoch(hooks, on_batch_end)
            self.status = ("finished" if self.epoch >= self.epochs
                           else self.stop_reason or "stopped")
        except NonFinite as nf:
            self.params, self.opt_state = nf.params, nf.opt_state
            self._sync_neuron()
            self.status = "diverged"
            lr = self.schedule(self.step + nf.batch - self.batch)
            hint = ("Scaling the input data (for example with StandardScaler) might help."
                    if self.lbfgs else
                    f"A smaller learning rate (it was {lr:g}), or scaling the input data (for "
                    f"example with StandardScaler), might help.")
            error = DivergenceError(
                f"Floating-point under-/overflow occurred at epoch #{self.epoch}. The loss or "
                f"the weights became NaN or infinite, so training stopped with the weights "
                f"of the last finite step. {hint}", self.epoch, self.history)
        except BaseException:
            self.status = "failed"
            raise
        finally:
            for cb in hooks:
                cb.on_train_end({"status": self.status, "epoch": self.epoch})
        if error is not None:
            raise error
        return self.history

    def _one_epoch(self, hooks, on_batch_end) -> None:
        if self.lbfgs:
            return self._lbfgs_epoch(hooks)
        e = self.epoch
        draws = self.n_batches > 1 and self.shuffle
        if self.batch == 0:
            if draws:
                self._rng_epoch_state = self.rng.bit_generator.state
            for cb in hooks:
                cb.on_epoch_begin(e, {})
        elif draws:  # finishing an epoch cut short: the same order again
            self.rng.bit_generator.state = self._rng_epoch_state
        first = e * self.n_batches
        totals = self.partial if self.partial is not None else new_totals(self.params.shape[0],
                                                                          self.task)
        done_before = totals["batches"]
        order = self.engine.draw_order(self.rng) if draws else None
        params, opt_state, metrics = self._epoch(self.params, self.opt_state, order,
                                                 totals=totals, on_batch_end=on_batch_end)
        self.params, self.opt_state = params, opt_state
        self.step += totals["batches"] - done_before
        self._sync_neuron()
        if metrics is None:  # cut short after a batch
            self.batch, self.partial = totals["batches"], totals
            return
        self.batch, self.partial = 0, None
        self.epoch += 1
        self.passes += 1
        if draws:
            self._rng_epoch_state = self.rng.bit_generator.state
        self._end_epoch(e, {"epoch": e, **metrics, "learning_rate": float(self.schedule(first)),
                            "passes": self.passes}, hooks)

    def _end_epoch(self, e: int, logs: dict, hooks) -> None:
        """An epoch's row completed: the validation keys, then every hook's ``on_epoch_end``."""
        if self.validation is not None:
            m = self.validation.evaluate(self.params[:-1], self.params[-1], self.activation,
                                         self.loss, self.reduction, self.neuron.threshold,
                                         task=self.task)
            m["loss"] += penalty(self.params[:-1], self.l1, self.l2)
            logs.update({f"val_{k}": v for k, v in m.items()})
        for cb in hooks:
            cb.on_epoch_end(e, logs)

    # -- lbfgs --

    def _objective(self, params: np.ndarray) -> tuple[float, np.ndarray, dict]:
        """One pass of the engine at ``params``: the objective (the reduced loss plus the
        penalty), its gradient, and the pass's metrics."""
        w = params[:-1]
        dw, db, m = self.engine.forward_backward(w, params[-1], self.activation, self.loss,
                                                 self.reduction, self.neuron.threshold,
                                                 task=self.task)
        grad = np.empty(len(params))
        grad[:-1] = dw
        grad[-1] = db
        loss = m["loss"]
        if self.l2:  # (the spec refuses l1 with lbfgs: the objective must be smooth)
            grad[:-1] += penalty_gradient(w, 0.0, self.l2)
            loss += penalty(w, 0.0, self.l2)
        return loss, grad, m

    def _lbfgs_epoch(self, hooks) -> None:
        """One iteration of L-BFGS as an epoch: its passes, its row, then the convergence test.

        A stop asked between two of its passes drops the iteration (nothing
        has changed, so a resume does it again); otherwise the row describes
        the point the iteration ends at.
        """
        e = self.epoch
        for cb in hooks:
            cb.on_epoch_begin(e, {})
        try:
            it = self.optimizer.iterate(self.params, self.opt_state, self._objective,
                                        should_stop=lambda: self.stop_training)
        except lbfgs.Abandoned:
            return
        self.params, self.opt_state = it.params, it.state
        self.epoch += 1
        self.step += 1
        self.passes += it.passes
        self._sync_neuron()
        part = it.state[0]
        if it.info is not None:
            totals = new_totals(len(self.params), self.task)
            totals.update(it.info, batches=1, loss=part["loss"], grad=part["grad"])
            metrics = epoch_metrics(totals)
        elif len(self.history):  # no step from the point the last row describes: its metrics
            metrics = {k: v for k, v in self.history.rows[-1].items()
                       if k not in ("epoch", "learning_rate", "passes")
                       and not k.startswith("val_")}
        else:  # (a state handed over without its history) one more pass for the metrics
            loss, grad, m = self._objective(self.params)
            self.passes += 1
            totals = new_totals(len(self.params), self.task)
            totals.update(m, batches=1, loss=loss, grad=grad)
            metrics = epoch_metrics(totals)
        self._end_epoch(e, {"epoch": e, **metrics, "learning_rate": float(it.step_length),
                            "passes": self.passes}, hooks)
        self._check_convergence()

    def _check_convergence(self) -> None:
        """Stop (status ``"converged"``) once the lbfgs state at ``params`` has converged."""
        part = self.opt_state[0]
        if not np.array_equal(part["x"], self.params):
            return  # weights set from outside: the next iteration evaluates them first
        reason = lbfgs.converged(self.opt_state, self.spec.tol)
        if reason is not None:
            self.convergence = {"reason": reason, "epoch": self.epoch, "passes": self.passes}
            self.stop("converged")

    # -- checkpoints --

    def _callback_states(self) -> dict:
        states, seen = {}, {}
        for cb in self.callbacks:
            if not hasattr(cb, "get_state"):
                continue
            name = type(cb).__name__
            seen[name] = seen.get(name, 0) + 1
            states[name if seen[name] == 1 else f"{name}#{seen[name]}"] = cb
        return states

    def checkpoint(self) -> dict:
        """The run's whole state as JSON-ready data (what a checkpoint file holds)."""
        partial = None
        if self.partial is not None:
            partial = {k: ([float(x) for x in v] if isinstance(v, np.ndarray) else v)
                       for k, v in self.partial.items()}
        return {
            "status": self.status, "epoch": self.epoch, "batch": self.batch,
            "step": self.step, "params": [float(v) for v in self.params],
            "optimizer_state": optim.state_to_json(self.opt_state),
            "rng_initial": self._rng_initial, "rng": self._rng_epoch_state,
            "partial": partial,
            "history": [dict(row) for row in self.history.rows],
            "callbacks": {k: cb.get_state() for k, cb in self._callback_states().items()},
            "settings": self.settings,
        }

    def _resume(self, doc: dict, where: str) -> None:
        def fail(message: str):
            raise NeuronaError(f"{where}: {message}")

        check_state(doc, where)
        # Checkpoints written before some settings existed trained with their defaults.
        recorded = {**TrainSpec.defaults(), "validation_fraction": None, **doc["settings"]}
        if "task" not in doc["settings"]:
            # Written before the task was a setting: the run recorded a classifier's metrics,
            # and its settings now imply a task; either continues the same steps.
            implied = resolve_task(None, recorded.get("activation"), recorded.get("loss"))
            recorded["task"] = (self.task if self.task in ("classify", implied)
                                else implied)
        diffs = [f"{k}={recorded.get(k)!r:.60} there, {self.settings.get(k)!r:.60} here"
                 for k in CHECKED_SETTINGS if recorded.get(k) != self.settings.get(k)]
        if diffs:
            fail("this checkpoint was written with other settings (" + "; ".join(diffs)
                 + "); resume with the run's own settings (only epochs may change).")
        params = np.array(doc["params"], dtype=np.float64)
        if params.shape != self.params.shape:
            fail(f"the checkpoint has {params.shape[0]} parameters, expected "
                 f"{self.params.shape[0]}.")
        if doc["batch"] >= self.n_batches:
            fail(f"batch {doc['batch']} is past the last of the epoch's {self.n_batches} "
                 f"batches.")
        if doc["step"] != doc["epoch"] * self.n_batches + doc["batch"]:
            fail(f"step {doc['step']} does not follow from epoch {doc['epoch']} and batch "
                 f"{doc['batch']} ({self.n_batches} batches per epoch).")
        # The schedule keeps the lengths the run started with.
        self._check_resolved(recorded["resolved"], fail)
        self.resolved = dict(recorded["resolved"])
        self.settings["resolved"] = dict(self.resolved)
        self._build_optimizer()
        template = self.optimizer.init(params)
        opt_state = optim.state_from_json(doc["optimizer_state"])
        if len(opt_state) != len(template) or any(
                set(part) != set(like) for part, like in zip(opt_state, template)):
            fail(f"optimizer_state does not fit the {self.spec.optimizer_name} optimizer "
                 f"(parts {[sorted(p) for p in template]}).")
        for part, like in zip(opt_state, template):
            for key, value in part.items():
                if isinstance(like[key], np.ndarray):
                    ok = isinstance(value, np.ndarray)
                    expected = f"a list of {len(params)} numbers"
                elif is_int(like[key]):
                    ok, expected = is_int(value) and value == doc["step"], \
                        f"the update count ({doc['step']})"
                else:
                    ok, expected = is_real(value), "a number"
                if not ok:
                    fail(f"optimizer_state {key!r} must be {expected}.")
        self.params = params
        self.opt_state = opt_state
        self._rng_initial = doc["rng_initial"]
        self._rng_epoch_state = doc["rng"]
        try:
            self.rng.bit_generator.state = doc["rng"]
        except (TypeError, ValueError, KeyError, OverflowError):
            fail(f"rng is a {doc['rng']['bit_generator']} state, but this run draws from "
                 f"{type(self.rng.bit_generator).__name__}.")
        self.epoch, self.batch, self.step = doc["epoch"], doc["batch"], doc["step"]
        partial = doc["partial"]
        if partial is not None and set(new_totals(0, self.task)) - set(partial):
            raise NeuronaError(
                f"This checkpoint stopped in the middle of epoch {doc['epoch']} without the "
                f"running sums of task {self.task!r}; resume it with task='classify', the "
                f"task it was written with.")
        if partial is not None:
            partial = dict(partial)
            partial["grad"] = np.array(partial["grad"], dtype=np.float64)
        self.partial = partial
        self.history = History([dict(r) for r in doc["history"]])
        # Runs recorded before the history counted its passes made one per epoch.
        self.passes = int(self.history.rows[-1].get("passes", len(self.history))) \
            if len(self.history) else 0
        states = doc["callbacks"]
        for key, cb in self._callback_states().items():
            if key in states and hasattr(cb, "set_state"):
                if cb is self.early_stopping:
                    try:
                        cb.set_state(states[key], n_params=params.shape[0])
                    except NeuronaError as exc:
                        fail(f"callbacks {key}: {exc}")
                else:
                    cb.set_state(states[key])
        if doc["status"] == "early_stopping":
            # Continuing a run that stopped early: its stoppers keep their best value and
            # weights, and wait their patience again (as a new fit in Keras would).
            for cb in self.callbacks:
                if isinstance(cb, EarlyStopping):
                    cb.wait, cb.stopped_epoch = 0, None
        self._sync_neuron()

    def _check_resolved(self, resolved: dict, fail) -> None:
        """The recorded schedule lengths must be those this run's settings give."""
        spec, n = self.spec, self.n_batches
        rate = spec.decay_rate if spec.decay_rate is not None else \
            optim.DEFAULT_DECAY_RATE.get(spec.schedule)
        steps = resolved["decay_steps"]
        if spec.decay_steps is not None:
            ok_steps = steps == spec.decay_steps
        elif spec.schedule == "cosine":  # the whole run, as many epochs as it first had
            ok_steps = is_int(steps) and steps >= n and steps % n == 0
        else:
            ok_steps = steps == n * (10 if spec.schedule == "step" else 1)
        if resolved["decay_rate"] != rate or not ok_steps:
            fail(f"settings resolved {resolved!r:.120} are not the schedule's lengths for "
                 f"these settings.")
