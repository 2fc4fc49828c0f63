"""``Optimizer``: parameter groups, per-parameter state, ``state_dict`` and step hooks.

The algorithms update ``p._data`` in place with the array module's ufuncs (``out=``), outside
the graph, and bump each parameter's version counter once per update so that autograd still
refuses to backward through a value the optimizer has overwritten. Complex parameters are
updated through real views of their (re, im) pairs, as PyTorch's ``view_as_real`` does.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

from .._site import creation_site
from .._tensor import Tensor, wrap
from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.grad_mode import state as _state
from ..autograd.graph import RemovableHandle
from ..backend import to_numpy, xp
from ..ops.inplace import bump_version

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Singleton marking a hyper-parameter every group must give (SGD's old ``lr``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


_global_pre_hooks: dict = OrderedDict()
_global_post_hooks: dict = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    handle = RemovableHandle(_global_pre_hooks)
    _global_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    handle = RemovableHandle(_global_post_hooks)
    _global_post_hooks[handle.id] = hook
    return handle


def _with_hooks(step):
    """Run the global and per-optimizer pre/post hooks around ``step``, as PyTorch does."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        for hook in chain(_global_pre_hooks.values(), self._step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"{hook} must return None or a tuple of (new_args, new_kwargs), "
                        f"but got {result}."
                    )
                args, kwargs = result
        out = step(self, *args, **kwargs)
        self._opt_called = True
        for hook in chain(self._step_post_hooks.values(), _global_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    wrapper._hooked = True
    return wrapper


def scalar_state(value: float) -> Tensor:
    """A 0-d float32 tensor, as PyTorch keeps ``step`` and NAdam's ``mu_product``."""
    return wrap(np.array(value, dtype=np.float32))


def value(x):
    """A hyper-parameter as a number. PyTorch accepts 1-element tensors for ``lr`` and keeps
    computing with them in their dtype, so a tensor becomes a NumPy scalar of its dtype."""
    if isinstance(x, Tensor):
        return to_numpy(x._data).reshape(())[()]
    return x


def lerp_(a, end, weight: float) -> None:
    """``a.lerp_(end, weight)`` with PyTorch's two-sided formula (exact at both ends)."""
    if weight < 0.5:
        a += weight * (end - a)
    else:
        xp(a).subtract(end, (end - a) * (1 - weight), out=a)


def check_hparams(lr=None, eps=None, betas=None, weight_decay=None, **others) -> None:
    """PyTorch's constructor checks: ValueError naming the bad hyper-parameter."""
    if lr is not None and not isinstance(lr, Tensor) and not lr >= 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if eps is not None and not eps >= 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if betas is not None:
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if weight_decay is not None and not weight_decay >= 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
    for name, v in others.items():
        if v is not None and not v >= 0.0:
            raise ValueError(f"Invalid {name} value: {v}")


def defaults_from(args: dict, *checked: str) -> dict[str, Any]:
    """The preamble every algorithm's constructor shares. ``args`` is the constructor's
    ``locals()`` (taken first thing): each keyword argument becomes a default, so a new option
    is written once, in the signature; the ones named in ``checked`` must pass PyTorch's
    range checks first."""
    defaults = {k: v for k, v in args.items() if k not in ("self", "params", "__class__")}
    check_hparams(**{k: defaults[k] for k in checked})
    return defaults


def _keyword_defaults(cls) -> dict[str, Any]:
    """The constructor's keyword defaults: what an option missing from an old pickle means."""
    sig = inspect.signature(cls.__init__)
    return {name: prm.default for name, prm in sig.parameters.items()
            if name not in ("self", "params") and prm.default is not inspect.Parameter.empty}


def zeros_state(p: Tensor, fill: float = 0.0) -> Tensor:
    """A state buffer shaped and typed like ``p`` (on its device), filled with ``fill``."""
    arr = xp(p._data).full(p._data.shape, fill, dtype=p._data.dtype)
    return wrap(arr)


def _as_real(arr):
    """PyTorch's view_as_real, flattened into the last axis: (re, im) pairs, same memory."""
    if arr.dtype.kind != "c":
        return arr
    if arr.ndim and not arr.flags.c_contiguous:
        raise RuntimeError("optimizers need contiguous complex parameters and state")
    real = arr.real.dtype
    return arr.reshape(1).view(real) if arr.ndim == 0 else arr.view(real)


def _complex_update(update: Callable, p: Tensor, grad, state: dict, group: dict) -> None:
    """Run a real-valued update on complex ``p`` through real views, as PyTorch does
    (``view_as_real`` of the parameter, gradient and state); the state stays complex."""
    ctype = p._data.dtype
    proxy = wrap(_as_real(p._data))
    passed: dict = {}
    real_state: dict = {}
    for k, v in state.items():
        if isinstance(v, Tensor) and v._data.dtype == ctype:
            v = passed[k] = wrap(_as_real(v._data))  # shares memory: in-place updates land
        real_state[k] = v
    update(proxy, _as_real(xp(grad).ascontiguousarray(grad)), real_state, group)
    for k, v in real_state.items():
        if passed.get(k) is v:
            continue
        if isinstance(v, Tensor) and v._data.shape == proxy._data.shape and \
                v._data.dtype == proxy._data.dtype:  # a new buffer: keep it complex
            v = wrap(xp(v._data).ascontiguousarray(v._data).view(ctype).reshape(p._data.shape))
        state[k] = v


def init_state(state: dict, p: Tensor, *buffers: str) -> None:
    """A parameter's state at its first step: the step count and zero-filled ``buffers``."""
    state["step"] = scalar_state(0.0)
    for name in buffers:
        state[name] = zeros_state(p)


def l2_grad(grad, x, group: dict):
    """The gradient an update follows: negated under ``maximize``, plus the L2 weight decay
    ``weight_decay * x``."""
    if group["maximize"]:
        grad = -grad
    wd = group["weight_decay"]
    return grad if wd == 0 else grad + wd * x


def adam_moments(x, grad, state: dict, group: dict, lr: float, beta1: float, beta2: float):
    """The Adam family's common part, in place: maximize, the step count, weight decay (L2
    or decoupled) and the first and second moment updates.

    Returns ``(grad, step, exp_avg, exp_avg_sq)`` with ``grad`` after maximize/weight decay.
    """
    if group["maximize"]:
        grad = -grad
    step_t = state["step"]._data
    step_t += 1
    wd = group["weight_decay"]
    if wd != 0:
        if group["decoupled_weight_decay"]:
            x *= 1 - lr * wd
        else:
            grad = grad + wd * x
    exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
    lerp_(exp_avg, grad, 1 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad
    return grad, float(step_t), exp_avg, exp_avg_sq


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (parameter
            groups, each with a ``"params"`` entry and optional per-group hyper-parameters).
        defaults: the hyper-parameters used where a group does not give its own.
    """

    #: True where ``_update`` computes on arrays only (never a Tensor op that could record
    #: graph): ``step`` then skips the ``no_grad`` block, two grad-mode switches a step.
    _updates_arrays = False

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._step_pre_hooks: dict = OrderedDict()
        self._step_post_hooks: dict = OrderedDict()
        self._opt_called = False
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__module__}.{type(params).__name__}"
            )
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        given = list(params)
        if not given:
            raise ValueError("optimizer got an empty parameter list")
        # a plain list of tensors (or of (name, tensor) pairs) is one group
        for group in given if isinstance(given[0], dict) else [{"params": given}]:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _with_hooks(step)
        if "_update" in cls.__dict__ and "_updates_arrays" not in cls.__dict__:
            cls._updates_arrays = False  # a new update (a user's subclass of SGD) says anew

    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_step_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_step_post_hooks", OrderedDict())
        # An optimizer pickled before an option existed gets the option's default.
        for name, default in _keyword_defaults(type(self)).items():
            self.defaults.setdefault(name, default)
            for group in self.param_groups:
                group.setdefault(name, default)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own hyper-parameters) to optimize."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list "
                "instead."
            )
        else:
            param_group["params"] = list(params)
        names, tensors = [], []
        for item in param_group["params"]:
            if isinstance(item, tuple):
                names.append(item[0])
                tensors.append(item[1])
            else:
                tensors.append(item)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names
        leaves_only = not self.defaults.get("differentiable")
        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    f"{type(param).__module__}.{type(param).__name__}"
                )
            # updating a non-leaf in place would corrupt the graph it belongs to
            if leaves_only and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        missing = [k for k, v in self.defaults.items() if v is required and k not in param_group]
        if missing:
            raise ValueError("parameter group didn't specify a value of required optimization "
                             f"parameter {missing[0]}")
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        if len(tensors) != len({id(p) for p in tensors}):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error; see github.com/pytorch/pytorch/issues/40967 for "
                "more information",
                stacklevel=3,
            )
        seen = set()
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                current = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {current} to the optimizer"
                )
            seen.update(id(p) for p in group["params"])
        if any(id(p) in seen for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------- grads
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: to None (the default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    g = p._grad
                    if g._grad_fn is not None:
                        g = p._grad = g.detach()
                    g._data[...] = 0
                    bump_version(g)
        if _state.capture is not None:
            _state.capture.call(self.zero_grad, set_to_none)

    @_with_hooks
    def step(self, closure: Callable | None = None):
        """One update of every parameter that has a gradient (the subclass's ``_update``);
        returns the closure's loss."""
        update = getattr(self, "_update", None)
        if update is None:
            raise NotImplementedError
        return self._simple_step(closure, update)

    def _params_with_grad(self, group: dict):
        """(param, grad array) pairs of a group, skipping parameters without a gradient."""
        for p in group["params"]:
            g = p._grad
            if g is not None:
                yield p, g._data

    def _simple_step(self, closure, update: Callable) -> Any:
        """The common loop: evaluate the closure, then ``update(p, grad, state, group)``."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        site = creation_site(1)  # the user's step() call: where every parameter changes
        if self._updates_arrays:  # arrays in, arrays out: nothing there could record graph
            self._update_all(update, site)
        else:
            with no_grad():
                self._update_all(update, site)
        return loss

    def _update_all(self, update: Callable, site: tuple | None) -> None:
        for group in self.param_groups:
            for p, grad in self._params_with_grad(group):
                self._update_param(update, p, grad, group, site)

    def _update_param(self, update: Callable, p: Tensor, grad, group: dict,
                      site: tuple | None = None) -> None:
        """One parameter's update; a capturing ``compile`` replays exactly this call."""
        # Like PyTorch, a parameter gets a state entry only once it is updated.
        state = self.state.get(p)
        if state is None:
            state = {}
        if p._data.dtype.kind == "c":
            _complex_update(update, p, grad, state, group)
        else:
            update(p, grad, state, group)
        if state:
            self.state[p] = state
        bump_version(p, site)
        if _state.capture is not None:
            _state.capture.call(self._update_again, update, p, group)

    def _update_again(self, update: Callable, p: Tensor, group: dict) -> None:
        """A replayed update: the gradient is the one the parameter holds at replay."""
        self._update_param(update, p, p._grad._data, group)

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs) -> None or (args, kwargs)`` before each step."""
        handle = RemovableHandle(self._step_pre_hooks)
        self._step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs) -> None`` after each step."""
        handle = RemovableHandle(self._step_post_hooks)
        self._step_post_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------- state dict
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``.

        Parameters are referred to by their position over all groups, so the dict can be
        loaded into an optimizer built over other (equally shaped) parameters.
        """
        index: dict[int, int] = {}
        start = 0

        def pack(group: dict) -> dict:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack(g) for g in self.param_groups]
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load hyper-parameters and state saved by :meth:`state_dict`.

        State tensors are copied and cast to their parameter's dtype and device (``step``
        stays as saved), so the loaded optimizer never shares buffers with the source.
        """
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param: Tensor, value, key=None):
            if isinstance(value, Tensor):
                arr = value._data
                if key != "step" and param.is_floating_point():
                    arr = arr.astype(param._data.dtype)
                if xp(arr) is not xp(param._data):
                    arr = xp(param._data).asarray(arr)
                return wrap(arr.copy())
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            k = int(k) if isinstance(k, str) and k.isdigit() else k
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v)
            else:
                state[k] = v

        def update_group(group: dict, new_group: dict) -> dict:
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            for key, value in new_group.items():
                # JSON-stored state dicts (retrograd.save) turn tuples such as betas into
                # lists; the algorithms unpack both alike, but keep PyTorch's form.
                if isinstance(value, list) and isinstance(group.get(key), tuple):
                    new_group[key] = tuple(value)
            return new_group

        self.state = state
        self.param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
