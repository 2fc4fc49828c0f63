"""PyTorch's OpInfo database (``op_db``) run against retrograd: conversion and comparison.

For each OpInfo this module finds the retrograd callable of the same name, converts the
first few of PyTorch's samples (tensors, dtypes, devices, layouts), and checks in order:
forward in float64, gradients of every differentiable input (same ``grad_outputs`` on both
sides), double backward where the OpInfo supports it, a float32 forward, and the OpInfo's
``error_inputs`` (PyTorch raises -> retrograd raises the same class). The first check that
fails gives the op's status, ``"<class>: <detail>"``; ``"ok"`` when all pass. Ops whose
output changes with the seed (samplers, dropout) are compared by shape and dtype only.
``complex_status`` runs the complex128 samples of an op that also takes real dtypes
(forward, gradients with complex ``grad_outputs``, double backward). Complex leaves are
checked too: PyTorch's ``.grad`` of one is the conjugate Wirtinger derivative (times 2), which
ours must equal. Eigenvectors are compared up to each column's unit factor (GAUGE).

Used by tests/test_opdb.py (against the known-failures list tests/opdb_known.py) and by
scripts/opdb_report.py (counts in docs/opdb.md).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import signal
import types

import numpy as np
import torch
from torch.testing._internal.common_device_type import onlyCUDA

import retrograd

SAMPLES = 2  # samples compared per op: enough to catch a wrong op, cheap enough for CI
ERRORS = 3  # error_inputs checked per op
COMPLEX_GRADGRAD = True  # complex samples: double backward too
TIMEOUT_S = 10  # an op slower than this is a failure (a hang must not stall the suite)

# Families set aside: sparse layouts, private aten ops.
ASIDE_PREFIXES = ("sparse.", "_")

# The failure classes, in the order the checks run (docs/opdb.md counts them).
CLASSES = ("missing", "forward raises", "forward differs", "gradient raises",
           "gradient differs", "double backward raises", "double backward differs",
           "float32 raises", "float32 differs", "error class differs", "timeout")


class Differs(AssertionError):
    """A comparison failed; the message says where."""


# ---------------------------------------------------------------------- which ops

def ops():
    """op_db with the OpInfos we consider, keyed by full name (name.variant)."""
    from torch.testing._internal.common_methods_invocations import op_db

    return {full_name(op): op for op in op_db}


def full_name(op) -> str:
    return op.name + ("." + op.variant_test_name if op.variant_test_name else "")


def aside(op) -> str | None:
    """Why the op is set aside (not counted), or None."""
    name = op.name
    if name.startswith(ASIDE_PREFIXES) and not (name.startswith("__") and name.endswith("__")):
        return "sparse or private aten op"
    if "sparse" in name or name == "chalf":
        return "sparse layout or complex32 result"
    if sample_dtype(op) is None:
        return "no CPU dtypes"
    if onlyCUDA in op.decorators:
        return "CUDA-only (onlyCUDA): PyTorch itself raises on CPU"
    return None


def sample_dtype(op):
    """The dtype the samples are made in: float64 where the op takes it, else the first
    real dtype it supports (integer or bool ops)."""
    supported = op.supported_dtypes("cpu")
    for dt in (torch.float64, torch.float32, torch.int64, torch.int32, torch.bool,
               torch.uint8, torch.complex128):
        if dt in supported:
            return dt
    return None


def resolve(op):
    """The retrograd callable ``f(input, *args, **kwargs)`` for the OpInfo, or None."""
    name = op.name
    if name.startswith("__") and name.endswith("__"):
        method = getattr(retrograd.Tensor, name, None)
        return None if method is None else (lambda x, *a, **k: method(x, *a, **k))
    if type(op.op).__name__ == "OpOverload":  # torch.ops.aten.NAME.OVERLOAD
        packet = getattr(getattr(retrograd.ops, op.op.namespace, None),
                         op.op.overloadpacket.__name__, None)
        return getattr(packet, op.op._overloadname, None)
    obj = retrograd
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            break
    if not callable(obj) and "." not in name and op.method_variant is not None:
        # ``torch.cfloat`` is a dtype; the OpInfo means the method ``x.cfloat()``
        method = getattr(retrograd.Tensor, name, None)
        if method is not None:
            obj = lambda x, *a, **k: getattr(x, name)(*a, **k)  # noqa: E731
    wrapper = _rebind(op.op)
    if obj is None or not callable(obj):
        return wrapper  # e.g. PyTorch's ``lambda t: t.uniform_()`` for "uniform"
    return obj if wrapper is None else wrapper


def _seeded(f, *args, **kwargs):
    """PyTorch's samplers are wrapped to reseed torch; retrograd's are compared by shape."""
    return f(*args, **kwargs)


def _rebind(f):
    """The OpInfo's own wrapper (``lambda x, n: torch.polygamma(n, x)``) calling retrograd:
    the same code with ``torch`` and ``F`` bound to retrograd's; None where ``f`` is not a
    wrapper from PyTorch's test modules (or closes over values we cannot rebind)."""
    if not isinstance(f, types.FunctionType) or \
            not f.__module__.startswith("torch.testing._internal"):
        return None
    cells = None
    if f.__closure__:
        try:
            cells = tuple(types.CellType(_rg_callable(c.cell_contents)) for c in f.__closure__)
        except (LookupError, ValueError):
            return None
    names = {**f.__globals__, "torch": retrograd, "F": retrograd.nn.functional,
             "wrapper_set_seed": _seeded}
    return types.FunctionType(f.__code__, names, f.__name__, f.__defaults__, cells)


