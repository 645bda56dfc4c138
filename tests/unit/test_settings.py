"""Settings: one typed object that refuses unsafe values outside development."""

from __future__ import annotations

from pathlib import Path

import pytest

from bankml.core.errors import ConfigError
from bankml.core.settings import PLACEHOLDER_SECRET, load_settings


def test_dev_defaults_use_sqlite_in_home(tmp_path: Path) -> None:
    s = load_settings(home=tmp_path)
    assert s.env == "dev"
    assert s.resolved_database_url == f"sqlite:///{(tmp_path / 'bankml.db').resolve()}"


@pytest.mark.parametrize("env", ["test", "prod"])
def test_placeholder_secret_is_refused_outside_dev(env: str) -> None:
    with pytest.raises(ConfigError, match="placeholder"):
        load_settings(env=env, secret_key=PLACEHOLDER_SECRET)


def test_short_secret_is_refused_in_prod() -> None:
    with pytest.raises(ConfigError, match="32 characters"):
        load_settings(env="prod", secret_key="short")


def test_environment_variables_override_the_toml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "bankml.toml"
    config.write_text('home = "from-toml"\nlog_level = "DEBUG"\n')
    monkeypatch.setenv("BANKML_CONFIG", str(config))
    monkeypatch.setenv("BANKML_HOME", str(tmp_path / "from-env"))
    s = load_settings()
    assert s.home == tmp_path / "from-env"
    assert s.log_level == "DEBUG"


def test_unknown_setting_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="invalid setting env"):
        load_settings(env="staging")


def test_a_named_config_file_that_is_missing_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 9 reproduction 8: this used to start in dev mode with the public placeholder secret.
    monkeypatch.setenv("BANKML_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"BANKML_CONFIG names .*missing\.toml, which does not"):
        load_settings()


def test_an_absent_default_config_file_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BANKML_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no bankml.toml here
    assert load_settings(home=tmp_path).env == "dev"


@pytest.mark.parametrize(
    "secret",
    [
        " " * 32,
        "a" * 32,
        "ab" * 20,
        "password" * 4,
        "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbcccccccc",  # 3 distinct characters
        "0101010101010101010101010101010101010101",
    ],
)
@pytest.mark.parametrize("env", ["test", "prod"])
def test_low_entropy_secrets_are_refused_outside_dev(env: str, secret: str) -> None:
    with pytest.raises(ConfigError, match="too little entropy"):
        load_settings(env=env, secret_key=secret)


@pytest.mark.parametrize(
    "secret",
    [
        "test-secret-key-that-is-long-enough-0123456789",
        "9f86d081884c7d659a2feaa0c55ad015",  # 32 hex characters, as secrets.token_hex(16)
        "Xq3v_J8LrT0k-wPz5mN1yB7cHd2sE9uA4fG6hK0jQ",
    ],
)
def test_random_looking_secrets_are_accepted(secret: str) -> None:
    assert load_settings(env="prod", secret_key=secret).env == "prod"


def test_entropy_estimate_matches_hand_computed_values() -> None:
    from bankml.core.settings import estimate_entropy_bits

    assert estimate_entropy_bits("a" * 32) == 0.0
    assert estimate_entropy_bits("abab") == 0.0  # a repeated pattern
    assert estimate_entropy_bits("abcd") == pytest.approx(8.0)  # 4 chars x 2 bits
    assert estimate_entropy_bits("aabc") == pytest.approx(6.0)  # 4 x 1.5 bits


def test_monitoring_webhook_must_be_http_and_rules_default_to_the_policy_dir(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match="http:// or https://"):
        load_settings(monitoring_webhook_url="file:///etc/passwd")
    s = load_settings(policy_dir=tmp_path, monitoring_webhook_url="http://127.0.0.1:9/hook")
    assert s.resolved_monitoring_rules == tmp_path / "monitoring.toml"
    assert load_settings(monitoring_rules=tmp_path / "x.toml").resolved_monitoring_rules == (
        tmp_path / "x.toml"
    )


def test_verify_workers_come_from_the_environment_and_zero_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().verify_workers is None  # the ledger picks one per CPU, at most 4
    monkeypatch.setenv("BANKML_VERIFY_WORKERS", "3")
    assert load_settings().verify_workers == 3
    monkeypatch.setenv("BANKML_VERIFY_WORKERS", "0")
    with pytest.raises(ConfigError, match="verify_workers"):
        load_settings()
