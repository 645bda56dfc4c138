"""Scoring runs off the event loop (issue 15 item 4), through a real uvicorn server.

* While one scoring request is stuck inside its work, the service still answers other
  requests; with ``score_threads = 0`` (the inline control) it does not, so the test can tell.
* Concurrent requests on disjoint customers, terminals and cards get the decisions they would
  get one at a time (same features, score and reasons as a dry run before any of them was
  stored), each with its own ledger entry, and the chain verifies.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from bankml.api.app import create_app, score_threads
from bankml.app import Services
from bankml.core.errors import ConfigError
from bankml.core.identity import Role
from bankml.core.settings import load_settings
from bankml.data.generator import generate_bank
from bankml.fraud.training import TrainConfig
from bankml.fraud.transaction import Transaction
from tests.conftest import TEST_SECRET
from tests.support import (
    GOVERNANCE_PEOPLE,
    LiveServer,
    add_people,
    promote_through_gates,
    train_fraud,
)

# As in test_governed_path: a small bank, judged on every test transaction ("refit").
CONFIG = TrainConfig(
    train_start=date(2026, 1, 31),
    train_days=21,
    delay_days=4,
    test_days=10,
    capacity=15,
    calibration="refit",
    exclude_known_compromised=False,
)
CONCURRENT = 48


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose fraud champion was trained, validated, approved and promoted."""
    root = tmp_path_factory.mktemp("scoring-threads")
    generate_bank(root / "bank", customers=800, days=66, seed=11)
    svc = Services(load_settings(home=root / "home", env="test", secret_key=TEST_SECRET))
    add_people(svc, [*GOVERNANCE_PEOPLE, ("switch", Role.SERVICE)])
    v = train_fraud(svc, root / "bank" / "transactions.parquet", CONFIG, root / "run")
    policy = svc.settings.policy_dir / "fraud.toml"
    svc.lifecycle.install_policy("fraud", policy, svc.users.get("ada"))
    promote_through_gates(svc, "fraud", v)
    svc.close()
    return root


def _services(home: Path, threads: int) -> Services:
    return Services(
        load_settings(home=home / "home", env="test", secret_key=TEST_SECRET, score_threads=threads)
    )


def _disjoint(home: Path, n: int, first_id: int, start: datetime) -> list[dict[str, Any]]:
    """``n`` new transactions, no two sharing a customer, a terminal or a card."""
    hist = pd.read_parquet(home / "bank" / "transactions.parquet").tail(20_000)
    hist = hist.drop_duplicates("customer_id").drop_duplicates("terminal_id")
    hist = hist.drop_duplicates("card_id").head(n)
    assert len(hist) == n, "the bank is too small for this many disjoint transactions"
    return [
        {
            "transaction_id": first_id + i,
            "timestamp": (start + timedelta(seconds=i)).isoformat(),
            "customer_id": int(r.customer_id),
            "terminal_id": int(r.terminal_id),
            "card_id": int(r.card_id),
            "amount": 3.0 + 37.0 * i,
            "country": str(r.country),
        }
        for i, r in enumerate(hist.itertuples())
    ]


def _typed(d: dict[str, Any]) -> Transaction:
    return Transaction.create(
        transaction_id=d["transaction_id"],
        timestamp=d["timestamp"],
        customer=d["customer_id"],
        terminal=d["terminal_id"],
        amount=d["amount"],
        card=d["card_id"],
        country=d["country"],
    )


def _held_scoring_leaves_the_service_responsive(
    home: Path, threads: int, txn_id: int, wait: float
) -> bool:
    """Hold one scoring request inside its work (a ledger listener that waits), then ask
    ``/v1/health``: True if it answered within ``wait`` seconds while the request was held."""
    svc = _services(home, threads)
    key = svc.users.issue_key("switch")
    entered, release = threading.Event(), threading.Event()

    def hold(_n: int) -> None:  # runs on the thread that committed the decision
        entered.set()
        release.wait(timeout=60)

    svc.ledger.add_listener(hold)
    txn = _disjoint(home, 1, txn_id, datetime(2026, 3, 1, 9, tzinfo=UTC))[0]
    with LiveServer(create_app(svc, poll_seconds=0)) as live, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(
            httpx.post,
            f"{live.url}/v1/fraud/score",
            json=txn,
            headers={"X-API-Key": key},
            timeout=60,
        )
        try:
            assert entered.wait(timeout=60), "the scoring request never reached the ledger"
            try:
                answered = httpx.get(f"{live.url}/v1/health", timeout=wait).status_code == 200
            except httpx.TimeoutException:
                answered = False
        finally:
            release.set()
        assert pending.result().status_code == 200
    return answered


