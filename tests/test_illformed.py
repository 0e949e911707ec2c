"""A corpus of ill-formed feeds (``tests/data/illformed``, in the spirit of feedparser's
own ill-formed test cases), and the parser's safety.

Every document either parses into entries that are safe to republish, or fails cleanly
with ``not_a_feed`` or ``malformed`` — never an exception of another kind. What each
one must give is in ``expected.json`` beside it. Then: the whole corpus through the
real pipeline, and a merged feed that stays well-formed; and the proof that feedparser
reads nothing external even without feedhub's own screening in front of it.
"""
from __future__ import annotations

import io
import json
import re
import sys
import types
from dataclasses import astuple
from pathlib import Path

import feedparser
import feedparser.api
import pytest
from flask import Flask, Response
from lxml import etree

from feedhub.emulator.hostile import document
from feedhub.emulator.server import serve_in_thread
from feedhub.fetch import FetchError, Outcome
from feedhub.models import Kind
from feedhub.normalize import MAX_ID_CHARS, MAX_SUMMARY_CHARS, MAX_TEXT_CHARS, MAX_URL_CHARS, normalize
from feedhub.parse import MAX_ENTRIES, parse_feed
from feedhub.scheduler import Poller
from feedhub.storage.rows import NewSource
from feedhub.urls import redact

from .canary import Canary

CORPUS = Path(__file__).parent / "data" / "illformed"
EXPECTED: dict[str, dict] = json.loads((CORPUS / "expected.json").read_text())
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def test_the_corpus_is_complete():
    assert sorted(EXPECTED) == sorted(p.name for p in CORPUS.iterdir() if p.name != "expected.json")
    assert len(EXPECTED) >= 50


def _strings(value) -> list[str]:
    """Every string inside an entry (dataclasses, tuples), for the invariants below."""
    if isinstance(value, str):
        return [value]
    if hasattr(value, "__dataclass_fields__"):
        value = astuple(value)
    if isinstance(value, tuple):
        return [s for item in value for s in _strings(item)]
    return []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parses_or_fails_cleanly(name):
    expected = EXPECTED[name]
    body = (CORPUS / name).read_bytes()
    try:
        entries = normalize(parse_feed(body, expected.get("content_type", "")), Kind.OTHER)
    except FetchError as exc:
        assert exc.outcome.value == expected["outcome"], str(exc)
        assert exc.outcome in (Outcome.MALFORMED, Outcome.NOT_A_FEED)
        return
    assert expected["outcome"] == "ok"
    assert len(entries) == expected["entries"]
    for entry in entries:
        title = entry.title
        for url in (title.web_url, title.box_art.small, title.box_art.medium, title.box_art.large):
            assert url is None or (url.startswith(("http://", "https://")) and len(url) <= MAX_URL_CHARS)
        text = _strings(entry)
        assert not any("javascript" in s.lower() or "onerror" in s.lower() or "<script" in s.lower() for s in text), text
        assert not any(_NOT_XML_CHAR.search(s) for s in text)
        assert entry.entry_id and len(entry.entry_id) <= MAX_ID_CHARS
        assert 0 < len(title.name) <= MAX_TEXT_CHARS
        assert entry.summary is None or len(entry.summary) <= MAX_SUMMARY_CHARS


def test_entries_without_ids_keep_the_same_id_from_poll_to_poll():
    body = (CORPUS / "entries-without-ids.xml").read_bytes()
    first, second = (normalize(parse_feed(body), Kind.OTHER) for _ in range(2))
    assert [e.entry_id for e in first] == [e.entry_id for e in second]
    assert first[0].entry_id.startswith("hash:") and first[1].entry_id == "https://a.example/x"


def test_html_titles_keep_only_their_text():
    (entry,) = normalize(parse_feed((CORPUS / "html-title-with-script.xml").read_bytes()), Kind.OTHER)
    assert entry.title.name == "A bold title"


