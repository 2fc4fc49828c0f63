"""Summary protos for each kind of record: scalars, histograms, images, text, hparams.

Every function returns a ``Summary`` (TensorBoard's own proto, from the ``tensorboard``
package) ready to go into an ``Event``. Values arrive as Tensors, NumPy arrays or Python
numbers; ``to_numpy`` turns them into arrays once.
"""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np
from google.protobuf import struct_pb2
from tensorboard.compat.proto.histogram_pb2 import HistogramProto
from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.hparams import api_pb2
from tensorboard.plugins.hparams import metadata as hp_metadata
from tensorboard.plugins.hparams import plugin_data_pb2 as hp_data
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorboard.plugins.text import metadata as text_metadata

from ..._tensor import Tensor


def to_numpy(value) -> np.ndarray:
    """A Tensor (detached), array, list or number as a NumPy array."""
    if isinstance(value, Tensor):
        return np.array(value.detach()._data)
    return np.asarray(value)


def _scalar_value(value) -> float:
    arr = to_numpy(value)
    if arr.size != 1:
        raise ValueError(f"scalar value must be a single number, got shape {arr.shape}")
    return arr.reshape(()).item()


def scalar(tag: str, value, new_style: bool = False, double_precision: bool = False) -> Summary:
    """A scalar: ``simple_value`` (classic), or a 0-d tensor for the scalars plugin."""
    number = _scalar_value(value)
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=float(number))])
    if double_precision:
        tensor = TensorProto(dtype="DT_DOUBLE", double_val=[float(number)])
    else:
        tensor = TensorProto(dtype="DT_FLOAT", float_val=[float(number)])
    meta = scalar_metadata.create_summary_metadata(display_name="", description="")
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=meta)])


def _tensorflow_edges() -> np.ndarray:
    """TensorBoard's classic bucket edges: +-1e-12 growing by 10% a step up to 1e20, and 0."""
    k = math.ceil(math.log(1e20 / 1e-12) / math.log(1.1))
    pos = 1e-12 * 1.1 ** np.arange(k + 1)
    return np.concatenate([-pos[::-1], [0.0], pos])


def _merge_buckets(limits: np.ndarray, counts: np.ndarray, max_bins: int):
    """Sum neighbouring buckets until at most ``max_bins`` remain."""
    group = math.ceil(len(counts) / max_bins)
    pad = (-len(counts)) % group
    counts = np.concatenate([counts, np.zeros(pad, counts.dtype)]).reshape(-1, group).sum(1)
    ends = np.arange(group - 1, len(limits) + pad, group)
    limits = np.concatenate([limits, np.full(pad, limits[-1])])[ends]
    return limits, counts


def histogram(tag: str, values, bins="tensorflow", max_bins: int | None = None) -> Summary:
    """A histogram: ``bins`` is "tensorflow" (exponential buckets around zero), an int, a
    NumPy bin rule ("auto", "fd", ...) or a sequence of edges."""
    x = to_numpy(values).astype(np.float64).ravel()
    if x.size == 0:
        raise ValueError("The histogram is empty, please file a bug report.")
    if not np.all(np.isfinite(x)):
        raise ValueError("add_histogram: values must be finite (got NaN or inf)")
    if isinstance(bins, str) and bins == "tensorflow":
        edges = _tensorflow_edges()
        counts, _ = np.histogram(x, bins=np.concatenate([[-np.inf], edges, [np.inf]]))
        limits = np.concatenate([edges, [np.finfo(np.float64).max]])
        # Keep the occupied range and one empty bucket on each side, as TensorBoard expects.
        nz = np.nonzero(counts)[0]
        lo, hi = max(nz[0] - 1, 0), min(nz[-1] + 2, len(counts))
        limits, counts = limits[lo:hi], counts[lo:hi]
    else:
        counts, edges = np.histogram(x, bins=bins)
        limits = edges[1:]
    if max_bins is not None and len(counts) > max_bins:
        limits, counts = _merge_buckets(limits, counts, max_bins)
    hist = HistogramProto(
        min=float(x.min()), max=float(x.max()), num=float(x.size), sum=float(x.sum()),
        sum_squares=float(np.dot(x, x)), bucket_limit=limits.tolist(),
        bucket=counts.astype(np.float64).tolist())
    return Summary(value=[Summary.Value(tag=tag, histo=hist)])


def encode_png(image: np.ndarray) -> bytes:
    """A uint8 HWC image (1, 2, 3 or 4 channels) as PNG bytes: zlib, no filter."""
    h, w, c = image.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    rows = np.concatenate([np.zeros((h, 1), np.uint8), image.reshape(h, w * c)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))


