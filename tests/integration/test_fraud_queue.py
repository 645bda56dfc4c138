"""The fraud review queue on SQLite and PostgreSQL: alerts, dispositions, labels, ledger."""

from __future__ import annotations

from datetime import date

import pytest

from bankml.core.errors import ConflictError, InputError, PermissionDeniedError
from bankml.core.identity import Role, UserDirectory
from bankml.core.storage import Database
from bankml.fraud.queue import Outcome, ReviewQueue
from bankml.governance.ledger import DecisionLedger


def _alert(txn: int, rank: int) -> dict[str, object]:
    return {
        "transaction_id": txn,
        "day": "2026-03-02",
        "rank": rank,
        "score": 0.9 - rank / 100,
        "threshold": 0.5,
        "model_name": "fraud",
        "model_version": 1,
        "card_token": "tok_pan_abc",
        "amount": 120.0,
        "reasons": ["amount is 6.1x the customer's 30-day average"],
    }


def test_alerts_are_queued_once_and_ledgered(db: Database) -> None:
    ledger = DecisionLedger(db)
    queue = ReviewQueue(db, ledger)
    added = queue.add_alerts([_alert(10, 1), _alert(11, 2)], actor="triage")
    again = queue.add_alerts([_alert(10, 1)], actor="triage")
    assert len(added) == 2 and again == []
    assert [a.transaction_id for a in queue.alerts(date(2026, 3, 2))] == [10, 11]
    raised = ledger.entries(kind="fraud.alert_raised")
    assert len(raised) == 2 and raised[0].payload["model"] == {"name": "fraud", "version": 1}


def test_dispositions_close_alerts_and_become_labels(db: Database) -> None:
    ledger = DecisionLedger(db)
    users = UserDirectory(db)
    fiona = users.add("fiona", Role.FRAUD_ANALYST)
    queue = ReviewQueue(db, ledger)
    a, b, c = queue.add_alerts([_alert(1, 1), _alert(2, 2), _alert(3, 3)], actor="triage")
    queue.disposition(a.alert_id, "fraud", fiona, "customer confirmed; card 4111 1111 1111 1111")
    queue.disposition(b.alert_id, Outcome.LEGITIMATE, fiona)
    queue.disposition(c.alert_id, "needs-info", fiona, "called customer, no answer")
    statuses = {x.transaction_id: x.status for x in queue.alerts()}
    assert statuses == {1: "closed", 2: "closed", 3: "needs_info"}
    labels = {lab["transaction_id"]: lab["is_fraud"] for lab in queue.labels()}
    assert labels == {1: True, 2: False}
    entries = ledger.entries(kind="fraud.disposition")
    assert [e.payload["outcome"] for e in entries] == ["fraud", "legitimate", "needs_info"]
    assert "4111" not in entries[0].payload_json
    assert ledger.verify().ok
    with pytest.raises(ConflictError, match="already closed"):
        queue.disposition(a.alert_id, "legitimate", fiona)


def test_only_analysts_disposition_and_outcomes_are_checked(db: Database) -> None:
    users = UserDirectory(db)
    victor = users.add("victor", Role.VALIDATOR)
    fiona = users.add("fiona", Role.FRAUD_ANALYST)
    queue = ReviewQueue(db, DecisionLedger(db))
    (a,) = queue.add_alerts([_alert(1, 1)], actor="triage")
    with pytest.raises(PermissionDeniedError):
        queue.disposition(a.alert_id, "fraud", victor)
    with pytest.raises(InputError, match="choose fraud, legitimate or needs_info"):
        queue.disposition(a.alert_id, "maybe", fiona)


def test_concurrent_dispositions_of_one_alert_record_exactly_one(db: Database) -> None:
    import threading

    ledger = DecisionLedger(db)
    users = UserDirectory(db)
    analysts = [users.add(f"analyst{i}", Role.FRAUD_ANALYST) for i in range(6)]
    queue = ReviewQueue(db, ledger)
    (alert,) = queue.add_alerts([_alert(1, 1)], actor="triage")
    barrier = threading.Barrier(len(analysts))
    outcomes: list[str] = []

    def work(i: int) -> None:
        barrier.wait()
        try:
            queue.disposition(alert.alert_id, "fraud" if i % 2 else "legitimate", analysts[i])
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(analysts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * (len(analysts) - 1) + ["ok"]
    assert len(ledger.entries(kind="fraud.disposition")) == 1
    assert ledger.verify().ok
