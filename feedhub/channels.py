"""Channels: the named, republished views over the accounts (SPEC §1, §6).

For now a channel is a set of accounts: ``all`` holds every account, and each account
has a channel of its own, named after it. The query filters of a feed URL (``kind=``,
``account=``…) narrow a channel further; they are ``merge.TimelineFilter``'s job.

Pure: names in, names out. It reads no storage, so the web layer and the command line
ask storage for the account names and pass them here.
"""
from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

ALL = "all"

_ID_PREFIX = "tag:feedhub,2026:channel:"


def channel_names(account_names: Iterable[str]) -> list[str]:
    """Every channel: ``all`` first, then one per account in name order.

    An account named ``all`` gets no channel of its own: ``all`` already holds it.
    """
    return [ALL, *sorted(set(account_names) - {ALL})]


def resolve(name: str, account_names: Iterable[str]) -> frozenset[str] | None:
    """The accounts of channel ``name``; None means every account.

    Raises ``LookupError`` for a name that is no channel.
    """
    if name == ALL:
        return None
    if name in set(account_names):
        return frozenset({name})
    raise LookupError(f"no channel named {name!r}")


def feed_id(name: str) -> str:
    """A stable ``tag:`` URI (RFC 4151) for the channel, the same in every format."""
    return _ID_PREFIX + quote(name, safe="")


def title(name: str) -> str:
    return f"feedhub — {name}"


def description(name: str) -> str:
    if name == ALL:
        return "What everyone on this feedhub watched, rated, queued and was recommended."
    return f"What {name} watched, rated, queued and was recommended."
