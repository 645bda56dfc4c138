"""`bankml credit`: train, decide applications, print notices, work the referral queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from bankml.cli._common import acting_user, console, open_services, print_json
from bankml.core.errors import InputError

app = typer.Typer(
    help="Credit decisions: calibrated PD, reason codes, recourse, notices, referrals.",
    no_args_is_help=True,
)


@app.command("train")
def train_cmd(
    data: Path = typer.Option(
        None, "--data", help="A generated bank directory (credit_applications + credit_protected)."
    ),
    applications: Path = typer.Option(
        None, "--applications", help="Your applications file (.csv or .parquet); needs --mapping."
    ),
    mapping: Path = typer.Option(
        None,
        "--mapping",
        help="TOML naming target, features, monotone, protected (docs/credit.md).",
    ),
    config: Path = typer.Option(
        None, "--config", help="Credit settings TOML (default: the shipped credit.toml)."
    ),
    catalogue: Path = typer.Option(
        None, "--reason-codes", help="Reason-code catalogue TOML (default: the shipped one)."
    ),
    cv: int = typer.Option(None, "--cv", help="Also report stratified K-fold ROC-AUC on the file."),
    out: Path = typer.Option(None, "--out", help="Run directory (default: home/credit/runs/TIME)."),
    register: bool = typer.Option(
        True, "--register/--no-register", help="Register the model as a new version in MLflow."
    ),
    user: str | None = typer.Option(
        None, "--user", "-u", help="Optional check: refuse unless your API key is this user's."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object to stdout."),
) -> None:
    """Train the credit PD model (monotone LightGBM + calibration), measure it and its
    fairness, and register it.

    Example: bankml credit train --applications loans.csv --mapping mapping.toml --cv 5 --json
    """
    from bankml.core.identity import Role
    from bankml.credit.config import default_config, load_catalogue, load_config
    from bankml.credit.service import train_and_register
    from bankml.credit.training import (
        GENERATED_MAPPING,
        load_mapping,
        read_applications,
        read_generated,
    )

    if (data is None) == (applications is None):
        raise InputError("give either --data DIR (a generated bank) or --applications FILE")
    if applications is not None and mapping is None:
        raise InputError("--applications needs --mapping mapping.toml naming your columns")
    if cv is not None and cv < 2:
        raise InputError("--cv needs at least 2 folds")
    settings = load_config(config) if config else default_config()
    codes = load_catalogue(catalogue) if catalogue else None
    if applications is not None:
        column_mapping = load_mapping(mapping)
        settings = settings.with_features(
            column_mapping.numeric,
            column_mapping.categorical,
            column_mapping.monotone,
            column_mapping.protected,
        )
        source = (read_applications(applications), [applications])
    else:
        column_mapping = GENERATED_MAPPING
        source = read_generated(data)
    with open_services() as s:
        maker = acting_user(s, user)
        if register:
            # The maker is whoever trained: authenticated, and barred from validating or
            # approving this version later (maker-checker).
            maker.require(Role.MODEL_DEVELOPER, Role.ADMIN)
        run_dir = out or s.settings.home / "credit" / "runs" / datetime.now(UTC).strftime(
            "%Y%m%dT%H%M%S%f"
        )
        outcome = train_and_register(
            source,
            column_mapping,
            settings,
            registry=s.registry if register else None,
            ledger=s.ledger,
            actor=maker.name,
            out_dir=run_dir,
            cv=cv,
            catalogue=codes,
        )
    summary = outcome.summary()
    if as_json:
        print_json(summary)
        return
    print_training(summary)


def print_training(summary: dict[str, Any]) -> None:
    """Metrics and the fairness table of a training run, as tables."""
    t = summary["test"]
    table = Table("metric", "held-out test", title=f"credit model v{summary['version'] or '-'}")
    for label, value in [
        ("ROC-AUC / Gini", f"{t['roc_auc']:.4f} / {t['gini']:.4f}"),
        ("Brier / ECE", f"{t['brier']:.5f} / {t['ece']:.5f}"),
        (
            "approve / refer / decline",
            (f"{t['approval_rate']:.1%} / {t['refer_rate']:.1%} / {t['decline_rate']:.1%}"),
        ),
        (
            "default rate (all / approved)",
            (
                f"{t['default_rate']:.2%} / "
                + (
                    "-"
                    if t["default_rate_approved"] is None
                    else f"{t['default_rate_approved']:.2%}"
                )
            ),
        ),
        ("monotonicity violations", str(t["monotonicity_violations"])),
    ]:
        table.add_row(label, value)
    if summary.get("cv"):
        cv = summary["cv"]
        table.add_row(
            f"CV ROC-AUC ({cv['folds']} folds)",
            f"{cv['roc_auc_mean']:.4f} ± {cv['roc_auc_std']:.4f}",
        )
    console.print(table)
    print_fairness(summary["fairness"])


def print_fairness(fairness: dict[str, Any]) -> None:
    """The fairness table: approval, TPR, FPR, PD calibration per protected group."""
    from bankml.credit.fairness import summary_rows

    table = Table(
        "attribute",
        "group",
        "n",
        "approval",
        "TPR",
        "FPR",
        "mean PD",
        "default rate",
        title="fairness by protected group (favourable outcome: approve)",
    )
    for r in summary_rows(fairness):
        table.add_row(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            *("-" if v is None else f"{v:.1%}" for v in r[3:]),
        )
    console.print(table)
    for attr, m in fairness.get("attributes", {}).items():
        console.print(
            f"{attr}: approval-rate ratio {m['approval_rate_ratio']:.3f} (four-fifths: >= 0.8), "
            f"equal-opportunity difference {m['equal_opportunity_difference']:.3f}"
        )


def _load_applications(path: Path) -> list[Any]:
    from bankml.credit.decision import Application

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("features"), dict):
            raise InputError(f"{path}: application {i} needs a `features` object")
        age = item.get("applicant_age")
        if age is not None and (isinstance(age, bool) or not isinstance(age, int)):
            raise InputError(f"{path}: application {i}: applicant_age must be a whole number")
        out.append(
            Application(
                application_id=str(item.get("application_id", i)),
                customer_id=str(item.get("customer_id", "")),
                values=item["features"],
                applicant_age=age,
                explain_approval=bool(item.get("explain_approval", False)),
            )
        )
    return out


@app.command("decide")
def decide_cmd(
    file: Path = typer.Option(
        ...,
        "--file",
        "-f",
        help="JSON: an application or a list ({application_id, "
        "customer_id, applicant_age, features}).",
    ),
    user: str | None = typer.Option(
        None, "--user", "-u", help="Optional check: refuse unless your API key is this user's."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Decide applications with the champion credit model; each decision is ledgered."""
    apps = _load_applications(file)
    with open_services() as s:
        actor = acting_user(s, user)
        results = [s.credit.decide(a, actor) for a in apps]
    if as_json:
        print_json(results)
        return
    print_decisions(results)


