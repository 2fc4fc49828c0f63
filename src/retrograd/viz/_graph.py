"""The backward graph as plain lists, in forward order, with its repeated blocks found.

Everything here is iterative: graphs of a million nodes (a long unrolled loop) are walked
without recursion. Both views (DOT and text) are drawn from a ``Graph``.
"""

from __future__ import annotations

import gc
import os

from .._tensor import Tensor
from ..autograd.graph import AccumulateGrad

# Repeated blocks: a block has at most MAX_PERIOD nodes; it is collapsed when it repeats at
# least MIN_REPEATS times in a row and the run covers at least MIN_NODES nodes.
MAX_PERIOD = 512
MAX_CANDIDATES = 64
MIN_REPEATS = 4
MIN_NODES = 8

_MOD = (1 << 61) - 1
_BASE = 1_000_003


class Run:
    """``count`` consecutive copies of a block of ``period`` nodes starting at ``start``."""

    __slots__ = ("count", "number", "period", "start")

    def __init__(self, start: int, period: int, count: int, number: int) -> None:
        self.start, self.period, self.count, self.number = start, period, count, number

    def rep(self, pos: int) -> int:
        """The node standing for ``pos`` in the block that is shown (the last copy)."""
        return self.start + (self.count - 1) * self.period + (pos - self.start) % self.period

    def copy(self, pos: int) -> int:
        """Which copy (0-based, in forward order) ``pos`` belongs to."""
        return (pos - self.start) // self.period


