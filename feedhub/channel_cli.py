"""``feedhub channel …``: list, add, edit, remove channels, give one a new token, and
show a channel's URLs (with its token: the command line is the admin's).

URLs start from ``FEEDHUB_BASE_URL``, else from http://localhost:8000/ (say so).
"""
from __future__ import annotations

from typing import Any

import click

from .channels import Channel, ChannelError, describe, ordered, parse_spec
from .storage import DuplicateError, NotFoundError

DEFAULT_BASE = "http://localhost:8000/"


@click.group("channel")
def channel() -> None:
    """Manage the republished channels."""


def _filter_options(command: Any) -> Any:
    """The options that say what a channel shows; on ``edit`` only those given change,
    and an empty value ("") clears a condition."""
    options = [
        click.option("--title", help="Its title in feeds and pages."),
        click.option("--description", help="A sentence about it."),
        click.option("--account", "accounts", multiple=True, help="An account it shows (repeat); default every account."),
        click.option("--all-accounts", is_flag=True, default=None, help="Every account, also those added later."),
        click.option("--kind", "kinds", multiple=True, help="A kind it shows (repeat or comma list): queue, queue_recent, watched, ratings, recommendations, other."),
        click.option("--min-rating", help="Only activities rated at least this (0 to 5)."),
        click.option("--text", help="Only activities whose title or account name holds this text."),
        click.option("--since", help="Only activities since this date (RFC 3339 or YYYY-MM-DD)."),
        click.option("--public/--private", "public", default=None, help="Readable without its token (default: private)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _given(title, description, accounts, all_accounts, kinds, min_rating, text, since, public) -> dict[str, Any]:
    """The fields given on the command line, as ``parse_spec`` takes them."""
    values: dict[str, Any] = {}
    for key, value in (("title", title), ("description", description), ("min_rating", min_rating), ("text", text), ("since", since), ("public", public)):
        if value is not None:
            values[key] = value
    if all_accounts and accounts:
        raise click.UsageError("give either --all-accounts or --account, not both")
    if all_accounts:
        values["accounts"] = None
    elif accounts:
        values["accounts"] = [name for given in accounts for name in given.split(",")]
    if kinds:
        values["kinds"] = [kind for given in kinds for kind in given.split(",")]
    return values


@channel.command("list")
def list_() -> None:
    """Every channel: name, who may read it, what it shows."""
    from .cli import _services

    services = _services()
    try:
        found = ordered(services.store.channels())
    finally:
        services.close()
    if not found:
        click.echo("no channels: add one with `feedhub channel add NAME`")
        return
    width = max(len(c.name) for c in found)
    for item in found:
        visibility = "public" if item.spec.public else "private"
        owner = f" (made for {item.owner})" if item.owner else ""
        click.echo(f"{item.name:<{width}}  {visibility:<7}  {' · '.join(describe(item.spec))}{owner}")


@channel.command()
@click.argument("name")
@_filter_options
def add(name: str, **options: Any) -> None:
    """Create a channel (private unless --public)."""
    from .cli import _services

    services = _services()
    try:
        spec = parse_spec({"name": name, **_given(**options)})
        made = services.store.add_channel(spec, services.now())
        click.echo(f"created channel {made.name!r} ({'public' if spec.public else 'private'})")
        _print_urls(services, made)
    except (ChannelError, DuplicateError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()


@channel.command()
@click.argument("name")
@click.option("--rename", help="A new name (its URLs change with it).")
@_filter_options
def edit(name: str, rename: str | None, **options: Any) -> None:
    """Change what a channel shows or who may read it."""
    from .cli import _services

    services = _services()
    try:
        values = _given(**options)
        if rename is not None:
            values["name"] = rename
        if not values:
            raise click.UsageError("nothing to change: give an option (see --help)")
        spec = parse_spec(values, services.store.channel(name).spec)
        changed = services.store.replace_channel(name, spec, services.now())
        click.echo(f"saved channel {changed.name!r}")
    except (ChannelError, DuplicateError, NotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()


@channel.command()
@click.argument("name")
def remove(name: str) -> None:
    """Remove a channel; its URLs answer 404 from then on."""
    from .cli import _services

    services = _services()
    try:
        services.store.remove_channel(name, services.now())
    except NotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()
    click.echo(f"removed channel {name!r}")


@channel.command()
@click.argument("name")
def rotate(name: str) -> None:
    """Give a channel a new token: its old URLs stop working at once."""
    from .cli import _services

    services = _services()
    try:
        changed = services.store.rotate_channel_token(name, services.now())
        click.echo(f"channel {name!r} has a new token; its old URLs no longer work. The new ones:")
        _print_urls(services, changed)
    except NotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()


@channel.command()
@click.argument("name")
def urls(name: str) -> None:
    """Show a channel's URLs in every format and its widget snippets."""
    from .cli import _services

    services = _services()
    try:
        _print_urls(services, services.store.channel(name))
    except NotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()


def _print_urls(services: Any, item: Channel) -> None:
    from .web import create_app

    for line in channel_lines(create_app(services=services), item, services.settings.base_url or DEFAULT_BASE):
        click.echo(line)
    if services.settings.base_url is None:
        click.echo(f"  (URLs start from {DEFAULT_BASE}: set FEEDHUB_BASE_URL to the address people use)")
    if not item.spec.public:
        click.echo("  private: these URLs hold its token; share them only with people who may read it")


def channel_lines(app: Any, item: Channel, base: str) -> list[str]:
    """A channel's URLs and widget snippet under ``base``, one labelled line each."""
    from .web.access import links
    from .web.embed import WidgetOptions, snippets

    with app.test_request_context("/", base_url=base):
        found = links(item)
        snippet = snippets(item, WidgetOptions())
    rows = [
        ("RSS", found.feeds["rss"]),
        ("Atom", found.feeds["atom"]),
        ("JSON Feed", found.feeds["json"]),
        ("page", found.page),
        ("iframe", found.embed),
        ("script", found.script),
        ("widget", snippet["script"]),
    ]
    return [f"  {label:<10} {url}" for label, url in rows]


def export_document(services: Any, fmt: str, name: str, limit: int | None, sources: bool, with_secrets: bool) -> bytes:
    """What ``feedhub export`` writes: a channel's feed (read with its token), the OPML of
    every channel (with their tokens), or the sources' OPML (secrets only if asked)."""
    from .web import create_app
    from .web.access import TOKEN
    from .web.feeds import channels_document, sources_document

    if (sources or with_secrets) and fmt != "opml":
        raise click.UsageError("--sources and --with-secrets go with --format opml")
    if with_secrets and not sources:
        raise click.UsageError("--with-secrets goes with --sources")
    base = services.settings.base_url or DEFAULT_BASE
    app = create_app(services=services)
    if fmt == "opml":
        with app.test_request_context("/", base_url=base):
            if not sources:
                return channels_document(ordered(services.store.channels()), services.store.change_marker())
            if with_secrets:
                click.echo("warning: this OPML holds the secret URLs of your sources; keep it like a password", err=True)
            return sources_document(with_secrets)
    try:
        found = services.store.channel(name)
    except NotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    query = {TOKEN: found.token} | ({"limit": limit} if limit else {})
    response = app.test_client().get(f"/feeds/{name}.{fmt}", query_string=query, base_url=base)
    if response.status_code != 200:
        raise click.ClickException(response.get_data(as_text=True).strip()[:300] or f"HTTP {response.status_code}")
    return response.get_data()
