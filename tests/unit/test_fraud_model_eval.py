"""Fraud model, evaluation metrics and capacity planning on small hand-made data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from bankml.core.errors import InputError
from bankml.fraud.capacity import choose_threshold, recall_cost
from bankml.fraud.evaluation import (
    card_average_precision,
    card_precision_at_k,
    card_precision_ceiling,
    evaluate,
    expected_calibration_error,
    precision_at_k,
)
from bankml.fraud.explain import reason_text
from bankml.fraud.features import FEATURE_NAMES
from bankml.fraud.model import FraudModel
from bankml.fraud.training import TrainConfig, card_day_weights, split, train


def _toy(n: int = 6000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    logit = 2.5 * x[:, 0] - 1.5 * x[:, 1] - 5.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def test_same_data_and_seed_give_identical_predictions() -> None:
    x, y = _toy()
    a = FraudModel(n_estimators=50, random_state=3).fit(x, y).predict_proba(x)
    b = FraudModel(n_estimators=50, random_state=3).fit(x, y).predict_proba(x)
    assert np.array_equal(a, b)


def test_save_load_round_trip_and_hot_path_agree(tmp_path: Path) -> None:
    x, y = _toy()
    model = FraudModel(n_estimators=40).fit(x, y, ["a", "b", "c", "d"])
    model.save(tmp_path / "m")
    loaded = FraudModel.load(tmp_path / "m")
    assert np.array_equal(model.predict_proba(x[:50]), loaded.predict_proba(x[:50]))
    assert loaded.score_row(x[7]) == pytest.approx(loaded.predict_proba(x[7:8])[0, 1], abs=1e-12)
    contrib = loaded.contributions(x[:3])
    assert contrib.shape == (3, 5)
    # Contributions plus bias reproduce the raw margin exactly (TreeSHAP is additive).
    margin = loaded.booster_.predict(x[:3], raw_score=True)
    assert np.allclose(contrib.sum(axis=1), margin)


def test_calibration_brings_probabilities_near_observed_rates() -> None:
    x, y = _toy(20000)
    raw = FraudModel(n_estimators=60, calibrate=False).fit(x, y)
    cal = FraudModel(n_estimators=60, calibrate=True).fit(x, y)
    xt, yt = _toy(20000, seed=1)
    ece_cal = expected_calibration_error(yt, cal.predict_proba(xt)[:, 1])
    assert ece_cal < 0.02
    assert abs(cal.predict_proba(xt)[:, 1].mean() - yt.mean()) < 0.01
    assert raw.predict_proba(xt).shape == (20000, 2)


def test_single_class_training_data_is_refused() -> None:
    with pytest.raises(InputError, match="only one class"):
        FraudModel().fit(np.zeros((10, 2)), np.zeros(10))


def _scored() -> pd.DataFrame:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [
        # day 1: card A fraud (0.9), card B legit (0.8), card C fraud (0.3)
        (1, t0, "A", True, 0.9, 100.0),
        (2, t0, "B", False, 0.8, 50.0),
        (3, t0, "C", True, 0.3, 70.0),
        (4, t0, "B", False, 0.1, 10.0),
        # day 2: card A again fraud 0.95 (already found -> removed), D legit 0.7, C fraud 0.6
        (5, t0 + timedelta(days=1), "A", True, 0.95, 100.0),
        (6, t0 + timedelta(days=1), "D", False, 0.7, 20.0),
        (7, t0 + timedelta(days=1), "C", True, 0.6, 30.0),
    ]
    return pd.DataFrame(
        rows, columns=["transaction_id", "timestamp", "card", "label", "score", "amount"]
    )


def test_card_precision_at_k_removes_cards_found_earlier() -> None:
    mean, per_day = card_precision_at_k(_scored(), k=1)
    # Day 1: top card A is fraud -> 1.0. Day 2: A removed; top is D (0.7) legit -> 0.0.
    assert per_day == [1.0, 0.0]
    assert mean == 0.5
    _, per_day2 = card_precision_at_k(_scored(), k=2)
    assert per_day2 == [0.5, 0.5]  # day 1: A, B; day 2: D, C


def test_card_average_precision_scores_the_whole_daily_card_ranking() -> None:
    # Day 1 cards: A fraud 0.9, B legit 0.8, C fraud 0.3 -> AP (1/1 + 2/3) / 2 = 5/6.
    # Day 2 (A found on day 1 at k = 1, so it leaves): D legit 0.7, C fraud 0.6 -> AP 1/2.
    assert card_average_precision(_scored(), k=1) == pytest.approx((5 / 6 + 1 / 2) / 2)
    # With k = 2, C is not found on day 1 either (it ranks 3rd), so day 2 is the same.
    assert card_average_precision(_scored(), k=2) == pytest.approx((5 / 6 + 1 / 2) / 2)
    # With k = 3, C is found on day 1 too: day 2 has no compromised card left and is skipped.
    assert card_average_precision(_scored(), k=3) == pytest.approx(5 / 6)
    # Day 1 with C above B: card precision@1 sees the same day (A on top), card AP does not.
    better = _scored()
    better.loc[better["transaction_id"] == 2, "score"] = 0.2
    assert card_precision_at_k(better, 1)[1] == card_precision_at_k(_scored(), 1)[1]
    assert card_average_precision(better, k=1) == pytest.approx((1.0 + 1 / 2) / 2)


def test_card_precision_ceiling_counts_each_compromised_card_once() -> None:
    # Day 1 has two compromised cards (A, C); day 2 has A again and C.
    # k = 2: the oracle finds A and C on day 1 (1.0), day 2 has none left (0.0).
    assert card_precision_ceiling(_scored(), 2) == (0.5, [2, 0])
    # k = 1: one of the two on day 1 (A, by name), C is still findable on day 2.
    assert card_precision_ceiling(_scored(), 1) == (1.0, [2, 1])
    # k = 3: the same two cards, over three reviews a day on two days.
    assert card_precision_ceiling(_scored(), 3) == (pytest.approx(2 / 6), [2, 0])


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),  # day
            st.integers(0, 7),  # card
            st.booleans(),  # fraud
            st.floats(0.0, 1.0),  # score
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 4),
)
@settings(max_examples=200, deadline=None)
def test_no_ranking_beats_the_card_precision_ceiling(
    rows: list[tuple[int, int, bool, float]], k: int
) -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    scored = pd.DataFrame(
        {
            "transaction_id": range(len(rows)),
            "timestamp": [t0 + timedelta(days=d, hours=i % 20) for i, (d, *_) in enumerate(rows)],
            "card": [f"c{c}" for _, c, _, _ in rows],
            "label": [f for *_, f, _ in rows],
            "score": [s for *_, s in rows],
            "amount": 1.0,
        }
    )
    ceiling, counts = card_precision_ceiling(scored, k)
    if max(counts) <= k:  # the documented condition for an exact maximum
        assert card_precision_at_k(scored, k)[0] <= ceiling + 1e-12
        # The oracle ranking (scores = labels) reaches it.
        assert card_precision_at_k(scored.assign(score=scored["label"] * 1.0), k)[0] == ceiling
        assert sum(counts) == scored.loc[scored["label"], "card"].nunique()


def test_precision_at_k_is_daily_share_of_fraud_in_top_k() -> None:
    assert precision_at_k(_scored(), 2) == pytest.approx((0.5 + 0.5) / 2)


def test_evaluate_counts_alerts_money_and_capacity() -> None:
    ev = evaluate(_scored(), threshold=0.65, k=1)
    assert ev.alerts_per_day == 2.0 and ev.max_alerts_per_day == 2
    assert ev.days_over_capacity == 2
    assert ev.recall == pytest.approx(2 / 4) and ev.precision == pytest.approx(2 / 4)
    assert ev.caught_amount == 200.0
    assert ev.net_saving == pytest.approx(200.0 - 4 * 5.0)


def test_threshold_keeps_reference_days_within_capacity() -> None:
    rng = np.random.default_rng(0)
    days = pd.date_range("2026-02-01", periods=20, freq="D", tz="UTC")
    ref = pd.DataFrame(
        {
            "timestamp": np.repeat(days, 500),
            "score": rng.beta(1, 30, size=20 * 500),
        }
    )
    thr = choose_threshold(ref, capacity=25, quantile=1.0)
    alerts = (ref["score"] >= thr).groupby(ref["timestamp"]).sum()
    assert alerts.max() <= 25
    thr90 = choose_threshold(ref, capacity=25, quantile=0.9)
    assert ((ref["score"] >= thr90).groupby(ref["timestamp"]).sum() <= 25).mean() >= 0.9


def test_recall_cost_reports_more_alerts_for_more_recall() -> None:
    rng = np.random.default_rng(1)
    n = 5000
    label = rng.random(n) < 0.02
    score = np.clip(rng.normal(0.2 + 0.5 * label, 0.15), 0, 1)
    scored = pd.DataFrame(
        {
            "timestamp": pd.Timestamp("2026-03-01", tz="UTC")
            + pd.to_timedelta(np.arange(n) % 10, unit="D"),
            "label": label,
            "score": score,
        }
    )
    cost = recall_cost(scored, threshold=0.6, points=0.02)
    assert cost is not None
    assert cost["recall_target"] == pytest.approx(cost["recall_now"] + 0.02)
    assert cost["alerts_per_day_needed"] >= cost["alerts_per_day_now"]


def _feature_frame(days: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = days * 300
    ts = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(
        np.sort(rng.random(n)) * days, unit="D"
    )
    f1 = rng.normal(size=n)
    label = rng.random(n) < 1 / (1 + np.exp(-(3 * f1 - 6)))
    return pd.DataFrame(
        {
            "transaction_id": np.arange(n),
            "timestamp": ts,
            "customer": rng.integers(0, 500, n),
            "card": rng.integers(0, 700, n),
            "amount": rng.lognormal(3, 1, n),
            "label": label,
            "label_time": ts + pd.Timedelta(days=5),
            "f1": f1,
            "f2": rng.normal(size=n),
        }
    )


def test_card_day_weights_count_each_compromised_card_day_once() -> None:
    t0 = pd.Timestamp("2026-03-01 10:00", tz="UTC")
    part = pd.DataFrame(
        {
            # A: a burst of 4 frauds on day 1 and 1 on day 2; B: 2 frauds on day 1; C legit.
            "card": ["A", "A", "A", "A", "A", "B", "B", "C", "A"],
            "timestamp": [t0] * 4 + [t0 + pd.Timedelta(days=1)] + [t0] * 3 + [t0],
        }
    )
    y = np.array([1, 1, 1, 1, 1, 1, 1, 0, 0], dtype=np.int8)
    w = card_day_weights(part, y)
    assert w.tolist() == [0.25, 0.25, 0.25, 0.25, 1.0, 0.5, 0.5, 1.0, 1.0]
    # Without a card column the customer stands in for the card.
    by_customer = card_day_weights(part.rename(columns={"card": "customer"}), y)
    assert by_customer.tolist() == w.tolist()


def test_row_weights_change_the_fit_and_are_checked() -> None:
    x, y = _toy()
    plain = FraudModel(n_estimators=30, calibrate=False).fit(x, y)
    ones = FraudModel(n_estimators=30, calibrate=False).fit(x, y, sample_weight=np.ones(len(y)))
    # Unit weights fit a model that ranks like the unweighted one, with sane margins (the
    # degenerate fit weights once caused on the synthetic bank: test_fraud_selection).
    auc = roc_auc_score(y, plain.margin(x))
    assert roc_auc_score(y, ones.margin(x)) == pytest.approx(auc, abs=0.01)
    assert np.abs(ones.margin(x)).max() < 10
    w = np.where(x[:, 1] > 0, 3.0, 1.0)
    weighted = FraudModel(n_estimators=30, calibrate=False).fit(x, y, sample_weight=w)
    assert not np.array_equal(plain.margin(x), weighted.margin(x))
    # The prior-shift undo counts rows, not weights: the same offset either way.
    assert weighted.calibration_ == plain.calibration_
    linear = FraudModel(family="logistic", calibrate=False)
    assert linear.fit(x, y, sample_weight=w).margin(x).shape == (len(y),)
    with pytest.raises(InputError, match="sample_weight"):
        FraudModel().fit(x, y, sample_weight=np.zeros(len(y)))


def test_card_day_weighting_trains_and_unknown_weighting_is_refused() -> None:
    frame = _feature_frame()
    config = TrainConfig(
        train_start=date(2026, 1, 1),
        train_days=20,
        delay_days=7,
        test_days=10,
        capacity=10,
        n_estimators=30,
    )
    plain = train(frame, ["f1", "f2"], config)
    weighted = train(frame, ["f1", "f2"], replace(config, weighting="card_day"))
    assert weighted.config.to_dict()["weighting"] == "card_day"
    assert not np.array_equal(
        plain.test_scored["score"].to_numpy(), weighted.test_scored["score"].to_numpy()
    )
    with pytest.raises(InputError, match="weighting"):
        replace(config, weighting="per_euro")


def test_training_uses_only_labels_known_at_go_live() -> None:
    frame = _feature_frame()
    config = TrainConfig(
        train_start=date(2026, 1, 1),
        train_days=20,
        delay_days=7,
        test_days=10,
        capacity=10,
        n_estimators=30,
    )
    result = train(frame, ["f1", "f2"], config)
    c = result.counts
    # Labels arrive 5 days after the transaction: a 7-day gap means all are known at go-live;
    # a 2-day gap leaves the last 3 training days' frauds unconfirmed, so they train as legit.
    assert c["train_frauds_known"] == c["train_frauds_total"]
    short = TrainConfig(
        train_start=date(2026, 1, 1),
        train_days=20,
        delay_days=2,
        test_days=10,
        capacity=10,
        n_estimators=30,
    )
    c2 = train(frame, ["f1", "f2"], short).counts
    assert c2["train_frauds_known"] < c2["train_frauds_total"]
    assert result.evaluation.roc_auc > 0.85
    assert result.evaluation.k == 10


def test_empty_period_is_one_clear_error() -> None:
    config = TrainConfig(train_start=date(2027, 1, 1), train_days=5, delay_days=1, test_days=5)
    with pytest.raises(InputError, match="has no transactions; the data covers"):
        split(_feature_frame(), config)


def test_plan_lays_out_tradeoffs_around_the_threshold() -> None:
    frame = _feature_frame()
    config = TrainConfig(
        train_start=date(2026, 1, 1),
        train_days=20,
        delay_days=7,
        test_days=10,
        capacity=10,
        n_estimators=30,
    )
    result = train(frame, ["f1", "f2"], config)
    thresholds = [r.threshold for r in result.capacity_plan.rows]
    assert result.capacity_plan.threshold in thresholds
    assert thresholds == sorted(thresholds, reverse=True)
    alerts = [r.alerts_per_day for r in result.capacity_plan.rows]
    assert alerts == sorted(alerts)


def test_single_row_fast_path_is_bit_identical_to_booster_predict() -> None:
    # Live decisions and replays go through LightGBM's single-row C API; a replay must
    # reproduce the logged score bit for bit, so the fast path may not differ in any bit.
    x, y = _toy()
    model = FraudModel(n_estimators=60).fit(x, y)
    rows = np.random.default_rng(5).normal(size=(300, 4)) * 3
    rows[::7, 2] = np.nan  # missing values take LightGBM's default branch on both paths
    a, b = model.calibration_
    margins = model.booster_.predict(rows, raw_score=True, num_threads=1)
    contribs = model.booster_.predict(rows, pred_contrib=True, num_threads=1)
    for i, row in enumerate(rows):
        assert model.score_row(row) == 1.0 / (1.0 + float(np.exp(-(a * margins[i] + b))))
        assert np.array_equal(model.contributions(row.reshape(1, -1))[0], contribs[i])


def test_single_row_fast_path_is_safe_across_threads_and_pickles() -> None:
    import pickle
    from concurrent.futures import ThreadPoolExecutor

    x, y = _toy()
    model = FraudModel(n_estimators=60).fit(x, y)
    rows = np.random.default_rng(6).normal(size=(800, 4))
    expected = model.booster_.predict(rows, pred_contrib=True, num_threads=1)

    def check(start: int) -> int:
        return sum(
            not np.array_equal(model.contributions(rows[i : i + 1])[0], expected[i])
            for i in range(start, len(rows), 4)
        )

    with ThreadPoolExecutor(4) as pool:  # each concurrent caller gets its own C handle
        assert sum(pool.map(check, range(4))) == 0
    copy = pickle.loads(pickle.dumps(model))  # Spark ships models: no C handles in the pickle
    assert copy.score_row(rows[0]) == model.score_row(rows[0])
    with pytest.raises(InputError, match="3 values for a model of 4 features"):
        model.score_row(rows[0, :3])


@pytest.mark.parametrize("feature", FEATURE_NAMES)
def test_every_feature_has_an_analysts_sentence(feature: str) -> None:
    """A reason an analyst reads is words, not ``name = value``: a feature added to the
    engine without a sentence would reach the review queue as its column name."""
    for value in (0.0, 0.5, 1.0, 3.0, 720.0):
        text = reason_text(feature, value)
        assert "_" not in text and "=" not in text, text


@pytest.mark.parametrize(
    ("feature", "value", "expected"),
    [
        ("hours_since_terminal_txn", 0.158, "9 minutes since the terminal's previous transaction"),
        ("hours_since_customer_txn", 100.0, "4 days since the customer's previous transaction"),
        (
            "hours_since_customer_txn",
            720.0,
            "no earlier transaction by the customer in the last 30 days",
        ),
        (
            "amount_zscore_customer_30d",
            -1.2,
            "amount is 1.2 standard deviations below the customer's 30-day mean",
        ),
        (
            "terminal_known_frauds_7d",
            24.0,
            "24 confirmed frauds at this terminal in the last 7 days",
        ),
        ("amount_to_customer_median_30d", 24.9, "amount is 24.9x the customer's 30-day median"),
    ],
)
def test_reason_sentences_read_as_an_analyst_says_them(
    feature: str, value: float, expected: str
) -> None:
    assert reason_text(feature, value) == expected
