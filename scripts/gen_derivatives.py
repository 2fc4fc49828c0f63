"""Generate docs/derivatives.md: every primitive op, its derivative and its check status.

The reference is built from two sources:

* the op registry, ``retrograd.ops._core.REGISTRY`` (class name -> Primitive subclass): the
  node name, the derivative formula (``formula``, else the first line of the docstring) and
  whether the class has a forward-mode rule (``jvp``). For an elementwise op declared as a
  row (``retrograd/ops/_table.py``) the formula is rendered from the source of the very
  derivative expression its backward and jvp run, so the two cannot disagree;
* the op-test tables, the ``CASES`` lists of the families that ``tests/test_optable.py``
  runs. Each row is run once (first shape variant) with inputs that require grad, and the
  primitives on its output's graph are the ones it exercises. Then gradcheck, gradgradcheck
  and the forward-mode check run on it, each on its own, and a primitive passes a check when
  every row that exercises it (and where the check applies) passes.

Usage::

    python scripts/gen_derivatives.py           # rewrite docs/derivatives.md
    python scripts/gen_derivatives.py --check   # exit 1 (with a diff summary) if it is stale

``tests/test_derivatives_doc.py`` builds the content in-process and compares it with the
committed file.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import importlib
import inspect
import os
import pkgutil
import sys
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
TESTS = os.path.join(ROOT, "tests")
DOC = os.path.join(ROOT, "docs", "derivatives.md")
for _p in (TESTS, SRC):
    if _p not in sys.path:
        sys.path.insert(0, _p)

#: Module sections, in this order; any other module follows alphabetically.
MODULE_ORDER = (
    "arithmetic", "unary", "where", "transcendental", "special", "rounding", "pointwise",
    "reduction", "linalg", "shape", "indexing", "joining",
    "conversion", "tensor_methods", "inplace", "activation", "softmax", "attention", "loss",
    "margin_loss", "ctc", "normalization", "embedding", "dropout", "conv", "pooling", "vision",
    "fused",
)

PASS, FAIL, NA = "pass", "FAIL", "n/a"
#: The row's test module leaves it out of this finite-difference check on purpose.
EXCLUDED = "excluded"
CHECKS = ("gradcheck", "gradgradcheck", "forward")
CHECK_TITLES = {"gradcheck": "gradcheck", "gradgradcheck": "gradgradcheck",
                "forward": "forward mode"}


# ---------------------------------------------------------------------------------------------
# Sources


def load_registry() -> dict[str, type]:
    """The library's primitives, keyed by class name (``module.Name`` where two classes share
    a name). Classes defined outside retrograd (e.g. in tests) and abstract base classes
    (shared code, no forward, never a graph node) are left out.

    ``REGISTRY`` is keyed by class name, so a class whose name another module reuses is
    missing from it; walking ``Primitive``'s subclasses finds those too (see ``shadowed``)."""
    import retrograd
    import retrograd.nn.functional
    import retrograd.ops
    from retrograd.ops._core import Primitive

    # Every ops module registers its primitives on import; import them all so the result does
    # not depend on what happened to be imported before.
    for info in pkgutil.iter_modules(retrograd.ops.__path__):
        importlib.import_module(f"retrograd.ops.{info.name}")
    del retrograd
    classes = []
    stack = [Primitive]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.split(".")[0] == "retrograd" and not is_abstract(sub):
                classes.append(sub)
    names = [cls.op for cls in classes]
    out = {}
    for cls in classes:
        key = cls.op if names.count(cls.op) == 1 else f"{module_key(cls)}.{cls.op}"
        out[key] = cls
    return dict(sorted(out.items()))


def shadowed(registry: dict[str, type]) -> list[str]:
    """Keys of primitives that ``REGISTRY`` lacks (another class took their name)."""
    from retrograd.ops._core import REGISTRY

    return sorted(key for key, cls in registry.items()
                  if REGISTRY.get(cls.op) is not cls)


