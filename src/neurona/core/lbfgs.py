"""L-BFGS: a quasi-Newton method over full passes, with a strong Wolfe line search.

Gradient descent takes one step per pass over the data, of a size set by
hand. L-BFGS takes one step per *iteration* along a direction that
approximates Newton's, ``d = -H g``, where ``H`` is an estimate of the
inverse Hessian built from the last :data:`MEMORY` steps ``s = x' - x`` and
gradient changes ``y = g' - g`` (the two-loop recursion, :func:`direction`);
the step length comes from a line search that needs no learning rate
(:func:`line_search`). Near the minimum of a smooth objective the full step
``alpha = 1`` is almost always accepted at once, so an iteration costs one
pass over the data, and the iterations converge superlinearly.

Every evaluation of the objective is one pass that computes the loss and its
gradient together: ``evaluate(params) -> (loss, grad, info)``, with ``info``
whatever the caller wants back for the point it accepts (the trainer: the
pass's metrics). This module never sees the data.

The state
---------
The method's whole state is one dict in a tuple, like an optimizer's state
(:mod:`neurona.core.optimizers`), so a checkpoint holds it with
:func:`~neurona.core.optimizers.state_to_json` and a resumed run continues
bit for bit:

================== ==============================================================
``count``          iterations done (the trainer's update count)
``x``              the parameters the state describes
``loss``, ``grad`` the objective and its gradient at ``x``
``previous_loss``  the objective where the last iteration started
``initial_gradient`` the largest ``|g_i|`` at the first point, the scale of the test
``s0`` ... ``y9``  the stored pairs, oldest first (unused slots are zero)
================== ==============================================================

When the parameters handed to :meth:`LBFGS.iterate` are not ``x`` (the first
iteration, or weights changed from outside, as early stopping's restored best
weights), the objective is evaluated there first and the stored pairs are
dropped: the estimate of the curvature describes another point.

Convergence (:func:`converged`): after an iteration, the largest entry of the
gradient is at most ``tol`` times its value at the start, or the iteration
lowered the objective by at most ``tol**2`` of its value. Near a minimum the
objective's excess goes as the square of the gradient, so the two tests stop
at about the same place; the second also ends a run whose line search found
no lower loss (the objective is then at its minimum to rounding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .gradient import NonFinite

#: The optimizer's name (``TrainSpec(optimizer="lbfgs")``, ``--optimizer lbfgs``).
NAME = "lbfgs"
#: Pairs ``(s, y)`` kept: the inverse Hessian's estimate is of rank at most ``2 * MEMORY``.
MEMORY = 10
#: The strong Wolfe constants: sufficient decrease (Armijo) and curvature.
C1, C2 = 1e-4, 0.9
#: The most passes one line search takes.
MAX_EVALUATIONS = 20
#: The factor by which the line search lengthens a step that is still going downhill.
EXTRAPOLATION = 4.0
#: Changes of the objective below this fraction of it are taken for rounding, by the
#: floating type of the passes (a float32 pass sums its rows in float32).
ROUNDING = {"float64": 1e-12, "float32": 1e-6}

Evaluate = Callable[[np.ndarray], tuple[float, np.ndarray, Any]]


class Abandoned(Exception):
    """A stop was asked between two passes of an iteration: the iteration is dropped."""


@dataclass(frozen=True)
class Point:
    """One evaluation along the search line: step length, objective, gradient, slope."""

    alpha: float
    loss: float
    grad: np.ndarray
    slope: float
    info: Any = None

    @property
    def finite(self) -> bool:
        return math.isfinite(self.loss) and math.isfinite(self.slope)


@dataclass(frozen=True)
class Iteration:
    """What one :meth:`LBFGS.iterate` did.

    ``params`` and ``state`` after the iteration; ``step_length`` the accepted
    ``alpha`` (0: no step lowered the objective, or the gradient is zero, and
    ``params`` are unchanged); ``passes`` the evaluations made; ``info`` that
    of the point the iteration ends at, or ``None`` when it ends where it
    started without having evaluated that point itself.
    """

    params: np.ndarray
    state: tuple
    step_length: float
    passes: int
    info: Any


# --- the direction -----------------------------------------------------------------

def direction(grad: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The quasi-Newton direction ``-H grad`` by the two-loop recursion.

    ``s`` and ``y`` hold the pairs as rows, oldest first; rows whose
    ``s . y`` is not positive (unused slots) are skipped. With no pair the
    direction is ``-grad``. ``H`` starts from ``gamma I`` with
    ``gamma = s . y / y . y`` of the newest pair.

    Examples
    --------
    On a quadratic ``x^T A x / 2`` one exact pair along each axis gives Newton's step:

    >>> A = np.diag([1.0, 10.0])
    >>> s = np.eye(2); y = s @ A
    >>> direction(np.array([1.0, 1.0]), s, y)
    array([-1. , -0.1])
    """
    sy = np.einsum("ij,ij->i", s, y)
    used = np.flatnonzero(sy > 0)
    q = np.array(grad, dtype=np.float64)
    if used.size == 0:
        return -q
    rho = 1.0 / sy[used]
    a = np.empty(used.size)
    for k in range(used.size - 1, -1, -1):  # newest first
        i = used[k]
        a[k] = rho[k] * (s[i] @ q)
        q -= a[k] * y[i]
    newest = used[-1]
    r = q * (sy[newest] / (y[newest] @ y[newest]))
    for k in range(used.size):  # oldest first
        i = used[k]
        b = rho[k] * (y[i] @ r)
        r += (a[k] - b) * s[i]
    return -r


