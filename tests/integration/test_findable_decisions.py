"""Findable decisions on SQLite and PostgreSQL: the shared id-prefix resolver, the decision
index's filters and paging, and idempotent, linked triage runs in the review queue."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from bankml.api.app import create_app
from bankml.app import Services
from bankml.core.errors import ConflictError, InputError, NotFoundError
from bankml.core.identity import Role
from bankml.core.ids import resolve_prefix
from bankml.core.settings import Settings
from bankml.core.storage import Database
from bankml.fraud.queue import ReviewQueue, TriageRun
from bankml.governance.decisions import DecisionFilter, DecisionIndex
from bankml.governance.ledger import DecisionLedger, Event
from tests.support import LiveServer

IDS = [
    "aaaaaaaa-1111-4000-8000-000000000001",
    "aaaaaaaa-2222-4000-8000-000000000002",
    "bbbbbbbb-3333-4000-8000-000000000003",
]


def _decision(i: int, decision_id: str, *, version: int, outcome: str) -> Event:
    return Event(
        "fraud.scored",
        "triage",
        f"decision:{decision_id}",
        {
            "model": {"name": "fraud", "version": version},
            "transaction_id": 100 + i,
            "customer_token": f"tok_cust_{i % 2}",
            "alert_id": f"cccccccc-{i:04d}-4000-8000-000000000000" if outcome == "alert" else None,
            "score": 0.5,
            "decision": outcome,
        },
    )


def test_resolve_prefix_refuses_short_unknown_and_ambiguous_ids() -> None:
    def lookup(prefix: str, limit: int) -> list[str]:
        return [i for i in IDS if i.startswith(prefix)][:limit]

    assert resolve_prefix("bbbbbbbb", lookup, what="decision") == IDS[2]
    assert resolve_prefix(IDS[0], lookup, what="decision") == IDS[0]
    with pytest.raises(InputError, match="too short: give at least 8"):
        resolve_prefix("bbbbbbb", lookup, what="decision")
    with pytest.raises(NotFoundError, match="no decision 'dddddddd'"):
        resolve_prefix("dddddddd", lookup, what="decision")
    with pytest.raises(InputError, match="ambiguous") as err:
        resolve_prefix("aaaaaaaa", lookup, what="decision")
    assert IDS[0] in str(err.value) and IDS[1] in str(err.value) and IDS[2] not in str(err.value)


def test_decision_index_filters_pages_newest_first_and_resolves_prefixes(db: Database) -> None:
    ledger = DecisionLedger(db)
    ledger.append_many(
        [
            _decision(0, IDS[0], version=1, outcome="alert"),
            Event("model.registered", "maria", "model:fraud:1", {"version": 1}),
            _decision(1, IDS[1], version=1, outcome="pass"),
        ]
    )
    index = DecisionIndex(db, ledger, {"fraud.scored"})
    assert [r.decision_id for r in index.records(DecisionFilter())] == [IDS[1], IDS[0]]
    assert index.count() == 2
    # Entries written after a query are caught up on the next one, and only once.
    ledger.append_many([_decision(2, IDS[2], version=2, outcome="alert")])
    assert index.sync() == 1 and index.sync() == 0
    assert index.count() == 3

    def ids(**kw: object) -> list[str]:
        return [r.decision_id for r in index.records(DecisionFilter(**kw))]  # type: ignore[arg-type]

    assert ids(transaction_id="101") == [IDS[1]]
    assert ids(customer_token="tok_cust_0") == [IDS[2], IDS[0]]
    assert ids(model_name="fraud", model_version=1) == [IDS[1], IDS[0]]
    assert ids(decision="alert") == [IDS[2], IDS[0]]
    assert ids(alert_id="cccccccc-0002-4000-8000-000000000000") == [IDS[2]]
    assert ids(decision="alert", model_version=1) == [IDS[0]]
    assert ids(limit=1) == [IDS[2]]
    assert ids(limit=1, offset=1) == [IDS[1]]
    assert ids(limit=2, offset=2) == [IDS[0]]
    assert index.resolve("decision_id", "bbbbbbbb", "decision") == IDS[2]
    assert index.resolve("alert_id", "cccccccc-0000", "alert").endswith(
        "0000-4000-8000-000000000000"
    )
    with pytest.raises(InputError, match="ambiguous"):
        index.resolve("decision_id", "aaaaaaaa", "decision")
    with pytest.raises(InputError, match="--limit"):
        index.records(DecisionFilter(limit=0))


def _run(run_id: str, version: int, supersedes: str | None) -> TriageRun:
    return TriageRun(run_id, "2026-03-02", "fraud", version, "triage", 3, 1, supersedes, "")


def _alert(txn: int, decision_id: str) -> dict[str, object]:
    return {
        "alert_id": f"dddddddd-{txn:04d}-4000-8000-000000000000",
        "decision_id": decision_id,
        "transaction_id": txn,
        "day": "2026-03-02",
        "rank": 1,
        "score": 0.9,
        "threshold": 0.5,
        "model_name": "fraud",
        "model_version": 1,
        "card_token": "tok_pan_abc",
        "amount": 120.0,
        "reasons": ["amount is 6.1x the customer's 30-day average"],
    }


def test_triage_runs_are_idempotent_per_version_and_linked_when_superseded(
    db: Database,
) -> None:
    ledger = DecisionLedger(db)
    queue = ReviewQueue(db, ledger)
    first = _run("run-1", 1, None)
    (alert,) = queue.add_alerts(
        [_alert(1, IDS[0])],
        actor="triage",
        decisions=[_decision(1, IDS[0], version=1, outcome="alert")],
        run=first,
    )
    assert alert.decision_id == IDS[0]
    assert queue.get(alert.alert_id).decision_id == IDS[0]
    count = ledger.count()
    again = queue.add_alerts(
        [_alert(2, IDS[1])],
        actor="triage",
        decisions=[_decision(2, IDS[1], version=1, outcome="alert")],
        run=_run("run-1b", 1, None),
    )
    assert again == [] and ledger.count() == count  # same day, same version: nothing written
    assert queue.triage_run("2026-03-02", "fraud", 1).run_id == "run-1"  # type: ignore[union-attr]
    with pytest.raises(ConflictError, match="triaged meanwhile"):
        queue.add_alerts([], actor="triage", run=_run("run-2", 2, None))
    queue.add_alerts([], actor="triage", run=_run("run-2", 2, "run-1"))
    assert queue.latest_run("2026-03-02").run_id == "run-2"  # type: ignore[union-attr]
    assert [r.supersedes for r in queue.runs("2026-03-02")] == [None, "run-1"]
    assert queue.resolve("dddddddd") == alert.alert_id
    assert [a.transaction_id for a in queue.alerts(date(2026, 3, 2))] == [1]
    with pytest.raises(InputError, match="too short"):
        queue.resolve("dddd")


def test_api_filters_pages_and_resolves_8_character_prefixes(settings: Settings) -> None:
    svc = Services(settings)
    for name, role in (("audrey", Role.AUDITOR), ("fiona", Role.FRAUD_ANALYST)):
        svc.users.add(name, role)
    audrey = {"X-API-Key": svc.users.issue_key("audrey")}
    fiona = {"X-API-Key": svc.users.issue_key("fiona")}
    svc.fraud_queue.add_alerts(
        [_alert(1, IDS[0])],
        actor="fiona",
        decisions=[_decision(i, d, version=1 + i // 2, outcome="pass") for i, d in enumerate(IDS)],
    )
    try:
        with LiveServer(create_app(svc)) as live:

            def get(**params: object) -> httpx.Response:
                return httpx.get(f"{live.url}/v1/audit/decisions", params=params, headers=audrey)

            assert [d["decision_id"] for d in get().json()] == [IDS[2], IDS[1], IDS[0]]
            assert [d["decision_id"] for d in get(limit=1, offset=1).json()] == [IDS[1]]
            assert [d["decision_id"] for d in get(version=2).json()] == [IDS[2]]
            assert [d["decision_id"] for d in get(transaction="100").json()] == [IDS[0]]
            assert [d["decision_id"] for d in get(decision="bbbbbbbb").json()] == [IDS[2]]
            ambiguous = get(decision="aaaaaaaa")
            assert ambiguous.status_code == 422
            assert ambiguous.headers["content-type"] == "application/problem+json"
            assert IDS[0] in ambiguous.json()["detail"] and IDS[1] in ambiguous.json()["detail"]
            short = httpx.post(
                f"{live.url}/v1/audit/decisions/bbbbbbb/replay", headers=audrey, timeout=30
            )
            assert short.status_code == 422 and "at least 8" in short.json()["detail"]
            bad_limit = get(limit=0)
            assert bad_limit.status_code == 422 and "limit" in bad_limit.json()["detail"]
            (queued,) = httpx.get(f"{live.url}/v1/fraud/queue", headers=fiona).json()
            assert queued["decision_id"] == IDS[0]
            done = httpx.post(
                f"{live.url}/v1/fraud/alerts/dddddddd/disposition",
                json={"outcome": "legitimate"},
                headers=fiona,
            )
            assert done.status_code == 200 and done.json()["alert_id"] == queued["alert_id"]
            missing = httpx.post(
                f"{live.url}/v1/fraud/alerts/eeeeeeee/disposition",
                json={"outcome": "legitimate"},
                headers=fiona,
            )
            assert missing.status_code == 404
    finally:
        svc.close()
