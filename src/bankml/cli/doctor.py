"""`bankml doctor`: check the configured database, tracking server, stores and secrets.

Each check runs on its own and says what is wrong and what to do; one failing check does not
hide the others. Exit 0 when everything is usable, 1 when something is not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from bankml.cli._common import console, print_json
from bankml.core.errors import BankmlError

if TYPE_CHECKING:
    from bankml.core.settings import Settings

__all__ = ["doctor"]


@dataclass(frozen=True)
class Finding:
    """One check's outcome."""

    check: str
    ok: bool
    detail: str


def _settings_check() -> tuple[Settings | None, Finding]:
    from bankml.core.settings import load_settings

    try:
        settings = load_settings()
    except BankmlError as exc:
        return None, Finding("settings", False, exc.message)
    return settings, Finding(
        "settings", True, f"env={settings.env}, home={settings.home.resolve()}"
    )


def _secret(settings: Settings) -> Finding:
    from bankml.core.settings import PLACEHOLDER_SECRET

    key = settings.secret_key.get_secret_value()
    if key == PLACEHOLDER_SECRET:
        detail = "the development placeholder: customer tokens are reversible by anyone"
        ok = settings.env == "dev"
        return Finding("secret key", ok, detail + ("" if ok else "; set BANKML_SECRET_KEY"))
    return Finding("secret key", True, f"set ({len(key)} characters)")


def _database(settings: Settings) -> Finding:
    from pathlib import Path

    from sqlalchemy.exc import SQLAlchemyError

    from bankml.app import SCHEMA
    from bankml.core.storage import Database

    url = settings.resolved_database_url
    shown = url.split("@")[-1] if "@" in url else url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return Finding("database", True, f"{shown}: not created yet; the first command does")
    db = Database(url, SCHEMA)
    try:
        current, head = db.current_revision(), db.head_revision()
    except SQLAlchemyError as exc:
        return Finding("database", False, f"{shown}: cannot connect ({type(exc).__name__})")
    finally:
        db.dispose()
    if current is None:
        return Finding("database", True, f"{shown}: empty; the first command migrates it")
    if current != head:
        return Finding("database", False, f"{shown}: at {current}, code expects {head}")
    return Finding("database", True, f"{shown}: reachable, schema at {current}")


def _tracking(settings: Settings) -> Finding:
    from bankml.governance.registry import ModelRegistry

    uri = settings.resolved_mlflow_uri
    registry = ModelRegistry(
        uri, settings.home, timeout=min(settings.mlflow_timeout_seconds, 5), max_retries=0
    )
    if not registry.remote:
        where = "exists" if registry.has_local_store() else "not created yet (no models)"
        return Finding("model registry", True, f"local store {uri}: {where}")
    try:
        registry.versions()
    except BankmlError as exc:
        return Finding("model registry", False, exc.message)
    return Finding("model registry", True, f"tracking server {uri}: answering")


def _policies(settings: Settings) -> Finding:
    found = sorted(p.name for p in settings.policy_dir.glob("*.toml"))
    if not found:
        return Finding(
            "gate policies", False, f"none in {settings.policy_dir}; set BANKML_POLICY_DIR"
        )
    return Finding("gate policies", True, f"{settings.policy_dir}: {', '.join(found)}")


_CHECKS: tuple[Callable[[Settings], Finding], ...] = (_secret, _database, _tracking, _policies)


def doctor(as_json: bool = typer.Option(False, "--json", help="One JSON object.")) -> None:
    """Check the configured database, model registry, gate policies and secrets.

    Run it after changing `BANKML_*` settings or before starting `bankml serve` on a new
    machine: each line says what is wrong and what to set. Exit 1 if anything is unusable.
    """
    settings, first = _settings_check()
    findings = [first]
    if settings is not None:
        for check in _CHECKS:
            try:
                findings.append(check(settings))
            except BankmlError as exc:
                findings.append(Finding(check.__name__.strip("_"), False, exc.message))
    if as_json:
        print_json({"ok": all(f.ok for f in findings), "checks": [f.__dict__ for f in findings]})
    else:
        table = Table(title="bankml doctor")
        for col in ("check", "status", "detail"):
            table.add_column(col)
        for f in findings:
            table.add_row(f.check, "[green]ok[/]" if f.ok else "[bold red]FAIL[/]", f.detail)
        console.print(table)
    if not all(f.ok for f in findings):
        raise typer.Exit(1)
