"""Learning-rate schedulers with PyTorch's API.

Most schedulers here are one closed-form *factor* of the epoch, ``lr(e) = base_lr * f(e)``
(``_factor``), plus the step-to-step ratio ``f(e) / f(e - 1)`` (``_ratio``):

- ``step(epoch)`` evaluates the closed form;
- ``step()`` multiplies the lr the optimizer holds *now* by the ratio. Working from the current
  lr, not from ``base_lr``, is what lets schedulers compose as PyTorch documents
  (``ChainedScheduler``, ``SequentialLR``, or two schedulers on one optimizer): each one applies
  its own change to whatever the others left. A lone scheduler gives the closed form's values
  to rounding.

Schedulers whose lr is absolute (``LambdaLR``, ``CyclicLR``, ``OneCycleLR``,
``CosineAnnealingWarmRestarts``) compute it from ``base_lrs`` in ``get_lr()``, and user
subclasses that override ``get_lr()`` work unchanged. The schedulers with their own step
logic (``ReduceLROnPlateau``, ``CyclicLR``, ``CosineAnnealingWarmRestarts``, ``OneCycleLR``,
``SequentialLR``, ``ChainedScheduler``) live in ``_lr_cyclic.py``.
"""

from __future__ import annotations

import math
import types
import warnings
from bisect import bisect_right
from collections import Counter
from typing import Any

from .._tensor import Tensor
from .optimizer import Optimizer

__all__ = [
    "ChainedScheduler", "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
    "CyclicLR", "ExponentialLR", "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR",
    "MultiplicativeLR", "OneCycleLR", "PolynomialLR", "ReduceLROnPlateau", "SequentialLR",
    "StepLR",
]

# PyTorch's wording, which users filter warnings on.
EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated "
    "where possible. Please use `scheduler.step()` to step the scheduler. During the "
    "deprecation, if epoch is different from None, the closed form is used instead of the "
    "new chainable form, where available. Please open an issue if you are unable to "
    "replicate your use case: https://github.com/pytorch/pytorch/issues/new/choose."
)
_ORDER_WARNING = (
    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 and "
    "later, you should call them in the opposite order: `optimizer.step()` before "
    "`lr_scheduler.step()`.  Failure to do this will result in PyTorch skipping the first "
    "value of the learning rate schedule. See more details at "
    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)


def _copy(v):
    """A snapshot of a hyper-parameter: a tensor lr must not change under us later."""
    return v.clone() if isinstance(v, Tensor) else v


def _format_param(name: str, optimizer: Optimizer, param) -> list:
    """``param`` spread over the parameter groups: a list must have one entry per group."""
    n = len(optimizer.param_groups)
    if not isinstance(param, (list, tuple)):
        return [_copy(param)] * n
    if len(param) != n:
        raise ValueError(f"{name} must have the same length as optimizer.param_groups. {name} "
                         f"has {len(param)} values, param_groups has {n}.")
    return [_copy(p) for p in param]


def _group_values(optimizer: Optimizer, key: str) -> list:
    return [_copy(g[key]) for g in optimizer.param_groups]


def _set_group_value(group: dict, key: str, val) -> None:
    """Store ``val`` under ``key``; a tensor hyper-parameter is filled in place so that
    anything holding it (a compiled step, the user) sees the new value."""
    old = group[key]
    if isinstance(old, Tensor):
        old.fill_(val.item() if isinstance(val, Tensor) else val)
    else:
        group[key] = val


def _warn_get_lr(scheduler: LRScheduler) -> None:
    if not scheduler._get_lr_called_within_step:
        warnings.warn("To get the last learning rate computed by the scheduler, please use "
                      "`get_last_lr()`.", UserWarning, stacklevel=3)


