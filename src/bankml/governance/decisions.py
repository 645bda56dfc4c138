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

from bankml.core.errors import InputError, NotFoundError
from bankml.core.pii import PIITokenizer
from bankml.governance.kinds import KindRegistry, Replayable
from bankml.governance.ledger import DecisionLedger, LedgerEntry
from bankml.governance.registry import ModelRegistry, sha256_dir

__all__ = [
    "DecisionAudit",
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
    """Decisions naming a model version the registry does not have: (name, version, seq)."""
    seen: dict[tuple[str, int], bool] = {}
    missing = []
    for entry in ledger.entries():
        if entry.kind not in events:
            continue
        model = entry.payload.get("model", {})
        key = (str(model.get("name", "")), int(model.get("version", 0)))
        if key not in seen:
            seen[key] = exists(*key)
        if not seen[key]:
            missing.append((key[0], key[1], entry.seq))
    return missing


class DecisionAudit:
    """The auditor's actions on decisions, for every registered kind: look up, replay."""

    def __init__(
        self,
        ledger: DecisionLedger,
        kinds: KindRegistry,
        tokenizer: PIITokenizer,
        registry: Callable[[], ModelRegistry],
    ) -> None:
        self._ledger = ledger
        self._kinds = kinds
        self._tokenizer = tokenizer
        self._registry = registry  # built on first use: MLflow is imported lazily

    def find(
        self,
        *,
        at: str | None = None,
        window: str = "5m",
        decision_id: str | None = None,
        customer: str | None = None,
    ) -> list[DecisionRecord]:
        """Decisions around a time, by id, or for a customer (the raw id is tokenized here)."""
        token = self._tokenizer.token(customer, "customer") if customer else None
        return find_decisions(
            self._ledger,
            self._kinds.decision_events(),
            at=parse_at(at) if at else None,
            window=parse_window(window),
            decision_id=decision_id,
            customer_token=token,
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
        return replay(
            self._ledger,
            self._registry(),
            loaders,
            decision_id,
            self._kinds.decision_events(),
        )

    def unknown_model_versions(self) -> list[tuple[str, int, int]]:
        """Decisions naming a model version the registry does not have."""
        registry = self._registry()
        exists = registry.exists if registry.has_local_store() else (lambda _n, _v: False)
        return unknown_model_versions(self._ledger, exists, self._kinds.decision_events())
