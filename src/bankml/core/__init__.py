"""Core: settings, storage, identities and roles, PII protection, errors, logging, clock.

No ML lives here; every other layer builds on it.

Names are imported lazily (PEP 562), so ``import bankml.core`` costs nothing until a name
is used: the CLI's ``--help`` must not pay for SQLAlchemy, Alembic or MLflow.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bankml.core.canonical import canonical_json, to_jsonable
    from bankml.core.clock import Clock, FixedClock, SystemClock, utc_iso
    from bankml.core.errors import (
        BankmlError,
        ConfigError,
        ConflictError,
        DataFileError,
        InputError,
        IntegrityError,
        NotFoundError,
        PermissionDeniedError,
        SchemaError,
        UnavailableError,
    )
    from bankml.core.files import atomic_write_bytes, atomic_write_text
    from bankml.core.identity import EVERYONE, Role, User, UserDirectory, parse_groups, parse_role
    from bankml.core.pii import (
        PIIKind,
        PIIMatch,
        PIITokenizer,
        contains_pii,
        find_pii,
        redact_free_text,
        redact_payload,
        redact_text,
    )
    from bankml.core.settings import Settings, get_settings, load_settings
    from bankml.core.storage import Database, Schema, open_database
    from bankml.core.text import clean_text, has_visible_text, require_visible

__all__ = [
    "EVERYONE",
    "BankmlError",
    "Clock",
    "ConfigError",
    "ConflictError",
    "DataFileError",
    "Database",
    "FixedClock",
    "InputError",
    "IntegrityError",
    "NotFoundError",
    "PIIKind",
    "PIIMatch",
    "PIITokenizer",
    "PermissionDeniedError",
    "Role",
    "Schema",
    "SchemaError",
    "Settings",
    "SystemClock",
    "UnavailableError",
    "User",
    "UserDirectory",
    "atomic_write_bytes",
    "atomic_write_text",
    "canonical_json",
    "clean_text",
    "contains_pii",
    "find_pii",
    "get_settings",
    "has_visible_text",
    "load_settings",
    "open_database",
    "parse_groups",
    "parse_role",
    "redact_free_text",
    "redact_payload",
    "redact_text",
    "require_visible",
    "to_jsonable",
    "utc_iso",
]

_HOME = {
    "BankmlError": "bankml.core.errors",
    "Clock": "bankml.core.clock",
    "ConfigError": "bankml.core.errors",
    "ConflictError": "bankml.core.errors",
    "DataFileError": "bankml.core.errors",
    "Database": "bankml.core.storage",
    "EVERYONE": "bankml.core.identity",
    "FixedClock": "bankml.core.clock",
    "InputError": "bankml.core.errors",
    "IntegrityError": "bankml.core.errors",
    "NotFoundError": "bankml.core.errors",
    "PIIKind": "bankml.core.pii",
    "PIIMatch": "bankml.core.pii",
    "PIITokenizer": "bankml.core.pii",
    "PermissionDeniedError": "bankml.core.errors",
    "Role": "bankml.core.identity",
    "Schema": "bankml.core.storage",
    "SchemaError": "bankml.core.errors",
    "Settings": "bankml.core.settings",
    "SystemClock": "bankml.core.clock",
    "UnavailableError": "bankml.core.errors",
    "User": "bankml.core.identity",
    "UserDirectory": "bankml.core.identity",
    "atomic_write_bytes": "bankml.core.files",
    "atomic_write_text": "bankml.core.files",
    "canonical_json": "bankml.core.canonical",
    "clean_text": "bankml.core.text",
    "contains_pii": "bankml.core.pii",
    "find_pii": "bankml.core.pii",
    "get_settings": "bankml.core.settings",
    "has_visible_text": "bankml.core.text",
    "load_settings": "bankml.core.settings",
    "open_database": "bankml.core.storage",
    "parse_groups": "bankml.core.identity",
    "parse_role": "bankml.core.identity",
    "redact_free_text": "bankml.core.pii",
    "redact_payload": "bankml.core.pii",
    "redact_text": "bankml.core.pii",
    "require_visible": "bankml.core.text",
    "to_jsonable": "bankml.core.canonical",
    "utc_iso": "bankml.core.clock",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
