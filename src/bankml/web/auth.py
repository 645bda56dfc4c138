"""Who is asking, for the web console: the session cookie, CSRF checks, role gates.

The session lives server-side (``bankml.core.sessions``); the cookie holds only a random token,
``HttpOnly`` (scripts cannot read it), ``SameSite=Lax`` and ``Secure`` outside dev/test or
behind HTTPS. Every form carries the session's CSRF token (the sign-in form a per-browser one,
double-submitted as a cookie), checked in constant time before anything changes.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from bankml.app import Services
from bankml.core.errors import BankmlError, InputError, PermissionDeniedError
from bankml.core.identity import Role
from bankml.core.sessions import SESSION_LIFETIME, Session

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "CsrfError",
    "NeedsSignIn",
    "check_csrf",
    "login_csrf",
    "read_form",
    "require",
    "session_of",
    "set_session_cookie",
]

SESSION_COOKIE = "bankml_session"
LOGIN_CSRF_COOKIE = "bankml_login_csrf"
_MAX_FORM_BYTES = 64 * 1024


class NeedsSignIn(BankmlError):
    """No live session: the page redirects to the sign-in form."""

    http_status = 401
    title = "Sign in"


class CsrfError(PermissionDeniedError):
    """A form came back without this session's CSRF token."""

    title = "Form expired"


def _svc(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def session_of(request: Request) -> Session:
    """The caller's live session; NeedsSignIn otherwise."""
    session = _svc(request).sessions.find(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise NeedsSignIn("sign in to continue")
    return session


def require(session: Session, *roles: Role) -> None:
    """PermissionDeniedError (a 403 page) unless the user holds one of ``roles``."""
    session.user.require(*roles)


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as a dict (first value per field)."""
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        raise InputError("the form is too large")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise InputError("the form could not be read") from None
    return {k: v[0] for k, v in parsed.items()}


def check_csrf(session: Session, form: dict[str, str]) -> None:
    """Refuse a form that does not carry this session's CSRF token."""
    if not session.csrf_ok(form.get("csrf")):
        raise CsrfError("this form has expired or did not come from bankml; reload and retry")


def login_csrf(request: Request) -> str:
    """The browser's sign-in CSRF token (from its cookie, or a new one)."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def check_login_csrf(request: Request, form: dict[str, str]) -> None:
    """The sign-in form's token must equal the one in the browser's cookie."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = form.get("csrf", "")
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise CsrfError("the sign-in form has expired; reload the page and sign in again")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or _svc(request).settings.env == "prod"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """Hand the browser its session token: HTTP-only, same-site, secure where it can be."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/ui",
        httponly=True,
        secure=_secure(request),
        samesite="lax",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui")


def set_login_csrf_cookie(request: Request, response: Response, token: str) -> None:
    """The sign-in form's double-submit cookie."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/ui",
        httponly=True,
        secure=_secure(request),
        samesite="strict",
    )
