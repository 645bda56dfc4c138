"""Synthetic bank generation: transactions/s, wall time, peak memory and size on disk.

The generator runs in a child process so the peak RSS (``ru_maxrss``) is the generator's
own, not this script's. The peer in the same run is the way such data is often produced:
pure Python, one row at a time (the same legitimate-spending model: Poisson counts per
customer-day, hour-of-day profile, nearest terminals, lognormal amounts), collected into a
pandas DataFrame, sorted and written to Parquet. The peer runs on a small slice and its
time for the full size is *extrapolated* linearly, which flatters it (no memory pressure).

    python bench/generate.py                     # 10 million transactions
    python bench/generate.py --quick             # 1 million
    python bench/generate.py --transactions 3000000 --days 60 --keep /tmp/bank
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

# Measured: about 1.53 transactions per customer-day (legitimate plus fraud), so the
# customer count for a target is target / (1.53 x days).
TX_PER_CUSTOMER_DAY = 1.53
console = Console(width=130)


def _child(args: argparse.Namespace) -> None:
    """Run the generator alone and report its figures as one JSON line on stdout."""
    from bankml.data.generator import generate_bank

    t0 = time.perf_counter()
    manifest = generate_bank(
        Path(args.out), customers=args.customers, days=args.days, seed=args.seed
    )
    seconds = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    size = sum(p.stat().st_size for p in Path(args.out).rglob("*") if p.is_file())
    print(
        json.dumps(
            {
                "seconds": seconds,
                "transactions": manifest.row_counts["transactions"],
                "fraud_rate": manifest.fraud_rate,
                "peak_mib": peak_kb / 1024,
                "bytes": size,
                "tx_bytes": (Path(args.out) / "transactions.parquet").stat().st_size,
            }
        )
    )


def _peer(customers: int, days: int, out: Path, seed: int) -> tuple[int, float]:
    """Row-by-row pure-Python generation of legitimate transactions; (rows, seconds)."""
    rnd = random.Random(seed)
    nrng = np.random.default_rng(seed)
    hours = [0.6, 0.35, 0.25, 0.2, 0.25, 0.5, 1.3, 2.8, 4.2, 4.8, 5.2, 6.0]
    hours += [7.2, 6.8, 5.9, 5.7, 6.2, 7.0, 7.3, 6.4, 5.0, 3.6, 2.3, 1.2]
    dow = [0.94, 0.96, 0.99, 1.02, 1.14, 1.13, 0.82]
    n_terminals = max(50, customers // 5)
    start_us = int(pd.Timestamp("2026-01-01", tz="UTC").value // 1_000)
    day_us, hour_us = 86_400_000_000, 3_600_000_000

    t0 = time.perf_counter()
    profiles = []
    for c in range(customers):
        profiles.append(
            {
                "id": c,
                "rate": min(3.0, max(0.5, rnd.lognormvariate(math.log(1.35), 0.45))),
                "mu": math.log(22 * rnd.lognormvariate(0, 0.4)),
                "sigma": rnd.uniform(0.55, 0.95),
                "terminals": [rnd.randrange(n_terminals) for _ in range(16)],
                "cards": [c * 2] + ([c * 2 + 1] if rnd.random() < 0.35 else []),
            }
        )
    rows = []
    for p in profiles:
        for d in range(days):
            for _ in range(int(nrng.poisson(p["rate"] * dow[(d + 3) % 7]))):
                hour = rnd.choices(range(24), weights=hours)[0]
                # Integer microseconds, not a Timestamp per row: keeps the peer honest.
                ts = start_us + d * day_us + hour * hour_us + rnd.randrange(hour_us)
                amount = round(max(0.5, rnd.lognormvariate(p["mu"], p["sigma"])), 2)
                channel = rnd.choices(["pos", "atm", "ecom"], weights=[0.76, 0.06, 0.18])[0]
                if channel == "pos":
                    entry = "contactless" if amount <= 100 and rnd.random() < 0.65 else "chip"
                else:
                    entry = "chip" if channel == "atm" else "ecom"
                rows.append(
                    {
                        "ts": ts,
                        "card_id": rnd.choice(p["cards"]),
                        "customer_id": p["id"],
                        "terminal_id": rnd.choice(p["terminals"]),
                        "amount": amount,
                        "channel": channel,
                        "entry_mode": entry,
                        "is_fraud": False,
                        "label_available_at": ts + 7 * day_us,
                    }
                )
    frame = pd.DataFrame(rows).sort_values("ts", kind="stable").reset_index(drop=True)
    for col in ("ts", "label_available_at"):
        frame[col] = pd.to_datetime(frame[col], unit="us", utc=True)
    frame.insert(0, "transaction_id", range(1, len(frame) + 1))
    frame.to_parquet(out / "peer_transactions.parquet", index=False)
    return len(frame), time.perf_counter() - t0


def main() -> None:
    """Parse arguments, run the generator in a child process and the peer here, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="1 million transactions")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--peer-customers", type=int, default=2_000)
    parser.add_argument("--keep", type=Path, help="write the bank here and keep it")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--customers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    target = 1_000_000 if args.quick else args.transactions
    customers = max(1, round(target / (TX_PER_CUSTOMER_DAY * args.days)))
    work = Path(tempfile.mkdtemp(prefix="bankml-bench-"))
    out = args.keep or work / "bank"
    try:
        console.print(
            f"generating ~{target:,} transactions: {customers:,} customers x {args.days} days"
        )
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                f"--customers={customers}",
                f"--days={args.days}",
                f"--seed={args.seed}",
                f"--out={out}",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        gen = json.loads(done.stdout.strip().splitlines()[-1])

        peer_days = min(args.days, 30)
        peer_rows, peer_seconds = _peer(args.peer_customers, peer_days, work, args.seed)
        peer_rate = peer_rows / peer_seconds
        gen_rate = gen["transactions"] / gen["seconds"]

        table = Table(title=f"bankml generate_bank vs row-by-row peer ({target:,} target)")
        for col in ("what", "rows", "seconds", "rows/s", "peak RSS", "on disk"):
            table.add_column(col, justify="right" if col != "what" else "left")
        table.add_row(
            "generate_bank (6 tables + policies)",
            f"{gen['transactions']:,}",
            f"{gen['seconds']:.1f}",
            f"{gen_rate:,.0f}",
            f"{gen['peak_mib']:,.0f} MiB",
            f"{gen['bytes'] / 2**20:,.0f} MiB ({gen['tx_bytes'] / 2**20:,.0f} transactions)",
        )
        table.add_row(
            f"peer: pure Python + pandas, measured slice ({args.peer_customers:,} x "
            f"{peer_days} days, legit only)",
            f"{peer_rows:,}",
            f"{peer_seconds:.1f}",
            f"{peer_rate:,.0f}",
            "-",
            "-",
        )
        table.add_row(
            "peer: EXTRAPOLATED to the same row count",
            f"{gen['transactions']:,}",
            f"{gen['transactions'] / peer_rate:,.0f}",
            f"{peer_rate:,.0f}",
            "(not run)",
            "-",
        )
        console.print(table)
        console.print(
            f"speed-up vs peer: {gen_rate / peer_rate:,.0f}x; realised fraud rate "
            f"{gen['fraud_rate']:.4%}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