def _rg_callable(v):
    """A torch function -> retrograd's of the same name (KeyError when absent)."""
    if isinstance(v, torch.Tensor):
        raise ValueError("closure over a tensor")
    module = getattr(v, "__module__", None) or ""
    builtin = type(v).__name__ == "builtin_function_or_method"
    if not callable(v) or isinstance(v, type) or not (module.startswith("torch") or builtin):
        return v
    if isinstance(v, torch.nn.Module):  # a stateless layer passed as a function
        cls = getattr(retrograd.nn, type(v).__name__, None)
        if cls is None or any(True for _ in v.parameters()):
            raise KeyError(type(v).__name__)
        ours = cls.__new__(cls)
        retrograd.nn.Module.__init__(ours)
        ours.__dict__.update({k: x for k, x in vars(v).items() if not k.startswith("_")})
        return ours
    name = getattr(v, "__name__", "")
    if module.endswith("functional"):
        spaces = (retrograd.nn.functional,)
    elif module.endswith("linalg"):
        spaces = (retrograd.linalg,)
    else:
        spaces = (retrograd, retrograd.nn.functional)
    for ns in spaces:
        found = getattr(ns, name, None)
        if found is not None:
            return found
    raise KeyError(name)


# Ops whose values are unspecified (uninitialized memory): compared by shape and dtype.
UNSPECIFIED = {"empty", "empty_like", "new_empty", "empty_strided", "empty_permuted",
               "new_empty_strided"}


def is_random(op) -> bool:
    """Samplers (PyTorch's OpInfos reseed torch around them: wrapper_set_seed) and ops whose
    values are unspecified."""
    code = getattr(op.op, "__code__", None)
    return op.name in UNSPECIFIED or (code is not None and "wrapper_set_seed" in code.co_names)


# ---------------------------------------------------------------------- conversion

def _dtype(dt):
    return getattr(retrograd, str(dt).split(".")[-1])


