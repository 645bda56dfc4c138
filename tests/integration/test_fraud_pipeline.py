"""The fraud path end to end on generated data: train -> register -> triage -> disposition ->
real-time scoring over a real uvicorn server, with the ledger recording each decision."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bankml.app import Services
from bankml.core.errors import InputError
from bankml.core.identity import Role
from bankml.core.settings import load_settings
from bankml.data.generator import generate_bank
from bankml.fraud.mapping import DEFAULT_MAPPING
from bankml.fraud.service import load_serving, train_and_register, triage_day
from bankml.fraud.training import TrainConfig
from tests.conftest import TEST_SECRET
from tests.support import train_fraud

CONFIG = TrainConfig(
    train_start=date(2026, 1, 1),
    train_days=24,
    delay_days=5,
    test_days=10,
    capacity=15,
    n_estimators=80,
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, Path]]:
    root = tmp_path_factory.mktemp("fraud")
    generate_bank(root / "bank", customers=700, days=40, seed=11)
    svc = Services(load_settings(home=root / "home", env="test", secret_key=TEST_SECRET))
    svc.users.add("maria", Role.MODEL_DEVELOPER)
    train_fraud(svc, root / "bank" / "transactions.parquet", CONFIG, root / "run")
    yield svc, root / "bank" / "transactions.parquet"
    svc.close()


def test_training_registers_a_version_with_lineage(trained: tuple[Services, Path]) -> None:
    svc, _ = trained
    (info,) = svc.registry.versions("fraud")
    assert info.version == 1
    for tag in (
        "data_sha256",
        "feature_definitions_sha256",
        "code_version",
        "library_versions",
        "artifact_sha256",
        "trained_by",
    ):
        assert info.tags.get(tag), tag
    assert info.metrics["roc_auc"] > 0.8
    assert info.params["capacity"] == "15"
    serving = load_serving(svc.registry.download("fraud", 1), "fraud", 1)
    assert serving.threshold > 0 and serving.meta["capacity"] == 15
    assert [e.kind for e in svc.ledger.entries(kind="model.registered")] == ["model.registered"]


def test_retraining_with_same_inputs_gives_identical_predictions(
    trained: tuple[Services, Path], tmp_path: Path
) -> None:
    svc, source = trained
    again = train_and_register(
        source,
        DEFAULT_MAPPING,
        CONFIG,
        registry=None,
        ledger=svc.ledger,
        actor="maria",
        out_dir=tmp_path / "again",
    )
    first = load_serving(svc.registry.download("fraud", 1))
    x = again.result.test_scored
    assert np.array_equal(
        x["score"].to_numpy(),
        first.model.predict_proba(_features_of(source, first.feature_names, x))[:, 1],
    )


def _features_of(source: Path, names: list[str], scored: pd.DataFrame) -> np.ndarray:
    from bankml.fraud.features import build_fraud_features

    frame = build_fraud_features(source, DEFAULT_MAPPING, label_delay_days=5).frame
    frame = frame.set_index("transaction_id").loc[scored["transaction_id"]]
    return frame[names].to_numpy(np.float64)


def test_triage_caps_the_queue_at_capacity_with_reasons(trained: tuple[Services, Path]) -> None:
    svc, source = trained
    serving = load_serving(svc.registry.download("fraud", 1), "fraud", 1)
    scored, alerts, run, repeated = triage_day(
        source,
        date(2026, 2, 5),
        serving,
        svc.fraud_queue,
        svc.tokenizer,
        actor="triage",
        capacity=5,
    )
    assert scored > 100 and 0 < len(alerts) <= 5 and not repeated
    assert run.supersedes is None and run.scored == scored and run.alerts == len(alerts)
    assert [a.rank for a in alerts] == list(range(1, len(alerts) + 1))
    assert all(a.score >= serving.threshold for a in alerts)
    assert all(a.reasons and a.card_token and a.card_token.startswith("tok_") for a in alerts)
    # Every scored transaction is a ledger decision, queued or not, and replays identically.
    decisions = [e for e in svc.ledger.entries(kind="fraud.scored") if "triage" in e.payload]
    assert len(decisions) == scored
    queued = [e for e in decisions if e.payload["triage"]["queued"]]
    assert len(queued) == len(alerts)
    top = next(e for e in queued if e.payload["triage"]["rank"] == 1)
    assert top.payload["score"] == alerts[0].score
    # The alert carries the id of the decision that raised it, and the decision the alert's.
    top_id = top.subject.removeprefix("decision:")
    assert alerts[0].decision_id == top_id and top.payload["alert_id"] == alerts[0].alert_id
    # The 8-character id the tables print is enough to replay.
    result = svc.decisions.replay(top_id[:8])
    assert result.identical, result.differences
    assert result.decision_id == top_id
    (by_alert,) = svc.decisions.find(alert_id=alerts[0].alert_id[:8])
    assert by_alert.decision_id == top_id
    (by_txn,) = svc.decisions.find(transaction_id=str(alerts[0].transaction_id))
    assert by_txn.decision_id == top_id
    # Re-running the day with the same champion writes nothing: no decisions, no alerts.
    before = svc.ledger.count()
    scored2, again, run2, repeated2 = triage_day(
        source,
        date(2026, 2, 5),
        serving,
        svc.fraud_queue,
        svc.tokenizer,
        actor="triage",
        capacity=5,
    )
    assert again == [] and repeated2 and run2.run_id == run.run_id and scored2 == scored
    assert svc.ledger.count() == before
    # A new champion's re-triage is a new set of decisions linked to the earlier run; a
    # transaction already in the queue keeps its alert (and that alert's decision).
    as_v2 = load_serving(svc.registry.download("fraud", 1), "fraud", 2)
    scored3, added3, run3, repeated3 = triage_day(
        source,
        date(2026, 2, 5),
        as_v2,
        svc.fraud_queue,
        svc.tokenizer,
        actor="triage",
        capacity=6,
    )
    assert not repeated3 and run3.supersedes == run.run_id and scored3 == scored
    assert svc.ledger.count() == before + scored + len(added3)
    assert len(added3) <= 1  # the same scores: only the 6th-ranked can be new
    v2 = svc.decisions.find(model="fraud", version=2, limit=1000)
    v2 += svc.decisions.find(model="fraud", version=2, limit=1000, offset=1000)
    assert len(v2) == scored and len({r.decision_id for r in v2}) == scored
    assert {r.ts for r in v2} and v2[0].ledger_seq > v2[-1].ledger_seq  # newest first
    assert all(
        e.payload["triage"]["supersedes"] == run.run_id
        for e in svc.ledger.entries(kind="fraud.scored")
        if e.payload["model"]["version"] == 2
    )
    assert [r.run_id for r in svc.fraud_queue.runs("2026-02-05")] == [run.run_id, run3.run_id]
    page = svc.decisions.find(model="fraud", version=2, limit=10, offset=10)
    assert [r.ledger_seq for r in page] == [r.ledger_seq for r in v2[10:20]]


@pytest.mark.parametrize("family", ["logistic", "rf", "extra_trees"])
def test_a_model_of_any_family_serves_and_replays_bit_for_bit(
    trained: tuple[Services, Path], tmp_path: Path, family: str
) -> None:
    svc, source = trained
    config = CONFIG.__class__(**{**CONFIG.__dict__, "family": family, "calibration": "refit"})
    outcome = train_and_register(
        source,
        DEFAULT_MAPPING,
        config,
        registry=None,
        ledger=svc.ledger,
        actor="maria",
        out_dir=tmp_path / family,
    )
    serving = load_serving(outcome.model_dir, "fraud", 9)
    assert serving.model.family == family
    x = _features_of(source, serving.feature_names, outcome.result.test_scored.head(20))
    for row in x:
        live = serving.evaluate(row)
        logged = {
            n: (None if np.isnan(v) else float(v))
            for n, v in zip(serving.feature_names, row, strict=True)
        }
        again = serving.replay(logged)
        assert again["score"] == live["score"] and again["decision"] == live["decision"]
        assert again["contributions"] == live["contributions"]
        margin = serving.model.margin(row.reshape(1, -1))[0]
        assert sum(live["contributions"].values()) + live["bias"] == pytest.approx(margin)


def test_a_model_on_fewer_features_gets_its_own_columns_from_the_store(
    trained: tuple[Services, Path],
) -> None:
    from bankml.fraud.features import build_fraud_features
    from bankml.fraud.model import FraudModel
    from bankml.fraud.online import OnlineFeatureStore
    from bankml.fraud.service import FraudScorer, ServingModel

    svc, source = trained
    names = ["terminal_fraud_rate_7d", "amount", "customer_txn_count_1d"]  # not store order
    frame = build_fraud_features(source, DEFAULT_MAPPING, label_delay_days=5).frame
    model = FraudModel(n_estimators=10).fit(frame[names].to_numpy(np.float64), frame["label"])
    full = load_serving(svc.registry.download("fraud", 1), "fraud", 1)
    serving = ServingModel("fraud", 1, model, {**full.meta, "feature_names": names})
    raw = pd.read_parquet(source)
    store = OnlineFeatureStore.from_history(raw.iloc[:-50], DEFAULT_MAPPING, label_delay_days=5)
    scorer = FraudScorer(serving, store, svc.ledger, svc.tokenizer)
    txn = raw.iloc[-10].to_dict()
    want = store.features(txn)
    picked = [want[store.feature_names.index(n)] for n in names]
    assert scorer.decide(txn)["values"].tolist() == picked
    bad = ServingModel("fraud", 1, model, {**full.meta, "feature_names": ["no_such"]})
    with pytest.raises(InputError, match="cannot compute no_such"):
        FraudScorer(bad, store, svc.ledger, svc.tokenizer)
