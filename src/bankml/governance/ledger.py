"""The decision ledger: an append-only, SHA-256 hash-chained log of every decision and action.

Each entry's hash covers its sequence number, time, kind, actor, subject, canonical payload
and the previous entry's hash, so editing, deleting, inserting or reordering any entry breaks
the chain from that point. A one-row head (last seq and hash), written in the same transaction
as every append, also catches a truncated tail. Anchoring the head hash outside the database
(``bankml audit verify`` prints it) catches a wholesale rewrite too.

Writers serialise through ``Database.write_lock`` (``BEGIN IMMEDIATE`` on SQLite, an advisory
lock on PostgreSQL), and ``seq`` is the primary key, so concurrent threads or processes can
never fork the chain: at worst a writer waits.

Payloads pass through the PII redactor before they are hashed: the ledger never holds raw PII.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, func, insert, select, update

from bankml.core.canonical import canonical_json
from bankml.core.clock import Clock, SystemClock, utc_iso
from bankml.core.errors import InputError, NotFoundError
from bankml.core.pii import redact_payload, redact_text
from bankml.core.storage import Database
from bankml.core.tables import ledger_entries, ledger_head

__all__ = ["GENESIS_HASH", "DecisionLedger", "Event", "LedgerEntry", "VerifyReport", "entry_hash"]

GENESIS_HASH = "0" * 64
_HEAD_ID = 1
_VERIFY_BATCH = 20_000


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
    """Outcome of walking the whole chain."""

    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None


def entry_hash(
    seq: int, ts: str, kind: str, actor: str, subject: str, payload_json: str, prev_hash: str
) -> str:
    """SHA-256 over the previous hash and the entry's canonical content."""
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


def _check_event(event: Event) -> None:
    for name in ("kind", "actor", "subject"):
        value = getattr(event, name)
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"ledger event needs a non-empty {name}")
    if len(event.kind) > 64 or len(event.actor) > 64 or len(event.subject) > 128:
        raise InputError("ledger event kind/actor must be <= 64 and subject <= 128 characters")


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


class DecisionLedger:
    """Append-only, hash-chained record of decisions and governance actions."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self._db = db
        self._clock = clock or SystemClock()

    def append(
        self, kind: str, actor: str, subject: str, payload: dict[str, Any] | None = None
    ) -> LedgerEntry:
        """Record one event and return its chained entry."""
        return self.append_many([Event(kind, actor, subject, payload or {})])[0]

    def append_many(self, events: Sequence[Event]) -> list[LedgerEntry]:
        """Record several events in one transaction (much faster than one by one)."""
        if not events:
            return []
        with self._db.write_lock() as conn:
            return self.append_in(conn, events)

    def append_in(self, conn: Connection, events: Sequence[Event]) -> list[LedgerEntry]:
        """Record events inside a transaction the caller opened with ``Database.write_lock``.

        For use cases whose own rows and ledger entry must commit together or not at all (a
        disposition and its ledger entry): the caller's transaction holds the ledger's lock.
        """
        for event in events:
            _check_event(event)
        prepared = [
            (
                e.kind,
                e.actor,
                redact_text(e.subject),
                canonical_json(redact_payload(e.payload)),
            )
            for e in events
        ]
        if not prepared:
            return []
        seq, prev = self._read_head(conn)
        ts = utc_iso(self._clock.now())
        out: list[LedgerEntry] = []
        for kind, actor, subject, payload_json in prepared:
            seq += 1
            digest = entry_hash(seq, ts, kind, actor, subject, payload_json, prev)
            out.append(LedgerEntry(seq, ts, kind, actor, subject, payload_json, prev, digest))
            prev = digest
        conn.execute(
            insert(ledger_entries),
            [
                {
                    "seq": e.seq,
                    "ts": e.ts,
                    "kind": e.kind,
                    "actor": e.actor,
                    "subject": e.subject,
                    "payload": e.payload_json,
                    "prev_hash": e.prev_hash,
                    "hash": e.hash,
                }
                for e in out
            ],
        )
        self._write_head(conn, out[-1].seq, out[-1].hash, first=out[0].seq == 1)
        return out

    @staticmethod
    def _read_head(conn: Connection) -> tuple[int, str]:
        row = conn.execute(
            select(ledger_head.c.seq, ledger_head.c.hash).where(ledger_head.c.id == _HEAD_ID)
        ).first()
        return (0, GENESIS_HASH) if row is None else (int(row.seq), str(row.hash))

    @staticmethod
    def _write_head(conn: Connection, seq: int, digest: str, *, first: bool) -> None:
        if first:
            conn.execute(insert(ledger_head).values(id=_HEAD_ID, seq=seq, hash=digest))
        else:
            conn.execute(
                update(ledger_head).where(ledger_head.c.id == _HEAD_ID).values(seq=seq, hash=digest)
            )

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

    def verify(
        self,
        *,
        expect_head: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> VerifyReport:
        """Walk the chain; report the first sequence number where it breaks, if any.

        ``expect_head`` is a head hash recorded elsewhere earlier (an anchor): the chain must
        still contain it, which catches a rewrite of the whole table.
        """
        expected_seq, prev, seen = 1, GENESIS_HASH, 0
        anchor_found = expect_head is None
        stored_seq, stored_head = 0, GENESIS_HASH

        def bad(seq: int, problem: str) -> VerifyReport:
            return VerifyReport(False, seen, stored_seq, stored_head, seq, problem)

        with self._db.snapshot() as conn:
            # One snapshot: appends made while we walk neither help nor confuse the check.
            stored_seq, stored_head = self._read_head(conn)
            total = int(conn.execute(select(func.count()).select_from(ledger_entries)).scalar_one())
            last = 0
            while True:
                rows = conn.execute(
                    select(ledger_entries)
                    .where(ledger_entries.c.seq > last)
                    .order_by(ledger_entries.c.seq)
                    .limit(_VERIFY_BATCH)
                ).all()
                if not rows:
                    break
                for row in rows:
                    e = _to_entry(row._mapping)
                    if e.seq != expected_seq:
                        return bad(expected_seq, f"entry #{expected_seq} is missing")
                    if e.prev_hash != prev:
                        return bad(e.seq, f"entry #{e.seq} does not link to entry #{e.seq - 1}")
                    digest = entry_hash(
                        e.seq, e.ts, e.kind, e.actor, e.subject, e.payload_json, e.prev_hash
                    )
                    if digest != e.hash:
                        return bad(e.seq, f"entry #{e.seq} was altered (hash mismatch)")
                    if not anchor_found and digest == expect_head:
                        anchor_found = True
                    prev, expected_seq, seen = digest, expected_seq + 1, seen + 1
                last = int(rows[-1].seq)
                if progress is not None:
                    progress(seen, total)
        if seen != stored_seq or prev != stored_head:
            return bad(seen + 1, f"the chain ends at #{seen} but the head records #{stored_seq}")
        if not anchor_found:
            return bad(seen, "the anchored head hash is not in the chain (history rewritten)")
        return VerifyReport(True, seen, stored_seq, stored_head)