def _check_optimizer(optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _callable_state(fn):
    """What a state dict keeps of a user callable: nothing for a plain function (it cannot be
    pickled reliably), the attributes of a callable object."""
    return None if isinstance(fn, types.FunctionType) else fn.__dict__.copy()


def _restore_callable(fn, saved) -> None:
    if saved is not None:
        fn.__dict__.update(saved)


class LRScheduler:
    """Base class: sets ``param_group['lr']`` of an optimizer at each ``step()``.

    Subclasses give ``get_lr()`` (the lrs for ``self.last_epoch``) and may give
    ``_get_closed_form_lr()`` for ``step(epoch)``. Construction takes the first step, so
    right after it the optimizer holds the lr of epoch 0.
    """

    _get_lr_called_within_step = False
    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        groups = optimizer.param_groups
        if last_epoch != -1:
            # resuming: the schedule's origin must already be recorded in every group
            for i, g in enumerate(groups):
                if "initial_lr" not in g:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   "when resuming scheduler with last_epoch >= 0.")
        for g in groups:
            if "initial_lr" not in g:
                g["initial_lr"] = _copy(g["lr"])
        self.base_lrs: list = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list:
        """The learning rates set by the last ``step()``, one per parameter group."""
        return self._last_lr

    def get_lr(self) -> list:
        raise NotImplementedError(f"{type(self).__name__} does not define get_lr()")

    def step(self, epoch: int | None = None) -> None:
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(_ORDER_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)
        self._step_count += 1

    def _update_lr(self, epoch: int | None = None) -> None:
        """Move to ``epoch`` (the next one when None) and write its lrs into the groups."""
        if epoch is None:
            self.last_epoch += 1
            compute = self.get_lr
        else:
            self.last_epoch = epoch
            compute = getattr(self, "_get_closed_form_lr", self.get_lr)
        self._get_lr_called_within_step = True
        try:
            lrs = compute()
        finally:
            self._get_lr_called_within_step = False
        self._write(lrs)

    def _write(self, lrs) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            _set_group_value(group, "lr", lr)
        self._last_lr = _group_values(self.optimizer, "lr")


_LRScheduler = LRScheduler


class _FactorScheduler(LRScheduler):
    """``lr(e) = base_lr * _factor(e)``; ``step()`` multiplies the current lr by ``_ratio``.

    Constructed with ``last_epoch >= 0`` (resuming), the groups are taken to hold the lr of
    that epoch already, and the constructor's step leaves them be -- except in the
    schedulers whose step-wise changes PyTorch applies there too (``_resume_applies_ratio``).
    """

    _resume_applies_ratio = False

    def _factor(self, epoch):
        raise NotImplementedError

    def _ratio(self, epoch):
        """``f(e) / f(e - 1)``, with ``f(-1) = 1``: the lr a group starts with is its base."""
        now = self._factor(epoch)
        before = 1.0 if epoch == 0 else self._factor(epoch - 1)
        return 1.0 if now == before else now / before

    def _next_lr(self, i: int, lr):
        return lr * self._ratio(self.last_epoch)

    def get_lr(self) -> list:
        _warn_get_lr(self)
        lrs = _group_values(self.optimizer, "lr")
        if self._is_initial and self.last_epoch > 0 and not self._resume_applies_ratio:
            return lrs  # resuming: the groups already hold this epoch's lr
        return [self._next_lr(i, lr) for i, lr in enumerate(lrs)]

    def _get_closed_form_lr(self) -> list:
        f = self._factor(self.last_epoch)
        return [base * f for base in self.base_lrs]


class _NestedState:
    """State dict support for a scheduler holding items that keep state of their own (user
    callables, sub-schedulers) in the list attribute ``_nested``: the state dict stores
    theirs under that name, and loading restores each item in place (the items stay ours)."""

    _nested = ""

    @staticmethod
    def _item_state(item) -> Any:
        raise NotImplementedError

    @staticmethod
    def _restore_item(item, state) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        sd[self._nested] = [self._item_state(item) for item in getattr(self, self._nested)]
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        saved = state_dict.pop(self._nested)
        self.__dict__.update(state_dict)
        for item, state in zip(getattr(self, self._nested), saved):
            self._restore_item(item, state)


class _HoldsLambdas(_NestedState):
    """State dict support for schedulers holding user callables in ``lr_lambdas``."""

    _nested = "lr_lambdas"
    _item_state = staticmethod(_callable_state)
    _restore_item = staticmethod(_restore_callable)


def _per_group_lambdas(optimizer: Optimizer, lr_lambda) -> list:
    n = len(optimizer.param_groups)
    if not isinstance(lr_lambda, (list, tuple)):
        return [lr_lambda] * n
    if len(lr_lambda) != n:
        raise ValueError(f"Expected {n} lr_lambdas, but got {len(lr_lambda)}")
    return list(lr_lambda)


