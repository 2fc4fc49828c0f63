"""Data parallelism: ``DistributedDataParallel`` over ``retrograd.distributed`` (MPI)."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
