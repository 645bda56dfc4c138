"""Finding decisions on a large ledger: the indexed lookup (``decision_index``) against the
peer it replaces, measured in the same run on the same database.

Peer: **full scan**, what ``audit decisions --customer`` did before migration 0014: read every
ledger entry, parse its payload and filter in Python. The index pays once to catch up with an
existing ledger (printed), then each lookup reads only the matching rows.

    python bench/decision_lookup.py              # 100k decisions on SQLite
    python bench/decision_lookup.py --n 500000
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bankml.app import SCHEMA
from bankml.core.storage import Database
from bankml.governance.decisions import DecisionFilter, DecisionIndex
from bankml.governance.ledger import DecisionLedger, Event

console = Console()


def _id(i: int) -> str:
    return str(uuid.UUID(int=random.Random(i).getrandbits(128), version=4))


def _event(i: int) -> Event:
    return Event(
        "fraud.scored",
        "triage",
        f"decision:{_id(i)}",
        {
            "model": {"name": "fraud", "version": 1 + i % 3},
            "transaction_id": 10_000_000 + i,
            "customer_token": f"tok_cust_{i % 5000:05d}",
            "card_token": f"tok_card_{i % 7000:05d}",
            "features": {f"f{j}": float(i % (j + 2)) for j in range(20)},
            "score": (i % 997) / 997,
            "threshold": 0.9,
            "decision": "alert" if i % 997 > 897 else "pass",
            "explanation": {"contributions": {f"f{j}": 0.01 * j for j in range(20)}},
        },
    )


def _median_ms(fn: object, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    """Build the ledger, then time each lookup against the full scan."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="Decisions in the ledger.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}", SCHEMA)
        db.migrate()
        ledger = DecisionLedger(db)
        t0 = time.perf_counter()
        for start in range(0, args.n, 5000):
            ledger.append_many([_event(i) for i in range(start, min(args.n, start + 5000))])
        build = time.perf_counter() - t0
        index = DecisionIndex(db, ledger, {"fraud.scored"})
        t0 = time.perf_counter()
        index.sync()
        catch_up = time.perf_counter() - t0
        target = args.n // 2
        txn, cust = 10_000_000 + target, f"tok_cust_{target % 5000:05d}"

        def scan(key: str, value: object) -> list[int]:
            return [e.seq for e in ledger.entries() if e.payload.get(key) == value]

        rows = [
            (
                "transaction",
                lambda: index.query(DecisionFilter(transaction_id=str(txn))),
                lambda: scan("transaction_id", txn),
            ),
            (
                "customer (newest 50)",
                lambda: index.query(DecisionFilter(customer_token=cust)),
                lambda: scan("customer_token", cust),
            ),
            (
                "model v2, alerts, page 3",
                lambda: index.query(
                    DecisionFilter(
                        model_name="fraud", model_version=2, decision="alert", offset=100
                    )
                ),
                lambda: scan("decision", "alert"),
            ),
            (
                "8-character prefix",
                lambda: index.resolve("decision_id", _id(target)[:8], "x"),
                lambda: [
                    e.seq
                    for e in ledger.entries()
                    if e.subject.startswith(f"decision:{_id(target)[:8]}")
                ],
            ),
        ]
        table = Table(
            "lookup", "indexed (ms)", "full scan (ms)", "speed-up", title=f"{args.n:,} decisions"
        )
        for name, indexed, peer in rows:
            a = _median_ms(indexed)
            b = _median_ms(peer, repeat=1)
            table.add_row(name, f"{a:.2f}", f"{b:.0f}", f"{b / a:,.0f}x")
        console.print(f"ledger built in {build:.1f}s; index caught up in {catch_up:.1f}s (once)")
        console.print(table)
        db.engine.dispose()


if __name__ == "__main__":
    main()
