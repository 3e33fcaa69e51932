"""Optimizers and learning-rate schedules, as explicit-state pairs of pure functions.

An optimizer is a :class:`GradientTransformation`: ``init(params) -> state`` and
``update(grads, state, params) -> (step, state)``; the new parameters are
``params + step`` (:func:`apply_updates`). Nothing is hidden in an object: the
state goes in and comes out, which is what makes a checkpoint exact.

``params`` is one 1-D float64 array, the weights then the bias (the order of
the tutorial's weight column ``[w1, ..., wd, b]``); ``grads`` has the same
shape. A state is a tuple with one dict per transformation of the chain, whose
values are ints (step counts) or float64 arrays: :func:`state_to_json` and
:func:`state_from_json` turn it into JSON (lists of floats, ints) and back,
bit for bit.

Named optimizers are short compositions of small transformations, as in optax:

========== =============================================================
name       chain
========== =============================================================
gd         scale_by_learning_rate                (the post: w -= eta * g)
momentum   trace(momentum), scale_by_learning_rate
nesterov   trace(momentum, nesterov=True), scale_by_learning_rate
adagrad    scale_by_rss(epsilon), scale_by_learning_rate
rmsprop    scale_by_rms(rho, epsilon), scale_by_learning_rate
adam       scale_by_adam(beta_1, beta_2, epsilon), scale_by_learning_rate
adamw      scale_by_adam(...), add_decayed_weights(weight_decay), scale_by_learning_rate
========== =============================================================

``nesterov_restart`` is ``nesterov`` whose trace restarts from rest when it
opposes the gradient: ``trace(momentum, nesterov=True, restart=True)``.

A learning rate is a number or a schedule, a function of the update count
``t = 0, 1, 2, ...`` (one update per batch): ``constant`` (the post), ``step``,
``exponential``, ``invscaling`` and ``cosine``; see :func:`make_schedule`.

Adding an optimizer
-------------------
1. Write a factory ``f(learning_rate, **hyperparameters)`` that returns a
   :func:`chain` of transformations, the transformations of this module or
   new ones written like them, ending with :func:`scale_by_learning_rate`,
   with ``name=`` its name and ``spec=make_spec(name, learning_rate,
   **hyperparameters)`` (:func:`make_spec`); the name must be new.
2. Add it to :data:`OPTIMIZERS` (``OPTIMIZERS[name] = f``) so that
   :func:`get_optimizer`, ``neurona.train(..., optimizer=name)`` and a
   checkpoint's resume find it by name. Hyperparameters named like the
   training settings (``momentum``, ``beta_1``, ``beta_2``, ``epsilon``,
   ``rho``, ``weight_decay``, ``decay_mask``) receive those settings; others
   keep the factory's defaults. The command line's ``--optimizer`` and the
   scikit-learn estimators' ``optimizer`` names are those of this module;
   an estimator also takes the :class:`GradientTransformation` itself.

It then trains everywhere: full batch, mini-batches, files and Dask, with any
schedule, penalty and checkpoint, on the NumPy loop of
:func:`neurona.training.run_epoch` (with Numba each large batch's pass is
still the fused one). Only the compiled mini-batch epoch, which runs the
whole epoch in one Numba loop, needs more: optionally, when the update is one
of the rules that loop knows, register a
:class:`neurona.compiled_optimizers.CompiledOptimizer` with
:func:`neurona.compiled_optimizers.register`, naming the rule, the spec keys
of the rule's hyperparameters and where the rule's state lives in the
optimizer's state tuple. Without one, ``kernel="auto"`` and ``kernel="numba"``
run its epochs on the NumPy loop, batch by batch, and raise nothing.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Callable, Union

import numpy as np

from ..errors import NeuronaError

Array = np.ndarray
State = tuple
Schedule = Callable[[int], float]
LearningRate = Union[float, Schedule]


@dataclass(frozen=True)
class GradientTransformation:
    """A pair of pure functions: ``init(params) -> state``, ``update(grads, state, params)``.

    ``update`` returns ``(step, new_state)``; apply the step with
    :func:`apply_updates`. ``name`` is for messages and records only.
    ``spec`` is set by the named optimizers: their name, hyperparameters and
    schedule, so that a compiled epoch (:mod:`neurona.kernels`) can run the
    same update; ``None`` for any other transformation.
    """

    init: Callable[[Array], State]
    update: Callable[[Array, State, Array], tuple[Array, State]]
    name: str = ""
    spec: dict | None = field(default=None, compare=False)


def apply_updates(params: Array, step: Array) -> Array:
    """The new parameters ``params + step``."""
    return params + step


# --- schedules: functions of the update count t = 0, 1, 2, ... -------------

def constant_schedule(learning_rate: float) -> Schedule:
    """``eta_t = eta``: the post's fixed step."""
    def schedule(t: int) -> float:
        return learning_rate
    schedule.constant = learning_rate  # lets a compiled epoch skip calling it per step
    return schedule


