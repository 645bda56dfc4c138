"""`bankml demo`: the end-to-end tour on embedded defaults (SQLite, DuckDB, Parquet)."""

from __future__ import annotations

import contextlib
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from bankml.cli._common import console, open_services, progress_callback
from bankml.cli.demo_web import WEB_OPTION, serve_console
from bankml.core.errors import BankmlError, ConflictError
from bankml.core.roles import Role

if TYPE_CHECKING:
    from bankml.app import Services

DEMO_USERS: list[tuple[str, Role, frozenset[str]]] = [
    ("maria", Role.MODEL_DEVELOPER, frozenset({"model-risk"})),
    ("victor", Role.VALIDATOR, frozenset({"model-risk"})),
    ("fiona", Role.FRAUD_ANALYST, frozenset({"fraud-ops"})),
    ("carl", Role.CREDIT_OFFICER, frozenset({"credit-risk"})),
    ("cora", Role.COMPLIANCE_REVIEWER, frozenset({"compliance", "aml-investigations"})),
    ("audrey", Role.AUDITOR, frozenset({"audit"})),
    ("ada", Role.ADMIN, frozenset()),
]
_TABLES = [
    "customers",
    "cards",
    "terminals",
    "transactions",
    "credit_applications",
    "credit_protected",
]


def demo(
    customers: int = typer.Option(1_500, "--customers", min=50, help="Size of the demo bank."),
    days: int = typer.Option(
        75, "--days", min=50, help="Days of transactions (the first 30 warm up the features)."
    ),
    seed: int = typer.Option(7, "--seed", help="Random seed."),
    web: bool = WEB_OPTION,
) -> None:
    """Run the end-to-end tour on embedded defaults: generate a bank, check it, set up users,
    train a fraud model, take it through validation and maker-checker approval, triage a day,
    score live transactions through the API, look a decision up and replay it, ask the policy
    assistant, and verify the ledger."""
    started = time.perf_counter()
    with open_services() as s:
        home = s.settings.home.resolve()
        console.print(
            Panel.fit(
                f"bankml demo: everything lives in [bold]{home}[/]\napp database: {s.db.safe_url}",
                title="bankml",
            )
        )
        bank = _generate(s, home / "demo" / "bank", customers, days, seed)
        _check(s, bank)
        _users(s)
        version = _fraud(s, bank, days)
        if _governance(s, version):
            _triage(s, bank, version, days)
            decision_id = _live_scoring(s, bank, version)
            _audit(s, decision_id)
            from bankml.cli.demo_monitoring import run_monitoring_demo

            run_monitoring_demo(s, home / "demo" / "monitoring.html", say=console.print)
        from bankml.cli.demo_credit import credit_demo

        credit_demo(s, home / "demo", seed=seed, step="9. Credit: PD, Reg B reasons, fairness")
        _policy(s, bank)
        _ledger(s)
        if web:
            serve_console(s)
    console.print(
        f"\n[green]demo finished[/] in {time.perf_counter() - started:.1f}s. "
        "Next: `bankml model list`, `bankml fraud queue`, `bankml audit log`, "
        "`bankml policy ask --help`."
    )


def _step(title: str) -> None:
    console.rule(f"[bold]{title}")


def _generate(s: Services, out: Path, customers: int, days: int, seed: int) -> Path:
    from bankml.data.generator import generate_bank

    _step("1. A synthetic bank")
    with progress_callback() as progress:
        manifest = generate_bank(out, customers=customers, days=days, seed=seed, progress=progress)
    s.ledger.append(
        "data.generated",
        "demo",
        f"dataset:{out.name}",
        {"seed": seed, "row_counts": manifest.row_counts, "files": manifest.files},
    )
    table = Table("file", "rows", title=f"Parquet files in {out}")
    for name, rows in sorted(manifest.row_counts.items()):
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(
        f"fraud rate {manifest.fraud_rate:.2%}; "
        f"{len(list((out / 'policies').glob('*.md')))} policy documents in "
        f"{out / 'policies'}"
    )
    return out


def _check(s: Services, bank: Path) -> None:
    from bankml.data.quality import check_table
    from bankml.data.schemas import load_schema

    _step("2. Data-quality and leakage checks")
    table = Table("table", "rows", "status", "findings")
    report_path = s.settings.home / "demo" / "reports" / "transactions_quality.html"
    for name in _TABLES:
        report = check_table(bank / f"{name}.parquet", load_schema(name))
        if name == "transactions":
            report.render_html(report_path)
        s.ledger.append(
            "data.checked",
            "demo",
            f"table:{name}",
            {"status": report.status, "rows": report.row_count, "findings": len(report.findings)},
        )
        colour = {"clean": "green", "warnings": "yellow", "blocking": "red"}[report.status]
        table.add_row(
            name,
            f"{report.row_count:,}",
            f"[{colour}]{report.status}[/]",
            escape("; ".join(f.message for f in report.findings[:2])) or "-",
        )
    console.print(table)
    console.print(f"HTML report: {report_path.resolve()}")


