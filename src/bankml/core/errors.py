"""One exception hierarchy for bankml; faces turn it into exit codes and HTTP problems.

    BankmlError                      exit 2, HTTP 400
    ├── ConfigError                  unsafe or invalid settings
    ├── InputError                   the caller gave something we cannot use
    │   ├── DataFileError            missing, empty, corrupt or wrong-format file
    │   └── SchemaError              unknown schema, or a schema file that does not parse
    ├── NotFoundError                HTTP 404: no such user, model, decision ...
    ├── PermissionDeniedError        HTTP 403: the actor's role does not allow it
    ├── ConflictError                HTTP 409: already exists, wrong state for the action
    ├── UnavailableError             HTTP 503: a capability is not set up yet (no model served)
    └── IntegrityError               the ledger or a stored artefact fails verification

Only the faces (``cli``, ``api``) catch these; everything below raises them with a message
a person can act on, in one line.
"""

from __future__ import annotations

__all__ = [
    "BankmlError",
    "ConfigError",
    "ConflictError",
    "DataFileError",
    "InputError",
    "IntegrityError",
    "NotFoundError",
    "PermissionDeniedError",
    "SchemaError",
    "UnavailableError",
]


class BankmlError(Exception):
    """Base of every error bankml raises on purpose."""

    exit_code: int = 2
    http_status: int = 400
    title: str = "Bad request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(BankmlError):
    """Settings are missing, invalid, or unsafe outside development."""

    title = "Configuration error"


class InputError(BankmlError):
    """Input the caller supplied cannot be used."""

    http_status = 422
    title = "Invalid input"


class DataFileError(InputError):
    """A data file is missing, empty, corrupt or in a format we do not read."""

    title = "Unreadable data file"


class SchemaError(InputError):
    """A schema name is unknown or a schema file is malformed."""

    title = "Schema error"


class NotFoundError(BankmlError):
    """The named thing does not exist."""

    http_status = 404
    title = "Not found"


class PermissionDeniedError(BankmlError):
    """The actor is not allowed to do this (role, group, or maker-checker rule)."""

    http_status = 403
    title = "Forbidden"


class ConflictError(BankmlError):
    """The action conflicts with the current state (duplicate, wrong lifecycle state)."""

    http_status = 409
    title = "Conflict"


class UnavailableError(BankmlError):
    """A capability cannot serve yet, e.g. no model version is registered or approved."""

    http_status = 503
    title = "Service unavailable"


class IntegrityError(BankmlError):
    """Stored evidence failed verification (ledger chain, artefact hash)."""

    exit_code = 1
    http_status = 500
    title = "Integrity failure"