class Graph:
    """Nodes reachable from some tensors' ``grad_fn``, numbered in forward order.

    Attributes:
        nodes: the graph nodes; a node's inputs come before it (a valid forward order in
            which the nodes of one loop iteration are next to each other).
        kids: per node, ``(input index, node position, output_nr)`` per input with a node.
        roots: ``(label, tensor)`` per tensor given.
        root_pos: the position of each root's ``grad_fn`` (None for tensors without one).
        names: leaf names by ``id(tensor)`` (from ``params``).
        out_meta: per node, ``{output_nr: (shape, dtype)}`` of the tensors it makes.
        runs / run_of: repeated blocks, and the run index of each node (-1: none).
    """

    def __init__(self, tensors, params=None, expand_repeats: bool = False) -> None:
        # The walk makes millions of small containers for a large graph; pausing the cycle
        # collector keeps it from rescanning the whole graph again and again.
        paused = gc.isenabled()
        gc.disable()
        try:
            self._build(tensors, params, expand_repeats)
        finally:
            if paused:
                gc.enable()

    def _build(self, tensors, params, expand_repeats: bool) -> None:
        self.roots = _as_roots(tensors)
        self.names = _param_names(params)
        start = [t._grad_fn for _, t in self.roots if t._grad_fn is not None]
        nodes, kids = _discover(start)
        n_start = len({id(n) for n in start})
        order = _forward_order(nodes, kids, list(range(n_start)))
        found = [] if expand_repeats else self._find_runs(nodes, kids, order)
        new = [0] * len(nodes)
        for i, old in enumerate(order):
            new[old] = i
        self.nodes = [nodes[old] for old in order]
        self.kids = [[(i, new[j], nr) for i, j, nr in kids[old]] for old in order]
        pos = {id(n): i for i, n in enumerate(self.nodes)}
        self.root_pos = [pos[id(t._grad_fn)] if t._grad_fn is not None else None
                         for _, t in self.roots]
        self.out_meta = self._out_meta()
        self.runs = [Run(i, p, k, r + 1) for r, (i, p, k) in enumerate(found)]
        self.run_of = [-1] * len(self.nodes)
        for r, run in enumerate(self.runs):
            self.run_of[run.start:run.start + run.count * run.period] = \
                [r] * (run.count * run.period)

    def _out_meta(self) -> list:
        meta: list = [{} for _ in self.nodes]
        for pos, node in enumerate(self.nodes):
            for nr, m in enumerate(getattr(node, "_out_meta", None) or ()):
                if m is not None:
                    meta[pos][nr] = (tuple(m[0]), m[1])
            for i, j, nr in self.kids[pos]:
                m = node._input_meta(i) if nr not in meta[j] else None
                if m is not None:
                    meta[j][nr] = (tuple(m[0]), m[1])
        for (_, t), p in zip(self.roots, self.root_pos):
            if p is not None:
                meta[p][t._output_nr] = (tuple(t._data.shape), t._data.dtype)
        return meta

    # ------------------------------------------------------------------ repeats
    def signature(self, node, inputs) -> tuple:
        """What must match for two nodes to count as copies: op name, creation line, which
        inputs carry gradient and their shapes and dtypes (for leaves: the parameter name, or
        else shape and dtype)."""
        if isinstance(node, AccumulateGrad):
            v = node.variable
            name = self.names.get(id(v))
            return ("leaf", name) if name else ("leaf", v._data.shape, str(v._data.dtype))
        site = getattr(node, "_site", None)
        slots = tuple((i, node._input_meta(i)) for i, _, _ in inputs)
        return (node.name(), (site[0].co_filename, site[1]) if site else None, slots)

    def _find_runs(self, nodes: list, kids: list, order: list) -> list[tuple[int, int, int]]:
        """``(start, period, count)`` of each run of consecutive copies of a block in
        ``order`` (a block: the same sequence of signatures). Greedy, left to right; block
        hashes make each candidate period cost O(1). ``order`` may be locally rearranged:
        nodes mixed into the first copy (the loop's initial value, a weight transposed once
        before the loop) move before it."""
        ids: dict = {}
        seq = [ids.setdefault(self.signature(nodes[o], kids[o]), len(ids)) for o in order]

        n = len(seq)
        found: list[tuple[int, int, int]] = []
        if n < MIN_NODES:
            return found
        nxt = [-1] * n
        last: dict = {}
        for i in range(n - 1, -1, -1):
            nxt[i] = last.get(seq[i], -1)
            last[seq[i]] = i
        prefix = [0] * (n + 1)
        h = 0
        for i, s in enumerate(seq):
            h = (h * _BASE + s + 1) % _MOD
            prefix[i + 1] = h
        powers = [1] * (MAX_PERIOD + 1)
        for i in range(1, MAX_PERIOD + 1):
            powers[i] = powers[i - 1] * _BASE % _MOD

        def block(i: int, p: int) -> int:
            # Stays right for blocks at or after i even once earlier positions are rearranged.
            return (prefix[i + p] - prefix[i] * powers[p]) % _MOD

        i = floor = 0
        while i < n:
            best = None
            j, tried = nxt[i], 0
            while j != -1 and j - i <= MAX_PERIOD and tried < MAX_CANDIDATES:
                p = j - i
                tried += 1
                if i + 2 * p <= n:
                    first = block(i, p)
                    k = 1
                    while i + (k + 1) * p <= n and block(i + k * p, p) == first \
                            and seq[i + k * p:i + (k + 1) * p] == seq[i:i + p]:
                        k += 1
                    # Three copies may become four once the first copy is pulled in.
                    rank = (k >= MIN_REPEATS, k * p)
                    if k >= MIN_REPEATS - 1 and (best is None or rank > best[0]):
                        best = (rank, k, p)
                j = nxt[j]
            if best is None:
                i += 1
                continue
            _, k, p = best
            start = _rephase(seq, order, kids, i, p, floor)
            start, k = _align(seq, order, kids, start, p)
            if k >= MIN_REPEATS and k * p >= MIN_NODES:
                found.append((start, p, k))
                i = floor = start + k * p
            else:
                i += 1
        return found

    def shown(self, pos: int) -> int:
        """The node drawn for ``pos``: itself, or its stand-in in a collapsed block."""
        r = self.run_of[pos]
        return pos if r < 0 else self.runs[r].rep(pos)

    def is_hidden(self, pos: int) -> bool:
        return self.shown(pos) != pos

    # ------------------------------------------------------------------ labels
    def leaf_name(self, node) -> str | None:
        return self.names.get(id(node.variable))

    def out_text(self, pos: int) -> str:
        """The shape(s) and dtype(s) of what a node produces, e.g. ``(2, 2) float32``."""
        metas = sorted(self.out_meta[pos].items())
        if not metas:
            return ""
        if len(metas) == 1 and metas[0][0] == 0:
            return meta_text(metas[0][1])
        return ", ".join(f"out{nr} {meta_text(m)}" for nr, m in metas)


def meta_text(meta) -> str:
    """``(2, 3) float32`` for a ``(shape, dtype)`` pair."""
    shape, dtype = meta
    dims = ", ".join(str(int(d)) for d in shape)
    if len(shape) == 1:
        dims += ","
    return f"({dims}) {getattr(dtype, 'name', dtype)}"


def short_site(node) -> str:
    """``basename:line`` of the user's line that created a node ('' when unknown)."""
    site = getattr(node, "_site", None)
    if site is not None:
        return f"{os.path.basename(site[0].co_filename)}:{site[1]}"
    text = getattr(node, "creation_site", "<unknown>")
    if not isinstance(text, str) or text == "<unknown>":
        return ""
    return os.path.basename(text.split(" (in ")[0])


