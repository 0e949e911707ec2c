"""The commands for sources that stopped and for what polling did: ``feedhub enable``
(poll a retired or stopped source again), ``feedhub resume`` (an account's sources,
after it got new tokens) and ``feedhub polls`` (a source's poll log)."""
from __future__ import annotations

import click

from .dates import rfc3339
from .storage import NotFoundError
from .urls import scrub


@click.command()
@click.argument("source_id", type=int)
def enable(source_id: int) -> None:
    """Poll a stopped source (retired after a 410, waiting for tokens, paused) again."""
    from .cli import _services

    services = _services()
    try:
        source = services.store.enable_source(source_id, services.now())
    except NotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()
    click.echo(f"#{source.id} {source.account_name}/{source.kind.value} is active again and due now: {source.url_display}")


@click.command()
@click.argument("account")
def resume(account: str) -> None:
    """Poll again the sources of ACCOUNT that wait for new tokens (after a 401/403)."""
    from .cli import _services

    services = _services()
    try:
        resumed = services.store.resume_account(account, services.now())
    except NotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()
    if not resumed:
        click.echo(f"no source of {account!r} was waiting for new tokens")
        return
    click.echo(f"resumed {len(resumed)} source{'' if len(resumed) == 1 else 's'} of {account!r}; they are due now:")
    for source in resumed:
        click.echo(f"  #{source.id:<4} {source.kind.value:<16} {source.url_display}")


@click.command()
@click.argument("source_id", type=int)
@click.option("--limit", default=20, show_default=True, help="How many of the newest polls to show.")
def polls(source_id: int, limit: int) -> None:
    """Show the poll log of a source: when, outcome, HTTP status, time, bytes, changes."""
    from .cli import _services

    services = _services()
    try:
        source = services.store.source(source_id)
        rows = services.store.recent_polls(source_id, max(1, limit))
    except NotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()
    click.echo(f"#{source.id} {source.account_name}/{source.kind.value} {source.url_display}")
    if not rows:
        click.echo("not polled yet")
        return
    click.echo(f"{'started':<20}  {'outcome':<18} {'http':>4} {'ms':>6} {'bytes':>9} {'new':>5} {'changed':>7}  message")
    for p in rows:
        click.echo(
            f"{rfc3339(p.started_at):<20}  {p.outcome:<18} {p.http_status or '-':>4} {p.duration_ms:>6} {p.bytes:>9} "
            f"{p.new_entries:>5} {p.changed_entries:>7}  {scrub(p.message or '', source.url)}"
        )
