"""API authentication: an API key per user, roles checked per route."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Header, Request

from bankml.app import Services
from bankml.core.errors import PermissionDeniedError
from bankml.core.identity import Role, User

__all__ = ["current_user", "require_roles", "services"]


def services(request: Request) -> Services:
    """The process's services, set up once at start."""
    svc: Services = request.app.state.services
    return svc


def current_user(
    request: Request,
    authorization: str | None = Header(default=None),
    x_api_key: str | None = Header(default=None),
) -> User:
    """The caller, from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    key = x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        key = authorization[7:].strip()
    if not key:
        raise _Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
    try:
        return services(request).users.authenticate(key)
    except PermissionDeniedError as exc:
        raise _Unauthenticated(exc.message) from None


def require_roles(*roles: Role) -> Callable[..., User]:
    """A dependency that admits only users holding one of ``roles``."""

    def check(user: User = Depends(current_user)) -> User:
        user.require(*roles)
        return user

    return check


class _Unauthenticated(PermissionDeniedError):
    http_status = 401
    title = "Unauthorized"
