"""PostgreSQL is a real option: the same pipeline, on a real PostgreSQL server."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from feedhub.config import load_settings
from feedhub.fetch import Outcome
from feedhub.scheduler import Poller
from feedhub.services import build_services
from feedhub.subscribe import add_url
from feedhub.web import create_app

from .postgres import postgres_server
from . import test_save_polls


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
