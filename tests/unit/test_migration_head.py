"""The up-to-date check reads the head from the migration files without Alembic: it must
name exactly the head Alembic itself computes."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from bankml.core.errors import ConfigError
from bankml.core.storage import _head_of
from bankml.migrations import MIGRATIONS_DIR


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert _head_of(MIGRATIONS_DIR) == ScriptDirectory.from_config(cfg).get_current_head()


def _write(folder: Path, rev: str, down: str | None) -> None:
    down_text = "None" if down is None else f'"{down}"'
    (folder / f"{rev}_x.py").write_text(f'revision = "{rev}"\ndown_revision = {down_text}\n')


def test_a_branched_chain_is_refused_with_its_heads_named(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    _write(versions, "0001", None)
    _write(versions, "0002", "0001")
    _write(versions, "0003", "0001")
    with pytest.raises(ConfigError, match="several heads: 0002, 0003"):
        _head_of(tmp_path)
    _write(versions, "0004", "0002")
    (versions / "0003_x.py").write_text('revision: str = "0003"\ndown_revision: str = "0004"\n')
    assert _head_of(tmp_path) == "0003"
