"""The service's own log lines (not the previews'): plain text, or one JSON object per
line when ``PREVIEW_LOG_FORMAT=json``, for log collectors.

A JSON line has ``time`` (ISO 8601, UTC, milliseconds), ``level``, ``logger``,
``message`` and ``exc`` (the formatted traceback, or null).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

__all__ = ["LOG_FORMATS", "JsonFormatter", "configure_logging"]

LOG_FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in it are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        exc = None
        if record.exc_info:
            exc = self.formatException(record.exc_info)
        elif record.exc_text:
            exc = record.exc_text
        return json.dumps(
            {
                "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
                "exc": exc,
            },
            ensure_ascii=False,
        )


def configure_logging(log_format: str, level: int = logging.INFO) -> logging.Handler | None:
    """For ``json``: one stderr handler with :class:`JsonFormatter` on the root logger
    (returned); Hypercorn's loggers reach it when its config names them (see cli). For
    ``text``, logging stays as Python and Hypercorn set it up."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {LOG_FORMATS}, not {log_format!r}")
    if log_format == "text":
        return None
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return handler