# --- the line search ----------------------------------------------------------------

def _cubic_minimum(p: Point, q: Point) -> float:
    """The minimiser of the cubic through ``p`` and ``q`` (values and slopes), or NaN."""
    d1 = p.slope + q.slope - 3.0 * (p.loss - q.loss) / (p.alpha - q.alpha)
    disc = d1 * d1 - p.slope * q.slope
    if not disc >= 0.0:
        return math.nan
    d2 = math.copysign(math.sqrt(disc), q.alpha - p.alpha)
    denominator = q.slope - p.slope + 2.0 * d2
    if denominator == 0.0:
        return math.nan
    return q.alpha - (q.alpha - p.alpha) * (q.slope + d2 - d1) / denominator


def _interpolate(lo: Point, hi: Point) -> float:
    """A trial step between ``lo`` and ``hi``: the cubic's (or the parabola's) minimum,
    kept a tenth of the interval away from its ends; else the midpoint."""
    if hi.finite:
        a = _cubic_minimum(lo, hi)
    elif math.isfinite(hi.loss):  # a value but no usable slope: the parabola
        width = hi.alpha - lo.alpha
        curvature = hi.loss - lo.loss - lo.slope * width
        a = lo.alpha - lo.slope * width * width / (2.0 * curvature) if curvature > 0 \
            else math.nan
    else:
        a = math.nan
    low, high = sorted((lo.alpha, hi.alpha))
    margin = 0.1 * (high - low)
    if not (math.isfinite(a) and low + margin <= a <= high - margin):
        a = 0.5 * (low + high)
    return a


