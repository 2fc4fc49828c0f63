"""Draw the pictures of the README's "See the graph" section.

    python scripts/make_graph_pictures.py   # docs/graph_tutorial.svg, docs/graph_mlp.svg

Needs the Graphviz ``dot`` program (apt-get install graphviz / brew install graphviz).
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..", "src")))

import retrograd as torch  # noqa: E402

DOCS = os.path.join(HERE, "..", "docs")


def tutorial_graph():
    """The classic tutorial: out = mean(3 * (x + 2)**2)."""
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    return out, {"x": x}


def mlp_graph():
    """A two-layer perceptron on a batch of 4, with a mean-squared-error loss."""
    torch.manual_seed(0)
    params = {
        "w1": torch.randn(8, 3, requires_grad=True),
        "b1": torch.zeros(8, requires_grad=True),
        "w2": torch.randn(1, 8, requires_grad=True),
        "b2": torch.zeros(1, requires_grad=True),
    }
    x, target = torch.randn(4, 3), torch.randn(4, 1)
    hidden = (x @ params["w1"].t() + params["b1"]).relu()
    pred = hidden @ params["w2"].t() + params["b2"]
    loss = ((pred - target) ** 2).mean()
    return loss, params


def main() -> None:
    os.makedirs(DOCS, exist_ok=True)
    for name, build in [("tutorial", tutorial_graph), ("mlp", mlp_graph)]:
        out, params = build()
        path = torch.viz.render(out, os.path.join(DOCS, f"graph_{name}.svg"), params=params)
        print(f"wrote {os.path.relpath(path)}")
        torch.viz.print_graph(out, params=params)


if __name__ == "__main__":
    main()
