"""normalize's shortcuts give what the long way gives, and what feeds in the wild send
never makes it raise."""
from __future__ import annotations

import html
import json

import nh3
import pytest

from feedhub.models import Kind
from feedhub.normalize import _clean, _http_url, _plain_text, normalize, title_key
from feedhub.parse import parse_feed
from feedhub.publish.text import clean as xml_chars_only

TEXTS = [
    "",
    "plain words",
    " leading and trailing ",
    "two  spaces",
    "tab\there",
    "line\r\nbreaks\nand\rreturns",
    "no\u00a0break space",
    "next\x85line",
    "line\u2028separator",
    "bell\x07and NUL\x00",
    "\ufeffbyte order mark first",
    "a \ufeff inside",
    "non-characters \ufffe\uffff",
    "quotes \"' and > only",
    "Crème brûlée ★ 😀",
    "<b>bold</b> &amp; <script>alert(1)</script>done",
    "&lt;p&gt;escaped&lt;/p&gt;",
    "a < b",
]


def _long_way(value: str) -> str:
    """What _plain_text gave before its shortcut: nh3 and unescape on everything."""
    cleaned = html.unescape(nh3.clean(value, tags=set(), clean_content_tags={"script", "style"}))
    return " ".join(xml_chars_only(cleaned).split())


@pytest.mark.parametrize("text", TEXTS)
def test_plain_text_without_markup_is_what_nh3_would_give(text):
    assert _plain_text(text) == _long_way(text)


@pytest.mark.parametrize("text", TEXTS)
def test_clean_is_what_it_always_was(text):
    assert _clean(text) == " ".join(xml_chars_only(text).split())


@pytest.mark.parametrize(
    "url, kept",
    [
        ("https://a.example/x?y=1", True),
        ("http://a.example/é", True),
        ("  https://a.example/  ", True),  # stripped
        ("https://a.example/a b", False),
        ("https://a.example/a\tb", False),
        ("https://a.example/a\u00a0b", False),
        ("https://a.example/a\u2028b", False),
        ("https://a.example/a\x85b", False),
        ("https://a.example/a\x7fb", False),
        ("javascript:alert(1)", False),
        ("/relative", False),
        ("https://a.example/" + "x" * 3000, False),
    ],
)
def test_http_url_keeps_only_printable_absolute_http_urls(url, kept):
    text = url.strip()
    assert _http_url(url) == (text if kept else None)
    if kept:
        assert not any(c.isspace() or not c.isprintable() for c in text)


def test_lone_surrogates_in_a_json_feed_are_stripped_not_raised():
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "t",
            "items": [
                {"id": "1", "title": "a\ud800b", "summary": "x\ud800y"},
                {"id": "2", "title": "b", "content_text": "<b>x</b>\udc00 &amp; y"},
            ],
        }
    ).encode()
    first, second = normalize(parse_feed(body, "application/feed+json"), Kind.OTHER)
    assert (first.title.name, first.summary) == ("ab", "xy")
    assert second.summary == "x & y"


@pytest.mark.parametrize("url", ["http://[x/catalog/titles/5", "http://a\uff0fb/Movie/x/5"])
def test_a_url_urlsplit_refuses_does_not_stop_normalize(url):
    assert title_key(url, None, "Name", 2001) == "name:name|2001"
    assert title_key(None, url, "Name", 2001) == f"link:{url}"


def test_title_keys_from_catalog_and_title_page_urls():
    assert title_key("http://api.example/catalog/titles/series/1/seasons/22", None, "n", None) == "catalog:22"
    assert title_key("http://api.example/catalog/titles/\tmovies/7", None, "n", None) == "catalog:7"
    assert title_key(None, "https://www.example/Movie/Some_Title/70", "n", None) == "catalog:70"
    assert title_key(None, "https://www.example/other/70", "Crème  Brûlée!", 1999) == "link:https://www.example/other/70"
    assert title_key(None, None, "Crème  Brûlée!", 1999) == "name:creme brulee|1999"
