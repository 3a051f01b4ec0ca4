"""Reusable widgets; each carries its own DEFAULT_CSS."""

from .nav import NavBar
from .records import RecordTable
from .stat import StatCard

__all__ = ["NavBar", "RecordTable", "StatCard"]