def is_abstract(cls: type) -> bool:
    """A base class that only shares code (no forward of its own or inherited)."""
    return not callable(getattr(cls, "forward", None))


@dataclasses.dataclass
class Row:
    """One OpCase row, where it lives, and what running it found."""

    module: str
    name: str
    case: object
    prims: tuple = ()
    backward_prims: tuple = ()
    trace_error: str = ""
    status: dict = dataclasses.field(default_factory=dict)
    #: the checks the runner applies to it (None: all); the others are excluded.
    tested: frozenset | None = None

    @property
    def label(self) -> str:
        return f"{self.module}.{self.name}"


def collect_rows() -> list[Row]:
    """Every OpCase of every family table that tests/test_optable.py runs."""
    import test_optable

    rows: list[Row] = []
    for family, cases in test_optable.tables().items():
        for case in cases:
            # A row with fd=False is left out of the finite-difference checks on purpose.
            tested = None if case.fd else frozenset()
            rows.append(Row(family, case.name, case, tested=tested))
    rows.sort(key=lambda r: (r.module, r.name))
    return rows


# ---------------------------------------------------------------------------------------------
# Running the rows


@contextlib.contextmanager
def _quiet_state():
    """Fixed global state for a check: grad mode on, seeded RNGs, warnings silenced."""
    import numpy as np

    import retrograd

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        prev = retrograd.is_grad_enabled()
        prev_dtype = retrograd.get_default_dtype()
        retrograd.set_grad_enabled(True)
        retrograd.set_default_dtype(retrograd.float32)
        retrograd.manual_seed(0)
        try:
            yield
        finally:
            retrograd.set_grad_enabled(prev)
            retrograd.set_default_dtype(prev_dtype)


def _flatten(x):
    if isinstance(x, (list, tuple)):
        for item in x:
            yield from _flatten(item)
    else:
        yield x


def graph_primitives(outputs, registry_classes: dict[type, str]) -> set[str]:
    """Names of the registry primitives on the graph behind ``outputs``."""
    import retrograd

    found: set[str] = set()
    stack = [t.grad_fn for t in _flatten(outputs)
             if isinstance(t, retrograd.Tensor) and t.grad_fn is not None]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        name = registry_classes.get(type(node))
        if name is not None:
            found.add(name)
        for nxt, _ in getattr(node, "next_functions", ()) or ():
            stack.append(nxt)
    return found


def _error(exc: BaseException) -> str:
    """An exception as its class name (messages hold numbers that vary across machines)."""
    return type(exc).__name__


def trace_row(row: Row, registry_classes: dict[type, str]) -> None:
    from optable import make_inputs, to_tensors

    import retrograd

    case = row.case
    shapes = case.shapes[0]
    with _quiet_state():
        try:
            arrays = make_inputs(case, shapes)
            ts = to_tensors(retrograd, arrays, case, requires_grad=True)
            out = case.fn(retrograd, *ts)
            row.prims = tuple(sorted(graph_primitives(out, registry_classes)))
        except Exception as exc:
            row.trace_error = _error(exc)
            return
        # The primitives its backward formulas use (the graph create_graph=True records):
        # gradgradcheck differentiates through them.
        try:
            outs = [o for o in _flatten(out) if isinstance(o, retrograd.Tensor)
                    and o.requires_grad and o.is_floating_point()]
            diff = [t for t in ts if isinstance(t, retrograd.Tensor) and t.requires_grad]
            if outs and diff:
                # Seeds that require grad, as gradgradcheck's do, so that formulas linear in
                # grad are recorded too.
                grads = retrograd.autograd.grad(
                    outs, diff, [retrograd.ones_like(o).requires_grad_() for o in outs],
                    create_graph=True, allow_unused=True)
                found = graph_primitives(list(grads), registry_classes)
                row.backward_prims = tuple(sorted(found - set(row.prims)))
        except Exception:
            pass  # the gradient checks report a broken backward


