"""``feedhub demo``: the emulator, three sample accounts, a first poll, the web app
and the scheduler, in one process and one command, with nothing to configure."""
from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path

import click

from .config import load_settings
from .scheduler import Scheduler
from .services import build_services
from .subscribe import add_url

DEMO_ACCOUNTS = ("home", "alex", "sam")
DEMO_POLL_INTERVAL = 30  # seconds: short, so the timeline visibly grows while it runs
DEMO_EVENT_PACE = 15.0  # mean seconds between two emulated events of one user


@click.command()
@click.option("--port", default=8000, show_default=True, help="Port of the web app (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Keep the demo's data here (default: a new temporary directory).")
@click.option("--seed", default=42, show_default=True, help="Seed of the emulated accounts.")
def demo(port: int, host: str, data_dir: Path | None, seed: int) -> None:
    """Run everything on loopback with sample accounts, and print where to look."""
    from .channel_cli import channel_lines
    from .cli import _poll_with_progress, _wait_for_signal
    from .emulator import create_emulator_app
    from .emulator.server import serve_in_thread
    from .web import create_app

    started = time.monotonic()
    temporary = None
    if data_dir is None:
        temporary = tempfile.TemporaryDirectory(prefix="feedhub-demo-")
        data_dir = Path(temporary.name)
    emulator_app = create_emulator_app(seed=seed, users=len(DEMO_ACCOUNTS), pace_seconds=DEMO_EVENT_PACE)
    emulated = emulator_app.extensions["emulator"]
    emulator_server = serve_in_thread(emulator_app)
    admin_password = secrets.token_urlsafe(12)
    settings = load_settings(
        {
            "data_dir": data_dir,
            "allow_private_networks": True,
            "poll_interval": DEMO_POLL_INTERVAL,
            "admin_password": admin_password,
        }
    )
    services = build_services(settings)
    app_server = scheduler = None
    try:
        app = create_app(services=services)
        try:
            app_server = serve_in_thread(app, host=host, port=port)
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port} ({exc.strerror}); try --port 0") from None
        existing = {a.name for a in services.store.accounts()}
        for index, name in enumerate(DEMO_ACCOUNTS):
            if name in existing:
                continue
            # The last account comes through the feeds list's OPML form, to show both.
            output = "opml" if index == len(DEMO_ACCOUNTS) - 1 else "xml"
            url = emulated.feeds_list_url(emulator_server.url, index, output=output)
            added = add_url(services.store, services.fetcher, url, name, DEMO_POLL_INTERVAL, services.now())
            click.echo(f"added {name!r}: {len(added.sources)} sources from the feeds list ({output})")
        poll_started = time.monotonic()
        reports = _poll_with_progress(services, [s for s in services.store.sources() if s.state == "active"])
        click.echo(
            f"first poll: {len(reports)} sources in {time.monotonic() - poll_started:.2f} s, "
            f"{sum(r.new_activities for r in reports)} activities"
        )
        scheduler = Scheduler(services)
        scheduler.start()
        base = app_server.url
        click.echo(
            "\n".join(
                [
                    "",
                    f"feedhub demo is running (ready in {time.monotonic() - started:.1f} s); new activity appears every few seconds.",
                    f"  dashboard  {base}  (admin password: {admin_password})",
                    "  the channel 'all' (private: its URLs hold its token):",
                    *channel_lines(app, services.store.channel("all"), base),
                    f"  channels   {base}channels  (every channel's URLs and widget, for the admin)",
                    # The emulator's sample credentials, to try the OAuth flow (an account connected again).
                    f"  connect    {base}admin/connect  (API {emulator_server.url}, consumer key {emulated.consumer_key}, "
                    f"secret {emulated.consumer_secret}; sign in as {emulated.users[0].login} / {emulated.users[0].password})",
                    f"  OPML       {base}opml  (the public channels; every one for the admin)",
                    f"  data in {data_dir}" + (" (temporary)" if temporary else ""),
                    "Ctrl-C stops everything.",
                ]
            )
        )
        _wait_for_signal()
        click.echo("stopping…")
    finally:
        if scheduler:
            scheduler.stop()
        if app_server:
            app_server.stop()
        emulator_server.stop()
        services.close()
        if temporary:
            temporary.cleanup()
