"""Channels: the named, republished views over the accounts (SPEC §1, §6).

A channel is a named filter — which accounts, which kinds, a minimum rating, a text,
a first date — and who may read it: a *private* channel (the default) is read only
through the secret token in its URL, a *public* one by anyone. The query filters of a
request (``kind=``, ``q=``…) narrow a channel further, never widen it (``narrow``).

``all`` (every account, present and future) and one channel per account are made by
storage; they can be edited or removed like any other.

Pure: no storage, network, clock or app context. ``parse_spec`` turns what a person
typed (a form, JSON, command-line options) into a ``ChannelSpec`` and names the field
that is wrong when one is.
"""
from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from feedhub.merge import TimelineFilter, parse_filter
from feedhub.models import Activity, Kind
from feedhub.publish.text import names_in_words

ALL = "all"

# In URLs as /feeds/<name>.rss: no dot (the format's separator), no slash, no spaces.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
MAX_TITLE = 200
MAX_RATING = 5.0

_ID_PREFIX = "tag:feedhub,2026:channel:"


class ChannelError(ValueError):
    """A channel cannot be made as asked; the message starts with the field's name."""


@dataclass(frozen=True)
class ChannelSpec:
    """What a channel is: its name and words, its filter, and who may read it.

    ``None`` means "no condition": ``accounts=None`` is every account, including the
    ones added later; an empty set of accounts shows nothing.
    """

    name: str
    title: str
    description: str
    accounts: frozenset[str] | None = None
    kinds: frozenset[Kind] | None = None
    min_rating: float | None = None
    text: str | None = None
    since: datetime | None = None
    public: bool = False

    @property
    def scope(self) -> TimelineFilter:
        """The channel's own conditions as a timeline filter (default limit)."""
        return narrow(self, TimelineFilter())


@dataclass(frozen=True)
class Channel:
    """A stored channel: its spec, its secret token, and the account it was made for."""

    spec: ChannelSpec
    token: str = field(repr=False)  # secret: whoever has it reads the channel
    owner: str | None = None  # the account this channel was made for (removed with it)
    updated_at: datetime | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def readable_with(self, token: str | None) -> bool:
        """Whether a request carrying ``token`` (None: none) may read this channel."""
        if self.spec.public:
            return True
        return bool(token) and hmac.compare_digest(token.encode(), self.token.encode())


def narrow(spec: ChannelSpec, asked: TimelineFilter) -> TimelineFilter:
    """The filter of a request for ``spec``: both the channel's and the query's
    conditions hold, with the query's limit."""
    return TimelineFilter(
        kinds=_common_kinds(spec.kinds, asked.kinds),
        accounts=_both(spec.accounts, asked.accounts),
        min_rating=_highest(spec.min_rating, asked.min_rating),
        text=asked.text,
        channel_text=spec.text,
        since=_highest(spec.since, asked.since),
        limit=asked.limit,
    )


def shows(spec: ChannelSpec, account_name: str, activity: Activity) -> bool:
    """Whether the channel shows this activity of this account (WebSub pings ask)."""
    return spec.scope.matches(account_name, activity)


def _both(mine: frozenset[str] | None, asked: frozenset[str] | None) -> frozenset[str] | None:
    if mine is None:
        return asked
    return mine if asked is None else mine & asked


def _highest(mine: Any, asked: Any) -> Any:
    present = [value for value in (mine, asked) if value is not None]
    return max(present) if present else None


def _common_kinds(mine: frozenset[Kind] | None, asked: frozenset[Kind] | None) -> frozenset[Kind] | None:
    """The kinds whose activities both sets select.

    Compared by verb: ``queue_recent`` selects additions only, so ``queue`` and
    ``queue_recent`` have the additions in common, which ``queue_recent`` says.
    """
    if mine is None or asked is None:
        return asked if mine is None else mine
    common = TimelineFilter(kinds=mine).verbs & TimelineFilter(kinds=asked).verbs
    return frozenset(kind for kind in Kind if _verbs_of(kind) <= common)


def _verbs_of(kind: Kind) -> frozenset:
    return TimelineFilter(kinds=frozenset({kind})).verbs


def ordered(channels: Iterable[Channel]) -> list[Channel]:
    """``all`` first, then by name."""
    return sorted(channels, key=lambda channel: (channel.name != ALL, channel.name.casefold(), channel.name))


def describe(spec: ChannelSpec) -> list[str]:
    """The channel's conditions in words, for people."""
    said = ["every account" if spec.accounts is None else "accounts: " + (", ".join(sorted(spec.accounts)) or "none")]
    if spec.kinds is not None:
        said.append("kinds: " + ", ".join(sorted(kind.value.replace("_", " ") for kind in spec.kinds)))
    if spec.min_rating is not None:
        said.append(f"rated at least {spec.min_rating:g}")
    if spec.text:
        said.append(f"mentioning “{spec.text}”")
    if spec.since is not None:
        said.append(f"since {spec.since:%Y-%m-%d %H:%M} UTC")
    return said


