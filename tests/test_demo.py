"""The digits demo trains for real (a few epochs) and its saved model reloads identically."""

import importlib.util
import os

import sklearn  # noqa: F401  (the examples extra; a missing install must fail)
import tqdm  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "digits_demo", os.path.join(HERE, "..", "examples", "digits.py"))
digits = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(digits)


def test_digits_demo_trains_and_round_trips(tmp_path):
    import retrograd as torch

    result = digits.train(epochs=4, progress=False)
    assert result["test_acc"] > 0.9
    hist = result["history"]
    assert len(hist["train_loss"]) == 4
    assert hist["train_loss"][-1] < hist["train_loss"][0]

    path = tmp_path / "net.safetensors"
    torch.save(result["model"].state_dict(), path)
    fresh = digits.Net()
    fresh.load_state_dict(torch.load(path))
    _, acc = digits.evaluate(fresh, result["test_loader"])
    assert acc == result["test_acc"]

    import matplotlib  # noqa: F401  (the examples extra)
    out = tmp_path / "curves.png"
    digits.plot(hist, str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
