"""Connecting an account through the API (SPEC §3): from OAuth credentials to an
account with its sources.

``users/current`` gives the person's id; a signed ``users/<id>/feeds`` gives their
feeds, which become an account through the same code as ``feedhub add``
(``subscribe.create``). The credentials are kept, encrypted, so that the feeds list can
be read again (``feeds_list``). Connecting a person who is already an account (after
access was revoked, or to change credentials) replaces its credentials, reads its list
at once and resumes its sources: same sources, same entries, same activity ids.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .discover import DiscoveryError, read_feeds_document
from .feeds_list import Refresh, refresh_account
from .fetch import Outcome
from .oauth_client import AccessToken, ConnectError, OAuthClient
from .services import Services
from .storage.rows import AccountRow, CredentialsRow, SourceRow
from .subscribe import AddError, create


@dataclass(frozen=True)
class Connected:
    account: AccountRow
    sources: list[SourceRow]
    reconnected: bool  # the person was an account already
    refresh: Refresh | None = None  # what reading the list did, when reconnected


def connect(services: Services, client: OAuthClient, access: AccessToken, name: str | None = None) -> Connected:
    """Make (or renew) the account of the person ``access`` is for; ``ConnectError``
    with a message for the person, and nothing changed, when that cannot be done."""
    store, now = services.store, services.now()
    user_id = client.current_user_id(access)
    existing = store.account_by_key(f"netflix:{user_id}")
    credentials = CredentialsRow(
        account_id=existing.id if existing else 0,
        api_base=client.root,
        user_id=user_id,
        updated_at=None,
        consumer_key=client.consumer.key,
        consumer_secret=client.consumer.secret,
        access_token=access.token,
        access_secret=access.secret,
    )
    if existing is not None:
        return _reconnect(services, existing, credentials)
    result = client.feeds_list(access, user_id)
    if result.outcome is not Outcome.OK:
        raise ConnectError(f"the feeds list of user {user_id} could not be read: {result.message}")
    try:
        document = read_feeds_document(result.body)
        if document is None:
            raise DiscoveryError("the answer is not a feeds list")
        added = create(store, document, name, None, services.settings.poll_interval, now)
    except (DiscoveryError, AddError) as exc:
        raise ConnectError(f"cannot connect: {exc}") from None
    try:
        store.save_credentials(replace(credentials, account_id=added.account.id), now)
    except Exception:
        store.remove_account(added.account.name)  # all or nothing
        raise
    return Connected(added.account, added.sources, reconnected=False)


def _reconnect(services: Services, account: AccountRow, credentials: CredentialsRow) -> Connected:
    store = services.store
    previous = store.credentials(account.id)
    store.save_credentials(credentials, services.now())
    refresh = refresh_account(services, account, resume=True)
    if refresh.outcome is not Outcome.OK:
        # Keep what worked before rather than credentials that do not.
        if previous is not None:
            store.save_credentials(previous, services.now())
        raise ConnectError(f"cannot connect {account.name!r} again: {refresh.message}")
    return Connected(store.account_by_id(account.id), store.sources(account.id), reconnected=True, refresh=refresh)