def feed_id(name: str) -> str:
    """A stable ``tag:`` URI (RFC 4151) for the channel, the same in every format."""
    return _ID_PREFIX + quote(name, safe="")


def default_spec(name: str, accounts: frozenset[str] | None) -> ChannelSpec:
    """A channel with no condition but its accounts, titled and described after them."""
    return ChannelSpec(name=name, title=default_title(name), description=default_description(accounts), accounts=accounts)


def default_title(name: str) -> str:
    return f"feedhub — {name}"


def default_description(accounts: frozenset[str] | None) -> str:
    if accounts is None:
        return "What everyone on this feedhub watched, rated, queued and was recommended."
    if not accounts:
        return "Nothing yet: this channel has no account."
    return f"What {names_in_words(sorted(accounts))} watched, rated, queued and was recommended."


def name_for_account(account_name: str, taken: Iterable[str]) -> str:
    """A free channel name for an account's own channel: its name where it can be a
    channel name, else a form of it that can; ``-2``, ``-3``… when taken."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", account_name).strip("-_")[:60] or "account"
    if not base[0].isalnum():
        base = "a" + base
    taken = {name.casefold() for name in taken}
    candidate, number = base, 1
    while candidate.casefold() in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def parse_spec(values: Mapping[str, Any], base: ChannelSpec | None = None) -> ChannelSpec:
    """A ``ChannelSpec`` from what a person gave: form fields, JSON or options.

    Only the keys present change ``base`` (None: a new channel, which needs a name).
    Keys: ``name``, ``title``, ``description``, ``accounts`` (a list, a comma list, or
    ``None``/``"*"`` for every account), ``kinds`` (a list or a comma list), ``min_rating``,
    ``text``, ``since`` (RFC 3339 or YYYY-MM-DD), ``public``. Empty values clear a
    condition. Raises ``ChannelError`` naming the field.
    """
    unknown = set(values) - {f.name for f in fields(ChannelSpec)}
    if unknown:
        raise ChannelError(f"{sorted(unknown)[0]}: not a field of a channel")
    if base is None:
        base = ChannelSpec(name=_name(values.get("name")), title="", description="")
    changes: dict[str, Any] = {}
    if "name" in values:
        changes["name"] = _name(values["name"])
    if "title" in values:
        changes["title"] = _words("title", values["title"], MAX_TITLE)
    if "description" in values:
        changes["description"] = _words("description", values["description"], 2000)
    if "accounts" in values:
        changes["accounts"] = _accounts(values["accounts"])
    conditions = {key: values[key] for key in ("kinds", "min_rating", "text", "since") if key in values}
    if conditions:
        changes.update(_conditions(conditions))
    if "public" in values:
        changes["public"] = _flag("public", values["public"])
    spec = replace(base, **changes)
    return replace(
        spec,
        title=spec.title or default_title(spec.name),
        description=spec.description or default_description(spec.accounts),
    )


def _name(value: Any) -> str:
    name = _text("name", value).strip()
    if not NAME_PATTERN.fullmatch(name):
        raise ChannelError(
            f"name: {name!r} cannot be a channel name: use 1 to 64 letters, digits, '-' or '_', starting with a letter or digit"
        )
    return name


def _words(key: str, value: Any, longest: int) -> str:
    text = " ".join(_text(key, value).split())
    if len(text) > longest:
        raise ChannelError(f"{key}: at most {longest} characters, got {len(text)}")
    return text


def _items(key: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise ChannelError(f"{key}: expected a list, got {type(value).__name__}")
    items = [_text(key, item).strip() for item in value]
    return [item for item in items if item]


def _accounts(value: Any) -> frozenset[str] | None:
    if value is None or (isinstance(value, str) and value.strip() == "*"):
        return None
    return frozenset(_items("accounts", value))


def _conditions(values: Mapping[str, Any]) -> dict[str, Any]:
    """The filter fields, read by the same parser as a feed's query (``merge.parse_filter``)."""
    query: dict[str, str] = {}
    if "kinds" in values:
        query["kind"] = ",".join(_items("kinds", values["kinds"]))
    for key, parameter in (("min_rating", "min_rating"), ("text", "q"), ("since", "since")):
        if key in values:
            query[parameter] = _text(key, values[key])
    try:
        parsed = parse_filter(query)
    except ValueError as exc:
        # The parser names the query parameter; a channel calls two of them differently.
        message = str(exc).replace("kind:", "kinds:", 1).replace("q:", "text:", 1)
        raise ChannelError(message) from None
    if parsed.min_rating is not None and not 0 <= parsed.min_rating <= MAX_RATING:
        raise ChannelError(f"min_rating: expected a number from 0 to {MAX_RATING:g}, got {parsed.min_rating:g}")
    found = {"kinds": parsed.kinds, "min_rating": parsed.min_rating, "text": parsed.text, "since": parsed.since}
    return {key: found[key] for key in values}


def _flag(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(key, value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ChannelError(f"{key}: expected true or false, got {value!r}")


def _text(key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ChannelError(f"{key}: expected text, got {type(value).__name__}")
    return str(value)
