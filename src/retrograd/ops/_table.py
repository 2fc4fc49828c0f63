"""Elementwise ops as rows: one declaration per op, from which everything else is made.

A row names the op, gives its forward on arrays and its local derivative(s) as expressions
of the inputs, the output and the op's attributes::

    exp = unary("exp", "exp", d=lambda out: out)
    atan2 = binary("atan2", "arctan2", d=(lambda x, y: y / (x * x + y * y),
                                          lambda x, y: -x / (x * x + y * y)), nan_safe=True)

From it come a ``Primitive`` subclass (``Exp``, node name ``ExpBackward0``) whose backward
is ``grad * d`` for each input and whose forward-mode rule is ``sum(tangent * d)`` (the
Jacobian of an elementwise op is diagonal), the public function (with ``out=``), the
Tensor method and its in-place form, and the ``formula`` text of the derivative reference,
rendered from the very source of ``d``. The row returns the public function; its primitive
is ``fn.primitive`` and the row itself ``fn.primitive.row``.

The derivative's parameter names say what it needs: an input's name (``x``, ``y``, ...),
``out`` for the output, or an attribute's name (``alpha``); only those are saved for
backward. It runs on arrays in a plain backward and on Tensors under ``create_graph``
(DESIGN.md, 2), so it is written with operators and the generic op functions. A number
instead of a function is a constant derivative (1: the gradient passes unchanged; 0: no
gradient), ``None`` an input that takes no gradient (an exponent given as a number).

NaN-safe rows (DESIGN.md, "Beyond PyTorch"): where the incoming gradient is exactly 0 the
result is exactly 0, even where ``d`` is infinite or NaN (sqrt at 0, log at 0, ...).
"""

from __future__ import annotations

import linecache
import sys

import numpy as np

from .._tensor import Tensor, wrap
from ..backend import xp
from ._core import Primitive, register_method, result_dtype
from ._helpers import _QUIET, as_float, floating, nan_safe, out_, quiet, require_tensors
from .inplace import inplace_apply

__all__ = ["binary", "ternary", "unary", "variant"]

_NAMES = ("x", "y", "z")

_REAL = np.dtype(np.float64)  # the dtype of a gradient that has none (a Python float)
_ndarray = np.ndarray


# ---------------------------------------------------------------------- the row

class Row:
    """One elementwise op: its forward, its derivatives and its flags (see the module doc).

    Attributes:
        name: the public function and Tensor method (aliases name more methods).
        f: the forward on arrays: an attribute name of the array module ("exp") or a
            callable ``f(*arrays, **attrs)``.
        d: one derivative per input (a function, a number, or None).
        inputs: the input names the derivatives refer to.
        attrs: keyword attributes and their defaults (``{"alpha": 1}``).
        nan_safe: mask the gradient to exactly 0 where the incoming gradient is 0.
        floating: integer and bool inputs compute in the default float dtype.
        to_float: (several inputs) an integer result dtype becomes the default float first.
        promote: promote the inputs to one dtype first (PyTorch's type promotion).
        check: ``check(*arrays)`` before the forward, to refuse unsupported dtypes.
        check_bool: ``check_bool(*args)`` on the original arguments (before promotion),
            to refuse bool operands with PyTorch's message (sub); ``Primitive.apply`` runs
            it only where promotion leaves its fast path, which every bool operand does.
        plain: the forward when no attribute is given (``operator.add`` for add's
            ``f(x, y, alpha=1)``), so the common call runs no Python wrapper.
        operator: the Tensor operator method that calls the primitive (``"__mul__"``).
        quiet: run the forward without NumPy's floating-point warnings.
    """

    def __init__(self, name, f, d, *, inputs, cls=None, node=None, doc="", attrs=None,
                 nan_safe=False, floating=False, to_float=False, promote=True, check=None,
                 check_bool=None, quiet=False, module=None, holomorphic=True, jvp=None,
                 plain=None, operator=None):
        self.name = name
        self.f = f
        self.d = d
        self.inputs = inputs
        self.attrs = dict(attrs or {})
        self.nan_safe = nan_safe
        self.floating = floating
        self.to_float = to_float
        self.promote = promote
        self.check = check
        self.check_bool = check_bool
        self.plain = plain
        self.operator = operator
        self.quiet = quiet
        self.holomorphic = holomorphic
        self.jvp = jvp
        self.doc = doc
        self.module = module
        self.cls_name = cls or "".join(p[:1].upper() + p[1:] for p in name.split("_"))
        self.node = node
        # What backward needs: every name the derivatives take, in one saved tuple.
        needed = []
        for dk in d:
            for p in _params(dk):
                if p not in self.attrs and p not in needed:
                    if p != "out" and p not in inputs:
                        raise TypeError(f"row {name}: derivative parameter {p!r} is neither an "
                                        f"input {inputs}, 'out' nor an attribute")
                    needed.append(p)
        self.saved = tuple(p for p in (*inputs, "out") if p in needed)

    def formula(self) -> str:
        """The derivative as the reference shows it: ``grad * <d>`` per input."""
        parts = []
        for dk in self.d:
            if dk is None:
                continue
            if not callable(dk):
                parts.append("grad" if dk == 1 else "0" if dk == 0 else f"grad * {dk}")
                continue
            text = _source(dk)
            parts.append(f"grad * {text}" if _atomic(text) else f"grad * ({text})")
        text = ", ".join(parts)
        return text + " (NaN-safe)" if self.nan_safe else text


