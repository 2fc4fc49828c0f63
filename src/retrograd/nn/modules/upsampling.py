"""PyTorch's module path for the upsampling layers; they live in ``vision``."""

from .vision import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]
