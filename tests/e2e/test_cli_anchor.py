"""`bankml audit anchor-key / checkpoint / verify / receipt / verify-receipt` as a user runs
them, and configuration that fails closed (issue 9, reproductions 4 and 8)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET

BANKML = [sys.executable, "-m", "bankml.cli"]


def run(
    home: Path, *args: str, check: int | None = 0, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BANKML_HOME": str(home),
        "BANKML_ENV": "test",
        "BANKML_SECRET_KEY": TEST_SECRET,
        "BANKML_ANCHOR_DIR": str(home / "anchor"),
        "BANKML_ANCHOR_KEY_FILE": str(home / "keys" / "anchor.pem"),
        "COLUMNS": "200",
        **extra_env,
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("BANKML_CONFIG", None)
    env.pop("BANKML_API_KEY", None)
    env.update(extra_env)
    proc = subprocess.run([*BANKML, *args], capture_output=True, text=True, env=env, timeout=300)
    if check is not None:
        assert proc.returncode == check, proc.stdout + proc.stderr
    return proc


def _admin(home: Path) -> str:
    """`bankml init`: the first admin's API key, which the acting commands run with."""
    return str(json.loads(run(home, "init", "--no-login", "--json").stdout)["api_key"])


def _append(home: Path, n: int) -> None:
    from bankml.app import SCHEMA
    from bankml.core.storage import Database
    from bankml.governance.ledger import DecisionLedger, Event

    db = Database(f"sqlite:///{home / 'bankml.db'}", SCHEMA)
    db.migrate()
    DecisionLedger(db).append_many(
        [Event("note.added", "svc", f"decision:d{i}", {"score": i / 10}) for i in range(n)]
    )
    db.dispose()


def test_anchor_checkpoint_receipt_round_trip(tmp_path: Path) -> None:
    home = tmp_path
    key = _admin(home)
    refused = run(home, "audit", "anchor-key", check=None)  # no credential: not an admin
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    made = run(home, "audit", "anchor-key", BANKML_API_KEY=key)
    assert "fingerprint sha256:" in made.stdout
    pub = home / "keys" / "anchor.pem.pub"
    assert pub.exists()
    with sqlite3.connect(home / "bankml.db") as conn:  # `init` ledgers the first admin
        base = int(conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0])
    _append(home, 5)
    assert "no signed checkpoint yet" in run(home, "audit", "verify").stdout
    signed = run(home, "audit", "checkpoint", BANKML_API_KEY=key).stdout
    assert f"signed checkpoint #{base + 5}" in signed
    _append(home, 2)
    ok = run(home, "audit", "verify").stdout
    assert f"anchored up to #{base + 5}" in ok and "2 entries not yet anchored" in ok

    receipt = home / "receipt.json"
    run(home, "audit", "receipt", "decision:d3".removeprefix("decision:"), "--out", str(receipt))
    # The auditor needs neither the database nor the home: only the receipt and the public key.
    checked = run(tmp_path / "elsewhere", "audit", "verify-receipt", str(receipt),
                  "--public-key", str(pub))  # fmt: skip
    assert f"receipt OK: entry #{base + 4}" in checked.stdout
    data = json.loads(receipt.read_text())
    data["entry"]["payload_json"] = data["entry"]["payload_json"].replace("0.3", "0.9")
    receipt.write_text(json.dumps(data))
    bad = run(home, "audit", "verify-receipt", str(receipt), "--public-key", str(pub), check=1)
    assert "receipt INVALID: the entry does not match its hash" in bad.stdout

    with sqlite3.connect(home / "bankml.db") as conn:
        conn.execute("DELETE FROM ledger_entries")
        conn.execute("DELETE FROM ledger_head")
    wiped = run(home, "audit", "verify", check=1)
    assert f"the ledger is empty but a signed checkpoint anchored #{base + 5} (wiped)" in (
        wiped.stdout
    )


def test_receipt_for_an_unanchored_entry_is_one_clear_error(tmp_path: Path) -> None:
    run(tmp_path, "audit", "anchor-key", BANKML_API_KEY=_admin(tmp_path))
    _append(tmp_path, 2)
    proc = run(tmp_path, "audit", "receipt", "decision:d1".removeprefix("decision:"), check=None)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "is not anchored yet" in proc.stderr


def test_a_missing_named_config_file_stops_the_cli(tmp_path: Path) -> None:
    proc = run(tmp_path, "audit", "verify", check=None, BANKML_CONFIG=str(tmp_path / "nope.toml"))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr + proc.stdout
    assert "BANKML_CONFIG names" in proc.stderr and "nope.toml" in proc.stderr


@pytest.mark.parametrize("secret", [" " * 32, "a" * 32])
def test_a_low_entropy_secret_stops_the_cli_outside_dev(tmp_path: Path, secret: str) -> None:
    proc = run(tmp_path, "audit", "verify", check=None, BANKML_ENV="prod",
               BANKML_SECRET_KEY=secret)  # fmt: skip
    assert proc.returncode != 0 and "too little entropy" in proc.stderr
