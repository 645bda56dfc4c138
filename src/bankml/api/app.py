"""The HTTP service: FastAPI app factory, problem+json errors, and the routers.

The service builds its ``Services`` once at start (models load once, not per request).
Every error leaves as an RFC 9457 problem document with a 4xx/5xx status; unexpected
exceptions are logged (redacted) and answered with a generic 500, never a traceback.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bankml import __version__
from bankml.api.audit import router as audit_router
from bankml.api.auth import current_user, require_roles, services
from bankml.api.credit import router as credit_router
from bankml.api.fraud import router as fraud_router
from bankml.api.metrics import RequestMetrics, ServiceMetrics, metrics_router
from bankml.api.models import router as models_router
from bankml.api.policy import router as policy_router
from bankml.app import Services
from bankml.core.errors import BankmlError
from bankml.core.identity import Role, User

__all__ = ["create_app", "problem"]

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str) -> JSONResponse:
    """An RFC 9457 problem response."""
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type=PROBLEM_JSON,
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BankmlError)
    async def _bankml(_: Request, exc: BankmlError) -> JSONResponse:
        return problem(exc.http_status, exc.title, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
        return problem(422, "Invalid input", f"{where}: {first.get('msg', 'invalid value')}")

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
        return problem(422, "Invalid input", "a number given is out of range")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "unhandled error on %s %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
            exc_info=exc,
        )
        return problem(500, "Internal error", "the server failed; the error was logged")


def _gauges(svc: Services) -> dict[str, object]:
    """Values Prometheus reads at scrape time: open review items, last monitored drift."""
    return {
        "queues": {"fraud_alerts": len(svc.fraud_queue.alerts(status="open"))},
        "drift": svc.monitoring.latest_metrics(),
    }


def _poll_champion(svc: Services, stop: threading.Event, seconds: float) -> None:
    """Pick up a promotion or rollback of any kind's champion without a restart."""
    while not stop.wait(seconds):
        svc.serving.refresh_all()  # a kind that fails keeps its running model (logged)


def create_app(svc: Services, *, poll_seconds: float = 10.0) -> FastAPI:
    """Build the service around already-constructed services.

    Every ``poll_seconds`` the service checks whether the champion changed and loads it
    (0 disables polling; admins can also ``POST /v1/admin/reload``).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc.db.start_background_checkpoints()  # open, migrate; WAL checkpoints off-path
        svc.serving.start()  # every kind's champion loads once (not per request), warmed up
        svc.start_ledger_checkpoints()  # signed ledger checkpoints on a schedule (settings)
        # The online feature store is hundreds of thousands of long-lived objects; left in
        # the collected generations, every full GC pass walks them all (tens of ms of p99).
        gc.collect()
        gc.freeze()
        stop = threading.Event()
        poller = threading.Thread(
            target=_poll_champion,
            args=(svc, stop, poll_seconds),
            daemon=True,
            name="champion-poller",
        )
        if poll_seconds > 0:
            poller.start()
        yield
        stop.set()
        if poller.is_alive():
            poller.join(timeout=5)
        svc.close()

    app = FastAPI(title="bankml", version=__version__, lifespan=lifespan)
    app.state.services = svc
    _install_error_handlers(app)

    metrics = ServiceMetrics(gauges=lambda: _gauges(svc))
    app.add_middleware(RequestMetrics, metrics=metrics)  # access log + Prometheus /metrics
    app.include_router(metrics_router(metrics))

    @app.get("/v1/health")
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.get("/v1/me")
    def me(user: User = Depends(current_user)) -> dict[str, object]:
        """Who the API key belongs to."""
        return {"name": user.name, "role": user.role.value, "groups": sorted(user.groups)}

    @app.post("/v1/admin/reload")
    def reload(
        _: User = Depends(require_roles(Role.ADMIN)), s: Services = Depends(services)
    ) -> dict[str, object]:
        """Load every kind's current champion now (admins)."""
        return {name: s.serving.refresh(name) for name in s.serving.serving_kinds()}

    app.include_router(audit_router)
    app.include_router(policy_router)
    app.include_router(fraud_router)
    app.include_router(credit_router)
    app.include_router(models_router)

    from bankml.web import create_web_app  # the console: server-rendered pages under /ui

    app.mount("/ui", create_web_app(svc))

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        """People who open the service in a browser land on the console."""
        return RedirectResponse("/ui/", status_code=307)

    return app
