"""onnx.export: exported models run in onnxruntime and agree with retrograd."""

import importlib.util
import io
import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retrograd as torch
from retrograd import nn
from retrograd.autograd.grad_mode import state
from retrograd.onnx.errors import OnnxExporterError, UnsupportedOperatorError

F = nn.functional


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _outputs(value):
    if isinstance(value, torch.Tensor):
        return [value]
    out = []
    for v in value:
        out += _outputs(v)
    return out


def export_and_run(model, args, run_args=None, atol=1e-5, **kw):
    """Export, run in onnxruntime on ``run_args`` (default ``args``), compare with the
    model; returns the ModelProto."""
    args = args if isinstance(args, tuple) else (args,)
    buf = io.BytesIO()
    proto = torch.onnx.export(model, args, buf, **kw)
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    run_args = args if run_args is None else run_args
    feeds = {i.name: a.numpy() for i, a in zip(sess.get_inputs(), _outputs(run_args))}
    got = sess.run(None, feeds)
    model.eval()
    with torch.no_grad():
        want = _outputs(model(*run_args))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == tuple(w.shape)
        np.testing.assert_allclose(g, w.numpy(), atol=atol, rtol=1e-5)
    return proto


def op_types(proto):
    return {n.op_type for n in proto.graph.node}


def _digits():
    path = os.path.join(os.path.dirname(__file__), "..", "examples", "digits.py")
    spec = importlib.util.spec_from_file_location("digits_onnx", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_mlp_gemm_and_initializers_named_by_module_path():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3, bias=False), nn.Tanh())
    proto = export_and_run(model, torch.randn(5, 4), input_names=["x"], output_names=["y"])
    assert [i.name for i in proto.graph.initializer] == ["0.weight", "0.bias", "2.weight"]
    init = {i.name: i for i in proto.graph.initializer}
    from onnx import numpy_helper

    np.testing.assert_array_equal(numpy_helper.to_array(init["0.weight"]),
                                  model[0].weight.detach().numpy())
    assert "Gemm" in op_types(proto)
    assert [i.name for i in proto.graph.input] == ["x"]
    assert [o.name for o in proto.graph.output] == ["y"]


def test_digits_net_with_dynamic_batch(tmp_path):
    torch.manual_seed(0)
    model = _digits().Net()
    path = tmp_path / "digits.onnx"
    torch.onnx.export(model, (torch.randn(2, 1, 8, 8),), str(path), input_names=["image"],
                      output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})

    proto = onnx.load(str(path))
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert {"Conv", "MaxPool", "Relu", "Gemm", "Reshape"} <= op_types(proto)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (7, 1):
        x = torch.randn(batch, 1, 8, 8)
        (got,) = sess.run(None, {"image": x.numpy()})
        model.eval()
        with torch.no_grad():
            np.testing.assert_allclose(got, model(x).numpy(), atol=1e-5)


def test_dynamic_axes_list_form_names_the_dims():
    model = nn.Sequential(nn.Linear(3, 2), nn.Softmax(dim=-1))
    proto = export_and_run(model, torch.randn(4, 3), run_args=(torch.randn(9, 3),),
                           input_names=["x"], dynamic_axes={"x": [0], "output": [0]})
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "x_dynamic_axes_1"


@pytest.mark.parametrize("make,op", [
    (lambda: nn.LSTM(3, 5, num_layers=2, batch_first=True), "LSTM"),
    (lambda: nn.GRU(3, 5, num_layers=2, batch_first=True, bidirectional=True), "GRU"),
    (lambda: nn.RNN(3, 5, nonlinearity="relu", batch_first=True), "RNN"),
], ids=["lstm", "gru", "rnn"])
def test_recurrent_layers_as_onnx_ops_with_dynamic_batch_and_length(make, op):
    torch.manual_seed(0)
    model = make()
    axes = {"x": {0: "batch", 1: "time"}, "y": {0: "batch", 1: "time"}, "h": {1: "batch"}}
    names = ["y", "h"] if op != "LSTM" else ["y", "h", "c"]
    if op == "LSTM":
        axes["c"] = {1: "batch"}
    proto = export_and_run(model, torch.randn(2, 4, 3), run_args=(torch.randn(3, 7, 3),),
                           input_names=["x"], output_names=names, dynamic_axes=axes)
    assert op in op_types(proto)
    assert "weight_ih_l0" in [i.name for i in proto.graph.initializer]


