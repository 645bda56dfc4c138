"""`bankml audit`: verify the ledger and read it."""

from __future__ import annotations

import typer
from rich.progress import Progress
from rich.table import Table

from bankml.cli._common import console, err_console, open_services, print_json

app = typer.Typer(help="Check and read the tamper-evident decision ledger.", no_args_is_help=True)


@app.command("verify")
def verify(
    expect_head: str = typer.Option(
        None, "--expect-head", help="A head hash recorded earlier; it must still be in the chain."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Walk the whole hash chain; exit 1 and name the first bad entry if anything changed.

    Record the printed head hash somewhere outside the database (a ticket, a WORM bucket)
    and pass it back with --expect-head to catch a rewrite of the whole ledger.
    """
    with open_services() as s, Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("verifying ledger", total=None)
        report = s.ledger.verify(
            expect_head=expect_head,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        print_json(report.__dict__)
    elif report.ok:
        console.print(
            f"[green]ledger OK[/]: {report.entries:,} entries, head #{report.head_seq} "
            f"{report.head_hash}"
        )
    else:
        console.print(
            f"[bold red]ledger BROKEN[/] at entry #{report.first_bad_seq}: "
            f"{report.problem} ({report.entries:,} entries verified before it)"
        )
    if not report.ok:
        raise typer.Exit(1)


@app.command("log")
def show_log(
    kind: str = typer.Option(None, "--kind", help="Only entries of this kind, e.g. data.checked."),
    limit: int = typer.Option(20, "--limit", min=1, help="How many of the newest entries."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the newest ledger entries."""
    with open_services() as s:
        entries = s.ledger.entries(kind=kind, limit=limit, newest_first=True)[::-1]
    if as_json:
        print_json([e.to_dict() for e in entries])
        return
    table = Table("#", "time (UTC)", "kind", "actor", "subject", "hash", title="decision ledger")
    for e in entries:
        table.add_row(str(e.seq), e.ts[:19], e.kind, e.actor, e.subject, e.hash[:12])
    console.print(table)
