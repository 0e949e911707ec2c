"""The renderers, checked by means other than themselves.

Atom is validated against RFC 4287's own schema (Appendix B: RELAX NG plus the Schematron
rules it carries), JSON Feed against a JSON Schema written from the 1.1 spec, RSS and
OPML by reading them back with lxml, and RSS and Atom also through feedparser, the
parser most readers share.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import jsonschema
import pytest
import rnc2rng
from lxml import etree, isoschematron

from feedhub.models import Activity, BoxArt, TimelineItem, Title, Verb
from feedhub.publish import RENDERERS, FeedDocument, Generator
from feedhub.publish.opml import MEDIA_TYPE as OPML_MEDIA_TYPE
from feedhub.publish.opml import OpmlOutline, render_opml
from feedhub.publish.text import clean, content_html, headline, http_url, plain_summary, stars

DATA = Path(__file__).parent / "data"

ATOM = "http://www.w3.org/2005/Atom"
MEDIA = "http://search.yahoo.com/mrss/"
DC = "http://purl.org/dc/elements/1.1/"
SCHEMATRON_1_5 = "http://www.ascc.net/xml/schematron"
ISO_SCHEMATRON = "http://purl.oclc.org/dsdl/schematron"

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
BASE = "https://feedhub.test"
HUB = "https://hub.test/"
TRICKY_NAME = 'Tom & Jerry <3 "Ünïcode"\x01'


# --- factories -------------------------------------------------------------------------


def make_title(name: str = "Braveheart", year: int | None = 1995, **fields) -> Title:
    slug = "".join(c for c in name.lower() if c.isalnum())
    defaults = {
        "web_url": f"https://www.example.com/movies/{slug}",
        "box_art": BoxArt(
            small=f"https://cdn.example.com/small/{slug}.jpg",
            large=f"https://cdn.example.com/large/{slug}.jpg",
        ),
        "maturity_rating": "R",
        "average_rating": 3.6,
        "runtime_seconds": 10620,
    }
    return Title(key=f"catalog:movies/{slug}", name=name, year=year, **(defaults | fields))


def make_item(
    verb: Verb,
    title: Title | None = None,
    *,
    account: str = "home",
    also: tuple[str, ...] = (),
    minutes_ago: int = 0,
    **activity_fields,
) -> TimelineItem:
    title = title or make_title()
    slug = title.key.rpartition("/")[2]
    activity = Activity(
        id=f"tag:feedhub.test,2024:activity/{verb.value}/{slug}/{minutes_ago}",
        account_key=f"account-key-{account}",
        verb=verb,
        title=title,
        occurred_at=NOW - timedelta(minutes=minutes_ago),
        **activity_fields,
    )
    return TimelineItem(activity=activity, account_name=account, also=also)


ITEMS = (
    make_item(Verb.WATCHED, also=("alex",), minutes_ago=1),
    make_item(Verb.RATED, make_title("Platoon", 1986), rating=4.0, minutes_ago=2),
    make_item(Verb.RERATED, make_title("Heat", 1995), rating=5.0, previous_rating=3.0,
              minutes_ago=3),
    make_item(Verb.QUEUED, make_title("Alien", 1979), position=3, minutes_ago=4),
    make_item(Verb.UNQUEUED, make_title("Ran", 1985, box_art=BoxArt()), minutes_ago=5),
    make_item(Verb.MOVED, make_title("Fargo", 1996), previous_position=7, position=2,
              minutes_ago=6),
    make_item(Verb.RECOMMENDED, make_title("Brazil", 1985), rating=3.7, minutes_ago=7),
    make_item(Verb.UNRECOMMENDED, make_title("Tron", 1982), minutes_ago=8),
    make_item(
        Verb.POSTED,
        make_title("Diary entry", None, web_url=None, box_art=BoxArt(), maturity_rating=None,
                   average_rating=None, runtime_seconds=None),
        account="alex",
        summary="Saw it twice.",
        minutes_ago=9,
    ),
    make_item(Verb.RATED, make_title("Solaris", 1972), account="alex", minutes_ago=10),
    make_item(Verb.NOT_INTERESTED, make_title("Cats", 2019), minutes_ago=11),
    make_item(Verb.PREDICTION_CHANGED, make_title("Ikiru", 1952), rating=4.0, previous_rating=3.5,
              minutes_ago=12),
)
TRICKY_ITEM = make_item(Verb.WATCHED, make_title(TRICKY_NAME, None), account="Mum & Dad")


def make_doc(items: tuple[TimelineItem, ...] = ITEMS, **fields) -> FeedDocument:
    defaults = {
        "title": "Everyone",
        "description": "What everyone watched, rated and queued",
        "feed_id": "tag:feedhub.test,2024:channel/everyone",
        "home_url": f"{BASE}/c/everyone",
        "self_urls": {fmt: f"{BASE}/feeds/everyone.{fmt}" for fmt in ("rss", "atom", "json")},
        "updated": NOW,
        "items": items,
        "hub_url": HUB,
        "generator": Generator(name="feedhub", version="0.1.0"),
    }
    return FeedDocument(**(defaults | fields))


DOCS = {
    "full": make_doc(),
    "empty": make_doc(items=(), hub_url=None, description=""),
    "tricky": make_doc(items=(TRICKY_ITEM,), title=f"Channel {TRICKY_NAME}"),
}
DOC_IDS = list(DOCS)


def render(fmt: str, doc: FeedDocument) -> bytes:
    return RENDERERS[fmt].render(doc)


# --- validators ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def atom_schema() -> tuple[etree.RelaxNG, isoschematron.Schematron]:
    """RFC 4287 Appendix B as a RELAX NG grammar and the Schematron rules it carries."""
    rng = rnc2rng.dumps(rnc2rng.loads((DATA / "atom.rnc").read_text(encoding="utf-8")))
    # rnc2rng declares `namespace local = ""` as xmlns:local="", which Namespaces in XML 1.0
    # forbids (so RelaxNG.from_rnc_string fails); the grammar itself uses ns="" instead.
    grammar = etree.fromstring(rng.replace(' xmlns:local=""', "").encode("utf-8"))
    # The s:rule annotations (feed or entry author; entry link or content) are what RELAX
    # NG cannot say. Each gets its own pattern: in one pattern only the first rule whose
    # context matches a node fires.
    schema = etree.Element(f"{{{ISO_SCHEMATRON}}}schema", nsmap={"sch": ISO_SCHEMATRON})
    etree.SubElement(schema, f"{{{ISO_SCHEMATRON}}}ns", prefix="atom", uri=ATOM)
    for old_rule in grammar.iterfind(f".//{{{SCHEMATRON_1_5}}}rule"):
        pattern = etree.SubElement(schema, f"{{{ISO_SCHEMATRON}}}pattern")
        rule = etree.SubElement(pattern, f"{{{ISO_SCHEMATRON}}}rule", old_rule.attrib)
        for old_assert in old_rule:
            check = etree.SubElement(rule, f"{{{ISO_SCHEMATRON}}}assert", old_assert.attrib)
            check.text = old_assert.text
    assert len(schema) == 4  # the ns and the RFC's three rules
    return etree.RelaxNG(grammar), isoschematron.Schematron(schema)


def assert_atom_valid(schema: tuple[etree.RelaxNG, isoschematron.Schematron], data: bytes) -> None:
    grammar, rules = schema
    tree = etree.fromstring(data)
    assert grammar.validate(tree), grammar.error_log
    assert rules.validate(tree), rules.error_log


@pytest.fixture(scope="module")
def json_feed_schema() -> jsonschema.Draft202012Validator:
    schema = json.loads((DATA / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_items_cover_every_verb() -> None:
    assert {item.activity.verb for item in ITEMS} == set(Verb)


# --- registry and document -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("rss", "application/rss+xml; charset=utf-8"),
        ("atom", "application/atom+xml; charset=utf-8"),
        ("json", "application/feed+json; charset=utf-8"),
    ],
)
def test_registry(fmt: str, media_type: str) -> None:
    renderer = RENDERERS[fmt]
    assert renderer.media_type == media_type
    assert renderer.extension == fmt
    assert isinstance(renderer.render(make_doc()), bytes)


def test_registry_has_exactly_the_feed_formats() -> None:
    assert set(RENDERERS) == {"rss", "atom", "json"}


def test_document_wants_an_aware_date() -> None:
    with pytest.raises(ValueError, match="aware"):
        make_doc(updated=datetime(2024, 3, 1, 12, 0))


def test_document_refuses_unknown_formats() -> None:
    with pytest.raises(ValueError, match="html"):
        make_doc(self_urls={"html": f"{BASE}/c/everyone"})


@pytest.mark.parametrize("fmt", list(RENDERERS))
def test_renderer_needs_its_self_url(fmt: str) -> None:
    with pytest.raises(ValueError, match=fmt):
        render(fmt, make_doc(self_urls={}))


def test_item_url_is_the_title_page_or_the_channel_page() -> None:
    doc = make_doc()
    assert doc.item_url(ITEMS[0]) == "https://www.example.com/movies/braveheart"
    assert doc.item_url(ITEMS[8]) == doc.home_url  # no web page
    sneaky = make_item(Verb.WATCHED, make_title(web_url="javascript:alert(1)"))
    assert doc.item_url(sneaky) == doc.home_url


# --- words -----------------------------------------------------------------------------


HEADLINES = [
    (ITEMS[0], "home watched Braveheart (1995) (also watched by alex)"),
    (ITEMS[1], "home rated Platoon (1986) ★★★★☆"),
    (ITEMS[2], "home re-rated Heat (1995) from ★★★☆☆ to ★★★★★"),
    (ITEMS[3], "home added Alien (1979) to the queue at #3"),
    (ITEMS[4], "home removed Ran (1985) from the queue"),
    (ITEMS[5], "home moved Fargo (1996) from #7 to #2 in the queue"),
    (ITEMS[6], "Brazil (1985) recommended for home (predicted ★★★★☆)"),
    (ITEMS[7], "Tron (1982) no longer recommended for home"),
    (ITEMS[8], "alex posted Diary entry"),
    (ITEMS[9], "alex rated Solaris (1972)"),
    (ITEMS[10], "home marked Cats (2019) as not interested"),
    (ITEMS[11], "Ikiru (1952): predicted rating for home changed from 3.5 to 4.0 ★★★★☆"),
    (
        make_item(Verb.NOT_INTERESTED, also=("alex",)),
        "home marked Braveheart (1995) as not interested (also marked by alex)",
    ),
    (make_item(Verb.RERATED, rating=2.0), "home re-rated Braveheart (1995) ★★☆☆☆"),
    (make_item(Verb.QUEUED), "home added Braveheart (1995) to the queue"),
    (make_item(Verb.MOVED, position=1), "home moved Braveheart (1995) to #1 in the queue"),
    (make_item(Verb.RECOMMENDED), "Braveheart (1995) recommended for home"),
    (
        make_item(Verb.RATED, rating=5.0, also=("alex", "sam", "kim")),
        "home rated Braveheart (1995) ★★★★★ (also rated by alex, sam and kim)",
    ),
    (
        make_item(Verb.RECOMMENDED, also=("alex", "sam")),
        "Braveheart (1995) recommended for home (also for alex and sam)",
    ),
]


@pytest.mark.parametrize(("item", "expected"), HEADLINES, ids=[line for _, line in HEADLINES])
def test_headline(item: TimelineItem, expected: str) -> None:
    assert headline(item) == expected


@pytest.mark.parametrize(
    ("rating", "expected"),
    [
        (0, "☆☆☆☆☆"),
        (0.4, "☆☆☆☆☆"),
        (0.5, "★☆☆☆☆"),
        (2.5, "★★★☆☆"),  # half up, not half to even
        (3.6, "★★★★☆"),
        (4.49, "★★★★☆"),
        (5, "★★★★★"),
        (7, "★★★★★"),
        (-1, "☆☆☆☆☆"),
    ],
)
def test_stars(rating: float, expected: str) -> None:
    assert stars(rating) == expected


def test_clean_strips_what_xml_forbids() -> None:
    forbidden = "a\x00b\x01c\x1fd\ud800e\ufffef"
    allowed = "\tg\nh\ri\U0001f3acj\x85"
    assert clean(forbidden + allowed) == "abcdef" + allowed


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", "https://example.com/a"),
        ("http://example.com", "http://example.com"),
        ("javascript:alert(1)", None),
        ("/relative/path", None),
        ("https:///no-host", None),
        ("http://[::1/broken", None),
        ("", None),
        (None, None),
    ],
)
def test_http_url(url: str | None, expected: str | None) -> None:
    assert http_url(url) == expected


def test_content_html_shows_the_title() -> None:
    html = content_html(ITEMS[1])
    assert '<img src="https://cdn.example.com/large/platoon.jpg" alt="Platoon (1986)">' in html
    assert "<p>home rated Platoon (1986) ★★★★☆</p>" in html
    assert "Rated R · 177 min · average ★★★★☆" in html
    assert '<a href="https://www.example.com/movies/platoon">Platoon (1986)</a>' in html


def test_content_html_without_box_art_or_page() -> None:
    html = content_html(ITEMS[8])
    assert "<img" not in html and "<a " not in html
    assert html == "<p>alex posted Diary entry</p>\n<p>Saw it twice.</p>"


def test_content_html_escapes_every_piece() -> None:
    title = make_title(
        '<script>alert("x")</script> & co',
        web_url='https://example.com/?a=1&b="2"',
        box_art=BoxArt(large="javascript:alert(1)"),
        maturity_rating="<b>R</b>",
    )
    html = content_html(make_item(Verb.WATCHED, title, account="<i>me</i>", summary="<img src=x>"))
    assert "<script" not in html and "<b>" not in html and "<i>" not in html
    assert "<img" not in html and "javascript:" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in html
    assert 'href="https://example.com/?a=1&amp;b=&quot;2&quot;"' in html
    # Everything left is well-formed once wrapped, so no tag was opened by the data.
    etree.fromstring(f"<div>{html}</div>".encode())


def test_plain_summary() -> None:
    assert plain_summary(ITEMS[1]) == (
        "home rated Platoon (1986) ★★★★☆\nRated R · 177 min · average ★★★★☆"
    )
    assert plain_summary(ITEMS[8]) == "alex posted Diary entry\nSaw it twice."


# --- Atom ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DOC_IDS)
def test_atom_is_valid_rfc4287(atom_schema, name: str) -> None:
    assert_atom_valid(atom_schema, render("atom", DOCS[name]))


def test_atom_schema_rejects_an_entry_without_id(atom_schema) -> None:
    tree = etree.fromstring(render("atom", make_doc()))
    entry_id = tree.find(f"{{{ATOM}}}entry/{{{ATOM}}}id")
    entry_id.getparent().remove(entry_id)
    grammar, _ = atom_schema
    assert not grammar.validate(tree)


def test_atom_rules_reject_an_entry_without_author(atom_schema) -> None:
    tree = etree.fromstring(render("atom", make_doc()))
    author = tree.find(f"{{{ATOM}}}entry/{{{ATOM}}}author")
    author.getparent().remove(author)
    grammar, rules = atom_schema
    assert grammar.validate(tree)
    assert not rules.validate(tree)


def test_atom_feed_links_and_metadata() -> None:
    feed = etree.fromstring(render("atom", make_doc()))
    links = [
        (link.get("rel"), link.get("type"), link.get("href"))
        for link in feed.iterfind(f"{{{ATOM}}}link")
    ]
    assert links == [
        ("self", "application/atom+xml", f"{BASE}/feeds/everyone.atom"),
        ("alternate", "text/html", f"{BASE}/c/everyone"),
        ("alternate", "application/feed+json", f"{BASE}/feeds/everyone.json"),
        ("alternate", "application/rss+xml", f"{BASE}/feeds/everyone.rss"),
        ("hub", None, HUB),
    ]
    assert feed.findtext(f"{{{ATOM}}}id") == "tag:feedhub.test,2024:channel/everyone"
    assert feed.findtext(f"{{{ATOM}}}updated") == "2024-03-01T12:00:00Z"
    generator = feed.find(f"{{{ATOM}}}generator")
    assert (generator.text, generator.get("version")) == ("feedhub", "0.1.0")


def test_atom_entry() -> None:
    feed = etree.fromstring(render("atom", make_doc()))
    entry = feed.find(f"{{{ATOM}}}entry")
    assert entry.findtext(f"{{{ATOM}}}published") == "2024-03-01T11:59:00Z"
    assert entry.findtext(f"{{{ATOM}}}author/{{{ATOM}}}name") == "home"
    assert [c.get("term") for c in entry.iterfind(f"{{{ATOM}}}category")] == ["watched", "home"]
    assert entry.find(f"{{{ATOM}}}content").get("type") == "html"
    assert entry.findtext(f"{{{ATOM}}}content") == content_html(ITEMS[0])
    thumbnail = entry.find(f"{{{MEDIA}}}thumbnail")
    assert thumbnail.get("url") == "https://cdn.example.com/large/braveheart.jpg"
    no_art = feed.findall(f"{{{ATOM}}}entry")[4]
    assert no_art.find(f"{{{MEDIA}}}thumbnail") is None


# --- JSON Feed -------------------------------------------------------------------------


@pytest.mark.parametrize("name", DOC_IDS)
def test_json_feed_is_valid_1_1(json_feed_schema, name: str) -> None:
    json_feed_schema.validate(json.loads(render("json", DOCS[name])))


@pytest.mark.parametrize(
    "damage",
    [
        lambda feed: feed.pop("title"),
        lambda feed: feed["items"][0].pop("id"),
        lambda feed: feed["items"][0].pop("content_html"),
        lambda feed: feed["items"][0].update(date_published="1 March 2024"),
        lambda feed: feed["items"][0].update(authors=[{}]),
        lambda feed: feed.update(version="https://jsonfeed.org/version/1"),
        lambda feed: feed.update(hub=[]),
    ],
    ids=[
        "no title", "no item id", "no content", "bad date", "empty author", "old version",
        "unknown member",
    ],
)
def test_json_feed_schema_can_fail(json_feed_schema, damage) -> None:
    feed = json.loads(render("json", make_doc()))
    damage(feed)
    with pytest.raises(jsonschema.ValidationError):
        json_feed_schema.validate(feed)


def test_json_feed_content() -> None:
    feed = json.loads(render("json", make_doc()))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == f"{BASE}/feeds/everyone.json"
    assert feed["home_page_url"] == f"{BASE}/c/everyone"
    assert feed["hubs"] == [{"type": "WebSub", "url": HUB}]
    item = feed["items"][0]
    assert item["image"] == item["banner_image"] == "https://cdn.example.com/large/braveheart.jpg"
    assert item["date_published"] == item["date_modified"] == "2024-03-01T11:59:00Z"
    assert item["authors"] == [{"name": "home"}]
    assert item["tags"] == ["watched", "home"]
    assert item["summary"] == plain_summary(ITEMS[0])
    assert "image" not in feed["items"][4]
    assert "hubs" not in json.loads(render("json", DOCS["empty"]))


# --- RSS -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DOC_IDS)
def test_rss_has_what_rss_2_requires(name: str) -> None:
    doc = DOCS[name]
    rss = etree.fromstring(render("rss", doc))
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    (channel,) = rss.findall("channel")
    for required in ("title", "link", "description"):
        assert channel.findtext(required), required
    self_link = channel.find(f"{{{ATOM}}}link[@rel='self']")
    assert self_link.get("href") == doc.self_urls["rss"]
    assert self_link.get("type") == "application/rss+xml"
    assert parsedate_to_datetime(channel.findtext("lastBuildDate")) == doc.updated
    items = channel.findall("item")
    assert len(items) == len(doc.items)
    for element, item in zip(items, doc.items, strict=True):
        assert element.findtext("title") or element.findtext("description")
        guid = element.find("guid")
        assert guid.get("isPermaLink") == "false"
        assert guid.text == item.activity.id
        assert parsedate_to_datetime(element.findtext("pubDate")) == item.activity.occurred_at
        assert element.findtext(f"{{{DC}}}creator") == clean(item.account_name)


def test_rss_links_hub_thumbnail_and_categories() -> None:
    channel = etree.fromstring(render("rss", make_doc())).find("channel")
    assert channel.find(f"{{{ATOM}}}link[@rel='hub']").get("href") == HUB
    alternates = [ln.get("type") for ln in channel.iterfind(f"{{{ATOM}}}link[@rel='alternate']")]
    assert alternates == ["application/atom+xml", "application/feed+json"]
    assert channel.findtext("generator") == "feedhub 0.1.0"
    item = channel.find("item")
    thumbnail = item.find(f"{{{MEDIA}}}thumbnail")
    assert thumbnail.get("url") == "https://cdn.example.com/large/braveheart.jpg"
    assert item.find("enclosure") is None
    assert [c.text for c in item.iterfind("category")] == ["watched", "home"]
    assert item.findtext("description") == content_html(ITEMS[0])
    empty = etree.fromstring(render("rss", DOCS["empty"])).find("channel")
    assert empty.find(f"{{{ATOM}}}link[@rel='hub']") is None


# --- all formats -----------------------------------------------------------------------


def expected_entries(doc: FeedDocument) -> list[tuple[str, str, str]]:
    return [(item.activity.id, headline(item), doc.item_url(item)) for item in doc.items]


@pytest.mark.parametrize("name", DOC_IDS)
@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_feedparser_reads_the_same_items(fmt: str, name: str) -> None:
    doc = DOCS[name]
    parsed = feedparser.parse(render(fmt, doc))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == {"rss": "rss20", "atom": "atom10"}[fmt]
    assert parsed.feed.title == clean(doc.title)
    assert [(e.id, e.title, e.link) for e in parsed.entries] == expected_entries(doc)


@pytest.mark.parametrize("name", DOC_IDS)
def test_json_feed_has_the_same_items(name: str) -> None:
    # feedparser 6 does not read JSON Feed, so the JSON is read as JSON.
    doc = DOCS[name]
    feed = json.loads(render("json", doc))
    assert [(i["id"], i["title"], i["url"]) for i in feed["items"]] == expected_entries(doc)


@pytest.mark.parametrize("fmt", list(RENDERERS))
def test_items_keep_the_given_order(fmt: str) -> None:
    shuffled = (ITEMS[5], ITEMS[0], ITEMS[9], ITEMS[2])
    data = render(fmt, make_doc(items=shuffled))
    if fmt == "json":
        ids = [item["id"] for item in json.loads(data)["items"]]
    else:
        ids = [entry.id for entry in feedparser.parse(data).entries]
    assert ids == [item.activity.id for item in shuffled]


@pytest.mark.parametrize("fmt", list(RENDERERS))
def test_rendering_is_deterministic(fmt: str) -> None:
    first = render(fmt, make_doc())
    assert render(fmt, make_doc()) == first
    reordered = dict(reversed(list(make_doc().self_urls.items())))
    assert render(fmt, make_doc(self_urls=reordered)) == first


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_awkward_text_survives_xml(fmt: str) -> None:
    data = render(fmt, DOCS["tricky"])
    etree.fromstring(data)  # well-formed despite the control character
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    assert parsed.entries[0].title == 'Mum & Dad watched Tom & Jerry <3 "Ünïcode"'
    assert parsed.feed.title == 'Channel Tom & Jerry <3 "Ünïcode"'
    assert parsed.entries[0].author == "Mum & Dad"


def test_awkward_text_survives_json() -> None:
    feed = json.loads(render("json", DOCS["tricky"]).decode("utf-8"))
    assert feed["items"][0]["title"] == 'Mum & Dad watched Tom & Jerry <3 "Ünïcode"'
    assert feed["title"] == 'Channel Tom & Jerry <3 "Ünïcode"'


@pytest.mark.parametrize("fmt", list(RENDERERS))
def test_only_public_data_is_published(fmt: str) -> None:
    # The renderers see an Activity whole; its account key and the title's key are
    # feedhub's own and stay out of every output.
    data = render(fmt, make_doc()).decode("utf-8")
    assert "account-key-" not in data
    assert "catalog:movies/" not in data


# --- OPML ------------------------------------------------------------------------------

OUTLINES = (
    OpmlOutline("Everyone", f"{BASE}/feeds/everyone.rss", html_url=f"{BASE}/c/everyone"),
    OpmlOutline(
        "People",
        children=(
            OpmlOutline("home", f"{BASE}/feeds/home.atom", category="/people/home"),
            OpmlOutline(TRICKY_NAME, f"{BASE}/feeds/tricky.json?a=1&b=2"),
        ),
    ),
)


def test_opml_is_opml_2() -> None:
    data = render_opml("feedhub channels", OUTLINES, date_created=NOW, owner_name="feedhub")
    opml = etree.fromstring(data)
    assert opml.tag == "opml" and opml.get("version") == "2.0"
    head = opml.find("head")
    assert head.findtext("title") == "feedhub channels"
    assert parsedate_to_datetime(head.findtext("dateCreated")) == NOW
    assert head.findtext("docs") == "http://opml.org/spec2.opml"
    assert head.findtext("ownerName") == "feedhub"
    top = opml.find("body").findall("outline")
    assert [o.attrib for o in top[:1]] == [
        {
            "text": "Everyone",
            "type": "rss",
            "title": "Everyone",
            "xmlUrl": f"{BASE}/feeds/everyone.rss",
            "htmlUrl": f"{BASE}/c/everyone",
        }
    ]
    folder = top[1]
    assert folder.attrib == {"text": "People"}
    nested = folder.findall("outline")
    assert [o.get("xmlUrl") for o in nested] == [
        f"{BASE}/feeds/home.atom",
        f"{BASE}/feeds/tricky.json?a=1&b=2",
    ]
    assert nested[0].get("category") == "/people/home"
    assert nested[1].get("text") == 'Tom & Jerry <3 "Ünïcode"'
    assert all(o.get("text") for o in opml.iter("outline"))


def test_opml_is_deterministic_and_typed() -> None:
    first = render_opml("feedhub", OUTLINES, date_created=NOW)
    assert render_opml("feedhub", OUTLINES, date_created=NOW) == first
    assert etree.fromstring(first).find("head/ownerName") is None
    assert OPML_MEDIA_TYPE == "text/x-opml; charset=utf-8"


def test_empty_opml_is_well_formed() -> None:
    opml = etree.fromstring(render_opml("nothing yet", (), date_created=NOW))
    assert opml.find("body") is not None and not len(opml.find("body"))
