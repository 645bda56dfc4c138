"""`bankml fraud`: train, plan capacity, triage a day, work the review queue."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from bankml.cli._common import acting_user, console, open_services, print_json, progress_callback
from bankml.core.errors import InputError
from bankml.core.roles import Role

app = typer.Typer(
    help="Fraud triage: capacity-aware model, ranked review queue, dispositions.",
    no_args_is_help=True,
)


def _parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} must be a date like 2026-03-01, not {text!r}") from None


@app.command("train")
def train_cmd(
    transactions: Path = typer.Option(
        ..., "--transactions", "-t", help="Transactions table (.parquet or .csv)."
    ),
    mapping: Path = typer.Option(
        None,
        "--mapping",
        help="TOML naming your columns (see docs/fraud.md); default: the synthetic bank's names.",
    ),
    train_start: str = typer.Option(..., "--train-start", help="First training day, YYYY-MM-DD."),
    train_days: int = typer.Option(..., "--train-days", help="Days of training data."),
    delay_days: int = typer.Option(
        7, "--delay-days", help="Label-delay gap between training and test (days)."
    ),
    test_days: int = typer.Option(..., "--test-days", help="Days of test data."),
    capacity: int = typer.Option(
        None, "--capacity", "-k", help="Alerts the team can review per day."
    ),
    analysts: int = typer.Option(
        None, "--analysts", help="Analysts (with --reviews-per-analyst instead of --capacity)."
    ),
    reviews_per_analyst: int = typer.Option(
        None, "--reviews-per-analyst", help="Reviews one analyst does per day."
    ),
    seed: int = typer.Option(
        0, "--seed", help="Random seed (same data+config+seed -> same model)."
    ),
    calibrate: bool = typer.Option(
        True,
        "--calibrate/--no-calibrate",
        help="Platt-calibrate scores on the last 20%% of training.",
    ),
    calibration: str = typer.Option(
        "holdout",
        "--calibration",
        help="holdout (Platt on the last 20%%, not trained on), refit (then retrain on all "
        "rows) or none.",
    ),
    exclude_known: bool = typer.Option(
        True,
        "--exclude-known-compromised/--include-known-compromised",
        help="Headline test figures leave out customers already known to be compromised "
        "before each day (the unfiltered figures are always shown beside).",
    ),
    select: bool = typer.Option(
        False,
        "--select/--no-select",
        help="Choose the model family, size and calibration on prequential folds before the "
        "test period (minutes on the demo data); the table is stored with the model.",
    ),
    select_metric: str = typer.Option(
        "average_precision",
        "--select-metric",
        help="What the selection maximises: average_precision, card_precision_at_k or "
        "card_average_precision (the whole daily card ranking card precision@k reads).",
    ),
    select_tie_break: str = typer.Option(
        "average_precision",
        "--select-tie-break",
        help="Decides among candidates equal on --select-metric (for card_precision_at_k: "
        "within --card-tolerance cards per fold of the best).",
    ),
    card_tolerance: float = typer.Option(
        1.0,
        "--card-tolerance",
        help="Compromised cards per fold within which candidates count as equal on "
        "card_precision_at_k (0: exact ties only).",
    ),
    latency_budget_ms: float = typer.Option(
        2.0,
        "--latency-budget-ms",
        help="Selection keeps candidates whose one-row score+explanation median fits this.",
    ),
    folds: int = typer.Option(3, "--folds", help="Prequential folds for --select."),
    review_cost: float = typer.Option(5.0, "--review-cost", help="Cost of reviewing one alert."),
    out: Path = typer.Option(None, "--out", help="Run directory (default: home/fraud/runs/TIME)."),
    register: bool = typer.Option(
        True, "--register/--no-register", help="Register the model as a new version in MLflow."
    ),
    user: str | None = typer.Option(
        None, "--user", "-u", help="Optional check: refuse unless your API key is this user's."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object to stdout."),
) -> None:
    """Train the fraud model with a time split and a label-delay gap; evaluate it; choose the
    threshold for the team's capacity; log and register it in MLflow.

    Example: bankml fraud train -t bank/transactions.parquet --train-start 2026-01-01
    --train-days 30 --delay-days 7 --test-days 14 --capacity 50
    """
    from bankml.fraud.mapping import DEFAULT_MAPPING, load_mapping
    from bankml.fraud.selection import SelectionConfig
    from bankml.fraud.service import train_and_register
    from bankml.fraud.training import TrainConfig

    if capacity is None:
        if analysts is None or reviews_per_analyst is None:
            raise InputError("give --capacity K, or --analysts N with --reviews-per-analyst M")
        capacity = analysts * reviews_per_analyst
    config = TrainConfig(
        train_start=_parse_day(train_start, "--train-start"),
        train_days=train_days,
        delay_days=delay_days,
        test_days=test_days,
        capacity=capacity,
        seed=seed,
        calibrate=calibrate,
        calibration=calibration,
        exclude_known_compromised=exclude_known,
        review_cost_per_alert=review_cost,
    )
    selection = (
        SelectionConfig(
            metric=select_metric,
            folds=folds,
            latency_budget_ms=latency_budget_ms,
            tie_break=select_tie_break,
            card_tolerance=card_tolerance,
        )
        if select
        else None
    )
    column_mapping = load_mapping(mapping) if mapping else DEFAULT_MAPPING
    with open_services() as s:
        maker = acting_user(s, user)
        if register:
            # The maker is whoever trained: authenticated, and barred from validating or
            # approving this version later (maker-checker).
            maker.require(Role.MODEL_DEVELOPER, Role.ADMIN)
        run_dir = out or s.settings.home / "fraud" / "runs" / datetime.now(UTC).strftime(
            "%Y%m%dT%H%M%S%f"
        )
        with progress_callback(not as_json) as progress:
            outcome = train_and_register(
                transactions,
                column_mapping,
                config,
                registry=s.registry if register else None,
                ledger=s.ledger,
                actor=maker.name,
                out_dir=run_dir,
                progress=progress,
                selection=selection,
            )
            if outcome.version is not None:
                # Into bankml's inventory now (with its metrics): every home on this
                # database lists it without asking MLflow.
                s.governance.register(outcome.version.name, outcome.version.version, maker.name)
    summary = outcome.summary()
    if as_json:
        print_json(summary)
        return
    for w in outcome.warnings:
        console.print(f"[yellow]warning:[/] {w}")
    if summary["selection"]:
        _print_selection(summary["selection"], summary["selection_report"])
    print_train(summary)


def _print_selection(sel: dict[str, Any], report: str) -> None:
    from bankml.fraud.selection import criterion_text

    table = Table(
        "candidate",
        "AP",
        f"card P@{sel['k']}",
        "card AP",
        "ROC-AUC",
        "score+explain p50 µs",
        "within budget",
        title=f"model selection: {criterion_text(sel)} over {len(sel['folds'])} folds",
    )
    for r in sel["candidates"]:
        mark = "[bold green]✓ chosen[/]" if r["chosen"] else ("yes" if r["within_budget"] else "no")
        table.add_row(
            r["candidate"],
            f"{r['average_precision']:.4f}",
            f"{r['card_precision_at_k']:.4f}",
            f"{r.get('card_average_precision', float('nan')):.4f}",
            f"{r['roc_auc']:.4f}",
            f"{r['decision_p50_us']:,.0f}",
            mark,
        )
    console.print(table)
    cal = Table("calibration", "AP", f"card P@{sel['k']}", "Brier", "ECE", "", title="calibration")
    for r in sel["calibration"]:
        cal.add_row(
            r["calibration"],
            f"{r['average_precision']:.4f}",
            f"{r['card_precision_at_k']:.4f}",
            f"{r['brier']:.5f}",
            f"{r['ece']:.5f}",
            "[bold green]✓ chosen[/]" if r["chosen"] else r.get("note", ""),
        )
    console.print(cal)
    console.print(f"selection report: {report}")


def print_train(summary: dict[str, Any]) -> None:
    t = summary["test"]
    u = summary.get("test_unfiltered") or t
    k = t["k"]
    table = Table(
        "metric",
        "test period",
        "all test txns",
        title=f"fraud model v{summary['version'] or '-'} (test: known-compromised excluded)",
    )
    for label, value, raw in [
        ("ROC-AUC", f"{t['roc_auc']:.4f}", f"{u['roc_auc']:.4f}"),
        ("average precision", f"{t['average_precision']:.4f}", f"{u['average_precision']:.4f}"),
        (
            f"card precision@{k}",
            f"{t['card_precision_at_k']:.4f}",
            f"{u['card_precision_at_k']:.4f}",
        ),
        (f"precision@{k}", f"{t['precision_at_k']:.4f}", f"{u['precision_at_k']:.4f}"),
        ("threshold", f"{t['threshold']:.5f}", ""),
        (
            "precision / recall",
            f"{t['precision']:.3f} / {t['recall']:.3f}",
            f"{u['precision']:.3f} / {u['recall']:.3f}",
        ),
        (
            "alerts per day (mean / max)",
            f"{t['alerts_per_day']:.1f} / {t['max_alerts_per_day']}",
            f"{u['alerts_per_day']:.1f} / {u['max_alerts_per_day']}",
        ),
        ("days over capacity", str(t["days_over_capacity"]), str(u["days_over_capacity"])),
        (
            "Brier / ECE",
            f"{t['brier']:.5f} / {t['ece']:.5f}",
            f"{u['brier']:.5f} / {u['ece']:.5f}",
        ),
        ("net saving", f"{t['net_saving']:,.0f}", f"{u['net_saving']:,.0f}"),
        (
            "transactions / frauds",
            f"{t['transactions']:,} / {t['frauds']:,}",
            f"{u['transactions']:,} / {u['frauds']:,}",
        ),
    ]:
        table.add_row(label, value, raw)
    console.print(table)
    print_plan(summary["capacity_plan"])
    console.print(f"report: {summary['report']}")


def print_plan(plan: dict[str, Any]) -> None:
    table = Table(
        "threshold",
        "alerts/day",
        "max/day",
        "recall",
        "precision",
        "net saving",
        title=f"capacity plan: {plan['capacity']} alerts/day",
    )
    for r in plan["rows"]:
        mark = " ◀" if r["threshold"] == plan["threshold"] else ""
        table.add_row(
            f"{r['threshold']:.5f}{mark}",
            f"{r['alerts_per_day']:.1f}",
            str(r["max_alerts_per_day"]),
            f"{r['recall']:.3f}",
            f"{r['precision']:.3f}",
            f"{r['net_saving']:,.0f}",
        )
    console.print(table)
    more = plan.get("recall_plus_2pts")
    if more:
        console.print(
            f"2 more points of recall ({more['recall_now']:.3f} → {more['recall_target']:.3f}) "
            f"cost {more['alerts_per_day_needed'] - more['alerts_per_day_now']:+.1f} alerts/day "
            f"({more['alerts_per_day_now']:.1f} → {more['alerts_per_day_needed']:.1f})"
        )


@app.command("plan")
def plan_cmd(
    version: int = typer.Option(None, "--version", help="Model version (default: the champion)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the capacity plan of a model version: threshold -> alerts/day, recall, money."""
    with open_services() as s:
        plan = s.fraud.plan(version)
    if as_json:
        print_json(plan)
        return
    print_plan(plan)


