"""Logging set-up: every record passes through ``urls.redact_text`` before it is
written, and the HTTP libraries' debug lines (which print request URLs, tokens
included) are kept quiet."""
from __future__ import annotations

import logging

from .urls import redact_text


class RedactingFilter(logging.Filter):
    """Redacts the message and any traceback: an exception's text (requests' among
    them) can quote a URL with its token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text, record.exc_info = redact_text(record.exc_text), None
        return True


class _Handler(logging.StreamHandler):
    """feedhub's own handler (so setting up twice does not log twice)."""


def setup_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if not any(isinstance(h, _Handler) for h in root.handlers):
        handler = _Handler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("urllib3", "werkzeug", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
