"""A database made by an older feedhub is brought up to date when the store opens."""
from __future__ import annotations

import sqlite3
from datetime import timedelta

from feedhub.decide import TAG_PREFIX
from feedhub.models import Kind
from feedhub.services import build_services
from feedhub.storage.rows import NewSource
from feedhub.storage.schema import SCHEMA_VERSION
from tests.test_web import HOME, T0, poll


def _as_version(settings, version: int, *dropped: str) -> None:
    """Make the database look as ``version`` left it: without the ``dropped`` columns of
    ``sources``."""
    db = sqlite3.connect(settings.data_dir / "feedhub.db")
    with db:
        for column in dropped:
            db.execute(f"ALTER TABLE sources DROP COLUMN {column}")
        db.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(version),))
    db.close()


def test_a_version_1_database_gains_the_body_digest_and_keeps_its_sources(settings):
    services = build_services(settings)
    feed = "https://feeds.example/old.atom"
    services.store.add_account("old", "k:old", None, [NewSource(feed, feed, "Old", Kind.OTHER)], 60, services.now())
    services.close()
    _as_version(settings, 1, "body_digest", "poll_count")

    reopened = build_services(settings)
    try:
        assert reopened.store.schema_version == SCHEMA_VERSION == 4
        assert [(s.account_name, s.url, s.body_digest) for s in reopened.store.sources()] == [("old", feed, None)]
    finally:
        reopened.close()
    db = sqlite3.connect(settings.data_dir / "feedhub.db")
    assert "body_digest" in {row[1] for row in db.execute("PRAGMA table_info(sources)")}
    assert db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() == ("4",)
    db.close()


def test_a_version_2_database_counts_the_poll_log_of_each_source(settings):
    services = build_services(settings)
    feeds = [f"https://feeds.example/{n}.atom" for n in range(3)]
    _, made = services.store.add_account("old", "k:old", None, [NewSource(f, f, f, Kind.OTHER) for f in feeds], 60, T0)
    for n, source in enumerate(made[:2]):
        services.store.save_polls([poll(source.id, source.account_id, (), at=T0 + timedelta(minutes=m)) for m in range(n + 2)])
    services.close()
    _as_version(settings, 2, "poll_count")

    build_services(settings).close()
    db = sqlite3.connect(settings.data_dir / "feedhub.db")
    assert db.execute("SELECT id, poll_count FROM sources ORDER BY id").fetchall() == [(s.id, n) for s, n in zip(made, (2, 3, 0))]
    db.close()


def test_a_version_3_database_keeps_its_activities_under_their_short_keys(settings, caplog):
    services = build_services(settings)
    feed = "https://feeds.example/old.atom"
    _, (source,) = services.store.add_account("home", "user-home", None, [NewSource(feed, feed, "Old", Kind.OTHER)], 60, T0)
    services.store.save_polls([poll(source.id, source.account_id, tuple(HOME), at=T0)])
    services.close()
    _as_version(settings, 3)
    db = sqlite3.connect(settings.data_dir / "feedhub.db")
    with db:  # as version 3 stored them: the whole tag: URI, in the time index too
        db.execute("UPDATE activities SET id = ? || id", (TAG_PREFIX,))
        db.execute("DROP INDEX ix_activities_time")
        db.execute("CREATE INDEX ix_activities_time ON activities (occurred_at, id)")
    db.close()

    reopened = build_services(settings)
    try:
        assert "upgrading the database from schema version 3 to 4" in caplog.text
        db = sqlite3.connect(settings.data_dir / "feedhub.db")
        stored = sorted(row[0] for row in db.execute("SELECT id FROM activities"))
        indexed = [row[2] for row in db.execute("PRAGMA index_info(ix_activities_time)")]
        db.close()
        assert indexed == ["occurred_at"]
        assert stored == sorted(a.id.removeprefix(TAG_PREFIX) for a in HOME) and all(len(key) == 32 for key in stored)
        # The feeds still show the whole ids, and the same activities are not new again.
        assert [a for _, a in reopened.store.activities(limit=10)] == HOME
        assert reopened.store.save_poll(poll(source.id, source.account_id, tuple(HOME), at=T0 + timedelta(minutes=1))) == 0
        assert reopened.store.activity_count() == len(HOME)
    finally:
        reopened.close()
