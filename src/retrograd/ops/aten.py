"""``retrograd.ops.aten``: PyTorch's operator namespace (``torch.ops.aten.NAME.default``)
for the ops PyTorch's own tests call that way. Each name is the public function, with
``.default`` (its one overload) pointing back at it."""

from __future__ import annotations

from .native import (
    max_pool2d_with_indices_backward,
    native_batch_norm,
    native_dropout_backward,
    native_group_norm,
    native_layer_norm,
)

__all__ = ["max_pool2d_with_indices_backward", "native_batch_norm", "native_dropout_backward",
           "native_group_norm", "native_layer_norm"]

for _fn in (max_pool2d_with_indices_backward, native_batch_norm, native_dropout_backward,
            native_group_norm, native_layer_norm):
    _fn.default = _fn
