"""Two homes, one PostgreSQL schema, one MLflow server: no model state in a local home.

Home A trains a fraud model and takes it through submit / validate / approve / promote.
Home B, a fresh directory pointed at the same database and tracking server, lists it,
triages a day, scores a transaction, replays that decision identically and writes the
documentation pack: everything comes from the shared database and the server's artefacts.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from bankml.app import Services
from bankml.core.identity import Role
from bankml.core.settings import load_settings
from bankml.data.generator import generate_bank
from bankml.fraud.mapping import DEFAULT_MAPPING
from bankml.fraud.service import train_and_register
from bankml.fraud.training import TrainConfig
from bankml.fraud.transaction import Transaction
from tests.conftest import TEST_SECRET

pytestmark = [pytest.mark.mlflow_server, pytest.mark.postgres, pytest.mark.slow]

CONFIG = TrainConfig(
    train_start=date(2026, 1, 1),
    train_days=24,
    delay_days=5,
    test_days=10,
    capacity=15,
    n_estimators=80,
)


def home(root: Path, name: str, db_url: str, tracking: str, policy_dir: Path) -> Services:
    return Services(
        load_settings(
            home=root / name,
            env="test",
            secret_key=TEST_SECRET,
            database_url=db_url,
            mlflow_tracking_uri=tracking,
            policy_dir=policy_dir,
        )
    )


def test_a_second_home_serves_replays_and_documents_what_the_first_promoted(
    tracking_server: str, pg_schema_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    generate_bank(tmp_path / "bank", customers=700, days=40, seed=11)
    source = tmp_path / "bank" / "transactions.parquet"
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir()
    policy = policy_dir / "fraud.toml"
    policy.write_text('[model]\nname = "fraud"\n[floors]\nroc_auc = 0.6\n')

    a = home(tmp_path, "a", pg_schema_url, tracking_server, policy_dir)
    try:
        maria = a.users.add("maria", Role.MODEL_DEVELOPER)
        vera = a.users.add("vera", Role.VALIDATOR)
        olga = a.users.add("olga", Role.ADMIN)
        a.users.add("fiona", Role.FRAUD_ANALYST)
        a.users.add("switch", Role.SERVICE)
        outcome = train_and_register(
            source,
            DEFAULT_MAPPING,
            CONFIG,
            registry=a.registry,
            ledger=a.ledger,
            actor="maria",
            out_dir=tmp_path / "run",
        )
        assert outcome.version is not None
        version = outcome.version.version
        a.governance.register("fraud", version, "maria")
        a.lifecycle.install_policy("fraud", policy, olga)
        a.governance.submit("fraud", version, maria)
        report, _ = a.lifecycle.validate("fraud", version, vera)
        assert report.passed, report.failed
        a.lifecycle.approve("fraud", version, vera, "gates pass")
        a.governance.promote("fraud", version, maria, "go live")
    finally:
        a.close()

    b = home(tmp_path, "b", pg_schema_url, tracking_server, policy_dir)
    try:
        (record,) = b.governance.inventory("fraud")
        assert (record.version, record.state.value) == (version, "champion")
        assert b.governance.champion("fraud") == version
        assert record.metrics is not None and record.metrics["roc_auc"] > 0.6

        fiona, switch = b.users.get("fiona"), b.users.get("switch")
        triaged = b.fraud.triage(fiona, date(2026, 2, 5))
        assert triaged.version == version
        assert triaged.scored > 0 and 0 < len(triaged.added) <= 15

        last = pd.read_parquet(source).sort_values("ts").iloc[-1]
        txn = Transaction.create(
            transaction_id=99_000_001,
            timestamp=last["ts"] + pd.Timedelta(minutes=1),
            customer=int(last["customer_id"]),
            terminal=int(last["terminal_id"]),
            amount=42.5,
            card=int(last["card_id"]),
            country=str(last["country"]),
        )
        decision = b.fraud.score(txn, switch)
        replay = b.decisions.replay(decision["decision_id"])
        assert replay.identical, replay.differences
        assert replay.artifact_ok

        md, html = b.lifecycle.render_docs("fraud", version, tmp_path / "docs")
        assert md.exists() and html.exists()
        assert f"v{version}" in md.read_text()
    finally:
        b.close()
    # Home B kept no model files or registry of its own.
    assert not (tmp_path / "b" / "mlflow.db").exists()
