"""`bankml users set-password`: the password comes from a prompt or stdin, never from argv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bankml.app import Services
from bankml.core.settings import load_settings
from tests.conftest import TEST_SECRET

BANKML = [sys.executable, "-m", "bankml.cli"]
PASSWORD = "a long enough pass phrase"


def run(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BANKML_HOME": str(home),
        "BANKML_ENV": "test",
        "BANKML_SECRET_KEY": TEST_SECRET,
        "COLUMNS": "200",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [*BANKML, *args], input=stdin, capture_output=True, text=True, env=env, timeout=300
    )


def test_set_password_reads_stdin_and_the_user_can_then_sign_in(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "users", "add", "fiona", "--role", "fraud_analyst").returncode == 0
    done = run(home, "users", "set-password", "fiona", "--stdin", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    svc = Services(load_settings(home=home, env="test", secret_key=TEST_SECRET))
    try:
        assert svc.sessions.sign_in_password("fiona", PASSWORD).user.name == "fiona"
        assert [e.kind for e in svc.ledger.entries(subject="user:fiona")][-2:] == [
            "user.password_set",
            "web.signed_in",
        ]
    finally:
        svc.close()


def test_a_short_password_is_one_error_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run(home, "users", "add", "fiona", "--role", "fraud_analyst")
    proc = run(home, "users", "set-password", "fiona", "--stdin", stdin="short\n")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: a password needs at least 12 characters"


def test_there_is_no_password_argument(tmp_path: Path) -> None:
    proc = run(tmp_path / "home", "users", "set-password", "fiona", PASSWORD)
    assert proc.returncode != 0 and "unexpected extra argument" in proc.stderr.lower()
