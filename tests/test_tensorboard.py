"""SummaryWriter: event files read back with TensorBoard's own EventAccumulator."""

import glob
import io
import os

import numpy as np
import pytest
import tensorboard  # noqa: F401  (an extra of the test install: missing fails, never skips)
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata as hp_metadata

import retrograd as torch
from retrograd import nn
from retrograd.utils.tensorboard import SummaryWriter


def _read(path):
    acc = EventAccumulator(str(path), size_guidance={"scalars": 0, "histograms": 0,
                                                     "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_scalars_values_steps_and_context_manager(tmp_path):
    with SummaryWriter(tmp_path, filename_suffix=".x") as w:
        assert w.get_logdir() == str(tmp_path)
        for step, v in enumerate([1.5, torch.tensor(2.25), np.float32(-3.0)]):
            w.add_scalar("loss/train", v, step, walltime=100.0 + step)
        w.add_scalar("acc", torch.tensor([0.75]), global_step=7, new_style=True)
    files = glob.glob(os.path.join(tmp_path, "events.out.tfevents.*"))
    assert len(files) == 1 and files[0].endswith(".x")
    acc = _read(tmp_path)
    got = acc.Scalars("loss/train")
    assert [e.step for e in got] == [0, 1, 2]
    assert [e.value for e in got] == [1.5, 2.25, -3.0]
    assert [e.wall_time for e in got] == [100.0, 101.0, 102.0]
    (acc_event,) = acc.Tensors("acc")
    assert acc_event.step == 7
    assert acc_event.tensor_proto.float_val == [0.75]
    with pytest.raises(ValueError, match="single number"):
        SummaryWriter(tmp_path / "bad").add_scalar("x", torch.ones(3))


def test_add_scalars_writes_one_run_per_curve(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalars("run/loss", {"train": step * 1.0, "val": step * 2.0}, step)
    for name, scale in [("train", 1.0), ("val", 2.0)]:
        got = _read(tmp_path / f"run_loss_{name}").Scalars("run/loss")
        assert [e.value for e in got] == [0.0, scale, 2 * scale]


def test_histogram_counts_and_moments(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=1000).astype(np.float32)
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("w", torch.tensor(x), 3)
        w.add_histogram("auto", x, 4, bins="auto")
        w.add_histogram("few", x, 5, bins=40, max_bins=7)
    acc = _read(tmp_path)
    for tag in ["w", "auto", "few"]:
        (ev,) = acc.Histograms(tag)
        h = ev.histogram_value
        assert h.num == 1000 and sum(h.bucket) == 1000
        np.testing.assert_allclose([h.min, h.max, h.sum, h.sum_squares],
                                   [x.min(), x.max(), x.astype(np.float64).sum(),
                                    (x.astype(np.float64) ** 2).sum()], rtol=1e-6)
        limits = np.array(h.bucket_limit)
        assert np.all(np.diff(limits) > 0) and limits[-1] >= x.max()
        # Every value lies at or below its bucket's limit and above the previous one.
        edges = np.concatenate([[-np.inf], limits])
        counts, _ = np.histogram(x.astype(np.float64), bins=edges)
        if tag != "w":
            np.testing.assert_array_equal(counts, h.bucket)
    assert len(acc.Histograms("few")[0].histogram_value.bucket) <= 7


def _png(event):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(event.encoded_image_string)))


def test_images_chw_hwc_and_batches(tmp_path):
    rng = np.random.default_rng(1)
    img = rng.random((3, 5, 4)).astype(np.float32)
    with SummaryWriter(tmp_path) as w:
        w.add_image("chw", torch.tensor(img), 0)
        w.add_image("hwc", img.transpose(1, 2, 0), 0, dataformats="HWC")
        w.add_image("gray", (img[0] * 255).astype(np.uint8), 0, dataformats="HW")
        w.add_images("batch", rng.random((10, 3, 2, 3)), 1)
        with pytest.raises(ValueError, match="dataformats"):
            w.add_image("bad", img, 0, dataformats="HW")
    acc = _read(tmp_path)
    expect = np.round(img.transpose(1, 2, 0) * 255).astype(np.uint8)
    for tag in ["chw", "hwc"]:
        (ev,) = acc.Images(tag)
        assert (ev.height, ev.width) == (5, 4)
        np.testing.assert_array_equal(_png(ev), expect)
    np.testing.assert_array_equal(_png(acc.Images("gray")[0]), (img[0] * 255).astype(np.uint8))
    batch = acc.Images("batch")[0]
    assert (batch.height, batch.width) == (2 * 2, 8 * 3)  # 10 images, eight to a row


def test_text_and_hparams(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "hello *world*", 2)
        w.add_hparams({"lr": 0.1, "opt": "sgd", "bn": True}, {"hp/acc": 0.9}, run_name="h")
    (ev,) = _read(tmp_path).Tensors("notes/text_summary")
    assert ev.step == 2 and ev.tensor_proto.string_val == [b"hello *world*"]
    acc = _read(tmp_path / "h")
    assert [e.value for e in acc.Scalars("hp/acc")] == [pytest.approx(0.9)]
    content = acc.PluginTagToContent(hp_metadata.PLUGIN_NAME)
    exp = hp_metadata.parse_experiment_plugin_data(content[hp_metadata.EXPERIMENT_TAG])
    assert [i.name for i in exp.hparam_infos] == ["lr", "opt", "bn"]
    assert [m.name.tag for m in exp.metric_infos] == ["hp/acc"]
    start = hp_metadata.parse_session_start_info_plugin_data(
        content[hp_metadata.SESSION_START_INFO_TAG])
    assert start.hparams["lr"].number_value == 0.1
    assert start.hparams["opt"].string_value == "sgd"
    assert start.hparams["bn"].bool_value is True


def test_add_graph_names_ops_params_and_shapes(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with SummaryWriter(tmp_path) as w:
        w.add_graph(model, torch.randn(5, 4))
    g = _read(tmp_path).Graph()
    nodes = {n.name: n for n in g.node}
    for name in ["Sequential/0/weight", "Sequential/0/bias", "Sequential/2/weight",
                 "input/input.0", "output/output.0"]:
        assert name in nodes
    ops = [n.op for n in g.node]
    assert ops.count("AddmmBackward0") == 2 and ops.count("ReluBackward0") == 1
    out = nodes["output/output.0"]
    last = nodes[out.input[0]]
    assert last.op == "AddmmBackward0"
    assert [d.size for d in last.attr["_output_shapes"].list.shape[0].dim] == [5, 2]
    assert "Sequential/2/weight" in last.input
    relu = next(n for n in g.node if n.op == "ReluBackward0")
    assert [d.size for d in relu.attr["_output_shapes"].list.shape[0].dim] == [5, 3]


def test_purge_step_default_logdir_and_figure(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_exp", purge_step=5)
    assert w.get_logdir().startswith("runs" + os.sep) and w.get_logdir().endswith("_exp")
    w.add_scalar("x", 1.0, 6)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(2, 1), dpi=20)
    w.add_figure("fig", fig, 0)
    w.close()
    acc = _read(w.get_logdir())
    assert [e.step for e in acc.Scalars("x")] == [6]
    (img,) = acc.Images("fig")
    assert (img.height, img.width) == (20, 40)
    assert not plt.fignum_exists(fig.number)


def test_digits_demo_logs_its_curves(tmp_path):
    import importlib.util

    path = os.path.join(os.path.dirname(__file__), "..", "examples", "digits.py")
    spec = importlib.util.spec_from_file_location("digits_tb", path)
    digits = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(digits)
    x = torch.randn(4, 1, 8, 8)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, torch.tensor([0, 1, 2, 3])), batch_size=4)
    history = {"train_loss": [2.0, 1.0], "test_loss": [2.5, 1.5], "test_acc": [0.5, 0.75]}
    digits.log_tensorboard({"model": digits.Net(), "history": history,
                            "test_loader": loader}, str(tmp_path))
    acc = _read(tmp_path)
    assert [e.value for e in acc.Scalars("accuracy/test")] == [0.5, 0.75]
    assert [e.step for e in acc.Scalars("accuracy/test")] == [1, 2]
    assert [e.value for e in _read(tmp_path / "loss_test").Scalars("loss")] == [2.5, 1.5]
    assert any(n.op.startswith("Conv") for n in acc.Graph().node)
    assert "features.0.weight" in acc.Tags()["histograms"]