def to_rg(value, memo):
    """A PyTorch sample value in retrograd terms; ``memo`` maps id(torch leaf) -> tensor so a
    tensor used twice converts to one retrograd tensor (gradients then add up alike)."""
    if isinstance(value, torch.Tensor):
        key = id(value)
        if key not in memo:
            arr = _own_copy(value.detach().numpy(force=True))
            if value.storage_offset():
                arr = _in_storage(value.detach())
            t = retrograd.from_numpy(arr)
            if value.requires_grad:
                t.requires_grad_(True)
            memo[key] = t
        return memo[key]
    if isinstance(value, torch.dtype):
        return _dtype(value)
    if isinstance(value, torch.device):
        return retrograd.device(str(value))
    if isinstance(value, (torch.layout, torch.memory_format)):
        name = str(value).split(".")[-1]
        return getattr(retrograd, name, value)
    if callable(value) and not isinstance(value, (type, retrograd.Tensor)):
        if _rebind(value) is not None:
            return _rebind(value)
        try:
            return _rg_callable(value)
        except (KeyError, ValueError):
            return value
    if isinstance(value, torch.Size):
        return retrograd.Size(value)
    if isinstance(value, tuple):
        return tuple(to_rg(v, memo) for v in value)
    if isinstance(value, list):
        return [to_rg(v, memo) for v in value]
    if isinstance(value, dict):
        return {k: to_rg(v, memo) for k, v in value.items()}
    return value


def _own_copy(a):
    """A copy of ``a`` that keeps its broadcast (stride-0) dimensions as such: an expanded
    tensor stays expanded (``out=`` checks for overlapping memory depend on it)."""
    if 0 not in a.strides or a.size <= 1:
        return a.copy()
    base = a[tuple(slice(0, 1) if s == 0 else slice(None) for s in a.strides)].copy()
    strides = tuple(0 if s == 0 else b for s, b in zip(a.strides, base.strides))
    return np.lib.stride_tricks.as_strided(base, a.shape, strides)


def _in_storage(value):
    """A copy of a tensor that starts inside a larger storage, as a view of a copy of that
    storage at the same offset and strides (``as_strided`` reads the elements around it)."""
    n = value.untyped_storage().nbytes() // value.element_size()
    full = value.as_strided((n,), (1,), 0).numpy(force=True).copy()
    item = full.itemsize
    return np.lib.stride_tricks.as_strided(full[value.storage_offset():], tuple(value.shape),
                                           tuple(s * item for s in value.stride()))


def torch_leaves(sample):
    """The tensors of a sample that take gradients, in a fixed order."""
    found = []

    def walk(v):
        if isinstance(v, torch.Tensor):
            # complex leaves too: PyTorch's .grad of one is the conjugate Wirtinger
            # derivative (docs/derivatives.md), which ours must equal
            inexact = v.dtype.is_floating_point or v.dtype.is_complex
            if v.requires_grad and v.is_leaf and inexact and all(v is not f for f in found):
                found.append(v)
        elif isinstance(v, (tuple, list)):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)

    walk(sample.input)
    walk(sample.args)
    walk(sample.kwargs)
    return found


def flat_tensors(out, kind):
    """The tensors of a (possibly nested) output, in order."""
    if isinstance(out, kind):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for v in out for t in flat_tensors(v, kind)]
    return []


# ---------------------------------------------------------------------- comparison

def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)
    return t.detach().numpy()


