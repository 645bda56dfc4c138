"""Rich rendering of governance results for the CLI (no logic: the gates decided already)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bankml.governance.gates import ValidationReport

__all__ = ["format_value", "print_validation"]

_STATUS_STYLE = {"PASS": "[green]PASS[/]", "FAIL": "[bold red]FAIL[/]", "n/a": "[dim]n/a[/]"}


def format_value(value: Any) -> str:
    """A measured value or limit as a short string (4 significant digits for floats)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def print_validation(report: ValidationReport, console: Console) -> None:
    """One row per gate (result, measured, limit, detail), then the verdict in one line."""
    table = Table(
        "gate",
        "result",
        "measured",
        "limit",
        "detail",
        title=f"validation of {report.model_name} v{report.version}",
        caption=f"policy sha256 {report.policy_sha256[:16]}… · {report.ran_by} · {report.ran_at}",
    )
    for r in report.results:
        table.add_row(
            escape(r.name),
            _STATUS_STYLE[r.status],
            escape(format_value(r.measured)),
            escape(format_value(r.limit)),
            escape(r.detail),
        )
    console.print(table)
    if report.passed:
        console.print(f"[green]{report.model_name} v{report.version} passed every gate[/]")
    else:
        failed = ", ".join(r.name for r in report.failed)
        console.print(
            f"[bold red]{report.model_name} v{report.version} failed {len(report.failed)} "
            f"gate(s): {escape(failed)}[/]; it cannot be approved"
        )
