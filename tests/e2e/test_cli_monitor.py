"""`bankml monitor` as a user runs it: clear errors, an empty report, nothing to monitor yet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import admin_key, assert_one_line_error, run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["monitor", "run", "--date", "2026-13-01"], "--date must be a date"),
        (["monitor", "run", "--date", "2999-01-01"], "in the future"),
        (["monitor", "report", "--metrics", "/nonexistent/metrics.txt"], "cannot read metrics"),
    ],
)
def test_bad_input_is_one_error_line(tmp_path: Path, args: list[str], message: str) -> None:
    home = tmp_path / "home"
    proc = run(home, *args, check=None, key=admin_key(home))
    assert proc.returncode != 0
    assert_one_line_error(proc)
    assert message in proc.stderr


def test_a_malformed_rules_file_is_one_error_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nname = "x"\nmetric = "rows"\n')
    home = tmp_path / "home"
    proc = run(
        home, "monitor", "run", "--date", "2026-03-01", check=None, key=admin_key(home),
        env={"BANKML_MONITORING_RULES": str(rules)},
    )  # fmt: skip
    assert proc.returncode != 0
    assert_one_line_error(proc)
    assert "exactly one of 'above' or 'below'" in proc.stderr


def test_nothing_to_monitor_without_a_champion_and_an_empty_report(tmp_path: Path) -> None:
    home = tmp_path / "home"
    key = admin_key(home)
    out = run(home, "monitor", "run", "--date", "2026-03-01", "--json", key=key)
    assert json.loads(out.stdout) == []
    report = tmp_path / "r.html"
    run(home, "monitor", "report", "--out", str(report), key=key)
    assert "No monitored days yet" in report.read_text()


def test_monitoring_needs_an_authenticated_user(tmp_path: Path) -> None:
    proc = run(tmp_path / "home", "monitor", "run", "--date", "2026-03-01", check=None)
    assert proc.returncode != 0
    assert_one_line_error(proc)
