"""Decision-ledger speed: append (one thread, and many threads sharing commits), verify, and
checkpoint, each against a peer measured in the same run on the same machine.

Peers:
* **plain insert**: the same rows into a table with no chain, no redaction and no lock: what a
  ledger costs above the database itself;
* **0004-era code**: the append and verify loops as they were before this change (redact, then
  encode the payload, then encode it again inside the hash input; verify through ORM-style row
  mappings and ``canonical_json``), run here on the same rows: what the change bought;
* **main's receipt code** before receipts streamed the tree and cached block roots (every leaf
  in a list, the RFC 6962 recursion): the proof bytes must be the same.

Big ledgers are built fast for the bench (valid chained rows bulk-inserted in a child process,
see ``build_fast``) and kept at ``--verify-db`` between runs.

The payload is shaped like a real fraud decision (20 features, their contributions, three
reasons with figures, two customer tokens, a decision id), so redaction costs what it costs in
the service.

    python bench/ledger.py                       # defaults: 1M-entry verify on SQLite
    python bench/ledger.py --verify-n 200000 --no-postgres --threads 8
    # parallel verify: 1 vs 2 worker processes (and a threads peer) on 1M decision entries,
    # and where workers start to pay
    python bench/ledger.py --no-appends --no-postgres --no-anchor --workers 1,2 \
        --verify-db /tmp/v1m.db --crossover 5000,20000,50000,100000
    # the 10M figure: ~23 GB of decision entries (with --payload small: ~6 GB)
    python bench/ledger.py --no-appends --no-postgres --verify-n 10000000 --no-anchor \
        --verify-db /tmp/v10m.db
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import multiprocessing
import os
import resource
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import Column, Integer, MetaData, String, Text, create_engine, insert, select, text
from sqlalchemy import Table as SATable

from bankml.app import SCHEMA
from bankml.core.canonical import canonical_json
from bankml.core.clock import utc_iso
from bankml.core.pii import _TRIGGER, PIITokenizer, _replace, find_pii
from bankml.core.storage import Database
from bankml.core.tables import ledger_entries, ledger_head
from bankml.governance.chainwalk import HASHED_SQL, walk
from bankml.governance.ledger import (
    GENESIS_HASH,
    DecisionLedger,
    Event,
    VerifyReport,
    default_verify_workers,
    encode_payload,
    entry_hash,
)
from bankml.governance.merkle import leaf_hash, node_hash

PG_URL = os.environ.get("BANKML_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
console = Console()
_TOKENS = PIITokenizer(b"bench-key-bench-key-bench-key-01")
FEATURES = [f"feature_{i:02d}" for i in range(20)]


def decision_event(i: int) -> Event:
    """A fraud decision as the scorer records it (shape of ``fraud.service.decision_payload``)."""
    values = {n: round((i * 7 + k) % 97 / 9.7, 4) for k, n in enumerate(FEATURES)}
    return Event(
        "fraud.scored",
        "scoring-service",
        f"decision:{uuid.UUID(int=i * 7919 + 1)}",
        {
            "model": {"name": "fraud", "version": 3},
            "transaction_id": 10_000_000_000 + i,
            "customer_token": _TOKENS.token(str(i % 5000), "customer"),
            "card_token": _TOKENS.token(str(i % 7000), "card"),
            "features": values,
            "score": round(i % 1000 / 1000, 6),
            "threshold": 0.42,
            "decision": "review" if i % 10 == 0 else "pass",
            "explanation": {
                "contributions": {n: round(v / 10 - 0.3, 5) for n, v in values.items()},
                "bias": -2.1,
                "reasons": [
                    f"amount {1000 + i % 900:,}.00 is {1 + i % 13}.5x the customer's 30-day mean",
                    f"{i % 9} transactions in the last hour",
                    f"terminal risk {i % 100 / 100:.2f} over the last 30 days",
                ],
            },
        },
    )


def small_event(i: int) -> Event:
    """The small payload the 0004-era bench used (for figures comparable with its table)."""
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


# --- the 0004-era code paths, kept here as the peer ---------------------------------------------
def legacy_redact_text(value: str) -> str:
    """0004-era ``redact_text``: every string with a digit or "@" is scanned (no skip for the
    tokens and UUIDs bankml mints)."""
    if _TRIGGER.search(value) is None:
        return value
    while matches := find_pii(value):
        value = _replace(value, matches)
    return value


def legacy_redact_payload(obj: object) -> object:
    if isinstance(obj, str):
        return legacy_redact_text(obj)
    if isinstance(obj, dict):
        return {k: legacy_redact_payload(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [legacy_redact_payload(v) for v in obj]
    return obj


def legacy_entry_hash(
    seq: int, ts: str, kind: str, actor: str, subject: str, payload_json: str, prev_hash: str
) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "ts": ts,
            "kind": kind,
            "actor": actor,
            "subject": subject,
            "payload": payload_json,
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def legacy_append(db: Database, events: list[Event], ts: str) -> None:
    prepared = [
        (
            e.kind,
            e.actor,
            legacy_redact_text(e.subject),
            canonical_json(legacy_redact_payload(e.payload)),
        )
        for e in events
    ]
    with db.write_lock() as conn:
        row = conn.execute(select(ledger_head.c.seq, ledger_head.c.hash)).first()
        seq, prev = (0, GENESIS_HASH) if row is None else (int(row.seq), str(row.hash))
        rows = []
        for kind, actor, subject, payload in prepared:
            seq += 1
            digest = legacy_entry_hash(seq, ts, kind, actor, subject, payload, prev)
            rows.append(
                {
                    "seq": seq,
                    "ts": ts,
                    "kind": kind,
                    "actor": actor,
                    "subject": subject,
                    "payload": payload,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        conn.execute(insert(ledger_entries), rows)
        if row is None:
            conn.execute(insert(ledger_head).values(id=1, seq=seq, hash=prev))
        else:
            conn.execute(ledger_head.update().values(seq=seq, hash=prev))


def legacy_verify(db: Database, limit: int) -> int:
    expected, prev, seen, last = 1, GENESIS_HASH, 0, 0
    with db.snapshot() as conn:
        while seen < limit:
            rows = conn.execute(
                select(ledger_entries)
                .where(ledger_entries.c.seq > last)
                .order_by(ledger_entries.c.seq)
                .limit(20_000)
            ).all()
            if not rows:
                break
            for row in rows:
                m = row._mapping
                seq = int(m["seq"])
                assert seq == expected and m["prev_hash"] == prev
                digest = legacy_entry_hash(
                    seq,
                    str(m["ts"]),
                    str(m["kind"]),
                    str(m["actor"]),
                    str(m["subject"]),
                    str(m["payload"]),
                    str(m["prev_hash"]),
                )
                assert digest == m["hash"]
                prev, expected, seen = digest, expected + 1, seen + 1
            last = int(rows[-1].seq)
    return seen


# --- measurements -------------------------------------------------------------------------------
def _median_us(fn: Callable[[int], None], n: int) -> float:
    samples = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        fn(i)
        samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples) / 1e3


def _threads(fn: Callable[[int], None], threads: int, per_thread: int) -> float:
    """Entries per second with ``threads`` threads each appending ``per_thread`` singly."""
    barrier = threading.Barrier(threads + 1)

    def work(t: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            fn(t * per_thread + i)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    barrier.wait()
    t0 = time.perf_counter()
    for th in pool:
        th.join()
    return threads * per_thread / (time.perf_counter() - t0)


def _peer_table(db: Database) -> tuple[MetaData, SATable]:
    md = MetaData()
    table = SATable(
        f"peer_{uuid.uuid4().hex[:8]}",
        md,
        Column("id", Integer, primary_key=True),
        Column("kind", String(64)),
        Column("subject", String(128)),
        Column("payload", Text),
    )
    md.create_all(db.engine)
    return md, table


def bench_appends(name: str, url: str, singles: int, threads: int) -> list[list[str]]:
    """Per-decision append cost and throughput under concurrency, ledger vs peers."""
    events = [decision_event(i) for i in range(max(singles, threads * 200))]
    rows: list[list[str]] = []
    ts = "2026-11-30T12:00:00.000000Z"

    def fresh() -> Database:
        db = Database(url, SCHEMA)
        db.migrate()
        with db.engine.begin() as conn:
            conn.execute(ledger_entries.delete())
            conn.execute(ledger_head.delete())
        return db

    db = fresh()
    md, peer = _peer_table(db)

    def plain(i: int) -> None:
        e = events[i]
        with db.engine.begin() as conn:
            conn.execute(
                peer.insert().values(kind=e.kind, subject=e.subject, payload=json.dumps(e.payload))
            )

    plain_us = _median_us(plain, singles)
    legacy_us = _median_us(lambda i: legacy_append(db, [events[i]], ts), singles)
    db.dispose()

    db = fresh()
    ledger = DecisionLedger(db)
    new_us = _median_us(lambda i: ledger.append_many([events[i]]), singles)
    prep_legacy = _median_us(
        lambda i: canonical_json(legacy_redact_payload(events[i].payload)), min(singles, 2000)
    )
    prep_new = _median_us(lambda i: encode_payload(events[i].payload), min(singles, 2000))
    db.dispose()

    db = fresh()
    per_thread = max(50, singles // threads)
    legacy_tp = _threads(lambda i: legacy_append(db, [events[i]], ts), threads, per_thread)
    db.dispose()
    db = fresh()
    ledger = DecisionLedger(db)
    new_tp = _threads(lambda i: ledger.append_many([events[i]]), threads, per_thread)
    report = ledger.verify()
    assert report.ok and report.entries == threads * per_thread, report
    md.drop_all(db.engine)
    db.dispose()

    rows.append([name, "redact + encode one decision payload, 0004 code", f"{prep_legacy:,.0f} µs"])
    rows.append([name, "redact + encode one decision payload, now", f"{prep_new:,.0f} µs"])
    rows.append([name, "peer: plain insert of one decision, own commit", f"{plain_us:,.0f} µs"])
    rows.append([name, "ledger append of one decision, 0004 code", f"{legacy_us:,.0f} µs"])
    rows.append([name, "ledger append of one decision, now", f"{new_us:,.0f} µs"])
    rows.append([name, f"{threads} threads appending singly, 0004 code", f"{legacy_tp:,.0f}/s"])
    rows.append(
        [name, f"{threads} threads appending singly, now (group commit)", f"{new_tp:,.0f}/s"]
    )
    return rows


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_fast(path: Path, n: int, make: Callable[[int], Event]) -> None:
    """Grow the ledger at ``path`` (SQLite) to ``n`` valid, chained entries, fast (bench only).

    The payloads of 5,000 events are redacted and encoded once by the ledger's own code
    (``encode_payload``) and reused round-robin; each row is then chained and hashed with
    ``entry_hash`` and bulk-inserted through the driver, 50,000 rows a transaction, with the
    head row updated in the same transaction (so an interrupted build resumes). One timestamp
    per 1,000 rows, as group commit writes one per transaction. ``verify`` checks the result.
    """
    import sqlite3

    from bankml.core.pii import redact_text

    db = Database(f"sqlite:///{path}", SCHEMA)
    db.migrate()
    db.dispose()
    template = [make(i) for i in range(5_000)]
    prepared = [
        (e.kind, e.actor, redact_text(e.subject), encode_payload(e.payload)) for e in template
    ]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")  # 1 GB: the unique hash index takes random keys
    row = conn.execute("SELECT seq, hash FROM ledger_head WHERE id = 1").fetchone()
    seq, prev = (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))
    if seq >= n:
        return
    console.print(f"building a {n:,}-entry ledger ({seq:,} there) ...")
    base = datetime(2026, 11, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    while seq < n:
        rows = []
        for _ in range(min(50_000, n - seq)):
            seq += 1
            kind, actor, subject, payload = prepared[seq % len(prepared)]
            ts = utc_iso(base + timedelta(milliseconds=seq // 1_000))
            digest = entry_hash(seq, ts, kind, actor, subject, payload, prev)
            rows.append((seq, ts, kind, actor, subject, payload, prev, digest))
            prev = digest
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO ledger_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        if row is None:
            conn.execute("INSERT INTO ledger_head (id, seq, hash) VALUES (1, ?, ?)", (seq, prev))
            row = (seq, prev)
        else:
            conn.execute("UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1", (seq, prev))
        conn.execute("COMMIT")
        if seq % 1_000_000 == 0:
            console.print(f"  {seq:,} entries, {time.perf_counter() - t0:.0f} s")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _build_in_child(path: Path, n: int, make: Callable[[int], Event]) -> None:
    """Build in a child process, so its memory does not count in the verify's peak RSS."""
    child = multiprocessing.get_context("fork").Process(target=build_fast, args=(path, n, make))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"building the bench ledger failed (exit {child.exitcode})")


