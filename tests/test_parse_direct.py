"""The direct path of ``parse`` (plain UTF-8 documents without a DOCTYPE straight to
lxml, no expat screen) must answer exactly as the screened path does, for every
document, and must never hand lxml a document that could declare an entity or break a
limit."""
from __future__ import annotations

import codecs
import json
import random
from pathlib import Path

import pytest

from feedhub import parse
from feedhub.emulator.hostile import document
from feedhub.fetch import FetchError
from feedhub.parse import MAX_ATTRIBUTES, MAX_DEPTH, MAX_ELEMENTS, MAX_NAMESPACES, parse_feed

from .test_fastparse import ATOM_GENERIC, EMULATOR, RSS

CORPUS = Path(__file__).parent / "data" / "illformed"
EXPECTED: dict[str, dict] = json.loads((CORPUS / "expected.json").read_text())
ATOM = "application/atom+xml"


def _atom(entries: str = "", head: str = '<?xml version="1.0" encoding="utf-8"?>\n', root_attributes: str = "") -> bytes:
    return (
        f'{head}<feed xmlns="http://www.w3.org/2005/Atom"{root_attributes}><id>urn:f</id><title>Feed</title>'
        f"<updated>2026-01-01T00:00:00Z</updated>{entries}</feed>"
    ).encode()


def _entry(inner: str = "", title: str = "Post") -> str:
    return f"<entry><id>urn:e</id><title>{title}</title><link href='https://a.example/1'/>{inner}</entry>"


def _outcome(body: bytes, content_type: str):
    try:
        return parse_feed(body, content_type)
    except FetchError as exc:
        return (exc.outcome, str(exc))


def _both_ways(body: bytes, content_type: str = ATOM, monkeypatch=None) -> tuple[object, object, bool]:
    """(direct-path answer, screened-path answer, whether the direct path answered)."""
    direct = parse._direct(body, content_type) is not None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parse, "_direct", lambda body, content_type: None)
        screened = _outcome(body, content_type)
    return _outcome(body, content_type), screened, direct


