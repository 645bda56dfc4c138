"""Hostile fraud input (issue 9 item 5, reproduction 5).

* One absurd amount must not blind detection for a customer: after a 1e12 transaction enters
  a customer's history, that customer's later 1,890 and 50,000 transactions score within a
  small tolerance of the same transactions scored on the unpoisoned history (the control).
* The HTTP face refuses what is not a live transaction: a boolean amount, an amount over the
  ceiling (``1e308``), years 0001 and 1900, a body over the limit (413, also when chunked).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from bankml.api.app import create_app
from bankml.app import Services
from bankml.core.identity import Role
from bankml.core.settings import load_settings
from bankml.data.generator import generate_bank
from bankml.fraud.features import CUSTOMER_AMOUNT_CAP
from bankml.fraud.mapping import DEFAULT_MAPPING
from bankml.fraud.online import OnlineFeatureStore
from bankml.fraud.service import ServingModel, load_serving, train_and_register
from bankml.fraud.training import TrainConfig
from bankml.fraud.transaction import Transaction
from tests.conftest import TEST_SECRET
from tests.support import LiveServer

TOLERANCE = 0.05


@pytest.fixture(scope="module")
def model_and_history(tmp_path_factory: pytest.TempPathFactory) -> tuple[ServingModel, Path]:
    root = tmp_path_factory.mktemp("hostile")
    generate_bank(root / "bank", customers=700, days=40, seed=11)
    svc = Services(load_settings(home=root / "home", env="test", secret_key=TEST_SECRET))
    try:
        outcome = train_and_register(
            root / "bank" / "transactions.parquet",
            DEFAULT_MAPPING,
            TrainConfig(
                train_start=date(2026, 1, 1),
                train_days=24,
                delay_days=5,
                test_days=10,
                capacity=15,
                n_estimators=80,
            ),
            registry=None,
            ledger=svc.ledger,
            actor="maria",
            out_dir=root / "run",
        )
    finally:
        svc.close()
    return load_serving(outcome.model_dir), root / "bank" / "transactions.parquet"


def _txn(row: pd.Series, txn_id: int, when: pd.Timestamp, amount: float) -> Transaction:
    return Transaction.create(
        transaction_id=txn_id,
        timestamp=when.to_pydatetime(),
        customer=int(row["customer_id"]),
        terminal=int(row["terminal_id"]),
        amount=amount,
        card=int(row["card_id"]),
        country=str(row["country"]),
        naive_is_utc=True,
    )


def test_one_absurd_amount_does_not_blind_detection_for_the_customer(
    model_and_history: tuple[ServingModel, Path],
) -> None:
    model, history = model_and_history
    frame = pd.read_parquet(history)
    poisoned = OnlineFeatureStore.from_history(frame)
    control = OnlineFeatureStore.from_history(frame)
    names = model.feature_names
    assert poisoned.feature_names == names
    start = frame["ts"].max() + timedelta(hours=1)
    later = start + timedelta(hours=20)
    # A customer for whom the control flags a 1,890 purchase (a small spender): their last
    # transaction gives a terminal and card they really use.
    medians = frame.groupby("customer_id")["amount"].median().sort_values()
    for customer in medians.index[:50]:
        last = frame[frame["customer_id"] == customer].sort_values("ts").iloc[-1]
        probe = _txn(last, 9_000_000_099, later, 1_890.0)
        if model.evaluate(control.features(probe))["score"] >= model.threshold:
            break
    else:
        pytest.fail("no small spender's 1,890 purchase is flagged by the control")
    poisoned.add(_txn(last, 9_000_000_001, start, 1e12))  # scored, then stored

    scores = []
    for i, amount in enumerate((1_890.0, 50_000.0)):
        txn = _txn(last, 9_000_000_100 + i, later + timedelta(minutes=i), amount)
        p_values, c_values = poisoned.features(txn), control.features(txn)
        # The poison entered the customer's means as CUSTOMER_AMOUNT_CAP, not as 1e12.
        p_f, c_f = dict(zip(names, p_values, strict=True)), dict(zip(names, c_values, strict=True))
        n = c_f["customer_txn_count_30d"]
        assert p_f["customer_txn_count_30d"] == n + 1
        assert p_f["customer_mean_amount_30d"] == pytest.approx(
            (c_f["customer_mean_amount_30d"] * n + CUSTOMER_AMOUNT_CAP) / (n + 1)
        )
        got = model.evaluate(p_values)["score"]
        want = model.evaluate(c_values)["score"]
        scores.append((got, want))
        poisoned.add(txn)
        control.add(txn)
    assert scores[0][1] >= model.threshold, (scores, model.threshold)  # the control flags it
    for got, want in scores:
        # Small absolute difference, and never less than half the control's score (unclipped,
        # the issue measured 0.90 -> 3e-5 for the same pair of transactions).
        assert abs(got - want) <= TOLERANCE, scores
        assert got >= want / 2, scores


def test_the_clip_is_what_the_customer_means_see() -> None:
    rows = pd.DataFrame(
        {
            "transaction_id": [1, 2, 3],
            "ts": pd.to_datetime(["2026-03-01 10:00", "2026-03-01 11:00", "2026-03-01 12:00"]),
            "customer_id": [7, 7, 7],
            "terminal_id": [1, 1, 1],
            "card_id": [70, 70, 70],
            "country": ["FR", "FR", "FR"],
            "amount": [20.0, 1e12, 40.0],
            "is_fraud": [0, 0, 0],
            "label_available_at": pd.to_datetime(["2026-03-09"] * 3),
        }
    )
    store = OnlineFeatureStore.from_history(rows)
    values = dict(
        zip(
            store.feature_names,
            store.features(
                {
                    "transaction_id": 4,
                    "ts": pd.Timestamp("2026-03-01 13:00"),
                    "customer_id": 7,
                    "terminal_id": 1,
                    "card_id": 70,
                    "country": "FR",
                    "amount": 30.0,
                }
            ),
            strict=True,
        )
    )
    assert values["amount"] == 30.0
    assert values["customer_mean_amount_1d"] == pytest.approx(
        (20.0 + CUSTOMER_AMOUNT_CAP + 40.0 + 30.0) / 4
    )
    assert values["amount_to_customer_mean_30d"] == pytest.approx(
        30.0 / ((20.0 + CUSTOMER_AMOUNT_CAP + 40.0) / 3)
    )


# --- the HTTP face ------------------------------------------------------------------------

GOOD: dict[str, Any] = {
    "transaction_id": 1,
    "timestamp": "2026-03-01T12:00:00Z",
    "customer_id": 7,
    "terminal_id": 3,
    "card_id": 70,
    "amount": 12.5,
    "country": "FR",
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    home = tmp_path_factory.mktemp("api")
    svc = Services(
        load_settings(home=home, env="test", secret_key=TEST_SECRET, max_request_bytes=4096)
    )
    svc.users.add("switch", Role.SERVICE)
    key = svc.users.issue_key("switch")
    with LiveServer(create_app(svc, poll_seconds=0)) as live:
        yield live.url, {"X-API-Key": key}


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"amount": True}, "amount"),
        ({"amount": "12.5"}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": -5.0}, "amount"),
        ({"amount": 1e308}, "ceiling"),
        ({"amount": 1_000_000.01}, "ceiling"),
        ({"customer_id": True}, "customer_id"),
        ({"customer_id": "7"}, "customer_id"),
        ({"transaction_id": 2**70}, "transaction_id"),
        ({"timestamp": "0001-01-01T00:00:00Z"}, "before 2000-01-01"),
        ({"timestamp": "1900-06-01T00:00:00+00:00"}, "before 2000-01-01"),
        ({"timestamp": "2026-03-01T12:00:00"}, "timestamp"),
        ({"country": "F\u0000"}, "country"),
        ({"extra": 1}, "extra"),
    ],
)
def test_hostile_transactions_are_422_problems(
    api: tuple[str, dict[str, str]], change: dict[str, Any], where: str
) -> None:
    url, headers = api
    r = httpx.post(f"{url}/v1/fraud/score", json={**GOOD, **change}, headers=headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert where in r.json()["detail"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_numbers_are_refused(api: tuple[str, dict[str, str]], literal: str) -> None:
    url, headers = api
    body = (
        '{"transaction_id": 1, "timestamp": "2026-03-01T12:00:00Z", "customer_id": 7, '
        f'"terminal_id": 3, "amount": {literal}}}'
    )
    r = httpx.post(
        f"{url}/v1/fraud/score",
        content=body,
        headers={**headers, "content-type": "application/json"},
    )
    assert r.status_code == 422, r.text


def test_a_body_over_the_limit_is_413(api: tuple[str, dict[str, str]]) -> None:
    url, headers = api
    big = {**GOOD, "country": "FR" + " " * 10_000}
    r = httpx.post(f"{url}/v1/fraud/score", json=big, headers=headers)
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"
    assert "4096 bytes" in r.json()["detail"]


def test_a_chunked_body_over_the_limit_is_413(api: tuple[str, dict[str, str]]) -> None:
    url, headers = api

    def chunks() -> Iterator[bytes]:
        yield b'{"transaction_id": 1, "country": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    r = httpx.post(
        f"{url}/v1/fraud/score",
        content=chunks(),
        headers={**headers, "content-type": "application/json"},
    )
    assert r.status_code == 413, r.text
    assert r.json()["status"] == 413


def test_a_body_under_the_limit_reaches_validation(api: tuple[str, dict[str, str]]) -> None:
    # No champion is served here: a well-formed transaction gets past input checks and is
    # refused by serving (not by the limit or validation).
    url, headers = api
    r = httpx.post(f"{url}/v1/fraud/score", json=GOOD, headers=headers)
    assert r.status_code not in (413, 422, 500), r.text