def step_schedule(learning_rate: float, decay_rate: float, decay_steps: int) -> Schedule:
    """``eta_t = eta * decay_rate ** floor(t / decay_steps)``: a drop every ``decay_steps``."""
    def schedule(t: int) -> float:
        return learning_rate * decay_rate ** (t // decay_steps)
    return schedule


def exponential_schedule(learning_rate: float, decay_rate: float, decay_steps: int) -> Schedule:
    """``eta_t = eta * decay_rate ** (t / decay_steps)``: smooth exponential decay."""
    def schedule(t: int) -> float:
        return learning_rate * decay_rate ** (t / decay_steps)
    return schedule


def invscaling_schedule(learning_rate: float, power_t: float) -> Schedule:
    """``eta_t = eta / (t + 1) ** power_t``: scikit-learn's ``"invscaling"``."""
    def schedule(t: int) -> float:
        return learning_rate / (t + 1) ** power_t
    return schedule


def cosine_schedule(learning_rate: float, decay_steps: int,
                    end_learning_rate: float = 0.0) -> Schedule:
    """Half a cosine from ``eta`` down to ``end_learning_rate`` over ``decay_steps``, then flat."""
    def schedule(t: int) -> float:
        frac = min(t, decay_steps) / decay_steps
        return end_learning_rate + 0.5 * (learning_rate - end_learning_rate) * (
            1.0 + math.cos(math.pi * frac))
    return schedule


SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "constant": constant_schedule,
    "step": step_schedule,
    "exponential": exponential_schedule,
    "invscaling": invscaling_schedule,
    "cosine": cosine_schedule,
}

#: Default ``decay_rate`` of the schedules that take one.
DEFAULT_DECAY_RATE = {"step": 0.5, "exponential": 0.96}


def schedule_parameters(name: str) -> tuple[str, ...]:
    """The parameters schedule ``name`` takes besides ``learning_rate``."""
    return tuple(inspect.signature(_schedule_factory(name)).parameters)[1:]


def _schedule_factory(name: str) -> Callable[..., Schedule]:
    try:
        return SCHEDULES[name]
    except KeyError:
        raise NeuronaError(
            f"Unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}.") from None


def make_schedule(name: str, learning_rate: float, **params) -> Schedule:
    """The schedule called ``name`` starting at ``learning_rate``.

    Parameters the schedule does not use are ignored, so one set of settings
    can describe any schedule: ``decay_rate`` and ``decay_steps`` (step,
    exponential), ``power_t`` (invscaling), ``decay_steps`` and
    ``end_learning_rate`` (cosine). Missing ones raise.

    Examples
    --------
    >>> s = make_schedule("step", 0.1, decay_rate=0.5, decay_steps=10)
    >>> s(0), s(9), s(10), s(25)
    (0.1, 0.1, 0.05, 0.025)
    """
    factory = _schedule_factory(name)
    needed = schedule_parameters(name)
    missing = [p for p in needed if params.get(p) is None
               and inspect.signature(factory).parameters[p].default is inspect.Parameter.empty]
    if missing:
        raise NeuronaError(f"schedule={name!r} needs {', '.join(missing)}.")
    kwargs = {p: params[p] for p in needed if params.get(p) is not None}
    return factory(learning_rate, **kwargs)


