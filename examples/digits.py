"""Train a small convolutional network on scikit-learn's 8x8 digits with retrograd.

The code is a plain PyTorch program; only the import differs (``import retrograd as torch``).
It trains for a few epochs (a tqdm bar per epoch), prints the accuracy on a held-out 20%,
saves the model (pickle-free safetensors), reloads it into a fresh model, checks that the
reloaded model scores the same, and plots the loss and accuracy curves.

    python examples/digits.py [--epochs 15] [--compile] [--out digits_curves.png]
                              [--tensorboard DIR]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
from sklearn.datasets import load_digits
from tqdm import tqdm

import retrograd as torch  # the one line that differs from the PyTorch program

nn = torch.nn
F = torch.nn.functional
DataLoader = torch.utils.data.DataLoader


class Net(nn.Module):
    """conv(1->16) -> ReLU -> pool -> conv(16->32) -> ReLU -> pool -> linear -> linear."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1),  # 16 x 8 x 8
            nn.ReLU(),
            nn.MaxPool2d(2),                             # 16 x 4 x 4
            nn.Conv2d(16, 32, kernel_size=3, padding=1),  # 32 x 4 x 4
            nn.ReLU(),
            nn.MaxPool2d(2),                             # 32 x 2 x 2
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * 2 * 2, 64),
            nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def load_data(seed: int = 0):
    """The 1797 digits as (N, 1, 8, 8) float32 in [0, 1], split 80/20 with a fixed seed."""
    digits = load_digits()
    images = torch.tensor(digits.images.astype(np.float32) / 16.0).unsqueeze(1)
    labels = torch.tensor(digits.target.astype(np.int64))
    dataset = torch.utils.data.TensorDataset(images, labels)
    generator = torch.Generator().manual_seed(seed)
    return torch.utils.data.random_split(dataset, [0.8, 0.2], generator=generator)


def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, float]:
    """(mean loss, accuracy) over a loader."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            _, predicted = logits.max(1)
            correct += (predicted == y).sum().item()
            count += y.shape[0]
    return total_loss / count, correct / count


def train(epochs: int = 15, seed: int = 0, batch_size: int = 32, lr: float = 3e-3,
          progress: bool = True, compiled: bool = False) -> dict:
    """Train ``Net`` and return the model, its test accuracy and the per-epoch history."""
    torch.manual_seed(seed)
    train_set, test_set = load_data(seed)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True,
                              generator=torch.Generator().manual_seed(seed))
    test_loader = DataLoader(test_set, batch_size=256)

    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    history: dict[str, list[float]] = {"train_loss": [], "test_loss": [], "test_acc": []}

    def step(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    if compiled:  # captured once per batch shape, then replayed as plain NumPy calls
        step = torch.compile(step, mode="reduce-overhead")

    for epoch in range(epochs):
        model.train()
        running, seen = 0.0, 0
        bar = tqdm(train_loader, desc=f"epoch {epoch + 1}/{epochs}", leave=False,
                   disable=not progress)
        for x, y in bar:
            loss = step(x, y)
            running += loss.item() * y.shape[0]
            seen += y.shape[0]
            bar.set_postfix(loss=f"{running / seen:.4f}")
        scheduler.step()
        test_loss, test_acc = evaluate(model, test_loader)
        history["train_loss"].append(running / seen)
        history["test_loss"].append(test_loss)
        history["test_acc"].append(test_acc)
        if progress:
            tqdm.write(f"epoch {epoch + 1:2d}: train loss {running / seen:.4f}  "
                       f"test loss {test_loss:.4f}  test accuracy {test_acc:.2%}")
    return {"model": model, "test_acc": history["test_acc"][-1], "history": history,
            "test_loader": test_loader}


def plot(history: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["train_loss"]) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, history["train_loss"], label="train")
    ax1.plot(epochs, history["test_loss"], label="test")
    ax1.set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
    ax1.legend()
    ax2.plot(epochs, [100 * a for a in history["test_acc"]], color="tab:green")
    ax2.set(xlabel="epoch", ylabel="accuracy (%)", title="Test accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="digits_curves.png",
                        help="where to write the loss/accuracy plot (PNG)")
    parser.add_argument("--compile", action="store_true",
                        help="run each training step through compile(mode='reduce-overhead')")
    parser.add_argument("--tensorboard", metavar="DIR", default=None,
                        help="also log the curves and the graph for TensorBoard under DIR")
    args = parser.parse_args()

    start = time.perf_counter()
    result = train(epochs=args.epochs, seed=args.seed, compiled=args.compile)
    print(f"test accuracy: {result['test_acc']:.2%} "
          f"({time.perf_counter() - start:.1f} s of training)")

    # Save (safetensors, no pickle), reload into a fresh model, check it scores the same.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "digits_net.safetensors")
        torch.save(result["model"].state_dict(), path)
        fresh = Net()
        fresh.load_state_dict(torch.load(path))
    _, reloaded_acc = evaluate(fresh, result["test_loader"])
    print(f"reloaded model test accuracy: {reloaded_acc:.2%}")
    if reloaded_acc != result["test_acc"]:
        raise SystemExit("the reloaded model does not score the same")

    plot(result["history"], args.out)
    print(f"curves written to {args.out}")
    if args.tensorboard:
        log_tensorboard(result, args.tensorboard)
        print(f"TensorBoard logs written to {args.tensorboard} "
              f"(view them with: tensorboard --logdir {args.tensorboard})")


def log_tensorboard(result: dict, log_dir: str) -> None:
    """The per-epoch curves, the final weights and the model's graph, for TensorBoard."""
    from retrograd.utils.tensorboard import SummaryWriter  # the `tensorboard` extra

    history = result["history"]
    with SummaryWriter(log_dir) as writer:
        for epoch, (train_loss, test_loss, test_acc) in enumerate(
                zip(history["train_loss"], history["test_loss"], history["test_acc"]), 1):
            writer.add_scalars("loss", {"train": train_loss, "test": test_loss}, epoch)
            writer.add_scalar("accuracy/test", test_acc, epoch)
        model = result["model"]
        for name, p in model.named_parameters():
            writer.add_histogram(name, p, len(history["train_loss"]))
        x, _ = next(iter(result["test_loader"]))
        writer.add_graph(model, x[:1])


if __name__ == "__main__":
    main()
