"""`bankml --version` and `bankml doctor` as an operator runs them on a new machine."""

from __future__ import annotations

import importlib.metadata
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PG_URL, TEST_SECRET
from tests.e2e.test_cli import BANKML, run

REPO = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _doctor(home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        "BANKML_HOME": str(home),
        "BANKML_ENV": "test",
        "BANKML_SECRET_KEY": TEST_SECRET,
        "BANKML_POLICY_DIR": str(REPO / "policies"),
        **env,
    }
    full.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [*BANKML, "doctor", "--json"], capture_output=True, text=True, env=full, timeout=120
    )


def test_version_prints_the_installed_version(tmp_path: Path) -> None:
    proc = run(tmp_path, "--version")
    assert proc.stdout.strip() == f"bankml {importlib.metadata.version('bankml')}"


def test_doctor_passes_on_a_fresh_embedded_home(tmp_path: Path) -> None:
    proc = _doctor(tmp_path / "home")
    report = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stdout
    assert report["ok"] is True
    assert {c["check"] for c in report["checks"]} >= {"database", "model registry", "secret key"}


@pytest.mark.postgres
def test_doctor_names_each_broken_dependency_and_exits_1(tmp_path: Path) -> None:
    dead_db = PG_URL.replace(":5432/", f":{_closed_port()}/")
    dead_mlflow = f"http://127.0.0.1:{_closed_port()}"
    proc = _doctor(
        tmp_path / "home",
        BANKML_DATABASE_URL=dead_db,
        BANKML_MLFLOW_TRACKING_URI=dead_mlflow,
        BANKML_POLICY_DIR=str(tmp_path / "no-policies"),
    )
    report = json.loads(proc.stdout)
    failed = {c["check"]: c["detail"] for c in report["checks"] if not c["ok"]}
    assert proc.returncode == 1
    assert set(failed) == {"database", "model registry", "gate policies"}
    assert "cannot connect" in failed["database"]
    assert dead_mlflow in failed["model registry"]
    assert "Traceback" not in proc.stderr


@pytest.mark.postgres
def test_doctor_reports_a_reachable_postgres_schema(tmp_path: Path, pg_schema_url: str) -> None:
    proc = _doctor(tmp_path / "home", BANKML_DATABASE_URL=pg_schema_url)
    db = next(c for c in json.loads(proc.stdout)["checks"] if c["check"] == "database")
    assert db["ok"] is True
    assert "empty" in db["detail"]
