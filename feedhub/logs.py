"""Logging set-up: every record passes through ``urls.redact_text`` before it is
written, and the HTTP libraries' debug lines (which print request URLs, tokens
included) are kept quiet."""
from __future__ import annotations

import logging

from .urls import redact_text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact_text(message), None
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
