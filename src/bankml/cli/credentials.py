"""The CLI's credential: an API key kept in a file only its owner can read.

``bankml login`` verifies a key and stores it here, keyed by the app database it belongs to
(one OS user may work against several homes); ``BANKML_API_KEY`` overrides the file. Every
acting command resolves its user from this key: a name typed on the command line is never an
identity, only an assertion checked against it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from bankml.core.errors import ConfigError, PermissionDeniedError

__all__ = ["NOT_LOGGED_IN", "forget_key", "read_key", "store_key"]

NOT_LOGGED_IN = (
    "not logged in: run `bankml login` with your API key, or set BANKML_API_KEY "
    "(a first admin is created by `bankml init`)"
)


def _load(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        # A key others can read is a key others hold: refuse rather than act on it.
        raise ConfigError(
            f"{path} is readable by other users; run `chmod 600 {path}` or `bankml login` again"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the credentials file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"the credentials file {path} is not a JSON object")
    return {str(k): str(v) for k, v in data.items()}


def _save(path: Path, data: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_key(path: Path, database: str, override: str | None) -> str:
    """The key to act with: ``override`` (BANKML_API_KEY) first, then the stored one."""
    if override:
        return override
    key = _load(path).get(database)
    if not key:
        raise PermissionDeniedError(NOT_LOGGED_IN)
    return key


def store_key(path: Path, database: str, key: str) -> None:
    """Remember ``key`` for ``database`` (the file is created 0600, replaced atomically)."""
    data = _load(path)
    data[database] = key
    _save(path, data)


def forget_key(path: Path, database: str) -> bool:
    """Drop the stored key for ``database``; whether there was one."""
    data = _load(path)
    if data.pop(database, None) is None:
        return False
    _save(path, data)
    return True
