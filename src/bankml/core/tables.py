"""The one ``MetaData`` of the app database (SQLite or PostgreSQL) and core's own tables.

Core owns the metadata object and the tables of users, API keys and the ledger. Each layer or
slice above declares its own tables in its own ``tables.py`` against this ``metadata``
(``governance/tables.py``, ``fraud/tables.py``, ``policy/tables.py``, ...); the wiring
(``bankml.app.SCHEMA``) lists those modules so the Alembic environment in ``bankml/migrations``
sees every table without core importing a slice. A test compares the migrations with the
metadata so they cannot drift apart. Timestamps are stored as fixed-width ISO-8601 UTC text so
that the ledger hashes the same bytes on every database.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "api_keys",
    "ledger_entries",
    "ledger_head",
    "metadata",
    "users",
    "web_login_failures",
    "web_sessions",
]

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("groups", Text, nullable=False, default=""),  # comma-separated, sorted
    Column("created_at", String(27), nullable=False),
    # argon2id hash (PHC string) set by `bankml users set-password`; NULL = no web password
    Column("password_hash", String(255), nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(27), nullable=False),
    Column("revoked_at", String(27), nullable=True),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", String(27), nullable=False, index=True),
    Column("kind", String(64), nullable=False, index=True),
    Column("actor", String(64), nullable=False),
    Column("subject", String(128), nullable=False, index=True),
    Column("payload", Text, nullable=False),  # canonical JSON, hashed byte for byte
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)

# One row: the last sequence number and hash. Written in the same transaction as each append,
# so truncating the tail of the chain is detected too.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# --- web console sign-in (migration 0011) ------------------------------------------------------
# Server-side sessions: the cookie carries a random token, the table only its SHA-256, so a
# database reader cannot ride a session. The CSRF token is per session.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("method", String(16), nullable=False),  # password | api_key
    Column("created_at", String(27), nullable=False),
    Column("expires_at", String(27), nullable=False, index=True),
)

# Failed sign-ins per login name (a name that does not exist counts too, so lockout does not
# reveal which names are real). Kept for the lockout window and the audit trail.
web_login_failures = Table(
    "web_login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("login", String(64), nullable=False),
    Column("at", String(27), nullable=False),
    Index("ix_web_login_failures_login_at", "login", "at"),
)
