"""The emulator's Flask app: the Netflix API 1.5 feed resources, title pages and box
art, and the ``/_emulator/`` control endpoints (clock, faults) for tests and demos.

``Emulator``, reached as ``app.extensions["emulator"]``, holds the world, the clock and
the fault rules, and builds the URLs that tests and the demo subscribe to. Absolute URLs
in responses are built from the request's host, so the app works on any port.
"""
from __future__ import annotations

import gzip
import hmac
import re
import threading
import time
import zlib
from dataclasses import asdict, dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from werkzeug.datastructures import MultiDict

from ..dates import parse_datetime
from . import hostile
from .atom import (
    FeedLink,
    FeedPage,
    content_etag,
    render_box_art,
    render_catalog_title,
    render_feed,
    render_feeds_list,
    render_feeds_opml,
    render_home_page,
    render_title_page,
)
from .catalog import Catalog, CatalogTitle
from .clock import Clock
from .oauth import OAuthProvider, oauth_routes, signed_user
from .refusal import Refusal as _Refusal
from .refusal import refused
from .script import ScriptedEvent, to_event, watched_history
from .world import Feed, FeedItem, FeedTokens, User, UserState, World

DEFAULT_MAX_RESULTS = 25
MAX_RESULTS_LIMIT = 500
ATOM_TYPE = "application/atom+xml; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"
OPML_TYPE = "text/x-opml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
# A gzipped body is another representation, so it gets another strong ETag (RFC 9110 §8.8.3).
GZIP_ETAG_SUFFIX = "-gzip"
FAULT_BODIES = ("malformed", "html", "oversized", "empty", "gzip_bomb", *hostile.DOCUMENTS)
_REDIRECTS = (301, 302, 303, 307, 308)
DEFAULT_OVERSIZED_BYTES = 16 * 1024 * 1024

routes = Blueprint("emulator", __name__)


@dataclass(frozen=True)
class FeedSpec:
    """Where a feed lives below ``users/<id>/`` and how the feeds list names it."""

    path: str
    rel: str
    title: str
    query: tuple[tuple[str, str], ...] = ()


FEEDS = {
    Feed.QUEUE: FeedSpec("queues/instant", "http://schemas.netflix.com/feed.queues.instant", "Instant Queue"),
    Feed.QUEUE_RECENT: FeedSpec(
        "queues/instant",
        "http://schemas.netflix.com/feed.queues.instant.recent",
        "Recent Additions to Instant Queue",
        (("sort", "date_added"),),
    ),
    Feed.WATCHED: FeedSpec(
        "rental_history/watched", "http://schemas.netflix.com/feed.rental_history.watched", "Titles Watched Recently"
    ),
    Feed.RECOMMENDATIONS: FeedSpec(
        "recommendations", "http://schemas.netflix.com/feed.recommendations", "Recommendations"
    ),
    Feed.RATINGS: FeedSpec("ratings/title/actual", "http://schemas.netflix.com/feed.ratings", "Ratings"),
}

_QUEUE_ORDERS: dict[str, Callable[[tuple[FeedItem, ...]], tuple[FeedItem, ...]]] = {
    "queue_sequence": lambda items: items,
    "date_added": lambda items: tuple(sorted(items, key=lambda i: (i.updated, i.title.id), reverse=True)),
    "alphabetical": lambda items: tuple(sorted(items, key=lambda i: (i.title.name.casefold(), i.title.id))),
}
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")  # matched after upper()
_MALFORMED_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<feed xmlns="http://www.w3.org/2005/Atom">\n'
    b"  <title>Instant Queue</title>\n"
    b"  <entry>\n"
    b"    <title>Salt & Pepper</title>\n"
    b"    <updated>2009-01-01T00:00:00Z</upd"
)
_HTML_BODY = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>"
    b"<body><h1>Sign in</h1><p>Please sign in to continue.</p></body></html>\n"
)


