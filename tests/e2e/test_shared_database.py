"""Homes on one shared database see one inventory: no model state lives in the local home."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bankml.app import Services
from bankml.core.clock import utc_iso
from bankml.core.identity import Role
from bankml.core.settings import load_settings
from bankml.governance.gates import GateResult, ValidationReport, ValidationStore
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.postgres
NAME = "toy"

# `bankml model list --json`, reporting on stderr whether MLflow got imported.
_LIST = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stderr.write('MLFLOW=%s' % ('mlflow' in sys.modules)))\n"
    "sys.argv = ['bankml', 'model', 'list', '--json']\n"
    "from bankml.cli import main\n"
    "main()\n"
)


def champion_on(url: str, root: Path) -> None:
    """Home A: register toy v1 and take it to champion (in-process, on the shared DB)."""
    policy_dir = root / "policies"
    policy_dir.mkdir()
    policy = policy_dir / f"{NAME}.toml"
    policy.write_text('[model]\nname = "toy"\n[floors]\nroc_auc = 0.8\n')
    svc = Services(
        load_settings(
            home=root / "a",
            env="test",
            secret_key=TEST_SECRET,
            database_url=url,
            policy_dir=policy_dir,
        )
    )
    try:
        model_dir = root / "model1"
        model_dir.mkdir()
        (model_dir / "model.txt").write_text("tiny model\n")
        svc.registry.register(
            NAME,
            model_dir,
            params={},
            metrics={"roc_auc": 0.93, "average_precision": 0.5},
            tags={"trained_by": "maria"},
        )
        for name, role in (("maria", Role.MODEL_DEVELOPER), ("vera", Role.VALIDATOR)):
            svc.users.add(name, role)
        svc.users.add("olga", Role.ADMIN)
        svc.lifecycle.pins.install(NAME, policy, svc.users.get("olga"))
        gov = svc.governance
        gov.register(NAME, 1, "maria")
        gov.submit(NAME, 1, svc.users.get("maria"))
        ValidationStore(svc.db).save(
            ValidationReport(
                model_name=NAME,
                version=1,
                results=(GateResult("floor.roc_auc", True, 0.93, 0.8, "0.93 >= 0.8"),),
                passed=True,
                evidence={"metrics": {"roc_auc": 0.93}},
                ran_at=utc_iso(svc.clock.now()),
                ran_by="vera",
                policy_sha256=hashlib.sha256(policy.read_bytes()).hexdigest(),
            )
        )
        gov.record_validation(NAME, 1, True, "vera")
        gov.approve(NAME, 1, svc.users.get("vera"), "gates pass")
        gov.promote(NAME, 1, svc.users.get("maria"))
    finally:
        svc.close()


def test_a_fresh_home_on_the_shared_database_lists_the_champion_without_mlflow(
    pg_schema_url: str, tmp_path: Path
) -> None:
    champion_on(pg_schema_url, tmp_path)
    env = {
        **os.environ,
        "BANKML_HOME": str(tmp_path / "b"),  # fresh: no MLflow store, no local state
        "BANKML_ENV": "test",
        "BANKML_SECRET_KEY": TEST_SECRET,
        "BANKML_DATABASE_URL": pg_schema_url,
        "BANKML_CREDENTIALS_FILE": str(tmp_path / "b-credentials.json"),
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.run(
        [sys.executable, "-c", _LIST], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = json.loads(proc.stdout)
    assert [(r["name"], r["version"], r["state"], r["champion"]) for r in rows] == [
        (NAME, 1, "champion", True)
    ]
    assert rows[0]["metrics"] == {"roc_auc": 0.93, "average_precision": 0.5}
    assert rows[0]["trained_by"] == "maria"
    assert proc.stderr.endswith("MLFLOW=False")
    assert not (tmp_path / "b" / "mlflow.db").exists()
