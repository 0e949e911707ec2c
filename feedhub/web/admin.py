"""Administration from the dashboard (SPEC §7), for the logged-in admin only. Every
change is a POST carrying the session's CSRF token (``web.auth`` checks it).

- **Add** an account by URL (a feeds list, an OPML URL or one feed) or by uploading an
  OPML file. feedhub first reads what is there and shows what it would create; nothing
  is created until the admin confirms. Between the two steps the feeds (secret URLs)
  wait in storage under a random id, never in the page or the session cookie.
- **Rename** an account; give it **new tokens** (a new feeds-list URL, see ``renew``)
  after its old ones were revoked; **remove** it, after a confirmation page.
- **Pause** and **resume** a source; **poll** it now. Polling runs the poll pipeline
  in this web process for that one source: as a plain form (the page reloads with the
  result) or, from ``static/feedhub.js``, through ``POST /api/sources/<id>/poll``, which
  answers JSON with the result and the source's new table row.

Bad input re-renders the form with a message that says what to do and changes nothing
(SPEC §9). A URL the admin typed is never written back into a page: it may hold a token.
"""
from __future__ import annotations

import json
import secrets
import unicodedata
from dataclasses import asdict
from typing import Any

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from feedhub.discover import DiscoveryError, FeedsDocument, FoundFeed, read_opml
from feedhub.models import Kind
from feedhub.poll import PollReport
from feedhub.renew import renew_account
from feedhub.scheduler import Poller
from feedhub.storage import DuplicateError, NotFoundError
from feedhub.storage.rows import AccountRow, SourceRow
from feedhub.subscribe import AddError, account_key, create, default_name, new_sources_of, read_url
from feedhub.urls import scrub
from feedhub.web.auth import admin_required
from feedhub.web.context import services
from feedhub.web.dashboard import AUTOPOLL, SPARK_POLLS, health, sparkline

bp = Blueprint("admin", __name__)

MAX_NAME_LENGTH = 200  # the accounts.name column
POLLER = "feedhub.web_poller"


# adding ----------------------------------------------------------------------------------


@bp.get("/admin/add")
@admin_required
def add() -> str:
    return render_template("admin_add.html", name="", error=None, upload_limit=current_app.config["MAX_CONTENT_LENGTH"])


@bp.post("/admin/add/url")
@admin_required
def add_from_url() -> Any:
    url = request.form.get("url", "").strip()
    name = request.form.get("name", "").strip()
    if not url:
        return _add_error("Give the URL of a feeds list, an OPML file or a feed.", name)
    try:
        document, feeds_url = read_url(services().fetcher, url)
    except AddError as exc:
        return _add_error(f"{exc}. (The URL is not shown again here: it may hold a token. Paste it again to retry.)", name)
    return _to_preview(document, feeds_url, name)


@bp.post("/admin/add/opml")
@admin_required
def add_from_opml() -> Any:
    name = request.form.get("name", "").strip()
    upload = request.files.get("opml")
    if upload is None or not upload.filename:
        return _add_error("Choose an OPML file to upload.", name)
    try:
        document = read_opml(upload.read())
    except DiscoveryError as exc:
        return _add_error(f"cannot import {upload.filename}: {exc}", name)
    return _to_preview(document, None, name)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> Any:
    if request.endpoint == "admin.add_from_opml":
        limit = current_app.config["MAX_CONTENT_LENGTH"] // 1024
        return _add_error(f"That file is too large: an OPML file up to {limit} KiB is accepted.", "", status=413)
    return error.get_response()


@bp.get("/admin/add/<preview_id>")
@admin_required
def preview(preview_id: str) -> Any:
    document, feeds_url, name = _load_preview(preview_id)
    return _render_preview(preview_id, document, feeds_url, name, error=None)


@bp.post("/admin/add/<preview_id>")
@admin_required
def create_account(preview_id: str) -> Any:
    document, feeds_url, _ = _load_preview(preview_id)
    name = request.form.get("name", "").strip()
    problem = _name_problem(name) if name else None
    if problem:
        return _render_preview(preview_id, document, feeds_url, name, error=problem, status=400)
    svc = services()
    try:
        added = create(svc.store, document, name or None, feeds_url, svc.settings.poll_interval, svc.now())
    except AddError as exc:
        return _render_preview(preview_id, document, feeds_url, name, error=str(exc), status=409)
    svc.store.drop_preview(preview_id)
    session[AUTOPOLL] = [s.id for s in added.sources]
    count = len(added.sources)
    flash(f"Added {added.account.name} with {count} source{'' if count == 1 else 's'}; polling them now.", "ok")
    return redirect(url_for("dashboard.index", _anchor=f"account-{added.account.id}"))


