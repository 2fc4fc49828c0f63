"""``retrograd.jit``: TorchScript's entry points, running the Python code as written.

retrograd has no TorchScript compiler. ``script`` and ``trace`` return objects that run
the same computation eagerly, which is what PyTorch does with the JIT disabled
(``PYTORCH_JIT=0``); they accept PyTorch's arguments, and ``trace`` runs the function once
on the example inputs, so bad inputs fail where they would in PyTorch. Python control flow
stays live: a traced function takes the branch its inputs call for, where PyTorch's trace
would replay the branch it saw. There is no TorchScript archive: ``save`` and ``load``
raise, naming the alternative (``retrograd.save`` of the state_dict).

>>> import retrograd
>>> @retrograd.jit.script
... def addmul(x, y):
...     return x + x * y
>>> addmul(retrograd.ones(2), retrograd.ones(2))
tensor([2., 2.])
>>> retrograd.jit.is_scripting()
False
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections import namedtuple
from collections.abc import Callable
from typing import Any, Final

from .autograd.grad_mode import no_grad
from .nn.modules.module import Module

__all__ = ["Attribute", "Final", "ScriptFunction", "ScriptModule", "annotate", "export",
           "fork", "freeze", "ignore", "interface", "is_scripting", "is_tracing", "load",
           "optimize_for_inference", "save", "script", "script_if_tracing", "trace",
           "trace_module", "unused", "wait"]

_NO_ARCHIVE = ("retrograd does not compile TorchScript, so there is no TorchScript archive to "
               "{}: save the weights with retrograd.save(module.state_dict(), path) and load "
               "them into the Python module with load_state_dict")


def _deprecated(name: str) -> None:
    # PyTorch 2.13 warns so on every call; programs that silence it keep working.
    warnings.warn(f"`torch.jit.{name}` is deprecated. Please switch to `torch.compile` or "
                  "`torch.export`.", DeprecationWarning, stacklevel=3)


class ScriptModule(Module):
    """Base class of scripted and traced modules: a Module whose ``forward`` runs eagerly."""

    def save(self, f: Any, **kwargs: Any) -> None:
        raise RuntimeError(_NO_ARCHIVE.format("save"))

    @property
    def code(self) -> str:
        raise RuntimeError("retrograd.jit runs Python eagerly: there is no TorchScript code")

    @property
    def graph(self) -> Any:
        raise RuntimeError("retrograd.jit runs Python eagerly: there is no TorchScript graph")


class RecursiveScriptModule(ScriptModule):
    """What ``script(module)`` returns."""


class TracedModule(ScriptModule):
    """What ``trace_module`` returns for a submodule."""


class TopLevelTracedModule(TracedModule):
    """What ``trace(module)`` and ``trace_module`` return."""


def _as(kind: type, module: Module) -> Module:
    """A shallow copy of ``module`` that is also a ``kind``: it shares parameters, buffers and
    submodules (as PyTorch's scripted module does) and runs the original ``forward``."""
    cls = type(module)
    if isinstance(module, ScriptModule):
        return module
    out = copy.copy(module)
    out.__class__ = type(f"{kind.__name__}[{cls.__name__}]", (kind, cls), {})
    object.__setattr__(out, "original_name", cls.__name__)
    return out


class ScriptFunction:
    """A scripted or traced function; calling it calls the Python function."""

    def __init__(self, fn: Callable) -> None:
        functools.update_wrapper(self, fn)
        self.name = getattr(fn, "__name__", type(fn).__name__)
        self._fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    def save(self, f: Any, **kwargs: Any) -> None:
        raise RuntimeError(_NO_ARCHIVE.format("save"))

    @property
    def code(self) -> str:
        raise RuntimeError("retrograd.jit runs Python eagerly: there is no TorchScript code")

    def __repr__(self) -> str:
        return f"<retrograd.jit.ScriptFunction {self.name}>"


def script(obj: Any, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None,
           example_inputs: Any = None) -> Any:
    """``torch.jit.script``: a Module comes back as a ``RecursiveScriptModule`` sharing its
    parameters, a function as a ``ScriptFunction``, a class unchanged; all run eagerly."""
    _deprecated("script")
    if isinstance(obj, (ScriptModule, ScriptFunction)):
        return obj
    if isinstance(obj, Module):
        return _as(RecursiveScriptModule, obj)
    if isinstance(obj, type):
        return obj  # a TorchScript class stays a Python class
    if callable(obj):
        return ScriptFunction(obj)
    raise TypeError(f"script(): expected a Module, a function or a class, got "
                    f"{type(obj).__name__}")


def _call_args(example: Any) -> tuple:
    if example is None:
        return ()
    return example if isinstance(example, tuple) else (example,)


def trace(func: Any, example_inputs: Any = None, optimize: Any = None, check_trace: bool = True,
          check_inputs: Any = None, check_tolerance: float = 1e-5, strict: bool = True,
          _force_outplace: bool = False, _module_class: Any = None,
          _compilation_unit: Any = None, example_kwarg_inputs: dict | None = None,
          _store_inputs: bool = True) -> Any:
    """``torch.jit.trace``: runs ``func`` once on the example inputs (as tracing does) and
    returns a module (``TopLevelTracedModule``) or ``ScriptFunction`` running it eagerly."""
    _deprecated("trace")
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("example_kwarg_inputs or example_inputs must be provided")
    if isinstance(func, (ScriptModule, ScriptFunction)):
        return func
    if isinstance(func, Module):
        inputs = example_kwarg_inputs if example_kwarg_inputs is not None else example_inputs
        return trace_module(func, {"forward": inputs},
                            example_inputs_is_kwarg=example_kwarg_inputs is not None)
    if not callable(func):
        raise TypeError(f"trace(): expected a Module or a function, got {type(func).__name__}")
    _run_example(func, example_inputs, example_kwarg_inputs)
    return ScriptFunction(func)


def _run_example(fn: Callable, args: Any, kwargs: dict | None) -> None:
    # Tracing executes the function once; its result is not kept, so no graph is needed.
    with no_grad():
        fn(*_call_args(args), **(kwargs or {}))


def trace_module(mod: Module, inputs: dict, optimize: Any = None, check_trace: bool = True,
                 check_inputs: Any = None, check_tolerance: float = 1e-5, strict: bool = True,
                 _force_outplace: bool = False, _module_class: Any = None,
                 _compilation_unit: Any = None, example_inputs_is_kwarg: bool = False,
                 _store_inputs: bool = True) -> Module:
    """``torch.jit.trace_module``: runs each named method once on its example inputs."""
    if not isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    for name, example in inputs.items():
        method = getattr(mod, name)
        if example_inputs_is_kwarg:
            _run_example(method, None, example)
        else:
            _run_example(method, example, None)
    return _as(TopLevelTracedModule, mod)


def _marker(name: str):
    def decorator(fn: Any = None, **kwargs: Any) -> Any:
        if fn is None or (isinstance(fn, bool) and name in ("ignore", "unused")):
            return lambda f: f  # @ignore(drop=True) style
        return fn

    decorator.__name__ = name
    decorator.__doc__ = (f"``@{name}``: accepted; the function stays ordinary Python (which is "
                         "how everything runs here).")
    return decorator


ignore = _marker("ignore")
unused = _marker("unused")
export = _marker("export")
interface = _marker("interface")
script_if_tracing = _marker("script_if_tracing")


def is_scripting() -> bool:
    """False: code always runs as Python here."""
    return False


def is_tracing() -> bool:
    """False: ``trace`` records no graph, it runs the function."""
    return False


def annotate(the_type: Any, the_value: Any) -> Any:
    """``the_value`` (the type is a hint for TorchScript only)."""
    return the_value


Attribute = namedtuple("Attribute", ["value", "type"])


class Future:
    """The result of ``fork``: the call has already run (eagerly)."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def wait(self) -> Any:
        return self._value

    value = wait

    def done(self) -> bool:
        return True


def fork(func: Callable, *args: Any, **kwargs: Any) -> Future:
    """Runs ``func`` now (PyTorch's eager behaviour) and returns its finished ``Future``."""
    return Future(func(*args, **kwargs))


def wait(future: Future) -> Any:
    return future.wait()


def freeze(mod: Module, preserved_attrs: list | None = None,
           optimize_numerics: bool = True) -> Module:
    """Checks ``mod`` as PyTorch does (a scripted module in eval mode) and returns it."""
    if not isinstance(mod, ScriptModule):
        raise RuntimeError("Freezing expects a ScriptModule as input. Please use "
                           "torch.jit.script or torch.jit.trace to script your 'nn.Module'.")
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. "
                           "Please call .eval() on your module before freezing.")
    return mod


def optimize_for_inference(mod: Module, other_methods: list | None = None) -> Module:
    """Scripts ``mod`` if needed and returns it in eval mode (no graph passes to run)."""
    if not isinstance(mod, ScriptModule):
        mod = _as(RecursiveScriptModule, mod)
    return freeze(mod.eval())


def save(m: Any, f: Any, _extra_files: Any = None) -> None:
    raise RuntimeError(_NO_ARCHIVE.format("save"))


def load(f: Any, map_location: Any = None, _extra_files: Any = None,
         _restore_shapes: bool = False) -> Any:
    raise RuntimeError(_NO_ARCHIVE.format("load"))