def _has_diff_inputs(case) -> bool:
    from optable import make_inputs, to_tensors

    import retrograd

    arrays = make_inputs(case, case.shapes[0])
    ts = to_tensors(retrograd, arrays, case)
    return any(isinstance(t, retrograd.Tensor) and t.requires_grad for t in ts)


def _run_check(which: str, case) -> str:
    from optable import check_forward_ad, make_inputs, to_tensors

    import retrograd
    from retrograd.autograd import gradcheck, gradgradcheck

    shapes = case.shapes[0]
    if which == "forward":
        check_forward_ad(case, shapes)
        return PASS
    # check_gradients, split: gradcheck and gradgradcheck apart.
    arrays = make_inputs(case, shapes)
    ts = to_tensors(retrograd, arrays, case)

    def f(*args):
        return case.fn(retrograd, *args)

    check = gradcheck if which == "gradcheck" else gradgradcheck
    ok = check(f, tuple(ts), eps=1e-6, atol=1e-5, rtol=1e-3)
    return PASS if ok else FAIL


def check_row(row: Row) -> None:
    """Fill ``row.status[check]`` with PASS, NA or "FAIL" / "FAIL (ErrorClass)"."""
    case = row.case
    applies = {"gradcheck": case.grad, "gradgradcheck": case.grad and case.gradgrad,
               "forward": case.grad}
    try:
        with _quiet_state():
            has_diff = _has_diff_inputs(case)
    except Exception:
        has_diff = True  # let the checks themselves report the failure
    for which in CHECKS:
        if not applies[which] or not has_diff:
            row.status[which] = NA
            continue
        if row.tested is not None and which not in row.tested:
            row.status[which] = EXCLUDED
            continue
        with _quiet_state():
            try:
                row.status[which] = _run_check(which, case)
            except AssertionError:
                row.status[which] = FAIL
            except Exception as exc:
                row.status[which] = f"{FAIL} ({_error(exc)})"


def run_rows(rows: list[Row], registry: dict[str, type]) -> None:
    registry_classes = {cls: name for name, cls in registry.items()}
    for row in rows:
        trace_row(row, registry_classes)
        check_row(row)


# ---------------------------------------------------------------------------------------------
# Aggregation and rendering


def has_jvp(cls: type) -> bool:
    return callable(getattr(cls, "jvp", None))


def derivative_text(cls: type) -> str:
    text = (cls.formula or "").strip()
    if not text:
        doc = inspect.cleandoc(cls.__doc__ or "")
        text = doc.splitlines()[0].strip() if doc else ""
    return text or "(undocumented)"


def module_key(cls: type) -> str:
    return cls.__module__.rsplit(".", 1)[-1]


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else _md(text)


def aggregate(rows_of: list[Row], which: str) -> tuple[str, list[str]]:
    """(status, failing row labels) of one primitive for one check."""
    if not rows_of:
        return "not covered", []
    statuses = [(r.status[which], r.label) for r in rows_of]
    failing = sorted(label for s, label in statuses if s.startswith(FAIL))
    if failing:
        return FAIL, failing
    if any(s == PASS for s, _ in statuses):
        return PASS, []
    if any(s == EXCLUDED for s, _ in statuses):
        return EXCLUDED, []
    return NA, []


