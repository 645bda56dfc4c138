"""The ``bankml`` command line: one Typer app with a sub-command per capability.

Commands parse input, call a service, and render the result (tables for people, ``--json``
for machines). Errors from below arrive as ``BankmlError`` and leave as one red line on
stderr and a non-zero exit code, never as a traceback.
"""

from __future__ import annotations

import logging
import sys

import typer
from rich.markup import escape

from bankml.cli import (
    audit,
    auth,
    credit,
    data,
    demo,
    doctor,
    features,
    fraud,
    model,
    monitor,
    policy,
    serve,
    users,
)
from bankml.cli._common import err_console
from bankml.core.errors import BankmlError

__all__ = ["app", "main"]

app = typer.Typer(
    name="bankml",
    help="Ship AI features into a regulated bank without breaking auditability.\n\n"
    "Start with `bankml demo`; every command takes --help.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="markdown",
)
app.add_typer(data.app, name="data")
app.add_typer(users.app, name="users")
app.add_typer(fraud.app, name="fraud")
fraud.app.command("features")(features.features_cmd)
fraud.app.command("score-batch")(features.score_batch_cmd)
app.add_typer(credit.app, name="credit")
app.add_typer(audit.app, name="audit")
app.add_typer(policy.app, name="policy")
app.add_typer(model.app, name="model")
app.add_typer(monitor.app, name="monitor")
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("doctor")(doctor.doctor)
app.command("init")(auth.init)
app.command("login")(auth.login)
app.command("logout")(auth.logout)
app.command("whoami")(auth.whoami)


def _version(value: bool) -> None:
    if value:
        import importlib.metadata

        typer.echo(f"bankml {importlib.metadata.version('bankml')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Ship AI features into a regulated bank without breaking auditability."""


log = logging.getLogger(__name__)


def main() -> None:
    """Console entry point: run the app, turning bankml errors into one line and an exit code."""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        err_console.print("[yellow]aborted[/]")
        sys.exit(130)
    except typer.TyperException as exc:
        # Click prints usage plus a boxed error over several lines; one line says it all.
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if not message.strip():  # no_args_is_help: the help was the message
            sys.exit(int(getattr(exc, "exit_code", 2)))
        err_console.print(f"[bold red]error:[/] {escape(message)}{escape(hint)}", soft_wrap=True)
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except BankmlError as exc:
        err_console.print(f"[bold red]error:[/] {escape(exc.message)}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except OverflowError:
        err_console.print("[bold red]error:[/] a number given is out of range")
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)
    except OSError as exc:
        what = escape(f"{exc.strerror or exc}: {exc.filename or ''}")
        err_console.print(f"[bold red]error:[/] {what}")
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