def print_decisions(results: list[dict[str, Any]]) -> None:
    """One row per decision: outcome, PD, score, principal reasons."""
    table = Table("application", "decision", "PD", "score", "principal reasons", "decision id")
    for r in results:
        table.add_row(
            r["application_id"],
            r["decision"],
            f"{r['pd']:.3f}",
            f"{r['score']:.0f}",
            "; ".join(f"{x['code']} {x['text']}" for x in r["reasons"]) or "-",
            r["decision_id"],
        )
    console.print(table)


@app.command("notice")
def notice_cmd(
    decision_id: str = typer.Argument(..., help="The decision id of a declined application."),
    user: str | None = typer.Option(
        None, "--user", "-u", help="Optional check: refuse unless your API key is this user's."
    ),
    html: Path = typer.Option(None, "--html", help="Also write the HTML letter to this file."),
) -> None:
    """Print the adverse-action notice of a declined application."""
    from bankml.core.files import atomic_write_text

    with open_services() as s:
        n = s.credit.notice(decision_id, acting_user(s, user))
    if html is not None:
        atomic_write_text(html, n.html)
    console.print(n.text, markup=False, highlight=False)


@app.command("queue")
def queue_cmd(
    status: str = typer.Option(None, "--status", help="open or decided (default: all)."),
    user: str | None = typer.Option(
        None, "--user", "-u", help="Optional check: refuse unless your API key is this user's."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The credit officers' referral queue."""
    from bankml.core.identity import Role

    with open_services() as s:
        acting_user(s, user).require(Role.CREDIT_OFFICER, Role.ADMIN, Role.AUDITOR)
        items = [r.to_dict() for r in s.credit.referrals.referrals(status)]
    if as_json:
        print_json(items)
        return
    table = Table("referral", "application", "PD", "score", "status", "outcome", "reasons")
    for r in items:
        table.add_row(
            r["referral_id"],
            r["application_id"],
            f"{r['pd']:.3f}",
            f"{r['score']:.0f}",
            r["status"],
            r["outcome"] or "-",
            "; ".join(x["code"] for x in r["reasons"]),
        )
    console.print(table)


@app.command("refer-decide")
def refer_decide_cmd(
    referral_id: str = typer.Argument(..., help="The referral to decide."),
    outcome: str = typer.Option(..., "--outcome", help="approve or decline."),
    user: str | None = typer.Option(
        None, "--user", "-u", help="Optional check: refuse unless your API key is this user's."
    ),
    note: str = typer.Option("", "--note", help="Why (kept with the referral, not the ledger)."),
) -> None:
    """Record a credit officer's outcome for a referral (ledgered)."""
    with open_services() as s:
        r = s.credit.referrals.decide(referral_id, outcome, acting_user(s, user), note)
    console.print(f"referral {r.referral_id}: {r.outcome} by {r.officer}")


@app.command("demo")
def demo_cmd(
    seed: int = typer.Option(7, "--seed", help="Random seed."),
) -> None:
    """The credit tour on its own: train, validate, approve, promote, decide, notify."""
    from bankml.cli.demo_credit import credit_demo

    with open_services() as s:
        ok = credit_demo(s, s.settings.home / "demo", seed=seed)
    if not ok:
        raise typer.Exit(1)
