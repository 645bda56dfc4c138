"""Governance: the decision ledger, the MLflow-backed registry, approvals, validation gates,
model documentation, champion serving, provenance checks, and decision lookup and replay.

Knows models only through the model-kind contract (``governance.kinds``: ``ModelKind``,
``KindRegistry``, ``Replayable``, ``ModelServer``), never fraud or credit specifics.

Names are imported lazily (PEP 562), so ``import bankml.governance`` costs nothing until a name
is used: the CLI's ``--help`` must not pay for SQLAlchemy, Alembic or MLflow.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bankml.governance.approvals import ModelGovernance, ModelState, Transition
    from bankml.governance.decisions import (
        DecisionAudit,
        DecisionRecord,
        ReplayResult,
        find_decisions,
        replay,
    )
    from bankml.governance.docs import render_docs
    from bankml.governance.gates import (
        GatePolicy,
        GateResult,
        ValidationReport,
        ValidationStore,
        evaluate_gates,
        load_policy,
        run_validation,
    )
    from bankml.governance.kinds import (
        DocSection,
        EvidenceContext,
        KindRegistry,
        ModelKind,
        ModelServer,
        Replayable,
    )
    from bankml.governance.ledger import DecisionLedger, Event, LedgerEntry, VerifyReport
    from bankml.governance.lifecycle import ModelLifecycle, PinnedPolicy, PolicyPins
    from bankml.governance.provenance import GovernanceProof
    from bankml.governance.registry import ModelRegistry, ModelVersionInfo
    from bankml.governance.serving import ChampionServing, ServingContext

__all__ = [
    "ChampionServing",
    "DecisionAudit",
    "DecisionLedger",
    "DecisionRecord",
    "DocSection",
    "Event",
    "EvidenceContext",
    "GatePolicy",
    "GateResult",
    "GovernanceProof",
    "KindRegistry",
    "LedgerEntry",
    "ModelGovernance",
    "ModelKind",
    "ModelLifecycle",
    "ModelRegistry",
    "ModelServer",
    "ModelState",
    "ModelVersionInfo",
    "PinnedPolicy",
    "PolicyPins",
    "ReplayResult",
    "Replayable",
    "ServingContext",
    "Transition",
    "ValidationReport",
    "ValidationStore",
    "VerifyReport",
    "evaluate_gates",
    "find_decisions",
    "load_policy",
    "render_docs",
    "replay",
    "run_validation",
]

_HOME = {
    "ChampionServing": "bankml.governance.serving",
    "DecisionAudit": "bankml.governance.decisions",
    "DecisionLedger": "bankml.governance.ledger",
    "DecisionRecord": "bankml.governance.decisions",
    "DocSection": "bankml.governance.kinds",
    "Event": "bankml.governance.ledger",
    "EvidenceContext": "bankml.governance.kinds",
    "GatePolicy": "bankml.governance.gates",
    "GateResult": "bankml.governance.gates",
    "GovernanceProof": "bankml.governance.provenance",
    "KindRegistry": "bankml.governance.kinds",
    "LedgerEntry": "bankml.governance.ledger",
    "ModelGovernance": "bankml.governance.approvals",
    "ModelKind": "bankml.governance.kinds",
    "ModelLifecycle": "bankml.governance.lifecycle",
    "ModelRegistry": "bankml.governance.registry",
    "ModelServer": "bankml.governance.kinds",
    "ModelState": "bankml.governance.approvals",
    "ModelVersionInfo": "bankml.governance.registry",
    "PinnedPolicy": "bankml.governance.lifecycle",
    "PolicyPins": "bankml.governance.lifecycle",
    "ReplayResult": "bankml.governance.decisions",
    "Replayable": "bankml.governance.kinds",
    "ServingContext": "bankml.governance.serving",
    "Transition": "bankml.governance.approvals",
    "ValidationReport": "bankml.governance.gates",
    "ValidationStore": "bankml.governance.gates",
    "VerifyReport": "bankml.governance.ledger",
    "evaluate_gates": "bankml.governance.gates",
    "find_decisions": "bankml.governance.decisions",
    "load_policy": "bankml.governance.gates",
    "render_docs": "bankml.governance.docs",
    "replay": "bankml.governance.decisions",
    "run_validation": "bankml.governance.gates",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
