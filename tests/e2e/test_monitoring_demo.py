"""The demo's monitoring act on a real fraud champion: injected drift and a broken feed each
raise an alert, recorded in the ledger, and the report shows them."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bankml.app import Services
from bankml.cli.demo_monitoring import MonitoringDemo, run_monitoring_demo
from bankml.core.settings import load_settings
from bankml.data.generator import generate_bank
from bankml.fraud.training import TrainConfig
from tests.conftest import TEST_SECRET
from tests.support import add_people, promote_through_gates, train_fraud

pytestmark = pytest.mark.slow

# As the governed-path test: on this small bank the floors are judged on every test row and
# the model keeps every training row ("refit" calibration) to clear them.
CONFIG = TrainConfig(
    train_start=date(2026, 1, 31),
    train_days=21,
    delay_days=4,
    test_days=10,
    capacity=15,
    calibration="refit",
    exclude_known_compromised=False,
)
POLICIES = Path(__file__).parents[2] / "policies"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Services, MonitoringDemo]:
    tmp = tmp_path_factory.mktemp("monitoring-demo")
    generate_bank(tmp / "bank", customers=800, days=66, seed=11)
    s = Services(
        load_settings(home=tmp / "home", env="test", secret_key=TEST_SECRET, policy_dir=POLICIES)
    )
    add_people(s)
    v = train_fraud(s, tmp / "bank" / "transactions.parquet", CONFIG, tmp / "run")
    s.lifecycle.install_policy("fraud", POLICIES / "fraud.toml", s.users.get("ada"))
    promote_through_gates(s, "fraud", v)
    result = run_monitoring_demo(s, tmp / "monitoring.html", days=14, drift_after=5, broken_after=9)
    return s, result


def _alert_days(demo: MonitoringDemo, rule: str) -> list[date]:
    return sorted({date.fromisoformat(a.day) for a in demo.alerts() if a.rule == rule})


def test_no_alert_before_anything_goes_wrong(demo: tuple[Services, MonitoringDemo]) -> None:
    _, d = demo
    before = [a for a in d.alerts() if date.fromisoformat(a.day) < d.drift_day]
    assert [a.rule for a in before if not a.metric.startswith(("realised", "error"))] == []


def test_the_injected_drift_raises_a_drift_alert_from_its_first_day(
    demo: tuple[Services, MonitoringDemo],
) -> None:
    _, d = demo
    days = _alert_days(d, "feature population shift (PSI act band)")
    assert days and days[0] == d.drift_day
    drifted_day = next(r for r in d.results if r.day == d.drift_day.isoformat())
    assert drifted_day.metrics["drift.max_psi"] > 0.25


def test_the_broken_feed_raises_a_broken_feed_alert_from_its_first_day(
    demo: tuple[Services, MonitoringDemo],
) -> None:
    _, d = demo
    days = _alert_days(d, "broken feed (a feature goes missing)")
    assert days[0] == d.broken_day
    assert days == [d.broken_day + timedelta(days=i) for i in range(len(days))]
    broken = next(r for r in d.results if r.day == d.broken_day.isoformat())
    assert broken.metrics["quality.max_missing_jump"] == pytest.approx(1.0, abs=0.01)


def test_alerts_are_ledger_entries_and_the_report_shows_them(
    demo: tuple[Services, MonitoringDemo],
) -> None:
    s, d = demo
    entries = s.ledger.entries(kind="monitoring.alert")
    assert len(entries) == len(d.alerts())
    assert {e.payload["rule"] for e in entries} >= {
        "feature population shift (PSI act band)",
        "broken feed (a feature goes missing)",
    }
    assert s.ledger.verify().ok
    page = d.report.read_text()
    assert "broken feed (a feature goes missing)" in page
    assert d.drift_feature in page and d.broken_feature in page
    assert '<script src="http' not in page and "Plotly" in page  # inlined, offline


def test_labels_arrive_late_and_the_estimate_meets_the_realised_figure(
    demo: tuple[Services, MonitoringDemo],
) -> None:
    s, _ = demo
    days = s.monitoring.days("fraud")
    first = days[0]
    assert first.metrics["realised.completeness"] == 1.0  # its chargebacks came a week later
    assert days[-1].metrics["realised.completeness"] == 0.0  # the last day's are not in yet
    assert abs(first.metrics["error.recall"]) < 0.5