@dataclass(frozen=True)
class FaultRule:
    """What to do instead of, or before, answering requests whose path matches ``path``."""

    path: str  # a regular expression, searched for in the request path (without query)
    status: int | None = None
    retry_after: int | str | None = None  # sent as Retry-After: seconds, or any text (an HTTP date, garbage)
    location: str | None = None  # sent as Location, for redirects
    delay: float = 0.0  # seconds to wait before answering
    body: str | None = None  # one of FAULT_BODIES
    size: int | None = None  # bytes of an "oversized" body, inflated bytes of a "gzip_bomb"
    times: int | None = None  # how many requests it applies to; None: all
    trickle: float = 0.0  # seconds between two bytes of the answer's body (sent with its Content-Length)
    redirects: int = 0  # a chain of this many redirects (``status``, default 302) to the same URL first
    target: str | None = None  # what a hostile body points at: an XXE's file or URL, a page's feed link
    headers: dict[str, str] | None = None  # more response headers, e.g. Cache-Control

    def __post_init__(self) -> None:
        try:
            re.compile(self.path)
        except re.error as exc:
            raise ValueError(f"path is not a regular expression: {exc}") from None
        if self.status is not None and not 200 <= self.status <= 599:
            raise ValueError("status must be between 200 and 599")
        if self.body is not None and self.body not in FAULT_BODIES:
            raise ValueError(f"body must be one of {', '.join(FAULT_BODIES)}")
        if self.status in _REDIRECTS and not self.location and not self.redirects:
            raise ValueError("a redirect needs a location")
        if self.size is not None and (self.body not in ("oversized", "gzip_bomb") or self.size < 0):
            raise ValueError("size goes with an oversized or gzip_bomb body and is not negative")
        if self.target is not None and self.body not in hostile.DOCUMENTS:
            raise ValueError(f"target goes with a body among {', '.join(hostile.DOCUMENTS)}")
        if self.body in hostile.NEEDS_TARGET and not self.target:
            raise ValueError(f"a {self.body} body needs a target")
        if not 0 <= self.trickle <= 10:
            raise ValueError("trickle must be between 0 and 10 seconds per byte")
        if not 0 <= self.redirects <= 50:
            raise ValueError("redirects must be between 0 and 50")
        if self.redirects and self.status is not None and self.status not in _REDIRECTS:
            raise ValueError("the status of a redirect chain is a redirect status")
        if isinstance(self.retry_after, str) and not self.retry_after.isprintable():
            raise ValueError("retry_after must be printable")
        if self.headers is not None and not all(
            isinstance(k, str) and isinstance(v, str) and k.isprintable() and v.isprintable() for k, v in self.headers.items()
        ):
            raise ValueError("headers map names to values, both printable text")
        if not 0 <= self.delay <= 300:
            raise ValueError("delay must be between 0 and 300 seconds")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1")
        if isinstance(self.retry_after, int) and self.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if self.status is None and self.body is None and not (self.delay or self.trickle or self.redirects or self.headers):
            raise ValueError("a fault needs a status, a body, a delay, a trickle, redirects or headers")

    @classmethod
    def from_json(cls, data: Any) -> FaultRule:
        if not isinstance(data, dict) or not isinstance(data.get("path"), str):
            raise ValueError('a fault is a JSON object with at least a "path"')
        kinds = {"path": str, "status": int, "retry_after": (int, str), "location": str, "delay": (int, float),
                 "body": str, "size": int, "times": int, "trickle": (int, float), "redirects": int, "target": str,
                 "headers": dict}
        for name, value in data.items():
            if name not in kinds:
                raise ValueError(f"unknown fault field {name!r}")
            if value is not None and (isinstance(value, bool) or not isinstance(value, kinds[name])):
                raise ValueError(f"{name} has the wrong type")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _ArmedFault:
    rule: FaultRule
    left: int | None  # requests it still applies to; None: all


