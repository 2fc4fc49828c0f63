"""The graph views: DOT text (parsed back here), the rendered SVG/PNG, and the text tree."""

import re
import shutil
import sys

import pytest

import retrograd as torch
from retrograd import viz
from retrograd.autograd import Function

FILE = "test_viz.py"


def here() -> int:
    """The caller's line number (to check creation lines)."""
    return sys._getframe(1).f_lineno


# --------------------------------------------------------------------------- a DOT parser
_NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\]$')
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$")
_ATTR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
_CLUSTER = re.compile(r"^\s*subgraph (cluster_\w+) \{$")


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), s)


def parse_dot(text: str):
    """Nodes {id: {"label": ..., attrs}}, edges [(src, dst, attrs)], clusters
    {id: {"label": ..., "nodes": [...]}} of the DOT that ``to_dot`` writes."""
    lines = text.strip().splitlines()
    assert lines[0] == "digraph {" and lines[-1] == "}"
    nodes, edges, clusters = {}, [], {}
    cluster = None
    for line in lines[1:-1]:
        if m := _CLUSTER.match(line):
            cluster = clusters[m.group(1)] = {"nodes": []}
        elif line.strip() == "}":
            cluster = None
        elif m := _NODE.match(line):
            attrs = {k: _unescape(v) for k, v in _ATTR.findall(m.group(3))}
            nodes[m.group(1)] = {"label": _unescape(m.group(2)), **attrs}
            if cluster is not None:
                cluster["nodes"].append(m.group(1))
        elif m := _EDGE.match(line):
            attrs = {k: _unescape(v) for k, v in _ATTR.findall(m.group(3) or "")}
            edges.append((m.group(1), m.group(2), attrs))
        elif cluster is not None:
            cluster.update({k: _unescape(v) for k, v in _ATTR.findall(line)})
        else:
            assert re.match(r"^\s*(node|edge) \[", line), line
    for src, dst, _ in edges:
        assert src in nodes and dst in nodes, (src, dst)
    return nodes, edges, clusters


def by_title(nodes, title):
    """Ids of the boxes whose first label line is ``title``."""
    return [k for k, v in nodes.items() if v["label"].split("\n")[0] == title]


def one(nodes, title):
    ids = by_title(nodes, title)
    assert len(ids) == 1, (title, ids)
    return ids[0]


# --------------------------------------------------------------------------- graphs
def tutorial():
    x = torch.ones(2, 2, requires_grad=True)
    y, add_line = x + 2, here()
    z, mul_line = y * y * 3, here()
    out, mean_line = z.mean(), here()
    return out, x, (add_line, mul_line, mean_line)


def mlp():
    torch.manual_seed(0)
    params = {"w1": torch.randn(5, 3, requires_grad=True), "b1": torch.zeros(5, requires_grad=True),
              "w2": torch.randn(2, 5, requires_grad=True), "b2": torch.zeros(2, requires_grad=True)}
    x = torch.randn(4, 3)
    h, l1 = (x @ params["w1"].t() + params["b1"]).relu(), here()
    out, l2 = h @ params["w2"].t() + params["b2"], here()
    loss, l3 = (out * out).mean(), here()
    return loss, params, (l1, l2, l3)


def loop(n):
    w = torch.ones(3, requires_grad=True)
    b = torch.ones(3, requires_grad=True)
    h = torch.ones(3, requires_grad=True)
    start = h
    line = here() + 2
    for _ in range(n):
        h = h * w + b
    return h.sum(), {"w": w, "b": b, "h0": start}, line


@pytest.fixture(scope="module")
def long_loop():
    return loop(5000)  # 10,000 op nodes


# --------------------------------------------------------------------------- DOT
def test_tutorial_dot():
    out, x, (l_add, l_mul, l_mean) = tutorial()
    nodes, edges, clusters = parse_dot(viz.to_dot(out, params={"x": x}))
    assert clusters == {}
    leaf = one(nodes, "x")
    add, mean = one(nodes, "AddBackward0"), one(nodes, "MeanBackward0")
    muls = by_title(nodes, "MulBackward0")
    output = one(nodes, "output")
    assert len(nodes) == 6 and len(muls) == 2
    assert nodes[leaf]["label"] == "x\n(2, 2) float32"
    assert nodes[leaf]["fillcolor"] == "lightblue"
    assert nodes[add]["label"] == f"AddBackward0\n(2, 2) float32\n{FILE}:{l_add}"
    assert nodes[mean]["label"] == f"MeanBackward0\n() float32\n{FILE}:{l_mean}"
    for m in muls:
        assert nodes[m]["label"] == f"MulBackward0\n(2, 2) float32\n{FILE}:{l_mul}"
    assert nodes[output]["label"] == "output\n() float32"
    # y * y: the add feeds the first mul twice; the arrows follow the data
    inner = next(m for m in muls if (add, m) in {(s, d) for s, d, _ in edges})
    outer = next(m for m in muls if m != inner)
    pairs = sorted((s, d) for s, d, _ in edges)
    assert pairs == sorted([(leaf, add), (add, inner), (add, inner), (inner, outer),
                            (outer, mean), (mean, output)])


