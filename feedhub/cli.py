"""The ``feedhub`` command (click, which Flask brings)."""
from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

import click

from .config import ConfigError, describe, load_settings
from .logs import setup_logging
from .poll import PAGE_SIZE, PollReport, describe_report
from .scheduler import Poller, Scheduler
from .services import Services, build_services
from .storage import NotFoundError
from .storage.rows import SourceRow
from .subscribe import AddError, Added, add_url, import_opml


def _services(**overrides) -> Services:
    try:
        return build_services(load_settings(overrides))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def main(verbose: bool) -> None:
    """feedhub: poll private activity feeds, keep their history, republish them merged."""
    setup_logging(logging.DEBUG if verbose else logging.WARNING)


def _print_added(added: Added) -> None:
    click.echo(f"added account {added.account.name!r} from a {added.form.replace('_', ' ')} with {len(added.sources)} sources:")
    for source in added.sources:
        click.echo(f"  #{source.id:<4} {source.kind.value:<16} {source.title}  {source.url_display}")


@main.command()
@click.argument("url")
@click.option("--name", help="Name of the account (shown in the republished feeds).")
def add(url: str, name: str | None) -> None:
    """Add an account from a feeds list (XML or OPML form), an OPML URL or one feed URL."""
    services = _services()
    try:
        added = add_url(services.store, services.fetcher, url, name, services.settings.poll_interval, services.now())
    except AddError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()
    _print_added(added)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="Name of the account.")
def import_(file: Path, name: str | None) -> None:
    """Add an account from the feeds of an OPML file."""
    services = _services()
    try:
        added = import_opml(services.store, file.read_bytes(), name, services.settings.poll_interval, services.now())
    except AddError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()
    _print_added(added)


def _when(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    seconds = int((value - now).total_seconds())
    span = abs(seconds)
    text = f"{span}s" if span < 120 else f"{span // 60}m" if span < 7200 else f"{span // 3600}h" if span < 172800 else f"{span // 86400}d"
    return f"in {text}" if seconds > 0 else f"{text} ago"


@main.command()
def sources() -> None:
    """Show every account and source with its health."""
    services = _services()
    try:
        rows = services.store.sources()
        now = services.now()
    finally:
        services.close()
    if not rows:
        click.echo("no sources yet: add one with `feedhub add URL`")
        return
    header = f"{'id':>4}  {'account':<12} {'kind':<16} {'state':<11} {'last poll':<10} {'next poll':<10} {'entries':>7}  last result"
    click.echo(header)
    for s in rows:
        result = s.last_outcome or "not polled yet"
        if s.last_outcome and s.last_outcome not in ("ok", "not_modified"):
            result += f": {s.last_message}"
        state = "backing off" if s.backing_off else s.state
        click.echo(
            f"{s.id:>4}  {s.account_name[:12]:<12} {s.kind.value:<16} {state:<11} "
            f"{_when(s.last_polled_at, now):<10} {_when(s.next_due_at, now) if s.state == 'active' else '-':<10} {s.entry_count:>7}  {result}"
        )


@main.command()
@click.option("--source", "source_id", type=int, help="Poll only this source (its id from `feedhub sources`).")
@click.option("--all", "poll_all", is_flag=True, help="Poll every active source now, due or not.")
def poll(source_id: int | None, poll_all: bool) -> None:
    """Poll the sources that are due (or the ones asked for) and print a summary."""
    services = _services()
    try:
        if source_id is not None:
            try:
                todo = [services.store.source(source_id)]
            except NotFoundError as exc:
                raise click.ClickException(str(exc)) from None
        elif poll_all:
            todo = [s for s in services.store.sources() if s.state == "active"]
        else:
            todo = services.store.due_sources(services.now())
        reports = _poll_with_progress(services, todo)
    finally:
        services.close()
    failed = [r for r in reports if not r.outcome.healthy]
    click.echo(
        f"polled {len(reports)} sources: {len(reports) - len(failed)} ok, {len(failed)} failed, "
        f"{sum(r.new_activities for r in reports)} new activities"
    )
    if failed:
        sys.exit(1)


def _backfill_progress(source: SourceRow, read: int, total: int | None) -> None:
    """A line per page of a read longer than one page (a backfill), on stderr."""
    if total is not None and total > PAGE_SIZE:
        click.echo(f"  {source.account_name}/{source.kind.value} #{source.id}: backfill, {read:,} of {total:,} entries read", err=True)


def _poll_with_progress(services: Services, todo: list[SourceRow]) -> list[PollReport]:
    poller = Poller(services, on_page=_backfill_progress)
    lines: list[str] = []
    try:
        if sys.stdout.isatty() and todo:
            with click.progressbar(length=len(todo), label="polling", file=sys.stdout) as bar:
                reports = poller.poll_many(todo, lambda s, r: (bar.update(1), lines.append(describe_report(s, r))))
        else:
            reports = poller.poll_many(todo, lambda s, r: lines.append(describe_report(s, r)))
    finally:
        poller.close()
    for line in lines:
        click.echo(line)
    return reports


@main.command()
@click.option("--format", "fmt", type=click.Choice(["rss", "atom", "json", "opml"]), default="rss", show_default=True)
@click.option("--channel", default="all", show_default=True)
@click.option("--limit", type=int, help="Number of items (at most 500).")
@click.option("--sources", is_flag=True, help="With --format opml: the polled sources instead of the channels, their secrets left out.")
@click.option("--with-secrets", is_flag=True, help="With --sources: keep the sources' real URLs, secrets included (a warning is printed).")
def export(fmt: str, channel: str, limit: int | None, sources: bool, with_secrets: bool) -> None:
    """Write a republished feed, the OPML of every channel, or the sources' OPML to standard output."""
    from .channel_cli import export_document

    services = _services()
    try:
        sys.stdout.buffer.write(export_document(services, fmt, channel, limit, sources, with_secrets))
    finally:
        services.close()


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def serve(host: str, port: int) -> None:
    """Run the web app and the poll scheduler."""
    from .emulator.server import serve_in_thread
    from .web import create_app

    services = _services()
    app = create_app(services=services)
    scheduler = Scheduler(services)
    if services.settings.start_scheduler:
        scheduler.start()
    server = serve_in_thread(app, host=host, port=port)
    click.echo(f"feedhub serving on {server.url} (Ctrl-C stops)")
    try:
        _wait_for_signal()
    finally:
        server.stop()
        scheduler.stop()
        services.close()


@main.command()
def worker() -> None:
    """Run the poll scheduler alone (beside WSGI web workers)."""
    services = _services()
    scheduler = Scheduler(services)
    if not scheduler.start():
        services.close()
        raise click.ClickException("another feedhub process is running the scheduler for this data directory")
    click.echo("feedhub worker polling (Ctrl-C stops)")
    try:
        _wait_for_signal()
    finally:
        scheduler.stop()
        services.close()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True)
