"""`bankml audit`: verify the ledger and read it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import Progress
from rich.table import Table

from bankml.cli._common import acting_user, console, err_console, open_services, print_json
from bankml.core.files import atomic_write_text

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

app = typer.Typer(help="Check and read the tamper-evident decision ledger.", no_args_is_help=True)


@app.command("verify")
def verify(
    expect_head: str = typer.Option(
        None, "--expect-head", help="A head hash recorded earlier; it must still be in the chain."
    ),
    public_key: Path = typer.Option(
        None,
        "--public-key",
        help="The checkpoint signer's public key (default: derived from BANKML_ANCHOR_KEY_FILE).",
    ),
    workers: int = typer.Option(
        None,
        "--workers",
        min=1,
        max=64,
        help="Processes that re-hash the chain in parallel, each over its own range of entries "
        "(ledgers of 50,000 entries or more; default: BANKML_VERIFY_WORKERS, else one per CPU, "
        "at most 4; 1: one process).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Walk the whole hash chain; exit 1 and name the first bad entry if anything changed.

    With BANKML_ANCHOR_DIR set, the chain must also run through every signed checkpoint
    there: a rewrite, truncation or wipe before the newest checkpoint fails, and entries
    after it are reported as not yet anchored. Large ledgers are re-hashed by several
    processes at once (--workers); the verdict is the same as one walk's.
    """
    with open_services() as s, Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("verifying ledger", total=None)
        report = s.verify_ledger(
            expect_head=expect_head,
            public_key=public_key,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            workers=workers,
        )
        anchoring = s.settings.anchor_dir is not None
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
        if report.anchored_seq is not None:
            console.print(
                f"anchored up to #{report.anchored_seq} by a signed checkpoint; "
                f"{report.unanchored:,} entries not yet anchored"
            )
        elif anchoring:
            console.print("[yellow]no signed checkpoint yet[/]: run bankml audit checkpoint")
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


def _public_key(path: Path) -> Ed25519PublicKey:
    from bankml.governance.anchor import load_public_key

    return load_public_key(path)


@app.command("anchor-key")
def anchor_key(
    key_file: Path = typer.Option(
        None, "--key-file", help="Where to create it (default: BANKML_ANCHOR_KEY_FILE)."
    ),
) -> None:
    """Create the Ed25519 key that signs ledger checkpoints (admin; once per installation).

    The private key is written with mode 0600 and never overwritten; keep it off the database
    host if you can. Give the public key (KEY.pub) or its fingerprint to the auditors.
    """
    from bankml.core.errors import ConfigError
    from bankml.core.roles import Role
    from bankml.governance.anchor import create_anchor_key

    with open_services() as s:
        acting_user(s).require(Role.ADMIN)
        path = key_file or s.settings.anchor_key_file
    if path is None:
        raise ConfigError("set BANKML_ANCHOR_KEY_FILE (or pass --key-file) to create the key")
    pub, fingerprint = create_anchor_key(path)
    console.print(f"created {path} (mode 0600); public key {pub}")
    console.print(f"fingerprint {fingerprint}")


@app.command("checkpoint")
def checkpoint(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Sign a checkpoint of the ledger head now and append it to BANKML_ANCHOR_DIR (an admin
    or auditor; the service also signs them on a schedule)."""
    from bankml.core.roles import Role

    with open_services() as s:
        acting_user(s).require(Role.ADMIN, Role.AUDITOR)
        cp, written = s.anchor.checkpoint()
    if as_json:
        print_json({**cp.to_dict(), "written": written})
        return
    what = "signed checkpoint" if written else "already anchored: checkpoint"
    console.print(
        f"[green]{what}[/] #{cp.seq} head {cp.head_hash} merkle root {cp.merkle_root} at {cp.time}"
    )


@app.command("receipt")
def receipt(
    ident: str = typer.Argument(..., help="A ledger sequence number (#123) or a decision id."),
    out: Path = typer.Option(None, "--out", help="Write the receipt to this file."),
) -> None:
    """A self-contained proof of one ledger entry (Merkle inclusion proof to a signed
    checkpoint); an auditor checks it offline with `bankml audit verify-receipt`."""
    from bankml.core.errors import NotFoundError

    with open_services() as s:
        raw = ident.removeprefix("#")
        if raw.isdigit():
            seq = int(raw)
        else:
            found = s.ledger.entries(subject=f"decision:{ident}", limit=1)
            if not found:
                raise NotFoundError(f"no ledger entry for decision {ident}")
            seq = found[0].seq
        proof = s.anchor.receipt(seq)
    text = json.dumps(proof, indent=2, sort_keys=True) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    atomic_write_text(out, text)
    console.print(f"receipt for entry #{seq} (checkpoint #{proof['tree_size']}) written to {out}")


@app.command("verify-receipt")
def verify_receipt_cmd(
    file: Path = typer.Argument(..., help="A receipt written by `bankml audit receipt`."),
    public_key: Path = typer.Option(..., "--public-key", help="The signer's public key (PEM)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check a receipt offline (no database): entry hash, inclusion proof, signature."""
    from bankml.core.errors import InputError
    from bankml.governance.anchor import verify_receipt

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(f"{file} is not a JSON receipt") from None
    if not isinstance(data, dict):
        raise InputError(f"{file} is not a JSON receipt")
    check = verify_receipt(data, _public_key(public_key))
    if as_json:
        print_json(check.__dict__)
    elif check.ok:
        console.print(
            f"[green]receipt OK[/]: entry #{check.seq} is in the ledger signed at checkpoint "
            f"#{check.checkpoint_seq}"
        )
    else:
        console.print(f"[bold red]receipt INVALID[/]: {check.problem}")
    if not check.ok:
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
    decision: str = typer.Option(
        None, "--decision", help="A decision id (a unique prefix of 8+ characters)."
    ),
    transaction: str = typer.Option(None, "--transaction", help="A transaction id."),
    alert: str = typer.Option(
        None, "--alert", help="The alert a decision raised (a unique prefix of 8+ characters)."
    ),
    model: str = typer.Option(None, "--model", help="Model name, e.g. fraud."),
    version: int = typer.Option(None, "--version", help="Model version."),
    outcome: str = typer.Option(
        None,
        "--outcome",
        help="The decision made: review or pass (fraud); approve, refer or decline (credit).",
    ),
    limit: int = typer.Option(50, "--limit", help="At most this many (1-1000)."),
    offset: int = typer.Option(0, "--offset", help="Skip this many (the next page)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Which model made which decision when: id, time, model version, inputs (tokenized),
    output and explanation. Filters combine; newest first, one page of --limit.

    Example: bankml audit decisions --at "2026-11-24 14:03" --window 5m
    """
    with open_services() as s:
        found = s.decisions.find(
            at=at,
            window=window,
            decision_id=decision,
            customer=customer,
            transaction_id=transaction,
            alert_id=alert,
            model=model,
            version=version,
            decision=outcome,
            limit=limit,
            offset=offset,
        )
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
    decision_id: str = typer.Argument(
        ..., help="The decision to recompute (a unique prefix of 8+ characters)."
    ),
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
