"""Optional retention: how much of the archive to keep (off by default, SPEC §5).

feedhub keeps every entry a source ever showed and every activity made of it. Where
that is too much, ``FEEDHUB_RETENTION_DAYS`` and ``FEEDHUB_RETENTION_ENTRIES`` limit it.
``prune`` runs in the transaction of each successful poll, for that poll's source and
account, so the archive never grows far past the limits and no separate job is needed.
It never deletes the newest state: entries a list shows now (``present``) and every
entry of the snapshot being stored are kept whatever their age, so nothing pruned can
come back as "new" at the next poll; after a poll that read no snapshot (304) only
activities are pruned, since which entries the source still shows is not known.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.engine import Connection

from .schema import activities, entries


@dataclass(frozen=True)
class Retention:
    """``days``: delete archived entries last seen, and activities that happened, longer
    ago than that. ``count``: keep at most that many archived entries per source and
    activities per account, the newest. None: no limit."""

    days: int | None = None
    count: int | None = None

    @property
    def enabled(self) -> bool:
        return self.days is not None or self.count is not None


@dataclass(frozen=True)
class Pruned:
    entries: int = 0
    activities: int = 0


def prune(
    conn: Connection,
    retention: Retention,
    *,
    source_id: int,
    account_id: int,
    is_list: bool,
    keep_keys: Collection[str] | None,
    now: datetime,
) -> Pruned:
    """Apply ``retention`` to one source's archived entries and one account's activities.

    Archived entries are those not in ``keep_keys`` (the snapshot just stored; None: no
    snapshot, so no entry is touched) and, for a list (``is_list``), no longer present
    in it; an event feed's entries are all history.
    """
    if not retention.enabled:
        return Pruned()
    cutoff = now - timedelta(days=retention.days) if retention.days is not None else None
    doomed_entries: list[int] = []
    if keep_keys is not None:
        archived = [entries.c.source_id == source_id]
        if is_list:
            archived.append(entries.c.present.is_(False))
        # Newest first, what the count keeps: last seen latest, then in the order the
        # source listed them (rows are written in feed order, and logs list newest first).
        rows = conn.execute(
            select(entries.c.id, entries.c.key, entries.c.last_seen)
            .where(*archived)
            .order_by(entries.c.last_seen.desc(), entries.c.id)
        ).all()
        candidates = [row for row in rows if row.key not in keep_keys]
        doomed_entries = [
            row.id
            for rank, row in enumerate(candidates)
            if (retention.count is not None and rank >= retention.count) or (cutoff is not None and row.last_seen < cutoff)
        ]
    conditions = []
    if cutoff is not None:
        conditions.append(activities.c.occurred_at < cutoff)
    if retention.count is not None:
        kept = (
            select(activities.c.id)
            .where(activities.c.account_id == account_id)
            .order_by(activities.c.occurred_at.desc(), activities.c.id)
            .limit(retention.count)
        )
        conditions.append(activities.c.id.not_in(kept.scalar_subquery()))
    deleted = conn.execute(delete(activities).where(activities.c.account_id == account_id, or_(*conditions)))
    return Pruned(entries=_delete_entries(conn, doomed_entries), activities=deleted.rowcount or 0)


def _delete_entries(conn: Connection, ids: list[int]) -> int:
    for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
        conn.execute(delete(entries).where(entries.c.id.in_(ids[start : start + 500])))
    return len(ids)
