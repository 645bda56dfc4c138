"""The decision ledger: an append-only, SHA-256 hash-chained log of every decision and action.

Each entry's hash covers its sequence number, time, kind, actor, subject, canonical payload
and the previous entry's hash, so editing, deleting, inserting or reordering any entry breaks
the chain from that point. A one-row head (last seq and hash), written in the same transaction
as every append, also catches a truncated tail. Anchoring the head hash outside the database
(``bankml audit verify`` prints it) catches a wholesale rewrite too.

Writers serialise through ``Database.write_lock`` (``BEGIN IMMEDIATE`` on SQLite, an advisory
lock on PostgreSQL), and ``seq`` is the primary key, so concurrent threads or processes can
never fork the chain: at worst a writer waits. Within a process, ``append``/``append_many``
group-commit: threads that arrive while a transaction is being written queue up, and the next
writer takes the whole queue in one transaction; each caller returns once its own entry has
committed.

Payloads pass through the PII redactor before they are hashed: the ledger never holds raw PII.
Each payload is redacted and encoded to canonical JSON once, before any lock is taken; the
entry hash is built from those stored bytes directly (``entry_hash``), so ``verify`` does not
parse or re-encode JSON either.

Signed checkpoints of the head, kept outside the database, are the job of
``bankml.governance.anchor``; ``verify`` takes their (seq, head hash) pairs and checks the chain
still runs through each of them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import queue
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Collection, Generator, Iterator, Mapping, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring  # C-accelerated, as json.dumps uses
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, RowMapping, and_, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from bankml.core.canonical import to_jsonable
from bankml.core.clock import Clock, SystemClock, utc_iso
from bankml.core.errors import InputError, IntegrityError, NotFoundError, UnavailableError
from bankml.core.pii import redact_payload, redact_text
from bankml.core.storage import Database
from bankml.core.tables import ledger_entries, ledger_head
from bankml.core.text import clean_text
from bankml.governance import chainwalk
from bankml.governance.chainwalk import RangeWalk, msg_missing, msg_no_link, walk

__all__ = [
    "GENESIS_HASH",
    "PARALLEL_VERIFY_FROM",
    "DecisionLedger",
    "Event",
    "LedgerEntry",
    "VerifyReport",
    "default_verify_workers",
    "encode_payload",
    "entry_hash",
]

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
_HEAD_ID = 1
_VERIFY_BATCH = chainwalk.BATCH
# Below this many entries ``verify`` walks in this process: starting the workers costs more
# than they save (measured in bench/ledger.py; docs/benchmarks.md).
PARALLEL_VERIFY_FROM = 50_000
_enc: Callable[[str], str] = encode_basestring
# Built once: constructing SQLAlchemy statements per append cost more than running them.
_SELECT_HEAD = select(ledger_head.c.seq, ledger_head.c.hash).where(ledger_head.c.id == _HEAD_ID)


@dataclass(frozen=True)
class _WriteSQL:
    """The append's statements in one driver's parameter style (run on its cursor)."""

    select_head: str
    insert_entry: str
    insert_head: str
    update_head: str

    @classmethod
    def with_marker(cls, mark: str) -> _WriteSQL:
        entries, head = ledger_entries.name, ledger_head.name
        columns = "seq, ts, kind, actor, subject, payload, prev_hash, hash"
        return cls(
            select_head=f"SELECT seq, hash FROM {head} WHERE id = {_HEAD_ID}",
            insert_entry=f"INSERT INTO {entries} ({columns}) VALUES ({', '.join([mark] * 8)})",
            insert_head=f"INSERT INTO {head} (id, seq, hash) VALUES ({_HEAD_ID}, {mark}, {mark})",
            update_head=f"UPDATE {head} SET seq = {mark}, hash = {mark} WHERE id = {_HEAD_ID}",
        )


_SQLITE_WRITE = _WriteSQL.with_marker("?")
_PG_WRITE = _WriteSQL.with_marker("%s")  # psycopg
# The columns an entry hash covers, in the order the verify loops unpack them.
_HASHED_SQL = chainwalk.HASHED_SQL


@dataclass(frozen=True)
class Event:
    """Something to record: what happened (kind), who did it, to what, and the details."""

    kind: str
    actor: str
    subject: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LedgerEntry:
    """One stored, chained ledger entry."""

    seq: int
    ts: str
    kind: str
    actor: str
    subject: str
    payload_json: str
    prev_hash: str
    hash: str

    @property
    def payload(self) -> dict[str, Any]:
        """The payload, parsed."""
        value: dict[str, Any] = json.loads(self.payload_json)
        return value

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view for faces."""
        return {
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind,
            "actor": self.actor,
            "subject": self.subject,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of walking the whole chain.

    ``anchored_seq`` is the newest checkpointed sequence number the chain was checked against
    (None when no checkpoint was given); ``unanchored`` counts the entries after it, which a
    checkpoint does not protect yet.
    """

    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None
    anchored_seq: int | None = None
    unanchored: int = 0


def entry_hash(
    seq: int, ts: str, kind: str, actor: str, subject: str, payload_json: str, prev_hash: str
) -> str:
    """SHA-256 over the previous hash, a newline and the entry's canonical JSON.

    The canonical JSON of ``{"actor", "kind", "payload", "seq", "subject", "ts"}`` (sorted keys,
    no whitespace, UTF-8 kept) is spelled out here rather than built by ``canonical_json``: the
    bytes are identical (a test pins them) and the hot paths, append and verify, skip building
    and walking a dict per entry.
    """
    body = (
        f'{prev_hash}\n{{"actor":{_enc(actor)},"kind":{_enc(kind)},"payload":{_enc(payload_json)},'
        f'"seq":{seq},"subject":{_enc(subject)},"ts":{_enc(ts)}}}'
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _check_event(event: Event) -> None:
    for name in ("kind", "actor", "subject"):
        value = getattr(event, name)
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"ledger event needs a non-empty {name}")
        clean_text(value, f"ledger event {name}")  # NUL breaks PostgreSQL text columns
    if len(event.kind) > 64 or len(event.actor) > 64 or len(event.subject) > 128:
        raise InputError("ledger event kind/actor must be <= 64 and subject <= 128 characters")


_Prepared = tuple[str, str, str, str]  # kind, actor, redacted subject, canonical payload


def _redacted(value: Any) -> Any:
    """One walk that both redacts and makes JSON-ready (``redact_payload`` + ``to_jsonable``).

    Plain JSON types are handled inline; anything else (numpy scalars, dates, enums, paths)
    goes through ``to_jsonable`` and has its strings redacted afterwards.
    """
    kind = type(value)
    if kind is str:
        return redact_text(value)
    if kind is float:
        if not math.isfinite(value):
            raise InputError(f"cannot record a non-finite number ({value}) in canonical JSON")
        return value
    if value is None or kind is int or kind is bool:
        return value
    if kind is dict:
        return {str(k): _redacted(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_redacted(v) for v in value]
    return redact_payload(to_jsonable(value))


def encode_payload(payload: dict[str, Any]) -> str:
    """The payload as stored and hashed: PII redacted, canonical JSON, built in one pass.

    Byte for byte ``canonical_json(redact_payload(payload))`` (a property test holds it to that).
    """
    return json.dumps(_redacted(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _prepare(events: Sequence[Event]) -> list[_Prepared]:
    """Check, redact and encode each event once, outside any lock."""
    out: list[_Prepared] = []
    for e in events:
        _check_event(e)
        out.append((e.kind, e.actor, redact_text(e.subject), encode_payload(e.payload)))
    return out


class _Waiter:
    """One caller's events in the group-commit queue."""

    __slots__ = ("entries", "error", "lead", "prepared", "wake")

    def __init__(self, prepared: list[_Prepared]) -> None:
        self.prepared = prepared
        self.entries: list[LedgerEntry] | None = None
        self.error: BaseException | None = None
        self.lead = False
        self.wake = threading.Event()


def _to_entry(m: RowMapping) -> LedgerEntry:
    return LedgerEntry(
        seq=int(m["seq"]),
        ts=str(m["ts"]),
        kind=str(m["kind"]),
        actor=str(m["actor"]),
        subject=str(m["subject"]),
        payload_json=str(m["payload"]),
        prev_hash=str(m["prev_hash"]),
        hash=str(m["hash"]),
    )


def _scan(
    conn: Connection, columns: str, after: int, upto: int | None
) -> Generator[list[Any], None, None]:
    """Rows of ``ledger_entries`` with ``after < seq <= upto``, in seq order, in batches,
    read through the DBAPI cursor of ``conn``'s transaction (so within its snapshot).

    The hot loops (verify, checkpoint, receipt) spent more on SQLAlchemy's row objects than on
    hashing. PostgreSQL gets a named (server-side) cursor so the table streams instead of
    being loaded whole; SQLite's cursor steps through the table lazily by itself.
    """
    raw = conn.connection.driver_connection
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    sql = f"SELECT {columns} FROM {ledger_entries.name} WHERE seq > {mark}"
    params: tuple[int, ...] = (after,)
    if upto is not None:
        sql, params = f"{sql} AND seq <= {mark}", (after, upto)
    assert raw is not None  # a live connection inside a transaction
    cur = raw.cursor() if sqlite else raw.cursor(name=f"bankml_ledger_scan_{uuid.uuid4().hex}")
    try:
        cur.execute(f"{sql} ORDER BY seq", params)
        while rows := cur.fetchmany(_VERIFY_BATCH):
            yield rows
    finally:
        cur.close()


def default_verify_workers() -> int:
    """Worker processes ``verify`` uses by default: one per core, at most four (a 2-core
    machine gets 2; beyond four, one SQLite file or one PostgreSQL server is the limit)."""
    return max(1, min(os.cpu_count() or 1, 4))


@dataclass(frozen=True)
class _RangePlan:
    """Parallel verify: how workers connect, the range edges (range i is
    ``edges[i] < seq <= edges[i + 1]``) and, on PostgreSQL, the snapshot they import."""

    connect: dict[str, Any]
    edges: list[int]
    snapshot: str | None


def _worker_connect(db: Database) -> dict[str, Any] | None:
    """What a worker needs to open its own connection to ``db`` (JSON-ready), from the same
    arguments SQLAlchemy's dialect would pass the driver; None when a separate process cannot
    reach the same data (an in-memory SQLite database)."""
    args, kwargs = db.engine.dialect.create_connect_args(db.engine.url)
    if db.is_sqlite:
        target = str(args[0]) if args else ""
        if target in ("", ":memory:") or "mode=memory" in target:
            return None
        return {"backend": "sqlite", "database": target, "uri": bool(kwargs.get("uri"))}
    plain = {k: v for k, v in kwargs.items() if isinstance(v, str | int | float | bool)}
    return {"backend": "postgresql", "conninfo": str(args[0]) if args else "", **plain}


def _run_workers(
    plan: _RangePlan,
    anchors: Mapping[int, str],
    expect_head: str | None,
    stored_seq: int,
    progress: Callable[[int, int], None] | None,
    hash_dir: Path | None = None,
) -> list[RangeWalk | None]:
    """Walk each range of ``plan`` in its own worker process; their results in range order.

    Workers are fresh interpreters running the stdlib-only ``chainwalk`` module: nothing is
    forked from this process (which may hold threads and connections), and a worker does not
    re-import the parent's main module (``multiprocessing``'s spawn would re-run the CLI's or
    a bench's imports in every worker). A reader thread per worker turns its output into
    queue messages, so progress is reported on this thread. Once a range reports a bad entry,
    the ranges after it cannot change the report and their workers are stopped. With
    ``hash_dir``, worker ``i`` writes the hashes it computed to ``hash_dir/i.hex``.
    """
    n = len(plan.edges) - 1
    events: queue.Queue[tuple[int, str]] = queue.Queue()
    walks: list[RangeWalk | None] = [None] * n
    done = [0] * n
    procs: list[subprocess.Popen[bytes]] = []
    readers: list[threading.Thread] = []
    failed: dict[int, str] = {}
    stderrs: list[IO[bytes]] = []
    env = _worker_env()
    with ExitStack() as stack:
        try:
            for i in range(n):
                lo, hi = plan.edges[i], plan.edges[i + 1]
                job = {
                    "backend": plan.connect["backend"],
                    "connect": {k: v for k, v in plan.connect.items() if k != "backend"},
                    "after": lo,
                    "upto": hi,
                    "anchors": {str(k): v for k, v in anchors.items() if lo < k <= hi},
                    "expect_head": expect_head,
                    "snapshot": plan.snapshot,
                    "hashes_to": None if hash_dir is None else str(hash_dir / f"{i}.hex"),
                }
                stderr = stack.enter_context(tempfile.TemporaryFile())
                try:
                    proc = subprocess.Popen(
                        [sys.executable, "-m", chainwalk.__name__],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=stderr,
                        env=env,
                    )
                    procs.append(proc)
                    assert proc.stdin is not None and proc.stdout is not None  # PIPEs above
                    proc.stdin.write(json.dumps(job).encode())
                    proc.stdin.close()
                except OSError as exc:
                    raise UnavailableError(f"cannot start a ledger verify worker: {exc}") from None
                stderrs.append(stderr)
                reader = threading.Thread(
                    target=_read_worker, args=(i, proc.stdout, events), daemon=True
                )
                reader.start()
                readers.append(reader)
            running = n
            while running:
                i, line = events.get()
                if line.isdigit():
                    done[i] = int(line)
                    if progress is not None:
                        total = sum(done)
                        progress(total, max(total, stored_seq))
                    continue
                running -= 1
                if line.startswith("="):
                    found = walks[i] = RangeWalk(**json.loads(line[1:]))
                    if found.bad_seq is not None:  # later ranges cannot change the report
                        for later in procs[i + 1 :]:
                            later.kill()
                else:  # "!" + the worker's one-line error, or "" when it ended without a result
                    failed[i] = line[1:] or _last_line(procs[i], stderrs[i])
            log.info(
                "ledger verify workers: CPU seconds per range %s",
                [round(w.cpu_s, 2) for w in walks if w is not None],
            )
            first_bad = next((i for i, w in enumerate(walks) if w and w.bad_seq is not None), n)
            if problems := [failed[i] for i in sorted(failed) if i < first_bad]:
                raise UnavailableError(f"a ledger verify worker failed: {problems[0]}")
            return walks
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
            for reader in readers:
                reader.join(timeout=5)


def _worker_env() -> dict[str, str]:
    """The workers' environment: this one, with the source tree this bankml was imported from
    first on ``PYTHONPATH`` (a checkout found through a ``sys.path`` change the child would
    not make), so a worker runs the very code its parent does. An installed bankml (in
    ``site-packages``) is found by the child's own interpreter and left alone."""
    env = dict(os.environ)
    root = Path(chainwalk.__file__).resolve().parents[2]
    current = env.get("PYTHONPATH", "")
    if root.name not in ("site-packages", "dist-packages") and str(root) not in current.split(
        os.pathsep
    ):
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), current]))
    return env


