"""The one place that wires bankml together: settings -> database -> services, and the kinds.

Faces (CLI, API, web) build a ``Services`` and call through it; tests build one on a temporary
home or on fakes. Everything is created lazily so a command only pays for what it uses. No
rule lives here: champion loading and hot reload are ``governance.serving``, validate/approve/
docs are ``governance.lifecycle``, each user action is a method of a use case's service.

To add a model kind: write its slice (with a ``kind.py`` returning a ``ModelKind`` and, if it
has tables, a ``tables.py``), then add one line to ``build_kinds`` and, for tables, one entry to
``TABLE_MODULES`` (see docs/kinds.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from bankml.core.clock import Clock, SystemClock
from bankml.core.errors import ConfigError
from bankml.core.identity import UserDirectory
from bankml.core.logging import configure_logging
from bankml.core.pii import PIITokenizer
from bankml.core.settings import Settings, load_settings
from bankml.core.storage import Database, Schema, open_database
from bankml.governance.kinds import KindRegistry
from bankml.governance.ledger import DecisionLedger, VerifyReport
from bankml.migrations import MIGRATIONS_DIR

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from bankml.core.sessions import SessionManager
    from bankml.credit.service import CreditService
    from bankml.fraud.operations import FraudOperations
    from bankml.fraud.queue import ReviewQueue
    from bankml.governance.anchor import LedgerAnchor
    from bankml.governance.approvals import ModelGovernance
    from bankml.governance.decisions import DecisionAudit
    from bankml.governance.gates import ValidationStore
    from bankml.governance.lifecycle import ModelLifecycle
    from bankml.governance.provenance import GovernanceProof
    from bankml.governance.registry import ModelRegistry
    from bankml.governance.serving import ChampionServing
    from bankml.monitoring.service import MonitoringService
    from bankml.policy.service import PolicyAssistant

__all__ = ["SCHEMA", "TABLE_MODULES", "Services", "build_kinds", "build_services"]

log = logging.getLogger(__name__)

# Every module that declares tables on ``bankml.core.tables.metadata``; the Alembic
# environment imports them through ``SCHEMA`` (core never imports a slice).
TABLE_MODULES: tuple[str, ...] = (
    "bankml.core.tables",
    "bankml.governance.tables",
    "bankml.fraud.tables",
    "bankml.policy.tables",
    "bankml.monitoring.tables",
    "bankml.credit.tables",
)
SCHEMA = Schema(migrations_dir=MIGRATIONS_DIR, table_modules=TABLE_MODULES)


def build_kinds() -> KindRegistry:
    """The registered model kinds (one line per kind)."""
    from bankml.credit.kind import credit_kind
    from bankml.fraud.kind import fraud_kind

    kinds = KindRegistry()
    kinds.register(fraud_kind())
    kinds.register(credit_kind())
    return kinds


@dataclass
class Services:
    """Lazily built collaborators, shared by one process."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def kinds(self) -> KindRegistry:
        """The registered model kinds; governance, serving and audit loop over them."""
        return build_kinds()

    @cached_property
    def db(self) -> Database:
        """The migrated app database."""
        return open_database(self.settings, SCHEMA)

    @cached_property
    def users(self) -> UserDirectory:
        """Users, roles, groups and API keys."""
        return UserDirectory(self.db, self.clock)

    @cached_property
    def ledger(self) -> DecisionLedger:
        """The hash-chained decision ledger."""
        return DecisionLedger(self.db, self.clock, verify_workers=self.settings.verify_workers)

    @cached_property
    def anchor(self) -> LedgerAnchor:
        """Signed checkpoints of the ledger in ``anchor_dir`` (``ConfigError`` if unset)."""
        from bankml.governance.anchor import ERR_NOT_CONFIGURED, AnchorLog, LedgerAnchor

        if self.settings.anchor_dir is None:
            raise ConfigError(ERR_NOT_CONFIGURED)
        return LedgerAnchor(
            self.ledger, AnchorLog(self.settings.anchor_dir), self.settings.anchor_key_file,
            self.clock,
        )  # fmt: skip

    def verify_ledger(
        self,
        *,
        expect_head: str | None = None,
        public_key: Path | None = None,
        progress: Callable[[int, int], None] | None = None,
        workers: int | None = None,
    ) -> VerifyReport:
        """Walk the ledger; with ``anchor_dir`` set, also against every signed checkpoint.

        The checkpoints' signatures are checked with ``public_key`` (a PEM file) or the key
        derived from ``anchor_key_file``; an anchor log that fails them is an IntegrityError.
        ``workers`` overrides the ``verify_workers`` setting for this walk.
        """
        anchors: dict[int, str] | None = None
        if self.settings.anchor_dir is not None:
            from bankml.governance.anchor import load_public_key

            anchors = self.anchor.anchors(load_public_key(public_key) if public_key else None)
        return self.ledger.verify(
            expect_head=expect_head, anchors=anchors, progress=progress, workers=workers
        )

    def start_ledger_checkpoints(self) -> bool:
        """The service: sign a checkpoint every N appends / seconds (settings), if configured."""
        s = self.settings
        if s.anchor_dir is None or s.anchor_key_file is None:
            log.warning("ledger anchoring is not configured; no checkpoints will be signed")
            return False
        from bankml.governance.anchor import CheckpointScheduler

        self.ledger.add_listener(
            CheckpointScheduler(self.anchor, s.anchor_every_appends, s.anchor_every_seconds)
        )
        return True

    @cached_property
    def sessions(self) -> SessionManager:
        """Web console sign-in, sessions and lockout; sign-ins and lockouts are ledgered."""
        from bankml.core.sessions import SessionManager

        return SessionManager(self.db, self.users, self.ledger.append, self.clock)

    @cached_property
    def tokenizer(self) -> PIITokenizer:
        """Keyed PII tokenizer (HMAC with the secret key)."""
        return PIITokenizer(self.settings.secret_bytes)

    @cached_property
    def policy(self) -> PolicyAssistant:
        """The policy assistant; its search index lives in ``home/policy_index``."""
        from bankml.policy.factory import build_policy_index, generator_from
        from bankml.policy.service import PolicyAssistant

        index_dir = self.settings.home / "policy_index"
        return PolicyAssistant(
            self.db,
            self.ledger,
            build_policy_index(index_dir, self.settings.policy_retrieval),
            clock=self.clock,
            generator=generator_from(self.settings),
            fingerprint_file=self.settings.home / "policy_index.fingerprint",
        )

    @cached_property
    def registry(self) -> ModelRegistry:
        """The MLflow-backed model registry (MLflow itself is imported on first use)."""
        from bankml.governance.registry import ModelRegistry

        registry = ModelRegistry(
            self.settings.resolved_mlflow_uri,
            self.settings.home,
            timeout=self.settings.mlflow_timeout_seconds,
            max_retries=self.settings.mlflow_max_retries,
        )
        # Lifecycle steps leave MLflow's mirror to the first command that connects anyway.
        registry.on_connect(lambda: self.governance.sync_registry())
        return registry

    @cached_property
    def governance(self) -> ModelGovernance:
        """Model lifecycle and maker-checker approvals (bankml's records; MLflow mirrors)."""
        from bankml.governance.approvals import ModelGovernance

        return ModelGovernance(self.db, self.ledger, self.registry, self.clock)

    @cached_property
    def validations(self) -> ValidationStore:
        """Validation reports (gate results and evidence) per model version."""
        from bankml.governance.gates import ValidationStore

        return ValidationStore(self.db)

    @cached_property
    def lifecycle(self) -> ModelLifecycle:
        """Validate (against the pinned policy), approve, pin policies, render docs."""
        from bankml.governance.lifecycle import ModelLifecycle, PolicyPins

        return ModelLifecycle(
            self.kinds,
            self.governance,
            self.registry,
            self.validations,
            PolicyPins(self.db, self.ledger),
            self.clock,
        )

    @cached_property
    def proof(self) -> GovernanceProof:
        """Cross-checks of the governance tables against the ledger."""
        from bankml.governance.provenance import GovernanceProof

        return GovernanceProof(self.db, self.ledger)

    @cached_property
    def serving(self) -> ChampionServing:
        """Each serving kind's champion, loaded once, checked, reloaded on change."""
        from bankml.governance.serving import ChampionServing

        return ChampionServing(
            self.kinds,
            self.governance,
            self.registry,
            self.proof,
            ledger=self.ledger,
            tokenizer=self.tokenizer,
            clock=self.clock,
            options={
                "online_store": self.settings.online_store,
                "redis_url": self.settings.redis_url,
            },
        )

    @cached_property
    def decisions(self) -> DecisionAudit:
        """Decision lookup (customer ids tokenized inside) and replay, for every kind."""
        from bankml.governance.decisions import DecisionAudit

        return DecisionAudit(
            self.ledger, self.kinds, self.tokenizer, lambda: self.registry, self.db
        )

    @cached_property
    def fraud_queue(self) -> ReviewQueue:
        """The fraud analysts' review queue."""
        from bankml.fraud.queue import ReviewQueue

        return ReviewQueue(self.db, self.ledger, self.clock)

    @cached_property
    def fraud(self) -> FraudOperations:
        """Fraud actions (score, triage, queue, disposition, plan), shared by every face."""
        from bankml.fraud.operations import FraudOperations

        return FraudOperations(
            self.fraud_queue, self.serving, lambda: self.governance, self.tokenizer, self.ledger
        )

    @cached_property
    def monitoring(self) -> MonitoringService:
        """Daily monitoring of every champion of every kind (rules from the settings' file)."""
        from bankml.monitoring.alerts import load_rules
        from bankml.monitoring.service import MonitoringService

        path = self.settings.resolved_monitoring_rules
        if self.settings.monitoring_rules is None and not path.exists():
            log.warning("no monitoring rules at %s: days are computed, no alert is raised", path)
            rules = []
        else:
            rules = load_rules(path)
        return MonitoringService(
            self.kinds,
            db=self.db,
            ledger=self.ledger,
            governance=self.governance,
            registry=self.registry,
            rules=rules,
            webhook_url=self.settings.monitoring_webhook_url,
            cache_dir=self.settings.home / "monitoring" / "reference",
            clock=self.clock,
        )

    @cached_property
    def credit(self) -> CreditService:
        """Credit actions (decide, notice, referral queue), shared by every face."""
        from bankml.credit.review import ReferralQueue
        from bankml.credit.service import CreditService

        return CreditService(
            ledger=self.ledger,
            tokenizer=self.tokenizer,
            referrals=ReferralQueue(self.db, self.ledger, self.clock),
            server=lambda: self.serving.server("credit"),
            clock=self.clock,
        )

    def close(self) -> None:
        """Release database connections."""
        if "db" in self.__dict__:
            self.db.dispose()


def build_services(settings: Settings | None = None) -> Services:
    """Services from the given settings (or the environment), with logging configured."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return Services(settings)
