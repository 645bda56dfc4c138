"""API authentication: an API key per user, roles checked per route.

Verified keys are remembered for ``KEY_CACHE_SECONDS`` so the scoring path does not query the
database on every request; a key revoked from another process stops working within that time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from bankml.api.metrics import note_user
from bankml.app import Services
from bankml.core.errors import PermissionDeniedError
from bankml.core.identity import Role, User

__all__ = [
    "API_KEY_HEADER",
    "BEARER",
    "KEY_CACHE_SECONDS",
    "current_user",
    "require_roles",
    "services",
]

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


# Declared as security schemes so the OpenAPI document carries them (Swagger's Authorize
# button); ``auto_error=False`` because a missing key is answered by our own 401 problem.
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ApiKey",
    description="A bankml API key (`bankml users key NAME`), as the X-API-Key header.",
    auto_error=False,
)
BEARER = HTTPBearer(
    scheme_name="Bearer",
    description="The same API key as `Authorization: Bearer <key>`.",
    auto_error=False,
)


async def current_user(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Security(BEARER),
    x_api_key: str | None = Security(API_KEY_HEADER),
) -> User:
    """The caller, from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    key = x_api_key
    if bearer is not None and bearer.credentials:
        key = bearer.credentials.strip()
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

    # The role names ride as the security requirement's "scopes": OpenAPI 3.1 lets a
    # non-OAuth scheme list the roles an operation needs, so the document says who may call.
    async def check(
        user: User = Security(current_user, scopes=[r.value for r in roles]),
    ) -> User:
        user.require(*roles)
        return user

    return check


class _Unauthenticated(PermissionDeniedError):
    http_status = 401
    title = "Unauthorized"
