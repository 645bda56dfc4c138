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
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
from bankml.core.settings import Settings

__all__ = ["BodyLimit", "Problem", "create_app", "problem", "score_threads"]

log = logging.getLogger(__name__)

# Worker threads for scoring with the shared (Redis) store when settings ask for none: it
# waits on the network, which must never block the event loop.
MIN_REDIS_SCORE_THREADS = 1
# ... and when settings leave it unset on a deployment whose decisions wait on a network.
DEFAULT_SCORE_THREADS = 4
PROBLEM_JSON = "application/problem+json"
MSG_TOO_LARGE = "the request body is larger than {limit} bytes"


class Problem(BaseModel):
    """An RFC 9457 problem document: every error response of the API has this shape."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str


# The error statuses every route may answer with (documented once, for every operation).
_ERRORS = {
    "400": "Bad request",
    "401": "No API key, or an unknown or revoked one",
    "403": "The key's user lacks the role or the permission",
    "404": "No such resource",
    "409": "The resource is not in a state that allows the action",
    "413": "Request body too large",
    "422": "Invalid input",
    "500": "The server failed (logged; no details leave the service)",
    "503": "The model this route needs is not served (none registered, or it failed its checks)",
}


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
        msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        return problem(422, "Invalid input", f"{where}: {msg}")

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


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with a 413 problem, before they are parsed.

    A declared ``Content-Length`` over the limit is refused at once; otherwise the bytes
    actually received are counted (chunked bodies have no length), and the read that crosses
    the limit fails with 413 instead of buffering the rest.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.limit or declared < 0:
                    status = 413 if declared > self.limit else 400
                    detail = (
                        MSG_TOO_LARGE.format(limit=self.limit)
                        if status == 413
                        else "the Content-Length header is not a number"
                    )
                    title = "Request body too large" if status == 413 else "Bad request"
                    await problem(status, title, detail)(scope, receive, send)
                    return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Raised inside the route's body read: FastAPI passes HTTP exceptions on,
                    # and the app's handler answers with a 413 problem.
                    raise StarletteHTTPException(413, MSG_TOO_LARGE.format(limit=self.limit))
            return message

        await self.app(scope, counting_receive, send)


def _custom_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document with problem+json errors and each route's roles documented."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema()
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    ref = {"$ref": "#/components/schemas/Problem"}
    for operations in schema.get("paths", {}).values():
        for op in operations.values():
            responses = op.setdefault("responses", {})
            secured = bool(op.get("security"))
            for status, description in _ERRORS.items():
                if status in ("401", "403") and not secured:
                    continue
                responses[status] = {
                    "description": description,
                    "content": {PROBLEM_JSON: {"schema": ref}},
                }
            if secured:
                # Every requirement lists the same roles (the scheme is the only difference).
                roles = sorted({r for req in op["security"] for v in req.values() for r in v})
                op["x-roles"] = roles or ["any"]
                who = ", ".join(op["x-roles"])
                op["description"] = f"{op.get('description', '')}\n\nRoles: {who}.".strip()
    app.openapi_schema = schema
    return schema


def _install_docs(app: FastAPI) -> None:
    """Swagger UI and ReDoc from assets vendored in the package, never a CDN."""
    from fastapi.staticfiles import StaticFiles

    from bankml.api.assets import ASSETS_DIR

    app.mount("/docs-static", StaticFiles(directory=ASSETS_DIR), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="bankml API",
            swagger_js_url="/docs-static/swagger-ui-bundle.js",
            swagger_css_url="/docs-static/swagger-ui.css",
            swagger_favicon_url="/docs-static/favicon.png",
            swagger_ui_parameters={"persistAuthorization": False},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="bankml API",
            redoc_js_url="/docs-static/redoc.standalone.js",
            redoc_favicon_url="/docs-static/favicon.png",
            with_google_fonts=False,
        )


class HealthOut(BaseModel):
    """Liveness."""

    status: str
    version: str


class MeOut(BaseModel):
    """The API key's user."""

    name: str
    role: str
    groups: list[str]


def score_threads(settings: Settings) -> int:
    """Worker threads for scoring requests (0: inline on the event loop, in-process store).

    Unset, it follows what a decision waits on. On SQLite with the in-process store nothing
    does (WAL commits do not wait for the disk), and inline scoring measured the lower p99
    and the same or higher throughput (docs/benchmarks.md): threads only interleave Python
    under the GIL there. A PostgreSQL commit or a Redis round trip waits on the network, which
    must never block the event loop, so those get threads.
    """
    if settings.score_threads is None:
        sqlite = settings.resolved_database_url.startswith("sqlite")
        return 0 if sqlite and settings.online_store == "memory" else DEFAULT_SCORE_THREADS
    if settings.online_store == "redis":
        return max(settings.score_threads, MIN_REDIS_SCORE_THREADS)
    return settings.score_threads


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
        threads = score_threads(svc.settings)
        if threads:
            # Scoring (features, TreeSHAP, the ledger commit) runs in at most ``threads``
            # worker threads (api/fraud.py), never on the event loop: a slow request cannot
            # stall the others' parsing and replies, LightGBM and SQLite release the GIL
            # while they work, and concurrent ledger appends share one commit.
            app.state.score_limiter = anyio.CapacityLimiter(threads)
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

    app = FastAPI(
        title="bankml",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description=(
            "bankml's HTTP service. Every route but /v1/health needs an API key "
            "(`X-API-Key: <key>` or `Authorization: Bearer <key>`); errors are "
            "`application/problem+json` (RFC 9457)."
        ),
    )
    app.state.services = svc
    _install_error_handlers(app)
    _install_docs(app)
    app.openapi = lambda: _custom_openapi(app)  # type: ignore[method-assign]

    app.add_middleware(BodyLimit, limit=svc.settings.max_request_bytes)
    metrics = ServiceMetrics(gauges=lambda: _gauges(svc))
    app.add_middleware(RequestMetrics, metrics=metrics)  # access log + Prometheus /metrics
    app.include_router(metrics_router(metrics))

    @app.get("/v1/health", response_model=HealthOut)
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.get("/v1/me", response_model=MeOut)
    def me(user: User = Depends(current_user)) -> dict[str, object]:
        """Who the API key belongs to."""
        return {"name": user.name, "role": user.role.value, "groups": sorted(user.groups)}

    @app.post("/v1/admin/reload", response_model=dict[str, int | None])
    def reload(
        _: User = Depends(require_roles(Role.ADMIN)), s: Services = Depends(services)
    ) -> dict[str, int | None]:
        """Load every kind's current champion now (admins): kind -> version served (or null)."""
        return {name: s.serving.refresh(name) for name in s.serving.serving_kinds()}

    app.include_router(audit_router)
    app.include_router(policy_router)
    app.include_router(fraud_router)
    app.include_router(credit_router)
    app.include_router(models_router)

    from bankml.web import create_web_app  # the console: server-rendered pages under /ui

    app.mount("/ui", create_web_app(svc, metrics))

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        """People who open the service in a browser land on the console."""
        return RedirectResponse("/ui/", status_code=307)

    return app