def test_lstm_with_projection_traces_unrolled():
    torch.manual_seed(0)
    proto = export_and_run(nn.LSTM(3, 5, proj_size=2), torch.randn(4, 2, 3))
    assert "LSTM" not in op_types(proto) and "Sigmoid" in op_types(proto)


def test_lstm_with_initial_state_and_bidirectional():
    torch.manual_seed(1)
    model = nn.LSTM(3, 4, bidirectional=True)
    h = (torch.randn(2, 2, 4), torch.randn(2, 2, 4))
    export_and_run(model, (torch.randn(5, 2, 3), h))


def test_transformer_encoder_eval():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True)
    model = nn.TransformerEncoder(layer, 2)
    model.train()
    torch.onnx.export(model, (torch.randn(2, 5, 8),), io.BytesIO())
    assert model.training and model.layers[0].dropout1.training  # the mode is put back
    proto = export_and_run(model, torch.randn(2, 5, 8), atol=2e-5)
    assert "LayerNormalization" in op_types(proto) and "Softmax" in op_types(proto)


def _x4():
    return torch.randn(2, 3, 7, 7)


def _x2():
    return torch.randn(3, 4)


# name, module, input maker, ONNX ops that must appear
ROWS = [
    ("add_sub_mul_div", Lambda(lambda x: (x + 1) * 2 - x / (x.abs() + 3) - 2 / (x.abs() + 1)),
     _x2, {"Add", "Sub", "Mul", "Div"}),
    ("neg_exp_log_sqrt_pow", Lambda(lambda x: -x.exp() + x.abs().add(1).log()
                                    + x.abs().sqrt() + x ** 2 + x.abs() ** x), _x2,
     {"Neg", "Exp", "Log", "Sqrt", "Pow"}),
    ("relu_sigmoid_tanh", nn.Sequential(nn.ReLU(), nn.Sigmoid(), nn.Tanh()), _x2,
     {"Relu", "Sigmoid", "Tanh"}),
    ("leaky_relu", nn.LeakyReLU(0.2), _x2, {"LeakyRelu"}),
    ("elu", nn.ELU(0.7), _x2, {"Where", "Greater"}),
    ("gelu", nn.GELU(), _x2, {"Gelu"}),
    ("gelu_tanh", nn.GELU(approximate="tanh"), _x2, {"Gelu"}),
    ("softplus", nn.Softplus(), _x2, {"Softplus"}),
    ("softplus_beta", nn.Softplus(beta=2.0), _x2, {"Softplus"}),
    ("hardtanh_relu6", nn.Sequential(nn.Hardtanh(-0.5, 0.5), nn.ReLU6()), _x2, {"Clip"}),
    ("clamp", Lambda(lambda x: x.clamp(min=-0.3) + x.clamp(max=0.2) + x.clamp(-1, 1)), _x2,
     {"Clip"}),
    ("softmax_logsoftmax", Lambda(lambda x: F.softmax(x, 0) + F.log_softmax(x, -1)), _x2,
     {"Softmax", "LogSoftmax"}),
    ("matmul", Lambda(lambda x: x @ x.t()), _x2, {"MatMul", "Transpose"}),
    ("linear_3d", nn.Linear(4, 2), lambda: torch.randn(2, 3, 4), {"MatMul"}),
    ("conv_pad_stride", nn.Conv2d(3, 4, 3, stride=2, padding=1, dilation=1, groups=1), _x4,
     {"Conv"}),
    ("conv1d_groups", nn.Conv1d(4, 4, 3, groups=2, dilation=2), lambda: torch.randn(2, 4, 9),
     {"Conv"}),
    ("conv_transpose", nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
     _x4, {"ConvTranspose"}),
    ("max_pool_ceil", nn.MaxPool2d(3, 2, padding=1, ceil_mode=True), _x4, {"MaxPool"}),
    ("avg_pool", nn.AvgPool2d(3, 2, padding=1, count_include_pad=False), _x4,
     {"AveragePool"}),
    ("avg_pool_ceil_traced", nn.AvgPool2d(3, 2, ceil_mode=True), _x4, {"Conv"}),
    ("avg_pool_fn_traced", Lambda(lambda x: F.avg_pool1d(x, 2)), _x2, set()),
    ("adaptive_avg_pool_1", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), _x4,
     {"GlobalAveragePool"}),
    ("adaptive_avg_pool_2_traced", nn.AdaptiveAvgPool2d((2, 3)), _x4, {"MatMul"}),
    ("batch_norm_eval", nn.BatchNorm2d(3), _x4, {"BatchNormalization"}),
    ("batch_norm1d_no_affine", nn.BatchNorm1d(4, affine=False), _x2, {"BatchNormalization"}),
    ("layer_norm", nn.LayerNorm(4), _x2, {"LayerNormalization"}),
    ("layer_norm_fn", Lambda(lambda x: F.layer_norm(x, (3, 4))), _x2, {"LayerNormalization"}),
    ("dropout_eval", nn.Sequential(nn.Dropout(0.5), nn.Linear(4, 2)), _x2, {"Gemm"}),
    ("flatten_reshape_transpose", Lambda(lambda x: x.flatten(1).reshape(2, 7, -1)
                                         .transpose(1, 2).permute(2, 0, 1)), _x4,
     {"Reshape", "Transpose"}),
    ("concat_stack_unsqueeze_squeeze", Lambda(lambda x: torch.cat(
        [x, torch.stack([x, x], 0).squeeze(0)[1], x.unsqueeze(0).squeeze(0)], 1)), _x2,
     {"Concat", "Unsqueeze", "Squeeze"}),
    ("slice_select", Lambda(lambda x: x[:, 1:3] + x[1:2, ::2].flip(1) + x[-1, None, :2]),
     _x2, {"Slice"}),
    ("chunk_split", Lambda(lambda x: x.chunk(2, dim=1)[1] * x.split([1, 3], 1)[0]), _x2,
     {"Split"}),
    ("comparison_functions", Lambda(lambda x: torch.where(torch.gt(x, 0), x, 0.0)
                                    + torch.le(x, 0.5) * 1.0 + (x != 0) * 2.0), _x2,
     {"Greater", "LessOrEqual", "Not"}),
    ("detach_alias", Lambda(lambda x: x.detach() * 2 + x.exp().detach()), _x2, {"Mul"}),
    ("pad_repeat_cumsum", Lambda(lambda x: F.pad(x, (1, 0, 2, 1), value=3.0).repeat(2, 1)
                                 .cumsum(0)), _x2, {"Pad", "Tile", "CumSum"}),
    ("norm_prod_masked_fill", Lambda(lambda x: F.normalize(x, dim=1) * x.norm(p=3)
                                     + x.prod(1, keepdim=True) + x.masked_fill(x < 0, -1.0)),
     _x2, {"ReduceL2", "ReduceProd", "Where", "Less"}),
    ("sum_mean", Lambda(lambda x: x.sum(1, keepdim=True) + x.mean(0) + x.sum()), _x2,
     {"ReduceSum", "ReduceMean"}),
]


