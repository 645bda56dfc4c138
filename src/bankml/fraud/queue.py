"""The fraud review queue: ranked alerts, analysts' dispositions, and the labels they produce.

A disposition is a decision too, so each one is written to the decision ledger. ``fraud`` and
``legitimate`` close the alert and become a label stamped with the time it became known
(training later uses it only after that time); ``needs_info`` keeps the alert open.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select, update

from bankml.core.clock import Clock, SystemClock, utc_iso
from bankml.core.errors import ConflictError, InputError, NotFoundError
from bankml.core.identity import Role, User
from bankml.core.ids import resolve_prefix, sql_prefix_lookup
from bankml.core.pii import redact_text
from bankml.core.storage import Database
from bankml.fraud.tables import (
    fraud_alerts,
    fraud_dispositions,
    fraud_labels,
    fraud_triage_runs,
)
from bankml.governance.ledger import DecisionLedger, Event

__all__ = ["Alert", "Disposition", "Outcome", "ReviewQueue", "TriageRun", "parse_outcome"]


class Outcome(StrEnum):
    """What an analyst concluded about an alert."""

    FRAUD = "fraud"
    LEGITIMATE = "legitimate"
    NEEDS_INFO = "needs_info"


def parse_outcome(text: str) -> Outcome:
    """Parse an outcome, accepting ``needs-info`` too; lists the choices when unknown."""
    try:
        return Outcome(text.strip().lower().replace("-", "_"))
    except ValueError:
        raise InputError(
            f"unknown outcome {text!r}; choose fraud, legitimate or needs_info"
        ) from None


@dataclass(frozen=True)
class Alert:
    """One transaction in the review queue."""

    alert_id: str
    transaction_id: int
    day: str
    rank: int
    score: float
    threshold: float
    model_name: str
    model_version: int
    card_token: str | None
    amount: float
    reasons: list[str]
    status: str
    created_at: str
    decision_id: str | None = None  # the scoring decision that raised it (None before 0014)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class TriageRun:
    """One triage of a day by one model version; ``supersedes`` the day's previous run."""

    run_id: str
    day: str
    model_name: str
    model_version: int
    actor: str
    scored: int
    alerts: int
    supersedes: str | None
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Disposition:
    """An analyst's recorded outcome for an alert."""

    alert_id: str
    outcome: Outcome
    analyst: str
    note: str
    created_at: str
    ledger_seq: int


def _alert(m: Mapping[str, Any]) -> Alert:
    return Alert(
        alert_id=str(m["alert_id"]),
        transaction_id=int(m["transaction_id"]),
        day=str(m["day"]),
        rank=int(m["rank"]),
        score=float(m["score"]),
        threshold=float(m["threshold"]),
        model_name=str(m["model_name"]),
        model_version=int(m["model_version"]),
        card_token=m["card_token"],
        amount=float(m["amount"]),
        reasons=json.loads(m["reasons"]),
        status=str(m["status"]),
        created_at=str(m["created_at"]),
        decision_id=m.get("decision_id"),
    )