def _last_line(proc: subprocess.Popen[bytes], stderr: IO[bytes]) -> str:
    """Why a worker ended without a result: the last line it wrote to stderr, or its status."""
    status = proc.wait()
    stderr.seek(0)
    lines = stderr.read()[-4_000:].decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else f"a worker exited with status {status} and no result"


def _read_worker(i: int, stream: IO[bytes], events: queue.Queue[tuple[int, str]]) -> None:
    """Forward worker ``i``'s lines; "" at the end of its output if it gave no result."""
    finished = False
    with stream:
        for raw in stream:
            line = raw.decode(errors="replace").rstrip("\n")
            finished = finished or line[:1] in ("=", "!")
            events.put((i, line))
    if not finished:
        events.put((i, ""))


def _stitch(
    walks: Sequence[RangeWalk | None], edges: Sequence[int], prev: str = GENESIS_HASH
) -> tuple[int, str, bool, tuple[int, str] | None]:
    """Join the ranges' walks into what one walk from entry ``edges[0] + 1`` (linked to
    ``prev``) would have found: entries seen, the last hash, whether the expected head was
    met, and the first problem.

    Range ``i`` continues the chain only if its first entry's stored ``prev_hash`` is the
    hash computed for the last entry of range ``i - 1`` (the link no worker could check); a
    range that ran out of rows ends the chain, unless a later range holds rows, in which case
    the first missing entry is the problem, as the single walk reports it.
    """
    seen, found = 0, False
    for i, w in enumerate(walks):
        assert w is not None  # only ranges after a bad one are stopped, and we return there
        start = w.after + 1
        if w.count == 0 and w.bad_seq == start and w.problem == msg_missing(start):
            return seen, prev, found, (start, str(w.problem))
        if w.rows and w.first_prev != prev:
            return seen, prev, found, (start, msg_no_link(start))
        seen += w.count
        if w.bad_seq is not None:
            return seen, prev, found, (w.bad_seq, str(w.problem))
        if w.count:
            prev = w.last_hash
        found = found or w.found_head
        end = w.after + w.count
        if end < edges[i + 1]:  # this range ran out of rows: the chain ends here, or has a gap
            if any(later is None or later.rows for later in walks[i + 1 :]):
                return seen, prev, found, (end + 1, msg_missing(end + 1))
            break
    return seen, prev, found, None


