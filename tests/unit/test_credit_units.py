"""Credit building blocks on hand-made inputs with literal expected values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bankml.core.errors import InputError
from bankml.credit.config import (
    Actionable,
    ReasonCatalogue,
    ReasonCode,
    ScoreScale,
    default_catalogue,
    default_config,
    load_config,
    parse_catalogue,
)
from bankml.credit.fairness import age_band, fairness_report, proxy_scan
from bankml.credit.notice import ECOA_RIGHTS, build_notice, recourse_sentence
from bankml.credit.reasons import principal_reasons
from bankml.credit.recourse import find_recourse
from bankml.credit.training import load_mapping

CATALOGUE = ReasonCatalogue(
    (
        ReasonCode("R01", "Debt too high", ("dti",)),
        ReasonCode("R02", "Utilisation too high", ("util", "limit_use")),
        ReasonCode("R03", "History too short", ("history",)),
    )
)
NAMES = ["dti", "util", "limit_use", "history", "tenure"]


def test_score_scale_points_to_double_the_odds() -> None:
    scale = ScoreScale(base_score=600, base_odds=50, points_to_double_odds=20)
    assert scale.score(1 / 51) == 600.0  # odds 50:1
    assert scale.score(1 / 101) == 620.0  # 100:1
    assert scale.score(1 / 26) == 580.0  # 25:1
    assert scale.score(0.5) == 487.12


def test_reasons_group_rank_and_keep_only_pushes_toward_decline() -> None:
    contrib = np.array([0.9, 0.2, 0.35, -0.4, 0.05, -2.0])  # last: bias
    baseline = np.array([0.1, 0.1, 0.1, 0.0, 0.1])
    values = {"dti": 0.61, "util": 0.7, "limit_use": 0.9, "history": 12, "tenure": 1}
    reasons = principal_reasons(contrib, NAMES, values, baseline, CATALOGUE)
    # dti excess 0.8; util 0.1 + limit_use 0.25 = 0.35 (named by limit_use, the larger);
    # history and tenure pushed toward approval: never reasons.
    assert [(r.code, r.feature, r.value) for r in reasons] == [
        ("R01", "dti", 0.61),
        ("R02", "limit_use", 0.9),
    ]
    assert [r.contribution for r in reasons] == [pytest.approx(0.8), pytest.approx(0.35)]


def test_at_most_four_reasons_ties_by_code_and_excluded_features_never_named() -> None:
    names = [f"f{i}" for i in range(6)]
    cat = ReasonCatalogue(tuple(ReasonCode(f"C{i}", f"text {i}", (f"f{i}",)) for i in range(6)))
    contrib = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 0.0])
    reasons = principal_reasons(contrib, names, {}, np.zeros(6), cat, excluded={"f5"})
    assert [r.code for r in reasons] == ["C0", "C1", "C2", "C3"]


def test_a_feature_no_code_covers_gets_a_generic_reason() -> None:
    reasons = principal_reasons(
        np.array([0.0, 0.0, 0.0, 0.0, 0.7, 0.0]), NAMES, {"tenure": 2}, np.zeros(5), CATALOGUE
    )
    assert [(r.code, r.text) for r in reasons] == [("X-tenure", "Value of tenure")]


def test_recourse_finds_the_smallest_single_change() -> None:
    # A linear "model": approve when 2*dti + util <= 1.0 (both riskier when larger).
    def approve(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        risk = 2 * x[:, 0] + x[:, 1]
        return risk <= 1.0 + 1e-9, risk / 3

    row = np.array([0.5, 0.4])
    specs = [Actionable("dti", 0.0, 0.01), Actionable("util", 0.0, 0.01)]
    rec = find_recourse(row, ["dti", "util"], specs, {"dti": 1, "util": 1}, {}, approve)
    # dti 0.5 -> 0.3 costs 0.2; util 0.4 -> 0.0 costs 0.4: dti wins.
    assert rec.status == "found"
    assert rec.changes == [{"feature": "dti", "from": 0.5, "to": 0.3}]


def test_recourse_uses_two_features_or_says_none_within_bounds() -> None:
    def approve(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        risk = x[:, 0] + x[:, 1]
        return risk <= 0.5 + 1e-9, risk

    specs = [Actionable("a", 0.2, 0.1), Actionable("b", 0.2, 0.1)]
    rec = find_recourse(np.array([0.5, 0.5]), ["a", "b"], specs, {"a": 1, "b": 1}, {}, approve)
    assert rec.status == "found" and len(rec.changes) == 2
    assert sum(c["to"] for c in rec.changes) <= 0.5 + 1e-9
    tight = [Actionable("a", 0.3, 0.1), Actionable("b", 0.3, 0.1)]  # 0.3 + 0.3 > 0.5
    none = find_recourse(np.array([0.9, 0.9]), ["a", "b"], tight, {"a": 1, "b": 1}, {}, approve)
    assert none.status == "none within bounds" and none.changes == []


def test_fairness_report_oracle() -> None:
    protected = pd.DataFrame({"sex": ["F"] * 4 + ["M"] * 4})
    y = np.array([0, 0, 0, 1, 0, 0, 0, 1], dtype=np.int8)
    approved = np.array([1, 1, 0, 0, 1, 1, 1, 1], dtype=bool)
    pd_pred = np.array([0.1, 0.1, 0.3, 0.6, 0.1, 0.1, 0.1, 0.2])
    rep = fairness_report(protected, y, pd_pred, approved)
    sex = rep["attributes"]["sex"]
    # Approval F 2/4, M 4/4 -> ratio 0.5; TPR (approved among repaid) F 2/3, M 3/3.
    assert sex["approval_rate_ratio"] == pytest.approx(0.5)
    assert sex["equal_opportunity_difference"] == pytest.approx(1 / 3)
    by = {g["group"]: g for g in sex["groups"]}
    assert by["M"]["fpr"] == pytest.approx(1.0) and by["F"]["fpr"] == pytest.approx(0.0)
    assert by["F"]["mean_pd"] == pytest.approx(0.275)
    assert by["F"]["default_rate"] == pytest.approx(0.25)


def test_age_is_judged_as_the_elderly_against_everyone_younger() -> None:
    protected = pd.DataFrame({"age_band": ["18-25", "18-25", "61+", "61+", "41-60", "41-60"]})
    y = np.zeros(6, dtype=np.int8)
    approved = np.array([0, 1, 1, 1, 1, 1], dtype=bool)
    rep = fairness_report(protected, y, np.full(6, 0.1), approved)
    gated = rep["attributes"]["age_band: 61+ vs younger"]
    assert gated["approval_rate_ratio"] == pytest.approx(0.75)  # younger 3/4 vs 61+ 2/2
    assert rep["reported"]["age_band"]["approval_rate_ratio"] == pytest.approx(0.5)


def test_age_band_and_proxy_scan() -> None:
    ages = pd.Series([18, 25, 26, 40, 41, 60, 61, 90, 17])
    assert list(age_band(ages)) == [
        "18-25",
        "18-25",
        "26-40",
        "26-40",
        "41-60",
        "41-60",
        "61+",
        "61+",
        "under 18",
    ]
    feats = pd.DataFrame({"history": [1, 2, 3, 4, 10, 11, 12, 13], "noise": [1, 0] * 4})
    prot = pd.DataFrame({"young": ["y"] * 4 + ["o"] * 4})
    scan = proxy_scan(feats, [], prot, 0.75, flagged=["history"])
    assert scan["auc"]["history"]["young"] == pytest.approx(1.0)
    assert scan["auc"]["noise"]["young"] == pytest.approx(0.5)
    assert scan["candidates"] == [
        {"feature": "history", "attribute": "young", "auc": 1.0, "flagged": True}
    ]


def test_notice_reads_like_a_letter() -> None:
    n = build_notice(
        decision_id="d-1",
        application_id="A-77",
        decided_at="2026-11-30T10:00:00.000000Z",
        reasons=[
            {"code": "R01", "text": "Debt payments are too high relative to income"},
            {"code": "R04", "text": "Number of recent inquiries on credit bureau report"},
        ],
        score=571.4,
        recourse={
            "status": "found",
            "changes": [{"feature": "requested_amount", "from": 9200.0, "to": 4000.0}],
        },
    )
    assert "November 30, 2026" in n.text
    assert "Application reference: A-77" in n.text
    assert "1. Debt payments are too high relative to income (R01)" in n.text
    assert "2. Number of recent inquiries on credit bureau report (R04)" in n.text
    assert "The principal reasons for our decision are:" in n.text
    flat = " ".join(n.text.split())
    assert "the amount requested lower, at $4,000 instead of $9,200" in flat
    assert "Your credit score, as calculated by our internal model: 571" in n.text
    assert " ".join(ECOA_RIGHTS.split()) in " ".join(n.text.split())
    assert "<li>Debt payments are too high relative to income (R01)</li>" in n.html
    assert "{{" not in n.text and "{{" not in n.html


def test_notice_html_escapes_catalogue_text() -> None:
    n = build_notice(
        decision_id="d",
        application_id="<b>x</b>",
        decided_at="2026-11-30T10:00:00Z",
        reasons=[{"code": "R9", "text": "<script>alert(1)</script>"}],
        score=500,
    )
    assert "<script>" not in n.html and "&lt;script&gt;" in n.html
    assert "The principal reason for our decision is:" in n.text


def test_recourse_sentence_is_empty_without_a_change() -> None:
    assert recourse_sentence({"status": "none within bounds", "changes": []}) == ""
    assert recourse_sentence(None) == ""


def test_default_config_and_catalogue_cover_every_feature() -> None:
    config = default_config()
    assert default_catalogue().uncovered(config.features) == []
    assert set(config.protected).isdisjoint(config.features)
    assert {a.feature for a in config.actionable} <= set(config.monotone)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[features]\nnumeric = ['a']\n[monotone]\nb = 1\n", "not a numeric feature"),
        ("[features]\nnumeric = ['a']\n[monotone]\na = 2\n", "must be 1"),
        ("[features]\nnumeric = ['sex']\n[protected]\ncolumns = ['sex']\n", "must not be a model"),
        (
            "[features]\nnumeric = ['a']\n[cutoffs]\napprove_max_pd = 0.3\ndecline_min_pd = 0.2\n",
            "approve_max_pd <= decline_min_pd",
        ),
        ("[feature]\n", "unknown section"),
        ("[features]\nnumeric = ['a']\n[actionable.a]\nmin = 0\n", r"needs a \[monotone\]"),
    ],
)
def test_bad_credit_config_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "credit.toml"
    p.write_text(text)
    with pytest.raises(InputError, match=message):
        load_config(p)


def test_catalogue_refuses_a_feature_covered_twice() -> None:
    text = (
        "[[code]]\ncode = 'A'\ntext = 'a'\nfeatures = ['x']\n"
        "[[code]]\ncode = 'B'\ntext = 'b'\nfeatures = ['x']\n"
    )
    with pytest.raises(InputError, match="covered by two codes"):
        parse_catalogue(text, "codes.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[features]\nnumeric = ['a']\n", r"\[target\] column is required"),
        ("[target]\ncolumn = 'y'\n[features]\nnumeric = ['a']\n", "bad"),
        ("[target]\ncolumn = 'y'\nbad = 1\n", "names no feature"),
        (
            "[target]\ncolumn = 'y'\nbad = 1\n[features]\nnumeric = ['a']\n"
            "[protected]\ncolumns = ['a']\n",
            "must not also be a feature",
        ),
        ("[target\n", "not valid TOML"),
    ],
)
def test_bad_mapping_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "mapping.toml"
    p.write_text(text)
    with pytest.raises(InputError, match=message):
        load_mapping(p)


@settings(max_examples=200, deadline=None)
@given(
    contrib=st.lists(
        st.floats(-5, 5, allow_nan=False), min_size=len(NAMES) + 1, max_size=len(NAMES) + 1
    ),
    baseline=st.lists(st.floats(-5, 5, allow_nan=False), min_size=len(NAMES), max_size=len(NAMES)),
    excluded=st.sets(st.sampled_from(NAMES)),
)
def test_reason_laws_hold_for_any_contributions(
    contrib: list[float], baseline: list[float], excluded: set[str]
) -> None:
    reasons = principal_reasons(
        np.array(contrib), NAMES, {}, np.array(baseline), CATALOGUE, excluded=excluded
    )
    assert len(reasons) <= 4
    pushes = [r.contribution or 0.0 for r in reasons]
    assert all(p > 0 for p in pushes)
    assert pushes == sorted(pushes, reverse=True)
    assert len({r.code for r in reasons}) == len(reasons)
    for r in reasons:
        assert r.feature not in excluded
        j = NAMES.index(r.feature or "")
        assert contrib[j] > baseline[j]