def _cpu_s() -> float:
    """CPU seconds used so far by this process and its waited-for children (the workers)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class _RangeCPU(logging.Handler):
    """Catches the ledger's log line with each worker's CPU seconds."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.per_range: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("ledger verify workers: CPU seconds"):
            self.per_range = list(record.args[0])  # type: ignore[index]


def _timed_verify(
    ledger: DecisionLedger, workers: int
) -> tuple[VerifyReport, float, float, list[float]]:
    """One verify with ``workers`` processes forced on at any size: report, wall s, CPU s
    (this process and its workers), and each worker's CPU s (empty for the single walk)."""
    logger = logging.getLogger("bankml.governance.ledger")
    catch, level = _RangeCPU(), logger.level
    logger.addHandler(catch)
    logger.setLevel(logging.INFO)
    try:
        cpu, t0 = _cpu_s(), time.perf_counter()
        report = ledger.verify(workers=workers, parallel_from=1)
        return report, time.perf_counter() - t0, _cpu_s() - cpu, catch.per_range
    finally:
        logger.removeHandler(catch)
        logger.setLevel(level)


def thread_verify(path: Path, workers: int, bound: int) -> int:
    """The peer: the same range walks (``chainwalk.walk``), ``workers`` threads in this
    process, one SQLite connection each; returns the entries they checked. sqlite3 releases
    the GIL while it steps, hashlib only for inputs of 2 KiB or more, the JSON escape never."""
    import sqlite3

    edges = [bound * i // workers for i in range(workers + 1)]
    counts = [0] * workers

    def run(i: int) -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            cur = conn.execute(
                f"SELECT {HASHED_SQL} FROM ledger_entries WHERE seq > ? AND seq <= ? ORDER BY seq",
                (edges[i], edges[i + 1]),
            )
            batches = iter(lambda: cur.fetchmany(5_000), [])
            counts[i] = walk(batches, edges[i], None).count
        finally:
            conn.close()

    pool = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return sum(counts)


def bench_verify(
    path: Path, n: int, make: Callable[[int], Event], workers: list[int]
) -> Iterator[list[str]]:
    """Build an ``n``-entry ledger (kept between runs at the same path), then time verify with
    each number of ``workers`` (1: the single walk), and the 0004-era verify over (at most)
    its first 1M entries, in the same run."""
    _build_in_child(path, n, make)
    db = Database(f"sqlite:///{path}", SCHEMA)
    ledger = DecisionLedger(db)
    single: float | None = None
    single_cpu = 0.0
    for w in workers:
        rss_before = _max_rss_mb()
        report, seconds, cpu, per_range = _timed_verify(ledger, w)
        rss_after = _max_rss_mb()
        assert report.ok, report
        single = seconds if w == 1 else single
        single_cpu = cpu if w == 1 else single_cpu
        vs = "" if single is None or w == 1 else f"; {single / seconds:.2f}x the single walk"
        # The critical path on an idle machine: the busiest worker's CPU time.
        critical = (
            f"; busiest worker {max(per_range):.1f} s CPU = {max(per_range) / single_cpu:.2f} "
            "of the single walk's"
            if per_range and single_cpu
            else ""
        )
        yield [
            "sqlite",
            f"verify {report.entries:,} {make.__name__} entries, now, "
            + ("one process" if w == 1 else f"{w} worker processes"),
            f"{seconds:.1f} s wall, {cpu:.1f} s CPU ({seconds / report.entries * 1e6:.1f} "
            f"µs/entry{vs}{critical}), peak RSS +{max(0.0, rss_after - rss_before):.0f} MB "
            f"(of {rss_after:.0f} MB, this process)",
        ]
    if single is not None and max(workers) > 1:
        w = max(workers)
        cpu, t0 = _cpu_s(), time.perf_counter()
        checked = thread_verify(path, w, report.entries)
        threaded, cpu = time.perf_counter() - t0, _cpu_s() - cpu
        assert checked == report.entries, checked
        yield [
            "sqlite",
            f"peer: the same range walks in {w} threads of one process",
            f"{threaded:.1f} s wall, {cpu:.1f} s CPU ({single / threaded:.2f}x the single walk)",
        ]
    seconds = seconds if single is None else single
    sample = min(report.entries, 1_000_000)
    if sample < report.entries:
        t0 = time.perf_counter()
        for _ in ledger.chain_hash_batches(0, sample, GENESIS_HASH):
            pass
        part = time.perf_counter() - t0
        yield [
            "sqlite",
            f"re-hash the first {sample:,} entries, now (the checkpoint path)",
            f"{part:.1f} s ({part / sample * 1e6:.1f} µs/entry)",
        ]
    if sample:
        t0 = time.perf_counter()
        sample = legacy_verify(db, sample)
        legacy = time.perf_counter() - t0
        yield [
            "sqlite",
            f"verify {sample:,} {make.__name__} entries, 0004 code",
            f"{legacy:.1f} s ({legacy / sample * 1e6:.1f} µs/entry; "
            f"now is {legacy / sample / (seconds / report.entries):.1f}x faster)",
        ]
    db.dispose()


def bench_crossover(tmp: Path, sizes: list[int], workers: int) -> Iterator[list[str]]:
    """Where parallel verify starts to pay: 1 vs ``workers`` processes on decision ledgers of
    each size (grown in place), median of 3 runs each, interleaved. Sets
    ``PARALLEL_VERIFY_FROM``."""
    path = tmp / "crossover.db"
    for n in sorted(sizes):
        _build_in_child(path, n, decision_event)
        db = Database(f"sqlite:///{path}", SCHEMA)
        ledger = DecisionLedger(db)
        runs: dict[int, list[float]] = {1: [], workers: []}
        cpus: dict[int, list[float]] = {1: [], workers: []}
        for _ in range(3):
            for w in (1, workers):
                report, seconds, cpu, per_range = _timed_verify(ledger, w)
                assert report.ok and report.entries == n, report
                runs[w].append(seconds)
                cpus[w].append(max(per_range) if per_range else cpu)
        one, many = statistics.median(runs[1]), statistics.median(runs[workers])
        one_cpu, busiest = statistics.median(cpus[1]), statistics.median(cpus[workers])
        db.dispose()
        yield [
            "sqlite",
            f"verify {n:,} decision entries: one process vs {workers} workers (median of 3)",
            f"wall {one * 1e3:,.0f} vs {many * 1e3:,.0f} ms ({one / many:.2f}x); CPU of the "
            f"single walk {one_cpu * 1e3:,.0f} ms vs the busiest worker {busiest * 1e3:,.0f} ms "
            f"({one_cpu / busiest:.2f}x)",
        ]


# --- main's receipt code before the DBAPI / streamed-Merkle change, kept as the receipt peer ------
def _legacy_mth(leaves: list[bytes], lo: int, hi: int) -> bytes:
    n = hi - lo
    if n == 1:
        return leaves[lo]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(_legacy_mth(leaves, lo, lo + k), _legacy_mth(leaves, lo + k, hi))


def legacy_receipt_proof(db: Database, seq: int, size: int) -> tuple[list[bytes], bytes]:
    """Keyset pages of (seq, hash) through SQLAlchemy, every leaf in one list, the RFC 6962
    recursion once for the root and again for each sibling on the path."""
    leaves: list[bytes] = []
    last = 0
    with db.snapshot() as conn:
        while last < size:
            rows = conn.execute(
                select(ledger_entries.c.seq, ledger_entries.c.hash)
                .where(ledger_entries.c.seq > last, ledger_entries.c.seq <= size)
                .order_by(ledger_entries.c.seq)
                .limit(25_000)
            ).all()
            if not rows:
                break
            leaves.extend(leaf_hash(str(h)) for _, h in rows)
            last = int(rows[-1][0])
    root = _legacy_mth(leaves, 0, len(leaves))
    path: list[bytes] = []
    index, lo, hi = seq - 1, 0, len(leaves)
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if index < lo + k:
            path.append(_legacy_mth(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_legacy_mth(leaves, lo, lo + k))
            lo = lo + k
    path.reverse()
    return path, root


def bench_checkpoint(path: Path, tmp: Path, workers: int) -> list[list[str]]:
    """Time to sign a first checkpoint over the whole ledger (one process, then ``workers``
    processes), then an incremental one, then receipts (inclusion proofs) against main's
    receipt code before this change."""
    from bankml.governance.anchor import AnchorLog, LedgerAnchor, create_anchor_key

    db = Database(f"sqlite:///{path}", SCHEMA)
    key = tmp / "anchor.pem"
    if not key.exists():
        create_anchor_key(key)
    firsts = {}
    for w in sorted({1, workers}):
        ledger = DecisionLedger(db, verify_workers=w)
        anchor = LedgerAnchor(ledger, AnchorLog(tmp / f"anchor-{uuid.uuid4().hex[:6]}"), key)
        cpu, t0 = _cpu_s(), time.perf_counter()
        cp, _ = anchor.checkpoint()
        firsts[w] = (time.perf_counter() - t0, _cpu_s() - cpu)
    first, first_cpu = firsts[workers]
    single, single_cpu = firsts[1]
    ledger.append_many([decision_event(i) for i in range(1_000)])
    t0 = time.perf_counter()
    anchor.checkpoint()
    incremental = time.perf_counter() - t0
    rss_before = _max_rss_mb()
    t0 = time.perf_counter()
    receipt = anchor.receipt(cp.seq // 2)  # no block cache yet: every stored hash is read
    cold = time.perf_counter() - t0
    rss_after = _max_rss_mb()
    samples = []
    for seq in (1, cp.seq // 3, cp.seq // 2 + 1, cp.seq - 1, cp.seq):
        t0 = time.perf_counter()
        anchor.receipt(seq)
        samples.append(time.perf_counter() - t0)
    warm = statistics.median(samples)
    total = cp.seq + 1_000
    rows = [
        [
            "sqlite",
            f"first checkpoint over {cp.seq:,} entries, now, one process",
            f"{single:.1f} s wall, {single_cpu:.1f} s CPU",
        ],
        [
            "sqlite",
            f"first checkpoint over {cp.seq:,} entries, now, {workers} worker processes",
            f"{first:.1f} s wall, {first_cpu:.1f} s CPU ({single / first:.2f}x)",
        ],
        ["sqlite", "next checkpoint, 1,000 new entries", f"{incremental * 1e3:,.0f} ms"],
        [
            "sqlite",
            f"receipt in {total:,} entries, now, first (builds the block cache)",
            f"{cold:.2f} s, peak RSS +{max(0.0, rss_after - rss_before):.0f} MB",
        ],
        [
            "sqlite",
            f"receipt in {total:,} entries, now, with the block cache",
            f"{warm * 1e3:.1f} ms (median of 5)",
        ],
    ]
    if cp.seq <= 2_000_000:  # the peer holds every leaf in memory and recurses: not at 10M
        t0 = time.perf_counter()
        proof, root = legacy_receipt_proof(db, cp.seq // 2, receipt["tree_size"])
        legacy = time.perf_counter() - t0
        assert [p.hex() for p in proof] == receipt["inclusion_proof"]  # same bytes, both ways
        assert root.hex() == receipt["checkpoint"]["merkle_root"]
        rows.append(
            [
                "sqlite",
                f"receipt in {cp.seq + 1_000:,} entries, main's code before this change",
                f"{legacy:.2f} s (now: {legacy / cold:.1f}x faster first, "
                f"{legacy / warm:,.0f}x with the cache)",
            ]
        )
    db.dispose()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--singles", type=int, default=2_000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--verify-n", type=int, default=1_000_000)
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-appends", action="store_true", help="Only the verify figures.")
    ap.add_argument(
        "--payload",
        choices=["decision", "small"],
        default="decision",
        help="Verify-ledger payload: a full fraud decision, or the 0004-era bench's small one.",
    )
    ap.add_argument(
        "--verify-db", type=Path, default=None, help="Keep the verify ledger here between runs."
    )
    ap.add_argument(
        "--no-anchor", action="store_true", help="Skip the checkpoint and receipt figures."
    )
    ap.add_argument(
        "--workers",
        default=f"1,{default_verify_workers()}",
        help="Verify with each of these numbers of worker processes (1: one process), "
        "comma-separated, in this order (default: %(default)s).",
    )
    ap.add_argument(
        "--crossover",
        default="",
        help="Comma-separated ledger sizes: time 1 vs N workers on each, to place the "
        "threshold where parallel verify starts (e.g. 5000,20000,50000,100000).",
    )
    args = ap.parse_args()
    workers = [int(w) for w in args.workers.split(",") if w.strip()]

    load = os.getloadavg()
    table = Table("backend", "operation", "figure", title="decision ledger")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if not args.no_appends:
            for row in bench_appends(
                "sqlite", f"sqlite:///{tmp / 'a.db'}", args.singles, args.threads
            ):
                table.add_row(*row)
        if not args.no_postgres and not args.no_appends:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            try:
                url = f"{PG_URL}?options=-csearch_path%3D{schema}"
                for row in bench_appends("postgresql", url, args.singles, args.threads):
                    table.add_row(*row)
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()
        verify_db = args.verify_db or tmp / "v.db"
        make = decision_event if args.payload == "decision" else small_event
        if args.verify_n:
            for row in bench_verify(verify_db, args.verify_n, make, workers):
                table.add_row(*row)
                console.print(" | ".join(row))  # as it comes: the 10M run is long
            for row in [] if args.no_anchor else bench_checkpoint(verify_db, tmp, max(workers)):
                table.add_row(*row)
        sizes = [int(n) for n in args.crossover.split(",") if n.strip()]
        for row in bench_crossover(tmp, sizes, max(workers)) if sizes else []:
            table.add_row(*row)
            console.print(" | ".join(row))
    console.print(table)
    end = os.getloadavg()
    console.print(
        f"load average (1, 5, 15 min): at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"at end {end[0]:.2f} {end[1]:.2f} {end[2]:.2f}; {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
