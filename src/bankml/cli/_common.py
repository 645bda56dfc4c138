"""Shared pieces of the CLI face: consoles, JSON output, progress bars, the services handle."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from bankml.app import Services, build_services
from bankml.core.canonical import to_jsonable

__all__ = ["console", "err_console", "open_services", "print_json", "progress_callback"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(value: Any) -> None:
    """One JSON document on stdout, for machines."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, sort_keys=True) + "\n")


@contextmanager
def open_services() -> Iterator[Services]:
    """Services for one command, closed afterwards."""
    services = build_services()
    try:
        yield services
    finally:
        services.close()


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