def _as_schedule(learning_rate: LearningRate) -> Schedule:
    return learning_rate if callable(learning_rate) else constant_schedule(learning_rate)


# --- transformations ----------------------------------------------------------

def scale_by_learning_rate(learning_rate: LearningRate) -> GradientTransformation:
    """``step = -eta_t * u``, with ``eta_t`` the learning rate (or schedule) at update ``t``.

    The state is the update count ``t``, so a schedule is a function of the step.
    """
    schedule = _as_schedule(learning_rate)

    def init(params):
        return {"count": 0}

    def update(updates, state, params=None):
        t = state["count"]
        return -schedule(t) * updates, {"count": t + 1}

    return GradientTransformation(init, update, "scale_by_learning_rate")


def trace(decay: float, nesterov: bool = False, restart: bool = False
          ) -> GradientTransformation:
    """Momentum: ``v = decay * v + g``; passes on ``v`` (heavy ball) or ``g + decay * v`` (Nesterov).

    With ``restart``, the trace is dropped (``v = 0`` before the update) whenever
    it points against the new gradient (``g . v < 0``): the last steps overshot,
    so momentum starts again from rest (a gradient test after O'Donoghue and Candes).
    """
    def init(params):
        return {"trace": np.zeros_like(params, dtype=np.float64)}

    def update(updates, state, params=None):
        v = state["trace"]
        if restart and float(updates @ v) < 0.0:
            v = np.zeros_like(v)
        v = decay * v + updates
        out = updates + decay * v if nesterov else v
        return out, {"trace": v}

    return GradientTransformation(init, update, "nesterov" if nesterov else "trace")


def scale_by_rss(epsilon: float = 1e-8, initial_accumulator_value: float = 0.0
                 ) -> GradientTransformation:
    """AdaGrad: ``s += g^2``; passes on ``g / (sqrt(s) + epsilon)``."""
    def init(params):
        return {"sum_of_squares": np.full_like(params, initial_accumulator_value,
                                               dtype=np.float64)}

    def update(updates, state, params=None):
        s = state["sum_of_squares"] + updates * updates
        return updates / (np.sqrt(s) + epsilon), {"sum_of_squares": s}

    return GradientTransformation(init, update, "scale_by_rss")


def scale_by_rms(decay: float = 0.9, epsilon: float = 1e-8) -> GradientTransformation:
    """RMSProp: ``nu = decay * nu + (1 - decay) g^2``; passes on ``g / (sqrt(nu) + epsilon)``."""
    def init(params):
        return {"nu": np.zeros_like(params, dtype=np.float64)}

    def update(updates, state, params=None):
        nu = decay * state["nu"] + (1.0 - decay) * (updates * updates)
        return updates / (np.sqrt(nu) + epsilon), {"nu": nu}

    return GradientTransformation(init, update, "scale_by_rms")


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, epsilon: float = 1e-8
                  ) -> GradientTransformation:
    """Adam: bias-corrected first and second moments; passes on ``m_hat / (sqrt(v_hat) + eps)``."""
    def init(params):
        zeros = np.zeros_like(params, dtype=np.float64)
        return {"count": 0, "mu": zeros, "nu": zeros.copy()}

    def update(updates, state, params=None):
        t = state["count"] + 1
        mu = b1 * state["mu"] + (1.0 - b1) * updates
        nu = b2 * state["nu"] + (1.0 - b2) * (updates * updates)
        mu_hat = mu / (1.0 - b1 ** t)
        nu_hat = nu / (1.0 - b2 ** t)
        return mu_hat / (np.sqrt(nu_hat) + epsilon), {"count": t, "mu": mu, "nu": nu}

    return GradientTransformation(init, update, "scale_by_adam")


def add_decayed_weights(weight_decay: float, mask: Array | None = None
                        ) -> GradientTransformation:
    """Decoupled weight decay: passes on ``u + weight_decay * params`` (where ``mask`` is True)."""
    def init(params):
        return {}

    def update(updates, state, params):
        decay = weight_decay * params
        if mask is not None:
            decay = np.where(mask, decay, 0.0)
        return updates + decay, state

    return GradientTransformation(init, update, "add_decayed_weights")


