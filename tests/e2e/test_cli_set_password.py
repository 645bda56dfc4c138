"""`bankml users set-password`: the password comes from a prompt or stdin, never from argv;
an admin sets anyone's, a user only their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bankml.app import Services
from bankml.core.settings import load_settings
from tests.conftest import TEST_SECRET
from tests.e2e.test_cli import admin_key, user_key

BANKML = [sys.executable, "-m", "bankml.cli"]
PASSWORD = "a long enough pass phrase"


def run(home: Path, *args: str, key: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BANKML_HOME": str(home),
        "BANKML_ENV": "test",
        "BANKML_SECRET_KEY": TEST_SECRET,
        "BANKML_CREDENTIALS_FILE": str(home / "credentials.json"),
        "BANKML_API_KEY": key,
        "COLUMNS": "200",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [*BANKML, *args], input=stdin, capture_output=True, text=True, env=env, timeout=300
    )


def test_an_admin_sets_a_password_from_stdin_and_the_user_can_sign_in(tmp_path: Path) -> None:
    home = tmp_path / "home"
    admin = admin_key(home)
    user_key(home, "fiona", "fraud_analyst", admin)
    done = run(home, "users", "set-password", "fiona", "--stdin", key=admin, stdin=PASSWORD)
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    svc = Services(load_settings(home=home, env="test", secret_key=TEST_SECRET))
    try:
        assert svc.sessions.sign_in_password("fiona", PASSWORD).user.name == "fiona"
        (entry,) = svc.ledger.entries(kind="user.password_set")
        assert entry.subject == "user:fiona" and entry.actor != "fiona"  # the admin did it
    finally:
        svc.close()


def test_a_user_sets_only_their_own_password(tmp_path: Path) -> None:
    home = tmp_path / "home"
    admin = admin_key(home)
    fiona = user_key(home, "fiona", "fraud_analyst", admin)
    user_key(home, "fred", "fraud_analyst", admin)
    own = run(home, "users", "set-password", "fiona", "--stdin", key=fiona, stdin=PASSWORD)
    assert own.returncode == 0, own.stderr
    other = run(home, "users", "set-password", "fred", "--stdin", key=fiona, stdin=PASSWORD)
    assert other.returncode == 2
    assert other.stderr.strip() == "error: user fiona is fraud_analyst; needs admin"


def test_a_short_password_is_one_error_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    admin = admin_key(home)
    proc = run(home, "users", "set-password", "admin", "--stdin", key=admin, stdin="short\n")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: a password needs at least 12 characters"


def test_there_is_no_password_argument(tmp_path: Path) -> None:
    home = tmp_path / "home"
    admin = admin_key(home)
    proc = run(home, "users", "set-password", "fiona", PASSWORD, key=admin)
    assert proc.returncode != 0 and "unexpected extra argument" in proc.stderr.lower()