def _users(s: Services) -> None:
    _step("3. Users, roles and document groups")
    for name, role, groups in DEMO_USERS:
        try:
            s.users.add(name, role, groups)
            s.ledger.append("user.added", "demo", f"user:{name}", {"role": role.value})
        except ConflictError:
            pass  # the demo is re-runnable: users from an earlier run stay
    table = Table("user", "role", "groups")
    for u in s.users.list():
        table.add_row(u.name, u.role.value, ", ".join(sorted(u.groups)) or "-")
    console.print(table)


def _fraud(s: Services, bank: Path, days: int) -> int:
    from datetime import date

    from bankml.cli.fraud import print_plan
    from bankml.fraud.mapping import DEFAULT_MAPPING
    from bankml.fraud.service import train_and_register
    from bankml.fraud.training import TrainConfig

    _step("4. Fraud: point-in-time features, training, evaluation, capacity plan")
    # Train from day 30, once the 30-day windows are full: training on warm-up rows would
    # teach the model feature values it never sees live (the stability gate catches that).
    test_days = 10
    delay = 5
    config = TrainConfig(
        train_start=date(2026, 1, 31),
        train_days=days - 30 - delay - test_days,
        delay_days=delay,
        test_days=test_days,
        capacity=25,
    )
    run_dir = s.settings.home / "demo" / "fraud-run"
    shutil.rmtree(run_dir, ignore_errors=True)
    with progress_callback() as progress:
        outcome = train_and_register(
            bank / "transactions.parquet",
            DEFAULT_MAPPING,
            config,
            registry=s.registry,
            ledger=s.ledger,
            actor="maria",
            out_dir=run_dir,
            progress=progress,
        )
    ev = outcome.result.evaluation
    version = outcome.version.version if outcome.version else 0
    console.print(
        f"fraud model v{version}: ROC-AUC {ev.roc_auc:.3f}, AP "
        f"{ev.average_precision:.3f}, card precision@{ev.k} "
        f"{ev.card_precision_at_k:.3f}, {ev.alerts_per_day:.1f} alerts/day at "
        f"threshold {ev.threshold:.4f}"
    )
    print_plan(outcome.result.capacity_plan.to_dict())
    console.print(f"evaluation report: {outcome.report.resolve()}")

    return version


def _governance(s: Services, version: int) -> bool:
    from bankml.cli._governance_render import print_validation

    _step("5. Governance: validation gates, maker-checker approval, champion")
    maria, victor, ada = (s.users.get(n) for n in ("maria", "victor", "ada"))
    pinned = s.lifecycle.install_policy("fraud", s.settings.policy_dir / "fraud.toml", ada)
    console.print(
        f"ada (admin) pins the official fraud gate policy {pinned.sha256[:12]}… "
        f"(ledger #{pinned.ledger_seq})"
    )
    s.governance.submit("fraud", version, maria)
    console.print(f"maria (model_developer) submits fraud v{version}")
    report, _ = s.lifecycle.validate("fraud", version, victor)
    print_validation(report, console)
    try:
        s.lifecycle.approve("fraud", version, maria, "looks good to me")
    except BankmlError as exc:
        console.print(f"maria tries to approve her own model → [red]refused[/]: {exc.message}")
    if not report.passed:
        console.print(
            "[red]a gate failed, so the model cannot be approved or served[/]; "
            "a larger demo bank (--customers, --days) gives the model more to learn"
        )
        return False
    s.lifecycle.approve(
        "fraud", version, victor, "gates pass; capacity plan fits the team; reviewed the pack"
    )
    console.print(f"victor (validator) approves fraud v{version}")
    s.governance.promote("fraud", version, ada, "go-live after approval")
    console.print(f"ada (admin) promotes fraud v{version} → champion (MLflow alias too)")
    html, _md = s.lifecycle.render_docs(
        "fraud", version, s.settings.home / "demo" / "model-docs" / f"fraud-v{version}"
    )
    console.print(f"documentation pack: {html.resolve()}")
    return True


def _triage(s: Services, bank: Path, version: int, days: int) -> None:
    from datetime import date, timedelta

    from bankml.cli.fraud import print_queue

    _step("6. Today's review queue from the champion, capped at the team's capacity")
    day = date(2026, 1, 1) + timedelta(days=days - 1)
    fiona = s.users.get("fiona")
    result = s.fraud.triage(fiona, day, transactions=bank / "transactions.parquet", capacity=10)
    queue = result.queue
    console.print(f"{day}: scored {result.scored:,} transactions; {len(queue)} alerts queued")
    print_queue(queue[:5])
    if queue and queue[0].status == "open":
        d = s.fraud.disposition(fiona, queue[0].alert_id, "fraud", "demo: confirmed")
        console.print(
            f"fiona dispositions alert {d.alert_id[:8]} as fraud → a label known at "
            f"{d.created_at} (ledger #{d.ledger_seq})"
        )


