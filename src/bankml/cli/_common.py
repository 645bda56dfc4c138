"""Shared pieces of the CLI face: consoles, JSON output, progress bars, the services handle."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from bankml.core.canonical import to_jsonable
from bankml.core.errors import PermissionDeniedError
from bankml.core.roles import User

if TYPE_CHECKING:
    from bankml.app import Services

__all__ = [
    "acting_user",
    "console",
    "err_console",
    "open_services",
    "print_json",
    "progress_callback",
]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(value: Any) -> None:
    """One JSON document on stdout, for machines."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, sort_keys=True) + "\n")


@contextmanager
def open_services() -> Iterator[Services]:
    """Services for one command, closed afterwards."""
    from bankml.app import build_services  # the wiring (and its imports) only when acting

    services = build_services()
    try:
        yield services
    finally:
        services.close()


def acting_user(s: Services, claimed: str | None = None) -> User:
    """The authenticated user this command acts as: the owner of the CLI's API key.

    ``claimed`` (a ``--user`` option) is only an assertion: naming anyone other than the
    key's owner is refused, so a typed name can never borrow someone else's role.
    """
    from bankml.cli.credentials import read_key

    override = s.settings.api_key.get_secret_value() if s.settings.api_key else None
    key = read_key(s.settings.resolved_credentials_file, s.db.safe_url, override)
    user: User = s.users.authenticate(key)
    if claimed is not None and claimed != user.name:
        raise PermissionDeniedError(
            f"you are authenticated as {user.name}; --user {claimed} names someone else "
            "(log in with their key to act as them)"
        )
    return user


@contextmanager
def progress_callback(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A ``progress(stage, done, total)`` callback drawing one rich bar per stage (on stderr)."""
    if not enabled:
        yield lambda _stage, _done, _total: None
        return
    progress = Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        TextColumn("{task.completed:>12,.0f}/{task.total:,.0f}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=max(total, 1))
        progress.update(tasks[stage], completed=done, total=max(total, 1))

    with progress:
        yield update
