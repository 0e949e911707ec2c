"""A database made by an older feedhub is brought up to date when the store opens."""
from __future__ import annotations

import sqlite3

from feedhub.models import Kind
from feedhub.services import build_services
from feedhub.storage.rows import NewSource
from feedhub.storage.schema import SCHEMA_VERSION


def test_a_version_1_database_gains_the_body_digest_and_keeps_its_sources(settings):
    services = build_services(settings)
    feed = "https://feeds.example/old.atom"
    services.store.add_account("old", "k:old", None, [NewSource(feed, feed, "Old", Kind.OTHER)], 60, services.now())
    services.close()
    db = sqlite3.connect(settings.data_dir / "feedhub.db")
    with db:  # what version 1 had: no body_digest column
        db.execute("ALTER TABLE sources DROP COLUMN body_digest")
        db.execute("UPDATE meta SET value = '1' WHERE name = 'schema_version'")
    db.close()

    reopened = build_services(settings)
    try:
        assert reopened.store.schema_version == SCHEMA_VERSION == 2
        assert [(s.account_name, s.url, s.body_digest) for s in reopened.store.sources()] == [("old", feed, None)]
    finally:
        reopened.close()
    db = sqlite3.connect(settings.data_dir / "feedhub.db")
    assert "body_digest" in {row[1] for row in db.execute("PRAGMA table_info(sources)")}
    assert db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() == ("2",)
    db.close()
