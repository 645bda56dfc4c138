"""`bankml demo`: the end-to-end tour on embedded defaults (SQLite, DuckDB, Parquet)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import typer
from rich.panel import Panel
from rich.table import Table

from bankml.app import Services
from bankml.cli._common import console, open_services, progress_callback
from bankml.core.errors import ConflictError
from bankml.core.identity import Role

DEMO_USERS: list[tuple[str, Role, frozenset[str]]] = [
    ("maria", Role.MODEL_DEVELOPER, frozenset({"model-risk"})),
    ("victor", Role.VALIDATOR, frozenset({"model-risk"})),
    ("fiona", Role.FRAUD_ANALYST, frozenset({"fraud-ops"})),
    ("carl", Role.CREDIT_OFFICER, frozenset({"credit-risk"})),
    ("cora", Role.COMPLIANCE_REVIEWER, frozenset({"compliance", "aml-investigations"})),
    ("audrey", Role.AUDITOR, frozenset({"audit"})),
    ("ada", Role.ADMIN, frozenset()),
]
_TABLES = ["customers", "cards", "terminals", "transactions", "credit_applications",
           "credit_protected"]


def demo(
    customers: int = typer.Option(1_500, "--customers", min=50, help="Size of the demo bank."),
    days: int = typer.Option(60, "--days", min=7, help="Days of transactions."),
    seed: int = typer.Option(7, "--seed", help="Random seed."),
) -> None:
    """Run the end-to-end tour: generate a bank, check it, set up users, record and verify
    the decision ledger, and show where everything is."""
    started = time.perf_counter()
    with open_services() as s:
        home = s.settings.home.resolve()
        console.print(Panel.fit(f"bankml demo: everything lives in [bold]{home}[/]\n"
                                f"app database: {s.db.safe_url}", title="bankml"))
        bank = _generate(s, home / "demo" / "bank", customers, days, seed)
        _check(s, bank)
        _users(s)
        _ledger(s)
    console.print(f"\n[green]demo finished[/] in {time.perf_counter() - started:.1f}s. "
                  "Next: `bankml data check --help`, `bankml audit log`, `bankml users list`.")


def _step(title: str) -> None:
    console.rule(f"[bold]{title}")


def _generate(s: Services, out: Path, customers: int, days: int, seed: int) -> Path:
    from bankml.data.generator import generate_bank

    _step("1. A synthetic bank")
    with progress_callback() as progress:
        manifest = generate_bank(out, customers=customers, days=days, seed=seed, progress=progress)
    s.ledger.append("data.generated", "demo", f"dataset:{out.name}",
                    {"seed": seed, "row_counts": manifest.row_counts, "files": manifest.files})
    table = Table("file", "rows", title=f"Parquet files in {out}")
    for name, rows in sorted(manifest.row_counts.items()):
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(f"fraud rate {manifest.fraud_rate:.2%}; "
                  f"{len(list((out / 'policies').glob('*.md')))} policy documents in "
                  f"{out / 'policies'}")
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
        s.ledger.append("data.checked", "demo", f"table:{name}",
                        {"status": report.status, "rows": report.row_count,
                         "findings": len(report.findings)})
        colour = {"clean": "green", "warnings": "yellow", "blocking": "red"}[report.status]
        table.add_row(name, f"{report.row_count:,}", f"[{colour}]{report.status}[/]",
                      "; ".join(f.message for f in report.findings[:2]) or "-")
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


def _ledger(s: Services) -> None:
    _step("4. The tamper-evident decision ledger")
    report = s.ledger.verify()
    console.print(f"verify: {'[green]OK[/]' if report.ok else '[red]BROKEN[/]'} - "
                  f"{report.entries:,} entries, head #{report.head_seq} {report.head_hash[:16]}...")
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
            conn.exec_driver_sql(
                "UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 2"
            )
        broken = DecisionLedger(copy).verify()
        console.print(f"after changing the actor of entry #2 in a copy: verify says "
                      f"[red]{broken.problem}[/] (first bad entry #{broken.first_bad_seq})")
    finally:
        copy.dispose()
        scratch.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{scratch}{suffix}").unlink(missing_ok=True)
    console.print("read it with `bankml audit log`; check it with `bankml audit verify`")
