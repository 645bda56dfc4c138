"""Logs never carry raw PII: messages, extras and tracebacks are redacted."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bankml.core.logging import JsonFormatter, RedactingFilter, TextFormatter

PAN = "4111 1111 1111 1111"


def _emit(formatter: logging.Formatter) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(formatter)
    log = logging.getLogger("bankml.test.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("card %s declined for jane@example.com", PAN, extra={"ctx": {"pan": PAN}})
        try:
            raise ValueError(f"bad card {PAN}")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    return stream.getvalue()


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter("%(message)s")])
def test_pii_never_reaches_the_log_output(formatter: logging.Formatter) -> None:
    out = _emit(formatter)
    assert "4111" not in out and "jane@example.com" not in out
    assert "[PAN]" in out and "[EMAIL]" in out


def test_json_lines_carry_extras() -> None:
    first = _emit(JsonFormatter()).splitlines()[0]
    assert json.loads(first)["ctx"] == {"pan": "[PAN]"}
