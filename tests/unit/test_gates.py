"""Validation gates on synthetic evidence: policy parsing, each gate kind, PSI, bad policies."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bankml.core.errors import InputError
from bankml.governance.gates import (
    PSI_EPSILON,
    GatePolicy,
    GateResult,
    evaluate_gates,
    load_policy,
    psi,
    psi_band,
    run_validation,
)

REPO = Path(__file__).resolve().parents[2]

POLICY = """
[model]
name = "toy"

[floors]
average_precision = 0.3
roc_auc = 0.85

[ceilings]
ece = 0.02

[capacity]
max_share_days_over = 0.2

[stability]
max_feature_psi = 0.25
max_score_psi = 0.10

[leakage]
max_findings = 0

[reproducibility]
required = true

[explanations]
max_additivity_error = 1e-6

[fairness]
min_approval_rate_ratio = 0.8
max_equal_opportunity_difference = 0.1
"""


def good_evidence() -> dict[str, Any]:
    return {
        "metrics": {"average_precision": 0.6, "roc_auc": 0.97, "ece": 0.004},
        "capacity": {"capacity": 25, "test_days": 10, "days_over_capacity": 1},
        "stability": {"features": {"amount": 0.01, "count_30d": 0.12}, "score": 0.02},
        "leakage": {"findings": []},
        "reproducibility": {"identical": True, "rows": 100, "detail": "identical"},
        "explanations": {
            "additivity_max_error": 1e-12,
            "nan_values": 0,
            "top_feature": "amount",
            "sample_rows": 50,
        },
    }


@pytest.fixture
def policy(tmp_path: Path) -> GatePolicy:
    path = tmp_path / "toy.toml"
    path.write_text(POLICY)
    return load_policy(path)


def by_name(results: list[GateResult]) -> dict[str, GateResult]:
    return {r.name: r for r in results}


def test_policy_file_is_parsed_and_its_hash_recorded(policy: GatePolicy, tmp_path: Path) -> None:
    assert policy.model_name == "toy"
    assert policy.floors == {"average_precision": 0.3, "roc_auc": 0.85}
    assert policy.ceilings == {"ece": 0.02}
    assert policy.max_share_days_over_capacity == 0.2
    assert (policy.max_feature_psi, policy.max_score_psi) == (0.25, 0.10)
    assert policy.max_leakage_findings == 0 and policy.reproducibility_required
    assert policy.min_approval_rate_ratio == 0.8
    assert policy.sha256 == hashlib.sha256((tmp_path / "toy.toml").read_bytes()).hexdigest()


def test_the_repository_fraud_policy_loads() -> None:
    policy = load_policy(REPO / "policies" / "fraud.toml")
    assert policy.model_name == "fraud"
    assert {"average_precision", "roc_auc", "card_precision_at_k"} <= set(policy.floors)
    assert policy.reproducibility_required and policy.max_leakage_findings == 0


def test_good_evidence_passes_every_gate_and_fairness_is_not_applicable(
    policy: GatePolicy,
) -> None:
    results = by_name(evaluate_gates(policy, good_evidence()))
    assert [n for n, r in results.items() if r.passed is False] == []
    assert results["floor.average_precision"].measured == 0.6
    assert results["capacity_fit"].measured == pytest.approx(0.1)
    assert results["stability.features"].measured == 0.12
    assert "watch" in results["stability.features"].detail
    fair = [r for n, r in results.items() if n.startswith("fairness.")]
    assert len(fair) == 2 and all(r.passed is None and r.status == "n/a" for r in fair)
    assert "no protected attributes" in fair[0].detail
    report = run_validation(policy, good_evidence(), model_name="toy", version=1, ran_by="v")
    assert report.passed and report.policy_sha256 == policy.sha256


@pytest.mark.parametrize(
    ("section", "key", "value", "gate"),
    [
        ("metrics", "average_precision", 0.05, "floor.average_precision"),
        ("metrics", "roc_auc", 0.6, "floor.roc_auc"),
        ("metrics", "ece", 0.08, "ceiling.ece"),
        ("capacity", "days_over_capacity", 5, "capacity_fit"),
        ("stability", "features", {"amount": 0.01, "count_30d": 1.6}, "stability.features"),
        ("stability", "score", 0.3, "stability.score"),
        ("reproducibility", "identical", False, "reproducibility"),
        ("explanations", "additivity_max_error", 0.01, "explanation_sanity"),
        ("explanations", "nan_values", 3, "explanation_sanity"),
        ("explanations", "top_feature", "customer_id", "explanation_sanity"),
        ("explanations", "top_feature", "transaction", "explanation_sanity"),
    ],
)
def test_each_gate_fails_on_bad_evidence(
    policy: GatePolicy, section: str, key: str, value: Any, gate: str
) -> None:
    evidence = good_evidence()
    evidence[section][key] = value
    results = by_name(evaluate_gates(policy, evidence))
    assert results[gate].passed is False, results[gate]
    assert [n for n, r in results.items() if r.passed is False] == [gate]
    report = run_validation(policy, evidence, model_name="toy", version=1, ran_by="v")
    assert not report.passed and [r.name for r in report.failed] == [gate]


def test_leakage_findings_fail_the_scan_and_are_named(policy: GatePolicy) -> None:
    evidence = good_evidence()
    evidence["leakage"]["findings"] = [
        {"feature": "chargeback_flag", "check": "target_like_name", "detail": "chargeback_flag"}
    ]
    result = by_name(evaluate_gates(policy, evidence))["leakage_scan"]
    assert result.passed is False and result.measured == 1 and "chargeback_flag" in result.detail


def test_missing_or_unmeasurable_evidence_fails_closed(policy: GatePolicy) -> None:
    evidence = good_evidence()
    del evidence["reproducibility"]
    evidence["stability"] = {"error": "the recorded training data has changed"}
    del evidence["metrics"]["roc_auc"]
    results = by_name(evaluate_gates(policy, evidence))
    assert results["reproducibility"].passed is False
    assert "no reproducibility evidence" in results["reproducibility"].detail
    assert results["stability.features"].passed is False
    assert results["stability.score"].detail == "the recorded training data has changed"
    assert results["floor.roc_auc"].passed is False and results["floor.roc_auc"].measured is None


def test_fairness_is_judged_when_the_evidence_has_protected_attributes(
    policy: GatePolicy,
) -> None:
    evidence = good_evidence()
    evidence["fairness"] = {
        "attributes": {
            "age_band": {"approval_rate_ratio": 0.91, "equal_opportunity_difference": -0.04},
            "sex": {"approval_rate_ratio": 0.85, "equal_opportunity_difference": 0.02},
        }
    }
    results = by_name(evaluate_gates(policy, evidence))
    assert results["fairness.approval_rate_ratio"].passed is True
    assert results["fairness.approval_rate_ratio"].measured == 0.85
    assert results["fairness.equal_opportunity"].measured == -0.04
    evidence["fairness"]["attributes"]["sex"]["approval_rate_ratio"] = 0.7
    evidence["fairness"]["attributes"]["age_band"]["equal_opportunity_difference"] = -0.2
    results = by_name(evaluate_gates(policy, evidence))
    assert results["fairness.approval_rate_ratio"].passed is False
    assert "sex" in results["fairness.approval_rate_ratio"].detail
    assert results["fairness.equal_opportunity"].passed is False


def test_a_policy_for_another_model_is_refused(policy: GatePolicy) -> None:
    with pytest.raises(InputError, match="is for model toy, not fraud"):
        run_validation(policy, good_evidence(), model_name="fraud", version=1, ran_by="v")


# --- PSI -----------------------------------------------------------------------------------


def test_psi_of_identical_populations_is_zero() -> None:
    x = np.random.default_rng(0).lognormal(size=5000)
    assert psi(x, x) == pytest.approx(0.0, abs=1e-12)


def test_psi_known_value_when_all_current_mass_is_in_the_lower_half() -> None:
    # Reference deciles of 0.000 .. 0.999; the current population fills the five lowest bins
    # evenly (0.2 each) and leaves the five highest empty (epsilon each).
    ref = np.arange(1000) / 1000
    cur = np.repeat(np.arange(5) / 10 + 0.05, 200)
    expected = 5 * (0.2 - 0.1) * math.log(0.2 / 0.1) + 5 * (PSI_EPSILON - 0.1) * math.log(
        PSI_EPSILON / 0.1
    )
    assert psi(ref, cur) == pytest.approx(expected, rel=1e-9)


def test_psi_counts_a_change_in_missingness_and_binary_features() -> None:
    ref = np.array([0.0] * 800 + [1.0] * 200)
    cur = np.array([0.0] * 500 + [1.0] * 500)
    expected = (0.5 - 0.8) * math.log(0.5 / 0.8) + (0.5 - 0.2) * math.log(0.5 / 0.2)
    assert psi(ref, cur) == pytest.approx(expected, rel=1e-9)
    with_nan = np.where(np.arange(1000) < 300, np.nan, ref)
    assert psi(ref, with_nan) > 0.25


def test_psi_bands_follow_the_convention() -> None:
    assert [psi_band(v) for v in (0.05, 0.10, 0.25, 0.26)] == ["stable", "watch", "watch", "act"]


def test_psi_of_an_empty_population_is_refused() -> None:
    with pytest.raises(InputError):
        psi([], [1.0])


# --- bad policy files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[floors\naverage_precision = 0.3", "is not valid TOML"),
        ("[floor]\naverage_precision = 0.3", "unknown section [floor]"),
        ("[stability]\nmax_psi = 0.2", "unknown key 'max_psi' in [stability]"),
        ("[floors]\naverage_precision = 'high'", "[floors] average_precision must be a number"),
        ("[ceilings]\nECE = 0.02", "must be a lower_snake_case metric name"),
        ("[capacity]\nmax_share_days_over = 1.5", "between 0 and 1"),
        ("[stability]\nmax_feature_psi = -1", "must be >= 0"),
        ("[reproducibility]\nrequired = 'yes'", "must be true or false"),
        ("[explanations]\nmax_additivity_error = 1e-6\nidentifier_pattern = '('", "regular"),
        ("[model]\nname = 'fraud'", "declares no gates"),
        ("floors = 3", "[floors] must be a table"),
    ],
)
def test_bad_policy_files_give_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_policy(path)
    assert message in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_a_missing_policy_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_policy(tmp_path / "nope.toml")


def test_cli_rendering_shows_each_gate_with_result_measured_and_limit(policy: GatePolicy) -> None:
    from rich.console import Console

    from bankml.cli._governance_render import print_validation

    evidence = good_evidence()
    evidence["metrics"]["roc_auc"] = 0.6
    report = run_validation(policy, evidence, model_name="toy", version=2, ran_by="victor")
    console = Console(record=True, width=220)
    print_validation(report, console)
    out = console.export_text()
    row = next(line for line in out.splitlines() if "floor.roc_auc" in line)
    assert "FAIL" in row and "0.6" in row and "0.85" in row
    assert "n/a" in out and "PASS" in out
    assert "toy v2 failed 1 gate(s): floor.roc_auc" in out
