"""Logging set-up: JSON lines in the service, readable lines at the terminal.

Every record passes through the PII redactor before it is written, so a careless
``log.info("card %s", pan)`` still never puts a raw card number on disk.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import sys
import time
from datetime import UTC, datetime
from queue import SimpleQueue
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


_listener: logging.handlers.QueueListener | None = None
# The service's log writer wakes at most this often while requests keep coming.
FLUSH_SECONDS = 0.02


class _BatchingListener(logging.handlers.QueueListener):
    """Writes queued records in batches: once the queue is empty it waits ``FLUSH_SECONDS``
    before the next blocking read, so under load the request threads put records into a
    ``SimpleQueue`` nobody is waiting on (no wake-up, no GIL hand-off per request) and the
    writer drains them all at once. A record reaches stderr within about that delay.
    """

    def __init__(self, queue: SimpleQueue[logging.LogRecord], handler: logging.Handler) -> None:
        super().__init__(queue, handler)
        self._records = queue

    def dequeue(self, block: bool) -> logging.LogRecord:
        if block and self._records.empty():
            time.sleep(FLUSH_SECONDS)
        return self._records.get(block)


def configure_logging(
    level: str = "INFO", *, json_lines: bool = False, background: bool = False
) -> None:
    """Install one redacting stderr handler on the ``bankml`` and ``uvicorn`` loggers.

    uvicorn logs "Exception in ASGI application" with a traceback on every 500; without this
    that traceback would bypass redaction and the JSON format. With ``background`` (the
    service), records are handed to a queue and written by a listener thread, so a slow
    terminal or disk never adds to a request's latency. Idempotent.
    """
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None
    stream = logging.StreamHandler(sys.stderr)
    stream.addFilter(RedactingFilter())
    stream.setFormatter(
        JsonFormatter() if json_lines else TextFormatter("%(levelname)s %(name)s: %(message)s")
    )
    handler: logging.Handler = stream
    if background:
        queue: SimpleQueue[logging.LogRecord] = SimpleQueue()
        handler = _RedactingQueueHandler(queue)
        _listener = _BatchingListener(queue, stream)
        _listener.start()
        atexit.register(_stop_listener)
    for name, logger_level in (("bankml", level.upper()), ("uvicorn", "WARNING")):
        logger = logging.getLogger(name)
        logger.setLevel(logger_level)
        for h in list(logger.handlers):
            logger.removeHandler(h)
        logger.addHandler(handler)
        logger.propagate = False


class _RedactingQueueHandler(logging.handlers.QueueHandler):
    """Queues records with message and traceback already rendered, then redacted: nothing
    with raw PII waits in the queue."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record = super().prepare(record)
        RedactingFilter().filter(record)
        return record


def _stop_listener() -> None:
    if _listener is not None:
        _listener.stop()
