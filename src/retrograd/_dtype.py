"""Data types and PyTorch's type-promotion rules.

A ``dtype`` names a NumPy dtype the way PyTorch names its own: ``float32`` prints as
``torch.float32`` so that programs comparing printed output behave as under PyTorch.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "bfloat16", "bool", "cdouble", "cfloat", "complex64", "complex128", "double", "dtype",
    "float", "float16", "float32", "float64", "get_default_dtype", "half", "int",
    "int8", "int16", "int32", "int64", "long", "promote_types", "set_default_dtype",
    "short", "uint8", "uint16", "uint32", "uint64",
]

_builtin_bool, _builtin_int, _builtin_float = bool, int, float

# Category of a dtype for promotion: bool < integer < floating < complex.
BOOL, INT, FLOAT, COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type; ``str(retrograd.float32) == 'torch.float32'``."""

    __slots__ = (
        "_name",
        "_np",
        "category",
        "is_complex",
        "is_floating_point",
        "is_signed",
        "itemsize",
    )

    def __init__(self, name: str, np_dtype: np.dtype, category: int) -> None:
        self._name = name
        self._np = np.dtype(np_dtype)
        self.category = category
        self.is_floating_point = category == FLOAT
        self.is_complex = category == COMPLEX
        self.is_signed = not (name == "bool" or name.startswith("uint"))
        self.itemsize = self._np.itemsize

    def __repr__(self) -> str:
        return "torch." + self._name

    __str__ = __repr__

    def __reduce__(self) -> str:
        return self._name

    def to_real(self) -> dtype:
        return {"complex64": float32, "complex128": float64}.get(self._name, self)

    def to_complex(self) -> dtype:
        return {"float32": complex64, "float64": complex128}.get(self._name, self)

    @property
    def numpy(self) -> np.dtype:
        return self._np


float16 = half = dtype("float16", np.float16, FLOAT)
float32 = float = dtype("float32", np.float32, FLOAT)
float64 = double = dtype("float64", np.float64, FLOAT)
# NumPy has no bfloat16; it is accepted by name and stored as float32.
bfloat16 = float32
complex64 = cfloat = dtype("complex64", np.complex64, COMPLEX)
complex128 = cdouble = dtype("complex128", np.complex128, COMPLEX)
uint8 = dtype("uint8", np.uint8, INT)
# PyTorch 2.3+ has these "limited support" dtypes: creation, copies, views, comparisons and
# casts work, and promotion with any other dtype is refused (see promote_types).
uint16 = dtype("uint16", np.uint16, INT)
uint32 = dtype("uint32", np.uint32, INT)
uint64 = dtype("uint64", np.uint64, INT)
_LIMITED_UINTS = (uint16, uint32, uint64)
int8 = dtype("int8", np.int8, INT)
int16 = short = dtype("int16", np.int16, INT)
int32 = int = dtype("int32", np.int32, INT)
int64 = long = dtype("int64", np.int64, INT)
bool = dtype("bool", np.bool_, BOOL)

_ALL = (float16, float32, float64, complex64, complex128, uint8, int8, int16, int32, int64, bool,
        uint16, uint32, uint64)
_FROM_NP: dict[np.dtype, dtype] = {d._np: d for d in _ALL}


def from_numpy_dtype(np_dtype: np.dtype) -> dtype:
    """The retrograd dtype of a NumPy dtype; TypeError for ones PyTorch lacks."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        pass
    np_dtype = np.dtype(np_dtype)
    if np_dtype in _FROM_NP:
        return _FROM_NP[np_dtype]
    raise TypeError(
        f"can't convert np.ndarray of type {np_dtype}. The only supported types are: "
        "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
        "uint64, uint32, uint16, uint8, and bool."
    )


class _Defaults:
    float_dtype = float32


def get_default_dtype() -> dtype:
    """The dtype of floating tensors created without an explicit dtype (float32)."""
    return _Defaults.float_dtype


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype; only float32 and float64 are allowed, as in PyTorch."""
    if d not in (float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _Defaults.float_dtype = d


def to_dtype(d) -> dtype:
    """Accept a retrograd dtype, a NumPy dtype or type, or a Python type."""
    if isinstance(d, dtype):
        return d
    if d is _builtin_float:
        return _Defaults.float_dtype
    if d is _builtin_int:
        return int64
    if d is _builtin_bool:
        return bool
    if isinstance(d, str):
        name = d[6:] if d.startswith("torch.") else d
        found = globals().get(name)
        if isinstance(found, dtype):
            return found
    return from_numpy_dtype(np.dtype(d))


_promote_cache: dict[tuple[dtype, dtype], dtype] = {}


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` convert to, as ``torch.promote_types``."""
    key = (a, b)
    out = _promote_cache.get(key)
    if out is None:
        if a is b:
            out = a
        elif a in _LIMITED_UINTS or b in _LIMITED_UINTS:
            raise RuntimeError(
                "Promotion for uint16, uint32, uint64 types is not supported, attempted to "
                f"promote {_torch_scalar_name(a)} and {_torch_scalar_name(b)}")
        elif a is bool or b is bool:
            out = b if a is bool else a
        elif a.category != b.category:
            hi, lo = (a, b) if a.category > b.category else (b, a)
            out = complex128 if hi is complex64 and lo is float64 else hi
        elif {a, b} == {uint8, int8}:
            out = int16
        else:
            out = _FROM_NP[np.promote_types(a._np, b._np)]
        _promote_cache[key] = out
    return out


def _torch_scalar_name(d: dtype) -> str:
    """PyTorch's C++ scalar-type name (``UInt16``, ``Byte``...), used in its messages."""
    names = {"uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
             "int64": "Long", "float16": "Half", "float32": "Float", "float64": "Double",
             "complex64": "ComplexFloat", "complex128": "ComplexDouble", "bool": "Bool"}
    return names.get(d._name) or "UInt" + d._name[4:]


def scalar_category(value) -> int:
    """Promotion category of a Python number."""
    t = type(value)
    if t is _builtin_bool or t is np.bool_:
        return BOOL
    if t is _builtin_int or isinstance(value, np.integer):
        return INT
    if isinstance(value, complex):
        return COMPLEX
    return FLOAT


def default_for_category(category: int) -> dtype:
    """The dtype PyTorch gives a Python scalar of this category when it wins promotion."""
    if category == FLOAT:
        return _Defaults.float_dtype
    if category == COMPLEX:
        return complex128 if _Defaults.float_dtype is float64 else complex64
    return int64 if category == INT else bool


def result_type(dims: list, zero_dims: list, scalars: list) -> dtype:
    """PyTorch's ``result_type``: dimensioned tensors beat 0-d tensors beat Python scalars,
    unless a lower class holds a higher category (float beats int)."""
    out = None
    for d in dims:
        out = d if out is None else promote_types(out, d)
    zd = None
    for d in zero_dims:
        zd = d if zd is None else promote_types(zd, d)
    if zd is not None:
        if out is None:
            out = zd
        elif zd.category > out.category:
            # A 0-d tensor of a higher category wins with its own dtype.
            out = zd
    if scalars:
        cat = max(scalar_category(s) for s in scalars)
        if out is None:
            out = default_for_category(cat)
        elif cat > out.category:
            # A complex scalar keeps a float64 tensor's precision (float64 * 1j is complex128).
            keep64 = cat == COMPLEX and out is float64
            out = default_for_category(cat)
            if cat == COMPLEX and out is complex64 and (zd is float64 or keep64):
                out = complex128
    return out