def _to_preview(document: FeedsDocument, feeds_url: str | None, name: str) -> Response:
    preview_id = secrets.token_urlsafe(24)
    data = {
        "form": document.form,
        "title": document.title,
        "feeds": [[f.url, f.title, f.kind.value] for f in document.feeds],
        "feeds_url": feeds_url,
        "name": name,
    }
    svc = services()
    svc.store.save_preview(preview_id, json.dumps(data), svc.now())
    return redirect(url_for("admin.preview", preview_id=preview_id))


def _load_preview(preview_id: str) -> tuple[FeedsDocument, str | None, str]:
    text = services().store.preview(preview_id, services().now())
    if text is None:
        abort(404, description="This preview is gone: it was used already, or it is more than an hour old. Add the account again.")
    data = json.loads(text)
    feeds = tuple(FoundFeed(url, title, Kind(kind)) for url, title, kind in data["feeds"])
    return FeedsDocument(data["form"], data["title"], feeds), data["feeds_url"], data["name"]


def _render_preview(preview_id: str, document: FeedsDocument, feeds_url: str | None, name: str, *, error: str | None, status: int = 200) -> Any:
    try:
        new_sources = new_sources_of(document)
    except AddError as exc:  # a feed of the file is no http(s) URL: nothing can be created
        new_sources, error, status = [], str(exc), 400
    proposed = default_name(document, account_key(feeds_url, [f.url for f in document.feeds]))
    page = render_template(
        "admin_preview.html",
        preview_id=preview_id,
        document=document,
        sources=new_sources,
        taken=services().store.taken_sources(new_sources),
        name=name or proposed,
        error=error,
    )
    return page, status


def _add_error(message: str, name: str, status: int = 400) -> tuple[str, int]:
    page = render_template("admin_add.html", name=name, error=message, upload_limit=current_app.config["MAX_CONTENT_LENGTH"])
    return page, status


# accounts ----------------------------------------------------------------------------------


@bp.get("/admin/accounts/<int:account_id>")
@admin_required
def account(account_id: int) -> Any:
    return _render_account(_account_or_404(account_id))


@bp.post("/admin/accounts/<int:account_id>/rename")
@admin_required
def rename_account(account_id: int) -> Any:
    account = _account_or_404(account_id)
    name = request.form.get("name", "").strip()
    problem = _name_problem(name)
    if problem:
        return _render_account(account, rename_error=problem, status=400)
    try:
        renamed = services().store.rename_account(account.id, name)
    except DuplicateError as exc:
        return _render_account(account, rename_error=f"{exc}: choose another name", status=409)
    if renamed.name != account.name:
        flash(f"Renamed {account.name} to {renamed.name}. The feeds say the new name; their URLs stay.", "ok")
    return redirect(url_for("admin.account", account_id=account.id))


@bp.post("/admin/accounts/<int:account_id>/renew")
@admin_required
def renew(account_id: int) -> Any:
    account = _account_or_404(account_id)
    url = request.form.get("url", "").strip()
    if not url:
        return _render_account(account, renew_error="Give the new feeds-list URL.", status=400)
    svc = services()
    try:
        renewal = renew_account(svc.store, svc.fetcher, account, url, svc.settings.poll_interval, svc.now())
    except AddError as exc:
        return _render_account(account, renew_error=f"{exc} (The URL is not shown again here: it may hold a token.)", status=400)
    session[AUTOPOLL] = [s.id for s in renewal.sources]
    parts = [f"{renewal.replaced} source{'' if renewal.replaced == 1 else 's'} resumed with the new tokens"]
    if renewal.added:
        parts.append(f"{renewal.added} new one{'' if renewal.added == 1 else 's'} added")
    if renewal.untouched:
        parts.append("not in the new list, left as they were: " + ", ".join(s.title for s in renewal.untouched))
    flash(f"{account.name}: " + "; ".join(parts) + ". Polling them now; nothing was lost.", "ok")
    return redirect(url_for("dashboard.index", _anchor=f"account-{account.id}"))


@bp.get("/admin/accounts/<int:account_id>/remove")
@admin_required
def confirm_remove(account_id: int) -> str:
    account = _account_or_404(account_id)
    return render_template("admin_remove.html", account=account, sources=services().store.sources(account.id))


@bp.post("/admin/accounts/<int:account_id>/remove")
@admin_required
def remove_account(account_id: int) -> Response:
    account = _account_or_404(account_id)
    services().store.remove_account(account.name)
    flash(f"Removed {account.name} with its sources, entries and activities.", "ok")
    return redirect(url_for("dashboard.index"))


