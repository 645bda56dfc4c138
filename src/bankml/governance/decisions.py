"""Decision lookup and replay: "which model made this decision at 14:03, and would it decide
the same again?"

Every decision in the ledger names its model and version and carries the feature values it
saw (PII tokenized), its output and its explanation. Lookup reads the ledger by time window,
decision id or customer token. Replay downloads *exactly* that version from the registry
(fresh, not from a cache), checks the artefact's hash against the one registered, recomputes
the decision from the logged features and compares output and explanation bit for bit.

Governance knows models only through the ``Replayable`` protocol: each registered kind
(``governance.kinds``) names its decision events and how to load a version for replay.
``DecisionAudit`` is the one service the faces call (CLI, API, web): it tokenizes a customer
id itself, so no face handles raw identifiers or the tokenizer.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, update

from bankml.core.clock import utc_iso
from bankml.core.errors import InputError, NotFoundError
from bankml.core.ids import resolve_prefix, sql_prefix_lookup
from bankml.core.pii import PIITokenizer
from bankml.core.storage import Database
from bankml.core.tables import ledger_entries
from bankml.governance.kinds import KindRegistry, Replayable
from bankml.governance.ledger import DecisionLedger, LedgerEntry
from bankml.governance.registry import ModelRegistry, sha256_dir
from bankml.governance.tables import decision_index, decision_index_head

__all__ = [
    "DecisionAudit",
    "DecisionFilter",
    "DecisionIndex",
    "DecisionRecord",
    "ReplayResult",
    "Replayable",
    "find_decisions",
    "parse_at",
    "parse_window",
    "replay",
    "unknown_model_versions",
]

_WINDOW = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_MAX_WINDOW = timedelta(days=3660)


Loader = Callable[[Path], Replayable]


@dataclass(frozen=True)
class DecisionRecord:
    """One logged decision, as an auditor reads it."""

    decision_id: str
    ts: str
    kind: str
    actor: str
    model_name: str
    model_version: int
    inputs: dict[str, Any]
    output: dict[str, Any]
    explanation: dict[str, Any]
    ledger_seq: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class ReplayResult:
    """The outcome of recomputing one decision."""

    decision_id: str
    model_name: str
    model_version: int
    identical: bool
    recorded: dict[str, Any]
    replayed: dict[str, Any]
    differences: list[str] = field(default_factory=list)
    artifact_ok: bool = True
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return dict(self.__dict__)


def parse_at(text: str) -> datetime:
    """Parse "2026-11-24 14:03" (UTC unless an offset is given) into an aware datetime."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--at must be a time like '2026-11-24 14:03', not {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_window(text: str) -> timedelta:
    """Parse "5m", "30s", "2h" or "1d"."""
    m = _WINDOW.match(text)
    if not m:
        raise InputError(f"--window must look like 30s, 5m, 2h or 1d, not {text!r}")
    window = timedelta(**{_UNITS[m[2]]: min(int(m[1]), 10**7)})
    if window > _MAX_WINDOW:
        raise InputError(f"--window may be at most {_MAX_WINDOW.days} days, not {text!r}")
    return window


def _record(entry: LedgerEntry) -> DecisionRecord:
    p = entry.payload
    model = p.get("model", {})
    inputs = {k: v for k, v in p.items() if k.endswith("_token") or k == "transaction_id"}
    inputs["features"] = p.get("features", {})
    return DecisionRecord(
        decision_id=entry.subject.removeprefix("decision:"),
        ts=entry.ts,
        kind=entry.kind,
        actor=entry.actor,
        model_name=str(model.get("name", "")),
        model_version=int(model.get("version", 0)),
        inputs=inputs,
        output={k: p.get(k) for k in ("score", "decision", "threshold") if k in p},
        explanation=p.get("explanation", {}),
        ledger_seq=entry.seq,
    )


