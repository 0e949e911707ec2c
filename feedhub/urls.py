"""The one place that knows which parts of a source URL are secret.

A source URL is a credential: Netflix-style feed URLs carry ``feed_token`` and
``oauth_*`` parameters, other services put keys, tokens or passwords in the query or
the userinfo. Everything that shows, logs or reports a URL goes through ``redact``.
"""
from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "REDACTED"

# Query parameter names whose values are secrets: exact names and name fragments.
_SECRET_PARAM = re.compile(
    r"(^oauth_)|token|key|secret|sig|pass|auth|session|sid$|^code$|credential",
    re.IGNORECASE,
)
# Path segments that look like long random credentials (e.g. /feeds/<64 hex chars>).
_SECRET_SEGMENT = re.compile(r"^[A-Za-z0-9_\-.~]{32,}$")
_NETFLIX_USER_PATH = re.compile(r"/users/([^/?#]+)")


def is_secret_param(name: str) -> bool:
    return bool(_SECRET_PARAM.search(name))


def redact(url: str) -> str:
    """Return ``url`` with every secret replaced by ``REDACTED``.

    Secrets are: userinfo (user:password@), the values of secret-looking query
    parameters, and the fragment. Malformed input never raises; it is shown as a
    placeholder rather than risk leaking it.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    if not parts.scheme or not host:
        return "<invalid URL>"
    netloc = (f"{REDACTED}@" if parts.username or parts.password else "") + _host(host) + port
    query = [
        (name, REDACTED if is_secret_param(name) else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    path = "/".join(
        REDACTED if _SECRET_SEGMENT.match(seg) and not _is_netflix_user(parts.path, seg) else seg
        for seg in parts.path.split("/")
    )
    return urlunsplit((parts.scheme, netloc, path, urlencode(query), ""))


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _is_netflix_user(path: str, segment: str) -> bool:
    """A Netflix user id in ``/users/<id>/`` is an identifier, not a credential."""
    match = _NETFLIX_USER_PATH.search(path)
    return bool(match and match.group(1) == segment)


def secret_values(url: str) -> list[str]:
    """The secret strings inside ``url`` (for scrubbing them out of free text)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    values = [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if is_secret_param(k) and v]
    if parts.password:
        values.append(parts.password)
    if parts.username:
        values.append(parts.username)
    values += [seg for seg in parts.path.split("/") if _SECRET_SEGMENT.match(seg) and not _is_netflix_user(parts.path, seg)]
    return values


def scrub(text: str, *urls: str) -> str:
    """Remove every URL in ``urls`` and each of their secrets from ``text``.

    Used on messages that come from libraries (exceptions from requests carry the
    full URL, token included).
    """
    for url in urls:
        if url:
            text = text.replace(url, redact(url))
            for value in sorted(secret_values(url), key=len, reverse=True):
                if len(value) >= 4:
                    text = text.replace(value, REDACTED)
    return text


def carry_secrets(old: str, new: str) -> str:
    """``new`` (where ``old`` moved to) with the secrets of ``old`` that it lacks: secret
    query parameters and userinfo. Only on the same host: a credential is never handed
    to another host on a redirect's word (as requests drops ``Authorization`` when a
    redirect leaves the host)."""
    try:
        before, after = urlsplit(old), urlsplit(new)
        same_host = bool(before.hostname) and before.hostname == after.hostname
    except ValueError:
        return new
    if not same_host:
        return new
    present = {name for name, _ in parse_qsl(after.query, keep_blank_values=True)}
    missing = [(k, v) for k, v in parse_qsl(before.query, keep_blank_values=True) if is_secret_param(k) and k not in present]
    query = "&".join(part for part in (after.query, urlencode(missing)) if part)
    netloc = after.netloc
    if "@" in before.netloc and "@" not in after.netloc:
        netloc = before.netloc.rsplit("@", 1)[0] + "@" + after.netloc
    return urlunsplit(after._replace(netloc=netloc, query=query))


def netflix_user_id(url: str) -> str | None:
    """The user id of a Netflix-style API URL (``…/users/<id>/…``), if any."""
    try:
        match = _NETFLIX_USER_PATH.search(urlsplit(url).path)
    except ValueError:
        return None
    return match.group(1) if match else None


@functools.lru_cache(maxsize=16384)  # every cycle asks again for the same sources' hosts
def display_host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


_URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>]+")
_PARAM_IN_TEXT = re.compile(r"(?P<name>[A-Za-z0-9_.\-]+)=(?P<value>[^&\s\"'<>]+)")


def redact_text(text: str) -> str:
    """Redact every URL and every ``name=secret`` pair found in free text (log lines,
    messages from libraries)."""
    text = _URL_IN_TEXT.sub(lambda m: redact(m.group(0)), text)
    return _PARAM_IN_TEXT.sub(
        lambda m: f"{m.group('name')}={REDACTED}" if is_secret_param(m.group("name")) else m.group(0), text
    )
