"""`bankml monitor`: compute a day of monitoring for every champion, write the HTML report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from bankml.cli._common import acting_user, console, open_services, print_json
from bankml.core.errors import InputError

app = typer.Typer(
    help="Monitoring: drift, live data quality, performance, alerts.", no_args_is_help=True
)


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--date must be a date like 2026-03-01, not {text!r}") from None


def _fmt(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.3g}"


@app.command("run")
def run_cmd(
    day: str = typer.Option(..., "--date", "-d", help="Day to monitor, YYYY-MM-DD (UTC)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Monitor one day for every champion of every kind; breaches become ledger alerts.

    Acts as the CLI's authenticated user (an admin, or the scheduler's service account).
    """
    from bankml.core.roles import Role

    when = _parse_day(day)
    with open_services() as s:
        user = acting_user(s)
        user.require(Role.ADMIN, Role.SERVICE)
        results = s.monitoring.run_day(when, actor=user.name)
    if as_json:
        print_json([r.to_dict() for r in results])
        return
    if not results:
        console.print("nothing to monitor: no champion and no decisions that day")
        return
    table = Table(title=f"Monitoring {when}")
    for col in ("model", "rows", "drifting", "score PSI", "max missing jump", "alerts"):
        table.add_column(col)
    for r in results:
        m = r.metrics
        table.add_row(
            f"{r.kind} v{r.version}",
            str(r.rows),
            _fmt(m.get("drift.share_drifted")),
            _fmt(m.get("drift.score_psi")),
            _fmt(m.get("quality.max_missing_jump")),
            str(len(r.alerts)),
        )
    console.print(table)
    for r in results:
        for a in r.alerts:
            console.print(f"[bold]alert[/] {escape(a.message)}")


@app.command("report")
def report_cmd(
    out: Path = typer.Option(
        Path("monitoring-report.html"), "--out", "-o", help="Where to write the HTML report."
    ),
    metrics: str = typer.Option(
        None,
        "--metrics",
        help="A Prometheus scrape (file, or http:// URL of /metrics) for latency.",
    ),
) -> None:
    """Write the monitoring report (self-contained HTML, works offline)."""
    from bankml.monitoring.report import latency_from_prometheus, render_report

    latency = None
    if metrics:
        latency = latency_from_prometheus(_read_metrics(metrics))
    with open_services() as s:
        acting_user(s)  # any authenticated user may read the figures
        path = render_report(out, s.monitoring.days(), s.monitoring.alerts(), latency=latency)
    console.print(f"report: {escape(str(path))}")


def _read_metrics(source: str) -> str:
    if source.startswith(("http://", "https://")):
        import httpx

        try:
            response = httpx.get(source, timeout=5.0)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise InputError(f"cannot read metrics from {source}: {type(exc).__name__}") from None
        return response.text
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read metrics file {source}: {exc.strerror}") from None
