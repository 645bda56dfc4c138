"""A bank's own column names end to end (issue 8 item 5): train with ``--mapping`` on a table
whose columns are all renamed, approve and promote the model, score a transaction over HTTP
(real uvicorn server) and replay that decision identical.

The API speaks role names (``customer_id``, ``terminal_id``, ...), the bank's table its own
names (``cust_no``, ``merchant_terminal``, ...); the typed ``Transaction`` built at the face
is what lets one model read both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pandas as pd
import pytest

from bankml.api.app import create_app
from bankml.app import Services
from bankml.core.identity import Role
from bankml.core.settings import load_settings
from bankml.data.generator import generate_bank
from tests.conftest import TEST_SECRET
from tests.e2e.test_cli import run
from tests.support import LiveServer, promote_through_gates

RENAMED = {
    "transaction_id": "txn_ref",
    "ts": "booked_at",
    "customer_id": "cust_no",
    "terminal_id": "merchant_terminal",
    "amount": "amount_eur",
    "is_fraud": "fraud_flag",
    "label_available_at": "fraud_reported_at",
    "card_id": "card_ref",
    "country": "merchant_country",
}
MAPPING = """
[columns]
transaction_id = "txn_ref"
timestamp = "booked_at"
customer = "cust_no"
terminal = "merchant_terminal"
amount = "amount_eur"
label = "fraud_flag"
label_time = "fraud_reported_at"
card = "card_ref"
country = "merchant_country"
"""


@pytest.fixture(scope="module")
def custom_bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("custom-bank")
    generate_bank(root / "bank", customers=800, days=66, seed=11)
    frame = pd.read_parquet(root / "bank" / "transactions.parquet")
    assert set(RENAMED) <= set(frame.columns)
    table = frame.rename(columns=RENAMED)
    assert not set(RENAMED) & set(table.columns)  # no synthetic-bank name is left
    table.to_parquet(root / "their_transactions.parquet", index=False)
    (root / "their_mapping.toml").write_text(MAPPING)
    return root / "their_transactions.parquet", root / "their_mapping.toml"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    svc = Services(load_settings(home=tmp_path / "home", env="test", secret_key=TEST_SECRET))
    for name, role in [
        ("maria", Role.MODEL_DEVELOPER),
        ("victor", Role.VALIDATOR),
        ("ada", Role.ADMIN),
        ("switch", Role.SERVICE),
        ("audrey", Role.AUDITOR),
    ]:
        svc.users.add(name, role)
    yield svc
    svc.close()


def test_a_model_trained_on_the_banks_own_columns_scores_over_http_and_replays(
    services: Services, custom_bank: tuple[Path, Path], tmp_path: Path
) -> None:
    s = services
    table, mapping = custom_bank
    trained = run(
        s.settings.home,
        "fraud",
        "train",
        "-t",
        str(table),
        "--mapping",
        str(mapping),
        "--train-start",
        "2026-01-31",
        "--train-days",
        "21",
        "--delay-days",
        "4",
        "--test-days",
        "10",
        "--capacity",
        "15",
        # As in test_governed_path: on this small bank the honest figures sit under the
        # policy's floors; this test is about the bank's own columns, not model quality.
        "--calibration",
        "refit",
        "--include-known-compromised",
        "--out",
        str(tmp_path / "run"),
        "--json",
        key=s.users.issue_key("maria"),
    )
    summary = json.loads(trained.stdout)
    version = int(summary["version"])
    assert summary["counts"]  # trained on the renamed table

    s.lifecycle.install_policy("fraud", s.settings.policy_dir / "fraud.toml", s.users.get("ada"))
    promote_through_gates(s, "fraud", version, "gates pass on the bank's columns")

    last = pd.read_parquet(table).iloc[-1]
    txn = {
        "transaction_id": 8_000_000_001,
        "timestamp": (datetime(2026, 3, 8, 12, tzinfo=UTC) + timedelta(minutes=1)).isoformat(),
        "customer_id": int(last["cust_no"]),
        "terminal_id": int(last["merchant_terminal"]),
        "card_id": int(last["card_ref"]),
        "amount": 1890.0,
        "country": str(last["merchant_country"]),
    }
    keys = {n: s.users.issue_key(n) for n in ("switch", "audrey")}
    with LiveServer(create_app(s, poll_seconds=0)) as live:
        scored = httpx.post(
            f"{live.url}/v1/fraud/score",
            json=txn,
            headers={"X-API-Key": keys["switch"]},
            timeout=30,
        )
        assert scored.status_code == 200, scored.text
        decision = scored.json()
        assert decision["model"] == {"name": "fraud", "version": version}
        replayed = httpx.post(
            f"{live.url}/v1/audit/decisions/{decision['decision_id']}/replay",
            headers={"X-API-Key": keys["audrey"]},
            timeout=60,
        )
    assert replayed.status_code == 200, replayed.text
    body = replayed.json()
    assert body["identical"] is True, body["differences"]
    assert body["recorded"]["score"] == decision["score"]
    # The customer's history reached the features: the logged values are the store's, read
    # through the bank's mapping (a 30-day count of at least this transaction itself).
    (record,) = s.decisions.find(decision_id=decision["decision_id"])
    assert record.inputs["features"]["customer_txn_count_30d"] >= 1
    assert record.inputs["customer_token"] == s.tokenizer.token(str(txn["customer_id"]), "customer")