class LambdaLR(_HoldsLambdas, LRScheduler):
    """``lr = base_lr * lr_lambda(epoch)`` (one lambda, or one per group)."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _per_group_lambdas(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        _warn_get_lr(self)
        e = self.last_epoch
        return [base * fn(e) for base, fn in zip(self.base_lrs, self.lr_lambdas)]


class MultiplicativeLR(_HoldsLambdas, LRScheduler):
    """``lr = lr * lr_lambda(epoch)`` at every step after the first; there is no closed
    form, so ``step(epoch)`` applies the lambda of that epoch too."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _per_group_lambdas(optimizer, lr_lambda)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        _warn_get_lr(self)
        lrs = _group_values(self.optimizer, "lr")
        e = self.last_epoch
        if self._is_initial:
            return lrs
        return [lr * fn(e) for lr, fn in zip(lrs, self.lr_lambdas)]


class StepLR(_FactorScheduler):
    """``lr = base_lr * gamma ** (epoch // step_size)``."""

    _resume_applies_ratio = True

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _factor(self, epoch):
        return self.gamma ** (epoch // self.step_size)

    def _ratio(self, epoch):
        return self.gamma if epoch > 0 and epoch % self.step_size == 0 else 1.0


class MultiStepLR(_FactorScheduler):
    """``lr = base_lr * gamma ** (number of milestones <= epoch)``; a milestone given twice
    counts twice."""

    _resume_applies_ratio = True

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _factor(self, epoch):
        passed = bisect_right(sorted(self.milestones.elements()), epoch)
        return self.gamma ** passed

    def _ratio(self, epoch):
        hits = self.milestones.get(epoch, 0)
        return self.gamma ** hits if hits else 1.0


class ConstantLR(_FactorScheduler):
    """``lr = base_lr * factor`` before epoch ``total_iters``, ``base_lr`` from then on."""

    _resume_applies_ratio = True

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if not 0 <= factor <= 1.0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def _factor(self, epoch):
        return self.factor if epoch < self.total_iters else 1.0


class LinearLR(_FactorScheduler):
    """The factor goes linearly from ``start_factor`` at epoch 0 to ``end_factor`` at epoch
    ``total_iters`` and stays there."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        if not 0 < start_factor <= 1.0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and "
                             "less or equal to 1.")
        if not 0 <= end_factor <= 1.0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def _factor(self, epoch):
        done = min(epoch, self.total_iters) / self.total_iters
        return self.start_factor + (self.end_factor - self.start_factor) * done


class ExponentialLR(_FactorScheduler):
    """``lr = base_lr * gamma ** epoch``."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _factor(self, epoch):
        return self.gamma ** epoch

    def _ratio(self, epoch):
        # gamma itself, not gamma**e / gamma**(e-1): both powers underflow for large e
        return 1.0 if epoch == 0 else self.gamma


class PolynomialLR(_FactorScheduler):
    """``lr = base_lr * (1 - min(epoch, total_iters) / total_iters) ** power``."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def _factor(self, epoch):
        return (1.0 - min(epoch, self.total_iters) / self.total_iters) ** self.power


class CosineAnnealingLR(_FactorScheduler):
    """SGDR without restarts: ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi e / T_max)) / 2``.

    Past ``T_max`` the cosine climbs back up (period ``2 T_max``), as in PyTorch. ``step()``
    scales the distance to ``eta_min`` by the ratio of consecutive ``1 + cos`` values; at a
    trough that ratio is 0/0, so the step adds the closed form's increment instead.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def _factor(self, epoch):
        return 1 + math.cos(math.pi * epoch / self.T_max)  # twice the fraction of the way up

    def _next_lr(self, i: int, lr):
        e, low = self.last_epoch, self.eta_min
        if e == 0:
            return lr
        if (e - 1) % (2 * self.T_max) == self.T_max:  # leaving a trough: f(e - 1) == 0
            return lr + (self.base_lrs[i] - low) * self._factor(e) / 2
        return low + (lr - low) * (self._factor(e) / self._factor(e - 1))

    def _get_closed_form_lr(self) -> list:
        f = self._factor(self.last_epoch)
        return [self.eta_min + (base - self.eta_min) * f / 2 for base in self.base_lrs]


# Schedulers with their own step logic live next door; they are part of this module's API.
from ._lr_cyclic import (  # noqa: E402
    ChainedScheduler,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
)

for _cls in (ChainedScheduler, CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR,
             ReduceLROnPlateau, SequentialLR):
    _cls.__module__ = __name__
