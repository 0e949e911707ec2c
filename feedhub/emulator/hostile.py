"""Hostile answers for the emulator's faults: the documents and byte streams a feed
reader must survive (SPEC §8, §9). Each is what an attacker or a broken server could
really send; none is harmful to the emulator itself, which only serves them.

- ``gzip_bomb``: a body that is tiny on the wire and huge once inflated, sent gzipped
  whether or not the client asked for gzip (a bomb does not ask);
- ``billion_laughs``, ``billion_laughs_one_line``, ``quadratic_blowup``: XML entity
  expansion bombs (the one-line form defeats line-anchored DOCTYPE strippers);
- ``xxe_entity``, ``xxe_dtd``, ``xxe_parameter``: a feed that tries to read ``target``
  (a ``file:`` path or an ``http:`` URL) through an external entity, an external DTD
  or a parameter entity; if it worked, the target's text would land in an entry title;
- ``html_feed_link``: an HTML page whose ``<link rel="alternate">`` names ``target`` as
  its feed (autodiscovery).

``trickled`` sends any body one byte at a time.
"""
from __future__ import annotations

import time
import zlib
from typing import Iterator

ATOM_TYPE = "application/atom+xml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
DEFAULT_TARGET = "file:///etc/passwd"
DEFAULT_BOMB_BYTES = 256 * 1024 * 1024  # inflated size of a gzip bomb

_FEED_HEAD = (
    '<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:hostile</id><title>Hostile</title>'
    "<updated>2024-01-01T00:00:00Z</updated><author><name>x</name></author>"
)


def _feed(doctype: str, title: str) -> bytes:
    entry = f"<entry><id>urn:hostile:1</id><title>{title}</title><updated>2024-01-01T00:00:00Z</updated></entry>"
    return f'<?xml version="1.0" encoding="utf-8"?>\n{doctype}\n{_FEED_HEAD}{entry}</feed>\n'.encode()


def _laughs(separator: str) -> bytes:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]  # 10**9 "lol"s: about 3 GB from under 1 KB
    return _feed(f"<!DOCTYPE feed [{separator}{separator.join(levels)}{separator}]>", "&lol9;")


def _quadratic() -> bytes:
    # One 64 KiB entity used 4,096 times: 256 MiB from a 80 KiB document, with no nesting
    # for a nesting-only check to notice.
    return _feed(f'<!DOCTYPE feed [<!ENTITY a "{"a" * 65536}">]>', "&a;" * 4096)


def document(kind: str, target: str | None) -> tuple[bytes, str]:
    """The hostile document ``kind`` (one of ``DOCUMENTS``) and its content type."""
    target = target or DEFAULT_TARGET
    if kind == "billion_laughs":
        return _laughs("\n"), ATOM_TYPE
    if kind == "billion_laughs_one_line":
        return _laughs(""), ATOM_TYPE
    if kind == "quadratic_blowup":
        return _quadratic(), ATOM_TYPE
    if kind == "xxe_entity":
        return _feed(f'<!DOCTYPE feed [<!ENTITY xxe SYSTEM "{target}">]>', "&xxe;"), ATOM_TYPE
    if kind == "xxe_dtd":
        # The entity is declared in the external DTD, which a safe parser never reads.
        return _feed(f'<!DOCTYPE feed SYSTEM "{target}">', "&xxe;"), ATOM_TYPE
    if kind == "xxe_parameter":
        return _feed(f'<!DOCTYPE feed [<!ENTITY % remote SYSTEM "{target}"> %remote;]>', "&xxe;"), ATOM_TYPE
    if kind == "html_feed_link":
        page = (
            "<!DOCTYPE html>\n<html><head><title>Diary</title>"
            f'<link rel="alternate" type="application/atom+xml" title="Diary" href="{target}">'
            "</head><body><h1>Diary</h1></body></html>\n"
        )
        return page.encode(), HTML_TYPE
    raise ValueError(f"no hostile document {kind!r}")


DOCUMENTS = (
    "billion_laughs",
    "billion_laughs_one_line",
    "quadratic_blowup",
    "xxe_entity",
    "xxe_dtd",
    "xxe_parameter",
    "html_feed_link",
)
# The kinds of body that need a target.
NEEDS_TARGET = ("html_feed_link",)


def gzip_bomb(size: int | None) -> Iterator[bytes]:
    """A gzip stream of an Atom document ``size`` bytes long once inflated (mostly one
    comment of zeros), compressed as it is sent: a client that stops reading stops it."""
    size = DEFAULT_BOMB_BYTES if size is None else size
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip container
    head = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><!--'
    yield compressor.compress(head)
    left, chunk = max(size - len(head), 0), bytes(1 << 20)
    while left:
        step = min(left, len(chunk))
        if data := compressor.compress(chunk[:step]):
            yield data
        left -= step
    yield compressor.compress(b"--></feed>") + compressor.flush()


def trickled(body: bytes, seconds_per_byte: float) -> Iterator[bytes]:
    """``body`` one byte at a time: each arrives well within any read timeout, and the
    whole takes ``len(body) * seconds_per_byte``."""
    for byte in body:
        time.sleep(seconds_per_byte)
        yield bytes([byte])
