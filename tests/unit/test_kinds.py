"""The model-kind registry as the wiring builds it, and fraud's contribution to it."""

from __future__ import annotations

import pytest

from bankml.app import build_kinds
from bankml.core.errors import InputError
from bankml.fraud.kind import FraudDecision, fraud_decision, fraud_kind
from bankml.governance.decisions import DecisionRecord


def test_the_wiring_registers_fraud_and_credit_with_their_events_and_policies() -> None:
    kinds = build_kinds()
    assert kinds.names() == ["fraud", "credit"]
    assert kinds.decision_events() == ("fraud.scored", "credit.decided")
    assert kinds.get("fraud").gate_policy == "fraud.toml"
    assert kinds.get("credit").gate_policy == "credit.toml"
    assert kinds.kind_of_event("credit.decided") is kinds.get("credit")
    assert kinds.kind_of_event("fraud.scored") is kinds.get("fraud")
    assert kinds.kind_of_event("model.approved") is None


def test_a_kind_or_an_event_cannot_be_registered_twice() -> None:
    kinds = build_kinds()
    with pytest.raises(InputError, match="already registered"):
        kinds.register(fraud_kind())
    with pytest.raises(InputError, match="unknown model kind 'mortgage'; known: fraud, credit"):
        kinds.get("mortgage")


def test_fraud_sections_of_the_pack_say_when_evidence_is_missing() -> None:
    sections = fraud_kind().doc_sections({})
    assert [s.title for s in sections] == [
        "Features and their definitions",
        "Performance (test period)",
        "Calibration",
        "Capacity plan",
        "Model selection",
    ]
    assert sections[1].blocks == ["No evaluation evidence is stored for this version."]
    assert sections[4].blocks == [
        "This version was trained with fixed settings (no model selection)."
    ]


def test_a_logged_fraud_decision_reads_as_a_typed_record() -> None:
    record = DecisionRecord(
        decision_id="d-1",
        ts="2026-11-30T10:00:00.000000Z",
        kind="fraud.scored",
        actor="switch",
        model_name="fraud",
        model_version=3,
        inputs={"transaction_id": 42, "customer_token": "tok_c", "card_token": "tok_k"},
        output={"score": 0.75, "decision": "review", "threshold": 0.5},
        explanation={"reasons": ["amount far above the customer's 30-day mean"]},
        ledger_seq=17,
    )
    assert fraud_decision(record) == FraudDecision(
        decision_id="d-1",
        ts="2026-11-30T10:00:00.000000Z",
        model_version=3,
        transaction_id=42,
        customer_token="tok_c",
        card_token="tok_k",
        score=0.75,
        decision="review",
        threshold=0.5,
        reasons=("amount far above the customer's 30-day mean",),
        ledger_seq=17,
    )
