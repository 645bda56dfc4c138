"""MonitoringService on a fake model kind: ledger decisions in, day rows and alerts out."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bankml.core.clock import FixedClock
from bankml.core.errors import InputError
from bankml.core.storage import Database
from bankml.core.tables import metadata
from bankml.governance.kinds import (
    KindRegistry,
    LiveDecision,
    ModelKind,
    MonitorContext,
    MonitorReference,
    MonitorSpec,
)
from bankml.governance.ledger import DecisionLedger, Event
from bankml.monitoring import tables as monitoring_tables
from bankml.monitoring.alerts import AlertRule, load_rules
from bankml.monitoring.service import MonitoringService

FEATURES = ("amount", "velocity", "country")
START = date(2026, 3, 1)


def _reference(_ctx: MonitorContext) -> MonitorReference:
    rng = np.random.default_rng(1)
    n = 20_000
    frame = pd.DataFrame(
        {
            "amount": rng.gamma(2.0, 40.0, n),
            "velocity": rng.poisson(3, n).astype(float) + rng.random(n),
            "country": rng.choice(["FR", "DE", "ES"], n),
            "score": rng.beta(0.6, 12, n),
            "day": np.repeat([f"2026-02-{d:02d}" for d in range(1, 21)], n // 20),
        }
    )
    return MonitorReference(frame, threshold=0.2, capacity=30)


def _live(payload: Mapping[str, Any]) -> LiveDecision:
    return LiveDecision(
        str(payload["id"]),
        int(payload["version"]),
        float(payload["score"]),
        payload["features"],
        payload.get("card"),
    )


LABELS: dict[str, tuple[bool, datetime]] = {}


def _labels(_db: Any, keys: Sequence[str], as_of: datetime) -> Mapping[str, bool]:
    return {k: LABELS[k][0] for k in keys if k in LABELS and LABELS[k][1] <= as_of}


def _kind() -> ModelKind:
    def unused(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("not used by monitoring")

    spec = MonitorSpec(live=_live, reference=_reference, labels=_labels, categorical=("country",))
    return ModelKind(
        name="toy",
        title="Toy",
        collect_evidence=unused,
        load_replayer=unused,
        doc_sections=unused,
        decision_events=("toy.scored",),
        monitor=spec,
    )


class _Governance:
    def champion(self, name: str) -> int | None:
        return 3 if name == "toy" else None


def _write_day(
    ledger: DecisionLedger,
    clock: FixedClock,
    day: date,
    *,
    shift: float = 0.0,
    null_velocity: bool = False,
    rows: int = 1000,
    seed: int = 0,
) -> list[str]:
    rng = np.random.default_rng(seed)
    clock._at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)
    events, ids = [], []
    for i in range(rows):
        tid = f"{day.isoformat()}-{i}"
        ids.append(tid)
        features = {
            "amount": float(rng.gamma(2.0, 40.0)) * (1 + shift),
            "velocity": None if null_velocity else float(rng.poisson(3) + rng.random()),
            "country": str(rng.choice(["FR", "DE", "ES"])),
        }
        payload = {
            "id": tid,
            "version": 3,
            "score": float(rng.beta(0.6, 12)),
            "features": features,
            "card": f"card-{i % 700}",
        }
        events.append(Event("toy.scored", "api", f"decision:{tid}", payload))
    ledger.append_many(events)
    return ids


@pytest.fixture
def world(
    db: Database, tmp_path: Path
) -> Iterator[tuple[MonitoringService, DecisionLedger, FixedClock]]:
    clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    ledger = DecisionLedger(db, clock)
    kinds = KindRegistry()
    kinds.register(_kind())
    rules = load_rules(Path(__file__).parents[2] / "policies" / "monitoring.toml")
    service = MonitoringService(
        kinds,
        db=db,
        ledger=ledger,
        governance=_Governance(),
        registry=None,
        rules=rules,
        cache_dir=tmp_path / "cache",
        clock=clock,
    )
    LABELS.clear()
    return service, ledger, clock


def test_monitoring_tables_match_their_migration(db: Database) -> None:
    assert monitoring_tables.monitoring_days.metadata is metadata
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_a_quiet_day_raises_no_alert(world: Any) -> None:
    service, ledger, clock = world
    _write_day(ledger, clock, START)
    [result] = service.run_day(START)
    assert (result.kind, result.version, result.rows) == ("toy", 3, 1000)
    assert result.metrics["drift.share_drifted"] == 0.0
    assert result.metrics["quality.max_missing_jump"] == 0.0
    assert result.alerts == []
    assert not any(e.kind == "monitoring.alert" for e in ledger.entries())


def test_injected_drift_raises_a_drift_alert_recorded_in_the_ledger(world: Any) -> None:
    service, ledger, clock = world
    _write_day(ledger, clock, START, shift=1.5)
    [result] = service.run_day(START)
    drift = {c["column"]: c for c in service.days()[0].detail["drift"]["columns"]}
    assert drift["amount"]["drifted"] and drift["amount"]["test"] == "wasserstein"
    assert not drift["country"]["drifted"]
    assert [a.rule for a in result.alerts] == [
        "feature drift",
        "feature population shift (PSI act band)",
    ]
    entries = ledger.entries(kind="monitoring.alert")
    assert [e.payload["rule"] for e in entries] == [a.rule for a in result.alerts]
    assert entries[0].subject == "model:toy/3"
    assert [a["ledger_seq"] for a in service.alerts()] == [e.seq for e in entries]


def test_a_feed_going_null_raises_a_broken_feed_alert(world: Any) -> None:
    service, ledger, clock = world
    _write_day(ledger, clock, START, null_velocity=True)
    [result] = service.run_day(START)
    assert result.metrics["quality.max_missing_jump"] == 1.0
    assert "broken feed (a feature goes missing)" in [a.rule for a in result.alerts]


def test_running_a_day_twice_replaces_its_row_and_raises_no_duplicate_alert(world: Any) -> None:
    service, ledger, clock = world
    _write_day(ledger, clock, START, shift=1.5)
    service.run_day(START)
    again = service.run_day(START)
    assert again[0].alerts  # still breached ...
    assert len(service.days()) == 1
    assert len(ledger.entries(kind="monitoring.alert")) == 2  # ... but recorded once


def test_late_labels_reach_earlier_days_with_the_estimate_error(world: Any) -> None:
    service, ledger, clock = world
    ids = _write_day(ledger, clock, START)
    [first] = service.run_day(START)
    assert first.metrics["realised.completeness"] == 0.0
    # Labels arrive a week later for half the day's decisions.
    known_at = datetime(2026, 3, 8, tzinfo=UTC)
    for i, tid in enumerate(ids[:500]):
        LABELS[tid] = (i % 10 == 0, known_at)
    _write_day(ledger, clock, START + timedelta(days=8), seed=1)
    service.run_day(START + timedelta(days=8))
    day1 = service.days()[0]
    assert day1.metrics["realised.completeness"] == pytest.approx(0.5)
    assert not np.isnan(day1.metrics["error.recall"])
    assert day1.detail["realised"]["labelled"] == 500


def test_future_day_is_refused(world: Any) -> None:
    service, _ledger, _clock = world
    with pytest.raises(InputError, match="future"):
        service.run_day(date(2027, 1, 1))


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []  # noqa: RUF012  (class-level sink for the test)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_alerts_are_posted_to_the_webhook(db: Database, tmp_path: Path, receiver: str) -> None:
    clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    ledger = DecisionLedger(db, clock)
    kinds = KindRegistry()
    kinds.register(_kind())
    rule = AlertRule("broken feed", "quality.max_missing_jump", 0.2, "above", 1, "critical")
    service = MonitoringService(
        kinds,
        db=db,
        ledger=ledger,
        governance=_Governance(),
        registry=None,
        rules=[rule],
        webhook_url=receiver,
        cache_dir=tmp_path,
        clock=clock,
    )
    _write_day(ledger, clock, START, null_velocity=True)
    [result] = service.run_day(START)
    assert result.deliveries == ["delivered (HTTP 204)"]
    [posted] = _Receiver.received
    assert posted["event"] == "monitoring.alert"
    assert posted["alert"]["metric"] == "quality.max_missing_jump"
    assert posted["alert"]["value"] == 1.0
    assert service.alerts()[0]["delivery"] == "delivered (HTTP 204)"


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_an_unreachable_webhook_keeps_the_alert(db: Database, tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    ledger = DecisionLedger(db, clock)
    kinds = KindRegistry()
    kinds.register(_kind())
    rule = AlertRule("broken feed", "quality.max_missing_jump", 0.2, "above", 1, "critical")
    service = MonitoringService(
        kinds,
        db=db,
        ledger=ledger,
        governance=_Governance(),
        registry=None,
        rules=[rule],
        webhook_url="http://127.0.0.1:9/nothing-listens-here",
        cache_dir=tmp_path,
        clock=clock,
        webhook_timeout=0.5,
    )
    _write_day(ledger, clock, START, null_velocity=True)
    [result] = service.run_day(START)
    assert result.deliveries[0].startswith("failed")
    assert len(ledger.entries(kind="monitoring.alert")) == 1


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_report_shows_days_alerts_and_plots_offline(world: Any, tmp_path: Path) -> None:
    from bankml.monitoring.report import render_report

    service, ledger, clock = world
    for i in range(3):
        _write_day(ledger, clock, START + timedelta(days=i), null_velocity=i == 2, seed=i)
        service.run_day(START + timedelta(days=i))
    page = render_report(tmp_path / "r.html", service.days(), service.alerts()).read_text()
    assert "toy v3" in page and "3 day(s) monitored" in page
    assert "broken feed (a feature goes missing)" in page and "2026-03-03" in page
    for title in ("Drift over time", "Score distribution", "Estimated (from calibrated scores)"):
        assert title in page
    assert '<script src="http' not in page  # Plotly inlined: the report opens offline
    assert page.count("Plotly.newPlot") == 7
