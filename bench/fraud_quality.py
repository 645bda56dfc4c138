"""Fraud model quality: time-aware selection on the synthetic bank vs the fixed model.

Generates the synthetic bank (or reads ``--transactions``), builds the features once, then:

1. trains the fixed model (LightGBM 150 trees x 15 leaves, Platt on the last 20% of
   training) twice and evaluates both on the test period: on the 20 features bankml had
   when issue 13 was filed (:data:`ISSUE_13_FEATURES`, the model that issue measured), and
   on today's features (what ``bankml fraud train`` trains without ``--select``);
2. runs the selection (``bankml.fraud.selection.select``: prequential folds before the test
   period, several families, latency budget, calibration compared; chosen by average
   precision as ``bankml fraud train --select`` does, or ``--metric card_precision_at_k``:
   candidates within a card per fold of the best decided by average precision) and prints
   its table with each fold's findable compromised cards;
3. trains the chosen configuration on the same training period and evaluates it on the
   same test period: both honest (known-compromised customers excluded) and unfiltered,
   with the test period's card precision@k ceiling (what a perfect ranking finds);
4. measures the chosen model's single-row serving latency (``FraudModel.score_row``, and
   score + exact explanation as the API does) against its peer in the same run: raw
   ``Booster.predict`` on one row, one thread (a logistic model's peer is a bare dot product);
5. with ``--ablation``: each feature group's gain on the held-back folds;
6. with ``--keep-home DIR``: the bank, the selection and the chosen model's training run go
   through the service into a bankml home at ``DIR`` (``train_and_register`` with the
   selection, as ``bankml fraud train --select`` does), and the chosen version is submitted,
   validated against ``policies/fraud.toml``, approved and promoted to champion, so that
   ``python bench/scoring.py --home DIR`` measures the scoring API with the selected model.

    python bench/fraud_quality.py                 # the README tour's bank and periods
    python bench/fraud_quality.py --ablation      # plus the feature-group ablation
    python bench/fraud_quality.py --json out.json
    python bench/fraud_quality.py --keep-home /tmp/selected && \
        python bench/scoring.py --home /tmp/selected
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from bankml.data.generator import generate_bank
from bankml.fraud.evaluation import (
    card_average_precision,
    card_precision_ceiling,
    exclude_known_compromised,
    first_known_compromise,
)
from bankml.fraud.features import build_fraud_features
from bankml.fraud.model import FraudModel
from bankml.fraud.selection import (
    SelectionConfig,
    SelectionResult,
    criterion_text,
    feature_ablation,
    select,
)
from bankml.fraud.training import TrainConfig, TrainingResult, split, train

console = Console()
ISSUE_13_FEATURES: tuple[str, ...] = (
    "amount",
    *(f"customer_{f}_{w}" for w in ("1d", "7d", "30d") for f in ("txn_count", "mean_amount")),
    "amount_to_customer_mean_30d",
    *(f"terminal_{f}_{w}" for w in ("1d", "7d", "30d") for f in ("txn_count", "fraud_rate")),
    "card_small_txn_count_10m",
    "card_small_txn_count_1h",
    "card_new_terminal",
    "card_new_country",
    "is_night",
    "is_weekend",
)
"""The fixed model's features when issue 13 was filed (``git show 4739f87^``): no velocity,
time-since, novelty, amount-spread or fresh terminal-risk features. Its done-when compares
the selected model against that fixed model on the same test period."""
# The same secret as bench/scoring.py, which reopens a kept home with it.
SECRET = "bench-secret-key-bench-secret-key-0123456789"


def _figures(result: TrainingResult, first_known: pd.Series) -> dict[str, float]:
    ev, raw = result.evaluation, result.evaluation_unfiltered
    assert raw is not None
    honest = exclude_known_compromised(result.test_scored, first_known)
    ceiling, findable = card_precision_ceiling(honest, ev.k)
    return {
        "average_precision": ev.average_precision,
        "card_precision_at_k": ev.card_precision_at_k,
        # The count behind card precision@k: compromised cards in the daily top k, all days.
        "compromised_cards_in_top_k": round(ev.card_precision_at_k * ev.k * ev.test_days),
        # What a perfect ranking reaches: every compromised card found on its first day.
        "card_precision_at_k_ceiling": ceiling,
        "compromised_cards_findable": sum(findable),
        "most_compromised_cards_a_day": max(findable),
        "card_average_precision": card_average_precision(honest, ev.k),
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
    findable = [int(f.get("compromised_cards_findable", 0)) for f in sel["folds"]]
    table = Table(
        "candidate",
        "AP",
        f"card P@{sel['k']}",
        f"cards per fold (findable {findable})",
        "card AP",
        "ROC-AUC",
        "folds",
        "score p50 µs",
        "score+explain p50 µs (CPU)",
        "chosen",
        title=f"selection: {criterion_text(sel)}, on {len(sel['folds'])} prequential folds",
    )
    for r in sel["candidates"]:
        table.add_row(
            r["candidate"],
            f"{r['average_precision']:.4f}",
            f"{r['card_precision_at_k']:.4f}",
            str(r.get("cards_per_fold", "")),
            f"{r['card_average_precision']:.4f}",
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


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def _select_into_home(
    home: Path, source: Path, config: TrainConfig, selection: SelectionConfig
) -> tuple[SelectionResult, TrainingResult, int | None]:
    """Select, train and register through the service in ``home``; promote the version.

    The users are the ones bench/scoring.py expects (``bench-dev`` trains and promotes,
    ``bench-validator`` validates and approves). Returns the selection, the chosen model's
    training result and its version (None when it failed its gates: not promoted).
    """
    from bankml.app import Services
    from bankml.core.identity import Role
    from bankml.core.settings import load_settings
    from bankml.fraud.mapping import DEFAULT_MAPPING
    from bankml.fraud.service import train_and_register

    if (home / "mlflow.db").exists():
        raise SystemExit(f"{home} already holds a bankml home; give --keep-home a new folder")
    svc = Services(load_settings(home=home, env="test", secret_key=SECRET))
    try:
        dev = svc.users.add("bench-dev", Role.MODEL_DEVELOPER)
        checker = svc.users.add("bench-validator", Role.VALIDATOR)
        admin = svc.users.add("bench-admin", Role.ADMIN)
        outcome = train_and_register(
            source,
            DEFAULT_MAPPING,
            config,
            registry=svc.registry,
            ledger=svc.ledger,
            actor="bench-dev",
            out_dir=home / "run",
            selection=selection,
        )
        assert outcome.version is not None and outcome.selection is not None
        version = outcome.version.version
        svc.lifecycle.install_policy(
            "fraud", Path(__file__).parents[1] / "policies" / "fraud.toml", admin
        )
        svc.governance.submit("fraud", version, dev)
        report, _ = svc.lifecycle.validate("fraud", version, checker)
        if report.passed:
            svc.lifecycle.approve("fraud", version, checker, "bench: selected model")
            svc.governance.promote("fraud", version, dev, "bench: selected model")
        else:  # the figures still print; the home has no champion
            console.print(f"[red]the selected model failed its gates: {report.failed}[/]")
    finally:
        svc.close()
    return outcome.selection, outcome.result, version if report.passed else None


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
    parser.add_argument(
        "--metric",
        default="average_precision",
        help="what the selection chooses by (default average precision, as `bankml fraud "
        "train --select`; or card_precision_at_k, card_average_precision)",
    )
    parser.add_argument("--tie-break", default="average_precision")
    parser.add_argument(
        "--card-tolerance",
        type=float,
        default=1.0,
        help="compromised cards per fold within which candidates are equal on card P@k",
    )
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--latency-budget-ms", type=float, default=2.0)
    parser.add_argument("--latency-rows", type=int, default=2000)
    parser.add_argument("--ablation", action="store_true", help="feature-group ablation too")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument(
        "--keep-home",
        type=Path,
        help="leave a bankml home here whose champion is the selected model "
        "(for bench/scoring.py --home)",
    )
    args = parser.parse_args()
    console.print(f"start: {_load()}")

    with tempfile.TemporaryDirectory() as tmp:
        source = args.transactions
        bank_dir = args.keep_home / "bank" if args.keep_home else Path(tmp)
        if source is None:
            generate_bank(bank_dir, customers=args.customers, days=args.days, seed=args.seed)
            source = bank_dir / "transactions.parquet"
        elif args.keep_home:
            raise SystemExit("--keep-home needs the generated bank (leave out --transactions)")
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
    # A table without a card (or country) column feeds fewer of them, as it did then.
    issue_13 = [n for n in ISSUE_13_FEATURES if n in names]
    started = time.perf_counter()
    baseline = train(frame, names, fixed)
    baseline_s = time.perf_counter() - started
    started = time.perf_counter()
    before = train(frame, issue_13, fixed)
    before_s = time.perf_counter() - started
    selection = SelectionConfig(
        metric=args.metric,
        folds=args.folds,
        latency_budget_ms=args.latency_budget_ms,
        tie_break=args.tie_break,
        card_tolerance=args.card_tolerance,
    )
    version = None
    if args.keep_home:
        # One run through the service: features, selection, training, registration.
        started = time.perf_counter()
        result, chosen, version = _select_into_home(args.keep_home, source, fixed, selection)
        chosen_s = time.perf_counter() - started - result.seconds
    else:
        result = select(frame, names, fixed, selection)
    sel = result.to_dict()
    _print_selection(sel)
    chosen_config = result.apply(fixed)
    if not args.keep_home:
        started = time.perf_counter()
        chosen = train(frame, names, chosen_config)
        chosen_s = time.perf_counter() - started

    compare = Table(
        "test period",
        f"issue 13's fixed 150x15 ({len(issue_13)} features)",
        f"fixed 150x15 ({len(names)} features)",
        f"selected: {result.chosen.label} ({result.calibration})",
        title=f"same test period, k = {args.capacity}; every model Platt-calibrated as named",
    )
    first_known = first_known_compromise(frame)
    fa = _figures(before, first_known)
    fb, fc = _figures(baseline, first_known), _figures(chosen, first_known)
    for key in fb:
        compare.add_row(
            key,
            *(f"{v:.4f}" if isinstance(v, float) else str(v) for v in (fa[key], fb[key], fc[key])),
        )
    note = " (+ features, registering)" if args.keep_home else ""
    compare.add_row(
        "training seconds", f"{before_s:.1f}", f"{baseline_s:.1f}", f"{chosen_s:.1f}{note}"
    )
    console.print(compare)
    console.print(f"selection took {result.seconds:.0f} s; {_load()}")
    if version is not None:
        console.print(
            f"{args.keep_home}: fraud v{version} ({result.chosen.label}, {result.calibration}) "
            f"is champion; measure it with: python bench/scoring.py --home {args.keep_home}"
        )

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
                    "issue_13_fixed": fa,
                    "baseline": fb,
                    "selected": fc,
                    "selection": sel,
                    "latency": latency,
                    "ablation": ablation,
                    "load_average": os.getloadavg(),
                },
                indent=2,
                default=str,
            )
        )


if __name__ == "__main__":
    main()