def test_unnamed_leaf_shows_shape_and_output_names():
    out, _, _ = tutorial()
    nodes, _, _ = parse_dot(viz.to_dot({"loss": out}))
    leaves = [v for v in nodes.values() if v.get("fillcolor") == "lightblue"]
    assert [v["label"] for v in leaves] == ["(2, 2) float32"]
    assert nodes[one(nodes, "loss")]["label"] == "loss\n() float32"


def test_mlp_named_parameters():
    loss, params, (l1, l2, l3) = mlp()
    nodes, edges, _ = parse_dot(viz.to_dot(loss, params=params))
    pairs = {(s, d) for s, d, _ in edges}
    shapes = {"w1": "(5, 3)", "b1": "(5,)", "w2": "(2, 5)", "b2": "(2,)"}
    for name, shape in shapes.items():
        assert nodes[one(nodes, name)]["label"] == f"{name}\n{shape} float32"
    t1 = next(d for s, d in pairs if s == one(nodes, "w1"))
    assert nodes[t1]["label"] == f"TBackward0\n(3, 5) float32\n{FILE}:{l1}"
    relu = one(nodes, "ReluBackward0")
    assert nodes[relu]["label"] == f"ReluBackward0\n(4, 5) float32\n{FILE}:{l1}"
    adds = by_title(nodes, "AddBackward0")
    assert {nodes[a]["label"].split("\n")[2] for a in adds} == {f"{FILE}:{l1}", f"{FILE}:{l2}"}
    assert (one(nodes, "b1"), next(a for a in adds if l1 == int(nodes[a]["label"][-2:]))) \
        in pairs
    assert nodes[one(nodes, "MeanBackward0")]["label"].endswith(f"{FILE}:{l3}")
    ops = [v for v in nodes.values() if "fillcolor" not in v]
    assert len(ops) == 9  # t, matmul, add, relu, t, matmul, add, mul, mean
    assert len(edges) == 14


def test_nn_module_named_parameters():
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(3, 4)
            self.fc2 = nn.Linear(4, 2)

        def forward(self, x):
            self.line = here() + 1
            return self.fc2(torch.relu(self.fc1(x)))

    net = Net()
    out = net(torch.randn(5, 3)).sum()
    nodes, edges, _ = parse_dot(viz.to_dot(out, params=dict(net.named_parameters())))
    for name, shape in [("fc1.weight", "(4, 3)"), ("fc1.bias", "(4,)"),
                        ("fc2.weight", "(2, 4)"), ("fc2.bias", "(2,)")]:
        leaf = one(nodes, name)
        assert nodes[leaf]["label"] == f"{name}\n{shape} float32"
        assert any(s == leaf for s, _, _ in edges)
    relu = one(nodes, "ReluBackward0")
    assert nodes[relu]["label"] == f"ReluBackward0\n(5, 4) float32\n{FILE}:{net.line}"


def test_params_as_pairs_match_by_identity():
    loss, params, _ = mlp()
    copy = {k: v.detach().requires_grad_() for k, v in params.items()}
    nodes, _, _ = parse_dot(viz.to_dot(loss, params=list(params.items())))
    assert by_title(nodes, "w1")
    nodes, _, _ = parse_dot(viz.to_dot(loss, params=copy))
    assert not by_title(nodes, "w1")  # same values, other tensors: not named


def test_shared_subexpression_diamond():
    x = torch.ones(3, requires_grad=True)
    a = x.exp()
    out = a.sin() + a.cos()
    nodes, edges, _ = parse_dot(viz.to_dot(out))
    exp = one(nodes, "ExpBackward0")
    targets = sorted(nodes[d]["label"].split("\n")[0] for s, d, _ in edges if s == exp)
    assert targets == ["CosBackward0", "SinBackward0"]
    text = viz.format_graph(out)
    assert text.count("ExpBackward0") == 1
    assert re.search(r"\(see #(\d+) above\)", text)
    ref = re.search(r"\(see #(\d+) above\)", text).group(1)
    assert re.search(rf"#{ref} ExpBackward0", text)


