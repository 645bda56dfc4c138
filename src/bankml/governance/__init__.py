"""Governance: the decision ledger, the MLflow-backed registry, approvals, validation gates,
model documentation, champion serving, provenance checks, and decision lookup and replay.

Knows models only through the model-kind contract (``governance.kinds``: ``ModelKind``,
``KindRegistry``, ``Replayable``, ``ModelServer``), never fraud or credit specifics.
"""

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