@pytest.mark.parametrize("name,model,make,ops", ROWS, ids=[r[0] for r in ROWS])
def test_op_rows(name, model, make, ops):
    torch.manual_seed(0)
    if name.startswith("batch_norm"):  # running statistics that are not 0 and 1
        model.train()
        with torch.no_grad():
            model(make() * 2 + 1)
    # Run on other values than the traced ones: nothing input-dependent may be baked in.
    proto = export_and_run(model, make(), run_args=(make(),))
    assert ops <= op_types(proto)


def test_embedding_gather_with_integer_input():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 2))
    idx = torch.tensor([[1, 2, 9], [0, 3, 3]])
    proto = export_and_run(model, idx, run_args=(torch.tensor([[5, 6, 7], [8, 0, 1]]),))
    assert "Gather" in op_types(proto)
    assert "0.weight" in [i.name for i in proto.graph.initializer]


@pytest.mark.parametrize("opset", [14, 17])
def test_older_opsets_decompose_gelu_and_layer_norm(opset):
    model = nn.Sequential(nn.LayerNorm(4), nn.GELU(), nn.Linear(4, 2))
    proto = export_and_run(model, _x2(), opset_version=opset)
    assert proto.opset_import[0].version == opset
    assert "Gelu" not in op_types(proto)
    assert ("LayerNormalization" in op_types(proto)) == (opset >= 17)


def test_export_params_false_makes_parameters_inputs():
    model = nn.Linear(3, 2)
    buf = io.BytesIO()
    proto = torch.onnx.export(model, (torch.randn(1, 3),), buf, export_params=False)
    assert [i.name for i in proto.graph.input] == ["input", "weight", "bias"]
    assert not proto.graph.initializer
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    x = np.ones((1, 3), np.float32)
    (got,) = sess.run(None, {"input": x, "weight": model.weight.detach().numpy(),
                             "bias": model.bias.detach().numpy()})
    np.testing.assert_allclose(got, model(torch.tensor(x)).detach().numpy(), atol=1e-6)


