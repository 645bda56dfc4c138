"""Governance: the decision ledger, the MLflow-backed registry, approvals, validation gates,
model documentation, and decision lookup and replay.

Knows models only through small protocols (a model directory, ``Replayable``), never fraud or
credit specifics.
"""

from bankml.governance.decisions import (
    DecisionRecord,
    Replayable,
    ReplayResult,
    find_decisions,
    replay,
)
from bankml.governance.ledger import DecisionLedger, Event, LedgerEntry, VerifyReport
from bankml.governance.registry import ModelRegistry, ModelVersionInfo

__all__ = [
    "DecisionLedger",
    "DecisionRecord",
    "Event",
    "LedgerEntry",
    "ModelRegistry",
    "ModelVersionInfo",
    "ReplayResult",
    "Replayable",
    "VerifyReport",
    "find_decisions",
    "replay",
]
