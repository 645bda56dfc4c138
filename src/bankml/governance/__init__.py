"""Governance: the decision ledger, the MLflow-backed registry, approvals, validation gates,
model documentation, and decision lookup and replay.

Knows models only through small protocols (a model directory, ``Replayable``), never fraud or
credit specifics.
"""

from bankml.governance.approvals import ModelGovernance, ModelState, Transition
from bankml.governance.decisions import (
    DecisionRecord,
    Replayable,
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
from bankml.governance.ledger import DecisionLedger, Event, LedgerEntry, VerifyReport
from bankml.governance.registry import ModelRegistry, ModelVersionInfo

__all__ = [
    "DecisionLedger",
    "DecisionRecord",
    "Event",
    "GatePolicy",
    "GateResult",
    "LedgerEntry",
    "ModelGovernance",
    "ModelRegistry",
    "ModelState",
    "ModelVersionInfo",
    "ReplayResult",
    "Replayable",
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
