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
