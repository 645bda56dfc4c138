"""Drift, quality and performance statistics checked against independent implementations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon
from sklearn.metrics import average_precision_score

from bankml.monitoring.drift import DriftConfig, column_drift, detect_drift, psi, psi_level
from bankml.monitoring.performance import (
    average_precision,
    estimate_performance,
    expected_calibration_error,
    realised_performance,
)
from bankml.monitoring.quality import check_day, profile_frame

RNG = np.random.default_rng(7)


def test_psi_on_reference_deciles_matches_the_hand_computed_value() -> None:
    reference = np.arange(100, dtype=float)  # deciles at 10, 20, ..., 90: ten bins of 10%
    current = np.full(50, 3.0)  # everything falls in the first bin
    expected = 0.9 * math.log(1 / 0.1) + 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert psi(reference, current) == pytest.approx(expected, rel=1e-9)
    assert psi(reference, reference) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("value", "band"), [(0.05, "stable"), (0.10, "watch"), (0.25, "watch"), (0.26, "act")]
)
def test_psi_bands_follow_the_bank_convention(value: float, band: str) -> None:
    assert psi_level(value) == band


def test_large_numeric_reference_uses_wasserstein_normed_by_reference_std() -> None:
    ref = RNG.normal(0, 2, 5000)
    cur = RNG.normal(0.5, 2, 3000)
    out = column_drift("x", ref, cur)
    assert out.test == "wasserstein"
    assert out.statistic == pytest.approx(stats.wasserstein_distance(ref, cur) / np.std(ref))
    assert out.drifted is (out.statistic >= 0.1)
    assert out.drifted  # a quarter of a standard deviation moves the distance past 0.1


def test_small_numeric_reference_uses_ks_at_five_percent() -> None:
    ref = RNG.normal(0, 1, 800)
    same = RNG.normal(0, 1, 800)
    shifted = RNG.normal(0.5, 1, 800)
    quiet = column_drift("x", ref, same)
    loud = column_drift("x", ref, shifted)
    assert quiet.test == loud.test == "ks"
    assert loud.statistic == pytest.approx(stats.ks_2samp(ref, shifted).pvalue)
    assert loud.drifted and not quiet.drifted


def test_categorical_small_reference_uses_chi_squared() -> None:
    ref = np.array(["a"] * 300 + ["b"] * 300 + ["c"] * 300)
    cur = np.array(["a"] * 500 + ["b"] * 200 + ["c"] * 200)
    out = column_drift("c", ref, cur, categorical=True)
    expected = stats.chisquare([500, 200, 200], [300, 300, 300]).pvalue
    assert out.test == "chi2"
    assert out.statistic == pytest.approx(expected)
    assert out.drifted


def test_binary_categorical_small_reference_uses_the_z_test() -> None:
    ref = np.array([0] * 500 + [1] * 500)
    cur = np.array([0] * 500 + [1] * 500)
    out = column_drift("flag", ref, cur, categorical=True)
    assert out.test == "z"
    assert out.statistic == pytest.approx(1.0)
    assert not out.drifted


def test_categorical_large_reference_uses_jensen_shannon() -> None:
    ref = np.array(["a"] * 2000 + ["b"] * 1000 + ["c"] * 1000)
    cur = np.array(["a"] * 500 + ["b"] * 1500 + ["c"] * 2000)
    out = column_drift("c", ref, cur, categorical=True)
    assert out.test == "jensenshannon"
    assert out.statistic == pytest.approx(jensenshannon([0.5, 0.25, 0.25], [0.125, 0.375, 0.5]))
    assert out.drifted


def test_numeric_column_with_few_values_is_tested_as_categorical() -> None:
    ref = RNG.integers(0, 3, 5000).astype(float)
    out = column_drift("n", ref, ref[:2000])
    assert out.test == "jensenshannon"
    assert not out.drifted


def test_missing_values_are_left_out_of_the_test() -> None:
    ref = RNG.normal(0, 1, 2000)
    cur = ref.copy()
    cur[:1000] = np.nan
    out = column_drift("x", ref, cur)
    assert out.current_rows == 1000


def test_dataset_drifts_when_half_the_columns_drift() -> None:
    n = 3000
    ref = pd.DataFrame({c: RNG.normal(0, 1, n) for c in "abcd"})
    cur = pd.DataFrame({c: RNG.normal(0, 1, n) for c in "abcd"})
    cur["a"] += 1.0
    one = detect_drift(ref, cur)
    assert one.share_drifted == 0.25 and not one.dataset_drift
    cur["b"] += 1.0
    two = detect_drift(ref, cur)
    assert [c.column for c in two.columns if c.drifted] == ["a", "b"]
    assert two.share_drifted == 0.5 and two.dataset_drift


def test_the_small_sample_switch_is_configurable() -> None:
    ref = RNG.normal(0, 1, 3000)
    out = column_drift("x", ref, ref, config=DriftConfig(small_reference_rows=5000))
    assert out.test == "ks"


def test_quality_flags_a_null_feed_an_unseen_category_and_a_missing_column() -> None:
    ref = pd.DataFrame(
        {
            "amount": RNG.gamma(2, 30, 5000),
            "country": RNG.choice(["FR", "DE"], 5000),
            "age": RNG.integers(18, 90, 5000).astype(float),
            "day": np.repeat([f"2026-01-{d:02d}" for d in range(1, 11)], 500),
        }
    )
    profile = profile_frame(
        ref, columns=["amount", "country", "age"], categorical=["country"], day=ref["day"]
    )
    live = pd.DataFrame(
        {
            "amount": [np.nan] * 90 + [1e9] * 10,
            "country": ["FR"] * 99 + ["XX"],
            "extra": 1,
        }
    )
    q = check_day(profile, live)
    assert q.missing_rate["amount"] == pytest.approx(0.9)
    assert q.max_missing_jump == pytest.approx(0.9)
    assert q.out_of_range["amount"] == pytest.approx(1.0)  # the ten present values are absurd
    assert q.unseen_categories == {"country": ["XX"]}
    assert q.schema_mismatches == ["unexpected column 'extra'", "missing column 'age'"]
    assert q.volume_anomaly  # 100 rows against 500 a day
    assert q.volume_z == pytest.approx((100 - 500) / math.sqrt(500))  # Poisson spread floor


def test_average_precision_equals_scikit_learn_with_ties() -> None:
    score = np.round(RNG.random(2000), 2)  # many ties
    label = (RNG.random(2000) < score * 0.3).astype(int)
    assert average_precision(label, score) == pytest.approx(average_precision_score(label, score))


def test_ece_of_a_known_small_case() -> None:
    # bin 1 (0.1-0.2): scores 0.15, 0.15 labels 0,0 -> gap 0.15; bin 8: 0.85 x2 labels 1,0 -> 0.35
    ece = expected_calibration_error(np.array([0, 0, 1, 0]), np.array([0.15, 0.15, 0.85, 0.85]))
    assert ece == pytest.approx((2 * 0.15 + 2 * 0.35) / 4)


def test_realised_figures_use_only_known_labels_and_report_completeness() -> None:
    score = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    label = np.array([1.0, np.nan, 0.0, np.nan, 0.0])
    card = np.array(["c1", "c1", "c2", "c3", "c4"])
    out = realised_performance(score, label, k=2, threshold=0.5, entity=card)
    assert out.completeness == pytest.approx(0.6)
    assert out.precision_at_k == 1.0  # top 2 = rows 0 and 1; only row 0 is known: a fraud
    assert out.card_precision_at_k == pytest.approx(0.5)  # c1 (fraud) and c2 (legit)
    assert out.precision == pytest.approx(0.5)  # alerted and known: rows 0 and 2
    assert out.recall == 1.0


def test_cbpe_estimate_on_calibrated_scores_is_close_to_the_realised_figures() -> None:
    p = RNG.beta(0.5, 8, 200_000)
    y = (RNG.random(p.size) < p).astype(float)  # labels drawn from the scores: calibrated
    est = estimate_performance(p, threshold=0.3, capacity=10_000)
    real = realised_performance(p, y, k=100, threshold=0.3)
    assert est.alerts == int((p >= 0.3).sum())
    assert est.capacity_use == pytest.approx(est.alerts / 10_000)
    assert est.precision == pytest.approx(real.precision, abs=0.01)
    assert est.recall == pytest.approx(real.recall, abs=0.01)
    assert est.average_precision == pytest.approx(real.average_precision, abs=0.02)


def test_cbpe_estimate_of_a_literal_case() -> None:
    est = estimate_performance(np.array([0.8, 0.4, 0.2]), threshold=0.3, capacity=4)
    assert est.alerts == 2
    assert est.precision == pytest.approx((0.8 + 0.4) / 2)
    assert est.recall == pytest.approx(1.2 / 1.4)
    # ranked 0.8, 0.4, 0.2: precision at ranks 0.8, 0.6, 1.4/3
    assert est.average_precision == pytest.approx((0.8 * 0.8 + 0.4 * 0.6 + 0.2 * 1.4 / 3) / 1.4)
    assert est.capacity_use == 0.5


def test_threaded_columns_give_the_same_result_as_one_thread() -> None:
    n = 3000
    ref = pd.DataFrame({f"x{i}": RNG.normal(0, 1, n) for i in range(6)})
    ref["c"] = RNG.choice(["a", "b", "c"], n)
    cur = ref.sample(frac=1.0, random_state=1).reset_index(drop=True)
    cur["x0"] += 0.5
    serial = detect_drift(ref, cur, categorical=["c"], workers=1)
    threaded = detect_drift(ref, cur, categorical=["c"], workers=4)
    assert serial == threaded
    assert [c.column for c in serial.columns] == [*(f"x{i}" for i in range(6)), "c"]
