"""Service metrics and access log: Prometheus ``/metrics`` and one log line per request.

``RequestMetrics`` is a plain ASGI middleware (no per-request task, as the access log it
replaces): it gives each request an id (the caller's ``X-Request-ID`` when sane, else a new
one, echoed in the response), times it, and records

* ``bankml_request_duration_seconds`` histogram per method, endpoint (the route template, so
  ids in paths do not explode the label set) and model version;
* ``bankml_request_errors_total`` per method, endpoint, status class and model version;
* gauges read at scrape time: review-queue sizes (``bankml_queue_size``) and the last
  monitored drift values (``bankml_drift_share``, ``bankml_drift_score_psi``).

The access line keeps its message (``POST /v1/fraud/score 200 3.1ms``) and carries
``request_id`` and ``user`` (the authenticated principal's name) as structured fields. Handlers
name the model version that decided with ``note_model_version(request, version)``; the
caller's name is noted by the authentication dependency (``note_user``).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "REQUEST_ID_HEADER",
    "RequestMetrics",
    "ServiceMetrics",
    "metrics_router",
    "note_model_version",
    "note_user",
]

log = logging.getLogger("bankml.api.access")

REQUEST_ID_HEADER = "x-request-id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def note_model_version(request: Request, version: int | str) -> None:
    """Tell the metrics which model version served this request."""
    request.scope.setdefault("state", {})["model_version"] = str(version)


def note_user(request: Request, name: str) -> None:
    """Tell the access log who is acting (set by the authentication dependency)."""
    request.scope.setdefault("state", {})["user"] = name


class _GaugeCollector(Collector):
    """Gauges computed when Prometheus scrapes (queue sizes, last drift values)."""

    def __init__(self, read: Callable[[], dict[str, Any]]) -> None:
        self._read = read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            values = self._read()
        except Exception as exc:  # a scrape must not fail because a store is down
            log.warning("metrics gauges unavailable: %s", type(exc).__name__)
            values = {}
        queue = GaugeMetricFamily(
            "bankml_queue_size", "Open items per review queue", labels=["queue"]
        )
        for name, size in values.get("queues", {}).items():
            queue.add_metric([name], float(size))
        yield queue
        share = GaugeMetricFamily(
            "bankml_drift_share",
            "Share of drifting features, last monitored day",
            labels=["model", "version"],
        )
        psi = GaugeMetricFamily(
            "bankml_drift_score_psi",
            "PSI of the score, last monitored day",
            labels=["model", "version"],
        )
        for (model, version), metrics in values.get("drift", {}).items():
            if metrics.get("drift.share_drifted") is not None:
                share.add_metric([model, str(version)], float(metrics["drift.share_drifted"]))
            if metrics.get("drift.score_psi") is not None:
                psi.add_metric([model, str(version)], float(metrics["drift.score_psi"]))
        yield share
        yield psi


class ServiceMetrics:
    """The service's Prometheus registry (one per app, so tests do not share counters)."""

    def __init__(self, gauges: Callable[[], dict[str, Any]] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.duration = Histogram(
            "bankml_request_duration_seconds",
            "Request latency",
            ["method", "endpoint", "model_version"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "bankml_request_errors_total",
            "Requests answered 4xx/5xx",
            ["method", "endpoint", "status", "model_version"],
            registry=self.registry,
        )
        if gauges is not None:
            self.registry.register(_GaugeCollector(gauges))

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


class RequestMetrics:
    """ASGI middleware: request id, latency histogram, error counter, access log line."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode(
            "latin-1"
        )
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        state = scope.setdefault("state", {})

        async def send_and_capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_and_capture)
        finally:
            elapsed = time.perf_counter() - t0
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or "unmatched"
            version = str(state.get("model_version", ""))
            method = scope["method"]
            self.metrics.duration.labels(method, endpoint, version).observe(elapsed)
            if status >= 400:
                self.metrics.errors.labels(method, endpoint, f"{status // 100}xx", version).inc()
            log.info(
                "%s %s %s %.1fms",
                method,
                scope["path"],
                status,
                elapsed * 1e3,
                extra={"request_id": request_id, "user": state.get("user", "-")},
            )


def metrics_router(metrics: ServiceMetrics) -> APIRouter:
    """``GET /metrics`` in Prometheus text format (scraped inside the bank's network)."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    def scrape() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return router