LATIN1 = '<?xml version="1.0" encoding="iso-8859-1"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Café</title></feed>'
# (id, body, content type, whether the direct path may answer it)
CASES = [
    ("plain", _atom(_entry()), ATOM, True),
    ("no-declaration", _atom(_entry(), head=""), ATOM, True),
    ("utf8-bom", codecs.BOM_UTF8 + _atom(_entry()), ATOM, True),
    ("non-ascii-text", _atom(_entry("<summary>Crème ★ brûlée</summary>", "Amélie")), ATOM, True),
    ("non-ascii-attribute-value", _atom(_entry("<link rel='related' href='https://a.example/é' title='★'/>")), ATOM, True),
    ("non-ascii-cdata-and-comment", _atom(_entry("<summary><![CDATA[Été <b>x</b>]]></summary><!-- ü -->")), ATOM, True),
    ("apostrophes-in-text", _atom(_entry("<summary>Don't \"quote\" é</summary>")), ATOM, True),
    ("text-xml-utf8-declared", _atom(_entry("", "Café")), "text/xml", True),
    ("text-xml-ascii", _atom(_entry()), "text/xml", True),
    ("text-xml-non-ascii-undeclared", _atom(_entry("", "Café"), head=""), "text/xml", False),
    ("charset-latin1", _atom(_entry("", "Café")), "application/atom+xml; charset=iso-8859-1", False),
    ("charset-utf8", _atom(_entry("", "Café")), "application/atom+xml; charset=UTF-8", True),
    ("declared-latin1", LATIN1.encode("latin-1"), ATOM, False),
    ("declared-latin1-second-line", LATIN1.replace('"1.0" ', '"1.0"\n').encode("latin-1"), ATOM, False),
    ("declared-ascii-but-utf8", _atom(_entry("", "Café")).replace(b"utf-8", b"us-ascii"), ATOM, False),
    ("utf16", _atom(_entry()).decode().replace("utf-8", "utf-16").encode("utf-16"), ATOM, False),
    ("version-1.1", _atom(_entry(), head='<?xml version="1.1"?>'), ATOM, False),
    ("non-ascii-element-name-expat-takes", _atom(_entry("<x:tést>1</x:tést>"), root_attributes=' xmlns:x="urn:x"'), ATOM, False),
    ("non-ascii-element-name-expat-refuses", _atom(_entry("<x:t\U00020000>1</x:t\U00020000>"), root_attributes=' xmlns:x="urn:x"'), ATOM, False),
    ("non-ascii-attribute-name", _atom(_entry("<x:a x:é='1'/>"), root_attributes=' xmlns:x="urn:x"'), ATOM, False),
    ("non-ascii-after-gt-in-value", _atom(_entry("<x:a v='>' x:é='1'/>"), root_attributes=' xmlns:x="urn:x"'), ATOM, False),
    ("doctype-in-a-comment", _atom(_entry("<!-- <!DOCTYPE x> -->")), ATOM, False),
    ("processing-instruction-in-entry", _atom(_entry("<?pi data?>")), ATOM, False),
    ("processing-instruction-in-feed", _atom("<?pi data?>" + _entry()), ATOM, False),
    ("rss-processing-instruction", RSS.replace(b"<item>", b"<item><?pi x?>", 1), "application/rss+xml", False),
    ("unbound-prefix", _atom(_entry("<x:a/>")), ATOM, False),
    ("relative-namespace", _atom(_entry("<x:a>1</x:a>"), root_attributes=' xmlns:x="rel"'), ATOM, True),
    ("namespace-uri-with-space", _atom(_entry(), root_attributes=' xmlns:x="http://a b/"'), ATOM, False),
    ("duplicate-xml-id", _atom(_entry("<x:a xml:id='i'/><x:a xml:id='i'/>"), root_attributes=' xmlns:x="urn:x"'), ATOM, False),
    ("attributes-at-the-limit", _atom(_entry("<x:a %s/>" % " ".join(f"a{i}='1'" for i in range(MAX_ATTRIBUTES))), root_attributes=' xmlns:x="urn:x"'), ATOM, True),
    ("attributes-over-the-limit", _atom(_entry("<x:a %s/>" % " ".join(f"a{i}='1'" for i in range(MAX_ATTRIBUTES + 1))), root_attributes=' xmlns:x="urn:x"'), ATOM, False),
    ("attributes-over-the-limit-after-gt", _atom(_entry("<x:a v='>' %s/>" % " ".join(f"a{i}='1'" for i in range(MAX_ATTRIBUTES + 1))), root_attributes=' xmlns:x="urn:x"'), ATOM, False),
    ("namespaces-at-the-limit", _atom(_entry("".join(f'<n{i}:a xmlns:n{i}="urn:{i}"/>' for i in range(MAX_NAMESPACES - 1)))), ATOM, True),
    ("namespaces-over-the-limit", _atom(_entry(), root_attributes="".join(f' xmlns:n{i}="urn:{i}"' for i in range(MAX_NAMESPACES))), ATOM, False),
    ("depth-at-the-limit", _atom(_entry("<a>" * (MAX_DEPTH - 2) + "</a>" * (MAX_DEPTH - 2))), ATOM, True),
    ("depth-over-the-limit", _atom(_entry("<a>" * (MAX_DEPTH - 1) + "</a>" * (MAX_DEPTH - 1))), ATOM, False),
    ("elements-over-the-limit", _atom("<x/>" * MAX_ELEMENTS), ATOM, False),
    ("xhtml-title", _atom('<entry><id>x</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">a<b>b</b></div></title></entry>'), ATOM, False),
    ("html-root", b"<html><body>not a feed</body></html>", "text/html", False),
    ("rss20", RSS, "application/rss+xml", True),
    ("atom-generic", ATOM_GENERIC, ATOM, True),
    ("bare-ampersand", _atom(_entry("", "Tom & Jerry")), ATOM, False),
    ("undefined-entity", _atom(_entry("", "&nbsp;")), ATOM, False),
    ("encoding-name-not-utf8", _atom(_entry(), head='<?xml version="1.0" encoding="utf\xff-8"?>').replace("\xff".encode(), b"\xff"), ATOM, False),
    ("encoding-name-with-nul", _atom(_entry(), head='<?xml version="1.0" encoding="utf\x00-8"?>'), ATOM, False),
]


