"""The graph as a picture: a scene of boxes and arrows, written as DOT text or handed to the
``graphviz`` package. Arrows follow the data (inputs above, outputs below), as in torchviz."""

from __future__ import annotations

from ..autograd.graph import AccumulateGrad
from ._graph import Graph, meta_text
from ._labels import attr_items, leaf_text, node_parts, saved_items

NODE_ATTR = {"style": "filled", "shape": "box", "align": "left", "fontsize": "10",
             "ranksep": "0.1", "height": "0.2", "fontname": "monospace"}
EDGE_ATTR = {"fontname": "monospace", "fontsize": "9"}
CLUSTER_ATTR = {"style": "dashed", "color": "blue", "fontcolor": "blue", "fontname": "monospace",
                "fontsize": "10"}
LEAF, OUTPUT, SAVED = "lightblue", "darkolivegreen1", "orange"


class Scene:
    """Boxes (id, label, attrs), arrows (src, dst, attrs) and the clusters of repeated
    blocks (id, label, box ids)."""

    def __init__(self) -> None:
        self.nodes: list[tuple[str, str, dict]] = []
        self.edges: list[tuple[str, str, dict]] = []
        self.clusters: list[tuple[str, str, list[str]]] = []


def build_scene(tensors, params=None, show_saved: bool = False, show_attrs: bool = False,
                expand_repeats: bool = False) -> Scene:
    g = Graph(tensors, params, expand_repeats)
    scene = Scene()
    in_cluster: dict[int, list[str]] = {}
    for run in g.runs:
        ids: list[str] = []
        in_cluster[run.number] = ids
        ops = "1 op" if run.period == 1 else f"{run.period} ops"
        scene.clusters.append((f"cluster_{run.number}",
                               f"repeated block x {run.count} ({ops} each; last copy shown)",
                               ids))
    for pos, node in enumerate(g.nodes):
        if g.shown(pos) != pos:
            continue
        nid = f"n{pos}"
        if isinstance(node, AccumulateGrad):
            name, shape = leaf_text(g, node)
            label, attrs = "\n".join(filter(None, [name, shape])), {"fillcolor": LEAF}
        else:
            title, shape, site = node_parts(g, pos)
            lines = [title, shape, site]
            if show_attrs:
                lines += [f"{k}={v}" for k, v in attr_items(node)]
            label, attrs = "\n".join(filter(None, lines)), {}
        scene.nodes.append((nid, label, attrs))
        r = g.run_of[pos]
        if r >= 0:
            in_cluster[g.runs[r].number].append(nid)
        if show_saved:
            for k, text in enumerate(saved_items(g, node)):
                sid = f"s{pos}_{k}"
                scene.nodes.append((sid, f"saved {k}: {text}", {"fillcolor": SAVED}))
                scene.edges.append((sid, nid, {"dir": "none", "style": "dashed"}))
    _add_edges(g, scene)
    for r, ((name, t), p) in enumerate(zip(g.roots, g.root_pos)):
        oid = f"out{r}"
        shape = meta_text((t._data.shape, t._data.dtype))
        label = name or g.names.get(id(t)) or "output"
        scene.nodes.append((oid, f"{label}\n{shape}", {"fillcolor": OUTPUT}))
        if p is not None:
            scene.edges.append((f"n{g.shown(p)}", oid, {}))
    return scene


def _add_edges(g: Graph, scene: Scene) -> None:
    """One arrow per input of each box; the copies of a repeated block share their stand-in's
    arrows, and the arrow from one copy into the next is drawn dashed, closing the loop.
    Arrows from many copies into one box outside the block become one, labelled ``x N``."""
    index: dict = {}
    edges: list = []
    multi = [len(m) > 1 for m in g.out_meta]
    for pos, kids in enumerate(g.kids):
        dst = g.shown(pos)
        r = g.run_of[pos]
        for i, j, nr in kids:
            src = g.shown(j)
            merged = r < 0 and g.run_of[j] >= 0
            key = (src, dst, None if merged else i)
            if key in index:
                index[key][1] += 1
                continue
            attrs = {}
            if r >= 0 and g.run_of[j] == r and g.runs[r].copy(j) != g.runs[r].copy(pos):
                attrs = {"style": "dashed", "label": "next copy"}
            elif nr and multi[j]:
                attrs = {"label": f"out{nr}"}
            index[key] = entry = [(f"n{src}", f"n{dst}", attrs), 1, merged]
            edges.append(entry)
    for (src, dst, attrs), count, merged in edges:
        if merged and count > 1:
            attrs = {**attrs, "label": f"x {count}"}
        scene.edges.append((src, dst, attrs))


def escape(text: str) -> str:
    """A DOT quoted-string body: quotes and backslashes escaped, newlines as ``\\n``."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _attrs(attrs: dict) -> str:
    return " ".join(f'{k}="{escape(v)}"' for k, v in attrs.items())


def scene_to_dot(scene: Scene) -> str:
    clustered = {nid for _, _, ids in scene.clusters for nid in ids}
    lines = ["digraph {", f"\tnode [{_attrs(NODE_ATTR)}]", f"\tedge [{_attrs(EDGE_ATTR)}]"]

    def node_line(nid, label, attrs, indent="\t"):
        extra = " " + _attrs(attrs) if attrs else ""
        return f'{indent}{nid} [label="{escape(label)}"{extra}]'

    by_id = {nid: (nid, label, attrs) for nid, label, attrs in scene.nodes}
    for nid, label, attrs in scene.nodes:
        if nid not in clustered:
            lines.append(node_line(nid, label, attrs))
    for cid, label, ids in scene.clusters:
        lines.append(f"\tsubgraph {cid} {{")
        lines.append(f"\t\t{_attrs({'label': label, **CLUSTER_ATTR})}")
        lines += [node_line(*by_id[nid], indent="\t\t") for nid in ids]
        lines.append("\t}")
    for src, dst, attrs in scene.edges:
        extra = f" [{_attrs(attrs)}]" if attrs else ""
        lines.append(f"\t{src} -> {dst}{extra}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def scene_to_digraph(scene: Scene):
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "make_dot needs the graphviz Python package: pip install 'retrograd[viz]' "
            "(to_dot and render work without it)"
        ) from None
    dot = graphviz.Digraph(node_attr=dict(NODE_ATTR), edge_attr=dict(EDGE_ATTR))
    clustered = {nid for _, _, ids in scene.clusters for nid in ids}
    by_id = {}
    for nid, label, attrs in scene.nodes:
        by_id[nid] = (label, attrs)
        if nid not in clustered:
            dot.node(nid, escape(label), **attrs)
    for cid, label, ids in scene.clusters:
        with dot.subgraph(name=cid) as sub:
            sub.attr(label=escape(label), **CLUSTER_ATTR)
            for nid in ids:
                lab, attrs = by_id[nid]
                sub.node(nid, escape(lab), **attrs)
    for src, dst, attrs in scene.edges:
        dot.edge(src, dst, **{k: escape(v) for k, v in attrs.items()})
    return dot