def compare(expected, actual, where, rtol, atol, nan_safe=False, values=True):
    """Raise Differs unless ``actual`` (retrograd) matches ``expected`` (torch)."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, retrograd.Tensor):
            raise Differs(f"{where}: expected a Tensor, got {type(actual).__name__}")
        if tuple(expected.shape) != tuple(actual.shape):
            raise Differs(f"{where}: shape {tuple(actual.shape)} != {tuple(expected.shape)}")
        if str(expected.dtype) != str(actual.dtype):
            raise Differs(f"{where}: dtype {actual.dtype} != {expected.dtype}")
        if values:
            _values(_np(expected), _np(actual), where, rtol, atol, nan_safe)
        return
    if expected is None:
        if actual is not None:
            raise Differs(f"{where}: expected None, got {type(actual).__name__}")
        return
    if isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            raise Differs(f"{where}: expected a sequence of {len(expected)}, got "
                          f"{type(actual).__name__}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            compare(e, a, f"{where}[{i}]", rtol, atol, nan_safe, values)
        return
    if isinstance(actual, retrograd.Tensor):
        raise Differs(f"{where}: expected {type(expected).__name__}, got a Tensor")
    if isinstance(expected, float) and isinstance(actual, (int, float)):
        if not (math.isclose(expected, actual, rel_tol=rtol, abs_tol=atol) or
                (math.isnan(expected) and math.isnan(actual))):
            raise Differs(f"{where}: {actual} != {expected}")
        return
    if values and expected != actual:
        raise Differs(f"{where}: {actual!r} != {expected!r}")


# Outputs defined up to a unit factor per column (eigenvectors: a sign when real, a phase
# e^{i phi} when complex): compared after fixing that factor alike on both sides.
GAUGE = {"linalg.eig": 1, "linalg.eigh": 1}


def compare_output(op, expected, actual, where, rtol, atol, values=True):
    """``compare``, with the outputs in GAUGE compared gauge-invariantly."""
    k = GAUGE.get(full_name(op))
    compare(expected, actual, where, rtol, atol, values=values and k is None)
    if k is None or not values:
        return
    for i, (e, a) in enumerate(zip(expected, actual)):
        e, a = _np(e), _np(a)
        if i == k:
            e, a = _unit_columns(e, a)
        _values(e, a, f"{where}[{i}]", rtol, atol, False)


def _unit_columns(e, a):
    """Each column of ``e`` and ``a`` divided by the unit factor of its entry where the
    column of ``e`` is largest (the same entry on both sides)."""
    if e.size == 0 or e.shape != a.shape:
        return e, a
    idx = np.argmax(np.abs(e), axis=-2)[..., None, :]
    out = []
    for m in (e, a):
        pivot = np.take_along_axis(m, idx, axis=-2)
        with np.errstate(all="ignore"):
            out.append(m * (np.conj(pivot) / np.abs(pivot)))
    return out


def _values(e, a, where, rtol, atol, nan_safe):
    if e.dtype.kind in "biu" or a.dtype.kind in "biu":
        if not np.array_equal(e, a):
            raise Differs(f"{where}: values differ")
        return
    if nan_safe:
        # Deliberate (docs/differences.md): where the incoming gradient is 0, a singular
        # local derivative gives 0 here and NaN in PyTorch.
        e = np.where(np.isnan(e) & (a == 0), 0, e)
    if not np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=True):
        with np.errstate(all="ignore"):
            err = np.nanmax(np.abs(np.asarray(a, complex) - np.asarray(e, complex)), initial=0)
        raise Differs(f"{where}: values differ (max abs error {err:.3g})")


# ---------------------------------------------------------------------- the checks

@contextlib.contextmanager
def time_limit(seconds):
    def fire(signum, frame):
        raise TimeoutError(f"took over {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def samples(op, dtype, requires_grad):
    torch.manual_seed(0)
    gen = op.sample_inputs("cpu", dtype, requires_grad=requires_grad)
    return list(itertools.islice(gen, SAMPLES))


def _call_torch(op, s):
    return op.op(s.input, *s.args, **s.kwargs)


def _call_rg(fn, s, memo):
    return fn(to_rg(s.input, memo), *to_rg(s.args, memo), **to_rg(s.kwargs, memo))


def _is_random(op, s) -> bool:
    torch.manual_seed(1)
    a = flat_tensors(_call_torch(op, s), torch.Tensor)
    torch.manual_seed(2)
    b = flat_tensors(_call_torch(op, s), torch.Tensor)
    return any(x.shape == y.shape and not torch.equal(x, y) and
               not (x.is_floating_point() and torch.isnan(x).any()) for x, y in zip(a, b))


def _grad_outputs(outs):
    """Random cotangents, the same on both sides; complex ones have an imaginary part (a
    real one would hide a missing conj)."""
    rng = np.random.RandomState(0)
    out = []
    for o in outs:
        g = rng.standard_normal(tuple(o.shape))
        if o.dtype.is_complex:
            g = g + 1j * rng.standard_normal(tuple(o.shape))
        out.append(np.asarray(g, dtype=str(o.dtype).split(".")[-1]))
    return out


def _guard(kind, f):
    """Run a check; an exception from retrograd becomes the status '<kind> raises'."""
    try:
        return f()
    except Differs:
        raise
    except TimeoutError:
        raise
    except Exception as e:
        text = str(e)
        if kind == "forward" and isinstance(e, AttributeError) and (
                "module 'retrograd" in text or "'Tensor' object has no attribute" in text):
            raise Differs(f"missing: {text[:160]}") from e
        raise Differs(f"{kind} raises: {type(e).__name__}: {str(e)[:160]}") from e


def check_sample(op, fn, s, random, gradgrad=True):
    """Forward, gradients and double backward (unless not ``gradgrad``) of one float64 (or
    other-dtype) sample."""
    torch.manual_seed(0)
    expected = _call_torch(op, s)
    memo = {}
    actual = _guard("forward", lambda: _call_rg(fn, s, memo))
    try:
        compare_output(op, expected, actual, "output", 1e-7, 1e-7, values=not random)
    except Differs as e:
        raise Differs(f"forward differs: {e}") from None
    leaves = torch_leaves(s)
    if random or not leaves or not op.supports_autograd:
        return
    t_out = [o for o in flat_tensors(s.output_process_fn_grad(expected), torch.Tensor)
             if o.requires_grad]
    if not t_out:
        return
    rg_leaves = [memo[id(t)] for t in leaves]
    gos = _grad_outputs(t_out)
    t_grads = torch.autograd.grad(t_out, leaves, [torch.from_numpy(g) for g in gos],
                                  allow_unused=True, create_graph=op.supports_gradgrad)

    def rg_first():
        outs = [o for o in flat_tensors(s.output_process_fn_grad(actual), retrograd.Tensor)
                if o.requires_grad]
        if len(outs) != len(t_out):
            raise Differs(f"gradient differs: {len(outs)} differentiable outputs, "
                          f"expected {len(t_out)}")
        return retrograd.autograd.grad(outs, rg_leaves,
                                       [retrograd.from_numpy(g.copy()) for g in gos],
                                       allow_unused=True, create_graph=op.supports_gradgrad)

    r_grads = _guard("gradient", rg_first)
    try:
        compare(_zeros_for_none(t_grads, leaves), _zeros_for_none(r_grads, rg_leaves),
                "grad", 1e-6, 1e-7, nan_safe=True)
    except Differs as e:
        raise Differs(f"gradient differs: {e}") from None
    if op.supports_gradgrad and gradgrad:
        _double_backward(t_grads, r_grads, leaves, rg_leaves)


def _zeros_for_none(grads, leaves):
    """An unused input's gradient is None or zeros, alike (allow_unused)."""
    out = []
    for g, x in zip(grads, leaves):
        if g is None:
            g = torch.zeros_like(x) if isinstance(x, torch.Tensor) else retrograd.zeros_like(x)
        out.append(g.detach())
    return out