def test_a_longer_document_is_cut_at_max_entries():
    entries = "".join(f"<entry><id>urn:n:{i}</id><title>n{i}</title></entry>" for i in range(MAX_ENTRIES + 10))
    body = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>Long</title>{entries}</feed>'.encode()
    assert len(parse_feed(body).entries) == MAX_ENTRIES


def test_the_corpus_through_the_pipeline_leaves_a_well_formed_merged_feed(services):
    """Each document served as a source and polled: no poll raises, every failure is
    classified, and the merged feed of everything that was read is well-formed XML."""
    app = Flask("corpus")

    @app.get("/<name>")
    def serve(name: str) -> Response:
        meta = EXPECTED[name]
        return Response((CORPUS / name).read_bytes(), content_type=meta.get("content_type") or "application/xml")

    server = serve_in_thread(app)
    try:
        made = [NewSource(f"{server.url}{name}?k=1", redact(f"{server.url}{name}?k=1"), name, Kind.OTHER) for name in sorted(EXPECTED)]
        services.store.add_account("corpus", "feeds:corpus", None, made, 60, services.now())
        poller = Poller(services)
        try:
            reports = poller.poll_many(services.store.sources())
        finally:
            poller.close()
    finally:
        server.stop()
    by_title = {s.title: s for s in services.store.sources()}
    for report in reports:
        name = next(title for title, s in by_title.items() if s.id == report.source_id)
        want = EXPECTED[name]["outcome"]
        assert report.outcome.value == want or (want == "ok" and report.outcome is Outcome.OK), (name, report.message)
    from feedhub.web import create_app

    client = create_app(services=services).test_client()
    token = services.store.channel("all").token
    for fmt in ("atom", "rss"):
        response = client.get(f"/feeds/all.{fmt}?limit=500&token={token}")
        assert response.status_code == 200
        etree.fromstring(response.data)  # well-formed, whatever the sources held
        assert b"javascript" not in response.data.lower()


# -- feedparser reads nothing external, even on its own --------------------------------------


@pytest.fixture
def canary():
    listener = Canary()
    yield listener
    listener.stop()


def test_feedparser_is_pinned_to_expat():
    assert feedparser.api.PREFERRED_XML_PARSERS == ["xml.sax.expatreader"]


def test_an_installed_libxml2_driver_would_not_be_used(monkeypatch):
    """With libxml2's bindings installed, feedparser would try its ``drv_libxml2`` driver
    first, and that one expands external entities. Pinned, it never asks for it."""
    asked = []
    fake = types.ModuleType("drv_libxml2")
    fake.create_parser = lambda: asked.append("drv_libxml2")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "drv_libxml2", fake)
    parsed = feedparser.parse(io.BytesIO(b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>'))
    assert parsed.version == "atom10" and asked == []


@pytest.mark.parametrize("kind", ["xxe_entity", "xxe_dtd", "xxe_parameter"])
def test_feedparser_alone_reads_no_external_entity_dtd_or_parameter_entity(kind, canary, tmp_path):
    """Without feedhub's screening in front, feedparser (pinned to expat, entities off)
    still neither fetches the URL nor reads the file these documents point at."""
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("FILE-NEVER-READ-0c4e")
    for target in (canary.url + kind, secret_file.as_uri()):
        body, _ = document(kind, target)
        parsed = feedparser.parse(io.BytesIO(body))
        assert "FILE-NEVER-READ-0c4e" not in repr(parsed) and Canary.SECRET not in repr(parsed)
    assert canary.hits == []


@pytest.mark.parametrize("kind", ["billion_laughs", "billion_laughs_one_line", "quadratic_blowup", "xxe_entity", "xxe_dtd", "xxe_parameter"])
def test_every_hostile_document_is_refused_before_any_parser_builds_it(kind, canary):
    with pytest.raises(FetchError) as refused:
        parse_feed(document(kind, canary.url)[0], "application/atom+xml")
    assert refused.value.outcome is Outcome.MALFORMED
    assert canary.hits == []