def test_long_loop_summarized(long_loop):
    out, params, line = long_loop
    nodes, edges, clusters = parse_dot(viz.to_dot(out, params=params))
    assert len(nodes) <= 8  # w, b, h0, mul, add, sum, output
    (cluster,) = clusters.values()
    assert "x 5000" in cluster["label"]
    inside = sorted(nodes[n]["label"].split("\n")[0] for n in cluster["nodes"])
    assert inside == ["AddBackward0", "MulBackward0"]
    mul, add = (one(nodes, k) for k in ("MulBackward0", "AddBackward0"))
    assert nodes[mul]["label"].endswith(f"{FILE}:{line}")
    loops = [(s, d) for s, d, a in edges if a.get("style") == "dashed"]
    assert loops == [(add, mul)]
    pairs = {(s, d) for s, d, _ in edges}
    assert {(one(nodes, "h0"), mul), (one(nodes, "w"), mul), (one(nodes, "b"), add)} <= pairs


def test_long_loop_expanded(long_loop):
    out, params, _ = long_loop
    nodes, edges, clusters = parse_dot(viz.to_dot(out, params=params, expand_repeats=True))
    assert clusters == {}
    assert len(by_title(nodes, "MulBackward0")) == 5000
    assert len(by_title(nodes, "AddBackward0")) == 5000
    assert len(edges) == 4 * 5000 + 2


def test_short_loops_and_distinct_lines_are_not_collapsed():
    out, _, _ = loop(3)
    assert "subgraph" not in viz.to_dot(out)
    x = torch.ones(2, requires_grad=True)
    y = x
    y = y * 2
    y = y * 2
    y = y * 2
    y = y * 2
    y = y * 2
    nodes, _, clusters = parse_dot(viz.to_dot(y))
    assert clusters == {} and len(by_title(nodes, "MulBackward0")) == 5


def test_loop_with_per_iteration_inputs_counts_every_iteration():
    w = torch.ones(3, requires_grad=True)
    h = torch.ones(3, requires_grad=True)
    hs = []
    for _ in range(12):
        h = (h * w.exp()).tanh()  # exp of the shared weight: recomputed each iteration
        hs.append(h)
    total = hs[0]
    for t in hs[1:]:
        total = total + t
    nodes, _, clusters = parse_dot(viz.to_dot(total.sum(), params={"w": w}))
    labels = sorted(c["label"] for c in clusters.values())
    assert any("x 12 (3 ops each" in lab for lab in labels), labels
    assert any("x 11 (1 op each" in lab for lab in labels), labels
    assert len(nodes) < 12
    text = viz.format_graph(total.sum(), params={"w": w})
    assert "x 12" in text and "x 11" in text


