"""Prometheus /metrics and the access log, against a real uvicorn server."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from bankml.api.app import create_app
from bankml.api.metrics import ServiceMetrics
from bankml.app import Services
from bankml.core.identity import Role
from bankml.core.settings import Settings
from bankml.monitoring.report import latency_from_prometheus
from tests.support import LiveServer


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, str]]:
    svc = Services(settings)
    svc.users.add("fiona", Role.FRAUD_ANALYST)
    key = svc.users.issue_key("fiona")
    with LiveServer(create_app(svc, poll_seconds=0)) as live:
        yield live.url, key


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name} {labels}")


def test_metrics_count_requests_per_route_template_and_errors(server: tuple[str, str]) -> None:
    url, key = server
    for _ in range(3):
        assert httpx.get(f"{url}/v1/me", headers={"X-API-Key": key}).status_code == 200
    assert httpx.get(f"{url}/v1/me").status_code == 401
    assert httpx.get(f"{url}/v1/fraud/queue/zzz").status_code in (404, 405)
    text = httpx.get(f"{url}/metrics").text
    count = _sample(text, "bankml_request_duration_seconds_count", method="GET", endpoint="/v1/me")
    assert count == 4
    errors = _sample(
        text, "bankml_request_errors_total", method="GET", endpoint="/v1/me", status="4xx"
    )
    assert errors == 1
    assert _sample(text, "bankml_queue_size", queue="fraud_alerts") == 0
    latency = latency_from_prometheus(text)
    assert latency["GET /v1/me"]["requests"] == 4
    assert latency["GET /v1/me"]["p50_ms"] <= latency["GET /v1/me"]["p99_ms"]


def test_every_response_carries_a_request_id(server: tuple[str, str]) -> None:
    url, _ = server
    mine = httpx.get(f"{url}/v1/health", headers={"X-Request-ID": "abc-123"})
    assert mine.headers["x-request-id"] == "abc-123"
    hostile = httpx.get(f"{url}/v1/health", headers={"X-Request-ID": b"a b\xe9<script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_access_log_names_the_request_id_and_the_acting_user(server: tuple[str, str]) -> None:
    url, key = server
    # A handler on the logger itself: configure_logging stops propagation at "bankml".
    access = logging.getLogger("bankml.api.access")
    collect, level = _Collect(), access.level
    access.addHandler(collect)
    access.setLevel(logging.INFO)
    try:
        httpx.get(f"{url}/v1/me", headers={"X-API-Key": key, "X-Request-ID": "req-42"})
        # The line is written once the response has gone out: wait for it (bounded).
        for _ in range(200):
            lines = [r for r in collect.records if r.getMessage().startswith("GET /v1/me 200")]
            if lines:
                break
            time.sleep(0.02)
    finally:
        access.removeHandler(collect)
        access.setLevel(level)
    [record] = lines
    assert record.request_id == "req-42"  # type: ignore[attr-defined]
    assert record.user == "fiona"  # type: ignore[attr-defined]


def test_prometheus_quantiles_from_buckets() -> None:
    text = "\n".join(
        [
            'bankml_request_duration_seconds_bucket{endpoint="/x",le="0.001",method="GET",model_version=""} 50.0',  # noqa: E501
            'bankml_request_duration_seconds_bucket{endpoint="/x",le="0.01",method="GET",model_version=""} 95.0',  # noqa: E501
            'bankml_request_duration_seconds_bucket{endpoint="/x",le="0.1",method="GET",model_version=""} 100.0',  # noqa: E501
            'bankml_request_duration_seconds_bucket{endpoint="/x",le="+Inf",method="GET",model_version=""} 100.0',  # noqa: E501
        ]
    )
    assert latency_from_prometheus(text) == {
        "GET /x": {"requests": 100.0, "p50_ms": 1.0, "p90_ms": 10.0, "p99_ms": 100.0}
    }


def test_each_app_has_its_own_registry() -> None:
    a, b = ServiceMetrics(), ServiceMetrics()
    a.duration.labels("GET", "/x", "").observe(0.1)
    assert b"bankml_request_duration_seconds_count" not in b.exposition().split(b"/x")[0]