def _params(dk) -> tuple:
    if dk is None or not callable(dk):
        return ()
    dk = getattr(dk, "__wrapped__", dk)
    code = dk.__code__
    return code.co_varnames[:code.co_argcount]


def _atomic(text: str) -> bool:
    """Whether ``grad * text`` reads right without parentheses (a name or a call)."""
    import ast

    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return False
    return isinstance(node, (ast.Name, ast.Call, ast.Attribute, ast.Constant))


def _source(fn) -> str:
    """The source text of a lambda's body, from the positions its code object records;
    a named function shows as its call."""
    code = fn.__code__
    if fn.__name__ != "<lambda>":
        return f"{fn.__name__}({', '.join(_params(fn))})"
    spans = [p for p in code.co_positions() if p[0] is not None and p[2] is not None
             and (p[2], p[3]) != (0, 0)]
    if not spans:
        return fn.__name__
    first = min((p[0], p[2]) for p in spans)
    last = max((p[1], p[3]) for p in spans)
    lines = [linecache.getline(code.co_filename, n) for n in range(first[0], last[0] + 1)]
    if not all(lines):
        return fn.__name__
    if len(lines) == 1:
        text = lines[0][first[1]:last[1]]
    else:
        text = lines[0][first[1]:] + "".join(lines[1:-1]) + lines[-1][:last[1]]
    return " ".join(text.split())


# ---------------------------------------------------------------------- generating a primitive

def _getter(row, dk):
    """A function ``(ctx) -> arguments of dk``, reading ctx.saved and ctx.attrs."""
    params = _params(dk)
    where_ = tuple((row.saved.index(p), None) if p not in row.attrs else (None, p)
                   for p in params)
    if len(where_) == 1:
        i, a = where_[0]
        if a is None:
            return lambda ctx: (ctx.saved[i],)
        default = row.attrs[a]
        return lambda ctx: (ctx.attrs.get(a, default),)

    def args(ctx):
        saved = ctx.saved
        return tuple(saved[i] if a is None else ctx.attrs.get(a, row.attrs[a])
                     for i, a in where_)

    return args


def _adjoint(value):
    """conj(value) for complex values: backward multiplies by conj(d) (PyTorch's convention
    for complex inputs of holomorphic ops), forward mode by d."""
    dt = getattr(getattr(value, "_data", value), "dtype", None)
    if dt is not None and dt.kind == "c":
        return value.conj()
    if type(value) is complex:
        return value.conjugate()
    return value


def _conjugated(dk):
    """``conj(dk(...))``; ``_params`` reads the wrapped derivative's parameter names."""
    def adj(*args):
        return _adjoint(dk(*args))

    adj.__wrapped__ = dk
    return adj


# The bytecode of ``lambda v: v``, compiled at run time: compiled, this module's own lambdas
# carry no bytecode to compare with.
_IDENTITY = eval(compile("lambda v: v", "<identity>", "eval")).__code__.co_code


def _is_identity(dk) -> bool:
    """Whether ``dk`` is ``lambda v: v`` (d/dx (x * y) = y): the term multiplies by the
    saved value directly instead of calling it."""
    code = getattr(dk, "__code__", None)
    return code is not None and code.co_argcount == 1 and code.co_code == _IDENTITY


