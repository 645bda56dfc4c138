"""Core: settings, storage, identities and roles, PII protection, errors, logging, clock.

No ML lives here; every other layer builds on it.
"""

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
    redact_payload,
    redact_text,
)
from bankml.core.settings import Settings, get_settings, load_settings
from bankml.core.storage import Database, Schema, open_database

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
    "contains_pii",
    "find_pii",
    "get_settings",
    "load_settings",
    "open_database",
    "parse_groups",
    "parse_role",
    "redact_payload",
    "redact_text",
    "to_jsonable",
    "utc_iso",
]
