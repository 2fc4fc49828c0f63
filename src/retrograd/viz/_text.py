"""The graph as a text tree for terminals and logs.

Each node is printed once, numbered; later uses say ``(see #3 above)``. A repeated block is
printed once (its last copy) with a ``repeats`` line where it feeds on its previous copy,
followed by what the first copy took in.
"""

from __future__ import annotations

from ._graph import Graph, meta_text
from ._labels import attr_items, node_parts, saved_items

UNICODE = {"pipe": "│  ", "blank": "   ", "tee": "├─ ", "last": "└─ ", "loop": "↻", "cut": "⋮  "}
ASCII = {"pipe": "|  ", "blank": "   ", "tee": "|- ", "last": "`- ", "loop": "<>", "cut": ":  "}
MAX_PREFIX = 120  # characters of indentation before deep trees shift back to the left


def format_graph(tensors, params=None, expand_repeats: bool = False, show_saved: bool = False,
                 show_attrs: bool = False, ascii: bool = False) -> str:
    g = Graph(tensors, params, expand_repeats)
    art = ASCII if ascii else UNICODE
    number: dict[int, int] = {}
    announced: set[int] = set()
    lines: list[str] = []
    for (name, t), root in zip(g.roots, g.root_pos):
        head = f"{name}: " if name else ""
        if root is None:
            state = "leaf" if t._requires_grad else "does not require grad"
            label = g.names.get(id(t))
            desc = f"{label} " if label else ""
            lines.append(f"{head}{desc}{meta_text((t._data.shape, t._data.dtype))} ({state})")
            continue
        stack: list[tuple] = [("node", root, "", head)]
        while stack:
            kind, what, prefix, conn = stack.pop()
            if kind == "text":
                lines.append(prefix + conn + what)
                continue
            if kind == "loop":
                run = g.runs[g.run_of[what[0]]]
                took = "; the first copy took:" if what[1] is not None else ""
                lines.append(f"{prefix}{conn}{art['loop']} from the previous copy (block repeated "
                             f"x {run.count}){took}")
                if what[1] is not None:
                    stack.append(("node", what[1], _indent(prefix, conn, art), art["last"]))
                continue
            if kind == "group":
                run = g.runs[g.run_of[what[0]]]
                copies = ", ".join(_spans([run.copy(j) + 1 for j in what]))
                lines.append(f"{prefix}{conn}(see #{number[g.shown(what[0])]} above, copies "
                             f"{copies} of {run.count})")
                continue
            pos = g.shown(what)
            r = g.run_of[what]
            copy = f", copy {g.runs[r].copy(what) + 1} of {g.runs[r].count}" \
                if r >= 0 and pos != what else ""
            if pos in number:
                lines.append(f"{prefix}{conn}(see #{number[pos]} above{copy})")
                continue
            number[pos] = len(number) + 1
            title, shape, site = node_parts(g, pos)
            text = f"#{number[pos]} {title}" + "".join(f"  {s}" for s in (shape, site) if s)
            if show_attrs:
                attrs = attr_items(g.nodes[pos])
                if attrs:
                    text += "  {" + ", ".join(f"{k}={v}" for k, v in attrs) + "}"
            if copy:
                text += f"  (here: copy {g.runs[r].copy(what) + 1} of {g.runs[r].count})"
            if r >= 0 and r not in announced:
                announced.add(r)
                run = g.runs[r]
                ops = "1 op" if run.period == 1 else f"{run.period} ops"
                text += f"  [repeated block x {run.count}, {ops} each; last copy shown]"
            lines.append(prefix + conn + text)
            saved = saved_items(g, g.nodes[pos]) if show_saved else []
            items = [("text", f"saved {k}: {s}") for k, s in enumerate(saved)]
            items += _inputs(g, pos)
            child_prefix = _indent(prefix, conn, art)
            for k in range(len(items) - 1, -1, -1):
                edge = art["last"] if k == len(items) - 1 else art["tee"]
                stack.append((items[k][0], items[k][1], child_prefix, edge))
    return "\n".join(lines) + "\n"


def _inputs(g: Graph, pos: int) -> list[tuple]:
    """The node's inputs; inside a repeated block, an input from the previous copy becomes a
    loop item carrying the first copy's input in the same place."""
    r = g.run_of[pos]
    items = []
    for i, j, _ in g.kids[pos]:
        if r >= 0 and g.run_of[j] == r and g.runs[r].copy(j) < g.runs[r].copy(pos):
            run = g.runs[r]
            first = run.start + (pos - run.start) % run.period
            outer = next((jj for ii, jj, _ in g.kids[first] if ii == i), None)
            items.append(("loop", (pos, outer)))
        else:
            items.append(("node", j))
    return _group(g, items)


def _group(g: Graph, items: list) -> list:
    """Consecutive inputs from copies of one repeated block become one item: the first is
    printed (or referenced), the others are listed on one line."""
    out: list = []
    for item in items:
        prev = out[-1] if out else None
        if item[0] == "node" and g.run_of[item[1]] >= 0 and prev is not None and \
                prev[0] in ("node", "group"):
            last = prev[1] if prev[0] == "node" else prev[1][-1]
            if g.shown(last) == g.shown(item[1]) and g.run_of[last] == g.run_of[item[1]]:
                if prev[0] == "node":
                    out.append(("group", [item[1]]))
                else:
                    prev[1].append(item[1])
                continue
        out.append(item)
    return out


def _spans(numbers: list) -> list:
    """``[2, 3, 4, 7]`` -> ``["2-4", "7"]``."""
    spans: list = []
    for x in numbers:
        if spans and x == spans[-1][1] + 1:
            spans[-1][1] = x
        else:
            spans.append([x, x])
    return [f"{a}-{b}" if b > a else str(a) for a, b in spans]


def _indent(prefix: str, conn: str, art: dict) -> str:
    """The prefix of a line's children; very deep trees shift back so lines stay short."""
    if not conn or conn not in (art["tee"], art["last"]):
        return prefix
    out = prefix + (art["pipe"] if conn == art["tee"] else art["blank"])
    if len(out) > MAX_PREFIX:
        out = art["cut"] + out[-(MAX_PREFIX // 2 // 3 * 3):]
    return out
