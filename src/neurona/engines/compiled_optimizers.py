"""The optimizers the compiled mini-batch epoch runs: one adapter each, found by spec name.

:func:`neurona.kernels.compiled_epoch` runs a whole mini-batch epoch in one
Numba loop, and that loop knows a few update rules of its own
(``neurona._fused._optimizer_step``). A named optimizer of
:mod:`neurona.optimizers` runs there only when an adapter, a
:class:`CompiledOptimizer` registered here under its ``spec["name"]``, says

* which rule of the kernel is its update (:data:`RULES`),
* which entry of its ``spec`` fills each slot of the kernel's ``hyper``
  array (:data:`HYPER_SLOTS`) that the rule reads, and
* where, in its state tuple (the layout :mod:`neurona.optimizers` builds),
  the kernel's state slots live (:data:`STATE_SLOTS`): ``mu`` and ``nu``,
  arrays like the parameters; ``count``, Adam's step count; and
  ``lr_count``, the learning-rate schedule's update count.

Any other optimizer (a named one without an adapter, ``nesterov_restart``,
which has no ``spec``, or a hand-made transformation) is run batch by batch
by :func:`neurona.training.run_epoch`'s NumPy loop, with the same numbers.

To let the compiled epoch run a new optimizer whose update is one of the
rules below (the same arithmetic under another name or with other spec
keys), build its adapter and :func:`register` it. A new update rule also
needs a code and a branch in ``neurona._fused._optimizer_step`` (written term
for term like the NumPy transformations, so that the numbers agree) and its
entry in :data:`RULES`. tests/test_kernels.py compares every registered
adapter with the NumPy loop.

This module imports no Numba.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..errors import NeuronaError


@dataclass(frozen=True)
class Rule:
    """An update rule of the compiled epoch and what it reads.

    ``code`` is its number in ``neurona._fused`` (the constant named like its
    key in :data:`RULES`, upper-cased); ``hyperparameters`` the slots of
    ``hyper`` it reads; ``state`` the state slots it keeps besides
    ``lr_count``; ``decay_mask`` whether it reads a weight-decay mask.
    """

    code: int
    hyperparameters: tuple[str, ...] = ()
    state: tuple[str, ...] = ()
    decay_mask: bool = False


#: The update rules of ``neurona._fused._optimizer_step``, by name.
RULES: dict[str, Rule] = {
    "gd": Rule(0),
    "momentum": Rule(1, ("momentum",), ("mu",)),
    "nesterov": Rule(2, ("momentum",), ("mu",)),
    "adagrad": Rule(3, ("epsilon",), ("nu",)),
    "rmsprop": Rule(4, ("rho", "epsilon"), ("nu",)),
    "adam": Rule(5, ("beta_1", "beta_2", "epsilon"), ("mu", "nu", "count")),
    "adamw": Rule(6, ("beta_1", "beta_2", "epsilon", "weight_decay"), ("mu", "nu", "count"),
                  decay_mask=True),
}

#: The slots of the kernel's ``hyper`` array, in order (``neurona._fused.H_*``).
HYPER_SLOTS = ("momentum", "epsilon", "rho", "beta_1", "beta_2", "weight_decay")

#: The kernel's state slots: two arrays like the parameters, then two counts.
STATE_SLOTS = ("mu", "nu", "count", "lr_count")

StateLayout = tuple[tuple[tuple[str, str], ...], ...]


@dataclass(frozen=True)
class CompiledOptimizer:
    """How the compiled epoch runs one named optimizer.

    Parameters
    ----------
    name : str
        The optimizer's ``spec["name"]``.
    rule : str
        Its update rule, a key of :data:`RULES`.
    hyperparameters : mapping of str to str
        For each slot of ``hyper`` the rule reads (:attr:`Rule.hyperparameters`),
        the key of the ``spec`` entry that fills it.
    state : tuple
        The optimizer's state tuple, part by part: for each part (a dict of
        :mod:`neurona.optimizers`' state), its ``(key, slot)`` pairs in the
        dict's order, ``slot`` one of :data:`STATE_SLOTS`. The slots the rule
        keeps, and ``lr_count``, each appear once; a part may be empty.
    decay_mask : str, default=None
        The ``spec`` key of the weight-decay mask, for a rule that reads one;
        an absent or ``None`` mask decays every parameter.

    Examples
    --------
    >>> COMPILED_OPTIMIZERS["momentum"].state
    ((('trace', 'mu'),), (('count', 'lr_count'),))
    """

    name: str
    rule: str
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    state: StateLayout = ()
    decay_mask: str | None = None

    def __post_init__(self):
        where = f"compiled optimizer {self.name!r}"
        rule = RULES.get(self.rule)
        if rule is None:
            raise NeuronaError(f"{where}: unknown rule {self.rule!r}; choose one of "
                               f"{', '.join(RULES)}.")
        if sorted(self.hyperparameters) != sorted(rule.hyperparameters):
            raise NeuronaError(f"{where}: rule {self.rule!r} reads the hyperparameters "
                               f"{', '.join(rule.hyperparameters) or 'none'}; map exactly those "
                               f"to spec keys, got {', '.join(self.hyperparameters) or 'none'}.")
        slots = [slot for part in self.state for _, slot in part]
        wanted = [*rule.state, "lr_count"]
        if sorted(slots) != sorted(wanted):
            raise NeuronaError(f"{where}: rule {self.rule!r} keeps the state slots "
                               f"{', '.join(wanted)}, each once; the state layout names "
                               f"{', '.join(slots) or 'none'}.")
        if self.decay_mask is not None and not rule.decay_mask:
            raise NeuronaError(f"{where}: rule {self.rule!r} reads no decay mask; drop "
                               f"decay_mask={self.decay_mask!r}.")

    @property
    def code(self) -> int:
        """The rule's code in ``neurona._fused``."""
        return RULES[self.rule].code

    def hyper(self, spec: dict) -> np.ndarray:
        """The kernel's ``hyper`` array from ``spec`` (slots the rule does not read are 0)."""
        values = dict.fromkeys(HYPER_SLOTS, 0.0)
        for slot, key in self.hyperparameters.items():
            if key not in spec:
                raise NeuronaError(f"compiled optimizer {self.name!r} reads {key!r} from the "
                                   f"optimizer's spec, which has only {', '.join(spec)}.")
            values[slot] = spec[key]
        return np.array([values[slot] for slot in HYPER_SLOTS], dtype=float)

    def mask(self, spec: dict, n_params: int) -> np.ndarray:
        """The kernel's weight-decay mask: ``spec``'s, or all True."""
        mask = None if self.decay_mask is None else spec.get(self.decay_mask)
        return (np.ones(n_params, dtype=np.bool_) if mask is None
                else np.asarray(mask, dtype=np.bool_))

    def unpack(self, state: tuple, n_params: int) -> tuple[np.ndarray, np.ndarray, int, int]:
        """``(mu, nu, count, lr_count)`` from the optimizer's state tuple.

        The arrays are copies (the kernel updates them in place); the slots the
        rule does not keep are zeros.
        """
        if len(state) != len(self.state):
            raise NeuronaError(f"compiled optimizer {self.name!r} expects a state of "
                               f"{len(self.state)} parts, got {len(state)}.")
        slots = {"mu": np.zeros(n_params), "nu": np.zeros(n_params), "count": 0, "lr_count": 0}
        for part, layout in zip(state, self.state):
            for key, slot in layout:
                value = part[key]
                slots[slot] = value.copy() if slot in ("mu", "nu") else value
        return slots["mu"], slots["nu"], slots["count"], slots["lr_count"]

    def pack(self, mu: np.ndarray, nu: np.ndarray, count: int, lr_count: int) -> tuple:
        """The inverse of :meth:`unpack`: the state tuple of :mod:`neurona.optimizers`."""
        slots = {"mu": mu, "nu": nu, "count": count, "lr_count": lr_count}
        return tuple({key: slots[slot] for key, slot in layout} for layout in self.state)


