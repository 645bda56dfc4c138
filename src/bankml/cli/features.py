"""``bankml fraud features`` and ``bankml fraud score-batch``: a whole table at once, on
DuckDB or Spark.

``features`` picks the fraud feature definitions and the column mapping (fraud's), and hands
them to :func:`bankml.data.features.write_features`, which knows no use case.
``score-batch`` scores a table with a model version (``services.fraud.score_batch``).
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from bankml.cli._common import acting_user, console, open_services, print_json
from bankml.core.errors import InputError

__all__ = ["features_cmd", "score_batch_cmd"]

MSG_OUT_EXISTS = "{out} already exists: pass --overwrite to replace it"


def features_cmd(
    transactions: Path = typer.Option(
        ..., "--transactions", "-t", help="Transactions table (.parquet or .csv)."
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="Where to write the features: a Parquet file (duckdb) or directory (spark).",
    ),
    engine: str = typer.Option(
        "duckdb",
        "--engine",
        help="duckdb (bounded memory; partitioned by entity above 4M rows) or spark (local[2]).",
    ),
    mapping: Path = typer.Option(
        None,
        "--mapping",
        help="TOML naming your columns (see docs/fraud.md); default: the synthetic bank's names.",
    ),
    delay_days: int = typer.Option(
        7, "--delay-days", help="Label delay of the terminal-risk window (days)."
    ),
    memory_limit: str = typer.Option(
        "1GB", "--memory-limit", help="DuckDB memory limit; it spills to disk beyond it."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object to stdout."),
) -> None:
    """Compute the point-in-time fraud features of every transaction and write them to
    Parquet, on DuckDB (bounded memory, partitioned by entity above 4M rows) or on a local
    Spark session. Both engines run SQL generated from the same feature definitions and give
    the same features.
    """
    from bankml.data.features import EngineOptions, write_features
    from bankml.fraud.features import enabled_features, resolve_event_table
    from bankml.fraud.mapping import DEFAULT_MAPPING, load_mapping

    if delay_days < 1:
        raise InputError("--delay-days must be at least 1: a label is never known at once")
    if out.exists() and not overwrite:
        raise InputError(MSG_OUT_EXISTS.format(out=out))
    columns = load_mapping(mapping) if mapping is not None else DEFAULT_MAPPING
    resolved, warnings, table = resolve_event_table(transactions, columns, delay_days)
    defs = enabled_features(resolved)
    roles = resolved.as_dict()
    passthrough = [c for c in ("customer", "terminal", "card") if c in roles]
    started = time.perf_counter()
    rows = write_features(
        transactions,
        defs,
        table,
        out,
        engine=engine,
        passthrough=passthrough,
        options=EngineOptions(memory_limit=memory_limit),
    )
    seconds = time.perf_counter() - started
    summary = {
        "engine": engine,
        "rows": rows,
        "features": [d.name for d in defs],
        "out": str(out),
        "seconds": round(seconds, 2),
        "warnings": warnings,
    }
    if as_json:
        print_json(summary)
        return
    for message in warnings:
        console.print(f"[yellow]warning:[/yellow] {message}")
    console.print(f"{rows:,} transactions, {len(defs)} features, {engine}: {out} ({seconds:.1f} s)")


def score_batch_cmd(
    transactions: Path = typer.Option(
        ..., "--transactions", "-t", help="Transactions table (.parquet or .csv)."
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="Where to write the scores: a Parquet file (duckdb) or directory (spark).",
    ),
    engine: str = typer.Option(
        "duckdb",
        "--engine",
        help="duckdb (bounded memory; partitioned by entity above 4M rows) or spark (local[2]).",
    ),
    version: int = typer.Option(
        None, "--version", help="Model version to score with (default: the champion)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    user: str | None = typer.Option(
        None, "--user", "-u", help="Optional check: refuse unless your API key is this user's."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object to stdout."),
) -> None:
    """Score every transaction of a table with the champion (or --version) and write
    transaction_id, timestamp and score to Parquet. The features come from the same
    definitions as training, computed by DuckDB (streamed) or Spark; scores are not
    decisions: nothing is queued, and the run is recorded in the ledger."""
    if out.exists() and not overwrite:
        raise InputError(MSG_OUT_EXISTS.format(out=out))
    with open_services() as s:
        result = s.fraud.score_batch(
            acting_user(s, user), transactions, out, engine=engine, version=version
        )
    if as_json:
        print_json(result.to_dict())
        return
    for message in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {message}")
    console.print(
        f"{result.rows:,} transactions scored with fraud v{result.version} on {result.engine}: "
        f"{result.out} ({result.seconds:.1f} s)"
    )
