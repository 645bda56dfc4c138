"""The web console: server-rendered pages mounted at ``/ui`` inside the bankml service.

Pages parse the form, call ``bankml.web.actions`` (the same service methods as the CLI and
the API) and render a Jinja2 template. Errors from below become an HTML page with the same
status the API would give (403 for a missing role, 404, 409 ...), never a traceback. Assets
(CSS, a few lines of own JS, htmx, and the Plotly JS shipped inside the plotly wheel) are
served by the service itself: no CDN, works offline.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bankml import __version__
from bankml.app import Services
from bankml.core.errors import BankmlError, InputError
from bankml.core.identity import Role, User
from bankml.core.sessions import Session
from bankml.web import actions
from bankml.web import charts as charts_for
from bankml.web.auth import (
    SESSION_COOKIE,
    NeedsSignIn,
    check_csrf,
    check_login_csrf,
    login_csrf,
    read_form,
    require,
    session_of,
    set_login_csrf_cookie,
    set_session_cookie,
)

if TYPE_CHECKING:
    from bankml.api.metrics import ServiceMetrics

__all__ = ["PAGE_ROLES", "create_web_app"]

log = logging.getLogger(__name__)

_HERE = Path(__file__).parent
PER_PAGE = 25

# Who may open each area: the same roles the API's routes admit.
PAGE_ROLES: dict[str, tuple[Role, ...]] = {
    "fraud": (Role.FRAUD_ANALYST, Role.ADMIN, Role.AUDITOR),
    "models": (Role.MODEL_DEVELOPER, Role.VALIDATOR, Role.ADMIN, Role.AUDITOR),
    "health": (Role.MODEL_DEVELOPER, Role.VALIDATOR, Role.ADMIN, Role.AUDITOR),
    "credit": (Role.CREDIT_OFFICER, Role.ADMIN, Role.AUDITOR),
    "policy": tuple(r for r in Role if r is not Role.SERVICE),
    "review": (Role.COMPLIANCE_REVIEWER,),
    "audit": (Role.AUDITOR, Role.ADMIN),
}
_FRAUD_ACT = (Role.FRAUD_ANALYST, Role.ADMIN)
_NAV = [
    ("overview", "/ui/", "Overview"),
    ("fraud", "/ui/fraud", "Fraud queue"),
    ("models", "/ui/models", "Models"),
    ("health", "/ui/health", "Model health"),
    ("credit", "/ui/credit", "Credit decisions"),
    ("policy", "/ui/policy", "Policy assistant"),
    ("review", "/ui/policy/review", "Answer review"),
    ("audit", "/ui/audit", "Audit"),
]
_DONE = {  # fixed texts for the message after an action (never echo text from the URL)
    "disposition": "Disposition recorded.",
    "submit": "Version submitted for validation.",
    "validate": "Validation ran; see the gate results below.",
    "approve": "Version approved.",
    "reject": "Version rejected.",
    "promote": "Version promoted to champion.",
    "rollback": "Rolled back to the previous champion.",
    "feedback": "Thank you: the answer was sent to review.",
    "review": "Review recorded.",
}


@dataclass(frozen=True)
class Pager:
    """One page of a longer table.

    ``total`` is None when the store pages the rows itself and only says whether more follow
    (then ``pages`` is this page, plus one when there is a next).
    """

    page: int
    pages: int
    total: int | None

    def link(self, request: Request, page: int) -> str:
        """The current URL with another page number."""
        return str(request.url.include_query_params(page=page))


def paginate(items: list[Any], page: int) -> tuple[list[Any], Pager]:
    """Slice ``items`` to one page of ``PER_PAGE`` rows."""
    pages = max(1, math.ceil(len(items) / PER_PAGE))
    page = min(max(1, page), pages)
    return items[(page - 1) * PER_PAGE : page * PER_PAGE], Pager(page, pages, len(items))


def _int(value: str | None, what: str, default: int | None = None) -> int:
    if value in (None, ""):
        if default is None:
            raise InputError(f"{what} is required")
        return default
    try:
        return int(str(value))
    except ValueError:
        raise InputError(f"{what} must be a whole number, not {value!r}") from None


def create_web_app(svc: Services, metrics: ServiceMetrics | None = None) -> FastAPI:
    """The console as an app to mount at ``/ui`` (shares the service's ``Services``).

    ``metrics`` is the service's Prometheus registry: the model-health page charts the
    process's request latency from it.
    """
    web = FastAPI(title="bankml console", docs_url=None, redoc_url=None, openapi_url=None)
    web.state.services = svc
    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    templates.env.globals["version"] = __version__
    templates.env.filters["num"] = _num
    web.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")

    def render(
        request: Request,
        name: str,
        session: Session | None,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        user = session.user if session else None
        nav = [
            (key, href, label)
            for key, href, label in _NAV
            if user is not None and (key == "overview" or user.role in PAGE_ROLES[key])
        ]
        done = _DONE.get(request.query_params.get("done", ""))
        response = templates.TemplateResponse(
            request,
            name,
            {
                "user": user,
                "csrf": session.csrf_token if session else "",
                "nav": nav,
                "done": done,
                **context,
            },
            status_code=status_code,
        )
        _harden(response)
        return response

    @web.exception_handler(BankmlError)
    async def _bankml(request: Request, exc: BankmlError) -> Response:
        if isinstance(exc, NeedsSignIn):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/ui/login?next={quote(target)}", status_code=303)
        session = svc.sessions.find(request.cookies.get(SESSION_COOKIE))
        return render(
            request,
            "error.html",
            session,
            status_code=exc.http_status,
            title=exc.title,
            message=exc.message,
        )

    @web.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        session = svc.sessions.find(request.cookies.get(SESSION_COOKIE))
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("path", "query"))
        return render(
            request,
            "error.html",
            session,
            status_code=422,
            title="Invalid input",
            message=f"{where or 'request'}: {first.get('msg', 'invalid value')}",
        )

    @web.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        session = svc.sessions.find(request.cookies.get(SESSION_COOKIE))
        title = "Not found" if exc.status_code == 404 else "Request refused"
        return render(
            request, "error.html", session, status_code=exc.status_code, title=title, message=title
        )

    @web.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("web page %s failed: %s", request.url.path, type(exc).__name__, exc_info=exc)
        return render(
            request,
            "error.html",
            None,
            status_code=500,
            title="Internal error",
            message="the page failed; the error was logged",
        )

    # -- sign in / out ----------------------------------------------------------------------
    @web.get("/login")
    def login_page(request: Request, next: str = "/ui/") -> HTMLResponse:
        token = login_csrf(request)
        response = render(request, "login.html", None, login_csrf=token, next=_safe_next(next))
        set_login_csrf_cookie(request, response, token)
        return response

    @web.post("/login")
    async def login(request: Request) -> Response:
        form = await read_form(request)
        check_login_csrf(request, form)
        try:
            if form.get("api_key"):
                session = svc.sessions.sign_in_key(form["api_key"])
            else:
                session = svc.sessions.sign_in_password(
                    form.get("username", ""), form.get("password", "")
                )
        except BankmlError as exc:
            token = login_csrf(request)
            response = render(
                request,
                "login.html",
                None,
                status_code=exc.http_status,
                login_csrf=token,
                next=_safe_next(form.get("next", "/ui/")),
                error=exc.message,
                username=form.get("username", "")[:64],
            )
            set_login_csrf_cookie(request, response, token)
            return response
        moved = RedirectResponse(_safe_next(form.get("next", "/ui/")), status_code=303)
        set_session_cookie(request, moved, session.token)
        return moved

    @web.post("/logout")
    async def logout(request: Request) -> Response:
        session = session_of(request)
        check_csrf(session, await read_form(request))
        svc.sessions.sign_out(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/ui")
        return response

    # -- assets ---------------------------------------------------------------------------
    @web.get("/assets/plotly.min.js")
    def plotly_js() -> FileResponse:
        path = resources.files("plotly") / "package_data" / "plotly.min.js"
        return FileResponse(
            str(path),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    # -- overview -------------------------------------------------------------------------
    @web.get("/")
    def overview(request: Request) -> HTMLResponse:
        session = session_of(request)
        counts = actions.overview_counts(svc, session.user)
        return render(request, "overview.html", session, counts=counts)

    # -- fraud ------------------------------------------------------------------------------
    @web.get("/fraud")
    def fraud_queue(
        request: Request, day: str = "", status: str = "open", page: str = "1"
    ) -> HTMLResponse:
        session = session_of(request)
        require(session, *PAGE_ROLES["fraud"])
        when = _day(day)
        wanted = status if status in ("open", "needs_info", "closed") else None
        alerts = actions.fraud_alerts(svc, when, wanted)
        rows, pager = paginate(alerts, _int(page, "page", 1))
        return render(
            request,
            "fraud_queue.html",
            session,
            alerts=rows,
            pager=pager,
            day=day,
            status=status,
            can_act=session.user.role in _FRAUD_ACT,
        )

    @web.get("/fraud/alerts/{alert_id}")
    def fraud_alert(request: Request, alert_id: str) -> HTMLResponse:
        session = session_of(request)
        require(session, *PAGE_ROLES["fraud"])
        alert = actions.fraud_alert(svc, alert_id)
        return render(
            request,
            "fraud_alert.html",
            session,
            alert=alert,
            label=actions.alert_label(svc, alert.transaction_id),
            can_act=session.user.role in _FRAUD_ACT,
        )

    @web.post("/fraud/alerts/{alert_id}/disposition")
    async def fraud_disposition(request: Request, alert_id: str) -> Response:
        session = session_of(request)
        form = await read_form(request)
        check_csrf(session, form)
        require(session, *_FRAUD_ACT)
        actions.record_disposition(
            svc, session.user, alert_id, form.get("outcome", ""), form.get("note", "")
        )
        return _back(f"/ui/fraud/alerts/{quote(alert_id)}", "disposition")

    # -- models ---------------------------------------------------------------------------
    @web.get("/models")
    def models(request: Request) -> HTMLResponse:
        session = session_of(request)
        require(session, *PAGE_ROLES["models"])
        inventory = {name: actions.model_versions(svc, name) for name in actions.model_names(svc)}
        return render(request, "models.html", session, inventory=inventory)

    @web.get("/models/{name}/{version}")
    def model_version(request: Request, name: str, version: int) -> HTMLResponse:
        session = session_of(request)
        require(session, *PAGE_ROLES["models"])
        detail = actions.model_detail(svc, name, version)
        return render(request, "model_version.html", session, m=detail, role=session.user.role)

    @web.get("/models/{name}/{version}/docs")
    def model_docs(request: Request, name: str, version: int) -> Response:
        session = session_of(request)
        require(session, *PAGE_ROLES["models"])
        html = actions.model_docs(svc, name, version)
        response = HTMLResponse(html.read_text(encoding="utf-8"))
        _harden(response, allow_inline=True)
        return response

    @web.post("/models/{name}/{version}/{action}")
    async def model_action(request: Request, name: str, version: int, action: str) -> Response:
        session = session_of(request)
        form = await read_form(request)
        check_csrf(session, form)
        require(session, *PAGE_ROLES["models"])
        user, why = session.user, form.get("rationale", "")
        if action == "submit":
            actions.submit_model(svc, user, name, version)
        elif action == "validate":
            actions.validate_model(svc, user, name, version)
        elif action == "approve":
            actions.approve_model(svc, user, name, version, why)
        elif action == "reject":
            actions.reject_model(svc, user, name, version, why)
        elif action == "promote":
            actions.promote_model(svc, user, name, version, why)
        elif action == "rollback":
            actions.rollback_model(svc, user, name, why)
        else:
            raise InputError(f"unknown action {action!r}")
        return _back(f"/ui/models/{quote(name)}/{version}", action)

    # -- model health ---------------------------------------------------------------------
    @web.get("/health")
    def health(request: Request) -> HTMLResponse:
        session = session_of(request)
        require(session, *PAGE_ROLES["health"])
        views = actions.model_health(svc)
        charts = {
            v.name: {
                "serving": charts_for.serving_charts(v),
                "monitoring": charts_for.monitoring_charts(v.monitoring.days)
                if v.monitoring
                else [],
            }
            for v in views
        }
        latency = (
            charts_for.latency_chart(actions.service_latency(metrics.exposition()))
            if metrics is not None
            else None
        )
        return render(request, "health.html", session, views=views, charts=charts, latency=latency)

    # -- credit ---------------------------------------------------------------------------
    @web.get("/credit")
    def credit(request: Request, decision_id: str = "") -> HTMLResponse:
        session = session_of(request)
        require(session, *PAGE_ROLES["credit"])
        enabled = getattr(svc, "credit", None) is not None
        found = (
            actions.credit_decision(svc, session.user, decision_id)
            if enabled and decision_id.strip()
            else None
        )
        recent = actions.recent_credit_decisions(svc, session.user) if enabled else []
        return render(
            request,
            "credit.html",
            session,
            enabled=enabled,
            decision_id=decision_id,
            found=found,
            recent=recent,
        )

    # -- policy assistant -----------------------------------------------------------------
    @web.get("/policy")
    def policy(request: Request) -> HTMLResponse:
        session = session_of(request)
        require(session, *PAGE_ROLES["policy"])
        return render(request, "policy.html", session, answer=None, question="")

    @web.post("/policy/ask")
    async def policy_ask(request: Request) -> HTMLResponse:
        session = session_of(request)
        form = await read_form(request)
        check_csrf(session, form)
        require(session, *PAGE_ROLES["policy"])
        question = form.get("question", "")
        answer = actions.ask_policy(svc, session.user, question)
        return render(request, "policy.html", session, answer=answer, question=question)

    @web.get("/policy/passages/{chunk_id:path}")
    def policy_passage(request: Request, chunk_id: str) -> HTMLResponse:
        session = session_of(request)
        require(session, *PAGE_ROLES["policy"])
        passage = actions.policy_passage(svc, session.user, chunk_id)
        fragment = request.headers.get("HX-Request") == "true"
        template = "_passage.html" if fragment else "passage.html"
        return render(request, template, session, passage=passage)

    @web.post("/policy/feedback")
    async def policy_feedback(request: Request) -> Response:
        session = session_of(request)
        form = await read_form(request)
        check_csrf(session, form)
        require(session, *PAGE_ROLES["policy"])
        actions.policy_feedback(svc, session.user, form.get("answer_id", ""), form.get("note", ""))
        return _back("/ui/policy", "feedback")

    @web.get("/policy/review")
    def review_queue(request: Request, status: str = "open", page: str = "1") -> HTMLResponse:
        session = session_of(request)
        require(session, *PAGE_ROLES["review"])
        items = actions.review_items(svc, session.user, status)
        rows, pager = paginate(items, _int(page, "page", 1))
        return render(request, "review_queue.html", session, items=rows, pager=pager, status=status)

    @web.get("/policy/review/{item_id}")
    def review_item(request: Request, item_id: int) -> HTMLResponse:
        session = session_of(request)
        require(session, *PAGE_ROLES["review"])
        item = actions.review_item(svc, session.user, item_id)
        return render(request, "review_item.html", session, item=item.to_dict())

    @web.post("/policy/review/{item_id}/{action}")
    async def review_act(request: Request, item_id: int, action: str) -> Response:
        session = session_of(request)
        form = await read_form(request)
        check_csrf(session, form)
        require(session, *PAGE_ROLES["review"])
        actions.review_action(
            svc,
            session.user,
            item_id,
            action,
            form.get("note", ""),
            form.get("answer", ""),
        )
        return _back(f"/ui/policy/review/{item_id}", "review")

    # -- audit ----------------------------------------------------------------------------
    @web.get("/audit")
    def audit(
        request: Request,
        at: str = "",
        window: str = "5m",
        customer: str = "",
        decision: str = "",
        model: str = "",
        page: str = "1",
    ) -> HTMLResponse:
        session = session_of(request)
        require(session, *PAGE_ROLES["audit"])
        searched = bool(at or customer or decision)
        number = max(1, _int(page, "page", 1))
        # The decision index pages itself (newest first): ask for one row more than a page to
        # know whether a next page exists, never for everything.
        found = (
            actions.find_decisions(
                svc,
                at=at or None,
                window=window,
                customer=customer or None,
                decision_id=decision or None,
                model=model or None,
                limit=PER_PAGE + 1,
                offset=(number - 1) * PER_PAGE,
            )
            if searched
            else []
        )
        rows = found[:PER_PAGE]
        pager = Pager(number, number + (len(found) > PER_PAGE), None)
        return render(
            request,
            "audit.html",
            session,
            searched=searched,
            decisions=rows,
            pager=pager,
            q={
                "at": at,
                "window": window,
                "customer": customer,
                "decision": decision,
                "model": model,
            },
            models=actions.model_names(svc),
        )

    @web.post("/audit/replay")
    async def audit_replay(request: Request) -> HTMLResponse:
        session = session_of(request)
        form = await read_form(request)
        check_csrf(session, form)
        require(session, *PAGE_ROLES["audit"])
        result = actions.replay_decision(svc, form.get("decision_id", ""))
        return render(request, "replay.html", session, r=result)

    @web.get("/audit/verify")
    def audit_verify(request: Request) -> HTMLResponse:
        session = session_of(request)
        require(session, *PAGE_ROLES["audit"])
        check = actions.verify_ledger(svc)
        return render(request, "verify.html", session, check=check, report=check.chain)

    return web


def _num(value: Any) -> str:
    """Numbers as people read them (4 significant digits); other values as text."""
    if isinstance(value, bool) or value is None:
        return "–" if value is None else str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_num(v)}" for k, v in value.items())
    return str(value)


def _day(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"day must look like 2026-03-14, not {text!r}") from None


def _safe_next(target: str) -> str:
    """Only a path inside the console: never an absolute URL (no open redirect)."""
    if target.startswith("/ui") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/"


def _back(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={done}", status_code=303)


def _harden(response: Response, *, allow_inline: bool = False) -> None:
    """Security headers: no framing, same-origin scripts only, nothing cached."""
    script = "'self' 'unsafe-inline'" if allow_inline else "'self'"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src {script}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"


def user_label(user: User) -> str:
    """How the header names the signed-in user."""
    return f"{user.name} ({user.role.value})"