_LR = (("count", "lr_count"),)  # scale_by_learning_rate's part, last in every chain

#: The adapters, by the spec name of the optimizer each runs.
COMPILED_OPTIMIZERS: dict[str, CompiledOptimizer] = {}


def register(adapter: CompiledOptimizer) -> CompiledOptimizer:
    """Let the compiled epoch run the optimizer whose spec is named ``adapter.name``."""
    if adapter.name in COMPILED_OPTIMIZERS:
        raise NeuronaError(f"A compiled optimizer named {adapter.name!r} is registered "
                           f"already; give the new optimizer's spec another name.")
    COMPILED_OPTIMIZERS[adapter.name] = adapter
    return adapter


def adapter_for(optimizer) -> CompiledOptimizer | None:
    """The adapter of ``optimizer`` (a GradientTransformation), or None: not compiled."""
    spec = getattr(optimizer, "spec", None)
    return None if spec is None else COMPILED_OPTIMIZERS.get(spec.get("name"))


for _adapter in (
    CompiledOptimizer("gd", "gd", {}, (_LR,)),
    CompiledOptimizer("momentum", "momentum", {"momentum": "momentum"},
                      ((("trace", "mu"),), _LR)),
    CompiledOptimizer("nesterov", "nesterov", {"momentum": "momentum"},
                      ((("trace", "mu"),), _LR)),
    CompiledOptimizer("adagrad", "adagrad", {"epsilon": "epsilon"},
                      ((("sum_of_squares", "nu"),), _LR)),
    CompiledOptimizer("rmsprop", "rmsprop", {"rho": "rho", "epsilon": "epsilon"},
                      ((("nu", "nu"),), _LR)),
    CompiledOptimizer("adam", "adam",
                      {"beta_1": "beta_1", "beta_2": "beta_2", "epsilon": "epsilon"},
                      ((("count", "count"), ("mu", "mu"), ("nu", "nu")), _LR)),
    CompiledOptimizer("adamw", "adamw",
                      {"beta_1": "beta_1", "beta_2": "beta_2", "epsilon": "epsilon",
                       "weight_decay": "weight_decay"},
                      ((("count", "count"), ("mu", "mu"), ("nu", "nu")), (), _LR),
                      decay_mask="decay_mask"),
):
    register(_adapter)
del _adapter