def chain(*transforms: GradientTransformation, name: str = "",
          spec: dict | None = None) -> GradientTransformation:
    """Apply ``transforms`` in order; the state is the tuple of their states."""
    def init(params):
        return tuple(t.init(params) for t in transforms)

    if len(transforms) == 1:  # one transform (plain gradient descent): no loop to run
        only = transforms[0].update

        def update(updates, state, params=None):
            updates, s = only(updates, state[0], params)
            return updates, (s,)
    else:
        def update(updates, state, params=None):
            new_state = []
            for t, s in zip(transforms, state):
                updates, s = t.update(updates, s, params)
                new_state.append(s)
            return updates, tuple(new_state)

    return GradientTransformation(init, update, name or "chain", spec)


# --- named optimizers -----------------------------------------------------------

def make_spec(name: str, learning_rate: LearningRate, **hyperparameters) -> dict:
    """The ``spec`` of a named optimizer: its name, schedule and hyperparameters.

    ``name`` must be the optimizer's own (no two optimizers share one): the
    compiled epoch finds its adapter by it
    (:mod:`neurona.compiled_optimizers`). ``learning_rate`` is a number or a
    schedule; the spec holds it as a schedule.

    Examples
    --------
    >>> spec = make_spec("momentum", 0.1, momentum=0.9)
    >>> spec["name"], spec["schedule"](7), spec["momentum"]
    ('momentum', 0.1, 0.9)
    """
    return {"name": name, "schedule": _as_schedule(learning_rate), **hyperparameters}


def gd(learning_rate: LearningRate) -> GradientTransformation:
    """Plain gradient descent, ``w -= eta * g``: the tutorial post's update."""
    return chain(scale_by_learning_rate(learning_rate), name="gd",
                 spec=make_spec("gd", learning_rate))


def momentum(learning_rate: LearningRate, momentum: float = 0.9) -> GradientTransformation:
    """Heavy-ball momentum: ``v = momentum * v + g``, ``w -= eta * v``."""
    return chain(trace(momentum), scale_by_learning_rate(learning_rate), name="momentum",
                 spec=make_spec("momentum", learning_rate, momentum=momentum))


def nesterov(learning_rate: LearningRate, momentum: float = 0.9) -> GradientTransformation:
    """Nesterov momentum: ``v = momentum * v + g``, ``w -= eta * (g + momentum * v)``."""
    return chain(trace(momentum, nesterov=True), scale_by_learning_rate(learning_rate),
                 name="nesterov", spec=make_spec("nesterov", learning_rate, momentum=momentum))


def nesterov_restart(learning_rate: LearningRate, momentum: float = 0.9
                     ) -> GradientTransformation:
    """Nesterov momentum that restarts from rest whenever its trace opposes the gradient.

    The restart removes the ripple of plain momentum: the loss falls (almost)
    every epoch, so a stopping rule on the loss's improvement (``tol``) stops
    near the optimum, and the convergence stays accelerated.
    """
    return chain(trace(momentum, nesterov=True, restart=True),
                 scale_by_learning_rate(learning_rate), name="nesterov_restart")


def adagrad(learning_rate: LearningRate, epsilon: float = 1e-8) -> GradientTransformation:
    """AdaGrad: each coordinate's step shrinks with its summed squared gradients."""
    return chain(scale_by_rss(epsilon), scale_by_learning_rate(learning_rate), name="adagrad",
                 spec=make_spec("adagrad", learning_rate, epsilon=epsilon))


def rmsprop(learning_rate: LearningRate, rho: float = 0.9,
            epsilon: float = 1e-8) -> GradientTransformation:
    """RMSProp: each coordinate's step divided by a running RMS of its gradients."""
    return chain(scale_by_rms(rho, epsilon), scale_by_learning_rate(learning_rate),
                 name="rmsprop",
                 spec=make_spec("rmsprop", learning_rate, rho=rho, epsilon=epsilon))


