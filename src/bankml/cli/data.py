"""`bankml data`: generate a synthetic bank, check tables before anyone trains on them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from bankml.cli._common import console, open_services, print_json, progress_callback
from bankml.core.errors import InputError

# Generating and checking files changes no governed state; the ledger records that no
# credential was involved rather than a name nobody proved.
UNAUTHENTICATED = "unauthenticated-cli"

if TYPE_CHECKING:
    from bankml.data.quality import QualityReport

app = typer.Typer(help="Synthetic bank data and data-quality checks.", no_args_is_help=True)

_SEVERITY_STYLE = {"blocking": "bold red", "warning": "yellow"}


@app.command("generate")
def generate(
    out: Path = typer.Option(..., "--out", "-o", help="Directory to write the Parquet files to."),
    customers: int = typer.Option(2_000, "--customers", min=1, help="Number of customers."),
    days: int = typer.Option(90, "--days", min=1, help="Days of card transactions."),
    seed: int = typer.Option(7, "--seed", help="Random seed; the same seed gives identical files."),
    start: str = typer.Option("2026-01-01", "--start", help="First day (YYYY-MM-DD)."),
    fraud_rate: float = typer.Option(0.006, "--fraud-rate", help="Share of fraudulent txns."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
) -> None:
    """Generate a synthetic bank: customers, cards, terminals, transactions with labelled
    fraud scenarios, credit applications, protected attributes and policy documents.

    Example: bankml data generate --customers 5000 --days 120 --seed 1 --out data/bank
    """
    from bankml.data.generator import generate_bank

    try:
        first_day = date.fromisoformat(start)
    except ValueError:
        raise InputError(f"--start must be a date like 2026-01-01, not {start!r}") from None
    with progress_callback(not as_json) as progress:
        manifest = generate_bank(
            out,
            customers=customers,
            days=days,
            seed=seed,
            start=first_day,
            fraud_rate=fraud_rate,
            progress=progress,
        )
    with open_services() as s:
        s.ledger.append(
            "data.generated",
            UNAUTHENTICATED,
            f"dataset:{out.name}",
            {
                "seed": seed,
                "row_counts": manifest.row_counts,
                "files": manifest.files,
            },
        )
    if as_json:
        print_json(manifest.__dict__)
        return
    table = Table("table", "rows", title=f"synthetic bank in {out}")
    for name, rows in sorted(manifest.row_counts.items()):
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(
        f"realised fraud rate {manifest.fraud_rate:.3%}; manifest: {out / 'manifest.json'}"
    )


@app.command("schemas")
def schemas() -> None:
    """List the built-in table schemas `data check --schema` knows."""
    from bankml.data.schemas import list_schemas, load_schema

    table = Table("schema", "columns", "label", "event time")
    for name in list_schemas():
        sch = load_schema(name)
        table.add_row(name, str(len(sch.columns)), sch.label or "-", sch.event_time or "-")
    console.print(table)


@app.command("check")
def check(
    path: Path = typer.Argument(..., help="A Parquet or CSV file."),
    schema: str = typer.Option(
        ..., "--schema", "-s", help="Built-in schema name (see `data schemas`) or a YAML/TOML file."
    ),
    reference: Path = typer.Option(
        None, "--reference", help="Earlier file of the same table, to report schema drift against."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    html: Path = typer.Option(None, "--html", help="Also write an HTML report here."),
) -> None:
    """Check a table against its schema: types, nulls and their pattern, ranges, enums,
    duplicates, timestamps, drift against a reference, and label leakage.

    Exit status: 0 clean, 1 warnings only, 2 blocking problems (or unreadable input).
    """
    from bankml.data.quality import check_table
    from bankml.data.schemas import load_schema

    report = check_table(path, load_schema(schema), reference=reference)
    if html is not None:
        report.render_html(html)
    with open_services() as s:
        s.ledger.append(
            "data.checked",
            UNAUTHENTICATED,
            f"table:{path.name}",
            {
                "schema": report.schema_name,
                "rows": report.row_count,
                "status": report.status,
                "findings": [
                    {"check": f.check, "severity": f.severity, "column": f.column}
                    for f in report.findings
                ],
            },
        )
    if as_json:
        print_json(report.to_dict())
        raise typer.Exit(report.exit_code)
    _render_report(report)
    if html is not None:
        console.print(f"HTML report: {html}")
    raise typer.Exit(report.exit_code)


def _render_report(report: QualityReport) -> None:
    style = {"clean": "green", "warnings": "yellow", "blocking": "bold red"}[report.status]
    console.print(
        f"{report.path}: {report.row_count:,} rows, schema {report.schema_name} -> "
        f"[{style}]{report.status}[/]"
    )
    if not report.findings:
        return
    table = Table("severity", "check", "column", "finding")
    for f in sorted(report.findings, key=lambda f: (f.severity != "blocking", f.check)):
        table.add_row(
            f"[{_SEVERITY_STYLE[f.severity]}]{f.severity}[/]",
            f.check,
            escape(f.column or "-"),
            escape(f.message),
        )
    console.print(table)
