"""The HTTP service: FastAPI app factory, problem+json errors, and the routers.

The service builds its ``Services`` once at start (models load once, not per request).
Every error leaves as an RFC 9457 problem document with a 4xx/5xx status; unexpected
exceptions are logged (redacted) and answered with a generic 500, never a traceback.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bankml import __version__
from bankml.api.audit import router as audit_router
from bankml.api.auth import current_user, require_roles, services
from bankml.api.fraud import router as fraud_router
from bankml.api.models import router as models_router
from bankml.api.policy import router as policy_router
from bankml.app import Services
from bankml.core.errors import BankmlError, UnavailableError
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


def _poll_champion(svc: Services, stop: threading.Event, seconds: float) -> None:
    """Pick up a promotion or rollback without a restart."""
    while not stop.wait(seconds):
        try:
            svc.refresh_fraud_scorer()
        except BankmlError as exc:
            log.error("keeping the running fraud model: %s", exc.message)


def create_app(svc: Services, *, poll_seconds: float = 10.0) -> FastAPI:
    """Build the service around already-constructed services.

    Every ``poll_seconds`` the service checks whether the champion changed and loads it
    (0 disables polling; admins can also ``POST /v1/admin/reload``).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc.db  # noqa: B018 - open and migrate the database before the first request
        try:
            svc.fraud_scorer  # noqa: B018 - load the served model once, not per request
        except UnavailableError as exc:
            log.warning("fraud scoring disabled: %s", exc.message)
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

    @app.middleware("http")
    async def access_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        t0 = time.perf_counter()
        response = await call_next(request)
        log.info(
            "%s %s %s %.1fms",
            request.method,
            request.url.path,
            response.status_code,
            (time.perf_counter() - t0) * 1e3,
        )
        return response

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
        """Load the current champion now (admins)."""
        return {"fraud": s.refresh_fraud_scorer()}

    app.include_router(audit_router)
    app.include_router(policy_router)
    app.include_router(fraud_router)
    app.include_router(models_router)
    return app
