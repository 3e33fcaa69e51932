"""The settings of a training run, each defined once: :class:`TrainSpec`.

Every training setting, its default and its check live here and nowhere else.
:func:`neurona.train`, the scikit-learn estimators, the experiment and the
command line all build a ``TrainSpec``; the command line takes its defaults
from it and maps its flags onto its fields in one table. A spec is checked
when it is built, with the library's parameter names in the messages
(:class:`~neurona.errors.SettingError`, which the command line rewrites with
its flag), so nothing downstream checks a setting again.

A spec knows nothing of the data: the checks that need the rows (labels in a
``class_weight`` mapping, enough rows for a validation split) are made by the
trainer and its engine, before the first epoch.

>>> spec = TrainSpec(optimizer="adam", learning_rate=0.05, batch_size=32)
>>> spec.batch_size, spec.momentum
(32, 0.9)
>>> TrainSpec(momentum=1.5)
Traceback (most recent call last):
...
neurona.errors.SettingError: momentum must be a number in [0, 1), got 1.5.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields

import numpy as np

from ..errors import NeuronaError, SettingError
from . import lbfgs
from . import optimizers as optim
from .checks import (check_dtype, check_positive_int, check_real, is_int, is_real,
                     normalise_class_weight)
from .losses import LOSSES, REDUCTIONS, Loss

#: What a run learns: a class (0/1 targets, a threshold on the output) or a number.
TASKS = ("classify", "regress")
KERNELS = ("auto", "numpy", "numba")
#: The validation split early stopping takes when none is given (scikit-learn's).
EARLY_STOPPING_FRACTION = 0.1
#: The settings the lbfgs optimizer has no use for (its line search chooses every step),
#: refused when they are not at their defaults.
LBFGS_UNUSED = ("learning_rate", "schedule", "decay_rate", "decay_steps", "power_t",
                "end_learning_rate", "momentum", "beta_1", "beta_2", "epsilon", "rho",
                "weight_decay")


def _doc(text: str) -> dict:
    return {"doc": text}


def _named(value, names) -> bool:
    """Whether ``value`` is one of the ``names`` (a string: a list or a dict is no name)."""
    return isinstance(value, str) and value in names


@dataclass(frozen=True)
class TrainSpec:
    """Every setting of a training run, checked once when the spec is built.

    The defaults are the tutorial post's: one full batch per epoch, plain
    gradient descent with ``learning_rate=0.01`` on the summed log loss.
    Each field's meaning is in ``TrainSpec.describe(name)`` and in
    ``docs/training.md``.
    """

    epochs: int = field(default=100, metadata=_doc(
        "number of epochs, passes over the training rows (when resuming: the new total)"))
    learning_rate: float = field(default=0.01, metadata=_doc(
        "step size eta of w -= eta * dL/dw (the schedule's starting value)"))
    loss: str = field(default="log_loss", metadata=_doc(
        "objective whose gradient is followed: log_loss (the post's update rule) or "
        "squared_error (its own true gradient)"))
    task: str | None = field(default=None, metadata=_doc(
        "classify (0/1 targets: accuracy in the history) or regress (numeric targets: r2 "
        "and mae); default: regress for the identity activation with squared_error, "
        "classify otherwise"))
    reduction: str = field(default="sum", metadata=_doc(
        "sum (the post) or mean of each batch's per-sample losses"))
    optimizer: object = field(default="gd", metadata=_doc(
        "gd is the post's plain gradient descent; see neurona.optimizers; lbfgs: "
        "quasi-Newton iterations over the full batch with a line search"))
    batch_size: int | None = field(default=None, metadata=_doc(
        "rows per update: none = the full batch (the post), 1 = stochastic, K = mini-batches, "
        "reshuffled each epoch from the seed"))
    shuffle: bool = field(default=True, metadata=_doc(
        "reshuffle the rows each epoch (mini-batches only)"))
    schedule: str = field(default="constant", metadata=_doc(
        "constant (the post); step: eta * rate^floor(t/steps); exponential: eta * "
        "rate^(t/steps); invscaling: eta / (t+1)^power_t; cosine: from eta to the end "
        "learning rate over the decay steps"))
    decay_rate: float | None = field(default=None, metadata=_doc(
        "factor of the step (default 0.5) and exponential (default 0.96) schedules"))
    decay_steps: int | None = field(default=None, metadata=_doc(
        "updates per decay period (default: 10 epochs for step, 1 epoch for exponential, "
        "the whole run for cosine)"))
    power_t: float = field(default=0.5, metadata=_doc("exponent of invscaling"))
    end_learning_rate: float = field(default=0.0, metadata=_doc("where cosine ends"))
    momentum: float = field(default=0.9, metadata=_doc(
        "momentum and nesterov: v = momentum * v + g"))
    beta_1: float = field(default=0.9, metadata=_doc("adam, adamw: decay of the first moment"))
    beta_2: float = field(default=0.999, metadata=_doc(
        "adam, adamw: decay of the second moment"))
    epsilon: float = field(default=1e-8, metadata=_doc(
        "adagrad, rmsprop, adam, adamw: added to the denominator"))
    rho: float = field(default=0.9, metadata=_doc(
        "rmsprop: decay of the mean squared gradient"))
    weight_decay: float = field(default=0.01, metadata=_doc(
        "adamw: decoupled weight decay (not on the bias)"))
    tol: float = field(default=1e-8, metadata=_doc(
        "lbfgs: stop when the largest gradient entry falls to tol times its first value, "
        "or an iteration lowers the loss by at most tol^2 of it"))
    l1: float = field(default=0.0, metadata=_doc(
        "adds l1 * sum|w| to the objective (with l2: the elastic net)"))
    l2: float = field(default=0.0, metadata=_doc("adds l2/2 * sum(w^2) to the objective"))
    class_weight: object = field(default=None, metadata=_doc(
        "'balanced' (n / (k * count)) or weights per label like {0: 1, 1: 3}"))
    validation_fraction: float | None = field(default=None, metadata=_doc(
        "hold out this fraction of the training rows (drawn per row from the seed) and "
        "record val_loss, val_sse and val_accuracy (val_r2, val_mae for a regression) each "
        "epoch"))
    early_stopping: bool = field(default=False, metadata=_doc(
        "stop when the monitored key has not improved for patience epochs and keep the best "
        "epoch's weights (validates on 10% unless a validation fraction is given)"))
    monitor: str | None = field(default=None, metadata=_doc(
        "history key early stopping watches (default: val_loss)"))
    patience: int = field(default=10, metadata=_doc(
        "epochs without improvement before early stopping"))
    min_delta: float = field(default=0.0, metadata=_doc(
        "smallest change that counts as an improvement"))
    restore_best_weights: bool = field(default=True, metadata=_doc(
        "after early stopping keep the best epoch's weights, not the last ones"))
    random_state: object = field(default=None, metadata=_doc(
        "seed of the run's generator: validation split, shuffles (never NumPy's global state)"))
    dtype: str = field(default="float64", metadata=_doc(
        "floating type of the pass over the data: float32 reads half the memory per epoch, "
        "float64 is exact to rounding (the post's)"))
    kernel: str = field(default="auto", metadata=_doc(
        "how a pass is computed in this process: auto (Numba's compiled loops where "
        "installed and the data are large enough), numba, or numpy (no Numba, whose start "
        "costs a process about 0.45 s: faster for one epoch in large batches of few "
        "features); the numbers agree to rounding"))

    def __post_init__(self):
        set_ = object.__setattr__.__get__(self)
        if not is_int(self.epochs) or self.epochs < 1:
            raise SettingError("epochs", f"must be a positive integer, got {self.epochs!r}.")
        set_("epochs", int(self.epochs))
        if not (is_real(self.learning_rate) and self.learning_rate > 0):
            raise SettingError("learning_rate",
                               f"must be a positive number, got {self.learning_rate!r}.")
        set_("learning_rate", float(self.learning_rate))
        if not isinstance(self.loss, Loss) and not _named(self.loss, LOSSES):
            raise NeuronaError(f"Unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}.")
        if self.task is not None and not _named(self.task, TASKS):
            raise NeuronaError(f"Unknown task {self.task!r}; choose one of {', '.join(TASKS)}.")
        if self.task == "regress" and self.loss_name == "log_loss":
            raise SettingError("task", "is 'regress', but the log loss is a classifier's "
                                       "objective: use loss='squared_error' for a regression.")
        if not _named(self.reduction, REDUCTIONS):
            raise NeuronaError(f"Unknown reduction {self.reduction!r}; choose one of "
                               f"{', '.join(REDUCTIONS)}.")
        if not (isinstance(self.optimizer, optim.GradientTransformation)
                or self.optimizer == lbfgs.NAME):
            optim.optimizer_parameters(self.optimizer)  # raises for an unknown name
        set_("batch_size", check_positive_int("batch_size", self.batch_size, allow_none=True))
        for name in ("shuffle", "early_stopping", "restore_best_weights"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise SettingError(name, f"must be True or False, got {getattr(self, name)!r}.")
            set_(name, bool(getattr(self, name)))
        if not _named(self.schedule, optim.SCHEDULES):
            raise NeuronaError(f"Unknown schedule {self.schedule!r}; choose one of "
                               f"{', '.join(optim.SCHEDULES)}.")
        set_("decay_rate", check_real("decay_rate", self.decay_rate, 0.0, low_open=True,
                                      allow_none=True))
        set_("decay_steps", check_positive_int("decay_steps", self.decay_steps,
                                               allow_none=True))
        for name in ("power_t", "end_learning_rate", "weight_decay", "l1", "l2", "min_delta",
                     "tol"):
            set_(name, check_real(name, getattr(self, name), 0.0))
        for name in ("momentum", "beta_1", "beta_2", "rho"):
            set_(name, check_real(name, getattr(self, name), 0.0, 1.0))
        set_("epsilon", check_real("epsilon", self.epsilon, 0.0, low_open=True))
        set_("class_weight", normalise_class_weight(self.class_weight))
        if self.class_weight is not None and self.task == "regress":
            raise SettingError("class_weight", "weights classes, and a regression has none: "
                                               "use sample_weight to weight rows.")
        set_("validation_fraction", check_real(
            "validation_fraction", self.validation_fraction, 0.0, 1.0, low_open=True,
            allow_none=True))
        if self.monitor is not None and not (isinstance(self.monitor, str) and self.monitor):
            raise SettingError("monitor", f"must be the name of a history key, got "
                                          f"{self.monitor!r}.")
        set_("patience", check_positive_int("patience", self.patience))
        rs = self.random_state
        if not (rs is None or is_int(rs) or isinstance(rs, np.random.Generator)):
            raise SettingError("random_state", f"must be an int, a numpy Generator or None, "
                                               f"got {rs!r}.")
        if is_int(rs):
            set_("random_state", int(rs))
        set_("dtype", check_dtype(self.dtype).name)
        if not _named(self.kernel, KERNELS):
            raise NeuronaError(f"Unknown kernel {self.kernel!r}; choose one of "
                               f"{', '.join(KERNELS)}.")
        self._check_lbfgs()

    def _check_lbfgs(self) -> None:
        """Refuse what the lbfgs optimizer cannot honour, and ``tol`` without it."""
        defaults = type(self).defaults()
        if self.optimizer != lbfgs.NAME:
            if self.tol != defaults["tol"]:
                raise SettingError("tol", f"is {self.tol!r}, but it is the stopping rule of the "
                                          f"lbfgs optimizer only; other optimizers run their "
                                          f"epochs, or stop early on a validation split.")
            return
        if self.batch_size is not None:
            raise SettingError("batch_size", f"is {self.batch_size!r}, but the lbfgs optimizer "
                                             f"takes every row in each pass (its line search "
                                             f"compares full-batch losses); leave it unset.")
        if self.l1:
            raise SettingError("l1", f"is {self.l1!r}, but the lbfgs optimizer needs a smooth "
                                     f"objective and |w| has no gradient at 0; use l2, or "
                                     f"another optimizer.")
        for name in LBFGS_UNUSED:
            if getattr(self, name) != defaults[name]:
                raise SettingError(name, f"is {getattr(self, name)!r}, which does nothing with "
                                         f"the lbfgs optimizer (its line search chooses every "
                                         f"step); leave it unset.")

    # -- what follows from the settings --

    def validation(self, has_data: bool = False) -> float | None:
        """The validation fraction to split off: the given one, or 10% for early stopping.

        ``has_data``: the caller validates on rows of its own (``validation_data``),
        so early stopping needs no split.
        """
        if self.validation_fraction is None and self.early_stopping and not has_data:
            return EARLY_STOPPING_FRACTION
        return self.validation_fraction

    def resolved_task(self, activation: str) -> str:
        """The run's task: the one set, or the one the activation and loss imply.

        See :func:`resolve_task`.
        """
        return resolve_task(self.task, activation, self.loss_name)

    def monitored(self) -> str:
        """The history key early stopping watches (``val_loss`` unless set)."""
        return self.monitor or "val_loss"

    @property
    def optimizer_name(self) -> str:
        opt = self.optimizer
        return opt.name if isinstance(opt, optim.GradientTransformation) else opt

    @property
    def loss_name(self) -> str:
        return self.loss.name if isinstance(self.loss, Loss) else self.loss

    # -- records --

    def to_dict(self) -> dict:
        """The settings as JSON-ready data (what ``config.json`` and checkpoints record).

        An optimizer or loss object is recorded by name, a generator as
        ``"generator"`` and ``class_weight`` labels as text.
        """
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["optimizer"] = self.optimizer_name
        out["loss"] = self.loss_name
        if isinstance(self.random_state, np.random.Generator):
            out["random_state"] = "generator"
        cw = self.class_weight
        if isinstance(cw, dict):
            out["class_weight"] = {repr(k): v for k, v in cw.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "TrainSpec":
        """The spec :meth:`to_dict` recorded; keys it does not know are refused."""
        known = cls.names()
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise NeuronaError(f"Unknown training setting(s) {unknown}; known: {list(known)}.")
        data = dict(data)
        cw = data.get("class_weight")
        if isinstance(cw, dict):
            data["class_weight"] = {float(k): v for k, v in cw.items()}
        if data.get("random_state") == "generator":
            data["random_state"] = None
        return cls(**data)

    def replace(self, **changes) -> "TrainSpec":
        """A new spec with ``changes`` applied (and checked)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The settings' names, in order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def defaults(cls) -> dict:
        """Every setting's default value."""
        return {f.name: f.default for f in fields(cls)}

    @classmethod
    def describe(cls, name: str) -> str:
        """One line on what setting ``name`` does (the command line's help)."""
        return next(f.metadata["doc"] for f in fields(cls) if f.name == name)


def resolve_task(task: str | None, activation: str, loss: str) -> str:
    """The task of a run with these settings: ``task`` itself, or the one implied.

    The log loss classifies. The squared error regresses with the identity
    activation (the linear unit: a numeric target) and classifies with a
    bounded or thresholded output (sigmoid, tanh, step).

    >>> resolve_task(None, "identity", "squared_error")
    'regress'
    >>> resolve_task(None, "tanh", "squared_error")
    'classify'
    """
    if task is not None:
        return task
    return "regress" if loss == "squared_error" and activation == "identity" else "classify"


def build_spec(spec: TrainSpec | None = None, **settings) -> TrainSpec:
    """``spec`` with ``settings`` applied, or a new spec from ``settings``."""
    if spec is None:
        return TrainSpec(**settings)
    return spec.replace(**settings) if settings else spec
