"""Decision-ledger throughput: appends/s (one per transaction and batched) on SQLite and
PostgreSQL, and the time to verify a chain of 1 million entries.

The peer in the same run is a plain SQLAlchemy insert of the same rows into a table with no
chain and no lock, so the figures show what the hash chain and serialisation cost.

    python bench/ledger.py                # defaults: 2,000 single, 200k batched, 1M verify
    python bench/ledger.py --verify-n 200000 --no-postgres
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Text,
    create_engine,
    text,
)
from sqlalchemy import (
    Table as SATable,
)

from bankml.app import SCHEMA
from bankml.core.storage import Database
from bankml.governance.ledger import DecisionLedger, Event

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
console = Console()


def _event(i: int) -> Event:
    return Event(
        "fraud.scored",
        "scoring-service",
        f"decision:{i}",
        {
            "model": "fraud/3",
            "score": round(i % 1000 / 1000, 3),
            "decision": "pass",
            "features": {"amount": 42.5, "tx_count_7d": i % 17, "terminal_risk_30d": 0.01},
        },
    )


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s"


def bench_backend(name: str, url: str, singles: int, batched: int, batch: int) -> list[list[str]]:
    db = Database(url, SCHEMA)
    db.migrate()
    ledger = DecisionLedger(db)
    rows: list[list[str]] = []

    t0 = time.perf_counter()
    for i in range(singles):
        ledger.append_many([_event(i)])
    rows.append(
        [
            name,
            "ledger append, 1 per transaction",
            f"{singles:,}",
            _rate(singles, time.perf_counter() - t0),
        ]
    )

    t0 = time.perf_counter()
    for start in range(0, batched, batch):
        ledger.append_many([_event(i) for i in range(start, min(start + batch, batched))])
    rows.append(
        [
            name,
            f"ledger append, batches of {batch}",
            f"{batched:,}",
            _rate(batched, time.perf_counter() - t0),
        ]
    )

    # Peer: the same rows as plain inserts, no chain, no redaction, no lock.
    peer_md = MetaData()
    peer = SATable(
        f"peer_{uuid.uuid4().hex[:8]}",
        peer_md,
        Column("id", Integer, primary_key=True),
        Column("kind", String(64)),
        Column("subject", String(128)),
        Column("payload", Text),
    )
    peer_md.create_all(db.engine)
    import json

    t0 = time.perf_counter()
    for i in range(singles):
        with db.engine.begin() as conn:
            e = _event(i)
            conn.execute(
                peer.insert().values(kind=e.kind, subject=e.subject, payload=json.dumps(e.payload))
            )
    rows.append(
        [
            name,
            "peer: plain insert, 1 per transaction",
            f"{singles:,}",
            _rate(singles, time.perf_counter() - t0),
        ]
    )
    t0 = time.perf_counter()
    for start in range(0, batched, batch):
        with db.engine.begin() as conn:
            conn.execute(
                peer.insert(),
                [
                    {"kind": e.kind, "subject": e.subject, "payload": json.dumps(e.payload)}
                    for e in (_event(i) for i in range(start, min(start + batch, batched)))
                ],
            )
    rows.append(
        [
            name,
            f"peer: plain insert, batches of {batch}",
            f"{batched:,}",
            _rate(batched, time.perf_counter() - t0),
        ]
    )
    peer_md.drop_all(db.engine)
    db.dispose()
    return rows


def bench_verify(url: str, n: int) -> list[str]:
    db = Database(url, SCHEMA)
    db.migrate()
    ledger = DecisionLedger(db)
    have = ledger.count()
    batch = 5_000
    for start in range(have, n, batch):
        ledger.append_many([_event(i) for i in range(start, min(start + batch, n))])
    t0 = time.perf_counter()
    report = ledger.verify()
    seconds = time.perf_counter() - t0
    db.dispose()
    assert report.ok, report
    return [
        "sqlite",
        f"verify {report.entries:,} entries",
        f"{seconds:.1f} s",
        _rate(report.entries, seconds),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--singles", type=int, default=2_000)
    ap.add_argument("--batched", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=1_000)
    ap.add_argument("--verify-n", type=int, default=1_000_000)
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()

    table = Table("backend", "operation", "entries", "rate", title="decision ledger")
    with tempfile.TemporaryDirectory() as tmp:
        for row in bench_backend(
            "sqlite", f"sqlite:///{Path(tmp) / 'b.db'}", args.singles, args.batched, args.batch
        ):
            table.add_row(*row)
        if not args.no_postgres:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            try:
                url = f"{PG_URL}?options=-csearch_path%3D{schema}"
                for row in bench_backend("postgresql", url, args.singles, args.batched, args.batch):
                    table.add_row(*row)
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()
        console.print(f"building a {args.verify_n:,}-entry chain for the verify figure ...")
        verify_row = bench_verify(f"sqlite:///{Path(tmp) / 'v.db'}", args.verify_n)
        table.add_row(verify_row[0], verify_row[1], verify_row[2], verify_row[3])
    console.print(table)


if __name__ == "__main__":
    main()
