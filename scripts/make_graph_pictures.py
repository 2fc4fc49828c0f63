"""Draw the pictures of the README's "See the graph" section.

    python scripts/make_graph_pictures.py   # docs/graph_{tutorial,mlp,lenet}.svg

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


class MLP(torch.nn.Module):
    """Two linear layers with a ReLU between them."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(3, 8)
        self.fc2 = torch.nn.Linear(8, 1)

    def forward(self, x):
        hidden = torch.relu(self.fc1(x))
        return self.fc2(hidden)


def mlp_graph():
    """The MLP on a batch of 4, with a mean-squared-error loss; leaves named by parameter."""
    torch.manual_seed(0)
    model = MLP()
    x, target = torch.randn(4, 3), torch.randn(4, 1)
    loss = torch.nn.functional.mse_loss(model(x), target)
    return loss, dict(model.named_parameters())


class LeNet(torch.nn.Module):
    """The LeNet of PyTorch's "Neural Networks" tutorial (1x32x32 input)."""

    def __init__(self) -> None:
        super().__init__()
        nn = torch.nn
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        F = torch.nn.functional
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def lenet_graph():
    """LeNet on one image with a cross-entropy loss; leaves named by parameter."""
    torch.manual_seed(0)
    model = LeNet()
    loss = torch.nn.functional.cross_entropy(model(torch.randn(1, 1, 32, 32)),
                                             torch.tensor([3]))
    return loss, dict(model.named_parameters())


def main() -> None:
    os.makedirs(DOCS, exist_ok=True)
    for name, build in [("tutorial", tutorial_graph), ("mlp", mlp_graph),
                        ("lenet", lenet_graph)]:
        out, params = build()
        path = torch.viz.render(out, os.path.join(DOCS, f"graph_{name}.svg"), params=params)
        print(f"wrote {os.path.relpath(path)}")
        torch.viz.print_graph(out, params=params)


if __name__ == "__main__":
    main()