def _term(row, dk, adjoint=False):
    """``term(ctx, grad) -> grad * d`` for one input (NaN-safe where the row says so); with
    ``adjoint`` (backward of a holomorphic row) ``grad * conj(d)``."""
    conj = adjoint and row.holomorphic
    if not callable(dk):
        if conj:
            dk = _adjoint(dk)
        if dk == 1:
            return lambda ctx, grad: grad
        return lambda ctx, grad: grad * dk
    params = _params(dk)
    if len(params) == 1 and params[0] not in row.attrs and not row.nan_safe:
        i = row.saved.index(params[0])
        if _is_identity(dk):  # d = the saved value itself (mul): no call
            if not conj:
                return lambda ctx, grad: grad * ctx.saved[i]

            def term(ctx, grad):
                d = ctx.saved[i]
                g = grad._data if isinstance(grad, Tensor) else grad
                if getattr(g, "dtype", _REAL).kind == "c":
                    d = _adjoint(d)
                return grad * d

            return term
        if not conj:
            def term(ctx, grad):  # the common shape (mul, exp, sin, ...), kept short
                return grad * dk(ctx.saved[i])

            return term

        def term(ctx, grad):
            d = dk(ctx.saved[i])
            # grad is complex exactly when the op's output is; only then is conj(d) needed
            # (checked inline: this is the hot path of mul, exp, sin, ...).
            g = grad._data if isinstance(grad, Tensor) else grad
            if getattr(g, "dtype", _REAL).kind == "c":
                d = _adjoint(d)
            return grad * d

        return term
    if conj:
        dk = _conjugated(dk)
    get = _getter(row, dk)
    if row.nan_safe:
        def term(ctx, grad):
            args = get(ctx)
            for a in args:
                if type(a) is int or type(a) is float:
                    args = _ieee(args, grad)
                    break
            with quiet():
                return nan_safe(grad, grad * dk(*args))
        return term

    if all(p in row.attrs for p in params):
        # Only attributes (add's and sub's alpha): the value at the defaults, computed
        # once, serves every call that gives none.
        at_default = dk(*[row.attrs[p] for p in params])

        def term(ctx, grad):
            value = dk(*get(ctx)) if ctx.attrs else at_default
            if type(value) is int and value == 1:  # d/dy (x + alpha y) with alpha = 1
                return grad
            return grad * value

        return term

    def term(ctx, grad):
        value = dk(*get(ctx))
        if type(value) is int and value == 1:
            return grad
        return grad * value

    return term


def _ieee(args, grad):
    """Python numbers as 0-d arrays of grad's dtype: a singular derivative of a number (1 / y
    at y = 0) is then inf, as in NumPy and PyTorch, instead of Python's ZeroDivisionError."""
    tensor = isinstance(grad, Tensor)  # under create_graph: constants are Tensors too
    g = grad._data if tensor else grad
    m = xp(g)
    out = []
    for a in args:
        if type(a) is int or type(a) is float:
            a = m.asarray(a, dtype=g.dtype)
            if tensor:
                a = wrap(a)
        out.append(a)
    return tuple(out)


def _forward(row):
    f = row.f
    if isinstance(f, str):
        name = f
        if len(row.inputs) == 1:
            def f(x, **attrs):
                return getattr(xp(x), name)(x, **attrs)
        else:
            def f(x, *rest, **attrs):
                m = xp(x) if hasattr(x, "dtype") else xp(rest[0])
                return getattr(m, name)(x, *rest, **attrs)
    if row.quiet:
        plain = f

        def f(*arrays, **attrs):
            with np.errstate(**_QUIET):
                return plain(*arrays, **attrs)

    saved = row.saved
    keep_out = "out" in saved
    pos = tuple(row.inputs.index(p) for p in saved if p != "out")
    prep = floating if row.floating else None
    check = row.check
    has_attrs = bool(row.attrs)

    if len(row.inputs) == 1 and prep is not None and check is None and not has_attrs:
        # The common unary shape (exp, tanh, ...), kept short: it is on the hot path. A
        # float NumPy array goes to NumPy's ufunc straight away (floating() and xp() are
        # no-ops for it).
        ufunc = getattr(np, row.f, None) if isinstance(row.f, str) and not row.quiet else None
        if not isinstance(ufunc, np.ufunc):
            ufunc = None
        if keep_out and not pos:
            def forward(ctx, x):
                if ufunc is not None and type(x) is _ndarray and x.dtype.kind in "fc":
                    out = ufunc(x)
                else:
                    out = f(floating(x))
                ctx.saved = (out,)
                return out
        elif pos and not keep_out:
            def forward(ctx, x):
                if ufunc is not None and type(x) is _ndarray and x.dtype.kind in "fc":
                    ctx.saved = (x,)
                    return ufunc(x)
                x = floating(x)
                ctx.saved = (x,)
                return f(x)
        else:
            def forward(ctx, x):
                x = floating(x)
                out = f(x)
                ctx.saved = (x, out) if keep_out else ()
                return out
        return forward

    if prep is None and check is None and not has_attrs and not keep_out and \
            pos == tuple(range(len(row.inputs))):
        def forward(ctx, *arrays):  # every input kept (mul): the binary hot path
            ctx.saved = arrays
            return f(*arrays)

        return forward

    no_attrs = row.plain
    if no_attrs is not None and prep is None and check is None and not saved:
        def forward(ctx, *arrays, **attrs):  # add, sub: nothing saved, alpha rarely given
            ctx.attrs = attrs
            return f(*arrays, **attrs) if attrs else no_attrs(*arrays)

        return forward

    def forward(ctx, *arrays, **attrs):
        if prep is not None:
            arrays = tuple(prep(a) for a in arrays)
        if check is not None:
            check(*arrays)
        if has_attrs:
            ctx.attrs = attrs
        out = f(*arrays, **attrs)
        if saved:
            kept = tuple(arrays[i] for i in pos)
            ctx.saved = kept + (out,) if keep_out else kept
        return out

    return forward


