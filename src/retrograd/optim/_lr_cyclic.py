"""``ReduceLROnPlateau``, ``CyclicLR``, ``CosineAnnealingWarmRestarts``, ``OneCycleLR``,
``SequentialLR`` and ``ChainedScheduler``: the schedulers of ``retrograd.optim.lr_scheduler``
that are not a factor of the base lr (import them from there).

The three cyclic ones compute their lr directly from the epoch (a closed form); only
``ReduceLROnPlateau`` carries history (best metric, patience and cooldown counters). The
composites hand each step to their member schedulers.
CyclicLR and OneCycleLR also cycle momentum -- ``momentum``, or ``betas[0]`` for Adam-like
optimizers -- the opposite way to the lr.
"""

from __future__ import annotations

import math
import warnings
from bisect import bisect_right
from typing import Any

from .lr_scheduler import (
    EPOCH_DEPRECATION_WARNING,
    LRScheduler,
    _callable_state,
    _check_optimizer,
    _format_param,
    _group_values,
    _NestedState,
    _restore_callable,
    _set_group_value,
    _warn_get_lr,
)
from .optimizer import Optimizer

__all__ = ["ChainedScheduler", "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR",
           "ReduceLROnPlateau", "SequentialLR"]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` once a metric has not improved for more than
    ``patience`` epochs; ``step(metric)``. After a reduction, ``cooldown`` epochs pass before
    bad epochs count again. "Improved" means beyond ``threshold`` (relative or absolute)."""

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr=0, eps: float = 1e-8) -> None:
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        _check_optimizer(optimizer)
        n = len(optimizer.param_groups)
        per_group = isinstance(min_lr, (list, tuple))
        if per_group and len(min_lr) != n:
            raise ValueError(f"expected {n} min_lrs, got {len(min_lr)}")
        self.optimizer = optimizer
        self.factor = factor
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.default_min_lr = None if per_group else min_lr
        self.min_lrs = list(min_lr) if per_group else [min_lr] * n
        self._set_mode(mode, threshold, threshold_mode)
        self.last_epoch = 0
        self._last_lr = _group_values(optimizer, "lr")
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _set_mode(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError("mode " + mode + " is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError("threshold mode " + threshold_mode + " is unknown!")
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric ``a`` beats ``best`` by more than the threshold."""
        sign = 1.0 if self.mode == "min" else -1.0  # compare in "smaller is better" terms
        if self.threshold_mode == "rel":
            return sign * a < sign * best * (1.0 - sign * self.threshold)
        return sign * a < sign * best - self.threshold

    def step(self, metrics, epoch=None) -> None:
        value = float(metrics)
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        improved = self.is_better(value, self.best)
        self.best = value if improved else self.best
        self.num_bad_epochs = 0 if improved else self.num_bad_epochs + 1
        if self.cooldown_counter > 0:  # bad epochs during a cooldown do not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._shrink_lrs()
            self.num_bad_epochs = 0
            self.cooldown_counter = self.cooldown
        self._last_lr = _group_values(self.optimizer, "lr")

    def _shrink_lrs(self) -> None:
        groups = self.optimizer.param_groups
        if len(self.min_lrs) != len(groups):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` ({len(groups)}) differs "
                    f"from when `ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), "
                    "usually due to a new param group being added to the optimizer. Please "
                    "modify the `min_lrs` field to match the length of the `optimizer` param "
                    "groups.")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, floor in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, floor)
            if old - new > self.eps:  # changes below eps are noise, not a reduction
                _set_group_value(group, "lr", new)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._set_mode(self.mode, self.threshold, self.threshold_mode)