def test_unsupported_op_raises_naming_it_and_leaves_no_tracer():
    model = Lambda(lambda x: torch.cumprod(x, 0))
    with pytest.raises(UnsupportedOperatorError, match="CumprodBackward0") as info:
        torch.onnx.export(model, (_x2(),), io.BytesIO())
    assert isinstance(info.value, OnnxExporterError) and isinstance(info.value, RuntimeError)
    assert state.tracer is None and not state.special
    assert not torch.onnx.is_in_onnx_export()
    with pytest.raises(UnsupportedOperatorError, match="indices of max pooling"):
        torch.onnx.export(Lambda(lambda x: F.max_pool2d(x, 2, return_indices=True)[1] + 0.0),
                          (_x4(),), io.BytesIO())
    with pytest.raises(ValueError, match="opset"):
        torch.onnx.export(nn.ReLU(), (_x2(),), io.BytesIO(), opset_version=5)


def test_input_dependent_value_made_outside_ops_is_refused():
    # A mask built through NumPy would be frozen into the graph as a constant.
    model = Lambda(lambda x: x * torch.tensor((x.numpy() > 0).astype(np.float32)))
    with pytest.raises(OnnxExporterError, match="outside retrograd's ops"):
        torch.onnx.export(model, (_x2(),), io.BytesIO())
    # A constant that does not depend on the input is fine.
    export_and_run(Lambda(lambda x: x * torch.arange(4.0)), _x2(), run_args=(_x2(),))

    def picky(x):
        if x[0, 0].item() != 1.0:  # only the traced values are acceptable
            raise ValueError("unexpected input")
        return x * 2

    x = torch.ones(3, 4)
    x[2, 3] = 3.0  # rotated to [0, 0] in the second trace
    with pytest.warns(UserWarning, match="did not run on other input values"):
        torch.onnx.export(Lambda(picky), (x,), io.BytesIO())


class _InPlace(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        y = self.act(self.fc(x))
        y.mul_(2)
        y += 1
        return F.elu(y, inplace=True)


def test_in_place_ops_are_followed():
    torch.manual_seed(0)
    export_and_run(_InPlace(), _x2(), run_args=(_x2(),))


def test_in_place_write_the_trace_cannot_see_is_refused():
    def write(x):
        y = x.clone()
        y[:, 0] = 5.0
        return y * 2

    with pytest.raises(OnnxExporterError, match="modified in place"):
        torch.onnx.export(Lambda(write), (_x2(),), io.BytesIO())


def test_training_mode_dropout_is_onnx_dropout_and_export_flag():
    seen = []

    def forward(x):
        seen.append(torch.onnx.is_in_onnx_export())
        return x * 1.0

    model = nn.Sequential(Lambda(forward), nn.Dropout(0.5))
    buf = io.BytesIO()
    proto = torch.onnx.export(model, (torch.ones(64, 8),), buf,
                              training=torch.onnx.TrainingMode.TRAINING)
    assert seen == [True] and not torch.onnx.is_in_onnx_export()
    assert "Dropout" in op_types(proto)
    # onnxruntime's graph optimizer drops Dropout nodes even in training mode.
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(buf.getvalue(), options, providers=["CPUExecutionProvider"])
    (got,) = sess.run(None, {sess.get_inputs()[0].name: np.ones((64, 8), np.float32)})
    assert set(np.unique(got)) == {0.0, 2.0}  # kept values scaled by 1 / (1 - p)
    assert 0.3 < (got == 0).mean() < 0.7


@st.composite
def _basic_index(draw):
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    items = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "full", "none"]))
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-n - 1, n)))
            stop = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            step = draw(st.sampled_from([None, 1, 2, 3]))
            items.append(slice(start, stop, step))
        elif kind == "none":
            items += [None, slice(None)]
        else:
            items.append(slice(None))
    return tuple(shape), tuple(items)


@settings(max_examples=25, deadline=None)
@given(_basic_index())
def test_basic_indexing_matches_numpy(case):
    shape, idx = case
    x = torch.randn(*shape)
    want = x.numpy()[idx]
    if want.size == 0:
        return  # ONNX Slice agrees, but an empty graph output is not interesting
    export_and_run(Lambda(lambda t: t[idx] * 1.0), x, run_args=(torch.randn(*shape),))