def test_show_saved_versions_and_freed():
    x = torch.ones(2, requires_grad=True)
    y = x * 1
    z = y * y
    nodes, edges, _ = parse_dot(viz.to_dot(z, params={"x": x}, show_saved=True))
    saved = sorted(v["label"] for v in nodes.values() if v.get("fillcolor") == "orange")
    assert saved[:2] + saved[3:] == ["saved 0: input (2,) float32 version 0",
                                     "saved 0: input x (2,) float32 version 0",
                                     "saved 1: input (2,) float32 version 0"]
    assert re.fullmatch(r"saved 1: 1(\.0)?", saved[2])  # the Python scalar of x * 1
    assert all(a == {"dir": "none", "style": "dashed"} for s, d, a in edges if s.startswith("s"))
    y.add_(1)
    assert viz.to_dot(z, show_saved=True).count("version 0 (now 1: modified in place)") == 2
    w = torch.ones(2, requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    text = viz.to_dot(loss, show_saved=True)
    assert "saved 0: freed (backward already ran" in text
    assert "saved" not in viz.to_dot(loss)


def test_show_attrs():
    x = torch.ones(2, 3, requires_grad=True)
    out = x.sum(dim=1, keepdim=True)
    nodes, _, _ = parse_dot(viz.to_dot(out, show_attrs=True))
    label = nodes[one(nodes, "SumBackward1" if by_title(nodes, "SumBackward1")
                      else "SumBackward0")]["label"]
    assert "keepdim=True" in label and "(1,)" in label
    assert "keepdim" not in viz.to_dot(out)


class Twice(Function):
    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        ctx.save_for_backward(x)
        return x * factor, x * 2

    @staticmethod
    def backward(ctx, ga, gb):
        return ga * ctx.factor + gb * 2, None


def test_custom_function_attrs_saved_and_two_outputs():
    x = torch.ones(3, requires_grad=True)
    a, b = Twice.apply(x, 5)
    out, line = a + b, here()
    dot = viz.to_dot(out, params={"x": x}, show_attrs=True, show_saved=True)
    nodes, edges, _ = parse_dot(dot)
    fn = one(nodes, "TwiceBackward")
    assert nodes[fn]["label"].split("\n")[1:] == [
        "out0 (3,) float32, out1 (3,) float32", f"{FILE}:{line - 1}", "factor=5"]
    assert sorted(a.get("label", "") for s, d, a in edges if s == fn) == ["", "out1"]
    assert "saved 0: input x (3,) float32 version 0" in [v["label"] for v in nodes.values()]


def test_quotes_in_names_are_escaped():
    x = torch.ones(1, requires_grad=True)
    nodes, _, _ = parse_dot(viz.to_dot(x * 2, params={'we"ird\\name': x}))
    assert by_title(nodes, 'we"ird\\name')


def test_tensor_without_graph():
    x = torch.ones(2, requires_grad=True)
    nodes, edges, _ = parse_dot(viz.to_dot(x))
    assert [v["label"] for v in nodes.values()] == ["output\n(2,) float32"] and edges == []
    assert viz.format_graph(x, params={"x": x}) == "x (2,) float32 (leaf)\n"
    assert viz.format_graph(torch.ones(2)) == "(2,) float32 (does not require grad)\n"
    with pytest.raises(TypeError, match="expected Tensors"):
        viz.to_dot([x, 3])


def test_several_outputs_share_nodes():
    x = torch.ones(2, requires_grad=True)
    y = x.exp()
    nodes, edges, _ = parse_dot(viz.to_dot({"a": y.sin(), "b": y.cos()}))
    assert len(by_title(nodes, "ExpBackward0")) == 1
    assert {one(nodes, "a"), one(nodes, "b")} == {d for _, d, _ in edges if d.startswith("out")}


def test_million_nodes_need_no_recursion():
    x = torch.ones(1, requires_grad=True)
    y = x
    for _ in range(3000):  # deeper than the recursion limit
        y = y.exp().log()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        assert "x 3000" in viz.to_dot(y)
        assert viz.to_dot(y, expand_repeats=True).count("ExpBackward0") == 3000
        assert "x 3000" in viz.format_graph(y)
        assert viz.format_graph(y, expand_repeats=True).count("LogBackward0") == 3000
    finally:
        sys.setrecursionlimit(limit)


# --------------------------------------------------------------------------- graphviz
def test_make_dot_returns_digraph():
    import graphviz  # the viz extra, installed by the test extra
    out, x, _ = tutorial()
    g = viz.make_dot(out, params={"x": x})
    assert isinstance(g, graphviz.Digraph)
    nodes, edges, _ = parse_dot(viz.to_dot(out, params={"x": x}))
    source = g.source
    for v in nodes.values():
        assert v["label"].replace("\n", "\\n") in source
    assert source.count("->") == len(edges)


def test_make_dot_without_graphviz(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    out, _, _ = tutorial()
    with pytest.raises(ImportError, match=r"pip install 'retrograd\[viz\]'"):
        viz.make_dot(out)


def test_render_without_dot(monkeypatch, tmp_path):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    out, _, _ = tutorial()
    with pytest.raises(RuntimeError, match=r"apt-get install graphviz.*brew install graphviz"):
        viz.render(out, tmp_path / "g.svg")


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="Graphviz 'dot' is not installed (apt-get install graphviz)")
def test_render_svg_and_png(tmp_path, long_loop):
    out, x, (l_add, _, _) = tutorial()
    path = viz.render(out, tmp_path / "g.svg", params={"x": x})
    svg = (tmp_path / "g.svg").read_text(encoding="utf-8")
    assert path == str(tmp_path / "g.svg")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert {"x", "AddBackward0", "MulBackward0", "MeanBackward0", "output",
            f"{FILE}:{l_add}", "(2, 2) float32"} <= set(texts)
    assert len(re.findall(r'class="node"', svg)) == 6
    assert len(re.findall(r'class="edge"', svg)) == 6
    loop_out, params, _ = long_loop
    viz.render(loop_out, tmp_path / "l.svg", params=params)
    svg = (tmp_path / "l.svg").read_text(encoding="utf-8")
    assert any("x 5000" in t for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    viz.render(out, tmp_path / "g.png", format="png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- text
def test_tutorial_text_snapshot(capsys):
    out, x, (l_add, l_mul, l_mean) = tutorial()
    expected = f"""\
#1 MeanBackward0  () float32  {FILE}:{l_mean}
└─ #2 MulBackward0  (2, 2) float32  {FILE}:{l_mul}
   └─ #3 MulBackward0  (2, 2) float32  {FILE}:{l_mul}
      ├─ #4 AddBackward0  (2, 2) float32  {FILE}:{l_add}
      │  └─ #5 AccumulateGrad[x]  (2, 2) float32
      └─ (see #4 above)
"""
    assert viz.format_graph(out, params={"x": x}) == expected
    viz.print_graph(out, params={"x": x})
    assert capsys.readouterr().out == expected
    ascii_text = viz.format_graph(out, params={"x": x}, ascii=True)
    assert ascii_text == expected.replace("└─", "`-").replace("├─", "|-").replace("│", "|")


def test_text_with_saved_and_attrs():
    out, _, (_, _, l_mean) = tutorial()
    text = viz.format_graph(out, show_saved=True, show_attrs=True)
    lines = text.splitlines()
    assert lines[0] == (f"#1 MeanBackward0  () float32  {FILE}:{l_mean}  "
                        "{dims=None, keepdim=False, n=4, shape=(2, 2)}")
    assert lines[2] == "   ├─ saved 0: input (2, 2) float32 version 0"
    assert re.fullmatch(r"   ├─ saved 1: 3(\.0)?", lines[3])


def test_loop_text_snapshot(long_loop):
    out, params, line = long_loop
    note = "[repeated block x 5000, 2 ops each; last copy shown]"
    expected = f"""\
#1 SumBackward0  () float32  {FILE}:{line + 1}
└─ #2 AddBackward0  (3,) float32  {FILE}:{line}  {note}
   ├─ #3 MulBackward0  (3,) float32  {FILE}:{line}
   │  ├─ ↻ from the previous copy (block repeated x 5000); the first copy took:
   │  │  └─ #4 AccumulateGrad[h0]  (3,) float32
   │  └─ #5 AccumulateGrad[w]  (3,) float32
   └─ #6 AccumulateGrad[b]  (3,) float32
"""
    assert viz.format_graph(out, params=params) == expected


def test_loop_text_expanded(long_loop):
    out, params, _ = long_loop
    text = viz.format_graph(out, params=params, expand_repeats=True)
    numbered = re.findall(r"(?<!see )#(\d+) (\w+)", text)
    assert len(numbered) == 10004  # 10,000 ops, sum, three leaves
    assert sum(name == "MulBackward0" for _, name in numbered) == 5000
    assert max(len(line) for line in text.splitlines()) < 200  # deep trees shift left


def test_hidden_copies_referenced_from_outside():
    w = torch.ones(2, requires_grad=True)
    h = torch.ones(2, requires_grad=True)
    hs = []
    for _ in range(10):
        h = (h * w).tanh()
        hs.append(h)
    text = viz.format_graph({"last": hs[-1], "mid": hs[4] * 1}, params={"w": w})
    assert "repeated block x 10, 2 ops each" in text
    assert re.search(r"mid: #\d+ MulBackward0", text)
    assert re.search(r"└─ \(see #1 above, copy 5 of 10\)", text)
    text = viz.format_graph({"mid": hs[4] * 1, "last": hs[-1]}, params={"w": w})
    assert re.search(r"└─ #2 TanhBackward0 .*  \(here: copy 5 of 10\)  \[repeated block x 10", text)


def test_many_copies_feeding_one_node():
    w = torch.ones(2, requires_grad=True)
    h = torch.ones(2, requires_grad=True)
    hs = []
    for _ in range(10):
        h = (h * w).tanh()
        hs.append(h)
    out = torch.stack(hs).sum()
    nodes, edges, clusters = parse_dot(viz.to_dot(out, params={"w": w, "h0": h}))
    (cluster,) = clusters.values()
    assert "x 10 (2 ops each" in cluster["label"]
    stack = one(nodes, "StackBackward0")
    into = [(s, a) for s, d, a in edges if d == stack]
    assert into == [(one(nodes, "TanhBackward0"), {"label": "x 10"})]
    text = viz.format_graph(out, params={"w": w})
    assert re.search(r"├─ #3 TanhBackward0 .*\(here: copy 1 of 10\)", text)
    assert text.rstrip().endswith("└─ (see #3 above, copies 2-10 of 10)")
