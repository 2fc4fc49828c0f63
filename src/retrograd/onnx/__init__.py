"""Export to ONNX with ``torch.onnx``'s API (needs the ``onnx`` extra:
``pip install retrograd[onnx]``).

>>> import io, retrograd as torch
>>> model = torch.nn.Linear(3, 2)
>>> proto = torch.onnx.export(model, (torch.randn(1, 3),), io.BytesIO())
>>> [n.op_type for n in proto.graph.node]
['Gemm', 'Identity']
"""

from . import errors
from ._export import TrainingMode, export, is_in_onnx_export
from .errors import OnnxExporterError, UnsupportedOperatorError

__all__ = ["OnnxExporterError", "TrainingMode", "UnsupportedOperatorError", "errors",
           "export", "is_in_onnx_export"]
