"""The fraud actions people take, one method each, shared by every face (CLI, API, web).

Faces parse input, authenticate the user, call one method here and render the result; the
rules live here: who may triage (fraud analysts and admins), that only the approved champion
feeds the live queue, that a disposition becomes a label the live feature store sees, that an
alert may be named by a unique id prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bankml.core.errors import UnavailableError
from bankml.core.identity import Role, User
from bankml.fraud.kind import MODEL_NAME
from bankml.fraud.queue import (
    Alert,
    Disposition,
    Outcome,
    ReviewQueue,
    TriageRun,
    parse_outcome,
)
from bankml.fraud.transaction import Transaction

if TYPE_CHECKING:
    from bankml.core.pii import PIITokenizer
    from bankml.fraud.batch import BatchScores
    from bankml.fraud.service import FraudScorer, ServingModel
    from bankml.governance.approvals import ModelGovernance
    from bankml.governance.ledger import DecisionLedger
    from bankml.governance.serving import ChampionServing

__all__ = ["FraudOperations", "TriageResult"]

MSG_NO_CHAMPION = (
    "no fraud model is champion yet; pass --version N, or approve and promote one "
    "(`bankml model --help`)"
)


@dataclass(frozen=True)
class TriageResult:
    """One day triaged: how many transactions were scored, the new alerts, the day's queue."""

    day: date
    scored: int
    added: list[Alert]
    queue: list[Alert]
    version: int
    threshold: float
    run: TriageRun | None = None
    repeated: bool = False  # the day was already triaged by this version: nothing written

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "day": self.day.isoformat(),
            "scored": self.scored,
            "added": len(self.added),
            "run": self.run.to_dict() if self.run else None,
            "repeated": self.repeated,
            "version": self.version,
            "threshold": self.threshold,
            "alerts": [a.to_dict() for a in self.queue],
        }


class FraudOperations:
    """Score, batch-score, triage, list the queue, record dispositions, read a version's
    capacity plan."""

    def __init__(
        self,
        queue: ReviewQueue,
        serving: ChampionServing,
        governance: Callable[[], ModelGovernance],
        tokenizer: PIITokenizer,
        ledger: DecisionLedger | None = None,
    ) -> None:
        self.queue_store = queue
        self._serving = serving
        self._governance = governance
        self._tokenizer = tokenizer
        self._ledger = ledger

    # --- models -------------------------------------------------------------------------

    def scorer(self) -> FraudScorer:
        """The live scorer of the champion (loaded on first use)."""
        server: FraudScorer = self._serving.server(MODEL_NAME)  # type: ignore[assignment]
        return server

    def serving_model(self, version: int | None = None) -> ServingModel:
        """A version (default: the champion), loaded only if its files hash as registered."""
        from bankml.fraud.service import load_serving

        v = version or self._governance().champion(MODEL_NAME)
        if v is None:
            raise UnavailableError(MSG_NO_CHAMPION)
        model_dir = self._serving.verified_model_dir(MODEL_NAME, v)
        return load_serving(model_dir, MODEL_NAME, v)

    def plan(self, version: int | None = None) -> dict[str, Any]:
        """The capacity plan of a version (default: the champion)."""
        plan: dict[str, Any] = self.serving_model(version).meta["capacity_plan"]
        return plan

    # --- actions ------------------------------------------------------------------------

    def score(self, txn: Transaction, user: User) -> dict[str, Any]:
        """Score one transaction with the champion; the decision is ledgered."""
        user.require(Role.SERVICE, Role.FRAUD_ANALYST, Role.ADMIN)
        return self.scorer().score(txn, actor=user.name)

    def triage(
        self,
        user: User,
        day: date,
        *,
        transactions: Path | None = None,
        capacity: int | None = None,
    ) -> TriageResult:
        """Score a day with the champion and queue the best-ranked alerts, up to capacity.

        Only fraud analysts and admins triage, and only the approved champion feeds the live
        queue (a version that was never approved must not put alerts in front of analysts).
        """
        from bankml.fraud.service import triage_day

        user.require(Role.FRAUD_ANALYST, Role.ADMIN)
        serving = self.serving_model(None)
        source = transactions or Path(serving.meta["data_path"])
        scored, added, run, repeated = triage_day(
            source,
            day,
            serving,
            self.queue_store,
            self._tokenizer,
            actor=user.name,
            capacity=capacity,
        )
        return TriageResult(
            day=day,
            scored=scored,
            added=added,
            queue=self.queue_store.alerts(day),
            version=serving.version,
            threshold=serving.threshold,
            run=run,
            repeated=repeated,
        )

    def score_batch(
        self,
        user: User,
        transactions: Path,
        out: Path,
        *,
        engine: str = "duckdb",
        version: int | None = None,
        spark_session: Any = None,
    ) -> BatchScores:
        """Score a whole table with a version (default: the champion) and write the scores
        to Parquet, on DuckDB or Spark (:mod:`bankml.fraud.batch`). Analysts, model
        developers and admins; the run (not each row: scores are not decisions) is ledgered.
        """
        from bankml.fraud.batch import check_engine, score_batch

        user.require(Role.FRAUD_ANALYST, Role.MODEL_DEVELOPER, Role.ADMIN)
        check_engine(engine)  # before the model is fetched: a typo costs no download
        serving = self.serving_model(version)
        result = score_batch(transactions, serving, out, engine=engine, spark_session=spark_session)
        if self._ledger is not None:
            self._ledger.append(
                "fraud.batch_scored",
                user.name,
                f"model:{MODEL_NAME}/{serving.version}",
                {
                    "engine": engine,
                    "rows": result.rows,
                    "transactions": transactions.name,
                    "out": out.name,
                },
            )
        return result

    def queue(self, day: date | None = None, status: str | None = None) -> list[Alert]:
        """Alerts in the review queue (of one day, or all), best-ranked first."""
        return self.queue_store.alerts(day, status=status)

    def resolve_alert(self, ref: str) -> str:
        """The full id of the one alert whose id starts with ``ref``."""
        return self.queue_store.resolve(ref)

    def disposition(
        self, user: User, alert_ref: str, outcome: Outcome | str, note: str = ""
    ) -> Disposition:
        """Record an analyst's outcome; fraud/legitimate become labels the live store sees."""
        outcome = outcome if isinstance(outcome, Outcome) else parse_outcome(outcome)
        alert_id = self.resolve_alert(alert_ref)
        d = self.queue_store.disposition(alert_id, outcome, user, note)
        live = self._serving.loaded(MODEL_NAME)
        if live is not None and d.outcome is not Outcome.NEEDS_INFO:
            alert = self.queue_store.get(alert_id)
            live.add_label(alert.transaction_id, d.outcome is Outcome.FRAUD)  # type: ignore[attr-defined]
        return d
