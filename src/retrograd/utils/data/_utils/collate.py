"""``default_collate`` and ``default_convert``: samples to batches, as PyTorch's.

Tensors (and NumPy arrays) are stacked along a new first dimension, Python numbers become
1-d tensors, strings stay lists, and containers (dicts, namedtuples, lists, tuples) are
collated element by element.
"""

from __future__ import annotations

import collections.abc
import re

import numpy as np

from ...._dtype import float64
from ...._tensor import Tensor, wrap
from ....backend import xp
from ....ops.creation import as_tensor, tensor

__all__ = ["default_collate", "default_convert"]

_np_str_obj = re.compile(r"[SaUO]")

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
        "lists; found {}")


def _stack(batch) -> Tensor:
    """Stack equally shaped tensors (a data batch: no autograd graph is recorded)."""
    arrays = [t._data for t in batch]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                           f"{[list(a.shape) for a in arrays]}")
    return wrap(xp(arrays[0]).stack(arrays, 0))


def default_convert(data):
    """Turn NumPy arrays (and arrays inside containers) into tensors; leave the rest."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) and not _np_str_obj.search(data.dtype.str):
        return as_tensor(data)
    if isinstance(data, np.generic) and not _np_str_obj.search(data.dtype.str):
        return as_tensor(data)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        try:
            return type(data)({k: default_convert(v) for k, v in data.items()})
        except TypeError:
            return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def default_collate(batch):
    """Collate a list of samples into a batch, following PyTorch's ``default_collate``.

    >>> default_collate([(1, 2.0), (3, 4.0)])
    [tensor([1, 3]), tensor([2., 4.], dtype=torch.float64)]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if _np_str_obj.search(elem.dtype.str):
            raise TypeError(_ERR.format(elem.dtype))
        return _stack([as_tensor(b) for b in batch])
    if isinstance(elem, np.generic):
        if _np_str_obj.search(elem.dtype.str):
            raise TypeError(_ERR.format(elem.dtype))
        return as_tensor(np.array(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, int):  # bool too: tensor() infers torch.bool
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                out = type(elem).__new__(type(elem))
                out.__init__()
                out.update(collated)
                return out
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(e) == size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [default_collate(samples) for samples in transposed]
        try:
            return type(elem)([default_collate(samples) for samples in transposed])
        except TypeError:
            return [default_collate(samples) for samples in transposed]
    raise TypeError(_ERR.format(type(elem)))
