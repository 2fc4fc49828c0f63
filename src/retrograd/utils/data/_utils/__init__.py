"""Helpers of ``DataLoader``: collation."""

from . import collate
