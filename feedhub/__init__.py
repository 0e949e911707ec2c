"""feedhub: polls private, token-embedded activity feeds, keeps their history and
republishes what happened, merged, as RSS, Atom, JSON Feed, OPML, pages and widgets."""