def find_decisions(
    ledger: DecisionLedger,
    events: Collection[str],
    *,
    at: datetime | None = None,
    window: timedelta = timedelta(minutes=5),
    decision_id: str | None = None,
    customer_token: str | None = None,
) -> list[DecisionRecord]:
    """Decisions (ledger entries of the kinds in ``events``) made within ``window`` either side
    of ``at``, or by id or customer token."""
    if decision_id:
        entries = ledger.entries(subject=f"decision:{decision_id}")
    elif at is not None:
        try:
            since, until = at - window, at + window
        except OverflowError:
            raise InputError("--at and --window reach outside the calendar") from None
        entries = ledger.entries(since=since, until=until)
    elif customer_token:
        entries = ledger.entries()
    else:
        raise InputError("give --at TIME, --decision ID or --customer ID")
    records = [_record(e) for e in entries if e.kind in events]
    if customer_token:
        records = [r for r in records if r.inputs.get("customer_token") == customer_token]
    return records


@dataclass(frozen=True)
class DecisionFilter:
    """What an auditor filters decisions on (all optional, combined with AND); newest first."""

    decision_id: str | None = None
    transaction_id: str | None = None
    alert_id: str | None = None
    customer_token: str | None = None
    model_name: str | None = None
    model_version: int | None = None
    decision: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    offset: int = 0


_MAX_LIMIT = 1000
_SYNC_BATCH = 5000


class DecisionIndex:
    """An index of the ledger's decision entries on the columns auditors filter on.

    The ledger stays the authority: the index is caught up from it (entries after the
    recorded head) before every query, so writers need not know it exists.
    """

    def __init__(self, db: Database, ledger: DecisionLedger, events: Collection[str]) -> None:
        self._db = db
        self._ledger = ledger
        self._events = sorted(events)

    def sync(self) -> int:
        """Index the decisions written since the last sync; returns how many were added."""
        added = 0
        with self._db.write_lock() as conn:
            head = conn.execute(
                select(decision_index_head.c.seq).where(decision_index_head.c.id == 1)
            ).scalar()
            if head is None:
                conn.execute(insert(decision_index_head).values(id=1, seq=0))
                head = 0
            top = int(head)
            while True:
                rows = conn.execute(
                    select(ledger_entries)
                    .where(ledger_entries.c.seq > top)
                    .order_by(ledger_entries.c.seq)
                    .limit(_SYNC_BATCH)
                ).all()
                if not rows:
                    break
                batch = [_index_row(r._mapping) for r in rows if r._mapping["kind"] in self._events]
                if batch:
                    conn.execute(insert(decision_index), batch)
                    added += len(batch)
                top = int(rows[-1]._mapping["seq"])
            if top != head:
                conn.execute(
                    update(decision_index_head).where(decision_index_head.c.id == 1).values(seq=top)
                )
        return added

    def query(self, f: DecisionFilter) -> list[int]:
        """Ledger sequences of the decisions matching ``f``, newest first, one page."""
        if not 1 <= f.limit <= _MAX_LIMIT:
            raise InputError(f"--limit must be between 1 and {_MAX_LIMIT}, not {f.limit}")
        if f.offset < 0:
            raise InputError(f"--offset must be 0 or more, not {f.offset}")
        self.sync()
        c = decision_index.c
        conds = []
        for col, value in (
            (c.decision_id, f.decision_id),
            (c.transaction_id, f.transaction_id),
            (c.alert_id, f.alert_id),
            (c.customer_token, f.customer_token),
            (c.model_name, f.model_name),
            (c.decision, f.decision),
        ):
            if value is not None:
                conds.append(col == value)
        if f.model_version is not None:
            conds.append(c.model_version == f.model_version)
        if f.since is not None:
            conds.append(c.ts >= utc_iso(f.since))
        if f.until is not None:
            conds.append(c.ts <= utc_iso(f.until))
        query = select(c.seq).where(*conds).order_by(c.seq.desc()).limit(f.limit).offset(f.offset)
        with self._db.engine.connect() as conn:
            return [int(v) for (v,) in conn.execute(query)]

    def records(self, f: DecisionFilter) -> list[DecisionRecord]:
        """The decisions matching ``f`` as auditors read them, newest first, one page."""
        seqs = self.query(f)
        if not seqs:
            return []
        with self._db.engine.connect() as conn:
            rows = conn.execute(select(ledger_entries).where(ledger_entries.c.seq.in_(seqs)))
            by_seq = {int(r._mapping["seq"]): _index_entry(r._mapping) for r in rows}
        return [_record(by_seq[s]) for s in seqs if s in by_seq]

    def count(self) -> int:
        """How many decisions are indexed."""
        with self._db.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(decision_index)).scalar_one())

    def resolve(self, column: str, ref: str, what: str) -> str:
        """The full decision or alert id a typed prefix names (``core.ids`` rules)."""
        self.sync()
        return resolve_prefix(
            ref,
            sql_prefix_lookup(self._db.engine.connect, decision_index.c[column]),
            what=what,
            hint="find one with `bankml audit decisions`",
        )


