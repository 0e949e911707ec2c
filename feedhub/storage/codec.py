"""Entries and activities ↔ JSON text for the ``data`` columns."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import orjson

from ..models import Activity, BoxArt, Entry, Kind, Title, Verb


# Keys in field order, not sorted: the text is only ever read back through
# load_entry/load_activity, which take any order (older rows have sorted keys and
# spaces after separators: the same JSON). orjson writes it three times faster than
# the json module, and reads it faster too.
_DATETIME_FIELDS = ("updated", "watched_at", "occurred_at")


def _plain(value: Entry | Activity) -> dict[str, Any]:
    """An entry or activity as a dict: copies of the dataclasses' own dicts (their only
    nested dataclasses are the title and its box art), datetimes as ISO text.
    ``dataclasses.asdict`` deep-copies every value, which made it the costliest step of
    storing a poll; a generic walk with a test per field was the next."""
    data = dict(value.__dict__)
    title = data["title"] = dict(value.title.__dict__)
    title["box_art"] = dict(value.title.box_art.__dict__)
    for name in _DATETIME_FIELDS:
        moment = data.get(name)
        if isinstance(moment, datetime):
            data[name] = moment.isoformat()
    return data


def dump(value: Entry | Activity) -> str:
    data = _plain(value)
    try:
        return orjson.dumps(data).decode()
    except TypeError:  # what orjson refuses (a lone surrogate, a number past 64 bits) json writes
        return json.dumps(data, ensure_ascii=False)


def _loads(text: str) -> dict[str, Any]:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # what the fallback of ``dump`` wrote
        return json.loads(text)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _title(data: dict[str, Any]) -> Title:
    return Title(**{**data, "box_art": BoxArt(**data.get("box_art") or {})})


def load_entry(text: str) -> Entry:
    data = _loads(text)
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
    data = _loads(text)
    return Activity(
        **{
            **data,
            "verb": Verb(data["verb"]),
            "title": _title(data["title"]),
            "occurred_at": _when(data["occurred_at"]),
        }
    )
