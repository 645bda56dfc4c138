"""The one place that wires bankml together: settings -> database -> services.

Faces (CLI, API) build a ``Services`` and call through it; tests build one on a temporary
home or on fakes. Everything is created lazily so a command only pays for what it uses.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bankml.core.clock import Clock, SystemClock
from bankml.core.errors import InputError, IntegrityError, UnavailableError
from bankml.core.identity import Role, User, UserDirectory
from bankml.core.logging import configure_logging
from bankml.core.pii import PIITokenizer
from bankml.core.settings import Settings, load_settings
from bankml.core.storage import Database, open_database
from bankml.governance.ledger import DecisionLedger

if TYPE_CHECKING:
    from collections.abc import Callable

    from bankml.governance.approvals import Transition
    from bankml.governance.gates import ValidationReport

    EvidenceCollector = Callable[..., dict[str, Any]]
    from bankml.fraud.queue import ReviewQueue
    from bankml.fraud.service import FraudScorer, ServingModel
    from bankml.governance.approvals import ModelGovernance
    from bankml.governance.decisions import Loader
    from bankml.governance.gates import ValidationStore
    from bankml.governance.registry import ModelRegistry
    from bankml.policy.service import PolicyAssistant

__all__ = ["Services", "build_services"]

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Lazily built collaborators, shared by one process."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    _reload_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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

        return ModelRegistry(
            self.settings.resolved_mlflow_uri,
            self.settings.home,
            timeout=self.settings.mlflow_timeout_seconds,
            max_retries=self.settings.mlflow_max_retries,
        )

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
    def fraud_queue(self) -> ReviewQueue:
        """The fraud analysts' review queue."""
        from bankml.fraud.queue import ReviewQueue

        return ReviewQueue(self.db, self.ledger, self.clock)

    @cached_property
    def fraud_scorer(self) -> FraudScorer:
        """Real-time fraud scoring with the champion version, loaded once per process.

        Only the version bankml's records name champion (approved, then promoted) is ever
        loaded, and only if its files still hash to what was registered.
        """
        return self._build_fraud_scorer(None)

    def _build_fraud_scorer(self, previous: FraudScorer | None) -> FraudScorer:
        from pathlib import Path

        from bankml.fraud.online import OnlineFeatureStore
        from bankml.fraud.service import MODEL_NAME, FraudScorer
        from bankml.governance.approvals import ModelState

        if not self.registry.has_local_store():
            raise UnavailableError(
                "no fraud model is registered; train one with `bankml fraud train`"
            )
        version = self.governance.champion(MODEL_NAME)
        if version is None:
            raise UnavailableError(
                "no fraud model is champion; approve a version and promote "
                "it with `bankml model promote fraud VERSION`"
            )
        if self.governance.state(MODEL_NAME, version) is not ModelState.CHAMPION:
            raise IntegrityError(
                f"refusing to serve fraud v{version}: it is not the approved champion"
            )
        serving = self.load_fraud_model(version)
        keep_store = previous is not None and all(
            previous.serving.meta[k] == serving.meta[k]
            for k in ("mapping", "label_delay_days", "data_path")
        )
        # A compatible store keeps the live transactions and labels it has seen since start.
        store = (
            previous.store
            if previous is not None and keep_store
            else (
                OnlineFeatureStore.from_history(
                    Path(serving.meta["data_path"]),
                    serving.mapping,
                    label_delay_days=int(serving.meta["label_delay_days"]),
                )
            )
        )
        return FraudScorer(serving, store, self.ledger, self.tokenizer, self.clock)

    def load_fraud_model(self, version: int) -> ServingModel:
        """A fraud model version from the registry, refused if its files do not hash to what
        was registered (a tampered or corrupt file is never handed to LightGBM)."""
        from bankml.fraud.service import MODEL_NAME, load_serving
        from bankml.governance.registry import sha256_dir

        model_dir = self.registry.download(MODEL_NAME, version)
        if sha256_dir(model_dir) != self.registry.artifact_hash(MODEL_NAME, version):
            raise IntegrityError(
                f"refusing to load fraud v{version}: its files do not match "
                "the hash registered with it"
            )
        return load_serving(model_dir, MODEL_NAME, version)

    def refresh_fraud_scorer(self) -> int | None:
        """Serve the current champion if it changed (promotion or rollback), without a restart.

        Returns the version now served, or None when there is no champion yet. A failed load
        keeps the running model and raises.
        """
        from bankml.fraud.service import MODEL_NAME

        with self._reload_lock:
            current: FraudScorer | None = self.__dict__.get("fraud_scorer")
            champion = self.governance.champion(MODEL_NAME)
            if champion is None:
                return None
            if current is not None and current.serving.version == champion:
                return champion
            self.__dict__["fraud_scorer"] = self._build_fraud_scorer(current)
            log.info("now serving fraud v%s", champion)
            return champion

    @cached_property
    def evidence_collectors(self) -> dict[str, EvidenceCollector]:
        """How to gather validation evidence for each model name (a use case's job)."""
        from bankml.fraud.validation import collect_evidence

        return {"fraud": collect_evidence}

    def validate_model(
        self, name: str, version: int, user: User, policy_path: Path | None = None
    ) -> tuple[ValidationReport, Transition]:
        """Run the model's gate policy on a submitted version, store the evidence, move the
        version to ``validated`` (or keep it ``submitted`` when a gate fails)."""
        import tempfile
        from dataclasses import replace

        from bankml.governance.gates import ValidationStore, load_policy, run_validation

        # Independent validation: only validators run the gates that count.
        user.require(Role.VALIDATOR)
        self.governance.require_validatable(name, version)
        collect = self.evidence_collectors.get(name)
        if collect is None:
            known = ", ".join(sorted(self.evidence_collectors))
            raise InputError(f"no validation evidence collector for model {name!r}; known: {known}")
        policy = load_policy(policy_path or self.official_policy_path(name))
        with tempfile.TemporaryDirectory(prefix="bankml-validate-") as work:
            evidence = collect(self.registry, name, version, work_dir=Path(work))
        report = run_validation(
            policy, evidence, model_name=name, version=version, ran_by=user.name, clock=self.clock
        )
        report = replace(report, id=ValidationStore(self.db).save(report))
        return report, self.governance.record_validation(name, version, report.passed, user.name)

    def official_policy_path(self, name: str) -> Path:
        """The model's official gate policy: ``<policy_dir>/<name>.toml``."""
        return self.settings.policy_dir / f"{name}.toml"

    def approve_model(self, name: str, version: int, user: User, rationale: str) -> Transition:
        """Approve, counting only a validation run against the model's official gate policy."""
        from bankml.governance.gates import load_policy

        official = load_policy(self.official_policy_path(name)).sha256
        return self.governance.approve(
            name, version, user, rationale, required_policy_sha256=official
        )

    def render_model_docs(self, name: str, version: int, out: Path) -> tuple[Path, Path]:
        """The documentation pack (HTML with plots, and Markdown), from stored evidence only."""
        from bankml.governance.docs import render_docs
        from bankml.governance.gates import ValidationStore

        self.governance.record(name, version)  # NotFoundError says how to list versions
        validations = ValidationStore(self.db).all(name, version)
        if not validations:
            raise InputError(
                f"{name} v{version} has no stored validation evidence; run "
                f"`bankml model validate {name} {version}` first"
            )
        evidence = dict(validations[-1].evidence)
        return render_docs(
            out,
            info=self.registry.get(name, version),
            serving_meta={
                **evidence.get("serving", {}),
                "capacity_plan": evidence.get("capacity_plan"),
            },
            evaluation=dict(evidence.get("evaluation", {})),
            validations=validations,
            transitions=self.governance.transitions(name, version),
            champion_history=self.governance.champion_history(name),
            feature_definitions=evidence.get("feature_definitions", []),
        )

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