def line_search(evaluate: Evaluate, x: np.ndarray, loss: float, grad: np.ndarray,
                d: np.ndarray, alpha: float, *, should_stop=None,
                max_evaluations: int = MAX_EVALUATIONS,
                rounding: float = ROUNDING["float64"]) -> tuple[Point | None, int]:
    """A step length along ``d`` that meets the strong Wolfe conditions.

    ``f(x + alpha d) <= f(x) + C1 alpha g.d`` (sufficient decrease) and
    ``|g(x + alpha d).d| <= C2 |g.d|`` (curvature), found by bracketing and
    zooming with cubic interpolation (Nocedal and Wright, *Numerical
    Optimization*, algorithms 3.5 and 3.6), starting from ``alpha``. A point
    whose objective is not finite counts as too far.

    Near the minimum the objective's changes sink below its rounding error
    while its slope still tells where to go; there a point is accepted on the
    slope alone (Hager and Zhang's approximate Wolfe conditions,
    ``C2 g.d <= g(x + alpha d).d <= (2 C1 - 1) g.d``, sufficient decrease for a
    quadratic) when its objective is within ``rounding`` (a fraction, see
    :data:`ROUNDING`) of ``f(x)``.

    ``should_stop()`` is asked before each evaluation; when it is true
    :class:`Abandoned` is raised. Returns ``(point, evaluations)``: the
    accepted point, or, when ``max_evaluations`` ran out, the lowest point that
    met sufficient decrease, or ``None`` when none did.
    """
    slope0 = float(grad @ d)
    noise = rounding * abs(loss)
    evaluations = 0

    def at(a: float) -> Point:
        nonlocal evaluations
        if should_stop is not None and should_stop():
            raise Abandoned
        evaluations += 1
        f, g, info = evaluate(x + a * d)
        return Point(a, float(f), g, float(g @ d), info)

    def decreases(p: Point, best: Point) -> bool:
        return p.finite and p.loss <= loss + C1 * p.alpha * slope0 and p.loss < best.loss

    def accepted(p: Point) -> bool:
        if not p.finite:
            return False
        if p.loss <= loss + C1 * p.alpha * slope0 and abs(p.slope) <= -C2 * slope0:
            return True  # strong Wolfe
        return p.loss <= loss + noise and C2 * slope0 <= p.slope <= (2 * C1 - 1) * slope0

    def zoom(lo: Point, hi: Point) -> Point | None:
        while evaluations < max_evaluations:
            if abs(hi.alpha - lo.alpha) <= 1e-12 * max(lo.alpha, hi.alpha):
                break  # the interval has shrunk to rounding
            p = at(_interpolate(lo, hi))
            if accepted(p):
                return p
            if not decreases(p, lo):
                hi = p
                continue
            if p.slope * (hi.alpha - lo.alpha) >= 0:
                hi = lo
            lo = p
        return lo if lo.alpha > 0 else None

    start = Point(0.0, loss, grad, slope0)
    previous = start
    a = alpha
    while evaluations < max_evaluations:
        p = at(a)
        if accepted(p):
            return p, evaluations
        if not decreases(p, previous):
            return zoom(previous, p), evaluations
        if p.slope >= 0:
            return zoom(p, previous), evaluations
        previous, a = p, EXTRAPOLATION * a
    return (previous if previous.alpha > 0 else None), evaluations


# --- the method ---------------------------------------------------------------------

