"""The one place that wires bankml together: settings -> database -> services.

Faces (CLI, API) build a ``Services`` and call through it; tests build one on a temporary
home or on fakes. Everything is created lazily so a command only pays for what it uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from bankml.core.clock import Clock, SystemClock
from bankml.core.logging import configure_logging
from bankml.core.pii import PIITokenizer
from bankml.core.settings import Settings, load_settings
from bankml.core.storage import Database, open_database
from bankml.core.identity import UserDirectory
from bankml.governance.ledger import DecisionLedger

__all__ = ["Services", "build_services"]


@dataclass
class Services:
    """Lazily built collaborators, shared by one process."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def db(self) -> Database:
        """The migrated app database."""
        return open_database(self.settings)

    @cached_property
    def users(self) -> UserDirectory:
        """Users, roles, groups and API keys."""
        return UserDirectory(self.db, self.clock)

    @cached_property
    def ledger(self) -> DecisionLedger:
        """The hash-chained decision ledger."""
        return DecisionLedger(self.db, self.clock)

    @cached_property
    def tokenizer(self) -> PIITokenizer:
        """Keyed PII tokenizer (HMAC with the secret key)."""
        return PIITokenizer(self.settings.secret_bytes)

    def close(self) -> None:
        """Release database connections."""
        if "db" in self.__dict__:
            self.db.dispose()


def build_services(settings: Settings | None = None) -> Services:
    """Services from the given settings (or the environment), with logging configured."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return Services(settings)
