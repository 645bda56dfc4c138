"""The demo's last step: the service with its web console, up at a printed URL.

`bankml demo` calls ``serve_console`` at the end when asked to (``--web``), so CI-like runs
that pass ``--no-web`` still end. Each demo user gets a fresh random password, shown once
here and stored only as an argon2id hash; the setting of each is ledgered.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from bankml.cli._common import console

if TYPE_CHECKING:
    from bankml.app import Services

__all__ = ["WEB_OPTION", "demo_passwords", "serve_console"]

WEB_OPTION = typer.Option(
    False,
    "--web/--no-web",
    help="End the demo with the service and its web console up (Ctrl-C stops it).",
)


def demo_passwords(s: Services, names: list[str]) -> dict[str, str]:
    """A fresh random password for each named user (who must exist)."""
    out = {}
    for name in names:
        password = secrets.token_urlsafe(12)
        s.users.set_password(name, password)
        s.ledger.append("user.password_set", "demo", f"user:{name}", {})
        out[name] = password
    return out


def serve_console(s: Services, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Set demo passwords, print the URL and the logins, and serve until interrupted."""
    import uvicorn

    from bankml.api.app import create_app

    people = [u for u in s.users.list() if u.role.value != "service"]
    passwords = demo_passwords(s, [u.name for u in people])
    table = Table("user", "role", "password (shown once)", title="demo logins")
    for u in people:
        table.add_row(u.name, u.role.value, passwords[u.name])
    console.rule("[bold]The web console")
    console.print(table)
    console.print(
        f"bankml console: [bold]http://{host}:{port}/ui/[/]  (API docs at /docs; Ctrl-C stops)"
    )
    uvicorn.run(create_app(s), host=host, port=port, log_config=None, access_log=False)