@app.command("triage")
def triage_cmd(
    day: str = typer.Option(..., "--date", "-d", help="Day to triage, YYYY-MM-DD (UTC)."),
    transactions: Path = typer.Option(
        None,
        "--transactions",
        "-t",
        help="Transactions table (default: the one the model was trained on).",
    ),
    capacity: int = typer.Option(None, "--capacity", "-k", help="Override today's capacity."),
    user: str | None = typer.Option(
        None, "--user", "-u", help="Optional check: refuse unless your API key is this user's."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score a day's transactions with the champion and build the ranked review queue,
    capped at capacity. Every scored transaction is a decision in the ledger."""
    when = _parse_day(day, "--date")
    with open_services() as s:
        result = s.fraud.triage(
            acting_user(s, user), when, transactions=transactions, capacity=capacity
        )
    if as_json:
        print_json(result.to_dict())
        return
    if result.repeated:
        console.print(
            f"{when} was already triaged with fraud v{result.version}: no new decisions or alerts"
        )
    else:
        console.print(
            f"{when}: scored {result.scored:,} transactions with fraud v{result.version}; "
            f"{len(result.added)} new alerts (threshold {result.threshold:.5f})"
            + (
                f"; supersedes run {result.run.supersedes[:8]}"
                if result.run and result.run.supersedes
                else ""
            )
        )
    print_queue(result.queue)


def print_queue(alerts: list[Any]) -> None:
    table = Table(
        "#",
        "alert",
        "decision",
        "score",
        "amount",
        "status",
        "reasons",
        title=f"review queue ({len(alerts)} alerts)",
    )
    for a in alerts:
        table.add_row(
            str(a.rank),
            a.alert_id[:8],
            (a.decision_id or "-")[:8],
            f"{a.score:.3f}",
            f"{a.amount:,.2f}",
            a.status,
            "\n".join(a.reasons),
        )
    console.print(table)


@app.command("queue")
def queue_cmd(
    day: str = typer.Option(None, "--date", "-d", help="Only this day's alerts."),
    status: str = typer.Option(None, "--status", help="open, needs_info or closed."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List alerts in the review queue."""
    when = _parse_day(day, "--date") if day else None
    with open_services() as s:
        alerts = s.fraud.queue(when, status)
    if as_json:
        print_json([a.to_dict() for a in alerts])
        return
    print_queue(alerts)


@app.command("disposition")
def disposition_cmd(
    alert_id: str = typer.Argument(..., help="Alert id (a unique prefix is enough)."),
    outcome: str = typer.Option(..., "--outcome", "-o", help="fraud, legitimate or needs_info."),
    user: str | None = typer.Option(
        None, "--user", "-u", help="Optional check: refuse unless your API key is this user's."
    ),
    note: str = typer.Option("", "--note", help="Free text; PII is redacted before storing."),
) -> None:
    """Record an analyst's outcome for an alert; it becomes a label with today's timestamp."""
    with open_services() as s:
        d = s.fraud.disposition(acting_user(s, user), alert_id, outcome, note)
    console.print(
        f"alert {d.alert_id[:8]} → {d.outcome.value} by {d.analyst} (ledger #{d.ledger_seq})"
    )
