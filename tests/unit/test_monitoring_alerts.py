"""Alert rules: parsing errors name the rule; windows average the last N days."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankml.core.errors import InputError
from bankml.monitoring.alerts import AlertRule, evaluate_rules, load_rules


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    return path


def test_the_shipped_rules_file_loads() -> None:
    rules = load_rules(Path(__file__).parents[2] / "policies" / "monitoring.toml")
    assert {r.metric for r in rules} >= {"drift.share_drifted", "quality.max_missing_jump"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[rule]]\nname = "x"\nmetric = "m"\n', "exactly one of 'above' or 'below'"),
        ('[[rule]]\nname = "x"\nmetric = "m"\nabove = 1\nbelow = 2\n', "exactly one"),
        ('[[rule]]\nname = "x"\nmetric = "m"\nabove = "high"\n', "above must be a number"),
        ('[[rule]]\nname = "x"\nmetric = "m"\nabove = 1\nwindow = 0\n', "window must be"),
        ('[[rule]]\nname = "x"\nmetric = "m"\nabove = 1\nseverity = "loud"\n', "severity"),
        ('[[rule]]\nname = "x"\nmetric = "m"\nabove = 1\nthreshold = 2\n', "unknown key"),
        ('[[rule]]\nmetric = "m"\nabove = 1\n', "needs a name"),
        ("rule = 3\n", "array of tables"),
        ("[[rule]\n", "cannot read"),
    ],
)
def test_malformed_rules_are_one_clear_error(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_rules(_write(tmp_path, body))


def test_missing_rules_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_rules(tmp_path / "nope.toml")


def test_a_windowed_rule_waits_for_its_window_then_reads_the_mean() -> None:
    rule = AlertRule("low precision", "realised.precision", 0.3, "below", 3, "warning")
    days = [{"realised.precision": v} for v in (0.1, 0.2)]
    assert evaluate_rules([rule], days, kind="k", version=1, day="d") == []
    days.append({"realised.precision": 0.5})  # mean 0.2667 < 0.3
    [alert] = evaluate_rules([rule], days, kind="k", version=1, day="d")
    assert alert.value == pytest.approx(0.8 / 3)
    days.append({"realised.precision": 0.6})  # mean of last three 0.4333
    assert evaluate_rules([rule], days, kind="k", version=1, day="d") == []


def test_a_missing_or_nan_metric_never_breaches() -> None:
    rule = AlertRule("drift", "drift.share_drifted", 0.3, "above")
    assert evaluate_rules([rule], [{"rows": 1.0}], kind="k", version=1, day="d") == []
    nan = [{"drift.share_drifted": float("nan")}]
    assert evaluate_rules([rule], nan, kind="k", version=1, day="d") == []