def _write_momentum(scheduler, group: dict, momentum: float) -> None:
    if scheduler.use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _setup_momentum(scheduler, optimizer, base_momentum, max_momentum, fresh: bool) -> tuple:
    """Momentum starts at its maximum while the lr starts at its minimum."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` "
                         "option enabled")
    scheduler.use_beta1 = "betas" in optimizer.defaults
    lows = _format_param("base_momentum", optimizer, base_momentum)
    highs = _format_param("max_momentum", optimizer, max_momentum)
    if fresh:
        for group, low, high in zip(optimizer.param_groups, lows, highs):
            _write_momentum(scheduler, group, high)
            group["base_momentum"], group["max_momentum"] = low, high
    return lows, highs


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, 2017): the lr climbs from ``base_lr`` to ``max_lr``
    in ``step_size_up`` steps and falls back in ``step_size_down``; the swing is scaled by
    1 (triangular), ``1 / 2**(cycle - 1)`` (triangular2), ``gamma**step`` (exp_range) or a
    custom ``scale_fn`` of the cycle number or of the step (``scale_mode``).
    """

    def __init__(self, optimizer: Optimizer, base_lr, max_lr, step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn=None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float = 0.8,
                 max_momentum: float = 0.9, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        if scale_fn is None and mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError("mode is invalid and scale_fn is None")
        self.optimizer = optimizer
        lows = _format_param("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, lows):
                _set_group_value(group, "lr", lr)
        self.max_lrs = _format_param("max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = up if step_size_down is None else float(step_size_down)
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        if scale_fn is None:  # the built-in modes fix what the scale is a function of
            scale_mode = "iterations" if mode == "exp_range" else "cycle"
        self.scale_mode = scale_mode
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.base_momentums, self.max_momentums = _setup_momentum(
                self, optimizer, base_momentum, max_momentum, last_epoch == -1)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = lows

    def scale_fn(self, x) -> float:
        """The amplitude multiplier for cycle (or step) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list:
        _warn_get_lr(self)
        e = self.last_epoch
        cycles = e / self.total_size
        cycle = math.floor(cycles) + 1  # numbered from 1
        pos = cycles + 1 - cycle  # fraction of the current cycle done, in [0, 1)
        r = self.step_ratio
        height = pos / r if pos <= r else (1 - pos) / (1 - r)  # triangle wave, peak 1 at r
        swing = height * self.scale_fn(cycle if self.scale_mode == "cycle" else e)
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums,
                                        self.max_momentums):
                _write_momentum(self, group, high - (high - low) * swing)
        return [low + (high - low) * swing for low, high in zip(self.base_lrs, self.max_lrs)]

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        sd["_scale_fn_custom"] = (None if self._scale_fn_custom is None
                                  else _callable_state(self._scale_fn_custom))
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        saved = state_dict.pop("_scale_fn_custom", None)  # the callable stays ours
        state_dict.pop("_scale_fn_ref", None)  # a bound helper in PyTorch; we use `mode`
        super().load_state_dict(state_dict)
        if self._scale_fn_custom is not None:
            _restore_callable(self._scale_fn_custom, saved)


def _restart_position(t: float, period: int, growth: int) -> tuple:
    """(epochs since the last restart, length of the current period) at epoch ``t``."""
    if growth == 1:
        return t % period, period
    while t >= period:  # periods grow geometrically, so this runs O(log t) times
        t -= period
        period *= growth
    return t, period


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter): cosine annealing from ``base_lr`` to ``eta_min`` over
    ``T_i`` epochs, then a restart; ``T_0`` is the first period and each is ``T_mult``
    times the last. ``step(epoch)`` takes fractional epochs (no deprecation warning)."""

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(
                f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}")
        self.T_0 = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_i = T_0
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        _warn_get_lr(self)
        up = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base - self.eta_min) * up for base in self.base_lrs]

    def step(self, epoch=None) -> None:
        if epoch is None and self.last_epoch >= 0:
            # one epoch on from where we are (T_cur may be fractional after step(epoch))
            epoch = self.last_epoch + 1
            self.T_cur, self.T_i = _restart_position(self.T_cur + 1, self.T_i, self.T_mult)
        else:
            epoch = 0 if epoch is None else epoch
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            self.T_cur, self.T_i = _restart_position(epoch, self.T_0, self.T_mult)
        self.last_epoch = math.floor(epoch)
        self._get_lr_called_within_step = True
        try:
            lrs = self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        self._write(lrs)


def _phase(end_step, lr_from, lr_to, momentum_from, momentum_to) -> dict:
    """One leg of the 1cycle schedule; lrs and momenta name param-group keys."""
    return {"end_step": end_step, "start_lr": lr_from, "end_lr": lr_to,
            "start_momentum": momentum_from, "end_momentum": momentum_to}


def _positive_int(name: str, v) -> None:
    if not isinstance(v, int) or v <= 0:
        raise ValueError(f"Expected positive integer {name}, but got {v}")


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin): the lr rises from ``max_lr / div_factor`` to
    ``max_lr`` over ``pct_start`` of the steps, then anneals to ``initial_lr /
    final_div_factor`` (``three_phase``: back to the initial lr first, then down); momentum
    moves the opposite way. Each leg is a cosine or linear interpolation.
    """

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            _positive_int("total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            _positive_int("epochs", epochs)
            _positive_int("steps_per_epoch", steps_per_epoch)
            total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        self.total_steps = total_steps
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._anneal_func_type = anneal_strategy
        peak = float(pct_start * total_steps) - 1
        last = total_steps - 1
        if three_phase:
            self._schedule_phases = [
                _phase(peak, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(2 * peak, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                _phase(last, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self._schedule_phases = [
                _phase(peak, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(last, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        if last_epoch == -1:
            peaks = _format_param("max_lr", optimizer, max_lr)
            for group, top in zip(optimizer.param_groups, peaks):
                start = top / div_factor
                group.update(initial_lr=start, max_lr=top, min_lr=start / final_div_factor)
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            _setup_momentum(self, optimizer, base_momentum, max_momentum, last_epoch == -1)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, a, b, pct):
        if self._anneal_func_type == "linear":
            return a + (b - a) * pct
        return b + (a - b) / 2.0 * (1 + math.cos(math.pi * pct))

    def get_lr(self) -> list:
        _warn_get_lr(self)
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"Tried to step {t} times. The specified number of total "
                             f"steps is {self.total_steps}")
        phases = self._schedule_phases
        begin = 0.0
        for phase in phases[:-1]:
            if t <= phase["end_step"]:
                break
            begin = phase["end_step"]
        else:
            phase = phases[-1]
        pct = (t - begin) / (phase["end_step"] - begin)
        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                m = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]],
                                 pct)
                _write_momentum(self, group, m)
        return lrs


def _check_members(owner: str, optimizer: Optimizer, schedulers) -> None:
    for i, s in enumerate(schedulers):
        if not hasattr(s, "optimizer"):
            raise TypeError(f"{owner} at index {i} should have `optimizer` as its attribute.")
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(
                f"{owner} does not support `ReduceLROnPlateau` scheduler as it requires "
                "additional kwargs to be specified when calling `step`, but got one at index "
                f"{i} in the given schedulers sequence.")
        if s.optimizer != optimizer:
            raise ValueError(
                f"{owner} expects all schedulers to belong to the same optimizer, but got "
                f"scheduler {type(s).__name__} at index {i} has {s.optimizer}, which is "
                f"different from {type(optimizer).__name__}.")


class _Composite(_NestedState, LRScheduler):
    """A scheduler made of schedulers; its state dict nests theirs under ``_schedulers``."""

    _nested = "_schedulers"

    @staticmethod
    def _item_state(item: LRScheduler) -> dict[str, Any]:
        return item.state_dict()

    @staticmethod
    def _restore_item(item: LRScheduler, state: dict[str, Any]) -> None:
        item.load_state_dict(state)


class SequentialLR(_Composite):
    """``schedulers[i]`` drives the lr from ``milestones[i-1]`` until ``milestones[i]``; each
    one starts over from the base lrs (epoch 0) when its turn comes."""

    def __init__(self, optimizer: Optimizer, schedulers: list, milestones: list,
                 last_epoch: int = -1) -> None:
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler, but got no scheduler.")
        _check_members(name, optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more "
                f"than the number of milestone points, but got number of schedulers "
                f"{len(schedulers)} and the number of milestones to be equal to "
                f"{len(milestones)}")
        self.optimizer = optimizer
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        # Constructing the members already stepped the lrs; start the first one afresh.
        for g in optimizer.param_groups:
            _set_group_value(g, "lr", g["initial_lr"])
        pending = list(schedulers)
        while pending:
            s = pending.pop()
            if hasattr(s, "_schedulers"):
                pending.extend(s._schedulers)
            elif hasattr(s, "last_epoch"):
                s.last_epoch -= 1
        first = schedulers[bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        k = bisect_right(self._milestones, self.last_epoch)
        current = self._schedulers[k]
        if k > 0 and self.last_epoch == self._milestones[k - 1]:
            current._update_lr(0)  # its first epoch: the closed form from the base lrs
        else:
            current.step()
        self._last_lr = current.get_last_lr()


class ChainedScheduler(_Composite):
    """Steps every scheduler of the list at each ``step()``; their changes compose."""

    def __init__(self, schedulers, optimizer: Optimizer | None = None) -> None:
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler to be chained, but got "
                             "no scheduler.")
        self.optimizer = optimizer or schedulers[0].optimizer
        _check_members(name, self.optimizer, schedulers)
        self._schedulers = schedulers
        self._last_lr = _group_values(self.optimizer, "lr")

    def step(self) -> None:
        for s in self._schedulers:
            s.step()
        self._last_lr = _group_values(self.optimizer, "lr")
