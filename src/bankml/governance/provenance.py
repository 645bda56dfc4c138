"""Governed state, proved from the ledger: "is this champion really approved?"

The governance tables (``model_transitions``, ``champion_history``, ``gate_policies``) say
which version is served; the hash-chained ledger says what actually happened. Each row
carries the sequence and hash of its ledger entry, so:

- serving loads a champion only if the ledger holds its whole approved path
  (registered -> submitted -> validated (passed) -> approved -> promoted or rolled back to,
  in that order, and not retired since), and the champion row points at that promotion;
- ``audit verify`` cross-checks every row against its entry and names any row that has no
  matching entry (a row written straight into the database, bypassing governance).

The ledger's own integrity (edits, truncation) is ``DecisionLedger.verify``'s job; this module
assumes the chain and checks that the tables agree with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from bankml.core.errors import IntegrityError, NotFoundError
from bankml.core.storage import Database
from bankml.governance.ledger import DecisionLedger, LedgerEntry
from bankml.governance.tables import champion_history, gate_policies, model_transitions

__all__ = ["GovernanceProof", "Problem"]

log = logging.getLogger(__name__)

REGISTERED_EVENTS = frozenset({"model.inventoried", "model.registered"})
CHAMPION_EVENTS = frozenset({"model.promoted", "model.rolled_back"})
MSG_NOT_PROVABLE = "refusing to serve {name} v{version}: {problem}"


@dataclass(frozen=True)
class Problem:
    """One governance row (or champion) that the ledger does not back."""

    table: str
    row_id: int
    message: str

    def __str__(self) -> str:
        return f"{self.table} row #{self.row_id}: {self.message}"


def _subject(name: str, version: int) -> str:
    return f"model:{name}/{version}"


class GovernanceProof:
    """Checks the governance tables against the ledger."""

    def __init__(self, db: Database, ledger: DecisionLedger) -> None:
        self._db = db
        self._ledger = ledger

    def _entry(self, seq: int | None) -> LedgerEntry | None:
        if seq is None:
            return None
        try:
            return self._ledger.get(int(seq))
        except NotFoundError:
            return None

    def _entry_problem(
        self,
        seq: int | None,
        digest: str | None,
        kinds: frozenset[str] | None,
        subject: str,
    ) -> str | None:
        """Why the entry at ``seq`` does not back a row (None when it does)."""
        if seq is None or digest is None:
            return "it records no ledger entry"
        entry = self._entry(seq)
        if entry is None:
            return f"its ledger entry #{seq} does not exist"
        if entry.hash != digest:
            return f"ledger entry #{seq} has a different hash than the row records"
        if entry.subject != subject:
            return f"ledger entry #{seq} is about {entry.subject}, not {subject}"
        if kinds is not None and entry.kind not in kinds:
            return f"ledger entry #{seq} is a {entry.kind}, not {'/'.join(sorted(kinds))}"
        return None

    # --- serving ------------------------------------------------------------------------

    def champion_problem(self, name: str, version: int) -> str | None:
        """Why ``version`` may not be served as ``name``'s champion (None when it may)."""
        with self._db.engine.connect() as conn:
            row = conn.execute(
                select(champion_history)
                .where(champion_history.c.model_name == name)
                .order_by(champion_history.c.id.desc())
                .limit(1)
            ).first()
        if row is None or int(row.version) != version:
            return "the champion history does not name it"
        subject = _subject(name, version)
        why = self._entry_problem(row.ledger_seq, row.ledger_hash, CHAMPION_EVENTS, subject)
        if why is not None:
            return f"its champion record (row #{row.id}) is not backed by the ledger: {why}"
        return self.approved_path_problem(name, version, until_seq=int(row.ledger_seq))

    def approved_path_problem(self, name: str, version: int, until_seq: int) -> str | None:
        """Whether the ledger holds register -> submit -> validate(pass) -> approve ->
        promote for the version, in order, with no retirement after the champion entry."""
        entries = self._ledger.entries(subject=_subject(name, version))
        step = 0
        wanted = ("registered", "submitted", "validated", "approved")
        champion_at: int | None = None
        for e in entries:
            if step == 0 and e.kind in REGISTERED_EVENTS:
                step = 1
            elif step == 1 and e.kind == "model.submitted":
                step = 2
            elif step == 2 and e.kind == "model.validated" and e.payload.get("passed") is True:
                step = 3
            elif step == 3 and e.kind == "model.approved":
                step = 4
            elif step == 4 and e.kind in CHAMPION_EVENTS:
                champion_at = e.seq
            elif step == 4 and e.kind == "model.retired":
                if e.seq > until_seq:
                    return f"the ledger shows it retired at entry #{e.seq}"
                champion_at = None  # replaced, until a rollback makes it champion again
        if step < 4:
            return f"the ledger holds no '{wanted[step]}' step for it on its approved path"
        if champion_at is None or champion_at != until_seq:
            return "the ledger holds no promotion of it after its approval"
        return None

    def require_champion(self, name: str, version: int) -> None:
        """Raise IntegrityError unless the ledger proves ``version`` is the approved champion."""
        problem = self.champion_problem(name, version)
        if problem is not None:
            log.error("champion %s v%s is not provable from the ledger: %s", name, version, problem)
            raise IntegrityError(
                MSG_NOT_PROVABLE.format(name=name, version=version, problem=problem)
            )

    # --- audit --------------------------------------------------------------------------

    def cross_check(self) -> list[Problem]:
        """Every governance row without a matching ledger entry, oldest first."""
        problems: list[Problem] = []
        with self._db.engine.connect() as conn:
            transitions = conn.execute(select(model_transitions).order_by("id")).all()
            champions = conn.execute(select(champion_history).order_by("id")).all()
            pins = conn.execute(select(gate_policies).order_by("id")).all()
        for t in transitions:
            why = self._entry_problem(
                t.ledger_seq, t.ledger_hash, None, _subject(t.model_name, t.version)
            )
            if why is None:
                payload_to = self._ledger.get(int(t.ledger_seq)).payload.get("to")
                if payload_to is not None and payload_to != t.to_state:
                    why = f"its ledger entry records state {payload_to!r}, not {t.to_state!r}"
            if why is not None:
                label = f"{t.model_name} v{t.version} -> {t.to_state}: {why}"
                problems.append(Problem("model_transitions", int(t.id), label))
        for c in champions:
            why = self._entry_problem(
                c.ledger_seq, c.ledger_hash, CHAMPION_EVENTS, _subject(c.model_name, c.version)
            )
            if why is not None:
                label = f"{c.model_name} v{c.version} ({c.action}): {why}"
                problems.append(Problem("champion_history", int(c.id), label))
        for p in pins:
            why = self._entry_problem(
                p.ledger_seq,
                p.ledger_hash,
                frozenset({"model.policy_pinned"}),
                f"policy:{p.model_name}",
            )
            if (
                why is None
                and self._ledger.get(int(p.ledger_seq)).payload.get("sha256") != p.sha256
            ):
                why = "its ledger entry pins a different policy hash"
            if why is not None:
                label = f"{p.model_name} policy {str(p.sha256)[:12]}: {why}"
                problems.append(Problem("gate_policies", int(p.id), label))
        return problems