def _no_gradient(ctx, grad):
    return None


def _backward_and_jvp(row):
    terms = tuple(_no_gradient if dk is None else _term(row, dk, adjoint=True) for dk in row.d)
    jterms = tuple(_no_gradient if dk is None else _term(row, dk) for dk in row.d)
    if len(terms) == 1:
        # The Jacobian is diagonal: the jvp is tangent * d, backward grad * conj(d).
        return terms[0], row.jvp or jterms[0]

    if len(terms) == 2:
        t0, t1 = terms
        pass0, pass1 = row.d[0] == 1, row.d[1] == 1

        def backward(ctx, grad):
            # An input takes a gradient when it has an edge (needs_input_grad, unrolled:
            # binary ops are the hot path); a derivative of 1 passes grad through.
            edges = ctx._edges
            return (None if edges[0] is None else grad if pass0 else t0(ctx, grad),
                    None if edges[4] is None else grad if pass1 else t1(ctx, grad))
    else:
        def backward(ctx, grad):
            return tuple(None if fn is None else t(ctx, grad)
                         for t, (fn, _) in zip(terms, ctx.next_functions))

    def jvp(ctx, *tangents):
        total = None
        for t, tk in zip(jterms, tangents):
            if tk is None:
                continue
            part = t(ctx, tk)
            if part is not None:
                total = part if total is None else total + part
        return total

    return backward, jvp


def _has_bool(args) -> bool:
    for a in args:  # noqa: SIM110 (a loop: any() over a generator costs a frame per call)
        if type(a) is bool or (isinstance(a, Tensor) and a._data.dtype.kind == "b"):
            return True
    return False


def _apply(row, base_apply):
    """``apply`` of a ``to_float`` row (div): integer inputs become floats first."""
    check_bool = row.check_bool

    def apply(cls, *args, **attrs):
        if check_bool is not None and _has_bool(args):
            check_bool(*args)
        if result_dtype(args).category <= 1:
            # An integer result dtype becomes the default float before promotion, so a
            # Python int never wraps into a small integer dtype first.
            args = tuple(as_float(a) for a in args)
        return base_apply.__func__(cls, *args, **attrs)

    return classmethod(apply)


class _Lazy:
    """A class attribute computed when first read (the formula text reads source files,
    which ``import retrograd`` should not pay for)."""

    def __init__(self, make):
        self.make = make
        self.value = None

    def __get__(self, obj, owner=None):
        if self.value is None:
            self.value = self.make()
        return self.value


def _primitive(row) -> type:
    backward, jvp = _backward_and_jvp(row)
    ns = {
        "__slots__": ("attrs",) if row.attrs else (),
        "__module__": row.module,
        "__doc__": _Lazy(lambda: f"{row.doc}  Derivative: {row.formula()}."),
        "__qualname__": row.cls_name,
        "promote": row.promote and len(row.inputs) > 1,
        "formula": _Lazy(row.formula),
        "row": row,
        "forward": _forward(row),
        "backward": backward,
        "jvp": jvp,
    }
    if row.node is not None:
        ns["_name"] = row.node
    if row.check_bool is not None:  # checked by Primitive.apply where promotion goes slow
        ns["check_bool"] = staticmethod(row.check_bool)
    if row.to_float:
        ns["apply"] = _apply(row, Primitive.apply)
    return type(row.cls_name, (Primitive,), ns)