def _render_account(account: AccountRow, *, rename_error: str | None = None, renew_error: str | None = None, status: int = 200) -> Any:
    store = services().store
    sources = store.sources(account.id)
    polls = store.recent_polls_by_source(SPARK_POLLS)
    page = render_template(
        "admin_account.html",
        account=account,
        sources=sources,
        sparks={s.id: sparkline(s, polls.get(s.id, [])) for s in sources},
        needs_token=any(s.state == "needs_token" for s in sources),
        rename_error=rename_error,
        renew_error=renew_error,
        now=services().now(),
    )
    return page, status


def _account_or_404(account_id: int) -> AccountRow:
    try:
        return services().store.account_by_id(account_id)
    except NotFoundError as exc:
        abort(404, description=str(exc))


def _name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an account, or None."""
    if not name:
        return "The name cannot be empty."
    if len(name) > MAX_NAME_LENGTH:
        return f"The name is too long: at most {MAX_NAME_LENGTH} characters."
    if any(unicodedata.category(c).startswith("C") for c in name):
        return "The name cannot hold control characters."
    return None


# sources -----------------------------------------------------------------------------------


@bp.post("/admin/sources/<int:source_id>/pause")
@admin_required
def pause_source(source_id: int) -> Response:
    return _set_state(source_id, allowed=("active",), state="paused", verb="paused", done="it is not polled until resumed")


@bp.post("/admin/sources/<int:source_id>/resume")
@admin_required
def resume_source(source_id: int) -> Response:
    return _set_state(source_id, allowed=("paused", "retired"), state="active", verb="resumed", done="it is polled again from now on")


@bp.post("/admin/sources/<int:source_id>/poll")
@admin_required
def poll_source(source_id: int) -> Response:
    source, report = _poll(source_id)
    flash(f"{source.account_name}'s {source.title}: {_summary(source, report)}", "ok" if report.outcome.healthy else "error")
    return _back(source)


@bp.post("/api/sources/<int:source_id>/poll")
@admin_required
def poll_source_json(source_id: int) -> Response:
    source, report = _poll(source_id)
    polls = services().store.recent_polls(source.id, SPARK_POLLS)
    row = render_template(
        "dashboard_source.html", source=source, spark=sparkline(source, polls), now=services().now(), back=_back_to()
    )
    return jsonify(
        source={"id": source.id, "state": source.state, "health": asdict(health(source)), "entry_count": source.entry_count},
        poll={
            "outcome": report.outcome.value,
            "healthy": report.outcome.healthy,
            "message": scrub(report.message, source.url),
            "new_entries": report.new_entries,
            "changed_entries": report.changed_entries,
            "new_activities": report.new_activities,
            "duration_ms": round(report.duration * 1000),
        },
        summary=_summary(source, report),
        row=row,
    )


def _poll(source_id: int) -> tuple[SourceRow, PollReport]:
    """Run the poll pipeline for one source now; the source as it is afterwards."""
    store = services().store
    source = _source_or_404(source_id)
    reports = _poller().poll_many([source])
    if not reports:
        abort(409, description="This source is being polled already; its result shows in a moment.")
    return store.source(source_id), reports[0]


def _poller() -> Poller:
    """The web process's own poller: it keeps one source from being polled twice at once."""
    extensions = current_app.extensions
    if POLLER not in extensions:
        extensions.setdefault(POLLER, Poller(services()))
    return extensions[POLLER]


def _summary(source: SourceRow, report: PollReport) -> str:
    """One line for people: what the poll found, secrets scrubbed."""
    text = f"{report.outcome.value.replace('_', ' ')} — {scrub(report.message, source.url)}"
    if report.outcome.healthy:
        text += f"; {report.new_activities} new activit{'y' if report.new_activities == 1 else 'ies'}"
    return text + f" ({report.duration * 1000:.0f} ms)"


def _set_state(source_id: int, *, allowed: tuple[str, ...], state: str, verb: str, done: str) -> Response:
    source = _source_or_404(source_id)
    if source.state not in allowed:
        hint = " Give its account new tokens instead." if source.state == "needs_token" else ""
        abort(409, description=f"{source.account_name}'s {source.title} is {source.state.replace('_', ' ')}, so it cannot be {verb}.{hint}")
    services().store.set_source_state(source.id, state, services().now())
    flash(f"{source.account_name}'s {source.title} is {verb}: {done}.", "ok")
    return _back(source)


def _source_or_404(source_id: int) -> SourceRow:
    try:
        return services().store.source(source_id)
    except NotFoundError as exc:
        abort(404, description=str(exc))


def _back_to() -> str:
    """Which page an action returns to: the account page or (default) the dashboard."""
    return "account" if request.form.get("back") == "account" else "dashboard"


def _back(source: SourceRow) -> Response:
    if _back_to() == "account":
        return redirect(url_for("admin.account", account_id=source.account_id, _anchor=f"source-{source.id}"))
    return redirect(url_for("dashboard.index", _anchor=f"source-{source.id}"))
