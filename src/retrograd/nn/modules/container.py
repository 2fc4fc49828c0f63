"""Containers that register what they hold with the module tree.

``Sequential`` and ``ModuleList`` keep their children in ``_modules`` under the keys
"0", "1", ... (those keys are what ``state_dict`` and ``repr`` show). Every edit that moves
children (insert, delete, pop) therefore goes through one step: take the children as a
Python list, edit the list, and write it back under fresh position keys (``_relabel``).
``ParameterList`` and ``ParameterDict`` store each entry as an attribute, so ``Module``'s
attribute routing decides what becomes a parameter; plain tensors are wrapped into
``Parameter`` first, as PyTorch does.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from itertools import groupby
from typing import Any

from ..._tensor import Tensor
from ..parameter import Parameter
from .module import Module, _addindent, typename

__all__ = ["ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential"]


def _position(idx: Any, n: int) -> int:
    """``idx`` as a position in ``range(n)`` (negative counts from the end), as a list would."""
    pos = operator.index(idx)
    if pos >= n or pos < -n:
        raise IndexError(f"index {pos} is out of range")
    return pos % n


def _as_parameter(value: Any) -> Any:
    # A plain tensor put into a parameter container becomes a Parameter; other objects
    # (None, strings, numbers) are kept as ordinary attributes.
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


class _ModuleSeq(Module):
    """Children addressed by position; shared by ``Sequential`` and ``ModuleList``."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __dir__(self) -> list[str]:
        return [name for name in super().__dir__() if not name.isdigit()]

    def _relabel(self, children: list[Module]) -> None:
        self._modules.clear()
        self._modules.update((str(i), m) for i, m in enumerate(children))

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_position(idx, len(self))]
        setattr(self, key, module)

    def __delitem__(self, idx: int | slice) -> None:
        children = list(self._modules.values())
        if isinstance(idx, slice):
            del children[idx]
        else:
            del children[_position(idx, len(children))]
        self._relabel(children)

    def append(self, module: Module):
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index: int, module: Module):
        """Put ``module`` before position ``index`` (``-len <= index <= len``)."""
        if not isinstance(module, Module):
            raise TypeError(f"{typename(module)} is not a Module subclass")
        count = len(self)
        if index > count or index < -count:
            raise IndexError(f"Index out of range: {index}")
        children = list(self._modules.values())
        children.insert(index, module)
        self._relabel(children)
        return self

    def pop(self, key: int) -> Module:
        """Remove the child at position ``key`` and return it."""
        module = self[key]
        del self[key]
        return module


class Sequential(_ModuleSeq):
    """Modules applied one after another: ``Sequential(m1, m2)`` or ``Sequential(OrderedDict)``.

    >>> import retrograd as torch
    >>> torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): ReLU()
    )
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        named = len(args) == 1 and isinstance(args[0], OrderedDict)
        pairs = args[0].items() if named else ((str(i), m) for i, m in enumerate(args))
        for name, child in pairs:
            self.add_module(name, child)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            # A slice keeps the children's names (PyTorch's behaviour).
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_position(idx, len(self))]

    @staticmethod
    def _check_operand(other: Any) -> None:
        if not isinstance(other, Sequential):
            raise ValueError(
                "add operator supports only objects of Sequential class, but "
                f"{type(other)} is given."
            )

    def __add__(self, other: Sequential) -> Sequential:
        self._check_operand(other)
        return Sequential(*self, *other)

    def __iadd__(self, other: Sequential) -> Sequential:
        self._check_operand(other)
        return self.extend(list(other))

    def _repeat_count(self, other: Any) -> int:
        if not isinstance(other, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and {type(other)}")
        if other <= 0:
            raise ValueError(f"Non-positive multiplication factor {other} for {type(self)}")
        return other

    def __mul__(self, other: int) -> Sequential:
        return Sequential(*(list(self) * self._repeat_count(other)))

    __rmul__ = __mul__

    def __imul__(self, other: int) -> Sequential:
        return self.extend(list(self) * (self._repeat_count(other) - 1))

    def insert(self, index: int, module: Module) -> Sequential:
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        return super().insert(index, module)

    def extend(self, sequential: Iterable[Module]) -> Sequential:
        for child in sequential:
            self.append(child)
        return self

    def forward(self, input: Any) -> Any:
        for child in self._modules.values():
            input = child(input)
        return input


def _append_all(target, items, ok: bool, kind: str):
    """``kind.extend``: each of ``items`` appended to ``target``, which is returned; PyTorch's
    TypeError unless ``ok`` (``items`` is an iterable that ``kind`` takes)."""
    if not ok:
        raise TypeError(f"{kind}.extend should be called with an iterable, but got "
                        + type(items).__name__)
    for item in items:
        target.append(item)
    return target


class ModuleList(_ModuleSeq):
    """A list of modules whose parameters belong to the parent (unlike a plain Python list).

    Printing folds runs of identical children: ``(0-2): 3 x Linear(...)``.
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice) -> Any:
        children = list(self._modules.values())
        if isinstance(idx, slice):
            return type(self)(children[idx])
        return children[_position(idx, len(children))]

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def insert(self, index: int, module: Module) -> None:  # returns None, as list.insert
        super().insert(index, module)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        return _append_all(self, modules, isinstance(modules, Iterable), "ModuleList")

    def __repr__(self) -> str:
        if not self._modules:
            return self._get_name() + "()"
        entries, first = [], 0
        for text, run in groupby(repr(child) for child in self):
            count = len(list(run))
            last = first + count - 1
            label = f"({first}): " if count == 1 else f"({first}-{last}): {count} x "
            entries.append(_addindent(label + text, 2))
            first = last + 1
        return self._get_name() + "(\n  " + "\n  ".join(entries) + "\n)"