def render(registry: dict[str, type], rows: list[Row]) -> str:
    rows_by_prim: dict[str, list[Row]] = {name: [] for name in registry}
    for row in rows:
        for p in row.prims:
            rows_by_prim[p].append(row)
    status = {name: {w: aggregate(rows_by_prim[name], w) for w in CHECKS} for name in registry}

    n = len(registry)
    covered = sorted(name for name in registry if rows_by_prim[name])
    counts = {w: {s: sum(status[name][w][0] == s for name in registry)
                  for s in (PASS, FAIL, EXCLUDED, NA, "not covered")} for w in CHECKS}
    n_jvp = sum(has_jvp(cls) for cls in registry.values())

    out: list[str] = []
    w = out.append
    w("# Derivative reference")
    w("")
    w("<!-- Generated by scripts/gen_derivatives.py: do not edit by hand. -->")
    w("")
    w("Every primitive op of retrograd (the classes in `retrograd.ops._core.REGISTRY`), the "
      "formula its backward computes, and whether the float64 checks pass on the op-test rows "
      "(`OpCase` tables run by `tests/test_optable.py`) that exercise it. Regenerate with "
      "`python scripts/gen_derivatives.py`; `tests/test_derivatives_doc.py` fails when this "
      "file is stale.")
    w("")
    w("## Summary")
    w("")
    w(f"- Primitives in the registry: **{n}** ({n_jvp} with a forward-mode `jvp` rule; "
      "abstract base classes without a forward are not counted).")
    lost = shadowed(registry)
    if lost:
        w(f"- Missing from `REGISTRY` because another primitive has the same class name "
          f"({len(lost)}; listed here under `module.Name` and counted above): "
          + ", ".join(f"`{k}`" for k in lost) + ".")
    w(f"- Covered by at least one op-test row: **{len(covered)}** "
      f"(not covered: {n - len(covered)}).")
    w(f"- Op-test rows run: {len(rows)} (first shape variant of each), "
      f"{sum(1 for r in rows if r.prims)} of them reaching a primitive.")
    w("")
    w("| check | pass | FAIL | excluded | n/a | not covered |")
    w("|---|---:|---:|---:|---:|---:|")
    for which in CHECKS:
        c = counts[which]
        w(f"| {CHECK_TITLES[which]} | {c[PASS]} | {c[FAIL]} | {c[EXCLUDED]} | {c[NA]} "
          f"| {c['not covered']} |")
    w("")
    w("## How to read this")
    w("")
    w("- **Derivative** is the primitive's `formula` (else the first line of its docstring): "
      "`grad` is the incoming gradient, `x`, `y`, ... the inputs and `out` the output. Each "
      "backward is written with differentiable ops, so it can itself be differentiated "
      "(`create_graph=True`). For an elementwise op declared as a row of its family's table "
      "(`retrograd/ops/_table.py`), the text is the source of the derivative expression that "
      "its backward (`grad * d`) and its forward-mode rule (`tangent * d`) run, one term per "
      "input.")
    w("- **jvp**: whether the primitive has a forward-mode rule "
      "(`retrograd.autograd.forward_ad`).")
    w("- **gradcheck** / **gradgradcheck**: first and second derivatives against float64 "
      "central finite differences; **forward mode**: the jvp against a finite difference along "
      "a random tangent. Each check runs on the first shape variant of every op-test row whose "
      "graph contains the primitive (found by walking `grad_fn.next_functions` from the row's "
      "output).")
    w("- `pass`: every such row passes. `FAIL`: at least one row fails (they are listed under "
      "[Failing checks](#failing-checks); a row built from several primitives fails all of "
      "them, so look at the row). `n/a`: the rows mark the check as not applicable "
      "(`grad=False`, or `gradgrad=False` for gradgradcheck: non-differentiable ops, or "
      "kinks where the second derivative is not defined). `excluded`: the rows say `fd=False`, "
      "leaving them out of the finite-difference checks on purpose (listed under "
      "[Excluded rows](#excluded-rows)). `not covered`: no row reaches the primitive.")
    w("- **Rows**: the test rows as `family.row name` (the family's table is `CASES` in "
      "`tests/test_family.py`); run them with "
      "`python -m pytest tests/test_optable.py -k 'family and row name'`.")
    w("")
    w("### NaN-safe masking")
    w("")
    w("Where a local derivative is infinite or undefined (`sqrt` and `log` at 0, `abs` and "
      "norms at 0, `x ** y` at `x = 0`, ...), PyTorch multiplies it by the incoming gradient "
      "and returns `0 * inf = NaN` even where that gradient is exactly 0, e.g. in the masked "
      "branch of a `where`. retrograd does not: such rows say `nan_safe=True` (marked "
      "`(NaN-safe)` below) and other formulas use `nan_safe(grad, value)` from "
      "`retrograd/ops/_helpers.py`, which give exactly 0 wherever "
      "`grad` is exactly 0. So `where(x > 0, x.sqrt(), 0)` has gradient 0 (not NaN) at "
      "`x = 0`, and a gradient that is 0 upstream stays 0. Elsewhere the values are "
      "PyTorch's.")
    w("")
    w("### Complex inputs")
    w("")
    w("retrograd follows PyTorch's convention. For a real loss L of a complex z, `z.grad` is "
      "the conjugate Wirtinger derivative scaled by 2, `dL/dRe(z) + i dL/dIm(z)`, so "
      "`z - lr * z.grad` descends, and every backward formula takes and returns gradients "
      "in that convention. For a holomorphic elementwise row (`holomorphic=True`, the "
      "default) the backward is `grad * conj(d)` and the forward mode `tangent * d`, with "
      "`d` the complex derivative written in the row. A non-holomorphic op (`abs`, `angle`, "
      "`real`, `imag`, `conj`, `sgn`, `polar`, the fft family's real-to-complex and "
      "complex-to-real transforms, and the decompositions) writes both Wirtinger parts "
      "into its own formula. A real input of a complex op receives the real part of its "
      "gradient (the engine, once). `gradcheck` perturbs the real and imaginary parts "
      "separately.")
    w("")
    w("### Composite ops")
    w("")
    w("Only primitives have a derivative of their own. Composite ops (softmax, log_softmax, "
      "the losses, most activations and normalizations, ...) are written with primitives, "
      "so their gradients come from the primitives' formulas by the chain rule and they do "
      "not appear here; their rows count towards the primitives they use.")
    w("")
    w("### Primitives inside derivatives")
    w("")
    w("Backward formulas are written with ops (so they can be differentiated again), and "
      "some primitives exist only for them (e.g. the scatter that undoes a gather). Such a "
      "primitive is `not covered` when no row's forward graph contains it, yet the "
      "gradgradcheck of a row whose backward formulas use it goes through "
      "its derivative (the \"Not covered\" list names those rows).")
    w("")

    uncovered = [name for name in sorted(registry, key=_sort_key) if not rows_by_prim[name]]
    w("## Not covered")
    w("")
    if uncovered:
        w("Primitives that no op-test row reaches (they may be tested elsewhere, but not by "
          "the table checks):")
        w("")
        for name in uncovered:
            cls = registry[name]
            via = sorted(r.label for r in rows if name in r.backward_prims)
            line = f"- `{name}` ({module_key(cls)})"
            if via:
                line += (f": used by the backward formulas of {len(via)} "
                         f"row{'s' if len(via) > 1 else ''}, e.g. "
                         + ", ".join(f"`{_md(x)}`" for x in via[:3]))
            w(line)
    else:
        w("None: every primitive is reached by an op-test row.")
    w("")

    w("## Failing checks")
    w("")
    failing_rows = [r for r in rows if any(s.startswith(FAIL) for s in r.status.values())]
    if failing_rows:
        w("| row | primitives | gradcheck | gradgradcheck | forward mode |")
        w("|---|---|---|---|---|")
        for r in failing_rows:
            prims = ", ".join(f"`{p}`" for p in r.prims) or "(none)"
            cells = " | ".join(_fmt_status(r.status[x]) for x in CHECKS)
            w(f"| `{_md(r.label)}` | {prims} | {cells} |")
    else:
        w("None: every applicable check passes on every row.")
    w("")
    w("## Excluded rows")
    w("")
    excluded = [r for r in rows if any(s == EXCLUDED for s in r.status.values())]
    if excluded:
        w("Rows marked `fd=False`, left out of the finite-difference checks (typically "
          "ties or discontinuities a finite difference would straddle; such rows are compared "
          "with PyTorch instead):")
        w("")
        for r in excluded:
            which = ", ".join(CHECK_TITLES[x] for x in CHECKS if r.status[x] == EXCLUDED)
            prims = ", ".join(f"`{p}`" for p in r.prims) or "(none)"
            w(f"- `{_md(r.label)}` ({prims}): {which}")
    else:
        w("None.")
    w("")
    errored = [r for r in rows if r.trace_error]
    if errored:
        w("Rows that raised when run with inputs requiring grad (their primitives are unknown):")
        w("")
        for r in errored:
            w(f"- `{r.label}`: {r.trace_error}")
        w("")

    groups: dict[str, list[str]] = {}
    for name, cls in registry.items():
        groups.setdefault(module_key(cls), []).append(name)
    order = [m for m in MODULE_ORDER if m in groups]
    order += sorted(m for m in groups if m not in MODULE_ORDER)
    w("## Primitives by module")
    w("")
    for mod in order:
        names = sorted(groups[mod], key=_sort_key)
        w(f"### {mod}")
        w("")
        w(f"`retrograd.ops.{mod}`: {len(names)} primitives." if all(
            registry[x].__module__ == f"retrograd.ops.{mod}" for x in names)
          else f"{len(names)} primitives.")
        w("")
        w("| primitive | node | derivative | jvp | gradcheck | gradgradcheck | forward mode "
          "| rows |")
        w("|---|---|---|---|---|---|---|---|")
        for name in names:
            cls = registry[name]
            st = status[name]
            rs = rows_by_prim[name]
            row_text = ", ".join(f"`{_md(r.label)}`" for r in _short(rs)) or "-"
            if len(rs) > ROW_LIMIT:
                row_text += f" and {len(rs) - ROW_LIMIT} more"
            cells = " | ".join(_fmt_status(st[x][0]) for x in CHECKS)
            w(f"| `{name}` | `{cls._name}` | {_code(_md(derivative_text(cls)))} | "
              f"{'yes' if has_jvp(cls) else 'no'} | {cells} | {row_text} |")
        w("")
    return "\n".join(out).rstrip("\n") + "\n"


