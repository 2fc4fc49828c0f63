"""See the graph: the backward graph of some tensors as DOT / SVG / PNG and as a text tree.

Boxes show each op's node name (``MulBackward0``), the shape and dtype of what it made and
the line of user code that created it; leaves show their parameter name (pass
``params=dict(model.named_parameters())``) or shape; the tensors drawn from are green boxes.
Long unrolled loops are summarized: a block of ops that repeats (same op names from the same
lines) is shown once with its count, ``x 1000``; ``expand_repeats=True`` shows every node.

>>> import retrograd as torch
>>> x = torch.ones(2, 2, requires_grad=True)
>>> out = ((x + 2) * 3).mean()
>>> print(torch.viz.format_graph(out, params={"x": x}), end="")  # doctest: +ELLIPSIS
#1 MeanBackward0  () float32  ...
└─ #2 MulBackward0  (2, 2) float32  ...
   └─ #3 AddBackward0  (2, 2) float32  ...
      └─ #4 AccumulateGrad[x]  (2, 2) float32

Only ``make_dot`` needs a third-party package (``graphviz``); ``render`` needs the Graphviz
``dot`` program.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

from ._dot import build_scene, scene_to_digraph, scene_to_dot
from ._text import format_graph as _format_graph

__all__ = ["format_graph", "make_dot", "print_graph", "render", "to_dot"]


def to_dot(tensors, params=None, show_saved: bool = False, show_attrs: bool = False,
           expand_repeats: bool = False) -> str:
    """DOT source of the backward graph of ``tensors``.

    Args:
        tensors: a Tensor, a sequence of Tensors, or a dict naming them.
        params: ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``) or
            ``(name, tensor)`` pairs; leaves found by identity are labelled by name.
        show_saved: also draw what each node saved for backward (orange), with the version
            it was saved at.
        show_attrs: also list each node's non-tensor attributes (``dim``, ``keepdim``, ...).
        expand_repeats: draw every copy of repeated blocks instead of one with a count.
    """
    return scene_to_dot(build_scene(tensors, params, show_saved, show_attrs, expand_repeats))


def make_dot(tensors, params=None, show_saved: bool = False, show_attrs: bool = False,
             expand_repeats: bool = False) -> Any:
    """The same picture as a ``graphviz.Digraph`` (torchviz's interface); needs the
    ``graphviz`` package: ``pip install 'retrograd[viz]'``."""
    return scene_to_digraph(build_scene(tensors, params, show_saved, show_attrs,
                                        expand_repeats))


def render(tensors, path: str | os.PathLike, format: str = "svg", **kwargs: Any) -> str:
    """Write the picture to ``path`` by running Graphviz's ``dot`` on :func:`to_dot`'s text.

    Args:
        format: any output format ``dot`` knows (``svg``, ``png``, ``pdf``, ...).
        **kwargs: passed to :func:`to_dot`.

    Returns:
        ``path`` as a string.
    """
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(
            "rendering needs the Graphviz 'dot' program, which is not on PATH; install "
            "Graphviz (apt-get install graphviz, brew install graphviz, or conda install "
            "graphviz), or use retrograd.viz.to_dot / format_graph, which need nothing"
        )
    if not str(format).isalnum():
        raise ValueError(f"render(): unknown format {format!r}")
    source = to_dot(tensors, **kwargs)
    path = os.fspath(path)
    done = subprocess.run([exe, f"-T{format}", "-o", path], input=source.encode(),
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed ({done.returncode}): {done.stderr.decode().strip()}")
    return path


def format_graph(tensors, params=None, expand_repeats: bool = False, show_saved: bool = False,
                 show_attrs: bool = False, ascii: bool = False) -> str:
    """The backward graph as a text tree: one line per node (number, op name, shape and
    dtype, creation line), inputs indented below; a node used twice is printed once and
    then referenced as ``(see #3 above)``.

    Args:
        tensors, params, expand_repeats, show_saved, show_attrs: as for :func:`to_dot`.
        ascii: draw the tree with ASCII characters only.
    """
    return _format_graph(tensors, params, expand_repeats, show_saved, show_attrs, ascii)


def print_graph(tensors, file=None, **kwargs: Any) -> None:
    """Print :func:`format_graph`'s text (to ``file``, stdout by default)."""
    print(format_graph(tensors, **kwargs), end="", file=file or sys.stdout)
