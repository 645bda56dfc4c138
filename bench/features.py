"""Fraud features over millions of transactions: bankml's DuckDB engine vs plain pandas.

Each implementation runs in its own child process, so its seconds and peak memory
(``ru_maxrss`` of that child, and the part above the child's baseline after imports) are
its own. The peer is a plain pandas ``groupby().rolling()`` implementation of the same
features (see ``pandas_features``). Both results are compared on a random sample of
transactions; point-in-time features of a transaction depend only on earlier ones, so a
peer run on the first N rows (by time) must match the engine's full-table run on them.

    python bench/features.py                       # 10M generated transactions
    python bench/features.py --rows 1000000        # quicker
    python bench/features.py --transactions t.parquet --peer-rows 2000000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

console = Console()
DAYS = 60
TX_PER_CUSTOMER_DAY = 1.54  # measured on generate_bank(customers=2000, days=60, seed=7)
DELAY_DAYS = 7


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the peer: plain pandas --------------------------------------------------------------


def pandas_features(path: Path, rows: int | None) -> pd.DataFrame:
    """The fraud features with pandas groupby-rolling, on the first ``rows`` rows by time.

    Same definitions as bankml.fraud.features: rows sorted by (ts, transaction_id),
    windows (t - w, t] ending at the current row (pandas' own tie rule), terminal fraud
    rate over (t - d - w, t - d] counting frauds known by t.
    """
    cols = [
        "transaction_id",
        "ts",
        "customer_id",
        "terminal_id",
        "card_id",
        "amount",
        "country",
        "is_fraud",
        "label_available_at",
    ]
    df = pd.read_parquet(path, columns=cols)
    df = df.sort_values(["ts", "transaction_id"], kind="stable", ignore_index=True)
    if rows is not None:
        df = df.iloc[:rows].reset_index(drop=True)
    df["small"] = (df["amount"] < 5.0).astype("float64")
    out = pd.DataFrame({"transaction_id": df["transaction_id"], "amount": df["amount"]})

    order: dict[str, np.ndarray] = {}

    def roll(entity: str, column: str, window: str, how: str) -> pd.Series:
        # With on="ts" the result is indexed by (key, ts), in sorted-key order and row
        # order within a key: a stable argsort of the key puts it back in row order.
        if entity not in order:
            order[entity] = np.argsort(df[entity].to_numpy(), kind="stable")
        rolled = df.groupby(entity, sort=True).rolling(window, on="ts")[column]
        values = np.empty(len(df))
        values[order[entity]] = getattr(rolled, how)().to_numpy()
        return pd.Series(values, index=df.index)

    for w, pw in (("1d", "1D"), ("7d", "7D"), ("30d", "30D")):
        n = roll("customer_id", "amount", pw, "count")
        s = roll("customer_id", "amount", pw, "sum")
        out[f"customer_txn_count_{w}"] = n
        out[f"customer_mean_amount_{w}"] = s / n
        if w == "30d":
            prior_n = n - 1
            prior_mean = (s - df["amount"]) / prior_n
            ok = (prior_n > 0) & (prior_mean > 0)
            out["amount_to_customer_mean_30d"] = np.where(ok, df["amount"] / prior_mean, 1.0)
    d = pd.Timedelta(days=DELAY_DAYS)
    known = df[df["is_fraud"] & df["label_available_at"].notna()]
    for w, pw in (("1d", "1D"), ("7d", "7D"), ("30d", "30D")):
        out[f"terminal_txn_count_{w}"] = roll("terminal_id", "amount", pw, "count")
        # (t - d - w, t] minus (t - d, t]: both end at the current row, so ties cancel.
        total = roll("terminal_id", "amount", f"{DELAY_DAYS + int(w[:-1])}D", "count")
        recent = roll("terminal_id", "amount", f"{DELAY_DAYS}D", "count")
        events = total - recent
        # Known frauds: +1 when a fraud starts to count, -1 when it leaves the window.
        start = np.maximum(known["ts"] + d, known["label_available_at"])
        end = known["ts"] + d + pd.Timedelta(w.replace("d", "D"))
        keep = start < end
        steps = pd.concat(
            [
                pd.DataFrame({"terminal_id": known["terminal_id"], "at": start, "delta": 1})[keep],
                pd.DataFrame({"terminal_id": known["terminal_id"], "at": end, "delta": -1})[keep],
            ]
        )
        steps = steps.groupby(["terminal_id", "at"], as_index=False)["delta"].sum()
        steps = steps.sort_values(["terminal_id", "at"])
        steps["running"] = steps.groupby("terminal_id")["delta"].cumsum()
        probe = pd.DataFrame({"terminal_id": df["terminal_id"], "at": df["ts"], "i": df.index})
        merged = pd.merge_asof(
            probe.sort_values("at"),
            steps.sort_values("at")[["terminal_id", "at", "running"]],
            on="at",
            by="terminal_id",
            direction="backward",
        ).set_index("i")["running"]
        n_known = merged.reindex(df.index).fillna(0.0)
        out[f"terminal_fraud_rate_{w}"] = np.where(events > 0, n_known / events, 0.0)
    for w, pw in (("10m", "10min"), ("1h", "1h")):
        out[f"card_small_txn_count_{w}"] = roll("card_id", "small", pw, "sum")
    out["card_new_terminal"] = (~df.duplicated(["card_id", "terminal_id"])).astype("float64")
    out["card_new_country"] = (~df.duplicated(["card_id", "country"])).astype("float64")
    out["is_night"] = (df["ts"].dt.hour < 6).astype("float64")
    out["is_weekend"] = (df["ts"].dt.dayofweek >= 5).astype("float64")
    return out


# -- children --------------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    """Run one implementation and report seconds, memory and the sample's features."""
    base_mb = _rss_mb()
    sample = pd.read_parquet(args.sample_ids)["transaction_id"]
    started = time.perf_counter()
    if args.child == "engine":
        from bankml.data.features import EngineOptions
        from bankml.fraud.features import build_fraud_features

        # Import cost is not the engine's: measure the baseline after imports.
        base_mb = _rss_mb()
        started = time.perf_counter()
        options = EngineOptions(memory_limit=args.memory_limit, threads=args.threads)
        frame = build_fraud_features(Path(args.path), options=options).frame
        rows = len(frame)
    else:
        frame = pandas_features(Path(args.path), args.peer_rows)
        rows = len(frame)
    seconds = time.perf_counter() - started
    peak_mb = _rss_mb()
    frame[frame["transaction_id"].isin(sample)].to_parquet(args.out)
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_mb": peak_mb, "base_mb": base_mb}))


def run_child(kind: str, path: Path, work: Path, args: argparse.Namespace) -> dict[str, float]:
    out = work / f"{kind}.parquet"
    cmd = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--path",
        str(path),
        "--sample-ids",
        str(work / "sample.parquet"),
        "--out",
        str(out),
        "--memory-limit",
        args.memory_limit,
        "--threads",
        str(args.threads),
    ]
    if kind == "pandas" and args.peer_rows is not None:
        cmd += ["--peer-rows", str(args.peer_rows)]
    with console.status(f"running {kind} ..."):
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        console.print(f"[red]{kind} failed[/red]\n{done.stderr[-3000:]}")
        raise SystemExit(1)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="transactions to generate")
    parser.add_argument("--transactions", type=Path, help="use this file instead of generating")
    parser.add_argument(
        "--peer-rows", type=int, default=None, help="run pandas on the first N rows only"
    )
    parser.add_argument("--sample", type=int, default=5000, help="rows compared between the two")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    parser.add_argument("--child", choices=["engine", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--sample-ids", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    with tempfile.TemporaryDirectory(prefix="bench-features-") as tmp:
        work = Path(tmp)
        if args.transactions is not None:
            path = args.transactions
        else:
            from bankml.data.generator import generate_bank

            customers = math.ceil(args.rows / (TX_PER_CUSTOMER_DAY * DAYS))
            started = time.perf_counter()
            with console.status(
                f"generating ~{args.rows:,} transactions ({customers:,} customers)"
            ):
                generate_bank(work / "bank", customers=customers, days=DAYS, seed=7)
            path = work / "bank" / "transactions.parquet"
            console.print(f"generated in {time.perf_counter() - started:.0f} s")
        ids = pd.read_parquet(path, columns=["transaction_id", "ts"])
        ids = ids.sort_values(["ts", "transaction_id"], kind="stable", ignore_index=True)
        n_rows = len(ids)
        peer_rows = args.peer_rows if args.peer_rows is not None else n_rows
        peer_rows = min(peer_rows, n_rows)
        rng = np.random.default_rng(0)
        pick = rng.choice(peer_rows, size=min(args.sample, peer_rows), replace=False)
        ids.iloc[np.sort(pick)][["transaction_id"]].to_parquet(work / "sample.parquet")
        del ids

        engine = run_child("engine", path, work, args)
        console.print(f"engine: {engine['seconds']:.1f} s")
        peer = run_child("pandas", path, work, args)
        console.print(f"pandas: {peer['seconds']:.1f} s")

        a = pd.read_parquet(work / "engine.parquet").set_index("transaction_id")
        b = pd.read_parquet(work / "pandas.parquet").set_index("transaction_id")
        b = b.loc[a.index.intersection(b.index)]
        a = a.loc[b.index]
        worst: dict[str, float] = {}
        for name in b.columns:
            diff = np.abs(a[name].to_numpy(dtype=float) - b[name].to_numpy(dtype=float))
            worst[name] = float(np.nanmax(diff)) if len(diff) else float("nan")

    table = Table(title=f"fraud features: {n_rows:,} transactions, 2-core machine")
    for col in ("implementation", "rows", "seconds", "rows/s", "peak RSS", "above baseline"):
        table.add_column(col, justify="right" if col != "implementation" else "left")
    for label, r in (("bankml DuckDB engine", engine), ("pandas groupby-rolling", peer)):
        table.add_row(
            label,
            f"{int(r['rows']):,}",
            f"{r['seconds']:.1f}",
            f"{r['rows'] / r['seconds']:,.0f}",
            f"{r['peak_mb'] / 1024:.2f} GB",
            f"{(r['peak_mb'] - r['base_mb']) / 1024:.2f} GB",
        )
    if peer["rows"] < n_rows:
        scale = n_rows / peer["rows"]
        table.add_row(
            "pandas, extrapolated (linear)",
            f"{n_rows:,}",
            f"~{peer['seconds'] * scale:.0f}",
            "",
            f"~{peer['peak_mb'] * scale / 1024:.1f} GB",
            "",
        )
    console.print(table)
    agree = Table(title=f"agreement on {len(a):,} sampled transactions (max |engine - pandas|)")
    agree.add_column("feature")
    agree.add_column("max abs diff", justify="right")
    for name, value in worst.items():
        agree.add_row(name, f"{value:.2e}")
    console.print(agree)
    bad = {k: v for k, v in worst.items() if not v <= 1e-9}
    console.print("[green]all features agree to 1e-9[/green]" if not bad else f"[red]{bad}[/red]")
    console.print(f"load average: {os.getloadavg()[0]:.1f} (2 cores; others share the machine)")


if __name__ == "__main__":
    main()
