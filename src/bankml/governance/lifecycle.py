"""Validate, approve, document: the model lifecycle steps that need a model's kind.

``ModelGovernance`` (approvals.py) keeps the state machine; this service adds what needs the
registered kind: collecting validation evidence, judging it against the model's *pinned*
official gate policy, approving only on a validation against that pin, and rendering the
documentation pack with the kind's own sections. It loops over nothing and names no kind.

Pinned gate policies: an admin installs each model's official policy
(``bankml model policy install NAME FILE``); its bytes and SHA-256 are stored and the pin is
ledgered. Validation without ``--policy`` runs the pinned bytes, and approval counts a
validation only if it ran against the pin, whatever ``BANKML_POLICY_DIR`` says at approval
time (a lax policy file swapped in later cannot pass a model).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bankml.core.clock import Clock, SystemClock
from bankml.core.errors import ConflictError, InputError
from bankml.core.identity import Role, User
from bankml.core.storage import Database
from bankml.governance.approvals import ModelGovernance, Transition, check_model_name
from bankml.governance.docs import render_docs
from bankml.governance.gates import (
    GatePolicy,
    ValidationReport,
    ValidationStore,
    load_policy,
    parse_policy,
    run_validation,
)
from bankml.governance.kinds import EvidenceContext, KindRegistry
from bankml.governance.ledger import DecisionLedger, Event
from bankml.governance.registry import ModelRegistry
from bankml.governance.tables import gate_policies

__all__ = ["ModelLifecycle", "PinnedPolicy", "PolicyPins"]

log = logging.getLogger(__name__)

MSG_NOT_PINNED = (
    "no official gate policy is pinned for {name}; an admin installs one with "
    "`bankml model policy install {name} FILE`"
)
MSG_POLICY_FOR_OTHER = "policy {path} is for model {other}, not {name}"
MSG_NO_EVIDENCE = (
    "{name} v{version} has no stored validation evidence; run "
    "`bankml model validate {name} {version}` first"
)


@dataclass(frozen=True)
class PinnedPolicy:
    """A model's official gate policy as an admin pinned it."""

    model_name: str
    sha256: str
    content: str
    source: str
    installed_by: str
    installed_at: str
    ledger_seq: int

    def policy(self) -> GatePolicy:
        """The pinned bytes, parsed (exactly what was pinned, not today's file)."""
        return parse_policy(self.content.encode("utf-8"), Path(self.source))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (without the content)."""
        return {
            "model_name": self.model_name,
            "sha256": self.sha256,
            "source": self.source,
            "installed_by": self.installed_by,
            "installed_at": self.installed_at,
            "ledger_seq": self.ledger_seq,
        }


class PolicyPins:
    """Each model's pinned official gate policy; the newest pin is in force."""

    def __init__(self, db: Database, ledger: DecisionLedger) -> None:
        self._db = db
        self._ledger = ledger

    def install(self, name: str, path: Path, user: User) -> PinnedPolicy:
        """Pin ``path`` as ``name``'s official gate policy (admins only; ledgered)."""
        user.require(Role.ADMIN)
        check_model_name(name)
        policy = load_policy(path)  # refuses a malformed policy before anything is stored
        if policy.model_name is not None and policy.model_name != name:
            raise InputError(
                MSG_POLICY_FOR_OTHER.format(path=path, other=policy.model_name, name=name)
            )
        content = path.read_bytes().decode("utf-8")
        event = Event(
            "model.policy_pinned",
            user.name,
            f"policy:{name}",
            {"model": name, "sha256": policy.sha256, "source": str(path)},
        )
        with self._db.write_lock() as conn:
            (entry,) = self._ledger.append_in(conn, [event])
            conn.execute(
                insert(gate_policies).values(
                    model_name=name,
                    sha256=policy.sha256,
                    content=content,
                    source=str(path),
                    installed_by=user.name,
                    installed_at=entry.ts,
                    ledger_seq=entry.seq,
                    ledger_hash=entry.hash,
                )
            )
        log.info("pinned gate policy %s for %s", policy.sha256[:12], name)
        pinned = self.pinned(name)
        assert pinned is not None
        return pinned

    def pinned(self, name: str) -> PinnedPolicy | None:
        """The pin in force for ``name`` (None when no admin has pinned one)."""
        with self._db.engine.connect() as conn:
            row = conn.execute(
                select(gate_policies)
                .where(gate_policies.c.model_name == name)
                .order_by(gate_policies.c.id.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        return PinnedPolicy(
            model_name=str(row.model_name),
            sha256=str(row.sha256),
            content=str(row.content),
            source=str(row.source),
            installed_by=str(row.installed_by),
            installed_at=str(row.installed_at),
            ledger_seq=int(row.ledger_seq),
        )

    def require(self, name: str) -> PinnedPolicy:
        """The pin in force, or ConflictError saying how an admin installs one."""
        pinned = self.pinned(name)
        if pinned is None:
            raise ConflictError(MSG_NOT_PINNED.format(name=name))
        return pinned


class ModelLifecycle:
    """Validate / approve / document a model version, driven by its registered kind."""

    def __init__(
        self,
        kinds: KindRegistry,
        governance: ModelGovernance,
        registry: ModelRegistry,
        validations: ValidationStore,
        pins: PolicyPins,
        clock: Clock | None = None,
    ) -> None:
        self._kinds = kinds
        self._governance = governance
        self._registry = registry
        self._validations = validations
        self.pins = pins
        self._clock = clock or SystemClock()

    def validate(
        self, name: str, version: int, user: User, policy_path: Path | None = None
    ) -> tuple[ValidationReport, Transition]:
        """Run the gates on a submitted version, store the evidence, move it to ``validated``
        (or keep it ``submitted`` when a gate fails).

        Without ``policy_path`` the pinned official policy is used; with one (a what-if run)
        the report is stored but counts for approval only if its hash equals the pin's.
        """
        user.require(Role.VALIDATOR)  # independent validation: only validators' runs count
        self._governance.require_validatable(name, version, user)
        kind = self._kinds.get(name)  # only a registered kind knows how to collect evidence
        policy = load_policy(policy_path) if policy_path else self.pins.require(name).policy()
        with tempfile.TemporaryDirectory(prefix="bankml-validate-") as work:
            ctx = EvidenceContext(self._registry, name, version, Path(work))
            evidence = kind.collect_evidence(ctx)
        report = run_validation(
            policy, evidence, model_name=name, version=version, ran_by=user.name, clock=self._clock
        )
        report = replace(report, id=self._validations.save(report))
        return report, self._governance.record_validation(name, version, report.passed, user.name)

    def approve(self, name: str, version: int, user: User, rationale: str) -> Transition:
        """Approve, counting only a validation run against the model's pinned gate policy."""
        official = self.pins.require(name).sha256
        return self._governance.approve(
            name, version, user, rationale, required_policy_sha256=official
        )

    def install_policy(self, name: str, path: Path, user: User) -> PinnedPolicy:
        """Pin ``path`` as a model's official gate policy (admins)."""
        return self.pins.install(name, path, user)

    def render_docs(self, name: str, version: int, out: Path) -> tuple[Path, Path]:
        """The documentation pack (HTML with plots, and Markdown), from stored evidence only."""
        kind = self._kinds.get(name)
        self._governance.record(name, version)  # NotFoundError says how to list versions
        validations = self._validations.all(name, version)
        if not validations:
            raise InputError(MSG_NO_EVIDENCE.format(name=name, version=version))
        evidence = dict(validations[-1].evidence)
        return render_docs(
            out,
            info=self._registry.get(name, version),
            validations=validations,
            transitions=self._governance.transitions(name, version),
            champion_history=self._governance.champion_history(name),
            kind_sections=kind.doc_sections(evidence),
            kind_title=kind.title,
        )
