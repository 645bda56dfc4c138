"""The CLI acts as whoever holds the API key, never as a name typed on the command line.

Reproductions from the trust-boundary issue: `--user nobody_here`, approving "as victor",
a validator validating a model they trained; plus `init`, `login`, `whoami`, `logout` as a
person uses them.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bankml.app import Services
from bankml.core.identity import Role
from bankml.core.settings import load_settings
from tests.conftest import TEST_SECRET
from tests.e2e.test_cli import BANKML, assert_one_line_error, run

NAME = "toy"


class Home:
    """A home with users in each role, their keys, and versions of a tiny model."""

    def __init__(self, root: Path) -> None:
        self.path = root / "home"
        self.svc = Services(load_settings(home=self.path, env="test", secret_key=TEST_SECRET))
        people = {
            "maria": Role.MODEL_DEVELOPER,
            "victor": Role.VALIDATOR,
            "vera": Role.VALIDATOR,
            "olga": Role.ADMIN,
        }
        for name, role in people.items():
            self.svc.users.add(name, role)
        self.keys = {n: self.svc.users.issue_key(n) for n in people}
        for n, trainer in ((1, "maria"), (2, "vera")):
            model_dir = root / f"model{n}"
            model_dir.mkdir()
            (model_dir / "model.txt").write_text(f"tiny model {n}\n")
            self.svc.registry.register(
                NAME, model_dir, params={}, metrics={}, tags={"trained_by": trainer}
            )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        h = Home(tmp_path_factory.mktemp("identity"))
        yield h
        h.svc.close()


def test_without_a_credential_nothing_is_acted_on(home: Home) -> None:
    proc = run(home.path, "model", "submit", NAME, "1", check=2)
    assert_one_line_error(proc)
    assert "not logged in: run `bankml login`" in proc.stderr
    assert home.svc.governance.state(NAME, 1).value == "registered"


def test_a_typed_name_cannot_borrow_another_users_role(home: Home) -> None:
    proc = run(
        home.path, "model", "submit", NAME, "1", "--user", "victor", check=2, key=home.keys["maria"]
    )
    assert_one_line_error(proc)
    assert "authenticated as maria; --user victor names someone else" in proc.stderr
    proc = run(
        home.path,
        "model",
        "submit",
        NAME,
        "1",
        "--user",
        "nobody_here",
        check=2,
        key=home.keys["maria"],
    )
    assert "authenticated as maria" in proc.stderr


def test_a_made_up_key_is_refused(home: Home) -> None:
    proc = run(home.path, "model", "submit", NAME, "1", check=2, key="bkml_" + "x" * 43)
    assert_one_line_error(proc)
    assert "unknown or revoked API key" in proc.stderr


def test_the_trainer_is_whoever_holds_the_key_and_a_validator_cannot_train(
    home: Home, tmp_path: Path
) -> None:
    proc = run(
        home.path,
        "fraud",
        "train",
        "-t",
        str(tmp_path / "whatever.parquet"),
        "--train-start",
        "2026-01-01",
        "--train-days",
        "5",
        "--delay-days",
        "1",
        "--test-days",
        "2",
        "--capacity",
        "5",
        check=2,
        key=home.keys["victor"],
    )
    assert_one_line_error(proc)
    assert "user victor is validator; needs model_developer or admin" in proc.stderr


def test_a_validator_cannot_validate_a_version_they_trained(home: Home) -> None:
    home.svc.governance.submit(NAME, 2, home.svc.users.get("maria"))
    proc = run(home.path, "model", "validate", NAME, "2", check=2, key=home.keys["vera"])
    assert_one_line_error(proc)
    assert "vera trained toy v2" in proc.stderr
    assert home.svc.governance.state(NAME, 2).value == "submitted"


def test_users_are_added_only_by_an_admin(home: Home) -> None:
    proc = run(home.path, "users", "add", "eve", "--role", "admin", check=2, key=home.keys["maria"])
    assert_one_line_error(proc)
    assert "needs admin" in proc.stderr
    run(home.path, "users", "add", "ben", "--role", "auditor", key=home.keys["olga"])
    added = [e for e in home.svc.ledger.entries(kind="user.added") if e.subject == "user:ben"]
    assert [e.actor for e in added] == ["olga"]


def test_init_creates_the_first_admin_once(tmp_path: Path) -> None:
    first = run(tmp_path, "init", "--no-login", "--json")
    assert '"role": "admin"' in first.stdout
    again = run(tmp_path, "init", check=2)
    assert_one_line_error(again)
    assert "already has users" in again.stderr


def _cli(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BANKML_HOME": str(home),
        "BANKML_ENV": "test",
        "BANKML_SECRET_KEY": TEST_SECRET,
        "BANKML_CREDENTIALS_FILE": str(home / "creds" / "credentials.json"),
    }
    env.pop("BANKML_API_KEY", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [*BANKML, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


def test_login_keeps_the_key_in_a_file_only_its_owner_reads(home: Home) -> None:
    creds = home.path / "creds" / "credentials.json"
    assert _cli(home.path, "whoami").returncode == 2
    bad = _cli(home.path, "login", "--key-stdin", stdin="bkml_not-a-key\n")
    assert bad.returncode == 2 and not creds.exists()

    proc = _cli(home.path, "login", "--key-stdin", stdin=home.keys["victor"] + "\n")
    assert proc.returncode == 0, proc.stderr
    assert "logged in as victor (validator)" in proc.stdout
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert home.keys["victor"] not in proc.stdout + proc.stderr
    assert _cli(home.path, "whoami").stdout.startswith("victor (validator")

    creds.chmod(0o644)  # readable by others: a key others can read is not trusted
    exposed = _cli(home.path, "whoami")
    assert exposed.returncode == 2 and "chmod 600" in exposed.stderr
    creds.chmod(0o600)

    assert "logged out" in _cli(home.path, "logout").stdout
    assert "not logged in" in _cli(home.path, "whoami").stderr
