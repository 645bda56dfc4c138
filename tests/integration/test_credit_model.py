"""The credit model on the synthetic bank: monotone, calibrated, explained, fair, with recourse.

One module-scoped bank (8,000 applications) and one trained model (no registry needed): each
test reads a property of the model or of its decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bankml.credit.config import default_config
from bankml.credit.decision import CreditModelVersion
from bankml.credit.training import (
    GENERATED_MAPPING,
    CreditTraining,
    read_generated,
    split_rows,
    target_of,
    train_credit,
)
from bankml.credit.validation import explanation_validation
from bankml.data.generator import generate_bank


@dataclass
class Trained:
    frame: pd.DataFrame
    training: CreditTraining
    test: pd.DataFrame

    @property
    def version(self) -> CreditModelVersion:
        return self.training.version


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    out = tmp_path_factory.mktemp("credit") / "bank"
    generate_bank(out, customers=3000, days=1, seed=3, applications=8000)
    frame, _ = read_generated(out)
    config = default_config()
    training = train_credit(frame, GENERATED_MAPPING, config)
    y = target_of(frame, GENERATED_MAPPING)
    _, test_idx = split_rows(frame, y, GENERATED_MAPPING, config)
    return Trained(frame, training, frame.iloc[test_idx].reset_index(drop=True))


def values_of(version: CreditModelVersion, row: pd.Series) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n in version.feature_names:
        v = row[n]
        out[n] = None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)
    return version.check_values(out)


def decisions(t: Trained, n: int = 400, **kw: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    out = []
    for _, row in t.test.head(n).iterrows():
        values = values_of(t.version, row)
        out.append((values, t.version.evaluate(values, min_age_met=True, **kw)))
    return out


def test_the_model_discriminates_and_is_calibrated(trained: Trained) -> None:
    m = trained.training.metrics
    assert m["roc_auc"] > 0.78
    # ECE of the calibrated PD on the held-out (most recent) applications.
    assert m["ece"] < 0.03
    # Mean PD within two points of the observed default rate.
    assert abs(m["mean_pd"] - m["default_rate"]) < 0.02


def test_pd_is_monotone_in_every_declared_direction(trained: Trained) -> None:
    v = trained.version
    rows = trained.test.head(60)
    for feat, sign in v.config.monotone.items():
        j = v.feature_names.index(feat)
        grid = np.linspace(*np.nanpercentile(trained.frame[feat].astype(float), [1, 99]), 30)
        for _, row in rows.iterrows():
            base = v.encode(values_of(v, row))
            batch = np.repeat(base.reshape(1, -1), len(grid), axis=0)
            batch[:, j] = grid
            pd_ = v.model.predict_pd(batch)
            assert np.all(np.diff(pd_) * sign >= -1e-12), feat
    assert trained.training.monotonicity["total_violations"] == 0


def test_score_doubles_the_odds_every_20_points(trained: Trained) -> None:
    scale = trained.version.config.scale
    # Odds 30:1 (PD 1/31) is the base score; 60:1 (PD 1/61) is 20 points more.
    assert scale.score(1 / 31) == 600.0
    assert scale.score(1 / 61) == 620.0
    assert scale.score(1 / 16) == 580.0


def test_moving_the_top_reason_toward_the_baseline_raises_approval_probability(
    trained: Trained,
) -> None:
    result = explanation_validation(trained.version, trained.test)
    print(  # the rate goes in the closing note
        f"\nexplanation validation: {result['approval_probability_raised']}/{result['moved']} "
        f"declined applicants = {result['rate']:.3f}"
    )
    assert result["moved"] >= 50
    assert result["rate"] >= 0.8
    assert result["declines_without_reason"] == 0
    assert result["unstable_reasons"] == 0


def test_identical_input_gives_identical_reasons(trained: Trained) -> None:
    for values, out in decisions(trained, 100):
        again = trained.version.evaluate(dict(values), min_age_met=True)
        assert again["reasons"] == out["reasons"]
        assert again["contributions"] == out["contributions"]
        assert again["pd"] == out["pd"]


def test_every_decline_has_a_reason_and_approvals_none_unless_asked(trained: Trained) -> None:
    seen = {"approve": 0, "decline": 0, "refer": 0}
    for values, out in decisions(trained):
        seen[out["decision"]] += 1
        if out["decision"] == "decline":
            assert 1 <= len(out["reasons"]) <= 4
        if out["decision"] == "approve":
            assert out["reasons"] == []
            asked = trained.version.evaluate(values, min_age_met=True, explain_approval=True)
            assert asked["decision"] == "approve"
            assert len(asked["reasons"]) <= 4
    assert min(seen.values()) > 10, seen


def test_reasons_only_name_features_that_pushed_toward_decline(trained: Trained) -> None:
    v = trained.version
    for _, out in decisions(trained):
        for r in out["reasons"]:
            if r["feature"] is None:
                assert r["rule"] in ("min_age", "affordability", "bureau_exclusion")
                continue
            j = v.feature_names.index(r["feature"])
            assert out["contributions"][r["feature"]] > v.baseline[j]
            assert r["contribution"] > 0


def test_reasons_never_name_a_protected_attribute_or_flagged_proxy(trained: Trained) -> None:
    from dataclasses import replace

    v = trained.version
    # Flag the strongest age proxy the scan found: it must disappear from every reason.
    proxy = trained.training.proxies["candidates"][0]["feature"]
    assert proxy == "credit_history_months"
    flagged = replace(v, config=replace(v.config, proxies=(proxy,)))
    named = set()
    for _, row in trained.test.head(300).iterrows():
        out = flagged.evaluate(values_of(v, row), min_age_met=True, with_recourse=False)
        named |= {r["feature"] for r in out["reasons"]}
    assert proxy not in named
    assert named.isdisjoint({"sex", "age", "age_band"})
    assert "sex" not in v.feature_names and "age" not in v.feature_names


def test_recourse_reaches_approve_within_bounds(trained: Trained) -> None:
    v = trained.version
    found = none = 0
    for values, out in decisions(trained, 300):
        if out["decision"] != "decline":
            continue
        rec = out["recourse"]
        assert rec is not None
        if rec["status"] != "found":
            assert rec["status"] == "none within bounds"
            none += 1
            continue
        found += 1
        changed = dict(values)
        for c in rec["changes"]:
            spec = {a.feature: a for a in v.config.actionable}[c["feature"]]
            # Only actionable features move, toward lower risk, never past their bound.
            assert v.config.monotone[c["feature"]] * (c["to"] - c["from"]) < 0
            assert (c["to"] - spec.bound) * v.config.monotone[c["feature"]] >= -1e-9
            changed[c["feature"]] = c["to"]
        after = v.evaluate(changed, min_age_met=True, with_recourse=False)
        assert after["decision"] == "approve"
    assert found > 10
    print(f"\nrecourse: found for {found} declines, none within bounds for {none}")


def test_an_underage_applicant_is_declined_by_rule_without_recourse(trained: Trained) -> None:
    values = values_of(trained.version, trained.test.iloc[0])
    out = trained.version.evaluate(values, min_age_met=False)
    assert out["decision"] == "decline"
    assert out["reasons"][0]["code"] == "P01"
    assert out["recourse"]["status"] == "none within bounds"


def test_fairness_report_uses_the_protected_attributes(trained: Trained) -> None:
    fair = trained.training.fairness
    assert set(fair["attributes"]) == {"sex", "age_band: 61+ vs younger"}
    assert set(fair["reported"]) == {"sex", "age_band"}
    groups = {g["group"] for g in fair["reported"]["age_band"]["groups"]}
    assert groups == {"18-25", "26-40", "41-60", "61+"}
    # Independent oracle for the approval-rate ratio by sex: recount from the decisions.
    v = trained.version
    ok, _ = v.approves(np.vstack([v.encode(values_of(v, r)) for _, r in trained.test.iterrows()]))
    rates = pd.Series(ok).groupby(trained.test["sex"].to_numpy()).mean()
    expected = float(rates.min() / rates.max())
    assert fair["attributes"]["sex"]["approval_rate_ratio"] == pytest.approx(expected)


def test_training_is_deterministic(trained: Trained) -> None:
    again = train_credit(trained.frame, GENERATED_MAPPING, default_config())
    x = np.vstack(
        [
            trained.version.encode(values_of(trained.version, r))
            for _, r in trained.test.head(200).iterrows()
        ]
    )
    assert np.array_equal(trained.version.model.predict_pd(x), again.version.model.predict_pd(x))


def test_saved_model_reloads_identically(trained: Trained, tmp_path: Path) -> None:
    from bankml.credit.decision import load_version
    from bankml.credit.training import save_training

    save_training(trained.training, tmp_path / "model", {})
    loaded = load_version(tmp_path / "model")
    for values, out in decisions(trained, 50):
        assert loaded.replay(values) == out
