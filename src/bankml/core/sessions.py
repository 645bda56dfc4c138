"""Web sign-in: server-side sessions, CSRF tokens, and lockout after repeated failures.

    sign in (password or API key) ──ok──► session row (token hashed) ──► cookie (token)
          │                                        │
          └─failed──► failure row ──5 in 15 min──► locked for 15 min (ledgered by the caller)

The cookie holds a random 32-byte token; the table stores only its SHA-256, so someone who
reads the database cannot ride a session. Each session has its own CSRF token, which every
form posts back. Failed sign-ins are counted per login name whether or not the name exists,
so the lockout message does not reveal which names are real. Auditing is a callback (the
decision ledger, wired in ``bankml.app``): core does not know the ledger.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select

from bankml.core.clock import Clock, SystemClock, utc_iso
from bankml.core.errors import PermissionDeniedError
from bankml.core.identity import User, UserDirectory
from bankml.core.storage import Database
from bankml.core.tables import users, web_login_failures, web_sessions

__all__ = [
    "LOCKOUT_FAILURES",
    "LOCKOUT_WINDOW",
    "SESSION_LIFETIME",
    "LockedOutError",
    "Session",
    "SessionManager",
]

LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)  # one working day; sign in again the next morning
_MAX_LOGIN = 64

Audit = Callable[[str, str, str, dict[str, Any]], Any]

ERR_LOCKED = "too many failed sign-ins for {login}; try again in {minutes} minutes or ask an admin"


class LockedOutError(PermissionDeniedError):
    """Sign-in refused: too many recent failures for this login name."""

    http_status = 429
    title = "Too many failed sign-ins"


@dataclass(frozen=True)
class Session:
    """A signed-in user's session (the raw token only at creation time)."""

    user: User
    csrf_token: str
    method: str
    expires_at: str
    token: str = ""

    def csrf_ok(self, submitted: str | None) -> bool:
        """Whether a form's CSRF field matches this session's token (constant time)."""
        return bool(submitted) and hmac.compare_digest(self.csrf_token, str(submitted))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionManager:
    """Signs people in and out of the web console and finds their session per request."""

    def __init__(
        self,
        db: Database,
        directory: UserDirectory,
        audit: Audit,
        clock: Clock | None = None,
    ) -> None:
        self._db = db
        self._users = directory
        self._audit = audit
        self._clock = clock or SystemClock()

    def sign_in_password(self, login: str, password: str) -> Session:
        """A new session for a correct password; PermissionDeniedError or LockedOutError."""
        login = login.strip().lower()[:_MAX_LOGIN]
        self._refuse_if_locked(login)
        try:
            user = self._users.check_password(login, password)
        except PermissionDeniedError:
            self._failed(login, "password")
            raise
        return self._open(user, "password")

    def sign_in_key(self, api_key: str) -> Session:
        """A new session for a valid API key (the key's owner).

        Failures are counted under the key's public prefix, so guessing keys is locked out too.
        """
        login = f"key:{api_key.strip()[:12]}"
        self._refuse_if_locked(login)
        try:
            user = self._users.authenticate(api_key.strip())
        except PermissionDeniedError:
            self._failed(login, "api_key")
            raise PermissionDeniedError("unknown or revoked API key") from None
        return self._open(user, "api_key")

    def find(self, token: str | None) -> Session | None:
        """The live session a cookie token names, or None (unknown or expired)."""
        if not token:
            return None
        now = utc_iso(self._clock.now())
        with self._db.engine.connect() as conn:
            row = conn.execute(
                select(
                    web_sessions.c.csrf_token,
                    web_sessions.c.method,
                    web_sessions.c.expires_at,
                    users.c.name,
                )
                .join(users, users.c.id == web_sessions.c.user_id)
                .where(web_sessions.c.token_hash == _digest(token), web_sessions.c.expires_at > now)
            ).first()
        if row is None:
            return None
        m = row._mapping
        return Session(
            user=self._users.get(str(m["name"])),
            csrf_token=str(m["csrf_token"]),
            method=str(m["method"]),
            expires_at=str(m["expires_at"]),
        )

    def sign_out(self, token: str | None) -> None:
        """End a session (a no-op for an unknown token)."""
        session = self.find(token)
        if token:
            with self._db.engine.begin() as conn:
                conn.execute(
                    delete(web_sessions).where(web_sessions.c.token_hash == _digest(token))
                )
        if session is not None:
            self._audit("web.signed_out", session.user.name, f"user:{session.user.name}", {})

    def _open(self, user: User, method: str) -> Session:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self._clock.now()
        expires = utc_iso(now + SESSION_LIFETIME)
        with self._db.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= utc_iso(now)))
            conn.execute(
                insert(web_sessions).values(
                    token_hash=_digest(token),
                    user_id=user.id,
                    csrf_token=csrf,
                    method=method,
                    created_at=utc_iso(now),
                    expires_at=expires,
                )
            )
        self._audit("web.signed_in", user.name, f"user:{user.name}", {"method": method})
        return Session(user=user, csrf_token=csrf, method=method, expires_at=expires, token=token)

    def _recent_failures(self, login: str) -> tuple[int, str | None]:
        since = utc_iso(self._clock.now() - LOCKOUT_WINDOW)
        with self._db.engine.connect() as conn:
            count, last = conn.execute(
                select(func.count(), func.max(web_login_failures.c.at)).where(
                    web_login_failures.c.login == login, web_login_failures.c.at > since
                )
            ).one()
        return int(count), last

    def _refuse_if_locked(self, login: str) -> None:
        count, _ = self._recent_failures(login)
        if count >= LOCKOUT_FAILURES:
            minutes = int(LOCKOUT_WINDOW.total_seconds() // 60)
            raise LockedOutError(ERR_LOCKED.format(login=login, minutes=minutes))

    def _failed(self, login: str, method: str) -> None:
        with self._db.engine.begin() as conn:
            conn.execute(
                insert(web_login_failures).values(login=login, at=utc_iso(self._clock.now()))
            )
        count, _ = self._recent_failures(login)
        self._audit("web.sign_in_failed", "anonymous", f"login:{login}", {"method": method})
        if count == LOCKOUT_FAILURES:
            self._audit(
                "web.locked_out",
                "anonymous",
                f"login:{login}",
                {"failures": count, "minutes": int(LOCKOUT_WINDOW.total_seconds() // 60)},
            )
