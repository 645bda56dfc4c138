"""API authentication: an API key per user, roles checked per route.

Verified keys are remembered for ``KEY_CACHE_SECONDS`` so the scoring path does not query the
database on every request; a key revoked from another process stops working within that time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Awaitable, Callable

from fastapi import Depends, Header, Request

from bankml.api.metrics import note_user
from bankml.app import Services
from bankml.core.errors import PermissionDeniedError
from bankml.core.identity import Role, User

__all__ = ["KEY_CACHE_SECONDS", "current_user", "require_roles", "services"]

KEY_CACHE_SECONDS = 10.0
_cache: dict[str, tuple[User, float]] = {}
_cache_lock = threading.Lock()


async def services(request: Request) -> Services:
    """The process's services, set up once at start.

    ``async`` on purpose: FastAPI runs plain ``def`` dependencies in a thread pool, a thread
    hop per request that the scoring path does not need.
    """
    svc: Services = request.app.state.services
    return svc


def _authenticate(svc: Services, key: str) -> User:
    # The cache is keyed by a hash, so the process never holds raw keys longer than a request.
    digest = hashlib.sha256(key.encode()).hexdigest()
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
    user = svc.users.authenticate(key)
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[digest] = (user, now + KEY_CACHE_SECONDS)
    return user


async def current_user(
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
        user = _authenticate(request.app.state.services, key)
    except PermissionDeniedError as exc:
        raise _Unauthenticated(exc.message) from None
    note_user(request, user.name)  # the access log names the acting principal
    return user


def require_roles(*roles: Role) -> Callable[..., Awaitable[User]]:
    """A dependency that admits only users holding one of ``roles``."""

    async def check(user: User = Depends(current_user)) -> User:
        user.require(*roles)
        return user

    return check


class _Unauthenticated(PermissionDeniedError):
    http_status = 401
    title = "Unauthorized"
