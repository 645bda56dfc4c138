"""Fraud model quality: time-aware selection on the synthetic bank vs the fixed model.

Generates the synthetic bank (or reads ``--transactions``), builds the features once, then:

1. trains the fixed model bankml used before selection (LightGBM 150 trees x 15 leaves,
   Platt on the last 20% of training) and evaluates it on the test period;
2. runs the selection (``bankml.fraud.selection.select``: prequential folds before the test
   period, several families, latency budget, calibration compared) and prints its table;
3. trains the chosen configuration on the same training period and evaluates it on the
   same test period: both honest (known-compromised customers excluded) and unfiltered;
4. measures the chosen model's single-row serving latency (``FraudModel.score_row``, and
   score + exact explanation as the API does) against its peer in the same run: raw
   ``Booster.predict`` on one row, one thread (a logistic model's peer is a bare dot product);
5. with ``--ablation``: each feature group's gain on the held-back folds.

    python bench/fraud_quality.py                 # the README tour's bank and periods
    python bench/fraud_quality.py --ablation      # plus the feature-group ablation
    python bench/fraud_quality.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from bankml.data.generator import generate_bank
from bankml.fraud.features import build_fraud_features
from bankml.fraud.model import FraudModel
from bankml.fraud.selection import SelectionConfig, feature_ablation, select
from bankml.fraud.training import TrainConfig, TrainingResult, split, train

console = Console()


def _figures(result: TrainingResult) -> dict[str, float]:
    ev, raw = result.evaluation, result.evaluation_unfiltered
    assert raw is not None
    return {
        "average_precision": ev.average_precision,
        "card_precision_at_k": ev.card_precision_at_k,
        "roc_auc": ev.roc_auc,
        "average_precision_unfiltered": raw.average_precision,
        "card_precision_at_k_unfiltered": raw.card_precision_at_k,
        "roc_auc_unfiltered": raw.roc_auc,
    }


def _percentiles(samples: list[float]) -> dict[str, float]:
    return {
        "p50_us": float(np.percentile(samples, 50)),
        "p99_us": float(np.percentile(samples, 99)),
    }


def _latency(model: FraudModel, x: np.ndarray, rows: int) -> dict[str, dict[str, float]]:
    """One-row timings, interleaved so load on the machine hits every path alike."""
    x = x[:rows]
    if model.booster_ is not None:
        booster = model.booster_

        def peer(row: np.ndarray) -> object:
            return booster.predict(row.reshape(1, -1), raw_score=True, num_threads=1)

        peer_name = "raw Booster.predict"
    else:
        coef = model.linear_["coef"] if model.linear_ is not None else np.zeros(x.shape[1])

        def peer(row: np.ndarray) -> object:
            return float(np.nan_to_num(row) @ coef)

        peer_name = "raw dot product"
    for row in x[:20]:  # warm-up
        peer(row)
        model.score_row(row)
        model.contributions(row.reshape(1, -1))
    timings: dict[str, list[float]] = {peer_name: [], "score_row": [], "score + explain": []}
    for row in x:
        t0 = time.perf_counter_ns()
        peer(row)
        t1 = time.perf_counter_ns()
        model.score_row(row)
        t2 = time.perf_counter_ns()
        model.score_row(row)
        model.contributions(row.reshape(1, -1))
        t3 = time.perf_counter_ns()
        timings[peer_name].append((t1 - t0) / 1e3)
        timings["score_row"].append((t2 - t1) / 1e3)
        timings["score + explain"].append((t3 - t2) / 1e3)
    return {name: _percentiles(v) for name, v in timings.items()}


def _print_selection(sel: dict[str, Any]) -> None:
    table = Table(
        "candidate",
        "AP",
        f"card P@{sel['k']}",
        "ROC-AUC",
        "folds",
        "score p50 µs",
        "score+explain p50 µs",
        "chosen",
        title=f"selection: mean {sel['metric']} on {len(sel['folds'])} prequential folds",
    )
    for r in sel["candidates"]:
        table.add_row(
            r["candidate"],
            f"{r['average_precision']:.4f}",
            f"{r['card_precision_at_k']:.4f}",
            f"{r['roc_auc']:.4f}",
            str(r["folds_run"]),
            f"{r['score_p50_us']:,.0f}",
            f"{r['decision_p50_us']:,.0f}" + ("" if r["within_budget"] else " (over budget)"),
            "✓" if r["chosen"] else "",
        )
    console.print(table)
    cal = Table("calibration", "AP", f"card P@{sel['k']}", "Brier", "ECE", "chosen")
    for r in sel["calibration"]:
        cal.add_row(
            r["calibration"],
            f"{r['average_precision']:.4f}",
            f"{r['card_precision_at_k']:.4f}",
            f"{r['brier']:.5f}",
            f"{r['ece']:.5f}",
            "✓" if r["chosen"] else r.get("note", ""),
        )
    console.print(cal)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=Path, help="a transactions table to use")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--train-start", default="2026-01-31")
    parser.add_argument("--train-days", type=int, default=40)
    parser.add_argument("--delay-days", type=int, default=7)
    parser.add_argument("--test-days", type=int, default=12)
    parser.add_argument("--capacity", type=int, default=50)
    parser.add_argument("--metric", default="average_precision")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--latency-budget-ms", type=float, default=2.0)
    parser.add_argument("--latency-rows", type=int, default=2000)
    parser.add_argument("--ablation", action="store_true", help="feature-group ablation too")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        source = args.transactions
        if source is None:
            generate_bank(Path(tmp), customers=args.customers, days=args.days, seed=args.seed)
            source = Path(tmp) / "transactions.parquet"
        started = time.perf_counter()
        features = build_fraud_features(source, label_delay_days=max(args.delay_days, 1))
        console.print(
            f"features: {len(features.frame):,} transactions x {len(features.feature_names)} "
            f"in {time.perf_counter() - started:.1f} s"
        )
    frame, names = features.frame, features.feature_names
    fixed = TrainConfig(
        train_start=date.fromisoformat(args.train_start),
        train_days=args.train_days,
        delay_days=args.delay_days,
        test_days=args.test_days,
        capacity=args.capacity,
    )
    started = time.perf_counter()
    baseline = train(frame, names, fixed)
    baseline_s = time.perf_counter() - started
    selection = SelectionConfig(
        metric=args.metric, folds=args.folds, latency_budget_ms=args.latency_budget_ms
    )
    result = select(frame, names, fixed, selection)
    sel = result.to_dict()
    _print_selection(sel)
    chosen_config = result.apply(fixed)
    started = time.perf_counter()
    chosen = train(frame, names, chosen_config)
    chosen_s = time.perf_counter() - started

    compare = Table(
        "test period",
        "fixed 150x15 (holdout Platt)",
        f"selected: {result.chosen.label} ({result.calibration})",
        title=f"same test period, k = {args.capacity}",
    )
    fb, fc = _figures(baseline), _figures(chosen)
    for key in fb:
        compare.add_row(key, f"{fb[key]:.4f}", f"{fc[key]:.4f}")
    compare.add_row("training seconds", f"{baseline_s:.1f}", f"{chosen_s:.1f}")
    console.print(compare)
    console.print(f"selection took {result.seconds:.0f} s")

    _, _, test = split(frame, fixed)
    latency = _latency(chosen.model, test[names].to_numpy(np.float64), args.latency_rows)
    lat = Table("one row, one thread", "p50 µs", "p99 µs", title="serving latency (chosen)")
    for name, v in latency.items():
        lat.add_row(name, f"{v['p50_us']:.1f}", f"{v['p99_us']:.1f}")
    console.print(lat)

    ablation: list[dict[str, Any]] = []
    if args.ablation:
        ablation = feature_ablation(frame, names, replace(chosen_config), selection)
        abl = Table(
            "feature group",
            f"{args.metric} with",
            "without",
            "gain",
            "gain AP",
            f"gain card P@{args.capacity}",
            title="feature ablation on the held-back folds (chosen model)",
        )
        for r in ablation:
            abl.add_row(
                r["group"],
                f"{r['with']:.4f}",
                f"{r['without']:.4f}",
                f"{r['gain']:+.4f}",
                f"{r['gain_average_precision']:+.4f}",
                f"{r['gain_card_precision_at_k']:+.4f}",
            )
        console.print(abl)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "baseline": fb,
                    "selected": fc,
                    "selection": sel,
                    "latency": latency,
                    "ablation": ablation,
                },
                indent=2,
                default=str,
            )
        )


if __name__ == "__main__":
    main()
