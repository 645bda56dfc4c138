"""Fraud as a model kind: what governance needs to validate, serve, document and replay it.

``bankml.app`` registers :func:`fraud_kind` in the ``KindRegistry``; nothing in ``core`` or
``governance`` names fraud. Heavy modules (pandas, LightGBM) are imported inside the hooks, so
building the kind costs nothing until a hook runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bankml.fraud.monitoring_spec import FRAUD_MONITOR
from bankml.governance.kinds import DocSection, EvidenceContext, ModelKind, Replayable

if TYPE_CHECKING:
    from bankml.fraud.service import FraudScorer
    from bankml.governance.decisions import DecisionRecord
    from bankml.governance.serving import ServingContext

__all__ = ["DECISION_EVENT", "MODEL_NAME", "FraudDecision", "fraud_decision", "fraud_kind"]

MODEL_NAME = "fraud"
DECISION_EVENT = "fraud.scored"
PURPOSE = (
    "Rank card transactions for fraud review within the analysts' daily capacity; "
    "not for declining payments automatically."
)


@dataclass(frozen=True)
class FraudDecision:
    """One logged fraud decision, typed for faces (identifiers are tokens, never raw)."""

    decision_id: str
    ts: str
    model_version: int
    transaction_id: Any
    customer_token: str | None
    card_token: str | None
    score: float
    decision: str
    threshold: float | None
    reasons: tuple[str, ...]
    ledger_seq: int


def fraud_decision(record: DecisionRecord) -> FraudDecision:
    """The typed view of a ``fraud.scored`` ledger record (``ModelKind.decision_record``)."""
    return FraudDecision(
        decision_id=record.decision_id,
        ts=record.ts,
        model_version=record.model_version,
        transaction_id=record.inputs.get("transaction_id"),
        customer_token=record.inputs.get("customer_token"),
        card_token=record.inputs.get("card_token"),
        score=float(record.output["score"]),
        decision=str(record.output["decision"]),
        threshold=record.output.get("threshold"),
        reasons=tuple(record.explanation.get("reasons", ())),
        ledger_seq=record.ledger_seq,
    )


def _collect_evidence(ctx: EvidenceContext) -> dict[str, Any]:
    from bankml.fraud.validation import collect_evidence

    return collect_evidence(ctx.registry, ctx.name, ctx.version, work_dir=ctx.work_dir)


def _load_replayer(model_dir: Path) -> Replayable:
    from bankml.fraud.service import load_replayer

    return load_replayer(model_dir)


def _doc_sections(evidence: Mapping[str, Any]) -> list[DocSection]:
    from bankml.fraud.documentation import fraud_doc_sections

    return fraud_doc_sections(evidence)


def _build_server(ctx: ServingContext, version: int, previous: FraudScorer | None) -> FraudScorer:
    from bankml.fraud.service import build_scorer, load_serving

    serving = load_serving(ctx.model_dir(MODEL_NAME, version), MODEL_NAME, version)
    return build_scorer(
        serving, previous, ctx.ledger, ctx.tokenizer, ctx.clock, options=ctx.options
    )


def fraud_kind() -> ModelKind:
    """The fraud model kind (registered in ``bankml.app``)."""
    return ModelKind(
        name=MODEL_NAME,
        title="Fraud triage (card transactions)",
        collect_evidence=_collect_evidence,
        load_replayer=_load_replayer,
        doc_sections=_doc_sections,
        decision_events=(DECISION_EVENT,),
        decision_record=fraud_decision,
        build_server=_build_server,
        monitor=FRAUD_MONITOR,
        purpose=PURPOSE,
    )