class Emulator:
    """The world, its clock and the armed faults of one emulator app."""

    def __init__(self, world: World, clock: Clock) -> None:
        self.world = world
        self.clock = clock
        self.oauth = OAuthProvider.seeded(world)
        self._faults: list[_ArmedFault] = []
        self._scripts: dict[int, list[ScriptedEvent]] = {}
        self._lock = threading.Lock()

    @property
    def users(self) -> tuple[User, ...]:
        return self.world.users

    @property
    def catalog(self) -> Catalog:
        return self.world.catalog

    @property
    def consumer_key(self) -> str:
        return self.world.consumer_key

    @property
    def consumer_secret(self) -> str:
        """The shared secret of ``consumer_key``, for signing OAuth requests."""
        return next(c.secret for c in self.oauth.consumers if c.key == self.consumer_key)

    def revoke(self, user_index: int, consumer_key: str | None = None) -> int:
        """The user takes back an application's access (the emulator's own by default):
        its access tokens and the user's feed and feeds-list tokens stop working."""
        return self.oauth.revoke(user_index, consumer_key or self.consumer_key, self.clock.now())

    def rotate_feed_tokens(self, user_index: int) -> User:
        """New feed tokens for the user; the feeds list names them from now on."""
        return self.world.reissue_tokens(user_index, self.clock.now())

    def state(self, user_index: int) -> UserState:
        """What the user's feeds show now."""
        return self.world.state_at(user_index, self.clock.now())

    def feeds_list_url(self, base_url: str, user_index: int, output: str = "xml") -> str:
        """The user's ``users/<id>/feeds`` URL, authorised by its ``feed_token``."""
        if output not in ("xml", "opml"):
            raise ValueError('output is "xml" or "opml"')
        user = self.users[user_index]
        query = [("feed_token", user.tokens.feeds_list)] + ([("output", "opml")] if output == "opml" else [])
        return f"{_root(base_url)}users/{user.id}/feeds?{urlencode(query)}"

    def feed_url(self, base_url: str, user_index: int, kind: Feed | str) -> str:
        """A feed's URL exactly as the user's feeds list gives it."""
        feed, user = Feed(kind), self.users[user_index]
        spec = FEEDS[feed]
        query = [
            ("feed_token", user.tokens.for_feed(feed)),
            ("oauth_consumer_key", self.consumer_key),
            ("output", "atom"),
            *spec.query,
        ]
        return f"{_root(base_url)}users/{user.id}/{spec.path}?{urlencode(query)}"

    def feed_links(self, base_url: str, user_index: int) -> list[FeedLink]:
        return [FeedLink(self.feed_url(base_url, user_index, feed), FEEDS[feed].rel, FEEDS[feed].title) for feed in Feed]

    def script(self, user_index: int, events: Iterable[ScriptedEvent]) -> tuple[ScriptedEvent, ...]:
        """Make the user do ``events``, each at its time, on top of the simulated activity.

        All or nothing: a title that does not fit its action, or a time not later than
        what the emulator has already served for the user, raises ``ValueError``.
        """
        if not 0 <= user_index < len(self.users):
            raise ValueError(f"no user with index {user_index}")
        events = tuple(events)
        world = self.world
        self.world.script(
            user_index,
            [to_event(event, self.catalog, lambda title: world.predicted_rating(user_index, title)) for event in events],
        )
        with self._lock:
            self._scripts.setdefault(user_index, []).extend(events)
        return events

    @property
    def scripts(self) -> dict[int, tuple[ScriptedEvent, ...]]:
        """The events scripted so far, by user index."""
        with self._lock:
            return {index: tuple(events) for index, events in sorted(self._scripts.items())}

    def set_time(self, now: datetime) -> datetime:
        return self.clock.set(now)

    def advance(self, seconds: float) -> datetime:
        return self.clock.advance(seconds)

    def add_fault(
        self,
        path: str,
        *,
        status: int | None = None,
        retry_after: int | str | None = None,
        location: str | None = None,
        delay: float = 0.0,
        body: str | None = None,
        size: int | None = None,
        times: int | None = None,
        trickle: float = 0.0,
        redirects: int = 0,
        target: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> FaultRule:
        """Arm a fault for requests whose path matches the regular expression ``path``."""
        return self.arm(FaultRule(path, status, retry_after, location, delay, body, size, times, trickle, redirects, target, headers))

    def arm(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._faults.append(_ArmedFault(rule, rule.times))
        return rule

    def clear_faults(self) -> int:
        with self._lock:
            count = len(self._faults)
            self._faults.clear()
        return count

    @property
    def faults(self) -> tuple[FaultRule, ...]:
        with self._lock:
            return tuple(armed.rule for armed in self._faults)

    def take_fault(self, path: str) -> FaultRule | None:
        """The first armed rule that matches ``path``, counting this request against it."""
        with self._lock:
            for armed in self._faults:
                if re.search(armed.rule.path, path):
                    if armed.left is not None:
                        armed.left -= 1
                        if armed.left == 0:
                            self._faults.remove(armed)
                    return armed.rule
        return None


def create_emulator_app(
    seed: int = 1,
    users: int = 3,
    start: datetime | None = None,
    pace_seconds: float = 20.0,
    clock: Clock | None = None,
    history_watched: int = 0,
    simulated: bool = True,
) -> Flask:
    """The emulator as a WSGI app. ``start`` (default: the clock's now, floored to the
    minute) divides the 60 days of made-up history from the live events.

    ``history_watched``: every user has also watched that many different titles, spread
    over the history (the catalog grows to hold them), for backfills through many pages.
    ``simulated=False``: users do nothing on their own, only what is scripted
    (``Emulator.script``) and ``history_watched``.
    """
    clock = clock or Clock()
    if start is None:
        start = clock.now().replace(second=0, microsecond=0)
    if history_watched < 0:
        raise ValueError("history_watched must not be negative")
    # About 95 % of a catalog can be watched (movies and episodes); leave room to spare.
    catalog = Catalog.generate(seed, size=max(400, history_watched * 5 // 4))
    world = World(catalog, seed=seed, users=users, start=start, pace_seconds=pace_seconds, simulated=simulated)
    if history_watched:
        for user in world.users:
            seed_text = f"feedhub-emulator-history:{seed}:{user.index}"
            world.script(user.index, watched_history(catalog, history_watched, world.history_start, world.start, seed_text))
    app = Flask(__name__, static_folder=None)
    app.extensions["emulator"] = Emulator(world, clock)
    app.register_blueprint(routes)
    app.register_blueprint(oauth_routes)
    app.register_error_handler(_Refusal, refused)
    return app



@routes.before_app_request
def _inject_fault() -> Response | None:
    if request.path.startswith("/_emulator/"):
        return None
    rule = _emulator().take_fault(request.path)
    if rule is None:
        return None
    if rule.delay:
        time.sleep(rule.delay)
    g.fault = rule  # its trickle and headers shape whatever answers (_shape)
    hop = request.args.get("_hop", "0")
    if rule.redirects and (not hop.isdigit() or int(hop) < rule.redirects):
        return _next_hop(rule, int(hop) + 1 if hop.isdigit() else 1)
    return _fault_response(rule)


# Registered before _encode, so it runs after it (Flask runs these in reverse order):
# a trickle sends the bytes that go on the wire.
@routes.after_app_request
def _shape(response: Response) -> Response:
    rule: FaultRule | None = g.get("fault")
    if rule is None:
        return response
    for name, value in (rule.headers or {}).items():
        response.headers[name] = value
    if rule.trickle:
        # With its Content-Length: the client's reader waits for all of it, byte by byte.
        body = b"".join(response.iter_encoded())
        response.response = hostile.trickled(body, rule.trickle)
        response.content_length = len(body)
    return response


@routes.after_app_request
def _encode(response: Response) -> Response:
    response.vary.add("Accept-Encoding")
    if not _accepts_gzip():
        return response
    etag, weak = response.get_etag()
    if etag and response.status_code in (200, 304):
        response.set_etag(etag + GZIP_ETAG_SUFFIX, weak)
    if (
        response.status_code == 200
        and not response.is_streamed
        and not response.direct_passthrough
        and "Content-Encoding" not in response.headers
    ):
        # mtime=0 keeps equal bodies byte-identical.
        response.set_data(gzip.compress(response.get_data(), compresslevel=6, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    return response


@routes.get("/")
def home() -> Response:
    users = [(user.id, user.name) for user in _emulator().users]
    return Response(render_home_page(users), content_type=HTML_TYPE)


@routes.get("/users/<user_id>/feeds")
def feeds_list(user_id: str) -> Response:
    emulator = _emulator()
    # A request signed with the user's access token, or the feeds-list token (extension).
    user = signed_user(user_id) or _authorised(user_id, lambda tokens: tokens.feeds_list)
    links = emulator.feed_links(request.host_url, user.index)
    # The list changes only when tokens are re-issued: it dates from then.
    issued = emulator.world.tokens_issued_at(user.index)
    output = request.args.get("output")
    if output == "opml":
        body, content_type = render_feeds_opml(links, issued), OPML_TYPE
    elif output is None:
        body, content_type = render_feeds_list(links), XML_TYPE
    else:
        raise _Refusal(400, 'output must be "opml" or left out')
    return _document(body, content_type, content_etag(body), issued)


@routes.get("/users/<user_id>/queues/instant")
def queue(user_id: str) -> Response:
    return _feed(user_id, Feed.QUEUE)


@routes.get("/users/<user_id>/rental_history/watched")
def watched(user_id: str) -> Response:
    return _feed(user_id, Feed.WATCHED)


@routes.get("/users/<user_id>/recommendations")
def recommendations(user_id: str) -> Response:
    return _feed(user_id, Feed.RECOMMENDATIONS)


@routes.get("/users/<user_id>/ratings/title/actual")
def ratings(user_id: str) -> Response:
    return _feed(user_id, Feed.RATINGS)


@routes.get("/Movie/<slug>/<int:title_id>")
def title_page(slug: str, title_id: int) -> Response:
    return _public(render_title_page(_title(title_id), request.host_url), HTML_TYPE)


@routes.get("/boxshots/<any(tiny, small, large):size>/<int:title_id>.svg")
def box_art(size: str, title_id: int) -> Response:
    return _public(render_box_art(_title(title_id), size), "image/svg+xml")


@routes.get("/catalog/titles/<path:title_type>/<int:title_id>")
def catalog_title(title_type: str, title_id: int) -> Response:
    title = _title(title_id)
    if title.type != title_type:
        raise _Refusal(404, "no such title")
    return _public(render_catalog_title(title, request.host_url), XML_TYPE)


@routes.route("/_emulator/clock", methods=["GET", "POST"])
def control_clock() -> Response | tuple[Response, int]:
    emulator = _emulator()
    if request.method == "POST":
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or not {"now", "advance"} & data.keys() or data.keys() - {"now", "advance"}:
            return _json_error('send {"now": RFC 3339 time} or {"advance": seconds}')
        try:
            if "now" in data:
                emulator.set_time(parse_moment(str(data["now"])))
            if "advance" in data:
                if isinstance(data["advance"], bool) or not isinstance(data["advance"], (int, float)):
                    raise ValueError("advance is a number of seconds")
                emulator.advance(data["advance"])
        except ValueError as exc:
            return _json_error(str(exc))
    now = emulator.clock.now()
    return jsonify(now=now.isoformat().replace("+00:00", "Z"), fixed=emulator.clock.is_fixed)


@routes.route("/_emulator/faults", methods=["GET", "POST", "DELETE"])
def control_faults() -> Response | tuple[Response, int]:
    emulator = _emulator()
    if request.method == "POST":
        try:
            rule = emulator.arm(FaultRule.from_json(request.get_json(silent=True)))
        except (TypeError, ValueError) as exc:
            return _json_error(str(exc))
        return jsonify(fault=rule.to_json()), 201
    if request.method == "DELETE":
        return jsonify(cleared=emulator.clear_faults())
    return jsonify(faults=[rule.to_json() for rule in emulator.faults])


@routes.route("/_emulator/script", methods=["GET", "POST"])
def control_script() -> Response | tuple[Response, int]:
    emulator = _emulator()
    if request.method == "POST":
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or data.keys() != {"user", "events"} or not isinstance(data["events"], list):
            return _json_error('send {"user": index, "events": [{"at", "action", "title_id", …}]}')
        if isinstance(data["user"], bool) or not isinstance(data["user"], int):
            return _json_error("user is the index of a user")
        try:
            events = [ScriptedEvent.from_json(event, parse_moment) for event in data["events"]]
            emulator.script(data["user"], events)
        except (TypeError, ValueError) as exc:
            return _json_error(str(exc))
        return jsonify(user=data["user"], events=[event.to_json() for event in events]), 201
    scripts = emulator.scripts
    return jsonify(users=[{"index": index, "events": [e.to_json() for e in events]} for index, events in scripts.items()])


@routes.get("/_emulator/users")
def control_users() -> Response:
    emulator, base = _emulator(), request.host_url
    return jsonify(
        users=[
            {
                "index": user.index,
                "id": user.id,
                "name": user.name,
                "login": user.login,
                "password": user.password,
                "feeds_list": emulator.feeds_list_url(base, user.index),
                "feeds_list_opml": emulator.feeds_list_url(base, user.index, output="opml"),
                "feeds": {feed.value: emulator.feed_url(base, user.index, feed) for feed in Feed},
            }
            for user in emulator.users
        ]
    )


def parse_moment(text: str) -> datetime:
    """Unix seconds or an RFC 3339 date-time, as ``updated_min`` takes them."""
    # A "+" that was not percent-encoded in a query string arrives as a space.
    text = re.sub(r" (\d{2}:\d{2})$", r"+\1", text.strip()).upper()
    moment = parse_datetime(text) if text.isdigit() or _RFC3339.fullmatch(text) else None
    if moment is None:
        raise ValueError(f"{text!r} is neither Unix seconds nor an RFC 3339 date-time")
    return moment


def _feed(user_id: str, feed: Feed) -> Response:
    emulator = _emulator()
    user = _authorised(user_id, lambda tokens: tokens.for_feed(feed))
    if request.args.get("output", "atom") != "atom":
        raise _Refusal(400, 'output must be "atom" or left out')
    start_index = _whole_number("start_index", 0)
    max_results = _whole_number("max_results", DEFAULT_MAX_RESULTS)
    if max_results > MAX_RESULTS_LIMIT:
        raise _Refusal(400, f"max_results cannot be greater than {MAX_RESULTS_LIMIT}")
    updated_min = None
    if "updated_min" in request.args:
        try:
            updated_min = parse_moment(request.args["updated_min"])
        except ValueError:
            raise _Refusal(400, "updated_min must be Unix seconds or an RFC 3339 date-time") from None
    sort = request.args.get("sort", "queue_sequence") if feed is Feed.QUEUE else None
    if sort is not None and sort not in _QUEUE_ORDERS:
        raise _Refusal(400, "sort must be queue_sequence, date_added or alphabetical")
    if sort == "date_added":
        feed = Feed.QUEUE_RECENT

    now = emulator.clock.now()
    state = emulator.world.state_at(user, now)
    items = _items(state, feed, sort)
    if updated_min is not None:
        items = tuple(item for item in items if item.updated >= updated_min)
    last_modified = state.last_changed[feed]
    base = request.host_url
    page = FeedPage(
        base_url=base,
        feed_id=f"{base}users/{user.id}/{FEEDS[feed].path}",
        title=FEEDS[feed].title,
        user_id=user.id,
        user_name=user.name,
        updated=last_modified,
        self_url=request.url,
        next_url=_next_url(start_index, max_results, len(items)),
        total=len(items),
        start_index=start_index,
        max_results=max_results,
        items=items[start_index : start_index + max_results],
        requested_at=now.replace(microsecond=0) if sort is not None else None,
    )
    rendered = render_feed(page)
    return _document(rendered.body, ATOM_TYPE, rendered.etag, last_modified)


def _items(state: UserState, feed: Feed, sort: str | None) -> tuple[FeedItem, ...]:
    if sort is not None:
        return _QUEUE_ORDERS[sort](state.queue)
    return {Feed.WATCHED: state.watched, Feed.RATINGS: state.ratings, Feed.RECOMMENDATIONS: state.recommendations}[feed]


def _next_url(start_index: int, max_results: int, total: int) -> str | None:
    if max_results == 0 or start_index + max_results >= total:
        return None
    args = MultiDict(request.args)
    args["start_index"] = str(start_index + max_results)
    return f"{request.base_url}?{urlencode(list(args.items(multi=True)))}"


def _whole_number(name: str, default: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    if not re.fullmatch(r"\d{1,9}", value):
        raise _Refusal(400, f"{name} must be a whole number, 0 or more")
    return int(value)


def _authorised(user_id: str, token_of: Callable[[FeedTokens], str]) -> User:
    user = _emulator().world.user(user_id)
    if user is None:
        raise _Refusal(404, "no such user")
    given = request.args.get("feed_token", "")
    if not hmac.compare_digest(given.encode(), token_of(user.tokens).encode()):
        raise _Refusal(401, "missing or invalid feed_token")
    return user


def _document(body: bytes, content_type: str, etag: str, last_modified: datetime) -> Response:
    """``body`` with its validators, or 304 when the client already has it (If-None-Match
    wins over If-Modified-Since, RFC 9110 §13.1.3)."""
    if "If-None-Match" in request.headers:
        tags = request.if_none_match
        unchanged = tags.contains_weak(etag) or tags.contains_weak(etag + GZIP_ETAG_SUFFIX)
    else:
        since = request.if_modified_since
        unchanged = since is not None and last_modified <= since
    if unchanged:
        response = Response(status=304)
        del response.headers["Content-Type"]
    else:
        response = Response(body, content_type=content_type)
    response.set_etag(etag)
    response.last_modified = last_modified
    return response


def _public(body: bytes, content_type: str) -> Response:
    response = Response(body, content_type=content_type)
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


def _title(title_id: int) -> CatalogTitle:
    title = _emulator().catalog.get(title_id)
    if title is None:
        raise _Refusal(404, "no such title")
    return title


def _next_hop(rule: FaultRule, hop: int) -> Response:
    """One redirect of a chain: the same URL, one hop further (``_hop``)."""
    args = MultiDict(request.args)
    args["_hop"] = str(hop)
    response = Response(status=rule.status or 302)
    response.headers["Location"] = f"{request.base_url}?{urlencode(list(args.items(multi=True)))}"
    return response


def _fault_response(rule: FaultRule) -> Response | None:
    if rule.body is None and (rule.status is None or rule.redirects):
        return None  # a delay, trickle, headers or a redirect chain alone: then answer as usual
    status = 200 if rule.redirects else rule.status or 200
    if rule.body is None:
        response = Response(f"{status} {_phrase(status)}\n", status, content_type=TEXT_TYPE)
    elif rule.body == "oversized":
        response = _oversized(rule.size if rule.size is not None else DEFAULT_OVERSIZED_BYTES, status)
    elif rule.body == "gzip_bomb":
        response = Response(hostile.gzip_bomb(rule.size), status, content_type=ATOM_TYPE)
        response.headers["Content-Encoding"] = "gzip"
    elif rule.body in hostile.DOCUMENTS:
        body, content_type = hostile.document(rule.body, rule.target)
        response = Response(body, status, content_type=content_type)
    else:
        body, content_type = {
            "malformed": (_MALFORMED_BODY, ATOM_TYPE),
            "html": (_HTML_BODY, HTML_TYPE),
            "empty": (b"", ATOM_TYPE),
        }[rule.body]
        response = Response(body, status, content_type=content_type)
    if rule.retry_after is not None:
        response.headers["Retry-After"] = str(rule.retry_after)
    if rule.location:
        response.headers["Location"] = rule.location
    return response


def _oversized(size: int, status: int) -> Response:
    """A streamed Atom document of ``size`` bytes, gzipped when the client accepts it (then
    tiny on the wire: a test of limits applied after decompression)."""
    if _accepts_gzip():
        response = Response(_gzip_stream(_padded_feed(size)), status, content_type=ATOM_TYPE)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(_padded_feed(size), status, content_type=ATOM_TYPE)
        response.content_length = size
    return response


def _padded_feed(size: int) -> Iterator[bytes]:
    head = b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><!-- '
    tail = b" --></feed>\n"
    if size < len(head) + len(tail):
        yield (head + tail)[:size]
        return
    yield head
    padding, chunk = size - len(head) - len(tail), b"x" * 65536
    while padding:
        step = min(padding, len(chunk))
        yield chunk[:step]
        padding -= step
    yield tail


def _gzip_stream(chunks: Iterator[bytes]) -> Iterator[bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip container
    for chunk in chunks:
        if data := compressor.compress(chunk):
            yield data
    yield compressor.flush()


def _accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _json_error(message: str) -> tuple[Response, int]:
    return jsonify(error=message), 400


def _emulator() -> Emulator:
    return current_app.extensions["emulator"]


def _root(base_url: str) -> str:
    return base_url if base_url.endswith("/") else base_url + "/"
