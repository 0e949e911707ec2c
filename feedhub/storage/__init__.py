"""All SQL lives here: one module per table; a poll's writes all or nothing (polls that
end together may share one transaction: see ``Store.save_polls`` and ``group_commit``).

``Store`` is the facade the rest of feedhub uses.
"""
from __future__ import annotations

from .store import DuplicateError, NotFoundError, Store

__all__ = ["DuplicateError", "NotFoundError", "Store"]