class LBFGS:
    """Limited-memory BFGS over full passes (see the module's notes).

    ``init(params)`` gives the state; :meth:`iterate` runs one iteration.
    ``memory`` is the number of pairs kept, ``rounding`` the relative size of
    the objective's rounding errors (see :func:`line_search`).
    Like an optimizer of :mod:`neurona.core.optimizers` it has a ``name`` and a
    JSON-ready state, so the trainer checkpoints and resumes it the same way;
    unlike one, it asks for as many passes as its line search needs.
    """

    name = NAME

    def __init__(self, memory: int = MEMORY, rounding: float = ROUNDING["float64"]):
        self.memory = int(memory)
        self.rounding = float(rounding)

    def init(self, params: np.ndarray) -> tuple:
        zeros = np.zeros_like(params, dtype=np.float64)
        state = {"count": 0, "x": zeros.copy(), "loss": 0.0, "previous_loss": 0.0,
                 "grad": zeros.copy(), "initial_gradient": 0.0}
        for i in range(self.memory):
            state[f"s{i}"] = zeros.copy()
        for i in range(self.memory):
            state[f"y{i}"] = zeros.copy()
        return (state,)

    def pairs(self, state: tuple) -> tuple[np.ndarray, np.ndarray]:
        """The stored ``(s, y)`` pairs as two arrays of rows, oldest first."""
        part = state[0]
        return (np.array([part[f"s{i}"] for i in range(self.memory)]),
                np.array([part[f"y{i}"] for i in range(self.memory)]))

    def iterate(self, params: np.ndarray, state: tuple, evaluate: Evaluate, *,
                should_stop=None) -> Iteration:
        """One iteration from ``params``: direction, line search, the new pair.

        Raises :class:`~neurona.core.gradient.NonFinite` when the objective at
        ``params`` itself is not finite, and :class:`Abandoned` when
        ``should_stop()`` turns true between two passes.
        """
        part = state[0]
        s, y = self.pairs(state)
        passes, info = 0, None
        if part["count"] == 0 or not np.array_equal(part["x"], params):
            if should_stop is not None and should_stop():
                raise Abandoned
            loss, grad, info = evaluate(params)
            passes = 1
            loss = float(loss)
            if not (math.isfinite(loss) and np.isfinite(grad).all()):
                raise NonFinite(params, state, 0)
            initial = part["initial_gradient"] if part["count"] else float(np.max(np.abs(grad)))
            s, y = np.zeros_like(s), np.zeros_like(y)
        else:
            loss, grad = float(part["loss"]), part["grad"]
            initial = part["initial_gradient"]
        point = None
        if np.any(grad):
            attempts = [direction(grad, s, y)] if np.any(s) else []
            attempts.append(-grad)  # steepest descent: first, or when the other fails
            for d in attempts:
                slope = float(grad @ d)
                if not slope < 0:  # not downhill (rounding in the estimate): next attempt
                    continue
                first = d is attempts[-1]
                if first:  # no curvature known: a first step of unit length
                    s, y = np.zeros_like(s), np.zeros_like(y)
                alpha = 1.0 / float(np.linalg.norm(d)) if first else 1.0
                point, used = line_search(evaluate, params, loss, grad, d, alpha,
                                          should_stop=should_stop, rounding=self.rounding)
                passes += used
                if point is not None:
                    break
        new = {**part, "count": part["count"] + 1, "previous_loss": loss,
               "initial_gradient": initial}
        if point is None:  # no step: the gradient is zero, or no lower loss was found
            new.update(x=np.array(params, dtype=np.float64), loss=loss, grad=grad)
            new.update(self._slots(s, y))
            return Iteration(np.array(params, dtype=np.float64), (new,), 0.0, passes, info)
        x = params + point.alpha * d
        step, change = x - params, point.grad - grad
        sy, yy = float(step @ change), float(change @ change)
        if sy > np.finfo(np.float64).eps * yy:
            s = np.vstack([s[1:], step])
            y = np.vstack([y[1:], change])
        new.update(x=x, loss=point.loss, grad=point.grad)
        new.update(self._slots(s, y))
        return Iteration(x, (new,), point.alpha, passes, point.info)

    def _slots(self, s: np.ndarray, y: np.ndarray) -> dict:
        out = {f"s{i}": np.array(s[i]) for i in range(self.memory)}
        out.update({f"y{i}": np.array(y[i]) for i in range(self.memory)})
        return out


def converged(state: tuple, tol: float) -> str | None:
    """Why the iterations behind ``state`` have converged, or ``None``.

    ``"gradient"``: the largest ``|g_i|`` is at most ``tol`` times its value at
    the start; ``"loss_change"``: the last iteration lowered the objective by at
    most ``tol**2`` of its value (0 when its line search found no lower loss).

    >>> part = {"count": 3, "loss": 1.0, "previous_loss": 2.0, "grad": np.array([1e-9]),
    ...         "initial_gradient": 1.0}
    >>> converged((part,), 1e-8)
    'gradient'
    >>> converged(({**part, "grad": np.array([1e-3])},), 1e-8) is None
    True
    """
    part = state[0]
    if part["count"] == 0:
        return None
    if float(np.max(np.abs(part["grad"]))) <= tol * part["initial_gradient"]:
        return "gradient"
    loss, previous = part["loss"], part["previous_loss"]
    if previous - loss <= tol * tol * max(abs(loss), abs(previous)):
        return "loss_change"
    return None
