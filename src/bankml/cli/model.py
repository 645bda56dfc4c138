"""`bankml model`: the model inventory, lineage, validation, maker-checker approvals, docs.

The CLI runs on the operator's machine, so ``--user`` names the person acting; their role
(from ``bankml users``) decides what they may do. The rules live in
``bankml.governance.approvals``; this face parses, calls and renders.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Column, Table

from bankml.cli._common import acting_user, console, open_services, print_json
from bankml.core.roles import User

if TYPE_CHECKING:
    from bankml.app import Services
    from bankml.governance.approvals import Transition
    from bankml.governance.registry import ModelVersionInfo

app = typer.Typer(
    help="Model inventory and lifecycle: list, show lineage, validate, submit, approve, "
    "reject, promote, roll back, document.",
    no_args_is_help=True,
)

# Metrics shown in `model list`, in this order, when the version has them (column labels).
_KEY_METRICS = {
    "roc_auc": "ROC-AUC",
    "average_precision": "avg prec",
    "card_precision_at_k": "card P@k",
    "ece": "ECE",
}
_LINEAGE_TAGS = (
    "data_sha256",
    "feature_definitions_sha256",
    "code_version",
    "artifact_sha256",
    "trained_by",
    "data_path",
)

_USER = typer.Option(
    None,
    "--user",
    "-u",
    help="Optional check: refuse unless your API key belongs to this user (`bankml whoami`).",
)
_JSON = typer.Option(False, "--json", help="Print JSON.")


def _created(info: ModelVersionInfo) -> str:
    if not info.created_at_ms:
        return ""
    when = datetime.fromtimestamp(info.created_at_ms / 1000, UTC)
    return when.strftime("%Y-%m-%d %H:%MZ")


def _no_models(s: Services) -> bool:
    """True when no MLflow store exists yet (so listing must not create or migrate one)."""
    return not s.registry.has_local_store()


@app.command("list")
def list_cmd(
    name: str = typer.Argument(None, help="Model name (default: every model)."),
    as_json: bool = _JSON,
) -> None:
    """List model versions with their lifecycle state, champion, key metrics and trainer."""
    from bankml.governance.approvals import check_model_name

    rows: list[dict[str, Any]] = []
    with open_services() as s:
        # bankml's own (possibly shared) database is the inventory: no MLflow import.
        records = s.governance.inventory(check_model_name(name) if name else None)
        if not records and not _no_models(s):
            # Versions registered in MLflow but never entered (an older release): enter them.
            infos = s.registry.versions(check_model_name(name) if name else None)
            for model in sorted({i.name for i in infos}):
                s.governance.versions(model)
            records = s.governance.inventory(check_model_name(name) if name else None)
        champions = {n: s.governance.champion(n) for n in {r.name for r in records}}
        for record in records:
            if record.metrics is None:  # recorded before metrics were kept: back-fill once
                metrics = s.registry.get(record.name, record.version).metrics
                s.governance.remember_metrics(record.name, record.version, metrics)
            else:
                metrics = record.metrics
            rows.append(
                {
                    "name": record.name,
                    "version": record.version,
                    "state": record.state.value,
                    "champion": record.version == champions[record.name],
                    "metrics": {k: metrics[k] for k in _KEY_METRICS if k in metrics},
                    "trained_by": record.trained_by,
                    "created": record.registered_at[:16].replace("T", " ") + "Z",
                }
            )
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(
            f"no versions of {name} are registered" if name else "no models are registered yet"
        )
        return
    table = Table(
        Column("version", no_wrap=True),
        Column("state", no_wrap=True),
        *_KEY_METRICS.values(),
        "trained by",
        Column("created", no_wrap=True),
    )
    for r in rows:
        marker = " ★" if r["champion"] else ""
        table.add_row(
            f"{r['name']} v{r['version']}{marker}",
            r["state"],
            *(f"{r['metrics'][k]:.3f}" if k in r["metrics"] else "-" for k in _KEY_METRICS),
            r["trained_by"],
            r["created"][:10],
        )
    console.print(table)
    if any(r["champion"] for r in rows):
        console.print("★ champion (bankml's record; MLflow's `champion` alias mirrors it)")


def _show_data(s: Services, name: str, version: int) -> dict[str, Any]:
    record = s.governance.record(name, version)  # NotFoundError says how to list versions
    info = s.registry.get(name, version)
    latest = s.governance.latest_validation(name, version)
    try:
        libraries = json.loads(info.tags.get("library_versions", "{}"))
    except ValueError:
        libraries = {"unparsed": info.tags.get("library_versions", "")}
    return {
        **record.to_dict(),
        "champion": s.governance.champion(name) == version,
        "created": _created(info),
        "run_id": info.run_id,
        "source": info.source,
        "lineage": {
            **{k: info.tags.get(k) for k in _LINEAGE_TAGS},
            "library_versions": libraries,
        },
        "params": info.params,
        "metrics": info.metrics,
        "mlflow_tags": {k: v for k, v in info.tags.items() if k.startswith("bankml.")},
        "latest_validation": latest.to_dict() if latest else None,
        "transitions": [t.to_dict() for t in s.governance.transitions(name, version)],
    }


@app.command("show")
def show_cmd(
    name: str = typer.Argument(..., help="Model name, e.g. fraud."),
    version: int = typer.Argument(..., help="Version number."),
    as_json: bool = _JSON,
) -> None:
    """Show one version's lineage (data, features, code, libraries, params, metrics,
    artefact hash), its state and every lifecycle transition."""
    with open_services() as s:
        data = _show_data(s, name, version)
    if as_json:
        print_json(data)
        return
    star = " ★ champion" if data["champion"] else ""
    console.print(f"[bold]{name} v{version}[/] — {data['state']}{star}")
    facts = Table("lineage", "value", show_header=False)
    facts.add_row("trained by", data["trained_by"])
    facts.add_row("submitted by", data["submitted_by"] or "-")
    facts.add_row("created", data["created"])
    facts.add_row("run id", data["run_id"])
    for key, value in data["lineage"].items():
        if key == "library_versions":
            value = ", ".join(f"{k} {v}" for k, v in sorted(value.items()))
        elif key == "trained_by":
            continue
        facts.add_row(key, str(value) if value else "-")
    console.print(facts)
    metrics = Table("metric", "value", title="metrics")
    for k, v in sorted(data["metrics"].items()):
        metrics.add_row(k, f"{v:.5g}")
    console.print(metrics)
    params = Table("parameter", "value", title="parameters")
    for k, v in sorted(data["params"].items()):
        params.add_row(k, v if len(v) <= 100 else v[:97] + "...")
    console.print(params)
    latest = data["latest_validation"]
    if latest:
        verdict = "[green]passed[/]" if latest["passed"] else "[red]failed[/]"
        console.print(
            f"latest validation #{latest['id']}: {verdict} ({latest['ran_at']} by "
            f"{latest['ran_by']}, policy {latest['policy_sha256'][:12]})"
        )
    else:
        console.print("not validated yet")
    _print_transitions(data["transitions"])


def _print_transitions(transitions: list[dict[str, Any]]) -> None:
    table = Table("at", "from", "to", "by", "rationale", "ledger", title="lifecycle")
    for t in transitions:
        table.add_row(
            t["at"],
            t["from_state"] or "-",
            t["to_state"],
            t["actor"],
            t["rationale"],
            f"#{t['ledger_seq']}",
        )
    console.print(table)


def _report(t: Transition, as_json: bool) -> None:
    if as_json:
        print_json(t.to_dict())
        return
    if t.from_state is t.to_state:  # a failed validation: recorded, the state stays
        console.print(
            f"{t.name} v{t.version} stays {t.to_state.value}: {t.rationale} "
            f"(ledger #{t.ledger_seq})"
        )
        return
    before = t.from_state.value if t.from_state else "-"
    console.print(
        f"{t.name} v{t.version}: {before} → [bold]{t.to_state.value}[/] by {t.actor} "
        f"(ledger #{t.ledger_seq})"
    )


def _act(user: str | None, action: Callable[[Services, User], Transition], as_json: bool) -> None:
    with open_services() as s:
        t = action(s, acting_user(s, user))
    _report(t, as_json)


@app.command("submit")
def submit_cmd(
    name: str = typer.Argument(..., help="Model name."),
    version: int = typer.Argument(..., help="Version number."),
    user: str | None = _USER,
    as_json: bool = _JSON,
) -> None:
    """Submit a registered version for validation and approval (the maker's step)."""
    _act(user, lambda s, u: s.governance.submit(name, version, u), as_json)


@app.command("approve")
def approve_cmd(
    name: str = typer.Argument(..., help="Model name."),
    version: int = typer.Argument(..., help="Version number."),
    user: str | None = _USER,
    rationale: str = typer.Option("", "--rationale", "-r", help="Why (required)."),
    as_json: bool = _JSON,
) -> None:
    """Approve a validated version. Only a validator who neither trained nor submitted it,
    and only when its latest validation passed."""
    _act(user, lambda s, u: s.lifecycle.approve(name, version, u, rationale), as_json)


@app.command("reject")
def reject_cmd(
    name: str = typer.Argument(..., help="Model name."),
    version: int = typer.Argument(..., help="Version number."),
    user: str | None = _USER,
    rationale: str = typer.Option("", "--rationale", "-r", help="Why (required)."),
    as_json: bool = _JSON,
) -> None:
    """Reject a submitted or validated version (validators; a rationale is required)."""
    _act(user, lambda s, u: s.governance.reject(name, version, u, rationale), as_json)


@app.command("promote")
def promote_cmd(
    name: str = typer.Argument(..., help="Model name."),
    version: int = typer.Argument(..., help="Version number."),
    user: str | None = _USER,
    rationale: str = typer.Option("", "--rationale", "-r", help="Why (optional)."),
    as_json: bool = _JSON,
) -> None:
    """Make an approved version the champion (admins and model developers); the previous
    champion is retired and MLflow's `champion` alias moves."""
    _act(user, lambda s, u: s.governance.promote(name, version, u, rationale), as_json)


@app.command("rollback")
def rollback_cmd(
    name: str = typer.Argument(..., help="Model name."),
    user: str | None = _USER,
    rationale: str = typer.Option("", "--rationale", "-r", help="Why (required)."),
    as_json: bool = _JSON,
) -> None:
    """Return to the previous champion in one step (admins and model developers)."""
    _act(user, lambda s, u: s.governance.rollback(name, u, rationale), as_json)


@app.command("sync")
def sync_cmd(
    name: str = typer.Argument(None, help="Model name (default: every model)."),
    as_json: bool = _JSON,
) -> None:
    """Bring MLflow's mirror (version tags `bankml.*`, the `champion` alias) up to bankml's
    records now. Lifecycle steps do not wait for MLflow; commands that load MLflow anyway
    (train, triage, serve, replay, validate, docs) sync first, and this does it on demand."""
    from bankml.governance.approvals import check_model_name

    with open_services() as s:
        acting_user(s)  # any signed-in user: it copies records, decides nothing
        target = check_model_name(name) if name else None
        if s.governance.inventory(target):
            # The first MLflow call connects, and connecting already drains every model.
            s.governance.sync_registry(target)
        done = {m: n for m, n in s.governance.mirrored.items() if target in (None, m)}
    if as_json:
        print_json({"mirrored_versions": done})
        return
    if not done:
        console.print("MLflow's mirror is up to date")
        return
    for model, count in sorted(done.items()):
        console.print(f"{model}: mirrored {count} version(s) and the champion alias to MLflow")


@app.command("validate")
def validate_cmd(
    name: str = typer.Argument(..., help="Model name."),
    version: int = typer.Argument(..., help="Version number."),
    user: str | None = _USER,
    policy: Path = typer.Option(
        None,
        "--policy",
        "-p",
        help="Gate policy TOML for a what-if run (default: the pinned official policy).",
    ),
    as_json: bool = _JSON,
) -> None:
    """Run the policy's validation gates on a submitted version, store the evidence, and
    print pass/fail per gate with the measured value and the limit. Exit 1 when a gate fails.

    Validators run it (independent validation); a failed gate blocks approval until a later
    run passes. Only a run against the pinned official policy counts for approval (an admin
    pins it with `bankml model policy install`); --policy runs a what-if against another file.
    """
    with open_services() as s:
        report, t = s.lifecycle.validate(name, version, acting_user(s, user), policy)
    if as_json:
        print_json({**report.to_dict(), "state": t.to_state.value, "ledger_seq": t.ledger_seq})
    else:
        from bankml.cli._governance_render import print_validation

        print_validation(report, console)
        _report(t, as_json=False)
    if not report.passed:
        raise typer.Exit(1)


@app.command("docs")
def docs_cmd(
    name: str = typer.Argument(..., help="Model name."),
    version: int = typer.Argument(..., help="Version number."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory to write the pack into."),
) -> None:
    """Render the documentation pack (HTML with plots, and Markdown) from stored evidence."""
    with open_services() as s:
        html_path, md_path = s.lifecycle.render_docs(name, version, out)
    console.print(f"documentation pack: {html_path}\nmarkdown: {md_path}")


policy_app = typer.Typer(
    help="The official gate policy of each model, pinned by an admin.", no_args_is_help=True
)
app.add_typer(policy_app, name="policy")


@policy_app.command("install")
def policy_install_cmd(
    name: str = typer.Argument(..., help="Model name."),
    file: Path = typer.Argument(
        None, help="Policy TOML (default: NAME.toml in the policy directory)."
    ),
    user: str | None = _USER,
    as_json: bool = _JSON,
) -> None:
    """Pin a gate policy as the model's official one (admins). Its hash is ledgered; from now
    on only validations against exactly these bytes count for approval."""
    with open_services() as s:
        path = file or s.settings.policy_dir / f"{name}.toml"
        pinned = s.lifecycle.install_policy(name, path, acting_user(s, user))
    if as_json:
        print_json(pinned.to_dict())
        return
    console.print(
        f"pinned {name} gate policy {pinned.sha256[:16]}… from {pinned.source} "
        f"(by {pinned.installed_by}, ledger #{pinned.ledger_seq})"
    )


@policy_app.command("show")
def policy_show_cmd(
    name: str = typer.Argument(..., help="Model name."),
    as_json: bool = _JSON,
) -> None:
    """Show the pinned official gate policy of a model."""
    with open_services() as s:
        pinned = s.lifecycle.pins.require(name)
    if as_json:
        print_json(pinned.to_dict())
        return
    console.print(
        f"{name}: policy {pinned.sha256} from {pinned.source}, pinned by "
        f"{pinned.installed_by} at {pinned.installed_at} (ledger #{pinned.ledger_seq})"
    )