@click.option("--users", default=3, show_default=True, help="Number of sample users.")
@click.option("--seed", default=1, show_default=True)
@click.option("--pace", default=20.0, show_default=True, help="Mean seconds between two events of one user.")
def emulator(host: str, port: int, users: int, seed: int, pace: float) -> None:
    """Run the Netflix API 1.5 feed emulator alone."""
    from .emulator import create_emulator_app
    from .emulator.server import serve_in_thread

    app = create_emulator_app(seed=seed, users=users, pace_seconds=pace)
    server = serve_in_thread(app, host=host, port=port)
    emulated = app.extensions["emulator"]
    click.echo(f"emulator on {server.url} (seed {seed}); feeds lists:")
    for index, user in enumerate(emulated.users):
        click.echo(f"  {emulated.feeds_list_url(server.url, index)}")
    # The emulator's sample credentials, to try `feedhub connect` and the dashboard's button.
    click.echo(f"OAuth: consumer key {emulated.consumer_key}, consumer secret {emulated.consumer_secret}; sign in as:")
    for user in emulated.users:
        click.echo(f"  {user.login} / {user.password}")
    try:
        _wait_for_signal()
    finally:
        server.stop()


@main.command()
def config() -> None:
    """Print the settings in effect (secrets hidden)."""
    try:
        click.echo(describe(load_settings()))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


from .demo import demo  # noqa: E402  (the demo command lives in its own module)
from .channel_cli import channel  # noqa: E402  (feedhub channel …)

main.add_command(demo)
main.add_command(channel)

from .cli_accounts import connect, refresh, rotate_key  # noqa: E402  (OAuth accounts and stored secrets)

for _command in (connect, refresh, rotate_key):
    main.add_command(_command)

from .cli_sources import enable, polls, resume  # noqa: E402  (stopped sources and the poll log)

for _command in (enable, resume, polls):
    main.add_command(_command)
