"""Entries and activities ↔ JSON text for the ``data`` columns."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..models import Activity, BoxArt, Entry, Kind, Title, Verb


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _plain(value: Any) -> dict[str, Any]:
    """A dataclass as a dict, nested dataclasses too. ``dataclasses.asdict`` deep-copies
    every value, which made it the costliest step of storing a poll."""
    return {
        name: _plain(field) if hasattr(field, "__dataclass_fields__") else field
        for name, field in value.__dict__.items()
    }


def dump(value: Entry | Activity) -> str:
    return json.dumps(_plain(value), default=_default, sort_keys=True, ensure_ascii=False)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _title(data: dict[str, Any]) -> Title:
    return Title(**{**data, "box_art": BoxArt(**data.get("box_art") or {})})


def load_entry(text: str) -> Entry:
    data = json.loads(text)
    return Entry(
        **{
            **data,
            "kind": Kind(data["kind"]),
            "title": _title(data["title"]),
            "updated": _when(data.get("updated")),
            "watched_at": _when(data.get("watched_at")),
        }
    )


def load_activity(text: str) -> Activity:
    data = json.loads(text)
    return Activity(
        **{
            **data,
            "verb": Verb(data["verb"]),
            "title": _title(data["title"]),
            "occurred_at": _when(data["occurred_at"]),
        }
    )