def _index_entry(m: RowMapping) -> LedgerEntry:
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


def _index_row(m: RowMapping) -> dict[str, Any]:
    entry = _index_entry(m)
    p = entry.payload
    model = p.get("model", {}) if isinstance(p.get("model"), dict) else {}
    txn = p.get("transaction_id")
    alert = p.get("alert_id")
    decision = p.get("decision")
    return {
        "seq": entry.seq,
        "decision_id": entry.subject.removeprefix("decision:")[:64],
        "ts": entry.ts,
        "kind": entry.kind,
        "transaction_id": None if txn is None else str(txn)[:64],
        "customer_token": p.get("customer_token"),
        "alert_id": None if alert is None else str(alert)[:36],
        "model_name": str(model.get("name", ""))[:64],
        "model_version": int(model.get("version", 0)),
        "decision": None if decision is None else str(decision)[:32],
    }


def _compare(recorded: Mapping[str, Any], replayed: Mapping[str, Any]) -> list[str]:
    diffs = []
    for key in ("score", "decision"):
        if recorded.get(key) != replayed.get(key):
            diffs.append(f"{key}: recorded {recorded.get(key)!r}, replayed {replayed.get(key)!r}")
    rec_c = recorded.get("contributions") or {}
    rep_c = replayed.get("contributions") or {}
    changed = sorted(k for k in set(rec_c) | set(rep_c) if rec_c.get(k) != rep_c.get(k))
    if changed:
        diffs.append(f"explanation differs for {len(changed)} feature(s): {', '.join(changed[:5])}")
    return diffs


def replay(
    ledger: DecisionLedger,
    registry: ModelRegistry,
    loaders: Mapping[str, Loader],
    decision_id: str,
    events: Collection[str],
) -> ReplayResult:
    """Recompute one decision with exactly the model version that made it."""
    found = find_decisions(ledger, events, decision_id=decision_id)
    if not found:
        raise NotFoundError(
            f"no decision {decision_id!r} in the ledger; find one with "
            "`bankml audit decisions --at TIME`"
        )
    rec = found[0]
    loader = loaders.get(rec.model_name)
    if loader is None:
        raise InputError(f"no replay support registered for model {rec.model_name!r}")
    t0 = time.perf_counter()
    recorded = {**rec.output, "contributions": rec.explanation.get("contributions", {})}
    with tempfile.TemporaryDirectory(prefix="bankml-replay-") as tmp:
        model_dir = registry.download_fresh(rec.model_name, rec.model_version, Path(tmp))
        registered = registry.artifact_hash(rec.model_name, rec.model_version)
        artifact_ok = sha256_dir(model_dir) == registered
        # An altered artefact is never loaded: it is not the model that decided, and a
        # malformed model file can crash the native library that parses it.
        replayed = dict(loader(model_dir).replay(rec.inputs["features"])) if artifact_ok else {}
    if artifact_ok:
        diffs = _compare(recorded, replayed)
    else:
        diffs = [
            "the model artefact no longer matches the hash registered with it; "
            "the decision cannot be reproduced from it"
        ]
    return ReplayResult(
        decision_id=rec.decision_id,
        model_name=rec.model_name,
        model_version=rec.model_version,
        identical=not diffs,
        recorded=recorded,
        replayed=replayed,
        differences=diffs,
        artifact_ok=artifact_ok,
        seconds=time.perf_counter() - t0,
    )


