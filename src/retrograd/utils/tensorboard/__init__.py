"""TensorBoard logging with ``torch.utils.tensorboard``'s API (needs the ``tensorboard``
extra: ``pip install retrograd[tensorboard]``)."""

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
