"""`bankml users`: who may do what."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from bankml.cli._common import acting_user, console, open_services, print_json
from bankml.core.roles import Role, parse_groups, parse_role

app = typer.Typer(help="Manage users, roles, document groups and API keys.", no_args_is_help=True)

_ROLES = ", ".join(r.value for r in Role)


@app.command("add")
def add(
    name: str = typer.Argument(..., help="Login name (lowercase letters, digits, . _ -)."),
    role: str = typer.Option(..., "--role", "-r", help=f"One of: {_ROLES}."),
    groups: str = typer.Option(
        "", "--groups", "-g", help="Comma-separated document groups, e.g. credit-risk,hr."
    ),
    key: bool = typer.Option(True, "--key/--no-key", help="Issue an API key (shown once)."),
    key_only: bool = typer.Option(
        False, "--key-only", help="Print only the new API key (for `KEY=$(bankml users add …)`)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Add a user with one role and any number of document groups (admins only).

    Example: bankml users add alice --role validator --groups model-risk
    """
    parsed_role, parsed_groups = parse_role(role), parse_groups(groups)
    with open_services() as s:
        admin = acting_user(s)
        admin.require(Role.ADMIN)
        user = s.users.add(name, parsed_role, parsed_groups)
        s.ledger.append(
            "user.added",
            admin.name,
            f"user:{user.name}",
            {"role": user.role.value, "groups": sorted(user.groups)},
        )
        api_key = s.users.issue_key(user.name) if key else None
    if key_only and api_key:
        typer.echo(api_key)
        return
    if as_json:
        print_json(
            {"name": user.name, "role": user.role, "groups": user.groups, "api_key": api_key}
        )
        return
    console.print(
        f"added [bold]{user.name}[/] as {user.role.value}"
        + (f" in groups {', '.join(sorted(user.groups))}" if user.groups else "")
    )
    if api_key:
        console.print(f"API key (shown once, store it now): [bold]{api_key}[/]")


@app.command("list")
def list_users(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List users with their role and groups."""
    with open_services() as s:
        people = s.users.list()
    if as_json:
        print_json(
            [
                {"name": u.name, "role": u.role, "groups": u.groups, "created_at": u.created_at}
                for u in people
            ]
        )
        return
    table = Table("name", "role", "groups", "created (UTC)", title=f"{len(people)} users")
    for u in people:
        table.add_row(u.name, u.role.value, ", ".join(sorted(u.groups)) or "-", u.created_at[:19])
    console.print(table)


@app.command("key")
def new_key(
    name: str = typer.Argument(..., help="User to issue a key for."),
    revoke_old: bool = typer.Option(False, "--revoke-old", help="Revoke existing keys."),
) -> None:
    """Issue a fresh API key for a user (optionally revoking the old ones)."""
    with open_services() as s:
        admin = acting_user(s)
        admin.require(Role.ADMIN)
        revoked = s.users.revoke_keys(name) if revoke_old else 0
        api_key = s.users.issue_key(name)
        s.ledger.append("user.key_issued", admin.name, f"user:{name}", {"revoked": revoked})
    console.print(f"API key for {name} (shown once): [bold]{api_key}[/]")
    if revoked:
        console.print(f"revoked {revoked} older key(s)")


@app.command("set-password")
def set_password(
    name: str = typer.Argument(..., help="User to give a web console password."),
    stdin: bool = typer.Option(
        False, "--stdin", help="Read the password from the first line of standard input."
    ),
) -> None:
    """Set a web console password (admins for anyone, any user for themself); the password is
    asked at a prompt or read from stdin, never taken from the command line.

    Example: bankml users set-password fiona   (or: printf '%s\\n' "$PW" | bankml users
    set-password fiona --stdin). Stored only as an argon2id hash; the change is ledgered.
    """
    with open_services() as s:
        actor = acting_user(s)
        if actor.name != name.strip().lower():
            actor.require(Role.ADMIN)
        target = s.users.get(name)  # a missing user is an error before the prompt
        if stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
        user = s.users.set_password(target.name, password)
        s.ledger.append("user.password_set", actor.name, f"user:{user.name}", {})
    console.print(f"password set for [bold]{user.name}[/]; they can sign in at /ui/login")