class DecisionLedger:
    """Append-only, hash-chained record of decisions and governance actions."""

    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        *,
        verify_workers: int | None = None,
        parallel_verify_from: int = PARALLEL_VERIFY_FROM,
    ) -> None:
        self._db = db
        self._verify_workers = (
            default_verify_workers() if verify_workers is None else verify_workers
        )
        self._parallel_verify_from = parallel_verify_from
        self._clock = clock or SystemClock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Waiter] = []
        self._writing = False
        self._listeners: list[Callable[[int], None]] = []

    def add_listener(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(n)`` after each commit of ``n`` entries (e.g. a checkpoint schedule).

        Runs on the appending thread after its transaction committed; it must be quick and
        must not raise (errors are logged and swallowed so a decision is never lost to them).
        """
        self._listeners.append(callback)

    def _notify(self, n: int) -> None:
        for callback in self._listeners:
            try:
                callback(n)
            except Exception:  # a listener must never fail the decision that was recorded
                log.exception("ledger listener failed")

    def append(
        self, kind: str, actor: str, subject: str, payload: dict[str, Any] | None = None
    ) -> LedgerEntry:
        """Record one event and return its chained entry."""
        return self.append_many([Event(kind, actor, subject, payload or {})])[0]

    def append_many(self, events: Sequence[Event]) -> list[LedgerEntry]:
        """Record several events in one transaction (much faster than one by one).

        Group commit: if another thread of this process is writing, the events join the queue
        and the next writer commits everything queued in one transaction. Returns once these
        events have committed, in order and contiguous.
        """
        if not events:
            return []
        waiter = _Waiter(_prepare(events))
        with self._queue_lock:
            self._queue.append(waiter)
            leader = not self._writing
            self._writing = True
        if not leader:
            waiter.wake.wait()
            if not waiter.lead:
                return self._result(waiter)
        self._lead()
        return self._result(waiter)

    @staticmethod
    def _result(waiter: _Waiter) -> list[LedgerEntry]:
        if waiter.error is not None:
            raise waiter.error
        assert waiter.entries is not None  # set by the writer before it wakes us
        return waiter.entries

    def _lead(self) -> None:
        """Write everything queued in one transaction, then hand the lead to the next waiter."""
        with self._queue_lock:
            batch, self._queue = self._queue, []
        written = 0
        try:
            with self._db.write_lock() as conn:
                entries = self._write(conn, [p for w in batch for p in w.prepared])
            pos = 0
            for w in batch:
                w.entries = entries[pos : pos + len(w.prepared)]
                pos += len(w.prepared)
            written = len(entries)
        except BaseException as exc:  # every caller in the failed batch sees the error
            for w in batch:
                w.error = exc
        finally:
            with self._queue_lock:
                if self._queue:
                    nxt = self._queue[0]
                    nxt.lead = True
                    nxt.wake.set()
                else:
                    self._writing = False
            for w in batch:
                w.wake.set()
        if written:
            self._notify(written)

    def append_in(self, conn: Connection, events: Sequence[Event]) -> list[LedgerEntry]:
        """Record events inside a transaction the caller opened with ``Database.write_lock``.

        For use cases whose own rows and ledger entry must commit together or not at all (a
        disposition and its ledger entry): the caller's transaction holds the ledger's lock.
        """
        prepared = _prepare(events)
        if not prepared:
            return []
        out = self._write(conn, prepared)
        self._notify(len(out))
        return out

    def _write(self, conn: Connection, prepared: Sequence[_Prepared]) -> list[LedgerEntry]:
        # Through the driver's cursor, inside ``conn``'s transaction: SQLAlchemy's statement
        # execution cost more than SQLite's own work for these three small statements, on
        # the path of every decision.
        raw = conn.connection.driver_connection
        assert raw is not None  # a live connection inside the write transaction
        sql = _SQLITE_WRITE if conn.dialect.name == "sqlite" else _PG_WRITE
        cur = raw.cursor()
        try:
            cur.execute(sql.select_head)
            row = cur.fetchone()
            seq, prev = (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))
            ts = utc_iso(self._clock.now())
            out: list[LedgerEntry] = []
            for kind, actor, subject, payload_json in prepared:
                seq += 1
                digest = entry_hash(seq, ts, kind, actor, subject, payload_json, prev)
                out.append(LedgerEntry(seq, ts, kind, actor, subject, payload_json, prev, digest))
                prev = digest
            rows = [
                (e.seq, e.ts, e.kind, e.actor, e.subject, e.payload_json, e.prev_hash, e.hash)
                for e in out
            ]
            if len(rows) == 1:
                cur.execute(sql.insert_entry, rows[0])
            else:
                cur.executemany(sql.insert_entry, rows)
            head = (out[-1].seq, out[-1].hash)
            cur.execute(sql.insert_head if row is None else sql.update_head, head)
        finally:
            cur.close()
        return out

    @staticmethod
    def _read_head(conn: Connection) -> tuple[int, str]:
        row = conn.execute(_SELECT_HEAD).first()
        return (0, GENESIS_HASH) if row is None else (int(row.seq), str(row.hash))

    def head(self) -> tuple[int, str]:
        """The last sequence number and hash (0 and the genesis hash when empty)."""
        with self._db.engine.connect() as conn:
            return self._read_head(conn)

    def count(self) -> int:
        """Number of stored entries."""
        with self._db.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ledger_entries)).scalar_one())

    def get(self, seq: int) -> LedgerEntry:
        """One entry by sequence number."""
        with self._db.engine.connect() as conn:
            row = conn.execute(select(ledger_entries).where(ledger_entries.c.seq == seq)).first()
        if row is None:
            raise NotFoundError(f"no ledger entry #{seq}")
        return _to_entry(row._mapping)

    def models_named(
        self, kinds: Collection[str], only: tuple[str, int] | None = None
    ) -> dict[tuple[str, int], list[int]]:
        """Which model versions the payloads of ``kinds`` entries name (``payload.model``):
        (name, version) -> their sequence numbers (only the first, unless ``only`` asks for
        one version's every entry).

        The database reads the JSON (SQLite's ``json_extract``, PostgreSQL's ``jsonb``) and
        groups, so a million decisions are one aggregate, not a million parsed payloads in
        Python. A payload the database cannot read as JSON falls back to parsing here.
        """
        if not kinds:
            return {}
        try:
            return self._models_named_sql(kinds, only)
        except SQLAlchemyError:  # an unreadable payload: `audit verify`'s walk names it
            out: dict[tuple[str, int], list[int]] = {}
            for entry in self.entries():
                if entry.kind in kinds:
                    try:
                        model = entry.payload.get("model", {})
                        key = (str(model.get("name", "")), int(model.get("version", 0)))
                    except (ValueError, TypeError, AttributeError):
                        key = ("", 0)
                    if only is None or key == only:
                        seqs = out.setdefault(key, [])
                        if only is not None or not seqs:
                            seqs.append(entry.seq)
            return out

    def _models_named_sql(
        self, kinds: Collection[str], only: tuple[str, int] | None
    ) -> dict[tuple[str, int], list[int]]:
        sqlite = self._db.is_sqlite
        if sqlite:
            name, version = (
                "COALESCE(json_extract(payload, '$.model.name'), '')",
                "COALESCE(CAST(json_extract(payload, '$.model.version') AS INTEGER), 0)",
            )
        else:
            name, version = (
                "COALESCE(payload::jsonb #>> '{model,name}', '')",
                "COALESCE((payload::jsonb #>> '{model,version}')::numeric::bigint, 0)",
            )
        params: dict[str, Any] = {f"k{i}": k for i, k in enumerate(kinds)}
        where = f"kind IN ({', '.join(':' + k for k in params)})"
        if only is None:
            sql = (
                f"SELECT {name} AS n, {version} AS v, MIN(seq) FROM {ledger_entries.name} "
                f"WHERE {where} GROUP BY n, v"
            )
        else:
            params.update(n=only[0], v=only[1])
            sql = (
                f"SELECT {name} AS n, {version} AS v, seq FROM {ledger_entries.name} "
                f"WHERE {where} AND {name} = :n AND {version} = :v ORDER BY seq"
            )
        out: dict[tuple[str, int], list[int]] = {}
        with self._db.engine.connect() as conn:
            for n, v, seq in conn.execute(text(sql), params):
                out.setdefault((str(n), int(v)), []).append(int(seq))
        return out

    def entries(
        self,
        *,
        kind: str | None = None,
        subject: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[LedgerEntry]:
        """Entries matching the filters, oldest first (or newest first). Times compare as UTC."""
        conds = []
        if kind is not None:
            conds.append(ledger_entries.c.kind == kind)
        if subject is not None:
            conds.append(ledger_entries.c.subject == subject)
        if since is not None:
            conds.append(ledger_entries.c.ts >= utc_iso(since))
        if until is not None:
            conds.append(ledger_entries.c.ts <= utc_iso(until))
        order = ledger_entries.c.seq.desc() if newest_first else ledger_entries.c.seq
        query = select(ledger_entries).where(and_(True, *conds)).order_by(order)
        if limit is not None:
            query = query.limit(limit)
        with self._db.engine.connect() as conn:
            return [_to_entry(r._mapping) for r in conn.execute(query)]

    def chain_hash_batches(
        self,
        after: int,
        upto: int,
        prev_hash: str,
        *,
        workers: int | None = None,
        parallel_from: int | None = None,
    ) -> Iterator[list[str]]:
        """Re-hash entries ``after < seq <= upto`` in order, each linked to the one before
        (the first to ``prev_hash``), and yield their hashes in batches; ``IntegrityError`` at
        the first entry that is missing, altered or unlinked. What a checkpoint signs after this.

        From ``parallel_from`` entries on, worker processes re-hash the ranges as ``verify``'s
        do, each writing the hashes it computed to a temporary file; once the ranges stitch,
        the hashes are yielded from those files (the computed hashes, never re-read from the
        database), and a problem raises before any hash is yielded.
        """
        n_workers = self._verify_workers if workers is None else workers
        threshold = self._parallel_verify_from if parallel_from is None else parallel_from
        if n_workers > 1 and upto - after >= max(threshold, 1) and sys.executable:
            connect = _worker_connect(self._db)
            if connect is not None:
                yield from self._parallel_chain_hashes(after, upto, prev_hash, n_workers, connect)
                return
        expected, prev, sha256, enc = after + 1, prev_hash, hashlib.sha256, _enc
        with self._db.snapshot() as conn, closing(_scan(conn, _HASHED_SQL, after, upto)) as scan:
            for rows in scan:
                out: list[str] = []
                try:
                    for seq, ts, kind, actor, subject, payload, prev_stored, stored in rows:
                        digest = sha256(
                            f'{prev}\n{{"actor":{enc(actor)},"kind":{enc(kind)},'
                            f'"payload":{enc(payload)},"seq":{seq},"subject":{enc(subject)},'
                            f'"ts":{enc(ts)}}}'.encode()
                        ).hexdigest()
                        if seq != expected or prev_stored != prev or digest != stored:
                            break
                        prev, expected = digest, expected + 1
                        out.append(digest)
                except (TypeError, AttributeError):  # a column edited to a non-text value
                    pass
                if out:
                    yield out
                if len(out) != len(rows):
                    raise IntegrityError(
                        f"entry #{expected} is missing, altered or does not link; run "
                        "bankml audit verify"
                    )
        if expected != upto + 1:
            raise IntegrityError(f"entry #{expected} is missing; run bankml audit verify")

    def _parallel_chain_hashes(
        self, after: int, upto: int, prev_hash: str, workers: int, connect: dict[str, Any]
    ) -> Iterator[list[str]]:
        workers = min(workers, upto - after)
        edges = [after + (upto - after) * i // workers for i in range(workers + 1)]
        with self._db.snapshot() as conn, tempfile.TemporaryDirectory(prefix="bankml-") as tmp:
            snapshot = None
            if not self._db.is_sqlite:  # the workers read this transaction's snapshot
                snapshot = str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())
            plan = _RangePlan(connect, edges, snapshot)
            walks = _run_workers(plan, {}, None, upto, None, hash_dir=Path(tmp))
            seen, _, _, bad = _stitch(walks, edges, prev_hash)
            if bad is not None:
                raise IntegrityError(
                    f"entry #{bad[0]} is missing, altered or does not link; run bankml audit verify"
                )
            if seen != upto - after:
                raise IntegrityError(
                    f"entry #{after + seen + 1} is missing; run bankml audit verify"
                )
            for i in range(workers):
                with open(Path(tmp) / f"{i}.hex", encoding="ascii") as hashes:
                    while chunk := hashes.read(64 * _VERIFY_BATCH):
                        yield [chunk[j : j + 64] for j in range(0, len(chunk), 64)]

    def chain_hashes(self, after: int, upto: int, prev_hash: str) -> Iterator[str]:
        """``chain_hash_batches``, one hash at a time."""
        for batch in self.chain_hash_batches(after, upto, prev_hash):
            yield from batch

    def hash_batches(
        self, after: int = 0, upto: int | None = None
    ) -> Generator[list[str], None, None]:
        """The stored hashes of entries ``after < seq <= upto`` in seq order, in batches
        (Merkle leaves), read from one snapshot. Not checked: ``verify`` does that. Close it
        (``contextlib.closing``) if you stop early: it holds a read transaction open."""
        with self._db.snapshot() as conn, closing(_scan(conn, "hash", after, upto)) as scan:
            for rows in scan:
                yield [r[0] for r in rows]

    def verify(
        self,
        *,
        expect_head: str | None = None,
        anchors: Mapping[int, str] | None = None,
        progress: Callable[[int, int], None] | None = None,
        workers: int | None = None,
        parallel_from: int | None = None,
    ) -> VerifyReport:
        """Walk the chain; report the first sequence number where it breaks, if any.

        ``anchors`` maps checkpointed sequence numbers to the head hash signed for them (see
        ``bankml.governance.anchor``): the chain must pass through every one, so a rewrite,
        a truncation or a wipe before the newest checkpoint fails, and entries after it are
        counted as not yet anchored. ``expect_head`` is a bare head hash recorded elsewhere
        earlier: the chain must still contain it.

        Streams the table in batches (bounded memory) and hashes the stored canonical bytes
        without parsing them. ``progress(done, total)`` is called after each batch; ``total``
        is the head row's count (no extra scan to count rows).

        With ``workers`` > 1 (default: the ledger's ``verify_workers``) and at least
        ``parallel_from`` entries, the sequence range up to the head is split among that many
        worker processes, each re-hashing its range on its own core and connection, and the
        ranges are stitched in order (``_stitch``): the report is the one the single walk
        gives, message for message. Why that is sound without one shared snapshot on SQLite:
        docs/ledger.md, "Parallel verify".
        """
        anchors = dict(anchors or {})
        newest_anchor = max(anchors, default=None)
        n_workers = self._verify_workers if workers is None else workers
        threshold = self._parallel_verify_from if parallel_from is None else parallel_from
        with self._db.snapshot() as conn:
            # One snapshot: appends made while we walk neither help nor confuse the check.
            stored_seq, stored_head = self._read_head(conn)
            plan = self._plan_ranges(conn, stored_seq, n_workers, threshold)
            if plan is None:
                with closing(_scan(conn, _HASHED_SQL, 0, None)) as batches:
                    result = walk(
                        batches,
                        0,
                        GENESIS_HASH,
                        anchors=anchors,
                        expect_head=expect_head,
                        on_batch=None
                        if progress is None
                        else lambda done: progress(done, max(done, stored_seq)),
                    )
                seen, prev, anchor_found = result.count, result.last_hash, result.found_head
                first_bad = None if result.bad_seq is None else (result.bad_seq, result.problem)
            else:
                log.info("verifying the ledger in %d worker processes", len(plan.edges) - 1)
                walks = _run_workers(plan, anchors, expect_head, stored_seq, progress)
                seen, prev, anchor_found, first_bad = _stitch(walks, plan.edges)
                anchor_found = anchor_found or expect_head is None

        def bad(seq: int, problem: str) -> VerifyReport:
            return VerifyReport(False, seen, stored_seq, stored_head, seq, problem, newest_anchor)

        if first_bad is not None:
            return bad(first_bad[0], str(first_bad[1]))
        if newest_anchor is not None and seen < newest_anchor:
            what = "is empty" if seen == 0 else f"ends at #{seen}"
            return bad(
                seen + 1,
                f"the ledger {what} but a signed checkpoint anchored #{newest_anchor} "
                f"({'wiped' if seen == 0 else 'truncated'})",
            )
        if seen != stored_seq:
            return bad(
                min(seen, stored_seq) + 1,
                f"the chain ends at #{seen} but the head row records #{stored_seq} "
                "(entries removed, or the head row was edited)",
            )
        if prev != stored_head:
            return bad(
                seen,
                f"the head row's hash does not match entry #{seen}: the head row is corrupted "
                "(or the last entry was replaced)",
            )
        if not anchor_found:
            return bad(seen, "the anchored head hash is not in the chain (history rewritten)")
        unanchored = 0 if newest_anchor is None else seen - newest_anchor
        return VerifyReport(
            True, seen, stored_seq, stored_head, anchored_seq=newest_anchor, unanchored=unanchored
        )

    def _plan_ranges(
        self, conn: Connection, stored_seq: int, workers: int, threshold: int
    ) -> _RangePlan | None:
        """How to split ``[1, bound]`` among workers, or None for the single walk.

        ``bound`` is the larger of the head's seq and the largest stored seq, read in the same
        snapshot as the head: in an untampered ledger they are equal, and rows above the head
        (only a tamper puts them there) must be walked as the single walk would. Anything a
        range cannot express (seq below 1, or not an integer: SQLite stores what it is given)
        goes to the single walk, which reports it exactly, on one core: only a tampered ledger
        holds such a row.
        """
        if workers <= 1 or stored_seq < threshold or not sys.executable:
            return None
        connect = _worker_connect(self._db)
        if connect is None:
            return None
        low, high = conn.execute(
            select(func.min(ledger_entries.c.seq), func.max(ledger_entries.c.seq))
        ).one()
        if low is not None and (type(low) is not int or type(high) is not int or low < 1):
            return None
        bound = max(stored_seq, high or 0)
        if bound < threshold:
            return None
        workers = min(workers, bound)
        edges = [bound * i // workers for i in range(workers + 1)]
        snapshot = None
        if not self._db.is_sqlite:
            # Workers import this transaction's snapshot: on PostgreSQL every range is read
            # from the very state the head was read from.
            snapshot = str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())
        return _RangePlan(connect, edges, snapshot)