def _double_backward(t_grads, r_grads, leaves, rg_leaves):
    pairs = [i for i, g in enumerate(t_grads) if g is not None and g.requires_grad]
    if not pairs:
        return
    vs = _grad_outputs([t_grads[i] for i in pairs])
    try:
        expected = torch.autograd.grad([t_grads[i] for i in pairs], leaves,
                                       [torch.from_numpy(v) for v in vs], allow_unused=True)
    except RuntimeError:  # PyTorch's own double backward fails (ctc_loss, native_layer_norm
        return            # without weight): nothing to compare against

    def rg_second():
        # A first gradient that does not require grad has a zero derivative (relu's
        # mask is a constant here; PyTorch records it and differentiates to zeros).
        keep = [k for k, i in enumerate(pairs)
                if r_grads[i] is not None and r_grads[i].requires_grad]
        if not keep:
            return [None] * len(rg_leaves)
        return retrograd.autograd.grad([r_grads[pairs[k]] for k in keep], rg_leaves,
                                       [retrograd.from_numpy(vs[k].copy()) for k in keep],
                                       allow_unused=True)

    actual = _guard("double backward", rg_second)
    try:
        compare(_zeros_for_none(expected, leaves), _zeros_for_none(actual, rg_leaves),
                "grad grad", 1e-6, 1e-7, nan_safe=True)
    except Differs as e:
        raise Differs(f"double backward differs: {e}") from None


