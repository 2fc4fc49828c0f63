"""Normalization layers: BatchNorm, InstanceNorm, LayerNorm, GroupNorm, RMSNorm, LRN.

All of them share one optional affine pair (``_add_affine``/``_reset_affine``): a ``weight``
starting at ones and a ``bias`` starting at zeros, or ``None`` slots when disabled.
BatchNorm and InstanceNorm also share the running statistics (``_NormBase``) and one input
rank check parameterised by the ranks each accepts.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

from ... import _dtype as dtypes
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops.creation import ones, tensor, zeros
from .. import functional as F
from .. import init
from ._params import optional_param
from ._shared import FunctionalModule
from .lazy import LazyModuleMixin, lazy_class
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "InstanceNorm1d",
           "InstanceNorm2d", "InstanceNorm3d", "LayerNorm", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
           "LocalResponseNorm", "RMSNorm"]


def _add_affine(module: Module, enabled: bool, shape: Any, bias: bool, device: Any,
                dtype: Any) -> None:
    """Register ``weight`` and ``bias`` of ``shape`` (or None slots) and initialise them."""
    optional_param(module, "weight", enabled, shape, device, dtype)
    optional_param(module, "bias", enabled and bias, shape, device, dtype)
    _reset_affine(module)


def _reset_affine(module: Module) -> None:
    """Identity transform: weight = 1, bias = 0 (whichever exist)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


def _as_shape(normalized_shape: Any) -> tuple[int, ...]:
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(normalized_shape)


class _NormBase(Module):
    """Per-channel normalization with optional affine and optional running statistics."""

    _version = 2
    _ranks: tuple[int, ...] = ()  # the input ranks forward accepts

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _add_affine(self, affine, (num_features,), bias, device, dtype)
        stats = {"running_mean": None, "running_var": None, "num_batches_tracked": None}
        if track_running_stats:
            stats = {"running_mean": zeros(num_features, device=device, dtype=dtype),
                     "running_var": ones(num_features, device=device, dtype=dtype),
                     "num_batches_tracked": tensor(0, dtype=dtypes.long, device=device)}
        for name, value in stats.items():
            self.register_buffer(name, value)

    def _param_shapes(self) -> dict[str, tuple[int, ...]]:
        one = (self.num_features,)
        return {"weight": one, "bias": one, "running_mean": one, "running_var": one}

    def reset_running_stats(self) -> None:
        """Mean 0, variance 1, no batches seen."""
        if not self.track_running_stats:
            return
        with no_grad():
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() not in self._ranks:
            wanted = " or ".join(f"{r}D" for r in self._ranks)
            raise ValueError(f"expected {wanted} input (got {input.dim()}D input)")

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        # Checkpoints from before the batch counter existed (version < 2) lack it; keep ours.
        counter = prefix + "num_batches_tracked"
        old = local_metadata.get("version", 1) < 2
        if old and self.num_batches_tracked is not None and counter not in state_dict:
            state_dict[counter] = self.num_batches_tracked
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        momentum = self.momentum or 0.0
        counting = self.training and self.track_running_stats
        if counting and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative average over the batches seen
                momentum = 1.0 / float(self.num_batches_tracked)
        # Training normalises by the batch; so does eval when no statistics are kept.
        by_batch = self.training or self.running_mean is None
        # Training without tracking must not touch buffers a user may have attached.
        stats = (None, None) if self.training and not self.track_running_stats else (
            self.running_mean, self.running_var)
        return F.batch_norm(input, *stats, self.weight, self.bias, by_batch, momentum,
                            self.eps)


class BatchNorm1d(_BatchNorm):
    """BatchNorm over (N, C) or (N, C, L): per-channel batch statistics."""

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """BatchNorm over (N, C, H, W): per-channel batch statistics."""

    _ranks = (4,)


class BatchNorm3d(_BatchNorm):
    """BatchNorm over (N, C, D, H, W): per-channel batch statistics."""

    _ranks = (5,)


class _InstanceNorm(_NormBase):
    """Normalises each sample's channels over their spatial dims (``_ranks`` = unbatched,
    batched)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device, dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        unbatched = input.dim() == self._ranks[0]
        channels = input.shape[0 if unbatched else 1]
        if channels != self.num_features:
            where = 0 if unbatched else 1
            if self.affine:
                raise ValueError(
                    f"expected input's size at dim={where} to match num_features "
                    f"({self.num_features}), but got: {channels}.")
            warnings.warn(
                f"input's size at dim={where} does not match num_features. You can silence "
                "this warning by not passing in num_features, which is not used because "
                "affine=False", stacklevel=2)
        x = input.unsqueeze(0) if unbatched else input
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              self.momentum or 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """InstanceNorm over (N, C, L) or (C, L)."""

    _ranks = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """InstanceNorm over (N, C, H, W) or (C, H, W)."""

    _ranks = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """InstanceNorm over (N, C, D, H, W) or (C, D, H, W)."""

    _ranks = (4, 5)


class LayerNorm(Module):
    """Normalises over the trailing ``normalized_shape`` dims of each sample."""

    def __init__(self, normalized_shape: Any, eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _add_affine(self, elementwise_affine, self.normalized_shape, bias, device, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalises each of ``num_groups`` channel groups of each sample."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _add_affine(self, affine, (num_channels,), bias, device, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """x / sqrt(mean(x^2) + eps) over the trailing ``normalized_shape`` dims, times weight."""

    def __init__(self, normalized_shape: Any, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        optional_param(self, "weight", elementwise_affine, self.normalized_shape, device,
                       dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(FunctionalModule):
    """Divides each channel by a power of the summed squares of its ``size`` neighbours."""

    _fn, _args, _bare = "local_response_norm", ("size", "alpha", "beta", "k"), 1

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75,
                 k: float = 1.0) -> None:
        super().__init__(size, alpha, beta, k)


class _LazyNorm(LazyModuleMixin):
    """``num_features`` comes from the first input's channel dim."""

    _lazy_size_attr = "num_features"
    _lazy_buffers = ("running_mean", "running_var")

    def _lazy_size(self, input: Any) -> int:
        # The channel dim is 1, or 0 for an unbatched InstanceNorm input (PyTorch reads
        # dim 1 there too and then fails its own size check).
        unbatched = isinstance(self, _InstanceNorm) and input.dim() == self._ranks[0]
        return input.shape[0 if unbatched else 1]


def _lazy_norm(eager: type, affine: bool = True, track: bool = True) -> type:
    """The Lazy form of a BatchNorm/InstanceNorm class: no ``num_features`` argument."""

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = affine,
                 track_running_stats: bool = track, device=None, dtype=None, *,
                 bias: bool = True) -> None:
        eager.__init__(self, 0, eps, momentum, affine, track_running_stats, device, dtype,
                       bias=bias)
        self._make_lazy(device, dtype)

    return lazy_class(eager, _LazyNorm, __init__, __name__)


LazyBatchNorm1d = _lazy_norm(BatchNorm1d)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d)
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d)
