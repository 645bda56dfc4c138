"""Validation gates and the documentation pack on real fraud models in a real MLflow registry.

One module-scoped bank and registry: a model trained like the demo (after the 30-day feature
warm-up) that must pass ``policies/fraud.toml``, a one-stump model that must fail it, and a
model whose recorded training data is edited after registration.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bankml.app import Services
from bankml.core.settings import load_settings
from bankml.core.storage import Database
from bankml.data.generator import generate_bank
from bankml.fraud.documentation import fraud_doc_sections
from bankml.fraud.mapping import DEFAULT_MAPPING
from bankml.fraud.service import train_and_register
from bankml.fraud.training import TrainConfig
from bankml.fraud.validation import collect_evidence, leakage_scan
from bankml.governance.docs import NOT_APPLICABLE_FAIRNESS, render_docs
from bankml.governance.gates import (
    GatePolicy,
    ValidationReport,
    ValidationStore,
    load_policy,
    run_validation,
)
from tests.conftest import TEST_SECRET

REPO = Path(__file__).resolve().parents[2]

# Demo-sized bank; training starts 30 days in, once the 30-day feature windows are full.
GOOD = TrainConfig(
    train_start=date(2026, 1, 31),
    train_days=20,
    delay_days=5,
    test_days=5,
    capacity=25,
)
# One tree with two leaves: a clearly bad model.
BAD = replace(GOOD, n_estimators=1, num_leaves=2)


@dataclass
class Bank:
    svc: Services
    root: Path
    policy: GatePolicy
    evidence: dict[int, dict[str, Any]]


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    root = tmp_path_factory.mktemp("validation")
    generate_bank(root / "bank", customers=1500, days=60, seed=7)
    svc = Services(load_settings(home=root / "home", env="test", secret_key=TEST_SECRET))
    source = root / "bank" / "transactions.parquet"
    copy_path = root / "copy" / "transactions.parquet"
    copy_path.parent.mkdir()
    shutil.copyfile(source, copy_path)
    for i, (data, config) in enumerate([(source, GOOD), (source, BAD), (copy_path, BAD)], 1):
        train_and_register(
            data,
            DEFAULT_MAPPING,
            config,
            registry=svc.registry,
            ledger=svc.ledger,
            actor="maria",
            out_dir=root / f"run{i}",
        )
    # v3's recorded training data changes after registration (one amount edited).
    frame = pd.read_parquet(copy_path)
    frame.loc[frame.index[-1], "amount"] = float(frame["amount"].iloc[-1]) + 1.0
    frame.to_parquet(copy_path)
    evidence = {
        v: collect_evidence(svc.registry, "fraud", v, work_dir=root / f"work{v}") for v in (1, 2, 3)
    }
    yield Bank(svc, root, load_policy(REPO / "policies" / "fraud.toml"), evidence)
    svc.close()


def validate(bank: Bank, version: int, evidence: dict[str, Any] | None = None) -> ValidationReport:
    return run_validation(
        bank.policy,
        evidence if evidence is not None else bank.evidence[version],
        model_name="fraud",
        version=version,
        ran_by="victor",
    )


def test_a_model_trained_like_the_demo_passes_the_fraud_policy(bank: Bank) -> None:
    report = validate(bank, 1)
    assert report.passed, [(r.name, r.measured, r.detail) for r in report.failed]
    results = {r.name: r for r in report.results}
    assert results["reproducibility"].measured == "identical"
    assert results["leakage_scan"].measured == 0
    assert results["fairness.approval_rate_ratio"].passed is None
    ev = bank.evidence[1]
    assert ev["lineage"]["artifact_intact"] is True
    assert ev["lineage"]["data_sha256"] == bank.svc.registry.get("fraud", 1).tags["data_sha256"]
    assert set(ev["stability"]["features"]) == set(ev["serving"]["feature_names"])
    assert len(ev["explanations"]["examples"]) == 3


def test_a_clearly_bad_model_fails_the_performance_floors(bank: Bank) -> None:
    report = validate(bank, 2)
    failed = {r.name for r in report.failed}
    assert not report.passed
    assert {"floor.average_precision", "floor.roc_auc", "floor.card_precision_at_k"} <= failed
    # A bad model is still reproducible and explainable: those gates judge other things.
    assert "reproducibility" not in failed and "explanation_sanity" not in failed


def test_doctored_evidence_fails_the_performance_gate(bank: Bank) -> None:
    evidence = copy.deepcopy(bank.evidence[1])
    evidence["metrics"]["average_precision"] = 0.12
    report = validate(bank, 1, evidence)
    assert [r.name for r in report.failed] == ["floor.average_precision"]


def test_changed_training_data_fails_reproducibility_with_a_clear_detail(bank: Bank) -> None:
    report = validate(bank, 3)
    results = {r.name: r for r in report.results}
    for gate in ("reproducibility", "stability.features", "stability.score"):
        assert results[gate].passed is False
        assert "has changed since training" in results[gate].detail
        assert "cannot recompute" in results[gate].detail


def test_leakage_scan_flags_a_label_copy_and_a_target_like_name() -> None:
    rng = np.random.default_rng(0)
    label = rng.random(2000) < 0.05
    frame = pd.DataFrame(
        {
            "label": label,
            "amount": rng.lognormal(size=2000),
            "chargeback_flag": rng.random(2000),
            "days_to_dispute": np.where(label, 1.0, 0.0) + rng.normal(0, 0.01, 2000),
            "terminal_fraud_rate_7d": rng.random(2000),
            # Declared (a count of frauds known by the scoring time): vouched by its kind.
            "terminal_known_frauds_7d": rng.poisson(0.1, 2000).astype(float),
            # The same words, undeclared: flagged.
            "terminal_known_frauds_3d": rng.poisson(0.1, 2000).astype(float),
        }
    )
    scan = leakage_scan(frame, [c for c in frame.columns if c != "label"])
    found = {(f["feature"], f["check"]) for f in scan["findings"]}
    assert found == {
        ("chargeback_flag", "target_like_name"),
        ("days_to_dispute", "target_like_name"),
        ("days_to_dispute", "single_feature_auc"),
        ("terminal_known_frauds_3d", "target_like_name"),
    }


def test_validation_reports_round_trip_through_the_store(bank: Bank, db: Database) -> None:
    store = ValidationStore(db)
    assert store.latest("fraud", 1) is None and store.all("fraud", 1) == []
    failed = validate(bank, 2)
    first = store.save(replace(validate(bank, 1), version=1))
    second = store.save(replace(failed, version=1))
    store.save(failed)
    latest = store.latest("fraud", 1)
    assert latest is not None and latest.id == second and not latest.passed
    history = store.all("fraud", 1)
    assert [r.id for r in history] == [first, second]
    assert history[0].passed and history[0].results == validate(bank, 1).results
    assert history[0].evidence["lineage"] == bank.evidence[1]["lineage"]
    assert history[0].to_dict()["policy_sha256"] == bank.policy.sha256


class _Change:
    """A record with to_dict(), as the approvals module returns them."""

    def __init__(self, **fields: Any) -> None:
        self.fields = fields

    def to_dict(self) -> dict[str, Any]:
        return self.fields


def test_documentation_pack_renders_every_section_from_stored_evidence(
    bank: Bank, tmp_path: Path
) -> None:
    report = validate(bank, 1)
    evidence = report.evidence
    html_path, md_path = render_docs(
        tmp_path / "pack",
        info=bank.svc.registry.get("fraud", 1),
        validations=[validate(bank, 2), report],
        transitions=[
            {"at": "t1", "from_state": None, "to_state": "registered", "actor": "maria"},
            {
                "at": "t2",
                "from_state": "validated",
                "to_state": "approved",
                "actor": "victor",
                "rationale": "all gates pass; capacity plan fits the team",
                "ledger_seq": 7,
            },
        ],
        champion_history=[
            _Change(at="t3", action="promote", version=1, previous_version=None, actor="ada")
        ],
        kind_sections=fraud_doc_sections(evidence),
    )
    page, md = html_path.read_text(), md_path.read_text()
    for section in (
        "Purpose, intended use and limitations",
        "Data and lineage",
        "Features and their definitions",
        "Performance (test period)",
        "Calibration",
        "Capacity plan",
        "Stability (PSI, training vs test period)",
        "Fairness",
        "Explanations",
        "Validation gates",
        "Approvals and lifecycle",
        "Champion history",
        "Model-risk disciplines",
    ):
        assert section in page and f"## {section}" in md, section
    for text in (
        NOT_APPLICABLE_FAIRNESS,
        "floor.average_precision",
        "reproducibility",
        "capacity plan fits the team",
        "approved by victor, who did not train it (maria)",
        "SS1/23",
        "Art. 14 Human oversight",
        "accountable senior manager",
        "monitoring dashboard",
        "Annex III 5(b)",
        bank.evidence[1]["lineage"]["data_sha256"],
        "terminal_fraud_rate_30d",
    ):
        assert text in page and text in md, text
    assert "| gate | result | measured | limit | detail |" in md
    # Plotly inlined once from the wheel, never fetched from a CDN.
    assert page.count("plotly.js v") == 1
    assert "<script src=" not in page and 'src="http' not in page
    assert page.count('class="plotly-graph-div"') >= 4
