"""The demo's monitoring act: a few weeks of simulated live traffic for the fraud champion.

Live rows are drawn from the champion's own reference (its out-of-sample test period), scored
by the champion and logged as ``fraud.scored`` decisions, one day at a time on a simulated
clock. Two things go wrong on purpose:

* from ``drift_day`` on, one feature (an amount feature when there is one) is inflated 2.5x:
  a population shift the drift checks must catch;
* from ``broken_day`` on, another feature arrives empty (a broken upstream feed): the live
  data-quality check must catch it.

Chargeback labels arrive ``label_delay_days`` after each day, so the report shows the
estimated performance first and the realised one as labels land. Simulated transactions get
ids far above the bank's (``SIM_ID_BASE``) and their labels the source ``demo-simulation``.
``bankml demo`` calls ``run_monitoring_demo`` after the champion is promoted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import insert

from bankml.core.clock import FixedClock, utc_iso
from bankml.core.errors import UnavailableError

if TYPE_CHECKING:
    from bankml.app import Services
    from bankml.monitoring.service import DayResult

__all__ = ["SIM_ID_BASE", "MonitoringDemo", "run_monitoring_demo"]

SIM_ID_BASE = 9_000_000_000
_KIND = "fraud"


@dataclass
class MonitoringDemo:
    """What the simulation did and what monitoring raised."""

    first_day: date
    days: int
    drift_feature: str
    drift_day: date
    broken_feature: str
    broken_day: date
    report: Path
    results: list[DayResult] = field(default_factory=list)

    def alerts(self) -> list[Any]:
        """Every alert raised, in order."""
        return [a for r in self.results for a in r.alerts]


def _set(clock: FixedClock, when: datetime) -> None:
    clock.advance(when - clock.now())


def _pick(names: list[str], prefer: str, avoid: str | None = None) -> str:
    candidates = [n for n in names if n != avoid]
    return next((n for n in candidates if prefer in n), candidates[0])


def run_monitoring_demo(
    s: Services,
    out: Path,
    *,
    days: int = 21,
    drift_after: int = 8,
    broken_after: int = 15,
    rows_per_day: int | None = None,
    label_delay_days: int = 7,
    seed: int = 0,
    say: Callable[[str], None] | None = None,
) -> MonitoringDemo:
    """Simulate ``days`` of traffic, run monitoring each day, write the report to ``out``."""
    from rich.markup import escape

    from bankml.fraud.service import decision_payload, load_serving
    from bankml.fraud.tables import fraud_labels
    from bankml.governance.kinds import MonitorContext
    from bankml.governance.ledger import DecisionLedger, Event
    from bankml.monitoring.alerts import load_rules
    from bankml.monitoring.report import render_report
    from bankml.monitoring.service import MonitoringService

    def tell(message: str) -> None:  # ``say`` may be rich's console.print: no markup in data
        if say is not None:
            say(escape(message))

    version = s.governance.champion(_KIND)
    if version is None:
        raise UnavailableError("the monitoring demo needs a fraud champion")
    serving = load_serving(s.serving.verified_model_dir(_KIND, version), _KIND, version)
    names = serving.feature_names
    spec = s.kinds.get(_KIND).monitor
    if spec is None:
        raise UnavailableError("the fraud kind has no monitoring spec")
    reference = spec.reference(MonitorContext(s.registry, s.db, _KIND, version)).frame
    ref_days = sorted(reference["day"].unique())
    volume = rows_per_day or round(len(reference) / max(len(ref_days), 1))
    first = date.fromisoformat(str(ref_days[-1])) + timedelta(days=1)
    drift_feature = _pick(names, "amount")
    broken_feature = _pick(names, "terminal", avoid=drift_feature)

    clock = FixedClock(datetime.combine(first, datetime.min.time(), UTC))
    ledger = DecisionLedger(s.db, clock)
    monitoring = MonitoringService(
        s.kinds,
        db=s.db,
        ledger=ledger,
        governance=s.governance,
        registry=s.registry,
        rules=load_rules(s.settings.resolved_monitoring_rules),
        cache_dir=s.settings.home / "monitoring" / "reference",
        clock=clock,
    )
    rng = np.random.default_rng(seed)
    demo = MonitoringDemo(
        first,
        days,
        drift_feature,
        first + timedelta(days=drift_after),
        broken_feature,
        first + timedelta(days=broken_after),
        out,
    )
    tell(
        f"simulating {days} days x {volume:,} transactions for fraud v{version} from {first}: "
        f"{drift_feature} x2.5 from {demo.drift_day}, {broken_feature} empty from "
        f"{demo.broken_day}"
    )
    next_id = SIM_ID_BASE
    pending_labels: list[dict[str, Any]] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        sample = reference.iloc[rng.integers(0, len(reference), volume)].reset_index(drop=True)
        x = sample[names].to_numpy(np.float64, copy=True)
        if day >= demo.drift_day:
            x[:, names.index(drift_feature)] *= 2.5
        if day >= demo.broken_day:
            x[:, names.index(broken_feature)] = np.nan
        scores = serving.model.predict_proba(x)[:, 1]
        contributions = serving.model.contributions(x)
        # Chargebacks: the simulated outcome follows the row's own label, known a week later.
        labels = sample["label"].to_numpy(dtype=bool) if "label" in sample else scores > 0.5
        events = []
        _set(clock, datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12))
        for i in range(volume):
            tid = next_id
            next_id += 1
            out_row = {
                "score": float(scores[i]),
                "decision": serving.decision_for(float(scores[i])),
                "contributions": {
                    n: float(c) for n, c in zip(names, contributions[i], strict=False)
                },
                "bias": float(contributions[i][-1]),
            }
            payload = decision_payload(
                serving,
                x[i],
                out_row,
                [],
                transaction_id=tid,
                customer_token=s.tokenizer.token(f"sim-customer-{i % 997}", "customer"),
                card_token=s.tokenizer.token(f"sim-card-{i % 1499}", "card"),
            )
            events.append(Event("fraud.scored", "demo-simulator", f"decision:sim-{tid}", payload))
            pending_labels.append(
                {
                    "transaction_id": tid,
                    "is_fraud": bool(labels[i]),
                    "known_at": utc_iso(clock.now() + timedelta(days=label_delay_days)),
                    "source": "demo-simulation",
                }
            )
        ledger.append_many(events)
        with s.db.write_lock() as conn:
            conn.execute(insert(fraud_labels), pending_labels)
        pending_labels = []
        _set(clock, datetime.combine(day, datetime.max.time(), UTC))
        demo.results.extend(monitoring.run_day(day))
        for r in demo.results[-1:]:
            for a in r.alerts:
                tell(f"  alert {a.message}")
    render_report(out, monitoring.days(_KIND), monitoring.alerts(_KIND))
    tell(f"monitoring report: {out}")
    return demo