#: Rows listed per primitive (the most common primitives are reached by hundreds of rows).
ROW_LIMIT = 8


def _short(rs: list[Row]) -> list[Row]:
    """The rows to list for a primitive: the ones that fail first, then the smallest graphs
    (the rows that test the primitive most directly)."""
    failing = [r for r in rs if any(s.startswith(FAIL) for s in r.status.values())]
    rest = sorted((r for r in rs if r not in failing), key=lambda r: (len(r.prims), r.label))
    return (sorted(failing, key=lambda r: r.label) + rest)[:ROW_LIMIT]


def _sort_key(key: str) -> tuple:
    """Primitives by class name, then module (``pooling.Gather`` next to ``Gather``)."""
    name = key.rsplit(".", 1)[-1]
    return (name.lstrip("_").lower(), name, key)


def _fmt_status(s: str) -> str:
    if s.startswith(FAIL):
        return f"**{s}**"
    return s


def build() -> str:
    """The full text of docs/derivatives.md."""
    registry = load_registry()
    rows = collect_rows()
    run_rows(rows, registry)
    return render(registry, rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if docs/derivatives.md differs")
    args = parser.parse_args(argv)
    text = build()
    if args.check:
        try:
            with open(DOC, encoding="utf-8") as f:
                old = f.read()
        except FileNotFoundError:
            old = ""
        if old == text:
            print("docs/derivatives.md is up to date")
            return 0
        diff = list(difflib.unified_diff(old.splitlines(), text.splitlines(),
                                         "docs/derivatives.md (committed)",
                                         "docs/derivatives.md (generated)", lineterm="", n=0))
        changed = sum(1 for d in diff if d[:1] in "+-" and d[:3] not in ("+++", "---"))
        print(f"docs/derivatives.md is stale ({changed} changed lines): "
              "run python scripts/gen_derivatives.py")
        for line in diff[:60]:
            print(line)
        if len(diff) > 60:
            print(f"... ({len(diff) - 60} more diff lines)")
        return 1
    with open(DOC, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {os.path.relpath(DOC, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
