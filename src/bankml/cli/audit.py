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
        missing = s.decisions.unknown_model_versions()
        # Governed state must be provable: every transition, champion change and policy pin
        # has to match its ledger entry (a row written straight into the tables does not).
        problems = [str(p) for p in s.proof.cross_check()]
    if as_json:
        print_json(
            {
                **report.__dict__,
                "ok": report.ok and not problems,
                "chain_ok": report.ok,
                "governance_problems": problems,
                "decisions_with_unknown_model": missing,
            }
        )
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
    if missing and not as_json:
        name, version, seq = missing[0]
        console.print(
            f"[bold red]{len(missing)} decision(s) name a model version the registry "
            f"does not have[/], first: entry #{seq} names {name} v{version}"
        )
    if problems and not as_json:
        console.print(
            f"[bold red]{len(problems)} governance row(s) without a matching ledger entry[/]:"
        )
        for p in problems:
            console.print(f"  - {p}")
    if not report.ok or missing or problems:
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


@app.command("decisions")
def decisions(
    at: str = typer.Option(
        None,
        "--at",
        help="Time, e.g. '2026-11-24 14:03' (UTC unless an offset like +01:00 is given).",
    ),
    window: str = typer.Option("5m", "--window", help="Either side of --at: 30s, 5m, 2h, 1d."),
    customer: str = typer.Option(
        None,
        "--customer",
        help="Customer id (tokenized before searching; the ledger holds only tokens).",
    ),
    decision: str = typer.Option(None, "--decision", help="A decision id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Which model made which decision when: id, time, model version, inputs (tokenized),
    output and explanation.

    Example: bankml audit decisions --at "2026-11-24 14:03" --window 5m
    """
    with open_services() as s:
        found = s.decisions.find(at=at, window=window, decision_id=decision, customer=customer)
    if as_json:
        print_json([r.to_dict() for r in found])
        return
    table = Table(
        "decision",
        "time (UTC)",
        "model",
        "output",
        "top reasons",
        title=f"{len(found)} decision(s)",
    )
    for r in found:
        out = f"{r.output.get('decision')} ({r.output.get('score', 0):.4f})"
        reasons = "; ".join(r.explanation.get("reasons", [])[:2])
        table.add_row(r.decision_id, r.ts[:23], f"{r.model_name} v{r.model_version}", out, reasons)
    console.print(table)


@app.command("replay")
def replay_cmd(
    decision_id: str = typer.Argument(..., help="The decision to recompute."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Recompute a decision with exactly the model version that made it, from the logged
    inputs; report `identical` or the differences. Exit 1 when it differs."""
    with open_services() as s:
        result = s.decisions.replay(decision_id)
    if as_json:
        print_json(result.to_dict())
    elif result.identical:
        console.print(
            f"[green]identical[/]: decision {result.decision_id} replayed with "
            f"{result.model_name} v{result.model_version} in {result.seconds:.2f}s "
            f"(score {result.replayed['score']!r}, {result.replayed['decision']})"
        )
    else:
        console.print(
            f"[bold red]different[/]: decision {result.decision_id} with "
            f"{result.model_name} v{result.model_version}"
        )
        for d in result.differences:
            console.print(f"  - {d}")
    if not result.identical:
        raise typer.Exit(1)