def to_hwc(array: np.ndarray, dataformats: str) -> np.ndarray:
    """One image in ``dataformats`` (CHW, HWC, HW, ...) as HWC."""
    fmt = dataformats.upper()
    if len(fmt) != array.ndim or sorted(fmt) != sorted(set(fmt)) or not set(fmt) <= set("CHW"):
        raise ValueError(f"dataformats {dataformats!r} does not fit an image of shape "
                         f"{array.shape}")
    if "C" not in fmt:
        array, fmt = array[..., None], fmt + "C"
    return np.transpose(array, [fmt.index(k) for k in "HWC"])


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] scaled to 0..255; integer images kept (clipped to 0..255)."""
    if array.dtype.kind in "fc":
        array = np.clip(array.real, 0.0, 1.0) * 255.0 + 0.5
    return np.clip(array, 0, 255).astype(np.uint8)


def grid(images: np.ndarray, ncols: int = 8) -> np.ndarray:
    """NHWC images tiled into one HWC image, ``ncols`` per row (empty cells are black)."""
    n, h, w, c = images.shape
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    canvas = np.zeros((nrows * h, ncols * w, c), images.dtype)
    for i in range(n):
        r, col = divmod(i, ncols)
        canvas[r * h:(r + 1) * h, col * w:(col + 1) * w] = images[i]
    return canvas


def image(tag: str, hwc: np.ndarray) -> Summary:
    """A uint8 HWC image as an ``Image`` summary (PNG)."""
    h, w, c = hwc.shape
    img = Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=encode_png(hwc))
    return Summary(value=[Summary.Value(tag=tag, image=img)])


def text(tag: str, text_string: str) -> Summary:
    """A string for the text plugin, under ``tag + "/text_summary"`` as PyTorch names it."""
    tensor = TensorProto(dtype="DT_STRING", string_val=[str(text_string).encode("utf-8")],
                         tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    meta = text_metadata.create_summary_metadata(display_name=tag, description="")
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", tensor=tensor,
                                        metadata=meta)])


def _hp_value(name: str, value, info: api_pb2.HParamInfo, discrete) -> dict:
    """Fill ``info``'s type (and its discrete domain) from ``value``; the struct field."""
    if isinstance(value, bool):
        info.type = api_pb2.DATA_TYPE_BOOL
        if discrete is not None:
            info.domain_discrete.extend([bool(v) for v in discrete])
        return {"bool_value": value}
    if isinstance(value, (int, float)):
        info.type = api_pb2.DATA_TYPE_FLOAT64
        if discrete is not None:
            info.domain_discrete.extend([float(v) for v in discrete])
        return {"number_value": float(value)}
    if isinstance(value, str):
        info.type = api_pb2.DATA_TYPE_STRING
        if discrete is not None:
            info.domain_discrete.extend([str(v) for v in discrete])
        return {"string_value": value}
    if isinstance(value, Tensor):
        info.type = api_pb2.DATA_TYPE_FLOAT64
        return {"number_value": _scalar_value(value)}
    raise ValueError(f"value of hparam {name!r} must be bool, int, float, str or Tensor, "
                     f"got {type(value).__name__}")


def hparams(hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None):
    """The three summaries of the hparams plugin: experiment, session start, session end."""
    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise TypeError("hparam_dict and metric_dict should be dictionaries.")
    domains = hparam_domain_discrete or {}
    infos, start = [], hp_data.SessionStartInfo()
    for name, value in hparam_dict.items():
        info = api_pb2.HParamInfo(name=name)
        if value is None:
            continue
        field = _hp_value(name, value, info, domains.get(name))
        start.hparams[name].CopyFrom(struct_pb2.Value(**field))
        infos.append(info)
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=k)) for k in metric_dict]
    experiment = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics)
    end = hp_data.SessionEndInfo(status=api_pb2.STATUS_SUCCESS)

    def wrap(tag: str, **field) -> Summary:
        data = hp_data.HParamsPluginData(version=hp_metadata.PLUGIN_DATA_VERSION, **field)
        meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
            plugin_name=hp_metadata.PLUGIN_NAME, content=data.SerializeToString()))
        return Summary(value=[Summary.Value(tag=tag, metadata=meta)])

    return (wrap(hp_metadata.EXPERIMENT_TAG, experiment=experiment),
            wrap(hp_metadata.SESSION_START_INFO_TAG, session_start_info=start),
            wrap(hp_metadata.SESSION_END_INFO_TAG, session_end_info=end))
