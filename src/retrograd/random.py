"""Random numbers: ``Generator``, ``manual_seed``, ``seed``, ``get_rng_state``.

Built on NumPy's PCG64 generator. Seeding gives reproducible streams, but not the same
numbers as PyTorch's Mersenne Twister: copy weights across, never seeds.
"""

from __future__ import annotations

import numpy as np

from ._device import device as Device
from ._tensor import wrap

__all__ = ["Generator", "default_generator", "get_rng_state", "initial_seed", "manual_seed",
           "seed", "set_rng_state"]


class Generator:
    """A source of random numbers, as ``torch.Generator``."""

    def __init__(self, device="cpu") -> None:
        self.device = Device(device)
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed & ((1 << 64) - 1)))
        return self

    def seed(self) -> int:
        s = int(np.random.SeedSequence().entropy) & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        state = self._rng.bit_generator.state
        blob = np.frombuffer(repr(state).encode(), dtype=np.uint8).copy()
        return wrap(blob)

    def set_state(self, new_state) -> Generator:
        import ast

        text = bytes(np.asarray(new_state._data, dtype=np.uint8)).decode()
        self._rng.bit_generator.state = ast.literal_eval(text)
        return self

    @property
    def numpy(self) -> np.random.Generator:
        return self._rng


default_generator = Generator()


def rng(generator: Generator | None = None) -> np.random.Generator:
    return (generator or default_generator)._rng


def manual_seed(seed: int) -> Generator:
    """Seed the default generator; returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)