def unknown_model_versions(
    ledger: DecisionLedger, exists: Callable[[str, int], bool], events: Collection[str]
) -> list[tuple[str, int, int]]:
    """Decisions naming a model version the registry does not have: (name, version, seq).

    The database groups the decisions by the version they name, so the registry is asked
    once per version and only an unknown version's decisions are listed one by one.
    """
    missing: list[tuple[str, int, int]] = []
    for key in sorted(ledger.models_named(events)):
        if not exists(*key):
            seqs = ledger.models_named(events, only=key).get(key, [])
            missing.extend((key[0], key[1], seq) for seq in seqs)
    return sorted(missing, key=lambda m: m[2])


class DecisionAudit:
    """The auditor's actions on decisions, for every registered kind: look up, replay."""

    def __init__(
        self,
        ledger: DecisionLedger,
        kinds: KindRegistry,
        tokenizer: PIITokenizer,
        registry: Callable[[], ModelRegistry],
        db: Database,
    ) -> None:
        self._ledger = ledger
        self._kinds = kinds
        self._tokenizer = tokenizer
        self._registry = registry  # built on first use: MLflow is imported lazily
        self.index = DecisionIndex(db, ledger, kinds.decision_events())

    def resolve(self, ref: str) -> str:
        """The full id of the one decision whose id starts with ``ref`` (8+ characters)."""
        return self.index.resolve("decision_id", ref, "decision")

    def find(
        self,
        *,
        at: str | None = None,
        window: str = "5m",
        decision_id: str | None = None,
        customer: str | None = None,
        transaction_id: str | None = None,
        alert_id: str | None = None,
        model: str | None = None,
        version: int | None = None,
        decision: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[DecisionRecord]:
        """Decisions matching every filter given, newest first, one page of ``limit``.

        ``at``/``window`` bound the time; decision and alert ids may be unique prefixes;
        a raw customer id is tokenized here, so no face handles it.
        """
        since = until = None
        if at:
            when = parse_at(at)
            try:
                since, until = when - parse_window(window), when + parse_window(window)
            except OverflowError:
                raise InputError("--at and --window reach outside the calendar") from None
        return self.index.records(
            DecisionFilter(
                decision_id=self.resolve(decision_id) if decision_id else None,
                transaction_id=transaction_id.strip() if transaction_id else None,
                alert_id=self.index.resolve("alert_id", alert_id, "alert") if alert_id else None,
                customer_token=self._tokenizer.token(customer, "customer") if customer else None,
                model_name=model,
                model_version=version,
                decision=decision,
                since=since,
                until=until,
                limit=limit,
                offset=offset,
            )
        )

    def typed(self, record: DecisionRecord) -> Any:
        """The record in its kind's typed form (``ModelKind.decision_record``), if it has one."""
        kind = self._kinds.kind_of_event(record.kind)
        if kind is None or kind.decision_record is None:
            return record
        return kind.decision_record(record)

    def replay(self, decision_id: str) -> ReplayResult:
        """Recompute one decision with exactly the model version that made it."""
        loaders = {k.name: k.load_replayer for k in self._kinds}
        full_id = self.resolve(decision_id)
        return replay(
            self._ledger,
            self._registry(),
            loaders,
            full_id,
            self._kinds.decision_events(),
        )

    def unknown_model_versions(self) -> list[tuple[str, int, int]]:
        """Decisions naming a model version the registry does not have."""
        registry = self._registry()
        exists = registry.exists if registry.has_local_store() else (lambda _n, _v: False)
        return unknown_model_versions(self._ledger, exists, self._kinds.decision_events())
