"""PostgreSQL is a real option: the same pipeline, on a real PostgreSQL server."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from feedhub.config import load_settings
from feedhub.decide import TAG_PREFIX
from feedhub.fetch import Outcome
from feedhub.models import Kind
from feedhub.scheduler import Poller
from feedhub.services import build_services
from feedhub.storage.rows import NewSource
from feedhub.subscribe import add_url
from feedhub.web import create_app

from .postgres import postgres_server
from . import test_save_polls
from .test_web import HOME, T0, poll


@pytest.fixture(scope="module")
def database_url():
    with postgres_server() as url:
        yield url


def test_pipeline_and_feeds_on_postgresql(tmp_path, emulator, database_url):
    settings = load_settings(
        {"data_dir": tmp_path, "database_url": database_url, "allow_private_networks": True}, environ={}
    )
    services = build_services(settings)
    poller = Poller(services)
    try:
        with services.store.engine.connect() as conn:
            assert conn.execute(text("select version()")).scalar().startswith("PostgreSQL")
        add_url(services.store, services.fetcher, emulator.feeds_list_url(emulator.base_url, 0), "home", 60, services.now())
        first = poller.poll_many(services.store.sources())
        assert all(r.outcome is Outcome.OK for r in first), [r.message for r in first]
        count = services.store.activity_count()
        assert count > 0
        again = poller.poll_many(services.store.sources())
        assert all(r.outcome is Outcome.NOT_MODIFIED for r in again)
        emulator.advance(900)
        poller.poll_many(services.store.sources())
        assert services.store.activity_count() > count
        client = create_app(services=services).test_client()
        token = services.store.channel("all").token
        response = client.get(f"/feeds/all.atom?q=a&kind=watched,ratings&limit=500&token={token}")
        assert response.status_code == 200 and b"<entry>" in response.data
    finally:
        poller.close()
        services.close()


def test_schema_is_created_once_and_recorded(database_url):
    from sqlalchemy import create_engine

    from feedhub.crypto import Cipher
    from feedhub.storage import Store
    from feedhub.storage.schema import SCHEMA_VERSION

    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE schema_check"))
    admin.dispose()
    url = database_url.rsplit("/", 1)[0] + "/schema_check"
    first, second = Store(url, Cipher("k" * 32)), Store(url, Cipher("k" * 32))
    try:
        assert first.schema_version == second.schema_version == SCHEMA_VERSION
        with first.engine.connect() as conn:
            assert conn.execute(text("select value from meta where name = 'schema_version'")).scalar() == str(SCHEMA_VERSION)
    finally:
        first.close()
        second.close()


def test_stored_entries_are_found_by_key_on_postgresql(tmp_path):
    # The lookup runs through the driver, whose parameters PostgreSQL spells its own way.
    with postgres_server() as url:
        services = build_services(load_settings({"data_dir": tmp_path, "database_url": url}, environ={}))
        try:
            test_save_polls.test_the_stored_entries_are_found_among_any_number_of_keys(services)
        finally:
            services.close()


def test_a_version_3_database_keeps_its_activities_on_postgresql(tmp_path):
    with postgres_server() as url:
        settings = load_settings({"data_dir": tmp_path, "database_url": url}, environ={})
        services = build_services(settings)
        feed = NewSource("https://feeds.example/a", "https://feeds.example/a", "A", Kind.OTHER)
        _, (source,) = services.store.add_account("home", "user-home", None, [feed], 60, T0)
        services.store.save_polls([poll(source.id, source.account_id, tuple(HOME), at=T0)])
        with services.store.engine.begin() as conn:  # as version 3 stored them
            conn.execute(text("UPDATE activities SET id = :prefix || id"), {"prefix": TAG_PREFIX})
            conn.execute(text("DROP INDEX ix_activities_time"))
            conn.execute(text("CREATE INDEX ix_activities_time ON activities (occurred_at, id)"))
            conn.execute(text("UPDATE meta SET value = '3' WHERE name = 'schema_version'"))
        services.close()

        reopened = build_services(settings)
        try:
            with reopened.store.engine.connect() as conn:
                stored = sorted(conn.execute(text("SELECT id FROM activities")).scalars())
                indexed = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_activities_time'")).scalar_one()
            assert stored == sorted(a.id.removeprefix(TAG_PREFIX) for a in HOME)
            assert indexed.endswith("(occurred_at)")
            assert [a for _, a in reopened.store.activities(limit=10)] == HOME
            assert reopened.store.save_poll(poll(source.id, source.account_id, tuple(HOME), at=T0)) == 0
        finally:
            reopened.close()
