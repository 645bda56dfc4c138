"""Logging set-up: JSON lines in the service, readable lines at the terminal.

Every record passes through the PII redactor before it is written, so a careless
``log.info("card %s", pan)`` still never puts a raw card number on disk.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from bankml.core.pii import redact_payload, redact_text

__all__ = ["JsonFormatter", "RedactingFilter", "TextFormatter", "configure_logging"]

_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """Redacts PII from the rendered message and any string extras of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str | dict | list | tuple):
                setattr(record, key, redact_payload(value))
        return True


class TextFormatter(logging.Formatter):
    """Readable lines for the terminal; tracebacks are redacted too (they quote values)."""

    def format(self, record: logging.LogRecord) -> str:
        # Redact the whole line: another handler may have cached an unredacted exc_text.
        return redact_text(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS:
                doc[key] = value
        if record.exc_info:
            doc["exc"] = redact_text(record.exc_text or self.formatException(record.exc_info))
        return json.dumps(doc, default=str)


def configure_logging(level: str = "INFO", *, json_lines: bool = False) -> None:
    """Install one redacting stderr handler on the ``bankml`` and ``uvicorn`` loggers.

    uvicorn logs "Exception in ASGI application" with a traceback on every 500; without this
    that traceback would bypass redaction and the JSON format. Idempotent.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        JsonFormatter() if json_lines else TextFormatter("%(levelname)s %(name)s: %(message)s")
    )
    for name, logger_level in (("bankml", level.upper()), ("uvicorn", "WARNING")):
        logger = logging.getLogger(name)
        logger.setLevel(logger_level)
        for h in list(logger.handlers):
            logger.removeHandler(h)
        logger.addHandler(handler)
        logger.propagate = False