def test_a_held_scoring_request_does_not_stall_the_service(home: Path) -> None:
    # Generous: a loaded machine may be slow to answer, but answer it must.
    assert _held_scoring_leaves_the_service_responsive(
        home, threads=4, txn_id=8_100_000_000, wait=15.0
    )


def test_inline_scoring_stalls_the_service_while_one_request_is_held(home: Path) -> None:
    # The negative control: on the event loop, a held request holds every other one.
    assert not _held_scoring_leaves_the_service_responsive(
        home, threads=0, txn_id=8_200_000_000, wait=3.0
    )


def test_concurrent_requests_get_the_decisions_they_would_get_one_at_a_time(home: Path) -> None:
    svc = _services(home, 4)
    key = svc.users.issue_key("switch")
    txns = _disjoint(home, CONCURRENT, 8_300_000_000, datetime(2026, 3, 1, 10, tzinfo=UTC))
    scorer = svc.fraud.scorer()
    names = scorer.serving.feature_names
    # Dry runs first (nothing stored): with disjoint entities, no request can change another's.
    expected = {}
    for t in txns:
        dry = scorer.decide(_typed(t))
        expected[t["transaction_id"]] = (dict(zip(names, dry["values"].tolist(), strict=True)), dry)

    with LiveServer(create_app(svc, poll_seconds=0)) as live, ThreadPoolExecutor(8) as pool:

        def post(t: dict[str, Any]) -> dict[str, Any]:
            r = httpx.post(
                f"{live.url}/v1/fraud/score", json=t, headers={"X-API-Key": key}, timeout=60
            )
            assert r.status_code == 200, r.text
            out: dict[str, Any] = r.json()
            return out

        got = list(pool.map(post, txns))

    check = _services(home, 0)
    try:
        seqs = [g["ledger_seq"] for g in got]
        assert len(set(seqs)) == CONCURRENT  # one entry each, none shared or lost
        by_decision = {
            e.subject.removeprefix("decision:"): e
            for e in check.ledger.entries(kind="fraud.scored")
        }
        for t, g in zip(txns, got, strict=True):
            features, dry = expected[t["transaction_id"]]
            assert g["score"] == dry["score"]
            assert g["decision"] == dry["decision"]
            entry = by_decision[g["decision_id"]]
            assert entry.seq == g["ledger_seq"]
            logged = entry.payload["features"]
            assert logged == {n: None if math.isnan(v) else v for n, v in features.items()}
        assert check.ledger.verify().ok
    finally:
        check.close()


def test_scoring_threads_come_from_settings_and_redis_never_scores_on_the_loop(
    tmp_path: Path,
) -> None:
    def threads(**kw: object) -> int:
        return score_threads(load_settings(home=tmp_path, env="test", secret_key=TEST_SECRET, **kw))

    # Unset: inline where nothing waits on a network, threads where a commit or a feature does.
    assert threads() == 0
    assert threads(database_url="postgresql+psycopg://u@db/bank") == 4
    assert threads(online_store="redis") == 4
    assert threads(score_threads=4) == 4
    assert threads(score_threads=0) == 0  # in-process store: inline on the event loop
    assert threads(online_store="redis", score_threads=0) == 1  # it waits on the network
    assert threads(online_store="redis", score_threads=3) == 3
    with pytest.raises(ConfigError, match="score_threads"):
        load_settings(home=tmp_path, env="test", secret_key=TEST_SECRET, score_threads=-1)