def test_an_unreadable_encoding_name_is_malformed_not_an_exception():
    for body in (CASES[-2][1], CASES[-1][1]):
        with pytest.raises(FetchError) as refused:
            parse_feed(body, ATOM)
        assert refused.value.outcome.value == "malformed"


@pytest.mark.parametrize("body, content_type, direct", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_direct_path_answers_as_the_screened_path(body, content_type, direct):
    fast, screened, taken = _both_ways(body, content_type)
    assert fast == screened
    assert taken is direct


@pytest.mark.parametrize("name, kind, body", EMULATOR, ids=[e[0] for e in EMULATOR])
def test_emulator_feeds_take_the_direct_path(name, kind, body):
    fast, screened, taken = _both_ways(body, "application/atom+xml; charset=utf-8")
    assert taken and fast == screened


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_corpus_reads_the_same_both_ways(name):
    body = (CORPUS / name).read_bytes()
    fast, screened, _ = _both_ways(body, EXPECTED[name].get("content_type", ""))
    assert fast == screened


def test_mutated_documents_read_the_same_both_ways():
    """Bytes changed at random in a feed with a little of everything: whatever the
    result (a feed, a refusal), both paths agree."""
    base = _atom(
        _entry("<summary type='html'>&lt;b&gt;Crème&lt;/b&gt; ★</summary><x:a k='v'>t</x:a><!-- c -->", "Amélie")
        + _entry("<updated>2026-01-02T00:00:00Z</updated><category term='t' scheme='s'/>"),
        root_attributes=' xmlns:x="urn:x"',
    )
    pieces = [b"<", b">", b"&", b"'", b'"', b"=", b"\xc3\xa9", b"\xff", b"\x00", b"<!DOCTYPE x>", b"<?p?>", b"xmlns:y='urn:y' ", b"]]>", b"<![CDATA[", b" ", b"\n"]
    rng = random.Random(8)
    for _ in range(400):
        body = bytearray(base)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(body))
            if rng.random() < 0.3:
                del body[at : at + rng.randint(1, 4)]
            else:
                body[at:at] = rng.choice(pieces)
        fast, screened, _ = _both_ways(bytes(body))
        assert fast == screened, bytes(body)


@pytest.mark.parametrize("kind", ["billion_laughs", "billion_laughs_one_line", "quadratic_blowup", "xxe_entity", "xxe_dtd", "xxe_parameter"])
def test_hostile_documents_never_reach_lxml_unscreened(kind, monkeypatch):
    read = []
    monkeypatch.setattr(parse, "read_utf8", lambda body: read.append(body))
    assert parse._direct(document(kind, "http://127.0.0.1:9/x")[0], ATOM) is None
    assert read == []


def test_a_document_over_a_limit_never_reaches_lxml_unscreened(monkeypatch):
    read = []
    monkeypatch.setattr(parse, "read_utf8", lambda body: read.append(body))
    one_element = _atom(_entry("<x:a %s/>" % " ".join(f"a{i}='1'" for i in range(10_000))), root_attributes=' xmlns:x="urn:x"')
    for body in (one_element, _atom("<x/>" * (MAX_ELEMENTS + 1)), _atom(root_attributes="".join(f' xmlns:n{i}="u"' for i in range(MAX_NAMESPACES + 1)))):
        assert parse._direct(body, ATOM) is None
    assert read == []
