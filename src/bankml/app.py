"""The one place that wires bankml together: settings -> database -> services.

Faces (CLI, API) build a ``Services`` and call through it; tests build one on a temporary
home or on fakes. Everything is created lazily so a command only pays for what it uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from bankml.core.clock import Clock, SystemClock
from bankml.core.errors import NotFoundError, UnavailableError
from bankml.core.identity import UserDirectory
from bankml.core.logging import configure_logging
from bankml.core.pii import PIITokenizer
from bankml.core.settings import Settings, load_settings
from bankml.core.storage import Database, open_database
from bankml.governance.ledger import DecisionLedger

if TYPE_CHECKING:
    from bankml.fraud.queue import ReviewQueue
    from bankml.fraud.service import FraudScorer
    from bankml.governance.approvals import ModelGovernance
    from bankml.governance.decisions import Loader
    from bankml.governance.registry import ModelRegistry
    from bankml.policy.service import PolicyAssistant

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

    @cached_property
    def policy(self) -> PolicyAssistant:
        """The policy assistant; its search index lives in ``home/policy_index``."""
        from bankml.policy.index import TantivyIndex
        from bankml.policy.service import PolicyAssistant

        index_dir = self.settings.home / "policy_index"
        return PolicyAssistant(
            self.db,
            self.ledger,
            TantivyIndex(index_dir),
            clock=self.clock,
            fingerprint_file=self.settings.home / "policy_index.fingerprint",
        )

    @cached_property
    def registry(self) -> ModelRegistry:
        """The MLflow-backed model registry (MLflow itself is imported on first use)."""
        from bankml.governance.registry import ModelRegistry

        return ModelRegistry(self.settings.resolved_mlflow_uri, self.settings.home)

    @cached_property
    def governance(self) -> ModelGovernance:
        """Model lifecycle and maker-checker approvals (bankml's records; MLflow mirrors)."""
        from bankml.governance.approvals import ModelGovernance

        return ModelGovernance(self.db, self.ledger, self.registry, self.clock)

    @cached_property
    def fraud_queue(self) -> ReviewQueue:
        """The fraud analysts' review queue."""
        from bankml.fraud.queue import ReviewQueue

        return ReviewQueue(self.db, self.ledger, self.clock)

    @cached_property
    def fraud_scorer(self) -> FraudScorer:
        """Real-time fraud scoring with the served model, loaded once per process.

        The online feature store starts from the transactions the model was trained on
        (the path recorded with the model).
        """
        from pathlib import Path

        from bankml.fraud.online import OnlineFeatureStore
        from bankml.fraud.service import FraudScorer, load_serving, resolve_serving_version

        if not self.registry.has_local_store():
            raise UnavailableError(
                "no fraud model is registered; train one with `bankml fraud train`"
            )
        try:
            info = resolve_serving_version(self.registry)
        except NotFoundError as exc:
            raise UnavailableError(exc.message) from None
        serving = load_serving(
            self.registry.download(info.name, info.version), info.name, info.version
        )
        store = OnlineFeatureStore.from_history(
            Path(serving.meta["data_path"]),
            serving.mapping,
            label_delay_days=int(serving.meta["label_delay_days"]),
        )
        return FraudScorer(serving, store, self.ledger, self.tokenizer)

    @cached_property
    def replay_loaders(self) -> dict[str, Loader]:
        """How to load each model for replay: governance knows models only through this."""
        from bankml.fraud.service import load_replayer

        return {"fraud": load_replayer}

    def close(self) -> None:
        """Release database connections."""
        if "db" in self.__dict__:
            self.db.dispose()


def build_services(settings: Settings | None = None) -> Services:
    """Services from the given settings (or the environment), with logging configured."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return Services(settings)
