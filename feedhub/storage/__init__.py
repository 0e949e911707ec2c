"""All SQL lives here: one module per table, one transaction per poll of a source.

``Store`` is the facade the rest of feedhub uses.
"""
from __future__ import annotations

from .store import DuplicateError, NotFoundError, Store

__all__ = ["DuplicateError", "NotFoundError", "Store"]
