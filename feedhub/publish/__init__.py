"""The renderers: one ``FeedDocument`` in, the bytes of a feed out.

``RENDERERS`` maps a format name (the feed URL's extension and a key of
``FeedDocument.self_urls``) to its renderer. Renderers are pure: the same document
always gives the same bytes, which the web layer's ETag relies on. They do not choose,
filter or order items, nor send anything; OPML, which lists feeds rather than items,
is ``opml.render_opml``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from feedhub.publish import atom, jsonfeed, rss
from feedhub.publish.document import MEDIA_TYPES, FeedDocument, Generator

__all__ = ["RENDERERS", "FeedDocument", "Generator", "Renderer"]


@dataclass(frozen=True)
class Renderer:
    media_type: str  # the Content-Type to serve it with
    extension: str
    render: Callable[[FeedDocument], bytes]


RENDERERS: dict[str, Renderer] = {
    module.FORMAT: Renderer(
        media_type=f"{MEDIA_TYPES[module.FORMAT]}; charset=utf-8",
        extension=module.FORMAT,
        render=module.render,
    )
    for module in (rss, atom, jsonfeed)
}
