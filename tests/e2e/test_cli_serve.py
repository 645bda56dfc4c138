"""`bankml serve --workers N`: several workers only on shared state."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_cli import assert_one_line_error, run


def test_several_workers_without_a_shared_feature_store_are_refused(tmp_path: Path) -> None:
    proc = run(tmp_path / "home", "serve", "--workers", "2", "--port", "1", check=None)
    assert proc.returncode != 0
    assert_one_line_error(proc)
    assert "BANKML_ONLINE_STORE=redis" in proc.stderr


def test_several_workers_without_postgresql_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANKML_ONLINE_STORE", "redis")
    proc = run(tmp_path / "home", "serve", "--workers", "2", "--port", "1", check=None)
    assert proc.returncode != 0
    assert_one_line_error(proc)
    assert "PostgreSQL" in proc.stderr