def _rephase(seq, order, kids, start, p, floor) -> int:
    """Where a run found at ``start`` really begins: the nodes before it that continue the
    pattern backwards, skipping up to ``p`` other nodes mixed in (the loop's initial value,
    a weight first seen there). Those move before the run when that keeps every node after
    its inputs."""
    matched, moved = [], []
    j = start - 1
    while j >= floor:
        if seq[j] == seq[start + (-1 - len(matched)) % p]:
            matched.append(j)
        elif len(moved) < p:
            moved.append(j)
        else:
            break
        j -= 1
    if not matched:
        return start
    lo = min(matched)
    moved = [m for m in moved if m > lo]
    if moved:
        inside = {order[m] for m in matched}
        if any(j in inside for m in moved for _, j, _ in kids[order[m]]):
            return start
        keep = sorted(moved) + sorted(matched)
        for lst in (seq, order):
            lst[lo:start] = [lst[x] for x in keep]
    return start - len(matched)


def _align(seq, order, kids, start, p) -> tuple[int, int]:
    """Shift a run's block boundary (keeping the most copies) to where the fewest arrows
    cross from one copy into the next: the loop-carried values, so each copy is one
    iteration rather than the end of one and the start of the next."""
    n = len(seq)
    length = 0
    while start + length < n and seq[start + length] == seq[start + length % p]:
        length += 1
    most = length // p
    if most < 3:
        return start, most
    best = None
    for shift in range(p):
        if (length - shift) // p < most:
            break
        here = start + shift
        cur = {order[q] for q in range(here, here + p)}
        crossing = sum(j in cur for q in range(here + p, here + 2 * p)
                       for _, j, _ in kids[order[q]])
        if best is None or crossing < best[0]:
            best = (crossing, shift)
    return start + best[1], most


def _as_roots(tensors) -> list:
    if isinstance(tensors, Tensor):
        return [("", tensors)]
    if isinstance(tensors, dict):
        items = list(tensors.items())
    else:
        items = [("", t) for t in tensors]
    for _, t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensors to draw, got {type(t).__name__}")
    return [(str(k), t) for k, t in items]


def _param_names(params) -> dict:
    if params is None:
        return {}
    items = params.items() if isinstance(params, dict) else params
    return {id(t): str(name) for name, t in items}


def _discover(start: list) -> tuple[list, list]:
    """Every node reachable from ``start`` (which come first), with its input edges."""
    index: dict = {}
    nodes: list = []
    for n in start:
        if id(n) not in index:
            index[id(n)] = len(nodes)
            nodes.append(n)
    kids: list = [None] * len(nodes)
    stack = list(range(len(nodes)))
    while stack:
        pos = stack.pop()
        edges = []
        for i, (fn, nr) in enumerate(getattr(nodes[pos], "next_functions", ()) or ()):
            if fn is None:
                continue
            j = index.get(id(fn))
            if j is None:
                j = index[id(fn)] = len(nodes)
                nodes.append(fn)
                kids.append(None)
                stack.append(j)
            edges.append((i, j, nr))
        kids[pos] = edges
    return nodes, kids


def _postorder(roots, children) -> list:
    """Inputs before the nodes that use them; ``children(pos)`` gives the visiting order."""
    seen = bytearray(len(children))
    out = []
    for r in roots:
        if seen[r]:
            continue
        seen[r] = 1
        stack = [(r, iter(children[r]))]
        while stack:
            pos, it = stack[-1]
            for c in it:
                if not seen[c]:
                    seen[c] = 1
                    stack.append((c, iter(children[c])))
                    break
            else:
                stack.pop()
                out.append(pos)
    return out


def _forward_order(nodes, kids, roots) -> list:
    """A forward order that keeps each loop iteration together.

    Visiting the deepest input first (the loop-carried value) puts what an iteration made
    right after the previous iteration. Leaves used more than once (a weight shared by all
    iterations) are placed first, so they do not land inside the first iteration and make
    it differ from the others.
    """
    plain = [[j for _, j, _ in k] for k in kids]
    height = [0] * len(nodes)
    for pos in _postorder(roots, plain):
        hs = [height[j] for j in plain[pos]]
        height[pos] = 1 + (max(hs) if hs else 0)
    key = height.__getitem__
    uses = [0] * len(nodes)
    for c in plain:
        for j in c:
            uses[j] += 1
    shared = [p for p in range(len(nodes)) if uses[p] > 1 and not plain[p]]
    deep_first = [sorted(c, key=key, reverse=True) if len(c) > 1 else c for c in plain]
    # The deepest output first: a shallower one (a value read mid-loop) then comes last
    # instead of splitting the loop in two.
    return _postorder(shared + sorted(roots, key=key, reverse=True), deep_first)
