"""Roles, users and document groups: the light half of identity, with no database.

What a user may do (``Role``) and read (groups) is checked everywhere, including by faces at
import time for their help texts, so it must cost nothing to import. Storing users and
checking API keys is ``bankml.core.identity``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bankml.core.errors import InputError, PermissionDeniedError

__all__ = ["EVERYONE", "Role", "User", "check_name", "parse_groups", "parse_role"]

EVERYONE = "everyone"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class Role(StrEnum):
    """What a user does in the bank; each action checks the role it needs."""

    MODEL_DEVELOPER = "model_developer"
    VALIDATOR = "validator"
    FRAUD_ANALYST = "fraud_analyst"
    CREDIT_OFFICER = "credit_officer"
    COMPLIANCE_REVIEWER = "compliance_reviewer"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SERVICE = "service"  # a machine client, e.g. the card-payments switch calling /score


@dataclass(frozen=True)
class User:
    """A person (or service) known to bankml."""

    id: int
    name: str
    role: Role
    groups: frozenset[str]
    created_at: str

    @property
    def reading_groups(self) -> frozenset[str]:
        """Groups whose documents this user may read: their own plus ``everyone``."""
        return self.groups | {EVERYONE}

    def require(self, *roles: Role) -> None:
        """Raise PermissionDeniedError unless the user holds one of ``roles``."""
        if self.role not in roles:
            wanted = " or ".join(r.value for r in roles)
            raise PermissionDeniedError(f"user {self.name} is {self.role.value}; needs {wanted}")


def check_name(kind: str, value: str) -> str:
    """``value`` if it is a valid user or group name, else InputError saying what is valid."""
    if not _NAME_RE.match(value):
        raise InputError(
            f"invalid {kind} {value!r}: use lowercase letters, digits, '.', '_' or '-' "
            "(at most 64 characters)"
        )
    return value


def parse_groups(text: str | None) -> frozenset[str]:
    """Parse ``"g1,g2"`` into validated group names (empty or None -> no groups)."""
    if not text:
        return frozenset()
    return frozenset(check_name("group", g.strip().lower()) for g in text.split(",") if g.strip())


def parse_role(text: str) -> Role:
    """Parse a role name, listing the valid ones when it is unknown."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise InputError(f"unknown role {text!r}; choose one of: {valid}") from None