def adam(learning_rate: LearningRate, beta_1: float = 0.9, beta_2: float = 0.999,
         epsilon: float = 1e-8) -> GradientTransformation:
    """Adam (Kingma and Ba, 2015)."""
    return chain(scale_by_adam(beta_1, beta_2, epsilon), scale_by_learning_rate(learning_rate),
                 name="adam", spec=make_spec("adam", learning_rate, beta_1=beta_1,
                                             beta_2=beta_2, epsilon=epsilon))


def adamw(learning_rate: LearningRate, beta_1: float = 0.9, beta_2: float = 0.999,
          epsilon: float = 1e-8, weight_decay: float = 0.01,
          decay_mask: Array | None = None) -> GradientTransformation:
    """AdamW (Loshchilov and Hutter, 2019): Adam plus weight decay outside the moments.

    The step is ``-eta_t * (adam_direction + weight_decay * params)``.
    ``decay_mask`` (a boolean array like ``params``) limits the decay to some
    parameters; :func:`neurona.train` passes one that leaves the bias alone.
    """
    return chain(scale_by_adam(beta_1, beta_2, epsilon),
                 add_decayed_weights(weight_decay, decay_mask),
                 scale_by_learning_rate(learning_rate), name="adamw",
                 spec=make_spec("adamw", learning_rate, beta_1=beta_1, beta_2=beta_2,
                                epsilon=epsilon, weight_decay=weight_decay,
                                decay_mask=decay_mask))


OPTIMIZERS: dict[str, Callable[..., GradientTransformation]] = {
    "gd": gd, "momentum": momentum, "nesterov": nesterov, "adagrad": adagrad,
    "rmsprop": rmsprop, "adam": adam, "adamw": adamw, "nesterov_restart": nesterov_restart,
}


def optimizer_parameters(name: str) -> tuple[str, ...]:
    """The hyperparameters optimizer ``name`` takes besides the learning rate."""
    return tuple(inspect.signature(_optimizer_factory(name)).parameters)[1:]


def _optimizer_factory(name: str):
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise NeuronaError(
            f"Unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}.") from None


def get_optimizer(name: str | GradientTransformation, learning_rate: LearningRate = 0.01,
                  **hyperparameters) -> GradientTransformation:
    """The optimizer called ``name``; hyperparameters it does not take are ignored.

    So one set of settings (``momentum``, ``beta_1``, ``beta_2``, ``epsilon``,
    ``rho``, ``weight_decay``, ``decay_mask``) can describe any optimizer, as on
    the command line. A :class:`GradientTransformation` is returned as is.

    Examples
    --------
    >>> import numpy as np
    >>> opt = get_optimizer("momentum", 0.1, momentum=0.5)
    >>> params = np.array([1.0, 2.0])
    >>> state = opt.init(params)
    >>> step, state = opt.update(np.array([1.0, -1.0]), state, params)
    >>> apply_updates(params, step)
    array([0.9, 2.1])
    """
    if isinstance(name, GradientTransformation):
        return name
    factory = _optimizer_factory(name)
    takes = optimizer_parameters(name)
    return factory(learning_rate, **{k: v for k, v in hyperparameters.items()
                                     if k in takes and v is not None})


# --- JSON ---------------------------------------------------------------------

def state_to_json(state: State) -> list:
    """The state as JSON-ready data: a list of dicts of ints, floats and lists of floats."""
    out = []
    for part in state:
        out.append({k: ([float(x) for x in v] if isinstance(v, np.ndarray)
                        else int(v) if isinstance(v, (int, np.integer)) else float(v))
                    for k, v in part.items()})
    return out


def state_from_json(data: list) -> State:
    """The inverse of :func:`state_to_json`: lists become float64 arrays, ints stay ints."""
    if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
        raise NeuronaError("optimizer state must be a list of JSON objects.")
    out = []
    for part in data:
        d = {}
        for k, v in part.items():
            if isinstance(v, list):
                d[k] = np.array(v, dtype=np.float64)
            elif isinstance(v, bool) or not isinstance(v, (int, float)):
                raise NeuronaError(f"optimizer state {k!r} is {v!r}, expected numbers.")
            else:
                d[k] = v
        out.append(d)
    return tuple(out)
