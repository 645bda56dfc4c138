"""`bankml init`, `login`, `logout`, `whoami`: who the CLI acts as.

The CLI acts with a credential, never with a typed name. ``init`` creates the first admin of
an empty home and prints its key once; ``login`` verifies a key and keeps it in a file only
the OS user can read; ``BANKML_API_KEY`` overrides that file (for scripts and CI).
"""

from __future__ import annotations

import sys

import typer

from bankml.cli._common import acting_user, console, open_services, print_json
from bankml.cli.credentials import forget_key, store_key
from bankml.core.errors import ConflictError, InputError
from bankml.core.roles import Role

__all__ = ["init", "login", "logout", "whoami"]


def init(
    name: str = typer.Option("admin", "--name", help="Login name of the first admin."),
    save: bool = typer.Option(
        True, "--login/--no-login", help="Also store the key as this OS user's credential."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (includes the key)."),
) -> None:
    """Create the first admin of an empty home and print their API key once.

    Refused once any user exists: further users are added by an admin with `bankml users add`.
    """
    with open_services() as s:
        if s.users.list():
            raise ConflictError(
                "this home already has users; log in with an admin key and use `bankml users add`"
            )
        user = s.users.add(name, Role.ADMIN)
        key = s.users.issue_key(user.name)
        s.ledger.append("user.added", user.name, f"user:{user.name}", {"role": "admin"})
        if save:
            store_key(s.settings.resolved_credentials_file, s.db.safe_url, key)
    if as_json:
        print_json({"name": user.name, "role": user.role, "api_key": key})
        return
    console.print(f"created admin [bold]{user.name}[/]")
    console.print(f"API key (shown once, store it now): [bold]{key}[/]")
    if save:
        console.print("logged in as this admin on this machine (`bankml logout` to forget)")


def login(
    key_stdin: bool = typer.Option(
        False, "--key-stdin", help="Read the API key from standard input (for scripts)."
    ),
) -> None:
    """Verify your API key and keep it for later commands (a file only you can read).

    The key is asked for without echo, or read from stdin with --key-stdin; it is never
    taken from the command line, where other users and shell history would see it.
    """
    if key_stdin:
        key = sys.stdin.readline().strip()
    else:
        key = typer.prompt("API key", hide_input=True).strip()
    if not key:
        raise InputError("no API key given")
    with open_services() as s:
        user = s.users.authenticate(key)
        store_key(s.settings.resolved_credentials_file, s.db.safe_url, key)
        s.ledger.append("user.login", user.name, f"user:{user.name}", {"via": "cli"})
    console.print(f"logged in as [bold]{user.name}[/] ({user.role.value})")


def logout() -> None:
    """Forget the stored API key for this home's database."""
    with open_services() as s:
        had = forget_key(s.settings.resolved_credentials_file, s.db.safe_url)
    console.print("logged out" if had else "no stored key for this database")


def whoami(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show who the CLI acts as (the owner of the current API key)."""
    with open_services() as s:
        user = acting_user(s)
    if as_json:
        print_json({"name": user.name, "role": user.role, "groups": user.groups})
        return
    groups = ", ".join(sorted(user.groups)) or "-"
    console.print(f"{user.name} ({user.role.value}; groups: {groups})")
