"""Model families, calibration methods, honest evaluation and time-aware model selection."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bankml.core.errors import InputError
from bankml.data.generator import generate_bank
from bankml.fraud.evaluation import exclude_known_compromised, first_known_compromise
from bankml.fraud.features import build_fraud_features
from bankml.fraud.model import FAMILIES, FraudModel
from bankml.fraud.selection import (
    BASELINE,
    Candidate,
    SelectionConfig,
    choose,
    criterion_text,
    feature_ablation,
    folds_for,
    select,
)
from bankml.fraud.training import TrainConfig, train


def _toy(n: int = 6000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    x[rng.random(n) < 0.05, 2] = np.nan  # missing values must not break any family
    logit = 2.5 * x[:, 0] - 1.5 * x[:, 1] - 5.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


SMALL = {"n_estimators": 30, "num_leaves": 7, "min_child_samples": 20}


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_saves_loads_scores_and_explains_bit_for_bit(
    family: str, tmp_path: Path
) -> None:
    x, y = _toy()
    model = FraudModel(family=family, feature_fraction=0.8, **SMALL).fit(x, y, list("abcd"))
    model.save(tmp_path / "m")
    loaded = FraudModel.load(tmp_path / "m")
    assert loaded.family == family
    assert np.array_equal(model.predict_proba(x[:200]), loaded.predict_proba(x[:200]))
    for i in (0, 7, 11):
        assert loaded.score_row(x[i]) == model.score_row(x[i])  # replay is exact
        assert loaded.score_row(x[i]) == pytest.approx(
            loaded.predict_proba(x[i : i + 1])[0, 1], rel=1e-12
        )
    contrib = loaded.contributions(x[:5])
    assert contrib.shape == (5, 5) and not np.isnan(contrib).any()
    # Contributions plus bias give the raw margin: the explanation adds up.
    np.testing.assert_allclose(contrib.sum(axis=1), loaded.margin(x[:5]), rtol=1e-9, atol=1e-9)
    # Every family ranks the toy signal far better than chance.
    from sklearn.metrics import roc_auc_score

    xt, yt = _toy(seed=1)
    assert roc_auc_score(yt, loaded.predict_proba(xt)[:, 1]) > 0.85


def test_refit_calibration_keeps_all_rows_and_the_holdout_platt() -> None:
    x, y = _toy(8000)
    holdout = FraudModel(calibration="holdout", **SMALL).fit(x, y)
    refit = FraudModel(calibration="refit", **SMALL).fit(x, y)
    none = FraudModel(calibrate=False, **SMALL).fit(x, y)
    # refit = the model trained on every row (as "none") with the slice's Platt parameters.
    assert np.array_equal(refit.margin(x), none.margin(x))
    assert refit.calibration_ == holdout.calibration_
    assert not np.array_equal(holdout.margin(x), none.margin(x))
    # "none" undoes the class-weighting prior shift: log((n - pos) / pos).
    pos = (y[:].sum()).astype(float)
    assert none.calibration_ == (1.0, -float(np.log((len(y) - pos) / pos)))


def test_random_forest_is_always_platt_calibrated_and_unknown_settings_refused() -> None:
    x, y = _toy()
    rf = FraudModel(family="rf", calibrate=False, **SMALL).fit(x, y)
    assert rf.calibration_method == "refit"
    assert rf.calibration_ != (1.0, 0.0)
    assert 0.0 < rf.predict_proba(x)[:, 1].mean() < 0.2
    with pytest.raises(InputError, match="model family"):
        FraudModel(family="svm").fit(x, y)
    with pytest.raises(InputError, match="calibration"):
        FraudModel(calibration="isotonic").fit(x, y)
    with pytest.raises(InputError, match="model family"):
        TrainConfig(date(2026, 1, 1), 10, 2, 3, family="svm")


def test_known_compromised_customers_leave_later_days_only() -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    day = timedelta(days=1)
    history = pd.DataFrame(
        {
            # customer A: fraud on day 0 known at day 1 12:00 -> excluded from day 2 on.
            # customer B: fraud known on day 5 -> never excluded in days 0..3.
            # customer C: legitimate only.
            "customer": ["A", "B", "C"],
            "label": [True, True, False],
            "label_time": [t0 + 1.5 * day, t0 + 5 * day, t0],
        }
    )
    known = first_known_compromise(history)
    assert list(known.index) == ["A", "B"]
    scored = pd.DataFrame(
        {
            "customer": ["A", "A", "A", "B", "C", "A"],
            "timestamp": [t0, t0 + day, t0 + 2 * day, t0 + 3 * day, t0 + 3 * day, t0 + 3 * day],
        }
    )
    kept = exclude_known_compromised(scored, known)
    assert kept.index.tolist() == [0, 1, 3, 4]


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("bank")
    generate_bank(out, customers=400, days=60, seed=5)
    frame: pd.DataFrame = build_fraud_features(out / "transactions.parquet").frame
    return frame


CONFIG = TrainConfig(
    train_start=date(2026, 1, 15),
    train_days=21,
    delay_days=7,
    test_days=10,
    capacity=10,
    n_estimators=40,
)


def test_card_precision_choice_lets_average_precision_decide_among_near_equals() -> None:
    # k = 50 on 7-day folds: one compromised card per fold is 1 / 350 of mean card P@50.
    sel = SelectionConfig(metric="card_precision_at_k")
    tol = sel.tolerance(50)
    assert tol == pytest.approx(1 / 350)
    rows = [
        {"card_precision_at_k": 24 / 350, "average_precision": 0.70},  # the most cards
        {"card_precision_at_k": 23.5 / 350, "average_precision": 0.75},  # half a card behind
        {"card_precision_at_k": 22 / 350, "average_precision": 0.90},  # two cards behind
        {"card_precision_at_k": 30 / 350, "average_precision": 0.99},  # over the budget
    ]
    within_budget = [0, 1, 2]
    # Half a card per fold is not a better card ranking: AP decides between 0 and 1; two
    # cards behind is out whatever its AP; the over-budget row never counts.
    assert choose(rows, within_budget, "card_precision_at_k", "average_precision", tol) == 1
    # With no tolerance, the most cards wins.
    assert choose(rows, within_budget, "card_precision_at_k", "average_precision", 0.0) == 0
    # A wider tolerance lets the two-card-behind row in.
    assert choose(rows, within_budget, "card_precision_at_k", "average_precision", 3 * tol) == 2
    # Equal on both: the lower Brier, then the earlier row.
    tied = [
        {"card_precision_at_k": 0.1, "average_precision": 0.5, "brier": 0.003},
        {"card_precision_at_k": 0.1, "average_precision": 0.5, "brier": 0.002},
    ]
    assert choose(tied, [0, 1], "card_precision_at_k", "average_precision", 0.0, "brier") == 1
    assert choose(tied, [0, 1], "card_precision_at_k", "average_precision", 0.0) == 0
    # Continuous metrics have no card step: no tolerance.
    assert SelectionConfig(metric="average_precision", card_tolerance=5).tolerance(50) == 0.0
    with pytest.raises(InputError, match="tie-break"):
        SelectionConfig(tie_break="accuracy")
    with pytest.raises(InputError, match="card-tolerance"):
        SelectionConfig(card_tolerance=-1)


def test_the_choice_rule_is_stated_in_words() -> None:
    folds = [{"val_start": "2026-02-01", "val_end": "2026-02-08"}]
    assert criterion_text({"metric": "average_precision"}) == "mean average_precision"
    card = {
        "metric": "card_precision_at_k",
        "tie_break": "average_precision",
        "tolerance": 1 / 350,
        "k": 50,
        "folds": folds,
    }
    assert criterion_text(card) == (
        "mean card_precision_at_k; candidates within 1 compromised card(s) per fold of the "
        "best are equal on it, and average_precision decides among them"
    )
    exact = {**card, "tolerance": 0.0}
    assert criterion_text(exact) == "mean card_precision_at_k, ties broken by average_precision"


def test_folds_slide_back_in_time_and_never_touch_the_test_period() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    folds = folds_for(CONFIG, SelectionConfig(folds=3, val_days=5, step_days=4), start)
    # Final training ends 2026-02-05; test starts 2026-02-12.
    assert [(f.val_start.date(), f.val_end.date()) for f in folds] == [
        (date(2026, 1, 31), date(2026, 2, 5)),
        (date(2026, 1, 27), date(2026, 2, 1)),
        (date(2026, 1, 23), date(2026, 1, 28)),
    ]
    assert [f.train_end.date() for f in folds] == [
        date(2026, 1, 24),
        date(2026, 1, 20),
        date(2026, 1, 16),
    ]
    # Cut at the first day of data, and a fold with too little training left is dropped.
    assert folds[0].train_start.date() == date(2026, 1, 3)
    assert folds[2].train_start == start
    # Fold 5 would train on 2026-01-01 .. 01-04 only (3 days < val_days): dropped, and the
    # search stops there.
    short = folds_for(CONFIG, SelectionConfig(folds=7, val_days=5, step_days=4), start)
    assert len(short) == 5 and short[-1].train_end.date() == date(2026, 1, 8)
    with pytest.raises(InputError, match="no room for model selection"):
        folds_for(CONFIG, SelectionConfig(folds=2), datetime(2026, 2, 1, tzinfo=UTC))


def test_selection_picks_the_best_candidate_on_the_folds_and_compares_calibration(
    bank: pd.DataFrame, tmp_path: Path
) -> None:
    names = [
        c
        for c in bank.columns
        if c
        not in {
            "transaction_id",
            "timestamp",
            "customer",
            "terminal",
            "card",
            "label",
            "label_time",
        }
    ]
    small_gbdt = Candidate("gbdt", 40, 7, 0.1, 20)
    candidates = (small_gbdt, Candidate("logistic"), Candidate("extra_trees", 40, 7, 0.1, 20))
    sel = SelectionConfig(
        folds=2, val_days=5, step_days=5, candidates=candidates, latency_budget_ms=1e6
    )
    result = select(bank, names, CONFIG, sel)
    rows = result.rows
    assert [r["candidate"] for r in rows] == [c.label for c in candidates]
    assert all(r["folds_run"] == 2 and len(r["per_fold"]) == 2 for r in rows)
    best = max(range(3), key=lambda i: rows[i]["average_precision"])
    assert [r["chosen"] for r in rows] == [i == best for i in range(3)]
    assert result.chosen == candidates[best]
    assert [r["calibration"] for r in result.calibration_rows] == ["holdout", "refit", "none"]
    assert sum(r["chosen"] for r in result.calibration_rows) == 1
    # refit and none share the model, so they rank identically.
    refit, none = result.calibration_rows[1], result.calibration_rows[2]
    assert refit["average_precision"] == pytest.approx(none["average_precision"], abs=1e-9)
    applied = result.apply(CONFIG)
    assert (applied.family, applied.n_estimators) == (
        result.chosen.family,
        result.chosen.n_estimators,
    )
    assert applied.calibration == result.calibration
    # The chosen configuration trains on the real split.
    assert train(bank, names, applied).evaluation.transactions > 0
    table = result.to_dict()
    assert table["chosen"]["label"] == result.chosen.label and len(table["folds"]) == 2
    # Each fold states what a perfect card ranking finds, and no candidate finds more.
    for i, fold in enumerate(table["folds"]):
        findable = fold["compromised_cards_findable"]
        assert findable > 0
        assert fold["card_precision_at_k_ceiling"] == pytest.approx(findable / (10 * 5))
        for r in rows:
            assert 0 <= r["cards_per_fold"][i] <= findable
    for r in rows:  # the counts are the ones behind card precision@k (k = 10, 5 days)
        assert np.mean(r["cards_per_fold"]) / 50 == pytest.approx(r["card_precision_at_k"])
    # The report states the rule and each fold's findable cards.
    from bankml.fraud.report import render_selection_html

    render_selection_html(result, tmp_path / "selection.html")
    page = (tmp_path / "selection.html").read_text()
    assert "Chosen by mean average_precision (k = 10)" in page
    findable = int(table["folds"][0]["compromised_cards_findable"])
    assert f"<td>{findable}</td></tr>" in page


def test_card_day_weighted_candidate_ranks_cards_on_the_folds(bank: pd.DataFrame) -> None:
    names = [c for c in bank.columns if c.startswith(("amount", "customer_", "terminal_", "card_"))]
    plain = Candidate("gbdt", 40, 15, 0.05, 50)
    weighted = Candidate("gbdt", 40, 15, 0.05, 50, weighting="card_day")
    assert weighted.label == "gbdt 40x15 lr0.05, card-day"
    sel = SelectionConfig(
        folds=2,
        val_days=5,
        step_days=5,
        candidates=(plain, weighted),
        latency_budget_ms=1e6,
        metric="card_average_precision",
    )
    result = select(bank, names, CONFIG, sel)
    rows = {r["candidate"]: r for r in result.rows}
    for r in rows.values():
        assert 0.0 < r["card_average_precision"] <= 1.0
    # Row weights with LightGBM's scale_pos_weight made a degenerate model on this bank
    # (margins of several hundred, test AP 0.04 against 0.12 unweighted); folded into the
    # row weights, the card-day model's margins stay those of a fraud model and it ranks.
    x = bank[names].to_numpy(np.float64)
    plain_run = train(bank, names, replace(CONFIG, calibration="none"))
    card_day_run = train(bank, names, replace(CONFIG, calibration="none", weighting="card_day"))
    assert np.abs(card_day_run.model.margin(x)).max() < 20
    ap = plain_run.evaluation.average_precision
    assert card_day_run.evaluation.average_precision > 0.5 * ap
    best = max(result.rows, key=lambda r: r["card_average_precision"])
    assert result.chosen.label == best["candidate"]
    assert result.apply(CONFIG).weighting == result.chosen.weighting
    with pytest.raises(InputError, match="weighting"):
        Candidate("gbdt", weighting="per_card")


def test_a_budget_no_candidate_meets_is_one_clear_error(bank: pd.DataFrame) -> None:
    names = ["amount", "customer_txn_count_1d", "terminal_fraud_rate_7d"]
    sel = SelectionConfig(folds=1, val_days=5, candidates=(BASELINE,), latency_budget_ms=1e-9)
    with pytest.raises(InputError, match="latency budget"):
        select(bank, names, CONFIG, sel)
    with pytest.raises(InputError, match="--select-metric"):
        SelectionConfig(metric="accuracy")


def test_feature_ablation_reports_each_groups_gain(bank: pd.DataFrame) -> None:
    names = ["amount", "customer_txn_count_1d", "terminal_fraud_rate_7d", "customer_new_terminal"]
    groups = {"novelty": ("customer_new_terminal",), "absent": ("no_such_feature",)}
    rows = feature_ablation(bank, names, CONFIG, SelectionConfig(folds=1, val_days=5), groups)
    assert [r["group"] for r in rows] == ["novelty"]
    (row,) = rows
    assert row["gain"] == pytest.approx(row["with"] - row["without"])


def test_the_documentation_pack_shows_the_selection_and_unfiltered_figures() -> None:
    from bankml.fraud.documentation import fraud_doc_sections

    selection = {
        "metric": "average_precision",
        "k": 5,
        "latency_budget_ms": 2.0,
        "folds": [{}, {}],
        "candidates": [
            {"candidate": "gbdt 150x15 lr0.05", "average_precision": 0.7, "within_budget": True},
            {
                "candidate": "logistic l2=1",
                "average_precision": 0.8,
                "chosen": True,
                "within_budget": True,
            },
        ],
        "calibration": [{"calibration": "refit", "brier": 0.002, "chosen": True}],
        "chosen": {"label": "logistic l2=1", "calibration": "refit"},
    }
    evaluation = {
        "evaluation": {"roc_auc": 0.9, "k": 5},
        "evaluation_unfiltered": {"roc_auc": 0.95, "transactions": 40, "frauds": 4},
    }
    sections = {
        s.title: s for s in fraud_doc_sections({"evaluation": evaluation, "selection": selection})
    }
    blocks = sections["Model selection"].blocks
    assert "Chosen: logistic l2=1 with refit calibration" in blocks[0]
    _header, rows = blocks[1]
    assert [r[0] for r in rows] == ["gbdt 150x15 lr0.05", "logistic l2=1"]
    assert [r[-1] for r in rows] == ["", "✓"]
    assert any(
        "40 transactions, 4 frauds" in b
        for b in sections["Performance (test period)"].blocks
        if isinstance(b, str)
    )
    fixed = {s.title: s for s in fraud_doc_sections({"selection": {"note": "fixed"}})}
    assert "no model selection" in fixed["Model selection"].blocks[0]
