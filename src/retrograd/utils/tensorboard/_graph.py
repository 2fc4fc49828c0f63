"""``add_graph``: a model's autograd graph as a TensorBoard ``GraphDef``.

The model runs once on the example input (with grad on, the input made a leaf that requires
grad so it shows), and ``retrograd.viz``'s walk lists the backward nodes in forward order.
Each becomes a ``NodeDef`` named after its op and numbered, with its output shapes in
``_output_shapes``; parameters are named by their module path under the model's class name
("Net/fc1/weight"), inputs and outputs are "input/input.N" and "output/output.N", so
TensorBoard groups them.
"""

from __future__ import annotations

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

from ..._tensor import Tensor
from ...autograd.grad_mode import enable_grad
from ...autograd.graph import AccumulateGrad
from ...viz._graph import Graph
from .._nest import tensors_in


def _shape_attr(shapes) -> dict:
    protos = [TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in s])
              for s in shapes]
    return {"_output_shapes": AttrValue(list=AttrValue.ListValue(shape=protos))}


def _dtype_attr(dtype) -> AttrValue:
    return AttrValue(s=str(dtype).encode())


def _as_tuple(value) -> tuple:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def graph_def(model, input_to_model) -> GraphDef:
    """Run ``model`` on ``input_to_model`` and describe the graph of its output."""
    inputs = [t.detach().requires_grad_(t.is_floating_point()) if isinstance(t, Tensor) else t
              for t in _as_tuple(input_to_model)]
    with enable_grad():
        outputs = tensors_in(model(*inputs))
    scope = type(model).__name__
    names = {id(p): f"{scope}/{name.replace('.', '/')}" for name, p in model.named_parameters()}
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor):
            names[id(t)] = f"input/input.{i}"
    g = Graph(outputs, expand_repeats=True)
    out = GraphDef(versions=VersionDef(producer=22))
    node_name: list[str] = []
    counts: dict[str, int] = {}
    for pos, node in enumerate(g.nodes):
        if isinstance(node, AccumulateGrad):
            v = node.variable
            name = names.get(id(v)) or f"{scope}/leaf.{pos}"
            op = "IO Node" if name.startswith("input/") else "Parameter"
            nd = NodeDef(name=name, op=op, attr=_shape_attr([v._data.shape]))
            nd.attr["dtype"].CopyFrom(_dtype_attr(v._data.dtype))
        else:
            op = node.name()
            k = counts[op] = counts.get(op, -1) + 1
            name = f"{scope}/{op}_{k}"
            meta = g.out_meta[pos]
            shapes = [meta[nr][0] for nr in sorted(meta)]
            ins = [node_name[j] + (f":{nr}" if nr else "") for _, j, nr in g.kids[pos]]
            nd = NodeDef(name=name, op=op, input=ins, attr=_shape_attr(shapes))
        node_name.append(name)
        out.node.append(nd)
    for i, (t, pos) in enumerate(zip(outputs, g.root_pos)):
        src = [node_name[pos]] if pos is not None else []
        out.node.append(NodeDef(name=f"output/output.{i}", op="IO Node", input=src,
                                attr=_shape_attr([t._data.shape])))
    return out
