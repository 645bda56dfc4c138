"""The credit part of `bankml demo`: train, validate, approve, promote, decide, notify.

``credit_demo(services, workdir)`` is called by the demo (and can run on its own): it
generates an application book, trains the PD model, takes it through the gates and
maker-checker approval, decides sample applicants, prints one adverse-action notice, the
fairness table, settles a referral and replays a decision. It calls services only.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

from rich.panel import Panel
from rich.table import Table

from bankml.app import Services
from bankml.cli._common import console
from bankml.cli.credit import print_decisions, print_training
from bankml.core.errors import BankmlError, ConflictError
from bankml.core.identity import Role

__all__ = ["credit_demo"]

# A book large enough for the credit gates' outcomes analysis (>= 50 test defaults).
DEMO_APPLICATIONS = 8_000
DEMO_SAMPLE = 12
_USERS = [
    ("maria", Role.MODEL_DEVELOPER),
    ("victor", Role.VALIDATOR),
    ("carl", Role.CREDIT_OFFICER),
    ("ada", Role.ADMIN),
]


def credit_demo(s: Services, workdir: Path, *, seed: int = 7, step: str = "Credit") -> bool:
    """Run the credit tour; returns False when a gate failed (nothing is then served)."""
    from bankml.cli._governance_render import print_validation
    from bankml.credit.config import default_config
    from bankml.credit.service import applications_from_frame, train_and_register
    from bankml.credit.training import GENERATED_MAPPING, read_generated
    from bankml.data.generator import generate_bank

    for name, role in _USERS:
        with contextlib.suppress(ConflictError):  # re-runnable: users stay
            s.users.add(name, role)
    maria, victor, carl, ada = (s.users.get(n) for n, _ in _USERS)

    console.rule(f"[bold]{step}: a PD model with reason codes, fairness and recourse")
    bank = workdir / "credit-bank"
    generate_bank(
        bank, customers=DEMO_APPLICATIONS // 2, days=1, seed=seed, applications=DEMO_APPLICATIONS
    )
    frame, paths = read_generated(bank)
    console.print(
        f"{len(frame):,} applications with a 12-month outcome; sex and age sit in a separate "
        "table and never reach the model"
    )
    run = workdir / "credit-runs" / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    outcome = train_and_register(
        (frame, paths),
        GENERATED_MAPPING,
        default_config(),
        registry=s.registry,
        ledger=s.ledger,
        actor=maria.name,
        out_dir=run,
        cv=3,
    )
    assert outcome.version is not None
    version = outcome.version.version
    print_training(outcome.summary())

    pinned = s.lifecycle.install_policy("credit", s.settings.policy_dir / "credit.toml", ada)
    console.print(f"ada (admin) pins the official credit gate policy {pinned.sha256[:12]}…")
    s.governance.submit("credit", version, maria)
    report, _ = s.lifecycle.validate("credit", version, victor)
    print_validation(report, console)
    try:
        s.lifecycle.approve("credit", version, maria, "looks good to me")
    except BankmlError as exc:
        console.print(f"maria tries to approve her own model → [red]refused[/]: {exc.message}")
    if not report.passed:
        console.print("[red]a credit gate failed, so the model cannot be approved or served[/]")
        return False
    s.lifecycle.approve("credit", version, victor, "gates pass, fairness and reasons reviewed")
    console.print(f"victor (validator) approves credit v{version}")
    s.governance.promote("credit", version, ada, "go-live after approval")
    console.print(f"ada (admin) promotes credit v{version} → champion")

    served = s.credit.served
    sample = applications_from_frame(frame.tail(DEMO_SAMPLE), served.feature_names)
    results = [s.credit.decide(a, carl) for a in sample]
    print_decisions(results)
    declined = next((r for r in results if r["decision"] == "decline"), None)
    if declined is not None:
        notice = s.credit.notice(declined["decision_id"], carl)
        console.print(
            Panel(notice.text.strip(), title="adverse-action notice (plain text; HTML too)")
        )
        rec = declined["recourse"] or {}
        console.print(f"recourse for this applicant: {rec.get('status')} {rec.get('changes')}")
        result = s.decisions.replay(declined["decision_id"])
        console.print(
            f"auditor replays decision {declined['decision_id']} with credit v{version}: "
            + ("[green]identical[/]" if result.identical else f"[red]{result.differences}[/]")
        )
    open_refs = s.credit.referrals.referrals("open")
    if open_refs:
        ref = s.credit.referrals.decide(
            open_refs[0].referral_id, "approve", carl, "verified income with payslips"
        )
        console.print(
            f"carl (credit officer) decides referral {ref.referral_id}: {ref.outcome} "
            f"(ledger #{ref.ledger_seq}); {len(open_refs) - 1} referral(s) still open"
        )
    table = Table("decision", "count")
    for d in ("approve", "refer", "decline"):
        table.add_row(d, str(sum(r["decision"] == d for r in results)))
    console.print(table)
    return True