class ReviewQueue:
    """Stores alerts and dispositions; writes each to the decision ledger."""

    def __init__(self, db: Database, ledger: DecisionLedger, clock: Clock | None = None) -> None:
        self._db = db
        self._ledger = ledger
        self._clock = clock or SystemClock()

    def add_alerts(
        self,
        alerts: list[dict[str, Any]],
        *,
        actor: str,
        decisions: Sequence[Event] = (),
        run: TriageRun | None = None,
    ) -> list[Alert]:
        """Queue alerts (dicts with the Alert fields but status/created_at; ``alert_id`` and
        ``decision_id`` optional) and record them, with the scoring ``decisions`` they came
        from and the triage ``run``, in one transaction.

        Alerts already queued for the same day and transaction are skipped. When ``run`` is
        given and the same day was already triaged by the same model version, nothing is
        written (the earlier run stands); when the day's latest run is no longer the one
        ``run`` supersedes, another triage won the race and ``ConflictError`` is raised.
        Rows and ledger entries commit together or not at all.
        """
        now = utc_iso(self._clock.now())
        added: list[Alert] = []
        with self._db.write_lock() as conn:
            if run is not None:
                if self._run_in(conn, run.day, run.model_name, run.model_version) is not None:
                    return []
                latest = self._latest_run_in(conn, run.day)
                if (latest.run_id if latest else None) != run.supersedes:
                    raise ConflictError(f"{run.day} was triaged meanwhile; run triage again")
                conn.execute(insert(fraud_triage_runs).values({**run.to_dict(), "created_at": now}))
            for a in alerts:
                exists = conn.execute(
                    select(fraud_alerts.c.alert_id).where(
                        fraud_alerts.c.day == a["day"],
                        fraud_alerts.c.transaction_id == a["transaction_id"],
                    )
                ).first()
                if exists:
                    continue
                row = {
                    "alert_id": str(uuid.uuid4()),
                    **a,
                    "status": "open",
                    "created_at": now,
                    "reasons": json.dumps(a["reasons"]),
                }
                conn.execute(insert(fraud_alerts).values(**row))
                added.append(_alert(row))
            events = [
                *decisions,
                *(
                    Event(
                        "fraud.alert_raised",
                        actor,
                        f"alert:{a.alert_id}",
                        {
                            "transaction_id": a.transaction_id,
                            "day": a.day,
                            "rank": a.rank,
                            "score": a.score,
                            "threshold": a.threshold,
                            "model": {"name": a.model_name, "version": a.model_version},
                            "card_token": a.card_token,
                            "reasons": a.reasons,
                            "decision_id": a.decision_id,
                        },
                    )
                    for a in added
                ),
            ]
            self._ledger.append_in(conn, events)
        return added

    def triage_run(self, day: str, model_name: str, model_version: int) -> TriageRun | None:
        """The run that triaged ``day`` with this model version, if any."""
        with self._db.engine.connect() as conn:
            return self._run_in(conn, day, model_name, model_version)

    def latest_run(self, day: str) -> TriageRun | None:
        """The day's most recent triage run, if any."""
        with self._db.engine.connect() as conn:
            return self._latest_run_in(conn, day)

    def runs(self, day: str) -> list[TriageRun]:
        """Every triage run of a day, oldest first."""
        t = fraud_triage_runs
        with self._db.engine.connect() as conn:
            rows = conn.execute(
                select(t).where(t.c.day == day).order_by(t.c.created_at, t.c.run_id)
            ).all()
        return [TriageRun(**dict(r._mapping)) for r in rows]

    @staticmethod
    def _run_in(conn: Any, day: str, model_name: str, model_version: int) -> TriageRun | None:
        t = fraud_triage_runs
        row = conn.execute(
            select(t).where(
                t.c.day == day, t.c.model_name == model_name, t.c.model_version == model_version
            )
        ).first()
        return None if row is None else TriageRun(**dict(row._mapping))

    @staticmethod
    def _latest_run_in(conn: Any, day: str) -> TriageRun | None:
        t = fraud_triage_runs
        # Runs of a day form a chain (each supersedes the one before): the latest is the one
        # no other run supersedes.
        rows = [
            TriageRun(**dict(r._mapping)) for r in conn.execute(select(t).where(t.c.day == day))
        ]
        superseded = {r.supersedes for r in rows}
        heads = [r for r in rows if r.run_id not in superseded]
        return max(heads, key=lambda r: r.created_at) if heads else None

    def resolve(self, ref: str) -> str:
        """The full id of the one alert whose id starts with ``ref`` (8+ characters)."""
        return resolve_prefix(
            ref,
            sql_prefix_lookup(self._db.engine.connect, fraud_alerts.c.alert_id),
            what="alert",
            hint="list them with `bankml fraud queue`",
        )

    def alerts(self, day: date | None = None, *, status: str | None = None) -> list[Alert]:
        """Alerts of a day (or all), best-ranked first."""
        q = select(fraud_alerts)
        if day is not None:
            q = q.where(fraud_alerts.c.day == day.isoformat())
        if status is not None:
            q = q.where(fraud_alerts.c.status == status)
        with self._db.engine.connect() as conn:
            rows = conn.execute(q.order_by(fraud_alerts.c.day, fraud_alerts.c.rank)).all()
        return [_alert(dict(r._mapping)) for r in rows]

    def get(self, alert_id: str) -> Alert:
        """One alert by id."""
        with self._db.engine.connect() as conn:
            row = conn.execute(
                select(fraud_alerts).where(fraud_alerts.c.alert_id == alert_id)
            ).first()
        if row is None:
            raise NotFoundError(f"no alert {alert_id!r}; list them with `bankml fraud queue`")
        return _alert(dict(row._mapping))

    def disposition(
        self, alert_id: str, outcome: Outcome | str, analyst: User, note: str = ""
    ) -> Disposition:
        """Record an analyst's outcome; fraud/legitimate close the alert and become labels."""
        analyst.require(Role.FRAUD_ANALYST, Role.ADMIN)
        outcome = outcome if isinstance(outcome, Outcome) else parse_outcome(outcome)
        alert = self.get(alert_id)
        now = utc_iso(self._clock.now())
        clean_note = redact_text(note)[:2000]
        status = "needs_info" if outcome is Outcome.NEEDS_INFO else "closed"
        with self._db.write_lock() as conn:
            # Check and change the state in one statement, inside the ledger's lock: two
            # analysts dispositioning the same alert at once cannot both succeed.
            changed = conn.execute(
                update(fraud_alerts)
                .where(fraud_alerts.c.alert_id == alert_id, fraud_alerts.c.status != "closed")
                .values(status=status)
            ).rowcount
            if changed != 1:
                raise ConflictError(f"alert {alert_id} is already closed")
            conn.execute(
                insert(fraud_dispositions).values(
                    alert_id=alert_id,
                    outcome=outcome.value,
                    analyst=analyst.name,
                    note=clean_note,
                    created_at=now,
                )
            )
            if outcome is not Outcome.NEEDS_INFO:
                label = {
                    "is_fraud": outcome is Outcome.FRAUD,
                    "known_at": now,
                    "source": f"disposition:{alert_id}",
                }
                exists = conn.execute(
                    select(fraud_labels.c.transaction_id).where(
                        fraud_labels.c.transaction_id == alert.transaction_id
                    )
                ).first()
                if exists:
                    conn.execute(
                        update(fraud_labels)
                        .where(fraud_labels.c.transaction_id == alert.transaction_id)
                        .values(**label)
                    )
                else:
                    conn.execute(
                        insert(fraud_labels).values(transaction_id=alert.transaction_id, **label)
                    )
            (entry,) = self._ledger.append_in(
                conn,
                [
                    Event(
                        "fraud.disposition",
                        analyst.name,
                        f"alert:{alert_id}",
                        {
                            "transaction_id": alert.transaction_id,
                            "outcome": outcome.value,
                            "note": clean_note,
                            "model": {"name": alert.model_name, "version": alert.model_version},
                        },
                    )
                ],
            )
        return Disposition(alert_id, outcome, analyst.name, clean_note, now, entry.seq)

    def labels(self) -> list[dict[str, Any]]:
        """Every label dispositions produced, with when it became known."""
        with self._db.engine.connect() as conn:
            rows = conn.execute(select(fraud_labels).order_by(fraud_labels.c.known_at)).all()
        return [dict(r._mapping) for r in rows]
