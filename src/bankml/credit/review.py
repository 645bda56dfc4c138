"""The credit officers' referral queue: referred decisions wait here for a person.

    open ──(officer decides approve | decline, with a note)──► decided

Rules it enforces:
* a referral enters the queue in the same transaction as its ``credit.decided`` ledger entry
  (both or neither);
* only credit officers (and admins) decide; a referral is decided once;
* every outcome is a ``credit.referral_decided`` ledger entry naming the officer, the outcome
  and the decision it settles; a decline's adverse-action notice then carries the model's
  principal reasons.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import insert, select, update

from bankml.core.clock import Clock, SystemClock, utc_iso
from bankml.core.errors import ConflictError, InputError, NotFoundError
from bankml.core.identity import Role, User
from bankml.core.storage import Database
from bankml.credit.tables import credit_referrals
from bankml.governance.ledger import DecisionLedger, Event, LedgerEntry

__all__ = ["OUTCOMES", "Referral", "ReferralQueue"]

OUTCOMES = ("approve", "decline")
MAX_NOTE = 2000


@dataclass(frozen=True)
class Referral:
    """One referred application as the credit officer sees it (no PII: a customer token)."""

    referral_id: str
    decision_id: str
    application_id: str
    customer_token: str
    model_name: str
    model_version: int
    pd: float
    score: float
    reasons: list[dict[str, Any]]
    status: str
    outcome: str | None
    officer: str | None
    note: str | None
    created_at: str
    decided_at: str | None
    ledger_seq: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return asdict(self)


def _referral(m: Any) -> Referral:
    d = dict(m)
    d["reasons"] = json.loads(d["reasons"])
    return Referral(**d)


class ReferralQueue:
    """Stores referrals and officers' outcomes; writes each to the decision ledger."""

    def __init__(self, db: Database, ledger: DecisionLedger, clock: Clock | None = None) -> None:
        self._db = db
        self._ledger = ledger
        self._clock = clock or SystemClock()

    def record(self, decision: Event, referral: Mapping[str, Any] | None) -> LedgerEntry:
        """Ledger a decision and, when it was referred, queue it: one transaction."""
        with self._db.write_lock() as conn:
            if referral is not None:
                row = {
                    **referral,
                    "referral_id": str(uuid.uuid4()),
                    "reasons": json.dumps(referral["reasons"], sort_keys=True),
                    "status": "open",
                    "created_at": utc_iso(self._clock.now()),
                }
                conn.execute(insert(credit_referrals).values(**row))
            return self._ledger.append_in(conn, [decision])[0]

    def referrals(self, status: str | None = None) -> list[Referral]:
        """Referrals, oldest first (of one status, or all)."""
        if status is not None and status not in ("open", "decided"):
            raise InputError(f"status must be open or decided, not {status!r}")
        q = select(credit_referrals).order_by(credit_referrals.c.created_at)
        if status:
            q = q.where(credit_referrals.c.status == status)
        with self._db.engine.connect() as conn:
            return [_referral(m) for m in conn.execute(q).mappings()]

    def get(self, referral_id: str) -> Referral:
        """One referral by id."""
        q = select(credit_referrals).where(credit_referrals.c.referral_id == referral_id)
        with self._db.engine.connect() as conn:
            m = conn.execute(q).mappings().first()
        if m is None:
            raise NotFoundError(
                f"no referral {referral_id!r}; list them with `bankml credit queue`"
            )
        return _referral(m)

    def for_decision(self, decision_id: str) -> Referral | None:
        """The referral of a decision, if it was referred."""
        q = select(credit_referrals).where(credit_referrals.c.decision_id == decision_id)
        with self._db.engine.connect() as conn:
            m = conn.execute(q).mappings().first()
        return _referral(m) if m is not None else None

    def decide(self, referral_id: str, outcome: str, officer: User, note: str = "") -> Referral:
        """A credit officer's outcome for a referral, ledgered with the row update."""
        officer.require(Role.CREDIT_OFFICER, Role.ADMIN)
        if outcome not in OUTCOMES:
            raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
        if len(note) > MAX_NOTE:
            raise InputError(f"the note is longer than {MAX_NOTE} characters")
        now = utc_iso(self._clock.now())
        with self._db.write_lock() as conn:
            m = (
                conn.execute(
                    select(credit_referrals).where(credit_referrals.c.referral_id == referral_id)
                )
                .mappings()
                .first()
            )
            if m is None:
                raise NotFoundError(f"no referral {referral_id!r}")
            if m["status"] != "open":
                raise ConflictError(
                    f"referral {referral_id} was already decided ({m['outcome']} by {m['officer']})"
                )
            entry = self._ledger.append_in(
                conn,
                [
                    Event(
                        "credit.referral_decided",
                        officer.name,
                        f"referral:{referral_id}",
                        {
                            "decision_id": m["decision_id"],
                            "outcome": outcome,
                            "note_chars": len(note),
                            "model": {"name": m["model_name"], "version": m["model_version"]},
                        },
                    )
                ],
            )[0]
            conn.execute(
                update(credit_referrals)
                .where(credit_referrals.c.referral_id == referral_id)
                .values(
                    status="decided",
                    outcome=outcome,
                    officer=officer.name,
                    note=note,
                    decided_at=now,
                    ledger_seq=entry.seq,
                )
            )
        return self.get(referral_id)

    def open_count(self) -> int:
        """How many referrals wait."""
        return len(self.referrals("open"))


def referral_row(
    decision_id: str,
    application_id: str,
    customer_token: str,
    model: Mapping[str, Any],
    out: Mapping[str, Any],
    reasons: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The queue row of a referred decision."""
    return {
        "decision_id": decision_id,
        "application_id": application_id,
        "customer_token": customer_token,
        "model_name": model["name"],
        "model_version": model["version"],
        "pd": out["pd"],
        "score": out["score"],
        "reasons": list(reasons),
    }
