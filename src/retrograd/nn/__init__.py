"""Neural-network building blocks (filled in by the nn work)."""

from . import functional
