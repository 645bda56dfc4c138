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


@pytest.mark.parametrize("background", [False, True])
def test_uvicorn_tracebacks_go_through_the_redacting_handler(
    capsys: pytest.CaptureFixture[str], background: bool
) -> None:
    from bankml.core import logging as bankml_logging
    from bankml.core.logging import configure_logging

    saved = {
        n: (lg.handlers[:], lg.propagate, lg.level)
        for n in ("bankml", "uvicorn")
        for lg in [logging.getLogger(n)]
    }
    try:
        configure_logging("INFO", json_lines=True, background=background)
        try:
            raise ValueError(f"card {PAN} broke the app")
        except ValueError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        bankml_logging._stop_listener()  # flush the queue (a no-op without one)
        err = capsys.readouterr().err
    finally:
        for n, (handlers, propagate, level) in saved.items():
            lg = logging.getLogger(n)
            lg.handlers[:] = handlers
            lg.propagate, lg.level = propagate, level
        bankml_logging._listener = None
    assert "4111" not in err and "[PAN]" in err
    assert json.loads(err.strip().splitlines()[-1])["logger"] == "uvicorn.error"


def test_background_writer_keeps_every_record_in_order_from_many_threads(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The service's writer drains its queue in batches; nothing may be lost or reordered
    # within a thread, and a PAN in any of them is still redacted.
    import threading

    from bankml.core import logging as bankml_logging
    from bankml.core.logging import configure_logging

    log = logging.getLogger("bankml")
    saved = (log.handlers[:], log.propagate, log.level)
    try:
        configure_logging("INFO", json_lines=True, background=True)

        def emit(t: int) -> None:
            for i in range(300):
                logging.getLogger("bankml.test.batch").info(
                    "thread %d record %d card %s", t, i, PAN
                )

        threads = [threading.Thread(target=emit, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        bankml_logging._stop_listener()  # flush what is still queued
        lines = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    finally:
        log.handlers[:], log.propagate, log.level = saved
        bankml_logging._listener = None
    msgs = [x["msg"] for x in lines if x["logger"] == "bankml.test.batch"]
    assert len(msgs) == 1200 and not any("4111" in m for m in msgs)
    for t in range(4):
        mine = [int(m.split()[3]) for m in msgs if m.startswith(f"thread {t} ")]
        assert mine == list(range(300))