class ModuleDict(Module):
    """A dict of modules (insertion order kept), registered with the parent."""

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules: Any) -> None:
        """Add entries from a mapping, or from an iterable of (key, module) pairs."""
        if not isinstance(modules, Iterable):
            raise TypeError(
                "ModuleDict.update should be called with an iterable of key/value pairs, "
                f"but got {type(modules).__name__}"
            )
        pairs = modules.items() if isinstance(modules, Mapping | ModuleDict) else modules
        for key, child in _checked_pairs(pairs, "ModuleDict"):
            self[key] = child


def _checked_pairs(pairs: Iterable[Any], owner: str) -> Iterator[tuple[Any, Any]]:
    """The (key, value) pairs of an update() argument, each checked to be a 2-item iterable."""
    for n, pair in enumerate(pairs):
        if not isinstance(pair, Iterable):
            raise TypeError(
                f"{owner} update sequence element #{n} should be Iterable; is"
                + type(pair).__name__
            )
        if len(pair) != 2:
            raise ValueError(
                f"{owner} update sequence element #{n} has length {len(pair)}; 2 is required"
            )
        yield pair[0], pair[1]


def _describe(value: Any, type_name: str) -> str:
    """One printed entry of a parameter container."""
    if not isinstance(value, Tensor):
        return "Object of type: " + type(value).__name__
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    size = "x".join(map(str, value.shape))
    where = "" if value.device.type == "cpu" else f" ({value.device})"
    return f"{kind} containing: [{type_name} of size {size}{where}]"


class ParameterList(Module):
    """A list of parameters (tensors are wrapped into ``Parameter``; other objects kept)."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return type(self)(self[i] for i in range(len(self))[idx])
        return getattr(self, str(_position(idx, len(self))))

    def __setitem__(self, idx: int, param: Any) -> None:
        setattr(self, str(_position(idx, len(self))), _as_parameter(param))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    def __iadd__(self, parameters: Iterable[Any]) -> ParameterList:
        return self.extend(parameters)

    def __dir__(self) -> list[str]:
        return [name for name in super().__dir__() if not name.isdigit()]

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` at the end."""
        self._size += 1
        self[-1] = value
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        # A tensor is iterable, but extending by one is almost surely a mistake: PyTorch refuses.
        ok = isinstance(values, Iterable) and not isinstance(values, Tensor)
        return _append_all(self, values, ok, "ParameterList")

    def extra_repr(self) -> str:
        return "\n".join(
            f"  ({i}): {_describe(value, str(getattr(value, 'dtype', '')))}"
            for i, value in enumerate(self)
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters (tensors are wrapped into ``Parameter``; other objects kept).

    A plain ``dict`` given to ``update`` is added in sorted key order; an ``OrderedDict``,
    another ``ParameterDict`` or a sequence of pairs in its own order (PyTorch's rule).
    """

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._keys[key] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._keys))

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def items(self) -> Iterator[tuple[str, Any]]:
        return ((key, self[key]) for key in self._keys)

    def values(self) -> Iterator[Any]:
        return (self[key] for key in self._keys)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self._keys else default

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self._keys:
            self[key] = default
        return self[key]

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[str, Any]:
        key = next(reversed(self))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def copy(self) -> ParameterDict:
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> ParameterDict:
        return ParameterDict((key, default) for key in keys)

    def update(self, parameters: Any) -> None:
        """Add entries from a mapping, or from an iterable of (key, value) pairs."""
        if not isinstance(parameters, Iterable):
            raise TypeError(
                "ParametersDict.update should be called with an iterable of key/value pairs, "
                f"but got {type(parameters).__name__}"
            )
        if isinstance(parameters, OrderedDict | ParameterDict):
            pairs: Iterable[Any] = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        else:
            pairs = _checked_pairs(parameters, "ParameterDict")
        for key, value in pairs:
            self[key] = value

    def __or__(self, other: Any) -> ParameterDict:
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other: Any) -> ParameterDict:
        merged = ParameterDict(other)
        merged.update(self)
        return merged

    def __ior__(self, other: Any) -> ParameterDict:
        self.update(other)
        return self

    def extra_repr(self) -> str:
        return "\n".join(
            f"  ({key}): {_describe(value, value.type() if isinstance(value, Tensor) else '')}"
            for key, value in self.items()
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterDict should not be called.")