def check_float32(op, fn, random):
    if op.supported_dtypes("cpu") is None or torch.float32 not in op.supported_dtypes("cpu"):
        return
    for s in samples(op, torch.float32, False)[:1]:
        torch.manual_seed(0)
        expected = _call_torch(op, s)
        actual = _guard("float32", lambda s=s: _call_rg(fn, s, {}))
        try:
            compare_output(op, expected, actual, "float32 output", 1e-4, 1e-5,
                           values=not random)
        except Differs as e:
            raise Differs(f"float32 differs: {e}") from None


def _torch_raises(op, s) -> bool:
    """Whether PyTorch raises on the error input (a few of op_db's run fine in 2.13 on the
    CPU, where the op returns NotImplemented or computes a value)."""
    try:
        out = op.op(s.input, *s.args, **s.kwargs)
    except Exception:
        return True
    return out is NotImplemented


def check_errors(op, fn):
    if op.error_inputs_func is None:
        return
    try:
        errors = list(itertools.islice(op.error_inputs("cpu"), ERRORS))
    except Exception:  # PyTorch's own generator does not run here: nothing to compare
        return
    for e in errors:
        s = e.sample_input
        if not _torch_raises(op, s):
            continue  # PyTorch itself accepts this "error input": nothing to match
        try:
            _call_rg(fn, s, {})
        except e.error_type:
            continue
        except Exception as got:
            raise Differs(f"error class differs: {type(got).__name__} where PyTorch raises "
                          f"{e.error_type.__name__} ({str(got)[:120]})") from None
        raise Differs(f"error class differs: nothing raised where PyTorch raises "
                      f"{e.error_type.__name__}")


def status(op) -> str:
    """'ok', or the first failure as '<class>: <detail>' (see CLASSES)."""
    fn = resolve(op)
    if fn is None:
        return "missing"
    try:
        with time_limit(TIMEOUT_S), np.errstate(all="ignore"):
            dtype = sample_dtype(op)
            grad = dtype.is_floating_point and op.supports_autograd
            ss = samples(op, dtype, grad)
            random = is_random(op) or (bool(ss) and _is_random(op, ss[0]))
            for s in ss:
                check_sample(op, fn, s, random)
            check_float32(op, fn, random)
            check_errors(op, fn)
    except Differs as e:
        return str(e).replace("\n", " ")
    except TimeoutError as e:
        return f"timeout: {e}"
    return "ok"


def has_complex(op) -> bool:
    """Whether the op takes complex128 besides a real dtype (an op with no real dtype runs
    in complex128 in ``status`` already)."""
    supported = op.supported_dtypes("cpu")
    return supported is not None and torch.complex128 in supported and \
        sample_dtype(op) is not torch.complex128


def complex_status(op) -> str:
    """'ok', or the first failure of the op's complex128 samples: forward, and the gradient
    of every input (complex leaves: the conjugate Wirtinger derivative, as PyTorch's .grad)
    where PyTorch differentiates the op in complex128."""
    fn = resolve(op)
    if fn is None:
        return "missing"
    try:
        with time_limit(TIMEOUT_S), np.errstate(all="ignore"):
            grad = op.supports_autograd and \
                torch.complex128 in (op.supported_backward_dtypes("cpu") or ())
            ss = samples(op, torch.complex128, grad)
            random = is_random(op) or (bool(ss) and _is_random(op, ss[0]))
            for s in ss:
                check_sample(op, fn, s, random, gradgrad=COMPLEX_GRADGRAD)
    except Differs as e:
        return str(e).replace("\n", " ")
    except TimeoutError as e:
        return f"timeout: {e}"
    return "ok"


def failure_class(st: str) -> str:
    return st.split(":", 1)[0]


def check_known(name: str, got: str, known) -> None:
    """An entry matches fully unless listed; a listed one still fails, and in its class."""
    if known is None:
        assert got == "ok", f"{name}: {got}"
        return
    assert got != "ok", f"{name} now matches PyTorch: remove it from tests/opdb_known.py"
    assert failure_class(got) == failure_class(known), \
        f"{name} fails differently now: {got!r} (listed: {known!r})"