def variant(fn, cls: str, node: str) -> type:
    """A second node name for a row's primitive (``XlogyBackward1`` when self is a number)."""
    base = fn.primitive
    return type(cls, (base,), {"__slots__": (), "__module__": base.__module__,
                               "__doc__": base.__dict__["__doc__"], "_name": node})


# ---------------------------------------------------------------------- the public side

def _install(row, *, aliases=(), method=True, inplace=True, tensors_only=False):
    cls = _primitive(row)
    generic = cls.generic
    name = row.name
    if len(row.inputs) == 1:
        def fn(input, *, out=None, **attrs):
            return out_(generic(input, **attrs), out)
    elif tensors_only:
        def fn(input, *args, out=None, **attrs):
            require_tensors(name, input, *args)
            return out_(generic(input, *args, **attrs), out)
    else:
        def fn(input, *args, out=None, **attrs):
            return out_(generic(input, *args, **attrs), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = row.doc
    fn.__module__ = row.module
    fn.primitive = cls
    apply = cls.apply
    if method and len(row.inputs) == 1:
        # ``self`` is a Tensor and a method takes no ``out=``: straight to the primitive,
        # without the public function's wrapper calls (``y.tanh()``, ``h.relu()``, ...).
        known = row.attrs

        def method_fn(self, **attrs):
            if not attrs:
                return apply(self)
            for key in attrs:
                if key not in known:  # named here: a compiled closure's own name is not
                    raise TypeError(f"{name}() got an unexpected keyword argument {key!r}")
            return apply(self, **attrs)

        method_fn.__name__ = method_fn.__qualname__ = name
        method_fn.__doc__ = row.doc
        register_method(name, *aliases)(method_fn)
    elif method:
        register_method(name, *aliases)(fn)
    if row.operator is not None:
        # The operator calls the primitive straight away: ``y * 2`` is the hot path.
        if len(row.inputs) == 1:
            def op(self):
                return apply(self)
        else:
            def op(self, other):
                return apply(self, other)
        op.__name__ = op.__qualname__ = row.operator
        register_method(row.operator)(op)
    if inplace:
        def method_(self, *args, **attrs):
            return inplace_apply(cls, self, *args, **attrs)

        method_.__name__ = method_.__qualname__ = name + "_"
        register_method(*(a + "_" for a in (name, *aliases) if not a.startswith("__")))(method_)
    return fn


def _caller_module() -> str:
    """The module that declares a row: the first frame outside this one (compiled, this
    module pushes no frames, so the walk does not count them). Modules that declare rows
    stay interpreted: their lambdas are the formulas, read back as source for the docs."""
    f = sys._getframe(0)
    while f.f_globals["__name__"] == __name__:
        f = f.f_back
    return f.f_globals["__name__"]


def unary(name, f, d, *, aliases=(), method=True, inplace=True, **flags):
    """An elementwise op of one tensor; returns its public function. Float math by default
    (``floating=True``): integer and bool inputs compute in the default float dtype."""
    flags.setdefault("floating", True)
    row = Row(name, f, (d,), inputs=("x",),
              module=flags.pop("module", None) or _caller_module(), **flags)
    return _install(row, aliases=aliases, method=method, inplace=inplace)


def binary(name, f, d, *, aliases=(), method=True, inplace=True, tensors_only=False, **flags):
    """An elementwise op of two operands (``d``: one derivative each); returns its public
    function. Operands are promoted to one dtype first, as PyTorch does."""
    row = Row(name, f, tuple(d), inputs=flags.pop("inputs", _NAMES[:2]),
              module=flags.pop("module", None) or _caller_module(), **flags)
    return _install(row, aliases=aliases, method=method, inplace=inplace,
                    tensors_only=tensors_only)


def ternary(name, f, d, *, inputs, aliases=(), method=True, inplace=True, **flags):
    """An elementwise op of three operands; returns its public function."""
    row = Row(name, f, tuple(d), inputs=inputs,
              module=flags.pop("module", None) or _caller_module(), **flags)
    return _install(row, aliases=aliases, method=method, inplace=inplace)
