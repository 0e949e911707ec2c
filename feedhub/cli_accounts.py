"""The commands for connected accounts and stored secrets: ``feedhub connect`` (OAuth
1.0a, then the feeds list), ``feedhub refresh`` (read feeds lists again now) and
``feedhub rotate-key`` (re-encrypt every stored secret with a new key)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .config import ConfigError, load_settings
from .connect import connect as connect_account
from .crypto import Cipher, SecretKeyError
from .feeds_list import refresh_account
from .fetch import Outcome
from .oauth_client import AccessToken, ConnectError, Consumer, OAuthClient
from .services import build_services
from .storage import NotFoundError


@click.command()
@click.option("--base-url", required=True, help="The API's root URL, e.g. http://api.netflix.com/.")
@click.option("--consumer-key", required=True, help="The application's consumer key (\"API key\").")
@click.option("--consumer-secret", prompt="Consumer secret", hide_input=True, help="Its shared secret (asked for, unechoed, when left out).")
@click.option("--access-token", help="An access token the person gave the application already (skips the sign-in).")
@click.option("--access-secret", help="That access token's secret.")
@click.option("--name", help="Name of the account (shown in the republished feeds).")
def connect(base_url: str, consumer_key: str, consumer_secret: str, access_token: str | None, access_secret: str | None, name: str | None) -> None:
    """Connect an account through the API: sign in with OAuth, then add its feeds list."""
    if bool(access_token) != bool(access_secret):
        raise click.UsageError("--access-token and --access-secret go together")
    from .cli import _services

    services = _services()
    try:
        client = OAuthClient(services.fetcher, base_url, Consumer(consumer_key, consumer_secret))
        if access_token and access_secret:
            access = AccessToken(access_token, access_secret)
        else:
            authorization = client.start()
            click.echo(f"Open this page, sign in and allow {authorization.application_name or 'the application'}:")
            click.echo(f"  {authorization.login_url}")
            verifier = click.prompt("Then enter the verifier the page shows")  # one-time: no need to hide it
            access = client.finish(authorization, verifier)
        connected = connect_account(services, client, access, name)
    except ConnectError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()
    account = connected.account
    if connected.reconnected:
        active = sum(s.state == "active" for s in connected.sources)
        click.echo(f"connected account {account.name!r} again: {connected.refresh.message}; {active} of {len(connected.sources)} sources active")
    else:
        click.echo(f"connected account {account.name!r} with {len(connected.sources)} sources:")
    for source in connected.sources:
        click.echo(f"  #{source.id:<4} {source.kind.value:<16} {source.state:<11} {source.title}  {source.url_display}")


@click.command()
@click.option("--account", "account_name", help="Only this account.")
def refresh(account_name: str | None) -> None:
    """Read feeds lists again now: take up new tokens, add new feeds, retire removed ones."""
    from .cli import _services

    services = _services()
    try:
        if account_name:
            try:
                accounts = [services.store.account(account_name)]
            except NotFoundError as exc:
                raise click.ClickException(str(exc)) from None
        else:
            accounts = services.store.accounts()
        reports = [refresh_account(services, a) for a in accounts if a.feeds_url or services.store.credentials(a.id)]
    finally:
        services.close()
    if not reports:
        raise click.ClickException("no account here was made from a feeds list")
    for report in reports:
        click.echo(f"{report.account.name}: {report.outcome.value} — {report.message}")
    if any(r.outcome is not Outcome.OK for r in reports):
        sys.exit(1)


@click.command("rotate-key")
@click.option("--old", prompt="Current secret key", hide_input=True, help="The key the secrets are encrypted with now (asked for when left out).")
@click.option("--new", prompt="New secret key", hide_input=True, confirmation_prompt=True, help="The key to encrypt them with from now on.")
def rotate_key(old: str, new: str) -> None:
    """Re-encrypt every stored secret with a new FEEDHUB_SECRET_KEY, in one transaction."""
    if not new or new == old:
        raise click.UsageError("the new key must differ from the old one")
    try:
        services = build_services(load_settings({"secret_key": old}))
    except SecretKeyError:
        raise click.ClickException("--old is not the key the database's secrets were encrypted with; nothing was changed") from None
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        count = services.store.reseal(Cipher(new))
    finally:
        services.close()
    click.echo(f"re-encrypted {count} stored secrets with the new key")
    key_file = services.settings.data_dir / "secret_key"
    if not os.environ.get("FEEDHUB_SECRET_KEY") and _holds(key_file, old):
        _write_key(key_file, new)
        click.echo(f"{key_file} now holds the new key")
    else:
        click.echo("start feedhub with FEEDHUB_SECRET_KEY set to the new key from now on")


def _holds(key_file: Path, key: str) -> bool:
    return key_file.exists() and key_file.read_text(encoding="utf-8").strip() == key


def _write_key(key_file: Path, key: str) -> None:
    temporary = key_file.with_suffix(".new")
    temporary.write_text(key, encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(key_file)  # atomic: never a half-written key
