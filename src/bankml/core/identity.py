"""Users, roles, document groups and API keys.

Roles gate actions (maker-checker rules live in governance); groups gate which policy
documents a user may read. API keys are shown once and stored only as a SHA-256 hash: a key
is 32 random bytes, so a fast hash is enough (there is nothing to brute-force). Web passwords
are chosen by people, so they are stored as argon2id hashes (argon2-cffi, its RFC 9106 low-memory
profile), which makes guessing offline slow.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from bankml.core.clock import Clock, SystemClock, utc_iso
from bankml.core.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from bankml.core.roles import EVERYONE, Role, User, check_name, parse_groups, parse_role
from bankml.core.storage import Database
from bankml.core.tables import api_keys, users

__all__ = [
    "EVERYONE",
    "MIN_PASSWORD_LENGTH",
    "Role",
    "User",
    "UserDirectory",
    "parse_groups",
    "parse_role",
]

_KEY_PREFIX = "bkml_"
MIN_PASSWORD_LENGTH = 12
_MAX_PASSWORD_LENGTH = 1024


def _password_hasher() -> Any:
    from argon2 import PasswordHasher
    from argon2.profiles import RFC_9106_LOW_MEMORY

    return PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class UserDirectory:
    """Creates and finds users, issues and checks API keys."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self._db = db
        self._clock = clock or SystemClock()

    def add(self, name: str, role: Role | str, groups: frozenset[str] = frozenset()) -> User:
        """Create a user; ConflictError when the name is taken."""
        name = check_name("user name", name.strip().lower())
        role = role if isinstance(role, Role) else parse_role(role)
        for g in groups:
            check_name("group", g)
        row = {
            "name": name,
            "role": role.value,
            "groups": ",".join(sorted(groups)),
            "created_at": utc_iso(self._clock.now()),
        }
        try:
            with self._db.engine.begin() as conn:
                conn.execute(insert(users).values(**row))
        except SAIntegrityError:
            raise ConflictError(f"user {name} already exists") from None
        return self.get(name)

    def get(self, name: str) -> User:
        """Find a user by name; NotFoundError when absent."""
        with self._db.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name.lower())).first()
        if row is None:
            raise NotFoundError(f"no user named {name!r}; add one with `bankml users add`")
        return _to_user(row._mapping)

    def list(self) -> list[User]:
        """All users, by name."""
        with self._db.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).all()
        return [_to_user(r._mapping) for r in rows]

    def issue_key(self, name: str) -> str:
        """Issue a new API key for a user. The key is returned once and stored only hashed."""
        user = self.get(name)
        key = _KEY_PREFIX + secrets.token_urlsafe(32)
        with self._db.engine.begin() as conn:
            conn.execute(
                insert(api_keys).values(
                    user_id=user.id,
                    prefix=key[:12],
                    key_hash=_hash_key(key),
                    created_at=utc_iso(self._clock.now()),
                )
            )
        return key

    def revoke_keys(self, name: str) -> int:
        """Revoke every active key of a user; returns how many were revoked."""
        user = self.get(name)
        with self._db.engine.begin() as conn:
            result = conn.execute(
                update(api_keys)
                .where(api_keys.c.user_id == user.id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=utc_iso(self._clock.now()))
            )
        return int(result.rowcount)

    def set_password(self, name: str, password: str) -> User:
        """Give a user a web password (stored only as an argon2id hash)."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InputError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
        if len(password) > _MAX_PASSWORD_LENGTH:
            raise InputError(f"a password may have at most {_MAX_PASSWORD_LENGTH} characters")
        user = self.get(name)
        digest = str(_password_hasher().hash(password))
        with self._db.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user.id).values(password_hash=digest))
        return user

    def check_password(self, name: str, password: str) -> User:
        """The user whose password this is; PermissionDeniedError otherwise.

        The message is the same for an unknown name, a user without a password and a wrong
        password, and an unknown name still costs one hash, so neither reveals who exists.
        """
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        hasher = _password_hasher()
        denied = PermissionDeniedError("wrong user name or password")
        with self._db.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name.strip().lower())).first()
        stored = row._mapping["password_hash"] if row is not None else None
        if row is None or not stored or len(password) > _MAX_PASSWORD_LENGTH:
            hasher.hash("equalise the time an unknown name takes")
            raise denied
        try:
            hasher.verify(str(stored), password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise denied from None
        return _to_user(row._mapping)

    def authenticate(self, key: str) -> User:
        """The user an active API key belongs to; PermissionDeniedError otherwise."""
        if not key or not key.startswith(_KEY_PREFIX):
            raise PermissionDeniedError("missing or malformed API key")
        with self._db.engine.connect() as conn:
            row = conn.execute(
                select(users)
                .join(api_keys, api_keys.c.user_id == users.c.id)
                .where(api_keys.c.key_hash == _hash_key(key), api_keys.c.revoked_at.is_(None))
            ).first()
        if row is None:
            raise PermissionDeniedError("unknown or revoked API key")
        return _to_user(row._mapping)


def _to_user(m: RowMapping) -> User:
    return User(
        id=int(m["id"]),
        name=str(m["name"]),
        role=Role(m["role"]),
        groups=frozenset(g for g in str(m["groups"]).split(",") if g),
        created_at=str(m["created_at"]),
    )