def _live_scoring(s: Services, bank: Path, version: int) -> str:
    import pandas as pd

    from bankml.api.app import create_app
    from bankml.cli.serve import BackgroundServer

    _step("7. Real-time scoring through the API (the champion, loaded once)")
    with contextlib.suppress(ConflictError):  # the demo is re-runnable
        s.users.add("payments-switch", Role.SERVICE)
    key = s.users.issue_key("payments-switch")
    last = pd.read_parquet(bank / "transactions.parquet").iloc[-1]
    start = last["ts"] + pd.Timedelta(minutes=5)
    # One ordinary purchase, then a card-testing burst on the same card: small amounts a
    # minute apart, then a large online purchase.
    amounts = [35.0, 1.00, 2.49, 0.99, 3.10, 1.75, 1890.0]
    table = Table("time", "amount", "score", "decision", "top reason", "ledger #")
    with BackgroundServer(create_app(s)) as server:
        import httpx

        for i, amount in enumerate(amounts):
            at = start + pd.Timedelta(minutes=i)
            txn = {
                "transaction_id": 900_000_000 + i,
                "timestamp": at.isoformat(),
                "customer_id": int(last["customer_id"]),
                "terminal_id": int(last["terminal_id"]),
                "card_id": int(last["card_id"]),
                "amount": amount,
                "country": str(last["country"]),
            }
            r = httpx.post(
                f"{server.url}/v1/fraud/score",
                json=txn,
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            )
            body = r.json()
            last_decision = str(body["decision_id"])
            style = "bold red" if body["decision"] == "review" else "green"
            table.add_row(
                at.strftime("%H:%M"),
                f"{amount:,.2f}",
                f"{body['score']:.4f}",
                f"[{style}]{body['decision']}[/]",
                (body["reasons"] or ["-"])[0],
                str(body["ledger_seq"]),
            )
    console.print(f"POST /v1/fraud/score on {server.url} with fraud v{version}:")
    console.print(table)
    return last_decision


def _audit(s: Services, decision_id: str) -> None:
    _step("8. Audit: which model made this decision, and would it decide the same again?")
    (record,) = s.decisions.find(decision_id=decision_id)
    at = record.ts[:16].replace("T", " ")
    around = s.decisions.find(at=at, window="5m")
    console.print(
        f'`bankml audit decisions --at "{at}" --window 5m` → {len(around)} '
        f"decision(s); {decision_id[:8]} was made by {record.model_name} "
        f"v{record.model_version}: {record.output['decision']} ({record.output['score']:.4f})"
    )
    result = s.decisions.replay(decision_id)
    verdict = "[green]identical[/]" if result.identical else "[red]different[/]"
    console.print(
        f"`bankml audit replay {decision_id[:8]}…` → {verdict}: recomputed with exactly "
        f"{result.model_name} v{result.model_version} from the registry in {result.seconds:.2f}s"
    )


def _policy(s: Services, bank: Path) -> None:
    from bankml.cli.policy import demo_step

    _step("10. Policy assistant: permitted answers, citations, abstention, injection guard")
    demo_step(s, bank, console)


def _ledger(s: Services) -> None:
    _step("11. The tamper-evident decision ledger")
    report = s.ledger.verify()
    console.print(
        f"verify: {'[green]OK[/]' if report.ok else '[red]BROKEN[/]'} - "
        f"{report.entries:,} entries, head #{report.head_seq} {report.head_hash[:16]}..."
    )
    if not s.db.is_sqlite:
        return
    # Show tamper detection on a scratch copy; the real ledger is never touched.
    from bankml.core.storage import Database
    from bankml.governance.ledger import DecisionLedger

    src = Path(s.db.engine.url.database or "")
    scratch = src.with_name("tamper-demo.db")
    with s.db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
    shutil.copyfile(src, scratch)
    copy = Database(f"sqlite:///{scratch}")
    try:
        with copy.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 2")
        broken = DecisionLedger(copy).verify()
        console.print(
            f"after changing the actor of entry #2 in a copy: verify says "
            f"[red]{broken.problem}[/] (first bad entry #{broken.first_bad_seq})"
        )
    finally:
        copy.dispose()
        scratch.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{scratch}{suffix}").unlink(missing_ok=True)
    console.print("read it with `bankml audit log`; check it with `bankml audit verify`")
